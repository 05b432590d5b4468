/**
 * Test support: a committed stack's config as the schema reads it (area name -> value, plus
 * `region`), deep-copied so a test can mutate it, and the problems parsing reports.
 */
import { ConfigError, parsePlatformConfig, PROJECT, type PlatformConfig } from "../../infra/config";
import { readStackConfig } from "./stacks";

export type RawConfig = Record<string, any>;

/** stacks/Pulumi.<stack>.yaml's `llm-platform:` areas and `aws:region`, deep-copied. */
export function rawOf(stack: string): RawConfig {
  const raw: RawConfig = {};
  for (const [k, v] of Object.entries(readStackConfig(stack))) {
    if (k === "aws:region") raw.region = v;
    else if (k.startsWith(`${PROJECT}:`)) raw[k.slice(PROJECT.length + 1)] = structuredClone(v);
  }
  return raw;
}

/** The parsed config of a stack after `mutate` (throws ConfigError when invalid). */
export function configOf(stack: string, mutate: (raw: RawConfig) => void = () => {}): PlatformConfig {
  const raw = rawOf(stack);
  mutate(raw);
  return parsePlatformConfig(raw, stack);
}

/** Every problem parsing reports for a stack after `mutate`; [] when it parses. */
export function problems(stack: string, mutate: (raw: RawConfig) => void): { path: string; message: string }[] {
  try {
    configOf(stack, mutate);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.issues];
    throw e;
  }
  return [];
}
