import { analyze } from '../store/analyzer.js';

/**
 * A deterministic embedder for tests, local runs and the CI evaluation: feature hashing of
 * analyzed terms (weight 1) and their character trigrams (weight 0.5) into `dim` signed
 * buckets, L2-normalised. It captures lexical and sub-word overlap only — no semantics — so
 * numbers measured with it describe the pipeline (chunking, fusion, filters, rerank plumbing),
 * not the quality of a real embedding model.
 */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function hashEmbed(text: string, dim: number): number[] {
  const v = new Float64Array(dim);
  const add = (feature: string, w: number): void => {
    const h = fnv1a(feature);
    v[h % dim] = (v[h % dim] as number) + ((h & 0x80000000) !== 0 ? -w : w);
  };
  for (const t of analyze(text)) {
    add(`w:${t}`, 1);
    const padded = `^${t}$`;
    for (let i = 0; i + 3 <= padded.length; i++) add(`g:${padded.slice(i, i + 3)}`, 0.5);
  }
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n) || 1;
  return Array.from(v, (x) => Math.round((x / n) * 1e6) / 1e6);
}

/**
 * A deterministic "cross-encoder" for the fake /rerank: the share of distinct query terms
 * present in the text (0.7) plus the share of query bigrams present as bigrams (0.3), in [0, 1].
 */
export function lexicalRelevance(query: string, text: string): number {
  const q = analyze(query);
  const qs = [...new Set(q)];
  if (qs.length === 0) return 0;
  const t = analyze(text);
  const ts = new Set(t);
  const cov = qs.filter((x) => ts.has(x)).length / qs.length;
  const qb = new Set<string>();
  for (let i = 0; i + 1 < q.length; i++) qb.add(`${q[i]} ${q[i + 1]}`);
  let bcov = 0;
  if (qb.size > 0) {
    const tb = new Set<string>();
    for (let i = 0; i + 1 < t.length; i++) tb.add(`${t[i]} ${t[i + 1]}`);
    bcov = [...qb].filter((x) => tb.has(x)).length / qb.size;
  } else bcov = cov;
  return Math.round((0.7 * cov + 0.3 * bcov) * 1e6) / 1e6;
}
