import { describe, expect, it } from "vitest";
import { networkFacts, type Flow } from "../../components/flows";
import { platformNetworkPolicies, type NetworkPolicyObject } from "../../components/network-security";
import { declaredFlows } from "../../components/platform-flows";
import { stack, STACKS } from "../support/stacks";
import { buildModel } from "./model";
import { flowProblems, networkProblems, ruleProblems, sampleIp, scrapeProblems, type NetworkInput } from "./network";

async function inputOf(name: string): Promise<NetworkInput> {
  const run = await stack(name);
  const model = buildModel(run);
  const flows = declaredFlows(run.config);
  const policies = model.objects.filter((o) => o.obj.kind === "NetworkPolicy").map((o) => o.obj as unknown as NetworkPolicyObject);
  return { model, flows, policies, facts: networkFacts(run.config) };
}

describe.each(STACKS)("network flows in %s", (name) => {
  it("renders exactly the policies its declared flows make", async () => {
    const i = await inputOf(name);
    const expected = platformNetworkPolicies(i.flows, i.model.run.config.networkSecurity.istio.enabled);
    const key = (p: NetworkPolicyObject) => `${p.metadata.namespace}/${p.metadata.name}`;
    expect(i.policies.map(key).sort()).toEqual(expected.map(key).sort());
  });

  it("admits every declared flow at both ends, every rule carries a flow, every scrape passes", async () => {
    expect(networkProblems(await inputOf(name))).toEqual([]);
  });
});

describe("the network checks fail when they should", () => {
  const mutate = async (f: (i: NetworkInput) => NetworkInput) => f(await inputOf("prod"));

  it("a flow whose ingress allow is missing is denied at ingress", async () => {
    const i = await mutate((i) => ({ ...i, policies: i.policies.filter((p) => p.metadata.name !== "allow-ingress-gateway-to-safety") }));
    const problems = flowProblems(i);
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(p).toMatch(/^flow gateway-to-safety: .* -> Deployment safety\/safety :8080\/TCP is denied at ingress$/);
  });

  it("a flow whose egress allow is missing is denied at egress", async () => {
    const i = await mutate((i) => ({ ...i, policies: i.policies.filter((p) => p.metadata.name !== "allow-egress-external-secrets-to-vault") }));
    expect(flowProblems(i)).toEqual([expect.stringMatching(/^flow external-secrets-to-vault: chart external-secrets: external-secrets -> vault 10\.10\.0\.1 :8200\/TCP is denied at egress$/)]);
  });

  it("a flow to pods that do not exist is dangling", async () => {
    const extra: Flow = { name: "to-nowhere", from: { namespace: "gateway", pods: { "app.kubernetes.io/component": "gateway" } }, to: { namespace: "vectordb", pods: { app: "ghost" } }, ports: [{ port: 1, protocol: "TCP" }], why: "test" };
    const i = await mutate((i) => ({ ...i, flows: [...i.flows, extra] }));
    expect(flowProblems(i)).toEqual(["flow to-nowhere: no pod matches its destination vectordb/{\"app\":\"ghost\"}"]);
  });

  it("a policy no flow asked for is reported, and so is a rule with no ports", async () => {
    const rogue: NetworkPolicyObject = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "allow-everything", namespace: "inference", labels: {} },
      spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: {} }] }] },
    };
    const i = await mutate((i) => ({ ...i, policies: [...i.policies, rogue] }));
    expect(ruleProblems(i)).toEqual(["NetworkPolicy inference/allow-everything: a rule allows all ports", "NetworkPolicy inference/allow-everything: carries no declared flow"]);
  });

  it("an API-server rule on the VPC range (which holds pod IPs) is reported", async () => {
    const i = await mutate((i) => {
      const flows = i.flows.map((f) => (f.name === "apiserver-to-keda-webhooks" ? { ...f, from: { cidrs: [i.facts.vpcCidr], role: "control-plane" as const } } : f));
      return { ...i, flows, policies: platformNetworkPolicies(flows, true) };
    });
    expect(ruleProblems(i)).toEqual([
      "NetworkPolicy keda/allow-ingress-apiserver-to-keda-webhooks: the control-plane rule names 10.42.0.0/16, which holds pod IPs (10.42.0.0/18)",
      "NetworkPolicy keda/allow-ingress-apiserver-to-keda-webhooks: the control-plane rule names 10.42.0.0/16, which holds pod IPs (10.42.64.0/18)",
      "NetworkPolicy keda/allow-ingress-apiserver-to-keda-webhooks: the control-plane rule names 10.42.0.0/16, which holds pod IPs (10.42.128.0/18)",
    ]);
  });

  it("a scrape no flow allows is denied", async () => {
    const i = await mutate((i) => ({ ...i, policies: i.policies.filter((p) => !p.metadata.name.includes("prometheus-scrapes-dcgm-exporter")) }));
    expect(scrapeProblems(i).length).toBeGreaterThan(0);
    expect(scrapeProblems(i).every((p) => /dcgm/.test(p) && /denied at (egress|ingress)$/.test(p))).toBe(true);
  });

  it("samples an address outside the exceptions", () => {
    expect(sampleIp({ cidrs: ["0.0.0.0/0"], except: ["0.0.0.0/8"], role: "internet" })).toBe("1.0.0.0");
    expect(sampleIp({ cidrs: ["10.0.0.0/28"], role: "control-plane" })).toBe("10.0.0.1");
  });
});
