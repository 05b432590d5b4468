/**
 * Typed access to resource properties. Policies receive `props` as untyped JSON (the inputs at
 * `analyze`, the outputs at `analyzeStack`); these helpers read it without `any`.
 */

export type Props = Readonly<Record<string, unknown>>;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** get(props, "spec", "template", "spec") */
export function get(o: unknown, ...path: (string | number)[]): unknown {
  let cur = o;
  for (const p of path) {
    if (typeof p === "number") {
      if (!Array.isArray(cur)) return undefined;
      cur = (cur as unknown[])[p];
    } else {
      if (!isRecord(cur)) return undefined;
      cur = cur[p];
    }
  }
  return cur;
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** A number, or a string holding one (provider inputs often arrive as strings). */
export function num(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** A boolean, or "true"/"false" as provider inputs serialize them. */
export function bool(v: unknown): boolean | undefined {
  if (typeof v === "boolean") return v;
  if (v === "true") return true;
  if (v === "false") return false;
  return undefined;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? (v as unknown[]) : [];
}

export function strings(v: unknown): string[] {
  if (typeof v === "string") return [v];
  return arr(v).filter((x): x is string => typeof x === "string");
}

export function record(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}

/** A JSON document that may arrive as a string (IAM policies, provider inputs) or as an object. */
export function jsonValue(v: unknown): unknown {
  if (typeof v !== "string") return v;
  const t = v.trim();
  if (!t.startsWith("{") && !t.startsWith("[")) return v;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return v;
  }
}

/** String-valued entries of a map (tags, labels). */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(record(jsonValue(v)))) if (typeof x === "string") out[k] = x;
  return out;
}

/** "kubernetes:apps/v1:Deployment" -> "Deployment"; "aws:s3/bucket:Bucket" -> "Bucket". */
export function kindOf(type: string): string {
  return type.split(":").pop() ?? type;
}

export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`;
}

export const usd = (n: number): string => `$${n.toLocaleString("en-US", { maximumFractionDigits: 0 })}`;
