import {
  DataType,
  FunctionType,
  MilvusClient,
  RRFRanker,
  WeightedRanker,
  type ClientConfig,
  type FieldType,
  type HybridSearchSingleReq,
} from '@zilliz/milvus2-sdk-node';
import type { Config } from '../config.js';
import { collectionSpec, FIELDS, OUTPUT_FIELDS, toMilvusExpr, type CollectionSpec, type FieldSpec } from './schema.js';
import { SchemaMismatchError, type ChunkRecord, type Hit, type SearchQuery, type VectorStore } from './types.js';

const KIND_TO_TYPE: Record<FieldSpec['kind'], DataType> = {
  VarChar: DataType.VarChar,
  Int64: DataType.Int64,
  JSON: DataType.JSON,
  FloatVector: DataType.FloatVector,
  SparseFloatVector: DataType.SparseFloatVector,
};

export class MilvusError extends Error {
  override readonly name = 'MilvusError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

interface Status {
  error_code?: string | number;
  code?: number;
  reason?: string;
}

function check(op: string, status: Status | undefined): void {
  if (status === undefined) return;
  const ok = (status.error_code === undefined || status.error_code === 'Success' || status.error_code === 0) && (status.code ?? 0) === 0;
  if (!ok) throw new MilvusError(`Milvus ${op} failed: ${status.reason ?? String(status.error_code)}`, String(status.error_code ?? status.code));
}

/** SDK field definitions from the schema spec. */
export function toSdkFields(spec: CollectionSpec): FieldType[] {
  return spec.fields.map((f) => {
    const out: FieldType = { name: f.name, description: f.description, data_type: KIND_TO_TYPE[f.kind] };
    if (f.primary) {
      out.is_primary_key = true;
      out.autoID = false;
    }
    if (f.partitionKey) out.is_partition_key = true;
    if (f.maxLength !== undefined) out.max_length = f.maxLength;
    if (f.dim !== undefined) out.dim = f.dim;
    if (f.analyzer !== undefined) {
      out.enable_analyzer = true;
      out.analyzer_params = { type: f.analyzer.type };
    }
    if (f.name === spec.bm25.output) out.is_function_output = true;
    return out;
  });
}

interface DescribedField {
  name: string;
  data_type: string | number;
  is_primary_key?: boolean;
  is_partition_key?: boolean;
  type_params?: Array<{ key: string; value: string }>;
  dim?: string | number;
  max_length?: string | number;
  [k: string]: unknown;
}

function typeName(t: string | number): string {
  if (typeof t === 'number') return DataType[t] ?? String(t);
  return t;
}

function param(f: DescribedField, key: string): string | undefined {
  const tp = f.type_params?.find((p) => p.key === key)?.value;
  if (tp !== undefined) return String(tp);
  const direct = f[key];
  return direct === undefined || direct === null ? undefined : String(direct);
}

/**
 * Differences between the wanted schema and a collection's described schema. Anything listed
 * here cannot be changed in place by Milvus (field types, dimension, analyzer, partition key,
 * the BM25 function), so the service refuses to start rather than half-apply it.
 */
export function schemaDiff(spec: CollectionSpec, described: { fields: DescribedField[]; functions?: Array<{ name: string; type?: unknown; input_field_names?: string[]; output_field_names?: string[] }> }): string[] {
  const diffs: string[] = [];
  const byName = new Map(described.fields.map((f) => [f.name, f]));
  for (const f of spec.fields) {
    const d = byName.get(f.name);
    if (d === undefined) {
      diffs.push(`field ${f.name} is missing`);
      continue;
    }
    if (typeName(d.data_type) !== f.kind) diffs.push(`field ${f.name} has type ${typeName(d.data_type)}, wanted ${f.kind}`);
    if (f.dim !== undefined && Number(param(d, 'dim')) !== f.dim) diffs.push(`field ${f.name} has dim ${param(d, 'dim') ?? '?'}, wanted ${f.dim} (the embedding model changed: re-index into a new collection)`);
    if (f.maxLength !== undefined && Number(param(d, 'max_length')) !== f.maxLength) diffs.push(`field ${f.name} has max_length ${param(d, 'max_length') ?? '?'}, wanted ${f.maxLength}`);
    if (Boolean(f.primary) !== Boolean(d.is_primary_key)) diffs.push(`field ${f.name} primary key differs`);
    if (Boolean(f.partitionKey) !== Boolean(d.is_partition_key)) diffs.push(`field ${f.name} partition key differs`);
    if (f.analyzer !== undefined) {
      const enabled = param(d, 'enable_analyzer');
      if (enabled !== 'true') diffs.push(`field ${f.name} has no analyzer enabled`);
      const ap = param(d, 'analyzer_params');
      if (ap !== undefined) {
        try {
          const parsed = JSON.parse(ap) as { type?: string };
          if (parsed.type !== f.analyzer.type) diffs.push(`field ${f.name} has analyzer ${parsed.type ?? ap}, wanted ${f.analyzer.type}`);
        } catch {
          /* unparsable analyzer params: leave it */
        }
      }
    }
  }
  for (const d of described.fields) {
    if (!spec.fields.some((f) => f.name === d.name)) diffs.push(`unexpected field ${d.name}`);
  }
  const fn = (described.functions ?? []).find((f) => f.name === spec.bm25.name);
  if (fn === undefined) diffs.push(`BM25 function ${spec.bm25.name} is missing`);
  else if (fn.input_field_names?.[0] !== spec.bm25.input || fn.output_field_names?.[0] !== spec.bm25.output) {
    diffs.push(`BM25 function ${spec.bm25.name} maps ${String(fn.input_field_names)} -> ${String(fn.output_field_names)}, wanted ${spec.bm25.input} -> ${spec.bm25.output}`);
  }
  return diffs;
}

/** The Milvus adapter: the official Node SDK (gRPC) against Milvus >= 2.5. */
export class MilvusStore implements VectorStore {
  readonly kind = 'milvus' as const;
  readonly client: MilvusClient;
  private readonly spec: CollectionSpec;

  constructor(
    private readonly config: Config,
    clientOverrides: Partial<ClientConfig> = {},
  ) {
    this.spec = collectionSpec(config);
    const s = config.secrets;
    this.client = new MilvusClient({
      address: config.milvus.address,
      ssl: config.milvus.ssl,
      database: config.milvus.database,
      timeout: config.milvus.timeoutMs,
      // W3C traceparent in the gRPC metadata from the active OpenTelemetry context
      trace: true,
      // no client telemetry heartbeats to the server
      telemetry: { enabled: false },
      logLevel: 'error',
      ...(s.milvusToken !== undefined ? { token: s.milvusToken } : {}),
      ...(s.milvusUsername !== undefined ? { username: s.milvusUsername, password: s.milvusPassword as string } : {}),
      ...clientOverrides,
    });
  }

  async ensureCollection(name: string): Promise<'created' | 'exists'> {
    const has = await this.client.hasCollection({ collection_name: name });
    check('HasCollection', has.status);
    let result: 'created' | 'exists';
    if (has.value === true) {
      const d = await this.client.describeCollection({ collection_name: name, cache: false });
      check('DescribeCollection', d.status);
      const diffs = schemaDiff(this.spec, d.schema as never);
      if (diffs.length > 0) {
        throw new SchemaMismatchError(
          `collection ${name} exists with a schema this service cannot use, and Milvus cannot change it in place (nothing was changed):\n  ${diffs.join('\n  ')}\n` +
            'Create a new collection (collections.names) and re-ingest, or drop this one deliberately.',
        );
      }
      result = 'exists';
    } else {
      const created = await this.client.createCollection({
        collection_name: name,
        description: this.spec.description,
        fields: toSdkFields(this.spec),
        functions: [
          {
            name: this.spec.bm25.name,
            description: 'BM25 full-text: text -> sparse',
            type: FunctionType.BM25,
            input_field_names: [this.spec.bm25.input],
            output_field_names: [this.spec.bm25.output],
            params: {},
          },
        ],
        num_partitions: this.spec.numPartitions,
        consistency_level: this.config.milvus.consistency,
        enable_dynamic_field: false,
      });
      check('CreateCollection', created);
      result = 'created';
    }
    // Indexes are idempotent in Milvus for identical parameters; an index with different
    // parameters is an error, surfaced as such.
    for (const ix of this.spec.indexes) {
      const r = await this.client.createIndex({
        collection_name: name,
        field_name: ix.field,
        index_name: ix.indexName,
        index_type: ix.indexType,
        metric_type: ix.metric,
        params: { ...ix.params },
      });
      check(`CreateIndex ${ix.indexName}`, r);
    }
    const state = await this.client.getLoadState({ collection_name: name });
    if (String(state.state) !== 'LoadStateLoaded') {
      // waits until Milvus reports 100% loaded
      const loaded = await this.client.loadCollection({ collection_name: name });
      check('LoadCollection', loaded);
    }
    return result;
  }

  async upsert(collection: string, chunks: readonly ChunkRecord[]): Promise<void> {
    if (chunks.length === 0) return;
    const r = await this.client.upsert({
      collection_name: collection,
      data: chunks.map((c) => ({
        [FIELDS.id]: c.id,
        [FIELDS.docId]: c.docId,
        [FIELDS.tenant]: c.tenant,
        [FIELDS.chunkIndex]: c.chunkIndex,
        [FIELDS.title]: c.title,
        [FIELDS.text]: c.text,
        [FIELDS.dense]: [...c.dense],
        [FIELDS.metadata]: c.metadata,
      })),
    });
    check('Upsert', r.status);
    const n = Number(r.upsert_cnt ?? chunks.length);
    if (n !== chunks.length) throw new MilvusError(`Milvus Upsert wrote ${n} of ${chunks.length} rows`);
  }

  async deleteDocument(collection: string, tenant: string, docId: string, keepIds?: readonly string[]): Promise<number | undefined> {
    let filter = toMilvusExpr({ tenant, docIds: [docId] });
    if (keepIds !== undefined && keepIds.length > 0) filter += ` and not (${FIELDS.id} in [${keepIds.map((i) => JSON.stringify(i)).join(', ')}])`;
    const r = await this.client.delete({ collection_name: collection, filter });
    check('Delete', r.status);
    return r.delete_cnt === undefined ? undefined : Number(r.delete_cnt);
  }

  async documentChunkIds(collection: string, tenant: string, docId: string): Promise<string[]> {
    const r = await this.client.query({
      collection_name: collection,
      filter: toMilvusExpr({ tenant, docIds: [docId] }),
      output_fields: [FIELDS.id],
      limit: 16384,
    });
    check('Query', r.status);
    return r.data.map((row) => String(row[FIELDS.id])).sort();
  }

  async search(q: SearchQuery): Promise<Hit[]> {
    const expr = toMilvusExpr(q.filter);
    const bm25Req: HybridSearchSingleReq = {
      anns_field: FIELDS.sparse,
      data: q.text,
      params: { drop_ratio_search: 0 },
      expr,
    };
    const denseReq = (): HybridSearchSingleReq => ({
      anns_field: FIELDS.dense,
      data: [...(q.vector ?? [])],
      params: { ef: Math.max(this.config.collections.hnsw.ef, q.candidates) },
      expr,
    });
    const common = {
      collection_name: q.collection,
      output_fields: [...OUTPUT_FIELDS],
      consistency_level: this.config.milvus.consistency,
    } as const;
    let res;
    if (q.mode === 'hybrid') {
      res = await this.client.search({
        ...common,
        data: [{ ...bm25Req, limit: q.candidates } as HybridSearchSingleReq, { ...denseReq(), limit: q.candidates } as HybridSearchSingleReq],
        rerank: q.fusion.kind === 'rrf' ? RRFRanker(q.fusion.k) : WeightedRanker([q.fusion.bm25, q.fusion.dense]),
        limit: q.limit,
      } as never);
    } else {
      const single = q.mode === 'bm25' ? bm25Req : denseReq();
      res = await this.client.search({
        ...common,
        anns_field: single.anns_field,
        data: single.data,
        params: single.params,
        filter: expr,
        limit: q.limit,
      } as never);
    }
    check('Search', (res as { status?: Status }).status);
    const rows = (res as { results: Array<Record<string, unknown>> }).results;
    return rows.map((r) => ({
      id: String(r[FIELDS.id] ?? r['id']),
      docId: String(r[FIELDS.docId]),
      chunkIndex: Number(r[FIELDS.chunkIndex]),
      text: String(r[FIELDS.text] ?? ''),
      title: String(r[FIELDS.title] ?? ''),
      metadata: (r[FIELDS.metadata] as Record<string, unknown> | undefined) ?? {},
      score: Number(r['score']),
    }));
  }

  async ping(): Promise<void> {
    const r = await this.client.checkHealth();
    if (r.isHealthy !== true) {
      throw new MilvusError(`Milvus is not healthy: ${(r.reasons ?? []).join('; ') || 'no reason given'}`);
    }
  }

  async close(): Promise<void> {
    await this.client.closeConnection();
  }
}
