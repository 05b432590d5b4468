import type { FileConfig } from '../config.js';
import type { RegexList } from '../defaults.js';
import { LEVEL_RANK, safeResult, type CheckContext, type Direction, type Layer, type LayerResult, type Level } from '../types.js';
import { viewsOf } from './keywords.js';
import { VALIDATORS, type ValidatorName } from './validators.js';

type RegexConfig = FileConfig['layers']['regexBlocklist'];
type NormalizationConfig = FileConfig['layers']['normalization'];

interface CompiledPattern {
  readonly name: string;
  readonly category: string;
  readonly level: Exclude<Level, 'safe'>;
  readonly regex: RegExp;
  readonly validator: ((match: string) => boolean) | undefined;
  readonly directions: ReadonlySet<Direction>;
  readonly source: string;
}

/**
 * Regex blocklist: the default regex lists (secrets, PII with checksums, chat-template
 * tokens) plus the configured patterns, matched on the plain view of the text (NFKC,
 * default-ignorables removed) and of its decoded runs. Patterns are compiled once at
 * start-up. The matched text is deliberately NOT reported (it may be a secret or an ID
 * number); only the pattern's name is.
 */
export class RegexBlocklistLayer implements Layer {
  readonly name = 'regex_blocklist';
  readonly appliesTo: ReadonlySet<Direction>;
  private readonly patterns: readonly CompiledPattern[];

  constructor(
    cfg: RegexConfig,
    defaults: readonly RegexList[],
    private readonly norm: NormalizationConfig,
  ) {
    const configured = new Set<Direction>(cfg.appliesTo);
    const all = new Set<Direction>(cfg.appliesTo);
    const patterns: CompiledPattern[] = [];
    const compile = (p: { name: string; pattern: string; flags: string; validator?: ValidatorName | undefined }, category: string, level: Exclude<Level, 'safe'>, directions: ReadonlySet<Direction>, source: string) => {
      // a validator needs every match, so those patterns are global (lastIndex reset before each use)
      const flags = p.validator !== undefined ? `${p.flags}g` : p.flags;
      patterns.push({ name: p.name, category, level, regex: new RegExp(p.pattern, flags), validator: p.validator ? VALIDATORS[p.validator] : undefined, directions, source });
    };
    for (const l of defaults) {
      const dirs = new Set<Direction>(l.appliesTo ?? cfg.appliesTo);
      for (const d of dirs) all.add(d);
      for (const p of l.patterns) compile(p, l.category, l.level, dirs, `default:${l.id}`);
    }
    for (const p of cfg.patterns) compile(p, p.category, p.level, configured, 'config');
    this.appliesTo = all;
    this.patterns = patterns;
  }

  private test(p: CompiledPattern, s: string): boolean {
    if (p.validator === undefined) return p.regex.test(s);
    p.regex.lastIndex = 0;
    for (let m = p.regex.exec(s); m !== null; m = p.regex.exec(s)) {
      if (p.validator(m[0])) return true;
      if (m[0].length === 0) p.regex.lastIndex++;
    }
    return false;
  }

  check(text: string, ctx: CheckContext): LayerResult {
    const plains = viewsOf(text, ctx, this.norm).plains;
    let level: Level = 'safe';
    let categories: string[] | undefined;
    let explanation = '';
    let decoded = false;
    for (const p of this.patterns) {
      if (!p.directions.has(ctx.direction)) continue;
      let k = 0;
      for (; k < plains.length; k++) if (this.test(p, plains[k] as string)) break;
      if (k === plains.length) continue;
      if (k > 0) decoded = true;
      if (LEVEL_RANK[p.level] > LEVEL_RANK[level]) level = p.level;
      categories ??= [];
      const cat = `regex:${p.category}`;
      if (!categories.includes(cat)) categories.push(cat);
      explanation += `${explanation ? '; ' : ''}pattern "${p.name}" matched (${p.source}, ${p.level}${k > 0 ? ', in decoded content' : ''})`;
    }
    if (categories === undefined) return SAFE;
    return { level, categories, confidence: 0.95, explanation, details: { decoded } };
  }
}

const SAFE = safeResult('No blocklisted patterns', 0.9);
