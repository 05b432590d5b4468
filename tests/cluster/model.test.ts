import { describe, expect, it } from "vitest";
import { stack, STACKS } from "../support/stacks";
import { buildModel, podsSelected, transitiveWaits } from "./model";

describe.each(STACKS)("the cluster model of %s", (name) => {
  it("sees the program's pods and the charts' pods", async () => {
    const m = buildModel(await stack(name));
    const origins = m.pods.map((p) => p.origin);
    expect(origins).toContain("Deployment safety/safety");
    expect(origins.some((o) => o.startsWith("chart kube-prometheus-stack: Prometheus"))).toBe(true);
    expect(podsSelected(m, "monitoring", { "app.kubernetes.io/name": "prometheus" })).toHaveLength(1);
  });

  it("follows dependsOn through parents and components", async () => {
    const m = buildModel(await stack(name));
    const store = m.objects.find((o) => o.obj.kind === "ClusterSecretStore")!;
    const eso = m.releases.find((r) => r.chart === "external-secrets")!;
    expect(transitiveWaits(m, store.urn).has(eso.urn)).toBe(true);
    expect(transitiveWaits(m, eso.urn).has(store.urn)).toBe(false);
  });
});
