/**
 * Retrieval evaluation: recall@k and MRR@10 of the fixture questions for BM25 only, dense
 * only, hybrid (fusion) and hybrid + rerank, through the service's own pipeline.
 *
 * runEmbedded() uses the embedded store with the deterministic hash embedder and the lexical
 * fake reranker, in-process: the numbers measure the pipeline (chunking, analyzers, fusion,
 * filters, rerank plumbing), NOT the semantic quality of a real embedding or rerank model.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatModel } from '../src/clients/gateway.js';
import type { Embedder, Reranker } from '../src/clients/tei.js';
import { parseConfig } from '../src/config.js';
import { hashEmbed, lexicalRelevance } from '../src/dev/hashEmbedder.js';
import { Metrics } from '../src/metrics.js';
import { RagPipeline, type SearchHit } from '../src/pipeline/rag.js';
import { MemoryStore } from '../src/store/memory.js';
import type { RetrievalMode } from '../src/store/types.js';
import { EVAL_CHUNKING, EVAL_TENANT, type EvalDoc, type EvalQuestion } from './generate.js';

export const KS = [1, 3, 5, 10] as const;
export type Variant = 'bm25' | 'dense' | 'hybrid' | 'hybrid+rerank';
export const VARIANTS: readonly Variant[] = ['bm25', 'dense', 'hybrid', 'hybrid+rerank'];

export interface Row {
  readonly variant: Variant;
  readonly recall: Record<number, number>;
  readonly mrr: number;
}

export function loadFixture(dir: string): { docs: EvalDoc[]; questions: EvalQuestion[] } {
  const docs = readFileSync(join(dir, 'corpus.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as EvalDoc);
  const questions = JSON.parse(readFileSync(join(dir, 'questions.json'), 'utf8')) as EvalQuestion[];
  return { docs, questions };
}

export type SearchFn = (question: string, mode: RetrievalMode, rerank: boolean, topK: number) => Promise<Array<Pick<SearchHit, 'chunkId'>>>;

export async function evaluate(search: SearchFn, questions: readonly EvalQuestion[]): Promise<Row[]> {
  const rows: Row[] = [];
  const depth = Math.max(...KS);
  for (const variant of VARIANTS) {
    const mode: RetrievalMode = variant === 'hybrid+rerank' ? 'hybrid' : variant;
    const hitsAt: Record<number, number> = Object.fromEntries(KS.map((k) => [k, 0]));
    let rr = 0;
    for (const q of questions) {
      const ids = (await search(q.question, mode, variant === 'hybrid+rerank', depth)).map((h) => h.chunkId);
      const rank = ids.findIndex((id) => q.relevant.includes(id));
      for (const k of KS) if (rank >= 0 && rank < k) hitsAt[k] = (hitsAt[k] as number) + 1;
      if (rank >= 0) rr += 1 / (rank + 1);
    }
    rows.push({
      variant,
      recall: Object.fromEntries(KS.map((k) => [k, (hitsAt[k] as number) / questions.length])),
      mrr: rr / questions.length,
    });
  }
  return rows;
}

export function formatTable(rows: readonly Row[], title: string): string {
  const f = (x: number): string => x.toFixed(3);
  const head = `| variant | ${KS.map((k) => `recall@${k}`).join(' | ')} | MRR@10 |`;
  const sep = `|---|${KS.map(() => '---:').join('|')}|---:|`;
  const body = rows.map((r) => `| ${r.variant} | ${KS.map((k) => f(r.recall[k] as number)).join(' | ')} | ${f(r.mrr)} |`);
  return [`${title}`, '', head, sep, ...body].join('\n');
}

const DIM = 256;

/** The in-process evaluation (CI): embedded store, hash embedder, lexical reranker. */
export async function runEmbedded(dir: string): Promise<{ rows: Row[]; chunks: number; questions: number }> {
  const { docs, questions } = loadFixture(dir);
  const config = parseConfig({ store: 'memory', collections: { names: ['eval'], dim: DIM }, chunking: EVAL_CHUNKING });
  const store = new MemoryStore(config);
  await store.ensureCollection('eval');
  const embedder: Embedder = { embed: async (t) => t.map((x) => hashEmbed(x, DIM)), ping: async () => {} };
  const reranker: Reranker = { rerank: async (q, ts) => ts.map((t) => lexicalRelevance(q, t)), ping: async () => {} };
  const chat = {} as ChatModel;
  const pipeline = new RagPipeline(config, store, embedder, reranker, chat, new Metrics({ defaultMetrics: false }));
  for (const d of docs) await pipeline.ingestDocument('eval', { ...d, tenant: EVAL_TENANT, format: 'markdown' });
  const rows = await evaluate(
    (question, mode, rerank, topK) => pipeline.search({ collection: 'eval', tenant: EVAL_TENANT, query: question, mode, rerank, topK }),
    questions,
  );
  return { rows, chunks: store.size('eval'), questions: questions.length };
}
