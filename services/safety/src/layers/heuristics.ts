import type { FileConfig } from '../config.js';
import { LEVEL_RANK, safeResult, type CheckContext, type Direction, type Layer, type LayerResult, type Level } from '../types.js';

type HeuristicsConfig = FileConfig['layers']['heuristics'];

/** Unicode White_Space (as matched by /\s/). */
function isSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 160) return false;
  return (
    c === 160 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/**
 * Counts words (runs of non-whitespace) and distinct words without allocating a
 * string per word: each word is hashed (FNV-1a over its UTF-16 code units, ASCII
 * letters case-folded) into a reusable open-addressing table. Two different words
 * colliding on the 32-bit hash would be counted once; the chance is negligible for
 * texts of realistic size and could only make the ratio slightly lower.
 */
export class WordCounter {
  private hashes = new Int32Array(1024);
  private stamps = new Uint32Array(1024);
  private generation = 0;

  count(text: string): { words: number; unique: number } {
    const maxWords = (text.length >> 1) + 1;
    let size = this.hashes.length;
    if (size < maxWords * 2) {
      while (size < maxWords * 2) size <<= 1;
      this.hashes = new Int32Array(size);
      this.stamps = new Uint32Array(size);
      this.generation = 0;
    }
    this.generation = (this.generation + 1) >>> 0;
    if (this.generation === 0) {
      this.stamps.fill(0);
      this.generation = 1;
    }
    const gen = this.generation;
    const mask = size - 1;
    const hashes = this.hashes;
    const stamps = this.stamps;

    let words = 0;
    let unique = 0;
    let inWord = false;
    let h = 0;
    const n = text.length;
    for (let i = 0; i <= n; i++) {
      const c = i < n ? text.charCodeAt(i) : 32;
      // fast path: printable ASCII other than space is always part of a word
      if (c > 32 && c < 127) {
        if (!inWord) {
          inWord = true;
          h = 0x811c9dc5 | 0;
        }
        h = Math.imul(h ^ (c >= 65 && c <= 90 ? c + 32 : c), 0x01000193);
        continue;
      }
      if (isSpace(c)) {
        if (inWord) {
          words++;
          let slot = h & mask;
          for (;;) {
            if (stamps[slot] !== gen) {
              stamps[slot] = gen;
              hashes[slot] = h;
              unique++;
              break;
            }
            if (hashes[slot] === h) break;
            slot = (slot + 1) & mask;
          }
          inWord = false;
        }
        continue;
      }
      if (!inWord) {
        inWord = true;
        h = 0x811c9dc5 | 0;
      }
      const lc = c >= 65 && c <= 90 ? c + 32 : c;
      h = Math.imul(h ^ lc, 0x01000193);
    }
    return { words, unique };
  }
}

/**
 * Cheap heuristics (seed section 5):
 * - repetition: with at least `minWords` words, a distinct-word ratio below
 *   `minUniqueRatio` (ASCII letters compared case-insensitively);
 * - length: more than `maxChars` characters.
 */
export class HeuristicsLayer implements Layer {
  readonly name = 'heuristics';
  readonly appliesTo: ReadonlySet<Direction>;
  private readonly counter = new WordCounter();

  constructor(private readonly cfg: HeuristicsConfig) {
    this.appliesTo = new Set(cfg.appliesTo);
  }

  check(text: string, _ctx: CheckContext): LayerResult {
    let level: Level = 'safe';
    const categories: string[] = [];
    const explanations: string[] = [];
    let confidence = 0.8;

    const { length, repetition } = this.cfg;
    if (text.length > length.maxChars) {
      level = length.level;
      categories.push('length');
      explanations.push(`text is ${text.length} characters, over the limit of ${length.maxChars}`);
      confidence = 0.7;
    }

    // Only count when the text could possibly contain minWords words.
    if (text.length >= repetition.minWords * 2 - 1) {
      const { words, unique } = this.counter.count(text);
      if (words >= repetition.minWords) {
        const ratio = unique / words;
        if (ratio < repetition.minUniqueRatio) {
          if (LEVEL_RANK[repetition.level] > LEVEL_RANK[level]) level = repetition.level;
          categories.push('repetition');
          explanations.push(
            `excessive repetition: ${unique} distinct of ${words} words (ratio ${ratio.toFixed(2)} < ${repetition.minUniqueRatio})`,
          );
          confidence = 0.8;
        }
      }
    }

    if (level === 'safe') return SAFE;
    return { level, categories, confidence, explanation: explanations.join('; ') };
  }
}

const SAFE = safeResult('Heuristics passed', 0.8);
