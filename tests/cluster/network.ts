/**
 * Cluster-model check 3: network flows.
 *
 * The components declare the flows they need (components/platform-flows.ts); NetworkSecurity
 * renders NetworkPolicies from them. Over the rendered policies and the model's pods:
 * - every declared flow is allowed at egress (source end) and at ingress (destination end), for
 *   every pod its peers select; a pod peer that selects no pod is a dangling flow;
 * - every allow rule of every policy carries at least one declared flow (no policy exists that no
 *   flow asked for), and no rule allows all ports;
 * - no rule meant for the API server, the load balancers or the AWS endpoints names a CIDR that
 *   holds pods (under the VPC CNI, pod IPs are the private subnets' IPs);
 * - every scrape Prometheus will do (tests/cluster/monitoring.ts scrapeTargets) passes.
 * The evaluator is tests/support/netpol.ts (standard NetworkPolicy semantics).
 */
import { isCidr, type CidrPeer, type Flow, type NetworkFacts, type Peer } from "../../components/flows";
import { flowPolicies, type NetworkPolicyObject } from "../../components/network-security";
import { inCidr, verdict, type Destination, type Pod } from "../support/netpol";
import type { ClusterModel, PodTemplate } from "./model";
import { matchLabels } from "./model";
import { prometheusSource, scrapeTargets } from "./monitoring";

export interface NetworkInput {
  readonly model: ClusterModel;
  readonly flows: readonly Flow[];
  readonly policies: readonly NetworkPolicyObject[];
  readonly facts: NetworkFacts;
}

/** JSON with sorted keys: recorded inputs and built objects compare by content, not key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

const toInt = (ip: string) => ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");

function range(cidr: string): [number, number] {
  const [base, bits] = cidr.split("/") as [string, string];
  const size = 2 ** (32 - Number(bits));
  const start = toInt(base) - (toInt(base) % size);
  return [start, start + size - 1];
}

/** Do two CIDRs share an address? */
export function overlaps(a: string, b: string): boolean {
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 <= b1 && b0 <= a1;
}

/** An address in the peer's CIDRs and outside its exceptions, to stand for the peer. */
export function sampleIp(p: CidrPeer): string {
  for (const c of p.cidrs) {
    const [first, end] = range(c);
    const start = Math.min(first + 1, end);
    for (let n = start; n <= end; ) {
      const ex = (p.except ?? []).find((e) => inCidr(toIp(n), e));
      if (!ex) return toIp(n);
      n = range(ex)[1] + 1;
    }
  }
  throw new Error(`no address in ${p.cidrs.join(",")} outside ${(p.except ?? []).join(",")}`);
}

function asPod(p: PodTemplate): Pod {
  const ports: Record<string, number> = {};
  for (const c of [...(p.spec.initContainers ?? []), ...(p.spec.containers ?? [])]) for (const cp of c.ports ?? []) if (cp.name) ports[cp.name] = cp.containerPort;
  return { namespace: p.namespace, labels: p.labels, ports };
}

function describe(p: Peer): string {
  return isCidr(p) ? `${p.role} ${p.cidrs.join(",")}` : `${p.namespace}/${JSON.stringify(p.pods ?? {})}`;
}

/** The pods (or a sample address) that stand for a peer. */
function ends(m: ClusterModel, p: Peer): { id: string; dest: Destination }[] {
  if (isCidr(p)) return [{ id: `${p.role} ${sampleIp(p)}`, dest: { ip: sampleIp(p) } }];
  return m.pods.filter((x) => x.namespace === p.namespace && matchLabels(p.pods, x.labels) && !x.spec.hostNetwork).map((x) => ({ id: x.origin, dest: asPod(x) }));
}

/** Every declared flow passes at both ends, for every pod its peers select. */
export function flowProblems(i: NetworkInput): string[] {
  const out: string[] = [];
  for (const f of i.flows) {
    if (f.ports.length === 0) out.push(`flow ${f.name}: names no port (no rule may allow all ports)`);
    const src = ends(i.model, f.from);
    const dst = ends(i.model, f.to);
    if (src.length === 0) out.push(`flow ${f.name}: no pod matches its source ${describe(f.from)}`);
    if (dst.length === 0) out.push(`flow ${f.name}: no pod matches its destination ${describe(f.to)}`);
    for (const port of f.ports)
      for (const s of src)
        for (const d of dst) {
          const v = verdict(i.policies, s.dest, d.dest, port.port, port.protocol);
          if (!v.egress) out.push(`flow ${f.name}: ${s.id} -> ${d.id} :${port.port}/${port.protocol} is denied at egress`);
          if (!v.ingress) out.push(`flow ${f.name}: ${s.id} -> ${d.id} :${port.port}/${port.protocol} is denied at ingress`);
        }
  }
  return out;
}

const ROLES_THAT_MAY_HOLD_PODS = new Set<CidrPeer["role"]>(["nodes", "datastores"]);

/**
 * Every allow rule carries a declared flow; no rule allows all ports; no CIDR rule other than
 * for nodes and datastores (which share the private subnets by nature) holds pod IPs.
 */
export function ruleProblems(i: NetworkInput): string[] {
  const out: string[] = [];
  const expected = new Map<string, { flow: Flow; spec: string }[]>();
  for (const f of i.flows)
    for (const np of flowPolicies(f)) {
      const key = np.metadata.namespace;
      expected.set(key, [...(expected.get(key) ?? []), { flow: f, spec: canonical(np.spec) }]);
    }
  for (const np of i.policies) {
    const id = `NetworkPolicy ${np.metadata.namespace}/${np.metadata.name}`;
    const rules = [...(np.spec.ingress ?? []), ...(np.spec.egress ?? [])];
    if (rules.length === 0) continue; // a default deny
    for (const r of rules) if (!r.ports || r.ports.length === 0) out.push(`${id}: a rule allows all ports`);
    const carrier = (expected.get(np.metadata.namespace) ?? []).find((e) => e.spec === canonical(np.spec));
    if (!carrier) {
      out.push(`${id}: carries no declared flow`);
      continue;
    }
    const peersOf = [carrier.flow.from, carrier.flow.to].filter(isCidr);
    for (const p of peersOf) {
      if (ROLES_THAT_MAY_HOLD_PODS.has(p.role)) continue;
      for (const c of p.cidrs)
        for (const pod of i.facts.privateCidrs)
          if (overlaps(c, pod) && !(p.except ?? []).some((e) => range(e)[0] <= range(pod)[0] && range(pod)[1] <= range(e)[1]))
            out.push(`${id}: the ${p.role} rule names ${c}, which holds pod IPs (${pod})`);
    }
  }
  return out;
}

/** Every scrape Prometheus will do passes the policies. */
export function scrapeProblems(i: NetworkInput): string[] {
  const prom = prometheusSource(i.model);
  if (!prom) return ["no Prometheus in the model"];
  const from: Pod = { namespace: prom.namespace, labels: prom.labels };
  const out: string[] = [];
  for (const t of scrapeTargets(i.model)) {
    const to: Destination =
      t.to.kind === "pod"
        ? { namespace: t.to.namespace, labels: t.to.labels }
        : t.to.kind === "host"
          ? { ip: sampleIp({ cidrs: i.facts.privateCidrs, role: "nodes" }) }
          : { ip: sampleIp({ cidrs: i.facts.controlPlaneCidrs, role: "control-plane" }) };
    const v = verdict(i.policies, from, to, t.port, "TCP");
    if (!v.egress || !v.ingress) out.push(`${t.monitor}: Prometheus -> ${t.to.kind === "pod" ? t.to.pod : t.to.kind} :${t.port} is denied at ${!v.egress ? "egress" : "ingress"}`);
  }
  return out;
}

export function networkProblems(i: NetworkInput): string[] {
  return [...flowProblems(i), ...ruleProblems(i), ...scrapeProblems(i)];
}
