/**
 * Text analysis for the embedded store's BM25, approximating Milvus's built-in "english"
 * analyzer (standard tokenizer, lowercase, English stop words, English stemmer). The stemmer
 * here is a light suffix stripper, not Snowball, so term statistics can differ slightly from
 * Milvus on inflected words; the scoring formula is the same.
 */

// Lucene's English stop set (what Milvus's `_english_` stop words list is based on), plus a few.
const STOP = new Set(
  'a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with'.split(' '),
);

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;

export function stem(w: string): string {
  if (w.length <= 3) return w;
  let s = w;
  if (s.endsWith("'s") || s.endsWith('’s')) s = s.slice(0, -2);
  if (s.endsWith('sses')) s = s.slice(0, -2);
  else if (s.endsWith('ies') && s.length > 4) s = `${s.slice(0, -3)}y`;
  else if (s.endsWith('s') && !s.endsWith('ss') && !s.endsWith('us') && !s.endsWith('is')) s = s.slice(0, -1);
  if (s.length > 5 && s.endsWith('ing')) s = s.slice(0, -3);
  else if (s.length > 4 && s.endsWith('ed')) s = s.slice(0, -2);
  if (s.length > 5 && s.endsWith('ly')) s = s.slice(0, -2);
  return s;
}

/** Analyzed terms of a text, in order (duplicates kept: term frequency matters). */
export function analyze(text: string): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(WORD)) {
    const w = m[0];
    if (STOP.has(w)) continue;
    out.push(stem(w));
  }
  return out;
}
