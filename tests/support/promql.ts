/** Test support: metric names in PromQL expressions. */

const PROMQL_WORDS = new Set([
  "sum", "avg", "max", "min", "count", "by", "without", "rate", "irate", "increase", "histogram_quantile", "and", "or", "unless", "on", "ignoring",
  "group_left", "group_right", "label_values", "le", "bool", "offset", "abs", "clamp_min", "clamp_max", "topk", "bottomk",
]);

/** Metric names in a PromQL expression: identifiers not followed by "(" and not inside {...} or [...] or "..." . */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"[^"]*"/g, '""')
    .replace(/\{[^}]*\}/g, "{}")
    .replace(/\[[^\]]*\]/g, "[]")
    // A modifier's duration ("offset 10075m") is not a name.
    .replace(/\boffset\s+-?[0-9][0-9a-z]*/g, "offset")
    .replace(/\bby\s*\([^)]*\)/g, "")
    .replace(/\bwithout\s*\([^)]*\)/g, "")
    // Vector matching: the label lists of on/ignoring/group_left/group_right are labels, not names.
    .replace(/\b(on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "$1");
  const names: string[] = [];
  for (const m of stripped.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (m[2] || PROMQL_WORDS.has(m[1]!) || /^\d/.test(m[1]!)) continue;
    names.push(m[1]!);
  }
  return names;
}

