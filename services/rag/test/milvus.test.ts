import * as grpc from '@grpc/grpc-js';
import { context as otelContext, trace, TraceFlags } from '@opentelemetry/api';
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createService } from '../src/app.js';
import { parseConfig, type Config } from '../src/config.js';
import { startFakeGateway, startFakeTei, type FakeServer } from '../src/dev/fakes.js';
import { MilvusStore } from '../src/store/milvus.js';
import { SchemaMismatchError, type ChunkRecord } from '../src/store/types.js';
import { installTracing } from '../src/tracing.js';
import { FakeMilvus } from './fakes/milvus.js';

const require = createRequire(import.meta.url);
const baseJson = require('@zilliz/milvus2-sdk-node/dist/milvus/proto-json/milvus.base') as { default?: unknown };
const baseRoot = protobuf.Root.fromJSON((baseJson.default ?? baseJson) as protobuf.INamespace);
const PlaceholderGroup = baseRoot.lookupType('milvus.proto.common.PlaceholderGroup');

function placeholders(bytes: Uint8Array): { type: string; values: Buffer[] } {
  const g = PlaceholderGroup.toObject(PlaceholderGroup.decode(bytes), { enums: String }) as { placeholders: Array<{ type: string; values: Uint8Array[] }> };
  const p = g.placeholders[0] as { type: string; values: Uint8Array[] };
  return { type: p.type, values: p.values.map((v) => Buffer.from(v)) };
}

const kv = (pairs: Array<{ key: string; value: string }>): Record<string, string> => Object.fromEntries(pairs.map((p) => [p.key, p.value]));

let fake: FakeMilvus;
let config: Config;
let store: MilvusStore;

function cfg(over: Record<string, any> = {}, address = ''): Config {
  return parseConfig({
    milvus: { address, timeoutMs: 3000 },
    collections: { dim: 4, names: ['rag_chunks'] },
    retrieval: { candidates: 20 },
    auth: { mode: 'none' },
    ...over,
  });
}

const rec = (id: string, docId: string, tenant: string, dense: number[], extra: Partial<ChunkRecord> = {}): ChunkRecord => ({
  id,
  docId,
  tenant,
  chunkIndex: 0,
  text: `text of ${id}`,
  title: 'T',
  metadata: { team: 'data' },
  dense,
  ...extra,
});

// One server and one client for the file: building the SDK's gRPC service from its proto JSON
// takes seconds per client, so they are shared and the fake's state is reset per test.
beforeAll(async () => {
  await installTracing({ serviceName: 'rag-test' });
  fake = new FakeMilvus();
  const addr = await fake.start();
  config = cfg({}, addr);
  store = new MilvusStore(config, { maxRetries: 0, timeout: 3000 });
  await store.ensureCollection('rag_chunks');
});

afterAll(async () => {
  await store.close();
  await fake.stop();
});

beforeEach(() => {
  fake.reset();
});

describe('Milvus adapter at the wire (loopback gRPC server from the SDK protos)', () => {
  it('creates the collection with the BM25 function, partition key, both indexes, then loads it', async () => {
    expect(await store.ensureCollection('fresh_one')).toBe('created');
    const create = fake.callsOf('CreateCollection');
    expect(create).toHaveLength(1);
    const req = create[0]?.request as Record<string, any>;
    expect(req['collection_name']).toBe('fresh_one');
    expect(req['num_partitions']).toBe('64');
    expect(req['consistency_level']).toBe('Bounded');
    const schema = fake.decodeSchema(Buffer.from(req['schema']));
    const fields = Object.fromEntries((schema['fields'] as Array<Record<string, any>>).map((f) => [f['name'], f]));
    expect(Object.keys(fields)).toEqual(['id', 'doc_id', 'tenant', 'chunk_index', 'title', 'text', 'sparse', 'dense', 'metadata']);
    expect(fields['id']).toMatchObject({ data_type: 'VarChar', is_primary_key: true, autoID: false });
    expect(kv(fields['id'].type_params)).toEqual({ max_length: '256' });
    expect(fields['tenant']).toMatchObject({ data_type: 'VarChar', is_partition_key: true });
    expect(fields['text']).toMatchObject({ data_type: 'VarChar' });
    expect(kv(fields['text'].type_params)).toEqual({ max_length: '8192', enable_analyzer: 'true', analyzer_params: '{"type":"english"}' });
    expect(fields['sparse']).toMatchObject({ data_type: 'SparseFloatVector', is_function_output: true });
    expect(fields['dense']).toMatchObject({ data_type: 'FloatVector' });
    expect(kv(fields['dense'].type_params)).toEqual({ dim: '4' });
    expect(fields['metadata']).toMatchObject({ data_type: 'JSON' });
    expect(schema['functions']).toHaveLength(1);
    expect(schema['functions'][0]).toMatchObject({ name: 'text_bm25', type: 'BM25', input_field_names: ['text'], output_field_names: ['sparse'] });
    expect(schema['enable_dynamic_field']).toBe(false);

    const idx = fake.callsOf('CreateIndex').map((c) => ({ field: c.request['field_name'], name: c.request['index_name'], p: kv(c.request['extra_params']) }));
    expect(idx).toHaveLength(2);
    expect(idx[0]).toMatchObject({ field: 'dense', name: 'dense_hnsw', p: { index_type: 'HNSW', metric_type: 'COSINE' } });
    expect(JSON.parse(idx[0]?.p['params'] as string)).toEqual({ M: 16, efConstruction: 200 });
    expect(idx[1]).toMatchObject({ field: 'sparse', name: 'sparse_bm25', p: { index_type: 'SPARSE_INVERTED_INDEX', metric_type: 'BM25' } });
    expect(JSON.parse(idx[1]?.p['params'] as string)).toEqual({ inverted_index_algo: 'DAAT_MAXSCORE', bm25_k1: 1.2, bm25_b: 0.75 });
    expect(fake.callsOf('LoadCollection')[0]?.request['collection_name']).toBe('fresh_one');
  });

  it('is idempotent: an existing matching collection is verified, not re-created or re-loaded', async () => {
    expect(await store.ensureCollection('rag_chunks')).toBe('exists');
    expect(fake.callsOf('DescribeCollection').length).toBeGreaterThan(0);
    expect(fake.callsOf('CreateCollection')).toHaveLength(0);
    expect(fake.callsOf('LoadCollection')).toHaveLength(0);
  });

  it('refuses a schema change Milvus cannot apply in place, naming it, and changes nothing', async () => {
    const other = new MilvusStore(cfg({ collections: { dim: 8, names: ['rag_chunks'], analyzer: 'standard' } }, `127.0.0.1:${fake.port}`), { maxRetries: 0 });
    const before = fake.calls.length;
    try {
      const err = await other.ensureCollection('rag_chunks').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SchemaMismatchError);
      expect((err as Error).message).toContain('field dense has dim 4, wanted 8');
      expect((err as Error).message).toContain('field text has analyzer english, wanted standard');
      expect((err as Error).message).toContain('nothing was changed');
      const after = fake.calls.slice(before).map((c) => c.method);
      expect(after.filter((m) => m !== 'DescribeCollection' && m !== 'Connect')).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('upserts rows as columns (no sparse column: Milvus computes BM25), and counts them', async () => {
    await store.upsert('rag_chunks', [rec('d#1', 'd', 't1', [1, 0, 0, 0]), rec('d#2', 'd', 't1', [0, 1, 0, 0], { chunkIndex: 1, metadata: { team: 'ml', n: 2 } })]);
    const up = fake.callsOf('Upsert')[0]?.request as Record<string, any>;
    expect(up['num_rows']).toBe(2);
    const cols = Object.fromEntries((up['fields_data'] as Array<Record<string, any>>).map((f) => [f['field_name'], f]));
    expect(Object.keys(cols).sort()).toEqual(['chunk_index', 'dense', 'doc_id', 'id', 'metadata', 'tenant', 'text', 'title']);
    expect(cols['id'].scalars.string_data.data).toEqual(['d#1', 'd#2']);
    expect(cols['tenant'].scalars.string_data.data).toEqual(['t1', 't1']);
    expect(cols['chunk_index'].scalars.long_data.data).toEqual(['0', '1']);
    expect(cols['dense'].vectors.dim).toBe('4');
    expect(cols['dense'].vectors.float_vector.data).toEqual([1, 0, 0, 0, 0, 1, 0, 0]);
    expect(cols['metadata'].scalars.json_data.data.map((b: Uint8Array) => JSON.parse(Buffer.from(b).toString()))).toEqual([{ team: 'data' }, { team: 'ml', n: 2 }]);
    expect(fake.collections.get('rag_chunks')?.rows.size).toBe(2);
  });

  it('deletes a document (or only its stale chunks) with a tenant-scoped expression', async () => {
    await store.upsert('rag_chunks', [rec('d#1', 'd', 't1', [1, 0, 0, 0]), rec('d#2', 'd', 't1', [0, 1, 0, 0])]);
    expect(await store.deleteDocument('rag_chunks', 't1', 'd', ['d#1'])).toBe(1);
    expect(fake.callsOf('Delete')[0]?.request['expr']).toBe('tenant == "t1" and doc_id in ["d"] and not (id in ["d#1"])');
    expect(await store.deleteDocument('rag_chunks', 't1', 'd')).toBe(1);
    expect(fake.callsOf('Delete')[1]?.request['expr']).toBe('tenant == "t1" and doc_id in ["d"]');
  });

  it('runs hybrid search as one HybridSearch with a BM25 text request, a dense request and the RRF ranker', async () => {
    await store.upsert('rag_chunks', [rec('d#1', 'd', 't1', [1, 0, 0, 0]), rec('e#1', 'e', 't1', [0, 1, 0, 0], { metadata: { team: 'ml' } })]);
    fake.nextSearch = { ids: ['e#1', 'd#1'], scores: [0.0325, 0.0161] };
    const hits = await store.search({
      collection: 'rag_chunks',
      text: 'when do "backups" run',
      vector: [0.5, 0.5, 0, 0],
      filter: { tenant: 't1', metadata: { team: { in: ['data', 'ml'] }, year: { gte: 2025 } } },
      candidates: 20,
      limit: 5,
      fusion: { kind: 'rrf', k: 60 },
      mode: 'hybrid',
    });
    expect(hits.map((h) => [h.id, h.docId])).toEqual([
      ['e#1', 'e'],
      ['d#1', 'd'],
    ]);
    expect(hits[0]?.score).toBeCloseTo(0.0325, 6); // float32 on the wire
    expect(hits[1]?.score).toBeCloseTo(0.0161, 6);
    expect(hits[0]?.metadata).toEqual({ team: 'ml' });
    const calls = fake.callsOf('HybridSearch');
    expect(calls).toHaveLength(1);
    expect(fake.callsOf('Search')).toHaveLength(0);
    const req = calls[0]?.request as Record<string, any>;
    const [bm25, dense] = req['requests'] as Array<Record<string, any>>;
    const expr = 'tenant == "t1" and metadata["team"] in ["data", "ml"] and metadata["year"] >= 2025';
    expect(bm25?.['dsl']).toBe(expr);
    expect(dense?.['dsl']).toBe(expr);
    expect(kv(bm25?.['search_params'])).toMatchObject({ anns_field: 'sparse', topk: '20' });
    expect(JSON.parse(kv(bm25?.['search_params'])['params'] as string)).toEqual({ drop_ratio_search: 0 });
    const ph = placeholders(bm25?.['placeholder_group']);
    expect(ph.type).toBe('VarChar');
    expect(ph.values.map((v) => v.toString('utf8'))).toEqual(['when do "backups" run']);
    expect(kv(dense?.['search_params'])).toMatchObject({ anns_field: 'dense', topk: '20' });
    expect(JSON.parse(kv(dense?.['search_params'])['params'] as string)).toEqual({ ef: 128 });
    const dph = placeholders(dense?.['placeholder_group']);
    expect(dph.type).toBe('FloatVector');
    const raw = dph.values[0] as Buffer;
    expect([0, 4, 8, 12].map((o) => raw.readFloatLE(o))).toEqual([0.5, 0.5, 0, 0]);
    const rank = kv(req['rank_params']);
    expect(rank['strategy']).toBe('rrf');
    expect(JSON.parse(rank['params'] as string)).toEqual({ k: 60 });
    expect(rank['limit']).toBe('5');
    expect(req['output_fields']).toEqual(['id', 'doc_id', 'chunk_index', 'title', 'text', 'metadata']);
  });

  it('uses the weighted ranker with the configured weights', async () => {
    await store.search({ collection: 'rag_chunks', text: 'q', vector: [1, 0, 0, 0], filter: { tenant: 't' }, candidates: 10, limit: 3, fusion: { kind: 'weighted', bm25: 0.4, dense: 0.6 }, mode: 'hybrid' });
    const rank = kv(fake.callsOf('HybridSearch')[0]?.request['rank_params']);
    expect(rank['strategy']).toBe('weighted');
    expect(JSON.parse(rank['params'] as string)).toMatchObject({ weights: [0.4, 0.6] });
  });

  it('single-route modes use Search on one field (used by the evaluation)', async () => {
    await store.search({ collection: 'rag_chunks', text: 'q', filter: { tenant: 't' }, candidates: 10, limit: 3, fusion: { kind: 'rrf', k: 60 }, mode: 'bm25' });
    const s = fake.callsOf('Search')[0]?.request as Record<string, any>;
    expect(kv(s['search_params'])['anns_field']).toBe('sparse');
    expect(s['dsl']).toBe('tenant == "t"');
    expect(fake.callsOf('HybridSearch')).toHaveLength(0);
  });

  it('propagates the W3C trace context in the gRPC metadata', async () => {
    const parent = trace.setSpanContext(otelContext.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
    });
    await otelContext.with(parent, () =>
      store.search({ collection: 'rag_chunks', text: 'q', vector: [1, 0, 0, 0], filter: { tenant: 't' }, candidates: 10, limit: 3, fusion: { kind: 'rrf', k: 60 }, mode: 'hybrid' }),
    );
    const tp = fake.callsOf('HybridSearch')[0]?.metadata['traceparent'];
    expect(tp).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
  });
});

describe('the service on Milvus (fake at the wire) end to end', () => {
  let tei: FakeServer;
  let gw: FakeServer;
  beforeEach(async () => {
    tei = await startFakeTei({ dim: 4 });
    gw = await startFakeGateway();
  });
  afterEach(async () => {
    await tei.close();
    await gw.close();
  });

  const service = () => {
    const c = cfg({ embeddings: { url: tei.url }, rerank: { url: tei.url }, gateway: { url: gw.url } }, `127.0.0.1:${fake.port}`);
    // the shared client; close() is a no-op here so the next test can use it
    const shared = Object.create(store, { close: { value: async () => {} } }) as MilvusStore;
    return createService(c, { logger: pino({ level: 'silent' }), defaultMetrics: false, store: shared });
  };

  it('ingests through Upsert + stale Delete and searches through HybridSearch', async () => {
    const svc = service();
    try {
      await svc.bootstrap();
      const ing = await svc.app.inject({ method: 'POST', url: '/v1/collections/rag_chunks/documents', payload: { tenant: 'acme', documents: [{ id: 'doc-1', text: 'Backups run nightly.' }] } });
      expect(ing.statusCode).toBe(200);
      const id = ing.json().documents[0].chunkIds[0];
      expect(fake.callsOf('Upsert')).toHaveLength(1);
      expect(fake.callsOf('Delete')[0]?.request['expr']).toBe(`tenant == "acme" and doc_id in ["doc-1"] and not (id in [${JSON.stringify(id)}])`);
      const s = await svc.app.inject({ method: 'POST', url: '/v1/search', payload: { tenant: 'acme', query: 'backups' } });
      expect(s.statusCode).toBe(200);
      expect(s.json().results[0]).toMatchObject({ chunkId: id, docId: 'doc-1', text: 'Backups run nightly.' });
      expect(kv(fake.callsOf('HybridSearch')[0]?.request['rank_params'])['limit']).toBe('32'); // rerank depth
    } finally {
      await svc.shutdown();
    }
  });

  it('answers 503 naming milvus when Milvus is unavailable', async () => {
    const svc = service();
    try {
      await svc.bootstrap();
      fake.failures.set('HybridSearch', { grpcCode: grpc.status.UNAVAILABLE, reason: 'connection refused' });
      const s = await svc.app.inject({ method: 'POST', url: '/v1/search', payload: { tenant: 'acme', query: 'backups' } });
      expect(s.statusCode).toBe(503);
      expect(s.json()).toMatchObject({ error: 'dependency_unavailable', dependency: 'milvus' });
      expect(s.headers['retry-after']).toBe('1');
    } finally {
      await svc.shutdown();
    }
  });

  it('/ready reports Milvus health from CheckHealth', async () => {
    const svc = service();
    try {
      await svc.bootstrap();
      expect((await svc.app.inject({ url: '/ready' })).statusCode).toBe(200);
      fake.healthy = false;
      const r = await svc.app.inject({ url: '/ready' });
      expect(r.statusCode).toBe(503);
      expect(r.json().checks.milvus).toContain('fake: unhealthy');
      expect(r.json().reasons).toEqual(['milvus is not reachable']);
    } finally {
      await svc.shutdown();
    }
  });
});
