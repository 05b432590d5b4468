import { z } from 'zod';

/** JSON schemas of the HTTP API (validated by Fastify/ajv; the same shapes as openapi.yaml). */

const id = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f]+$' } as const;
const tenant = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$' } as const;
const scalar = { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] } as const;

const metadataCondition = {
  anyOf: [
    scalar,
    { type: 'object', additionalProperties: false, required: ['in'], properties: { in: { type: 'array', minItems: 1, maxItems: 100, items: scalar } } },
    {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: { gt: { type: 'number' }, gte: { type: 'number' }, lt: { type: 'number' }, lte: { type: 'number' } },
    },
  ],
} as const;

export const filterSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    docIds: { type: 'array', minItems: 1, maxItems: 1000, items: id },
    metadata: {
      type: 'object',
      maxProperties: 32,
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' },
      additionalProperties: metadataCondition,
    },
  },
} as const;

export const documentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'text'],
  properties: {
    id,
    tenant,
    text: { type: 'string', minLength: 1 },
    title: { type: 'string', maxLength: 512 },
    format: { type: 'string', enum: ['text', 'markdown'] },
    metadata: { type: 'object', maxProperties: 64, propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' } },
  },
} as const;

export const ingestBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['documents'],
  properties: {
    /** default tenant for documents that do not name one */
    tenant,
    documents: { type: 'array', minItems: 1, maxItems: 10_000, items: documentSchema },
  },
} as const;

export const collectionParams = {
  type: 'object',
  required: ['collection'],
  properties: { collection: { type: 'string', minLength: 1, maxLength: 255 } },
} as const;

export const documentParams = {
  type: 'object',
  required: ['collection', 'docId'],
  properties: { collection: { type: 'string', minLength: 1, maxLength: 255 }, docId: id },
} as const;

export const tenantQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { tenant },
} as const;

const retrievalProps = {
  collection: { type: 'string', minLength: 1, maxLength: 255 },
  tenant,
  topK: { type: 'integer', minimum: 1, maximum: 1000 },
  filter: filterSchema,
  rerank: { type: 'boolean' },
} as const;

export const searchBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['query'],
  properties: {
    ...retrievalProps,
    query: { type: 'string', minLength: 1 },
    mode: { type: 'string', enum: ['hybrid', 'bm25', 'dense'] },
  },
} as const;

export const answerBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['question'],
  properties: {
    ...retrievalProps,
    question: { type: 'string', minLength: 1 },
    stream: { type: 'boolean' },
  },
} as const;

const hitSchema = {
  type: 'object',
  properties: {
    chunkId: { type: 'string' },
    docId: { type: 'string' },
    chunkIndex: { type: 'integer' },
    title: { type: 'string' },
    text: { type: 'string' },
    metadata: { type: 'object', additionalProperties: true },
    score: { type: 'number' },
    rerankScore: { type: 'number' },
  },
} as const;

export const searchResponseSchema = {
  type: 'object',
  properties: {
    collection: { type: 'string' },
    tenant: { type: 'string' },
    mode: { type: 'string' },
    reranked: { type: 'boolean' },
    results: { type: 'array', items: hitSchema },
  },
} as const;

export type SearchBody = {
  collection?: string;
  tenant?: string;
  query: string;
  topK?: number;
  filter?: { docIds?: string[]; metadata?: Record<string, never> };
  rerank?: boolean;
  mode?: 'hybrid' | 'bm25' | 'dense';
};

export type AnswerBody = Omit<SearchBody, 'query' | 'mode'> & { question: string; stream?: boolean };

export type IngestBody = {
  tenant?: string;
  documents: Array<{ id: string; tenant?: string; text: string; title?: string; format?: 'text' | 'markdown'; metadata?: Record<string, unknown> }>;
};

// zod twins of the ingest schemas: ingest bodies are validated in the handler because the same
// route also takes NDJSON streams (validated line by line).
const metadataKey = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const zTenant = z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits and . _ : - only');
export const documentZ = z.strictObject({
  id: z.string().min(1).max(200).regex(/^[^\u0000-\u001f]+$/, 'no control characters'),
  tenant: zTenant.optional(),
  text: z.string().min(1),
  title: z.string().max(512).optional(),
  format: z.enum(['text', 'markdown']).optional(),
  metadata: z
    .record(z.string().regex(metadataKey, 'metadata keys: letters, digits, _; at most 64'), z.unknown())
    .refine((m) => Object.keys(m).length <= 64, 'at most 64 metadata keys')
    .optional(),
});
export const ingestZ = z.strictObject({
  tenant: zTenant.optional(),
  documents: z.array(documentZ).min(1).max(10_000),
});
