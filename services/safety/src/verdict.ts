import { LEVEL_RANK, type Level, type ModerationResult, type ReportedLayerResult } from './types.js';

export function moreRestrictive(a: Level, b: Level): Level {
  return LEVEL_RANK[a] >= LEVEL_RANK[b] ? a : b;
}

/**
 * Combine layer results: the most restrictive level wins (blocked > warning > safe).
 *
 * - `categories`: union of the categories of every non-safe layer, those of the
 *   winning level first, without duplicates.
 * - `confidence`: for a non-safe verdict the highest confidence among the layers at
 *   the winning level; for a safe verdict the lowest confidence of all layers
 *   (we are only as sure as the least sure check).
 * - `explanation`: the explanations of the layers at the winning level, joined.
 * - `layers`: every layer's result, in pipeline order, unchanged.
 */
export function combine(layers: readonly ReportedLayerResult[]): ModerationResult {
  let level: Level = 'safe';
  for (const l of layers) level = moreRestrictive(level, l.level);

  if (layers.length === 0) {
    return { level: 'safe', categories: [], confidence: 0, explanation: 'No layers applied', layers };
  }

  if (level === 'safe') {
    let confidence = 1;
    for (const l of layers) confidence = Math.min(confidence, l.confidence);
    return { level, categories: [], confidence, explanation: 'All safety checks passed', layers };
  }

  const seen = new Set<string>();
  const categories: string[] = [];
  const explanations: string[] = [];
  let confidence = 0;
  for (const l of layers) {
    if (l.level !== level) continue;
    confidence = Math.max(confidence, l.confidence);
    explanations.push(`${l.name}: ${l.explanation}`);
    for (const c of l.categories) {
      if (!seen.has(c)) {
        seen.add(c);
        categories.push(c);
      }
    }
  }
  for (const l of layers) {
    if (l.level === level || l.level === 'safe') continue;
    for (const c of l.categories) {
      if (!seen.has(c)) {
        seen.add(c);
        categories.push(c);
      }
    }
  }
  return { level, categories, confidence, explanation: explanations.join('; '), layers };
}
