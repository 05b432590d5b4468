import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkId, chunkText } from '../src/pipeline/chunker.js';
import { EVAL_CHUNKING, EVAL_TENANT, generate } from '../eval/generate.js';
import { formatTable, loadFixture, runEmbedded } from '../eval/evaluate.js';

const DIR = join(import.meta.dirname, '..', 'eval');

/**
 * Regression gate on the retrieval pipeline, with the deterministic embedder and reranker:
 * these numbers measure chunking, analysis, fusion and rerank plumbing, not semantic quality.
 * The floors sit a little under the figures in docs/rag.md; a change that lowers them fails.
 */
const FLOORS = {
  bm25: { r1: 0.45, r5: 0.95, mrr: 0.6 },
  dense: { r1: 0.42, r5: 0.78, mrr: 0.57 },
  hybrid: { r1: 0.45, r5: 0.93, mrr: 0.6 },
  'hybrid+rerank': { r1: 0.5, r5: 0.98, mrr: 0.69 },
} as const;

describe('retrieval evaluation (fixture corpus)', () => {
  it('the committed fixture is what the generator and the chunker produce now', () => {
    const { docs, questions } = loadFixture(DIR);
    const fresh = generate();
    expect(docs).toEqual(fresh.docs);
    expect(questions).toEqual(fresh.questions);
    const ids = new Set(docs.flatMap((d) => chunkText(d.text, EVAL_CHUNKING).map((c) => chunkId(EVAL_TENANT, d.id, c.text))));
    expect(ids.size).toBeGreaterThanOrEqual(200);
    expect(questions.length).toBeGreaterThanOrEqual(50);
    for (const q of questions) for (const r of q.relevant) expect(ids.has(r)).toBe(true);
  });

  it('meets the recall/MRR floors for BM25, dense, hybrid and hybrid + rerank', async () => {
    const { rows, chunks, questions } = await runEmbedded(DIR);
    process.stdout.write(`${formatTable(rows, `evaluation: ${chunks} chunks, ${questions} questions`)}\n`);
    expect(chunks).toBeGreaterThanOrEqual(200);
    for (const r of rows) {
      const f = FLOORS[r.variant];
      expect(r.recall[1], `${r.variant} recall@1`).toBeGreaterThanOrEqual(f.r1);
      expect(r.recall[5], `${r.variant} recall@5`).toBeGreaterThanOrEqual(f.r5);
      expect(r.mrr, `${r.variant} MRR`).toBeGreaterThanOrEqual(f.mrr);
    }
    const by = Object.fromEntries(rows.map((r) => [r.variant, r]));
    // the reranker must improve on the fused ranking it reorders
    expect(by['hybrid+rerank']?.mrr).toBeGreaterThan(by['hybrid']?.mrr ?? 1);
  });
});
