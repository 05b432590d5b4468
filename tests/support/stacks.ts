/** Test support: run the real program per stack on the mock runtime, once per test file. */
import { runStack, readStackConfig, listStacks, type RawStackConfig, type RecordedResource, type RunResult } from "../../infra/plan/harness";

export { listStacks, readStackConfig };
export type { RecordedResource, RunResult };

export const STACKS = listStacks();

const cache = new Map<string, Promise<RunResult>>();

/** The committed stack, run once per test file (vitest isolates files in their own process). */
export function stack(name: string): Promise<RunResult> {
  let r = cache.get(name);
  if (!r) {
    r = runStack(name);
    cache.set(name, r);
  }
  return r;
}

/** Runs a modified copy of a committed stack's config. */
export function stackWith(name: string, mutate: (raw: Record<string, any>) => void): Promise<RunResult> {
  const raw = structuredClone<RawStackConfig>(readStackConfig(name));
  mutate(raw as Record<string, any>);
  return runStack(name, raw);
}

export function ofType(r: RunResult, type: string): RecordedResource[] {
  return r.resources.filter((x) => x.type === type);
}

export function one(r: RunResult, type: string, name?: string): RecordedResource {
  const found = r.resources.filter((x) => x.type === type && (name === undefined || x.name === name));
  if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${found.map((f) => f.name).join(", ")}`);
  return found[0]!;
}

export function childrenOf(r: RunResult, parentName: string): RecordedResource[] {
  const parent = r.resources.find((x) => x.name === parentName && !x.custom);
  if (!parent) throw new Error(`no component named ${parentName}`);
  return r.resources.filter((x) => x.parent === parent.urn);
}

/** Reads a nested value: get(obj, "spec", "template", "spec"). */
export function get(o: unknown, ...path: (string | number)[]): any {
  let cur: any = o;
  for (const p of path) cur = cur?.[p];
  return cur;
}
