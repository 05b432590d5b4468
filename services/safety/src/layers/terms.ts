import { keyOf, type TextViews } from '../normalize.js';
import { escapeRegex } from './phrases.js';

/**
 * Term syntax (default lists and config alike): words separated by spaces; a word may list
 * alternatives with "|" ("make|build|assemble") and may end in "?" to be optional
 * ("ignore all? previous instructions"). Every word is normalized with keyOf, so a term
 * is written in plain lower-case English and still matches the evasions keyOf folds away.
 *
 * Matching, on the key of the text (and of every decoded run):
 * - words may be separated by one space or by nothing ("pipe bomb", "pipebomb");
 * - the last word also matches with a plural "s"/"es";
 * - with wholeWord, a match must not be glued to other letters or digits ("class" does not
 *   match "ass");
 * - inside a glued word of the key at least `longWordChars` long ("howtobuildapipebomb",
 *   which is also what letter-spaced or underscore-joined text becomes), terms whose
 *   shortest form is at least `squeezeMinChars` long match without word boundaries. Only
 *   such long words are searched this way, so "ghost gunslinger" does not match "ghost gun".
 */
export interface TermGroup {
  readonly category: string;
  readonly level: 'warning' | 'blocked';
  readonly terms: readonly string[];
  /** Where the group came from, for explanations: "default:<list id>" or "config". */
  readonly source: string;
}

export interface TermMatchOptions {
  readonly wholeWord: boolean;
  readonly plurals: boolean;
  /** 0 disables squeezed matching. */
  readonly squeezeMinChars: number;
  /** A word of the key at least this long is searched for squeezed terms. */
  readonly longWordChars: number;
}

export interface TermHit {
  readonly category: string;
  readonly level: 'warning' | 'blocked';
  readonly term: string;
  readonly source: string;
  /** Found only in a decoded run (base64, percent-encoding, hex). */
  readonly decoded: boolean;
}

interface CompiledGroup {
  readonly group: TermGroup;
  readonly regex: RegExp | undefined;
  readonly squeezed: RegExp | undefined;
  /** Capture group index -> term. */
  readonly terms: readonly string[];
  readonly squeezedTerms: readonly string[];
}

function wordAlternatives(word: string): string[] {
  return word
    .split('|')
    .map((a) => keyOf(a.replace(/\+/g, ' ')))
    .filter((a) => a.length > 0);
}

/**
 * The regex source of one term over keys, and the shortest text it can match; undefined if
 * the term normalizes to nothing. `sep` goes between words: ' ?' for keys, '' for the
 * squeezed match inside one long glued word.
 */
export function termSource(term: string, plurals: boolean, sep = ' ?'): { source: string; minLength: number } | undefined {
  const words = term.trim().split(/\s+/).filter((w) => w.length > 0);
  const items: Array<{ re: string; optional: boolean; min: number }> = [];
  words.forEach((w, idx) => {
    const optional = w.endsWith('?') && w.length > 1;
    const alts = wordAlternatives(optional ? w.slice(0, -1) : w);
    if (alts.length === 0) return;
    // inside one alternative's key ("best+way" -> "best way"), the space follows `sep` too
    const re = alts.map((a) => escapeRegex(a).replace(/ /g, sep)).join('|');
    const last = idx === words.length - 1;
    const min = Math.min(...alts.map((a) => a.replace(/ /g, '').length));
    items.push({ re: `(?:${re})${last && plurals ? '(?:e?s)?' : ''}`, optional: optional && !last, min });
  });
  if (items.length === 0) return undefined;
  let source = '';
  let minLength = 0;
  items.forEach((it, idx) => {
    const s = idx < items.length - 1 ? sep : '';
    source += it.optional ? `(?:${it.re}${s})?` : `${it.re}${s}`;
    if (!it.optional) minLength += it.min;
  });
  return { source, minLength };
}

const BOUNDARY_BEFORE = '(?<![\\p{L}\\p{N}])';
const BOUNDARY_AFTER = '(?![\\p{L}\\p{N}])';

export class TermMatcher {
  private readonly groups: readonly CompiledGroup[];
  private readonly longWord: RegExp;

  constructor(groups: readonly TermGroup[], opts: TermMatchOptions) {
    this.longWord = new RegExp(`[^ ]{${Math.max(1, opts.longWordChars)},}`, 'gu');
    this.groups = groups.map((group) => {
      const terms: string[] = [];
      const sources: string[] = [];
      const squeezedTerms: string[] = [];
      const squeezedSources: string[] = [];
      for (const t of group.terms) {
        const src = termSource(t, opts.plurals);
        if (src === undefined) continue;
        terms.push(t);
        sources.push(`(${src.source})`);
        if (opts.squeezeMinChars > 0) {
          const sq = termSource(t, opts.plurals, '');
          if (sq !== undefined && sq.minLength >= opts.squeezeMinChars) {
            squeezedTerms.push(t);
            squeezedSources.push(`(${sq.source})`);
          }
        }
      }
      const body = sources.join('|');
      const regex =
        sources.length === 0 ? undefined : new RegExp(opts.wholeWord ? `${BOUNDARY_BEFORE}(?:${body})${BOUNDARY_AFTER}` : body, 'u');
      const squeezed = squeezedSources.length === 0 ? undefined : new RegExp(squeezedSources.join('|'), 'u');
      return { group, regex, squeezed, terms, squeezedTerms };
    });
  }

  /** Every group that matches (at most one hit per group: its first matching term). */
  match(views: TextViews): TermHit[] {
    const hits: TermHit[] = [];
    const keys = views.keys;
    for (const g of this.groups) {
      let hit: TermHit | undefined;
      for (let k = 0; k < keys.length && hit === undefined; k++) {
        const key = keys[k] as string;
        const m = g.regex?.exec(key);
        if (m) {
          hit = this.hit(g, g.terms, m, k > 0);
          break;
        }
        if (g.squeezed !== undefined) {
          for (const long of this.longWords(key, k)) {
            const ms = g.squeezed.exec(long);
            if (ms) {
              hit = this.hit(g, g.squeezedTerms, ms, k > 0);
              break;
            }
          }
        }
      }
      if (hit !== undefined) hits.push(hit);
    }
    return hits;
  }

  private longCache: { key: string; words: string[] } | undefined;

  /** The long glued words of a key (cached for the key last asked about). */
  private longWords(key: string, _k: number): string[] {
    if (this.longCache?.key === key) return this.longCache.words;
    const words = key.match(this.longWord) ?? [];
    this.longCache = { key, words };
    return words;
  }

  private hit(g: CompiledGroup, terms: readonly string[], m: RegExpExecArray, decoded: boolean): TermHit {
    let term = '';
    for (let i = 1; i < m.length; i++) {
      if (m[i] !== undefined) {
        term = terms[i - 1] ?? '';
        break;
      }
    }
    return { category: g.group.category, level: g.group.level, term, source: g.group.source, decoded };
  }
}
