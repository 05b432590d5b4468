/** Turning zod issues into what an operator reads: the key path, the problem and the fix. */
import { z } from "zod";
import { PROJECT } from "./primitives";
import { PlatformConfigSchema } from "./schema";

export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly stackName: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(
      `Invalid configuration for stack "${stackName}" (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n` +
        issues.map((i) => `  - ${i.path}: ${i.message}`).join("\n") +
        `\nSee docs/configuration.md for every key.`,
    );
    this.name = "ConfigError";
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  if (path[0] === "region") return "aws:region";
  return path.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), "");
}

/** The key as `pulumi config set --path` takes it: `llm-platform:observability.tracing.samplingRatio`. */
function configKey(path: readonly PropertyKey[]): string {
  const p = formatPath(path);
  return p.startsWith("aws:") ? p : `${PROJECT}:${p}`;
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Levenshtein distance, for did-you-mean hints. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

/** The candidate closest to `word` (case-insensitive), if it is within `max` edits. */
export function closest(word: string, candidates: readonly string[], max = 3): string | undefined {
  const best = candidates.map((c) => [c, editDistance(word.toLowerCase(), c.toLowerCase())] as const).sort((a, b) => a[1] - b[1])[0];
  return best && best[1] <= max ? best[0] : undefined;
}

/**
 * How to store a typed value with the Pulumi CLI. `pulumi config set --path` stores integers and
 * true/false typed but any other value (0.5, 1e3) as a string; `--type` (string, bool, int,
 * float) fixes the type (https://www.pulumi.com/docs/iac/cli/commands/pulumi_config_set/).
 */
function typedSetHint(expected: string, path: string, input: string): string {
  const t = expected === "boolean" ? "bool" : /^\s*[+-]?\d+\s*$/.test(input) ? "int" : "float";
  return ` (write it unquoted in the stack file, or set it with \`pulumi config set --path --type ${t} '${path}' <value>\`)`;
}

function knownKeysAt(path: readonly PropertyKey[]): string[] {
  // Walk the schema along the path to list the keys an object accepts.
  let schema: z.ZodType | undefined = PlatformConfigSchema;
  for (const p of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[String(p)];
    else if (schema instanceof z.ZodRecord) schema = schema._zod.def.valueType as z.ZodType;
    else return [];
  }
  schema = unwrap(schema);
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  if (schema instanceof z.ZodRecord) {
    const keyType = schema._zod.def.keyType as z.ZodType;
    if (keyType instanceof z.ZodEnum) return keyType.options.map(String);
  }
  return [];
}

export function unwrap(s: z.ZodType | undefined): z.ZodType | undefined {
  let cur = s;
  for (let i = 0; i < 10 && cur; i++) {
    const def = cur._zod.def as { innerType?: z.ZodType; in?: z.ZodType };
    if (def.innerType) cur = def.innerType;
    else if (cur instanceof z.ZodPipe && def.in) cur = def.in;
    else break;
  }
  return cur;
}

export function issueToConfigIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  const path = issue.path;
  switch (issue.code) {
    case "unrecognized_keys": {
      const known = knownKeysAt(path);
      return issue.keys.map((k) => {
        const best = known.map((c) => [c, editDistance(k.toLowerCase(), c.toLowerCase())] as const).sort((a, b) => a[1] - b[1])[0];
        const hint = best && best[1] <= 3 ? `; did you mean "${best[0]}"?` : known.length ? `; expected one of: ${known.join(", ")}` : "";
        return { path: formatPath([...path, k]), message: `unknown key${hint}` };
      });
    }
    case "invalid_type": {
      const hint = typeof issue.input === "string" && (issue.expected === "number" || issue.expected === "boolean") ? typedSetHint(issue.expected, configKey(path), issue.input) : "";
      return [{ path: formatPath(path), message: issue.input === undefined ? `required (${issue.expected})` : `expected ${issue.expected}, got ${describe(issue.input)}${hint}` }];
    }
    case "invalid_value": {
      const expected = /^Invalid (option|input)/.test(issue.message) ? `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}` : issue.message;
      return [{ path: formatPath(path), message: `${expected}, got ${describe(issue.input)}` }];
    }
    case "invalid_key":
      return [{ path: formatPath(path), message: `invalid key: ${issue.issues.map((i) => i.message).join("; ")}` }];
    case "too_small":
    case "too_big": {
      const custom = !/^Too (small|big)/.test(issue.message);
      if (custom) return [{ path: formatPath(path), message: issue.message }];
      const op = issue.code === "too_small" ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const what = issue.origin === "array" ? `at least/most ${String(bound)} items` : `${op} ${String(bound)}`;
      return [
        {
          path: formatPath(path),
          message: issue.origin === "array" ? `expected ${what.replace("at least/most", issue.code === "too_small" ? "at least" : "at most")}, got ${Array.isArray(issue.input) ? issue.input.length : "?"}` : `must be ${what}, got ${describe(issue.input)}`,
        },
      ];
    }
    case "invalid_union": {
      if (issue.discriminator !== undefined && "options" in issue && issue.options)
        return [
          {
            path: formatPath(path[path.length - 1] === issue.discriminator ? path : [...path, issue.discriminator]),
            message: `expected one of ${issue.options.map((o) => JSON.stringify(o)).join(", ")}, got ${describe((issue.input as Record<string, unknown> | undefined)?.[issue.discriminator])}`,
          },
        ];
      return [{ path: formatPath(path), message: `${issue.message}, got ${describe(issue.input)}` }];
    }
    default:
      return [{ path: formatPath(path), message: issue.message.replace(/^Invalid input: /, "") }];
  }
}

export function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
