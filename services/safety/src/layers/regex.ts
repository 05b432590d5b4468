import type { FileConfig } from '../config.js';
import { LEVEL_RANK, safeResult, type CheckContext, type Direction, type Layer, type LayerResult, type Level } from '../types.js';

type RegexConfig = FileConfig['layers']['regexBlocklist'];

interface CompiledPattern {
  readonly name: string;
  readonly category: string;
  readonly level: Exclude<Level, 'safe'>;
  readonly regex: RegExp;
}

/**
 * Regex blocklist from config. Patterns are compiled once at start-up. The matched
 * text is deliberately NOT reported (a pattern may match PII such as an ID number);
 * only the pattern's name is.
 */
export class RegexBlocklistLayer implements Layer {
  readonly name = 'regex_blocklist';
  readonly appliesTo: ReadonlySet<Direction>;
  private readonly patterns: readonly CompiledPattern[];

  constructor(cfg: RegexConfig) {
    this.appliesTo = new Set(cfg.appliesTo);
    this.patterns = cfg.patterns.map((p) => ({
      name: p.name,
      category: p.category,
      level: p.level,
      regex: new RegExp(p.pattern, p.flags),
    }));
  }

  check(text: string, _ctx: CheckContext): LayerResult {
    let level: Level = 'safe';
    let categories: string[] | undefined;
    let explanation = '';
    for (const p of this.patterns) {
      if (!p.regex.test(text)) continue;
      if (LEVEL_RANK[p.level] > LEVEL_RANK[level]) level = p.level;
      categories ??= [];
      const cat = `regex:${p.category}`;
      if (!categories.includes(cat)) categories.push(cat);
      explanation += `${explanation ? '; ' : ''}pattern "${p.name}" matched (${p.level})`;
    }
    if (categories === undefined) return SAFE;
    return { level, categories, confidence: 0.95, explanation };
  }
}

const SAFE = safeResult('No blocklisted patterns', 0.9);
