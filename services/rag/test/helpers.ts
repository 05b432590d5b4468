import { pino } from 'pino';
import { createService, type Service } from '../src/app.js';
import { parseConfig, type Config } from '../src/config.js';
import { startFakeGateway, startFakeTei, type FakeGateway, type FakeKey, type FakeServer } from '../src/dev/fakes.js';
import type { VectorStore } from '../src/store/types.js';

export const DIM = 64;

export interface Stack {
  readonly service: Service;
  readonly config: Config;
  readonly tei: FakeServer;
  readonly gateway: FakeGateway;
  close(): Promise<void>;
}

/** Callers' keys the fake gateway knows (GET /key/info, chat). */
export const KEYS: Record<string, FakeKey> = {
  'sk-alice': { team_id: 'team-acme', user_id: 'alice@acme.example', key_alias: 'alice-laptop', max_budget: 100, rpm_limit: 60 },
  'sk-bob': { team_id: 'team-globex', user_id: 'bob@globex.example', key_alias: 'bob-ci' },
  'sk-nobody': { key_alias: 'no-team' },
};

/** Most suites test the API without caller auth (auth.mode none); test/auth.test.ts turns it on. */
export async function startStack(over: Record<string, any> = {}, opts: { store?: VectorStore; env?: Record<string, string> } = {}): Promise<Stack> {
  const tei = await startFakeTei({ dim: DIM, maxBatch: 32 });
  const gateway = await startFakeGateway({ apiKey: 'sk-gw', keys: KEYS });
  const raw = {
    store: 'memory',
    logging: { level: 'silent' },
    auth: { mode: 'none' },
    server: { host: '127.0.0.1', port: 0 },
    collections: { names: ['docs', 'other'], dim: DIM },
    embeddings: { url: tei.url },
    rerank: { url: tei.url },
    gateway: { url: gateway.url, model: 'gpt-oss-20b' },
    chunking: { maxTokens: 60, overlapTokens: 10 },
  } as Record<string, any>;
  // one level deep merge, so a test can change one key of a section
  for (const [k, v] of Object.entries(over)) {
    raw[k] = v !== null && typeof v === 'object' && !Array.isArray(v) && typeof raw[k] === 'object' ? { ...raw[k], ...v } : v;
  }
  const config = parseConfig(raw, { GATEWAY_API_KEY: 'sk-gw', ...(opts.env ?? {}) });
  const service = createService(config, { logger: pino({ level: 'silent' }), defaultMetrics: false, ...(opts.store ? { store: opts.store } : {}) });
  await service.bootstrap();
  await service.app.ready();
  return {
    service,
    config,
    tei,
    gateway,
    async close() {
      await service.shutdown();
      await tei.close();
      await gateway.close();
    },
  };
}

export const DOCS = [
  {
    id: 'kb-milvus',
    title: 'Milvus operations',
    format: 'markdown',
    metadata: { team: 'data', year: 2025 },
    text: '# Milvus operations\n\n## Backups\n\nMilvus backups run nightly at 02:00 UTC with milvus-backup into the platform-backups S3 bucket. Restores are tested monthly.\n\n## Compaction\n\nCompaction merges small segments; it is triggered automatically when deleted rows exceed 20 percent of a segment.',
  },
  {
    id: 'kb-vllm',
    title: 'vLLM serving',
    format: 'markdown',
    metadata: { team: 'inference', year: 2026 },
    text: '# vLLM serving\n\nThe gpt-oss-120b model runs on H100 GPUs with tensor parallelism of two. KEDA scales replicas on vllm:num_requests_waiting. Prefix caching is enabled by default.',
  },
  {
    id: 'kb-gateway',
    title: 'Gateway keys',
    metadata: { team: 'edge', year: 2026 },
    text: 'Virtual keys for the LiteLLM gateway are issued per team. Each key has a monthly budget in US dollars and a rate limit in requests per minute. Keys are revoked by the platform team.',
  },
];

export async function ingest(stack: Stack, docs: unknown[] = DOCS, tenant = 'acme', collection = 'docs') {
  const res = await stack.service.app.inject({ method: 'POST', url: `/v1/collections/${collection}/documents`, payload: { tenant, documents: docs } });
  return res;
}
