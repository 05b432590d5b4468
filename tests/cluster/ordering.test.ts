import { describe, expect, it } from "vitest";
import { stack, STACKS, type RunResult } from "../support/stacks";
import { buildModel } from "./model";
import { crdProblems, identityProblems, namespaceProblems, orderingProblems } from "./ordering";

describe.each(STACKS)("ordering in %s", (name) => {
  it("custom resources wait for their CRDs, objects for their Namespace, workloads for their AWS permissions", async () => {
    expect(orderingProblems(buildModel(await stack(name)))).toEqual([]);
  });
});

/** The run with the named resources' dependsOn, and that of their ancestor components, cleared. */
function cutDeps(run: RunResult, match: (r: RunResult["resources"][number]) => boolean): RunResult {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const cut = new Set<string>();
  for (const r of run.resources.filter(match)) for (let cur: typeof r | undefined = r; cur; cur = cur.parent ? byUrn.get(cur.parent) : undefined) cut.add(cur.urn);
  return { ...run, resources: run.resources.map((r) => (cut.has(r.urn) ? { ...r, options: { ...r.options, dependsOn: [] } } : r)) };
}

describe("the ordering checks fail when they should", () => {
  it("the gateway's PeerAuthentication with no path to istio-base reaches the API before its CRD", async () => {
    const run = cutDeps(await stack("prod"), (r) => r.name === "edge-gateway-alb-mtls");
    expect(crdProblems(buildModel(run))).toEqual(["PeerAuthentication gateway/gateway-from-alb: can reach the API before its CRD (no dependency path to the base release)"]);
  });

  it("a ServiceMonitor cut off from the prometheus-operator CRDs is reported", async () => {
    const run = cutDeps(await stack("dev"), (r) => r.name === "serving-safety-monitor");
    expect(crdProblems(buildModel(run))).toEqual(["ServiceMonitor safety/safety: can reach the API before its CRD (no dependency path to the prometheus-operator-crds release)"]);
  });

  it("an object that does not wait for its Namespace is reported", async () => {
    const run = cutDeps(await stack("dev"), (r) => r.name === "serving-safety-monitor");
    expect(namespaceProblems(buildModel(run))).toEqual(["ServiceMonitor safety/safety: does not wait for its Namespace"]);
  });

  it("a Job whose Pod Identity association does not wait for the role's policy is reported", async () => {
    const run = cutDeps(await stack("dev"), (r) => r.type === "aws:eks/podIdentityAssociation:PodIdentityAssociation" && r.name === "serving-weights-writer");
    const problems = identityProblems(buildModel(run));
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(p).toMatch(/^Job inference\/weights-sync-.*: runs as inference\/weights-sync \(role serving-weights-writer\) but does not wait for the role's policy serving-weights-writer$/);
  });
});
