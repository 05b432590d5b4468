import type { CheckContext, Direction, Layer, LayerResult, Level } from '../types.js';
import { safeResult } from '../types.js';
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

/** Output check: prompt-injection phrases in a model response (seed: block). */
export function promptInjectionLayer(cfg: {
  appliesTo: readonly Direction[];
  level: Exclude<Level, 'safe'>;
  patterns: readonly string[];
}): PhraseLayer {
  return new PhraseLayer({
    name: 'prompt_injection',
    category: 'injection',
    appliesTo: cfg.appliesTo,
    level: cfg.level,
    phrases: cfg.patterns,
    confidence: 0.9,
    describe: 'prompt injection pattern',
  });
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
