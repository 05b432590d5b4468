import type { Config } from '../config.js';
import type { Filter, MetadataCondition, ScalarValue } from './types.js';

/**
 * The collection schema as code: the one definition both the Milvus adapter (create and
 * verify) and the docs use. Field names are the wire names.
 */
export const FIELDS = {
  id: 'id',
  docId: 'doc_id',
  tenant: 'tenant',
  chunkIndex: 'chunk_index',
  title: 'title',
  text: 'text',
  sparse: 'sparse',
  dense: 'dense',
  metadata: 'metadata',
} as const;

export const BM25_FUNCTION_NAME = 'text_bm25';
export const OUTPUT_FIELDS = [FIELDS.id, FIELDS.docId, FIELDS.chunkIndex, FIELDS.title, FIELDS.text, FIELDS.metadata] as const;

export const ID_MAX = 256;
export const DOC_ID_MAX = 200;
export const TENANT_MAX = 128;
export const TITLE_MAX = 512;

export type FieldKind = 'VarChar' | 'Int64' | 'JSON' | 'FloatVector' | 'SparseFloatVector';

export interface FieldSpec {
  readonly name: string;
  readonly kind: FieldKind;
  readonly primary?: boolean;
  readonly maxLength?: number;
  readonly dim?: number;
  readonly partitionKey?: boolean;
  readonly analyzer?: { readonly type: string };
  readonly description: string;
}

export interface IndexSpec {
  readonly field: string;
  readonly indexName: string;
  readonly indexType: 'HNSW' | 'SPARSE_INVERTED_INDEX';
  readonly metric: 'COSINE' | 'BM25';
  readonly params: Readonly<Record<string, number | string>>;
}

export interface CollectionSpec {
  readonly fields: readonly FieldSpec[];
  readonly bm25: { readonly name: string; readonly input: string; readonly output: string };
  readonly indexes: readonly IndexSpec[];
  readonly numPartitions: number;
  readonly description: string;
}

export function collectionSpec(config: Config): CollectionSpec {
  const c = config.collections;
  return {
    description: 'RAG chunks: BM25 (sparse, from text) + dense (TEI) hybrid retrieval; partition key tenant',
    fields: [
      { name: FIELDS.id, kind: 'VarChar', primary: true, maxLength: ID_MAX, description: 'document id + "#" + chunk hash' },
      { name: FIELDS.docId, kind: 'VarChar', maxLength: DOC_ID_MAX, description: 'document id' },
      { name: FIELDS.tenant, kind: 'VarChar', maxLength: TENANT_MAX, partitionKey: true, description: 'tenant (partition key)' },
      { name: FIELDS.chunkIndex, kind: 'Int64', description: 'position of the chunk in its document' },
      { name: FIELDS.title, kind: 'VarChar', maxLength: TITLE_MAX, description: 'document title' },
      { name: FIELDS.text, kind: 'VarChar', maxLength: c.textMaxChars, analyzer: { type: c.analyzer }, description: 'chunk text (analyzed; BM25 input)' },
      { name: FIELDS.sparse, kind: 'SparseFloatVector', description: 'BM25 output (filled by Milvus)' },
      { name: FIELDS.dense, kind: 'FloatVector', dim: c.dim, description: 'TEI embedding of the chunk' },
      { name: FIELDS.metadata, kind: 'JSON', description: 'document metadata (filterable)' },
    ],
    bm25: { name: BM25_FUNCTION_NAME, input: FIELDS.text, output: FIELDS.sparse },
    indexes: [
      {
        field: FIELDS.dense,
        indexName: 'dense_hnsw',
        indexType: 'HNSW',
        metric: 'COSINE',
        params: { M: c.hnsw.M, efConstruction: c.hnsw.efConstruction },
      },
      {
        field: FIELDS.sparse,
        indexName: 'sparse_bm25',
        indexType: 'SPARSE_INVERTED_INDEX',
        metric: 'BM25',
        params: { inverted_index_algo: 'DAAT_MAXSCORE', bm25_k1: c.bm25.k1, bm25_b: c.bm25.b },
      },
    ],
    numPartitions: c.numPartitions,
  };
}

export const METADATA_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function literal(v: ScalarValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('filter numbers must be finite');
    return String(v);
  }
  return v ? 'true' : 'false';
}

function condition(field: string, cond: MetadataCondition): string {
  if (typeof cond !== 'object') return `${field} == ${literal(cond)}`;
  if ('in' in cond) return `${field} in [${cond.in.map(literal).join(', ')}]`;
  const parts: string[] = [];
  if (cond.gt !== undefined) parts.push(`${field} > ${literal(cond.gt)}`);
  if (cond.gte !== undefined) parts.push(`${field} >= ${literal(cond.gte)}`);
  if (cond.lt !== undefined) parts.push(`${field} < ${literal(cond.lt)}`);
  if (cond.lte !== undefined) parts.push(`${field} <= ${literal(cond.lte)}`);
  return parts.join(' and ');
}

/**
 * The Milvus boolean expression of a filter. The tenant clause always comes first (it is the
 * partition key, so Milvus prunes to the tenant's partition). Strings are JSON-quoted, keys are
 * validated, so no input can change the expression's structure.
 */
export function toMilvusExpr(f: Filter): string {
  const parts = [`${FIELDS.tenant} == ${literal(f.tenant)}`];
  if (f.docIds !== undefined && f.docIds.length > 0) parts.push(`${FIELDS.docId} in [${f.docIds.map(literal).join(', ')}]`);
  for (const [k, cond] of Object.entries(f.metadata ?? {})) {
    if (!METADATA_KEY.test(k)) throw new Error(`invalid metadata key ${JSON.stringify(k)}`);
    parts.push(condition(`${FIELDS.metadata}[${JSON.stringify(k)}]`, cond));
  }
  return parts.join(' and ');
}

/** The same filter evaluated in memory (embedded store). */
export function matchesFilter(f: Filter, tenant: string, docId: string, metadata: Readonly<Record<string, unknown>>): boolean {
  if (tenant !== f.tenant) return false;
  if (f.docIds !== undefined && f.docIds.length > 0 && !f.docIds.includes(docId)) return false;
  for (const [k, cond] of Object.entries(f.metadata ?? {})) {
    const v = metadata[k];
    if (typeof cond !== 'object') {
      if (v !== cond) return false;
    } else if ('in' in cond) {
      if (!cond.in.some((x) => x === v)) return false;
    } else {
      if (typeof v !== 'number') return false;
      if (cond.gt !== undefined && !(v > cond.gt)) return false;
      if (cond.gte !== undefined && !(v >= cond.gte)) return false;
      if (cond.lt !== undefined && !(v < cond.lt)) return false;
      if (cond.lte !== undefined && !(v <= cond.lte)) return false;
    }
  }
  return true;
}
