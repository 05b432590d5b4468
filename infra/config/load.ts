/**
 * Parsing: stack config -> loadConfig() -> parsePlatformConfig() -> PlatformConfig. Invalid
 * config raises one ConfigError listing every problem with its key path, before any resource is
 * registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { crossChecks, type DeepPartial } from "./cross-checks";
import { ConfigError, dedupe, formatPath, issueToConfigIssues, unwrap, type ConfigIssue } from "./errors";
import { PROJECT } from "./primitives";
import { PlatformConfigSchema, type ParsedConfig, type PlatformConfig } from "./schema";

/**
 * Parses raw config (area name -> value, as in the stack file under `llm-platform:`, plus
 * `region` from `aws:region`). Returns the typed config or throws one ConfigError with every
 * problem.
 */
export function parsePlatformConfig(raw: Record<string, unknown>, stack: string): PlatformConfig {
  const issues: ConfigIssue[] = [];
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
 * Reads this stack's config from the Pulumi runtime: every `llm-platform:<area>` key (objects
 * arrive as JSON) plus `aws:region`. Unknown `llm-platform:` keys are passed on, so the schema
 * rejects typos in area names too.
 */
export function loadConfig(): PlatformConfig {
  const all = pulumi.runtime.allConfig();
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(all)) {
    if (key === "aws:region") raw.region = value;
    else if (key.startsWith(`${PROJECT}:`)) raw[key.slice(PROJECT.length + 1)] = parseConfigValue(value);
  }
  return parsePlatformConfig(raw, pulumi.getStack());
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
