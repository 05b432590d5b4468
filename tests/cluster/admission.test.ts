import { describe, expect, it } from "vitest";
import { stack, STACKS } from "../support/stacks";
import { admissionProblems, admittedSpec, podSecurityViolations } from "./admission";
import { buildModel, type ClusterModel } from "./model";

describe.each(STACKS)("admission in %s", (name) => {
  it("every pod passes the Pod Security level of its namespace, Istio's injected containers included", async () => {
    expect(admissionProblems(buildModel(await stack(name)))).toEqual([]);
  });
});

describe("the admission check fails when it should", () => {
  const prod = async () => buildModel(await stack("prod"));

  it("LiteLLM with the chart's default (empty) security contexts is refused by restricted", async () => {
    const m = await prod();
    const pods = m.pods.map((p) => (p.release === "litellm" ? { ...p, spec: { ...p.spec, securityContext: {}, containers: p.spec.containers.map((c: any) => ({ ...c, securityContext: {} })) } } : p));
    const problems = admissionProblems({ ...m, pods });
    expect(problems).toContain("chart litellm-helm: proxy Deployment (namespace gateway, restricted): container litellm must set allowPrivilegeEscalation=false");
    expect(problems).toContain("chart litellm-helm: migrations Job (namespace gateway, restricted): container prisma-migrations must drop ALL capabilities");
  });

  it("Istio injection without Istio CNI adds NET_ADMIN and NET_RAW, which baseline refuses", async () => {
    const m = await prod();
    const noCni: ClusterModel = { ...m, releases: m.releases.filter((r) => r.chart !== "cni") };
    const vllm = noCni.pods.find((p) => p.origin.startsWith("Deployment inference/vllm-"))!;
    expect(admittedSpec(noCni, vllm).initContainers.map((c: any) => c.name)).toContain("istio-init");
    const problems = admissionProblems(noCni);
    expect(problems).toContain(`${vllm.origin} (namespace inference, baseline): container istio-init adds capability NET_ADMIN`);
    expect(problems).toContain(`${vllm.origin} (namespace inference, baseline): container istio-init adds capability NET_RAW`);
    // With CNI, the same pod gets istio-validation and passes.
    expect(admittedSpec(m, vllm).initContainers.map((c: any) => c.name)).toContain("istio-validation");
  });

  it("a root container in a restricted namespace is refused", async () => {
    const m = await prod();
    const pods = m.pods.map((p) =>
      p.origin === "Deployment safety/safety"
        ? { ...p, spec: { ...p.spec, securityContext: { seccompProfile: { type: "RuntimeDefault" } }, containers: p.spec.containers.map((c: any) => ({ ...c, securityContext: { ...c.securityContext, runAsNonRoot: undefined } })) } }
        : p,
    );
    expect(admissionProblems({ ...m, pods }).some((x) => x.startsWith("Deployment safety/safety (namespace safety, restricted): container safety must set runAsNonRoot=true"))).toBe(true);
  });

  it.each([
    ["hostNetwork", { hostNetwork: true, containers: [] }, "baseline", "hostNetwork is true"],
    ["a privileged container", { containers: [{ name: "c", securityContext: { privileged: true } }] }, "baseline", "container c is privileged"],
    ["a hostPath volume", { containers: [], volumes: [{ name: "h", hostPath: { path: "/" } }] }, "baseline", "volume h is a hostPath"],
    ["SYS_ADMIN", { containers: [{ name: "c", securityContext: { capabilities: { add: ["SYS_ADMIN"] } } }] }, "baseline", "container c adds capability SYS_ADMIN"],
  ])("%s is refused at %s", (_n, spec, level, expected) => {
    expect(podSecurityViolations(spec, level as "baseline")).toContain(expected);
    expect(podSecurityViolations(spec, "privileged")).toEqual([]);
  });
});
