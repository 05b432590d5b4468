/**
 * Test support: the committed stacks' runs (recorded once per test run by global-setup.ts), and
 * runs of modified configs.
 */
import { inject } from "vitest";
import { runStack, readStackConfig, listStacks, type RawStackConfig, type RecordedResource, type RunResult } from "../../stacks/plan/harness";

export { listStacks, readStackConfig };
export type { RecordedResource, RunResult };

/** A recorded resource as tests read it: inputs are untyped data. */
export type TestResource = Omit<RecordedResource, "inputs"> & { readonly inputs: any };

export const STACKS = listStacks();

/** The committed stack's recorded run. */
export function stack(name: string): Promise<RunResult> {
  const r = inject("plans").results[name];
  if (!r) throw new Error(`no recorded run for stack ${name}`);
  return Promise.resolve(r.run);
}

/** The committed stack's plan, written to inject("plans").outDir by the global setup. */
export function planOf(name: string): { exitCode: number; text: string; doc: NonNullable<ReturnType<typeof inject<"plans">>["results"][string]["doc"]>; outDir: string } {
  const p = inject("plans");
  const r = p.results[name];
  if (!r?.doc) throw new Error(`no plan for stack ${name}`);
  return { exitCode: r.exitCode, text: r.text, doc: r.doc, outDir: p.outDir };
}

/** Runs a modified copy of a committed stack's config. */
export function stackWith(name: string, mutate: (raw: Record<string, any>) => void): Promise<RunResult> {
  const raw = structuredClone<RawStackConfig>(readStackConfig(name));
  mutate(raw as Record<string, any>);
  return runStack(name, raw);
}

export function ofType(r: RunResult, type: string): TestResource[] {
  return r.resources.filter((x) => x.type === type);
}

export function one(r: RunResult, type: string, name?: string): TestResource {
  const found = r.resources.filter((x) => x.type === type && (name === undefined || x.name === name));
  if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${found.map((f) => f.name).join(", ")}`);
  return found[0]!;
}

export function childrenOf(r: RunResult, parentName: string): TestResource[] {
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
