import type { FileConfig } from '../config.js';
import { LEVEL_RANK, safeResult, type CheckContext, type Direction, type Layer, type LayerResult, type Level } from '../types.js';
import { compilePhrases, normalizeMatch } from './phrases.js';

type KeywordConfig = FileConfig['layers']['keywordBlocklist'];

interface CompiledGroup {
  readonly category: string;
  readonly level: Exclude<Level, 'safe'>;
  readonly regex: RegExp;
}

/** Keyword/phrase blocklist from config: one precompiled regex per group. */
export class KeywordBlocklistLayer implements Layer {
  readonly name = 'keyword_blocklist';
  readonly appliesTo: ReadonlySet<Direction>;
  private readonly groups: readonly CompiledGroup[];

  constructor(cfg: KeywordConfig) {
    this.appliesTo = new Set(cfg.appliesTo);
    const groups: CompiledGroup[] = [];
    for (const g of cfg.groups) {
      const regex = compilePhrases(g.terms, cfg.wholeWord);
      if (regex) groups.push({ category: g.category, level: g.level, regex });
    }
    this.groups = groups;
  }

  check(text: string, _ctx: CheckContext): LayerResult {
    let level: Level = 'safe';
    let categories: string[] | undefined;
    let explanation = '';
    for (const g of this.groups) {
      const m = g.regex.exec(text);
      if (m === null) continue;
      if (LEVEL_RANK[g.level] > LEVEL_RANK[level]) level = g.level;
      (categories ??= []).push(`keyword:${g.category}`);
      explanation += `${explanation ? '; ' : ''}blocklisted term "${normalizeMatch(m[0])}" (group ${g.category}, ${g.level})`;
    }
    if (categories === undefined) return SAFE;
    return { level, categories, confidence: 1, explanation };
  }
}

const SAFE = safeResult('No blocklisted keywords', 0.9);
