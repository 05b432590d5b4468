/**
 * `npm run rag:local` (from the repo root) or `npm run local` here: the whole service on this
 * machine with no cluster. It starts the loopback TEI and gateway fakes (deterministic
 * embedder and reranker, extractive "model"), the service on the embedded store
 * (store: memory) at http://127.0.0.1:8080 (PORT overrides), and ingests the evaluation
 * corpus into tenant "demo" unless RAG_LOCAL_SEED=0. Then, for example:
 *
 *   curl -s localhost:8080/v1/search -H 'content-type: application/json' \
 *     -d '{"tenant":"demo","query":"how often are ledger backups taken"}'
 *   curl -sN localhost:8080/v1/answer -H 'content-type: application/json' \
 *     -d '{"tenant":"demo","question":"who owns the ledger service?","stream":true}'
 *
 * Point it at a real gateway with RAG_LOCAL_GATEWAY_URL and GATEWAY_API_KEY.
 */
import { createReadStream, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createService } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import { startFakeGateway, startFakeTei } from '../src/dev/fakes.js';
import { installTracing } from '../src/tracing.js';

const DIM = 256;

async function main(): Promise<void> {
  const tei = await startFakeTei({ dim: DIM, record: false });
  const gatewayUrl = process.env['RAG_LOCAL_GATEWAY_URL'];
  const gateway = gatewayUrl === undefined ? await startFakeGateway({ record: false }) : undefined;
  await installTracing({ serviceName: 'rag-local' });
  const config = parseConfig(
    {
      store: 'memory',
      // local runs only: no caller keys (the shipped config and the schema default are gateway-key)
      auth: { mode: 'none' },
      server: { host: '127.0.0.1', port: 8080 },
      logging: { level: process.env['LOG_LEVEL'] ?? 'info' },
      collections: { names: ['rag_chunks'], dim: DIM },
      embeddings: { url: tei.url },
      rerank: { url: tei.url },
      gateway: { url: gatewayUrl ?? gateway?.url, model: process.env['RAG_LOCAL_MODEL'] ?? 'gpt-oss-20b' },
    },
    process.env,
  );
  const service = createService(config);
  const { port } = await service.start();
  const corpus = resolve('eval/corpus.jsonl');
  if (process.env['RAG_LOCAL_SEED'] !== '0' && existsSync(corpus)) {
    let n = 0;
    for await (const line of createInterface({ input: createReadStream(corpus), crlfDelay: Infinity })) {
      if (line.trim().length === 0) continue;
      const d = JSON.parse(line) as { id: string; title?: string; text: string; metadata?: Record<string, unknown> };
      await service.pipeline.ingestDocument('rag_chunks', { ...d, tenant: 'demo', format: 'markdown' });
      n++;
    }
    service.logger.info({ documents: n, tenant: 'demo' }, 'seeded the evaluation corpus');
  }
  process.stdout.write(`\nRAG service on http://127.0.0.1:${port} (embedded store, fake TEI${gateway ? ' and fake gateway' : ''}). Ctrl-C to stop.\n`);
  const stop = (): void => {
    void service
      .shutdown()
      .then(() => tei.close())
      .then(() => gateway?.close())
      .then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
