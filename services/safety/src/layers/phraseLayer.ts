import type { FileConfig } from '../config.js';
import type { TermList } from '../defaults.js';
import type { CheckContext, Direction, Layer, LayerResult, Level } from '../types.js';
import { LEVEL_RANK, safeResult } from '../types.js';
import { viewsOf } from './keywords.js';
import { TermMatcher, type TermGroup } from './terms.js';

type NormalizationConfig = FileConfig['layers']['normalization'];
import { compilePhrases, normalizeMatch } from './phrases.js';

export interface PhraseLayerOptions {
  readonly name: string;
  readonly category: string;
  readonly appliesTo: readonly Direction[];
  readonly level: Exclude<Level, 'safe'>;
  readonly phrases: readonly string[];
  readonly confidence: number;
  readonly describe: string;
}

/** A layer that flags a text containing any of a list of phrases (one precompiled regex). */
export class PhraseLayer implements Layer {
  readonly name: string;
  readonly appliesTo: ReadonlySet<Direction>;
  private readonly regex: RegExp | undefined;
  private readonly safe: LayerResult;

  constructor(private readonly opts: PhraseLayerOptions) {
    this.name = opts.name;
    this.appliesTo = new Set(opts.appliesTo);
    this.regex = compilePhrases(opts.phrases, true);
    this.safe = safeResult(`No ${opts.describe} detected`, 0.9);
  }

  check(text: string, _ctx: CheckContext): LayerResult {
    const m = this.regex?.exec(text);
    if (m === null || m === undefined) return this.safe;
    return {
      level: this.opts.level,
      categories: [this.opts.category],
      confidence: this.opts.confidence,
      explanation: `${this.opts.describe} detected: "${normalizeMatch(m[0])}"`,
    };
  }
}

/**
 * Prompt injection on input and output: the default list prompt_injection plus the
 * configured patterns, matched on the normalized key of the text and of its decoded runs.
 */
export class PromptInjectionLayer implements Layer {
  readonly name = 'prompt_injection';
  readonly appliesTo: ReadonlySet<Direction>;
  private readonly matcher: TermMatcher;
  private readonly safe = safeResult('No prompt injection pattern detected', 0.9);

  constructor(
    cfg: { appliesTo: readonly Direction[]; level: Exclude<Level, 'safe'>; patterns: readonly string[] },
    defaults: readonly TermList[],
    private readonly norm: NormalizationConfig,
  ) {
    this.appliesTo = new Set(cfg.appliesTo);
    const groups: TermGroup[] = [
      ...defaults.map((l) => ({ category: l.category, level: l.level, terms: l.terms, source: `default:${l.id}` })),
      ...(cfg.patterns.length > 0 ? [{ category: 'injection', level: cfg.level, terms: cfg.patterns, source: 'config' }] : []),
    ];
    this.matcher = new TermMatcher(groups, {
      wholeWord: true,
      plurals: norm.enabled && norm.plurals,
      squeezeMinChars: norm.enabled ? norm.squeezeMinChars : 0,
      longWordChars: norm.longWordChars,
    });
  }

  check(text: string, ctx: CheckContext): LayerResult {
    const hits = this.matcher.match(viewsOf(text, ctx, this.norm));
    if (hits.length === 0) return this.safe;
    let level: Level = 'safe';
    for (const h of hits) if (LEVEL_RANK[h.level] > LEVEL_RANK[level]) level = h.level;
    return {
      level,
      categories: ['injection'],
      confidence: 0.9,
      explanation: hits.map((h) => `prompt injection pattern "${h.term}" (${h.source}${h.decoded ? ', in decoded content' : ''})`).join('; '),
      details: { decoded: hits.some((h) => h.decoded) },
    };
  }
}

/** Output check: hallucination/deflection markers (seed: warning). */
export function hallucinationLayer(cfg: {
  appliesTo: readonly Direction[];
  level: Exclude<Level, 'safe'>;
  markers: readonly string[];
}): PhraseLayer {
  return new PhraseLayer({
    name: 'hallucination',
    category: 'hallucination',
    appliesTo: cfg.appliesTo,
    level: cfg.level,
    phrases: cfg.markers,
    confidence: 0.6,
    describe: 'hallucination marker',
  });
}
