/**
 * Parsing: stack config -> loadConfig() -> parsePlatformConfig() -> PlatformConfig. Invalid
 * config raises one ConfigError listing every problem with its key path, before any resource is
 * registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { crossChecks, type DeepPartial } from "./cross-checks";
import { closest, ConfigError, dedupe, formatPath, issueToConfigIssues, unwrap, type ConfigIssue } from "./errors";
import { CONFIG_NAMESPACES } from "./namespaces";
import { PROJECT } from "./primitives";
import { AREAS, PlatformConfigSchema, type ParsedConfig, type PlatformConfig } from "./schema";

/**
 * Parses raw config (area name -> value, as in the stack file under `llm-platform:`, plus
 * `region` from `aws:region`). Returns the typed config or throws one ConfigError with every
 * problem. `keyIssues` are problems found in the stack file's keys (configFromRuntime), reported
 * with the rest.
 */
export function parsePlatformConfig(input: Record<string, unknown>, stack: string, keyIssues: readonly ConfigIssue[] = []): PlatformConfig {
  const issues: ConfigIssue[] = [...keyIssues];
  const raw = coerceScalars(PlatformConfigSchema, input) as Record<string, unknown>;
  const whole = PlatformConfigSchema.safeParse(raw, { reportInput: true });
  // A refinement message at a key that already has a type/range/enum problem adds nothing.
  const structural = new Set(whole.error?.issues.filter((i) => i.code !== "custom").map((i) => formatPath(i.path)));
  if (!whole.success)
    for (const i of whole.error.issues) {
      if (i.code === "custom" && structural.has(formatPath(i.path))) continue;
      issues.push(...issueToConfigIssues(i));
    }

  // Cross-area checks run over every area that parsed, so that one broken area does not hide
  // problems elsewhere.
  const parsed = partialParse(PlatformConfigSchema, raw) as DeepPartial<ParsedConfig>;
  crossChecks(parsed ?? {}, (path, message) => {
    if (!structural.has(formatPath(path))) issues.push({ path: formatPath(path), message });
  });

  if (issues.length > 0 || !whole.success) throw new ConfigError(stack, dedupe(issues));

  const c = whole.data;
  return {
    ...c,
    stack,
    cluster: { ...c.cluster, name: c.cluster.name ?? `${c.tags.project}-${stack}` },
  };
}

/**
 * Parses what it can: the value if it is valid, otherwise (for objects and records) each
 * property that is valid on its own. Object-level refinements are skipped for the parts.
 */
function partialParse(schema: z.ZodType, value: unknown): unknown {
  const whole = schema.safeParse(value);
  if (whole.success) return whole.data;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const inner = unwrap(schema);
  const out: Record<string, unknown> = {};
  if (inner instanceof z.ZodObject) {
    for (const [k, s] of Object.entries<z.ZodType>(inner.shape)) {
      const v = partialParse(s, (value as Record<string, unknown>)[k]);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  if (inner instanceof z.ZodRecord) {
    const keyType = inner._zod.def.keyType as z.ZodType;
    for (const [k, v] of Object.entries(value)) {
      if (keyType.safeParse(k).success) out[k] = partialParse(inner._zod.def.valueType as z.ZodType, v) ?? {};
    }
    return out;
  }
  return undefined;
}

/**
 * Numbers and booleans written as strings: `pulumi config set --path` stores integers and
 * true/false typed, but any other number (0.5) as a string, and a quoted YAML scalar is a string
 * too (https://www.pulumi.com/docs/iac/cli/commands/pulumi_config_set/). Where the schema expects
 * a number, a canonical decimal string ("2", "0.5", "-1") becomes that number; where it expects a
 * boolean, "true" and "false" become booleans. Nothing else is converted: "", " 2", "1e3", "0x10",
 * "02", "yes" stay strings and fail with a hint to write the value unquoted or use `--type`.
 * (z.coerce would turn "" and " " into 0.)
 */
const CANONICAL_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?$/;

export function coerceScalars(schema: z.ZodType | undefined, v: unknown): unknown {
  const s = unwrap(schema);
  if (!s) return v;
  if (s instanceof z.ZodUnion) {
    if (s.safeParse(v).success) return v;
    const options = s._zod.def.options as z.ZodType[];
    for (const o of options) {
      const c = coerceScalars(o, v);
      if (c !== v && o.safeParse(c).success) return c;
    }
    // No option accepts it: coerce along the option its discriminator names, so that the errors
    // that follow are about what is still wrong.
    const disc = (s._zod.def as { discriminator?: string }).discriminator;
    if (disc && v && typeof v === "object" && !Array.isArray(v)) {
      const o = options.find((x) => {
        const inner = unwrap(x);
        return inner instanceof z.ZodObject && (inner.shape as Record<string, z.ZodType>)[disc]?.safeParse((v as Record<string, unknown>)[disc]).success;
      });
      if (o) return coerceScalars(o, v);
    }
    return v;
  }
  if (typeof v === "string") {
    if (s instanceof z.ZodNumber && CANONICAL_NUMBER.test(v)) return Number(v);
    if (s instanceof z.ZodBoolean && (v === "true" || v === "false")) return v === "true";
    if (s instanceof z.ZodLiteral && CANONICAL_NUMBER.test(v) && (s._zod.def.values as unknown[]).includes(Number(v))) return Number(v);
    return v;
  }
  if (Array.isArray(v)) return s instanceof z.ZodArray ? v.map((x) => coerceScalars(s._zod.def.element as z.ZodType, x)) : v;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (s instanceof z.ZodObject) {
      const shape = s.shape as Record<string, z.ZodType>;
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, shape[k] ? coerceScalars(shape[k], x) : x]));
    }
    if (s instanceof z.ZodRecord) return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, coerceScalars(s._zod.def.valueType as z.ZodType, x)]));
  }
  return v;
}

/**
 * Splits the runtime's config (`<namespace>:<name>` -> string) into the raw config
 * parsePlatformConfig takes, and refuses keys the program would silently ignore: a namespace that
 * is neither the project's nor a provider's (infra/config/namespaces.ts), a key a provider does
 * not have, or a key with no namespace. Each comes with a did-you-mean where one is close.
 */
export function configFromRuntime(all: Readonly<Record<string, string>>): { raw: Record<string, unknown>; issues: ConfigIssue[] } {
  const raw: Record<string, unknown> = {};
  const issues: ConfigIssue[] = [];
  const namespaces = Object.keys(CONFIG_NAMESPACES);
  const areas = Object.keys(AREAS).filter((a) => a !== "region");
  for (const [key, value] of Object.entries(all)) {
    const colon = key.indexOf(":");
    if (colon < 0) {
      const area = closest(key, areas, 2);
      issues.push({
        path: key,
        message: `a stack config key is <namespace>:<name>${area ? `; did you mean "${PROJECT}:${area}"?` : `; the platform's keys are ${PROJECT}:<area>`}`,
      });
      continue;
    }
    const ns = key.slice(0, colon);
    const name = key.slice(colon + 1);
    if (ns === PROJECT) {
      raw[name] = parseConfigValue(value);
      continue;
    }
    if (!(ns in CONFIG_NAMESPACES)) {
      const near = closest(ns, namespaces, nearEnough(ns));
      issues.push({
        path: key,
        message: `unknown config namespace "${ns}", so this key would be ignored${near ? `; did you mean "${near}:${name}"?` : `; known namespaces: ${namespaces.join(", ")}`}`,
      });
      continue;
    }
    const keys = CONFIG_NAMESPACES[ns];
    if (keys && !keys.includes(name)) {
      const near = closest(name, keys, nearEnough(name));
      issues.push({
        path: key,
        message: `the ${ns} provider has no config key "${name}"${near ? `; did you mean "${ns}:${near}"?` : `; its keys are listed in infra/config/namespaces.ts`}`,
      });
      continue;
    }
    if (key === "aws:region") raw.region = value;
  }
  return { raw, issues };
}

/** Edits allowed for a did-you-mean: about one per three characters, at most 3 ("acme" is not "aws"). */
function nearEnough(word: string): number {
  return Math.min(3, Math.ceil(word.length / 3));
}

/**
 * Reads this stack's config from the Pulumi runtime: every `llm-platform:<area>` key (objects
 * arrive as JSON) plus `aws:region`. Unknown `llm-platform:` keys are passed on, so the schema
 * rejects typos in area names too; keys in other namespaces are checked by configFromRuntime.
 */
export function loadConfig(): PlatformConfig {
  const { raw, issues } = configFromRuntime(pulumi.runtime.allConfig());
  return parsePlatformConfig(raw, pulumi.getStack(), issues);
}

function parseConfigValue(v: string): unknown {
  const t = v.trim();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return v;
    }
  }
  return v;
}

/**
 * Every key path the schema accepts, e.g. `gpuPools.<name>.maxNodes`. The docs test checks
 * that docs/configuration.md documents each one.
 */
export function configKeyPaths(): string[] {
  const out: string[] = [];
  const walk = (s: z.ZodType | undefined, path: string): void => {
    const inner = unwrap(s);
    if (inner instanceof z.ZodObject) {
      for (const [k, v] of Object.entries<z.ZodType>(inner.shape)) {
        const p = path ? `${path}.${k}` : k;
        out.push(p);
        walk(v, p);
      }
    } else if (inner instanceof z.ZodRecord) {
      walk(inner._zod.def.valueType as z.ZodType, `${path}.<name>`);
    } else if (inner instanceof z.ZodDiscriminatedUnion) {
      for (const o of inner._zod.def.options as z.ZodType[]) walk(o, path);
    }
  };
  walk(PlatformConfigSchema, "");
  return [...new Set(out)];
}
