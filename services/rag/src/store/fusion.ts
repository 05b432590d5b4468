import type { Fusion } from '../config.js';

/** One route's ranked result: ids best first with their raw scores. */
export interface RouteResult {
  readonly ids: readonly string[];
  readonly scores: readonly number[];
  /** how Milvus normalises this route's scores in WeightedRanker */
  readonly metric: 'BM25' | 'COSINE';
}

/**
 * Milvus's fusion semantics (the same formulas its RRFRanker and WeightedRanker apply):
 * - RRF: score(d) = sum over routes of 1 / (k + rank_d), rank from 1;
 * - weighted: score(d) = sum of w_route * norm(score), norm = (1 + cos) / 2 for COSINE and
 *   0.5 + atan(score) / pi for BM25/IP (Milvus's norm_score), missing routes add 0.
 * Ties break by id so results are deterministic.
 */
export function fuse(routes: readonly [RouteResult, RouteResult], fusion: Fusion, limit: number): Array<{ id: string; score: number }> {
  const acc = new Map<string, number>();
  const weights = fusion.kind === 'weighted' ? [fusion.bm25, fusion.dense] : [1, 1];
  routes.forEach((r, ri) => {
    for (let i = 0; i < r.ids.length; i++) {
      const id = r.ids[i] as string;
      let s: number;
      if (fusion.kind === 'rrf') s = 1 / (fusion.k + i + 1);
      else {
        const raw = r.scores[i] as number;
        const norm = r.metric === 'COSINE' ? (1 + raw) / 2 : 0.5 + Math.atan(raw) / Math.PI;
        s = (weights[ri] as number) * norm;
      }
      acc.set(id, (acc.get(id) ?? 0) + s);
    }
  });
  return [...acc.entries()]
    .map(([id, score]) => ({ id, score }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, limit);
}
