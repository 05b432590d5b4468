import type { FileConfig } from '../config.js';
import type { TermList } from '../defaults.js';
import { TextViews } from '../normalize.js';
import { LEVEL_RANK, safeResult, type CheckContext, type Direction, type Layer, type LayerResult, type Level } from '../types.js';
import { TermMatcher, type TermGroup } from './terms.js';

type KeywordConfig = FileConfig['layers']['keywordBlocklist'];
type NormalizationConfig = FileConfig['layers']['normalization'];

/** Views for a layer used on its own (tests): the engine normally supplies them in the context. */
export function viewsOf(text: string, ctx: CheckContext, norm: NormalizationConfig): TextViews {
  return ctx.views ?? new TextViews(text, norm);
}

/**
 * Keyword/phrase blocklist: the default keyword lists plus the configured groups, matched
 * on the normalized key of the text and of its decoded runs (src/layers/terms.ts). The
 * explanation names the configured term that matched, never the text.
 */
export class KeywordBlocklistLayer implements Layer {
  readonly name = 'keyword_blocklist';
  readonly appliesTo: ReadonlySet<Direction>;
  private readonly matcher: TermMatcher;

  constructor(
    cfg: KeywordConfig,
    defaults: readonly TermList[],
    private readonly norm: NormalizationConfig,
  ) {
    this.appliesTo = new Set(cfg.appliesTo);
    const groups: TermGroup[] = [
      ...defaults.map((l) => ({ category: l.category, level: l.level, terms: l.terms, source: `default:${l.id}` })),
      ...cfg.groups.map((g) => ({ category: g.category, level: g.level, terms: g.terms, source: 'config' })),
    ];
    this.matcher = new TermMatcher(groups, {
      wholeWord: cfg.wholeWord,
      plurals: norm.enabled && norm.plurals,
      squeezeMinChars: norm.enabled ? norm.squeezeMinChars : 0,
      longWordChars: norm.longWordChars,
    });
  }

  check(text: string, ctx: CheckContext): LayerResult {
    const hits = this.matcher.match(viewsOf(text, ctx, this.norm));
    if (hits.length === 0) return SAFE;
    let level: Level = 'safe';
    const categories: string[] = [];
    const explanations: string[] = [];
    for (const h of hits) {
      if (LEVEL_RANK[h.level] > LEVEL_RANK[level]) level = h.level;
      const cat = `keyword:${h.category}`;
      if (!categories.includes(cat)) categories.push(cat);
      explanations.push(`blocklisted term "${h.term}" (${h.source}, group ${h.category}, ${h.level}${h.decoded ? ', in decoded content' : ''})`);
    }
    return { level, categories, confidence: 1, explanation: explanations.join('; '), details: { decoded: hits.some((h) => h.decoded) } };
  }
}

const SAFE = safeResult('No blocklisted keywords', 0.9);
