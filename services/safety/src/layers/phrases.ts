/**
 * Compile a list of literal phrases into ONE case-insensitive regular expression
 * (an alternation), so a text is scanned once per phrase list instead of once per
 * phrase. Whitespace inside a phrase matches any run of whitespace, and a straight
 * apostrophe also matches the typographic one (’). With `wholeWord`, a phrase only
 * matches when it is not glued to other letters/digits (so "ass" does not match
 * "class").
 */
export function compilePhrases(phrases: readonly string[], wholeWord: boolean): RegExp | undefined {
  const parts = phrases
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    // longest first, so the reported match is the most specific phrase
    .sort((a, b) => b.length - a.length)
    .map((p) =>
      p
        .split(/\s+/)
        .map((w) => escapeRegex(w).replace(/'/g, "['\u2019]"))
        .join('\\s+'),
    );
  if (parts.length === 0) return undefined;
  const alternation = `(?:${parts.join('|')})`;
  const source = wholeWord ? `(?<![\\p{L}\\p{N}_])${alternation}(?![\\p{L}\\p{N}_])` : alternation;
  return new RegExp(source, 'iu');
}

export function escapeRegex(s: string): string {
  // Only syntax characters (and /) may be escaped in a regex with the u flag.
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Lower-case and collapse whitespace, for reporting which configured phrase matched. */
export function normalizeMatch(s: string): string {
  return s.toLowerCase().replace(/\s+/g, ' ').replace(/\u2019/g, "'");
}
