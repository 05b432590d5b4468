import { describe, expect, it } from "vitest";
import { kubernetesObjects } from "../stacks/plan/render";
import { stack, STACKS } from "./support/stacks";
import { validateAll, validatorFor } from "./support/schemas";
import { guardReference } from "./support/reference";

const crds = guardReference("crds", "external-secrets.io/v1 schema checks");

describe("the validator itself", () => {
  it("rejects a built-in object with a wrong type", async () => {
    const v = (await validatorFor("storage.k8s.io/v1", "StorageClass"))!;
    expect(v({ apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "x" }, provisioner: 5 })).not.toEqual([]);
  });

  it("rejects a Karpenter v1 NodePool with the v1beta1 consolidation policy", async () => {
    const v = (await validatorFor("karpenter.sh/v1", "NodePool"))!;
    const np = {
      apiVersion: "karpenter.sh/v1",
      kind: "NodePool",
      metadata: { name: "x" },
      spec: {
        disruption: { consolidationPolicy: "WhenUnderutilized", consolidateAfter: "1m" },
        template: { spec: { requirements: [], nodeClassRef: { group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: "d" } } },
      },
    };
    expect(v(np).join()).toMatch(/consolidationPolicy/);
  });

  it.skipIf(!crds.present)("rejects unknown fields in a reference CRD schema (external-secrets.io/v1, ../shared/reference/crds)", async () => {
    const v = (await validatorFor("external-secrets.io/v1", "ExternalSecret"))!;
    const ok = { apiVersion: "external-secrets.io/v1", kind: "ExternalSecret", metadata: { name: "x" }, spec: { secretStoreRef: { name: "vault", kind: "ClusterSecretStore" } } };
    expect(v(ok)).toEqual([]);
    expect(v({ ...ok, spec: { ...ok.spec, refreshIntervall: "1h" } }).join()).toMatch(/refreshIntervall/);
  });

  it("fails a kind with no known schema instead of passing it", async () => {
    expect(await validateAll([{ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } }])).toEqual([
      "example.com/v1 Widget -/w: no upstream schema known for example.com/v1 Widget; add its CRD schema to ../shared/reference/crds/ or a @kubernetes-models package",
    ]);
  });

  it.skipIf(!crds.present)("fails an external-secrets.io version the reference data does not hold (v1beta1 is no longer served)", async () => {
    expect(await validateAll([{ apiVersion: "external-secrets.io/v1beta1", kind: "ExternalSecret", metadata: { name: "old" } }])).toHaveLength(1);
  });
});

describe.each(STACKS)("rendered Kubernetes objects in %s", (name) => {
  it("each validates against the upstream schema for its apiVersion and kind", async () => {
    const objects = kubernetesObjects((await stack(name)).resources);
    expect(objects.length).toBeGreaterThan(0);
    expect(await validateAll(objects)).toEqual([]);
  });
});
