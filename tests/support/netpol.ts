/**
 * A small NetworkPolicy evaluator with standard semantics (kubernetes.io, "Network Policies"): a
 * pod selected by no policy of a type is open for that type; once selected, only what some
 * policy allows passes (allows are additive); a connection needs egress at the source AND ingress
 * at the destination. It reads podSelector matchLabels, namespaceSelector on
 * kubernetes.io/metadata.name, ipBlock with except, and ports by number or by name (a named port
 * matches the destination pod's container port of that name).
 */
import type { NetworkPolicyObject } from "../../components/network-security";

export interface Pod {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ip?: string;
  /** Named container ports of the pod, for policies that name ports. */
  readonly ports?: Readonly<Record<string, number>>;
}
export type Destination = Pod | { readonly ip: string; readonly namespace?: undefined };

function matches(selector: { matchLabels?: Record<string, string> } | undefined, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

function ipToInt(ip: string): number {
  return ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/") as [string, string];
  const size = 2 ** (32 - Number(bits));
  const start = ipToInt(base) - (ipToInt(base) % size);
  return ipToInt(ip) >= start && ipToInt(ip) < start + size;
}

function peerMatches(peer: any, target: Destination): boolean {
  if (peer.ipBlock)
    return target.ip !== undefined && target.namespace === undefined && inCidr(target.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((e: string) => inCidr(target.ip, e));
  if (target.namespace === undefined) return false;
  const nsName = peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"];
  const nsOk = peer.namespaceSelector ? nsName === undefined || nsName === target.namespace : true;
  return nsOk && matches(peer.podSelector, (target).labels);
}

function portMatches(ports: readonly { port: number | string; protocol?: string }[] | undefined, port: number, protocol: string, dest: Destination): boolean {
  const named = (name: string) => (dest.namespace !== undefined ? dest.ports?.[name] : undefined);
  return !ports || ports.length === 0 || ports.some((p) => (typeof p.port === "string" ? named(p.port) === port : p.port === port) && (p.protocol ?? "TCP") === protocol);
}

function direction(policies: readonly NetworkPolicyObject[], pod: Pod, kind: "Ingress" | "Egress", peer: Destination, port: number, protocol: string): boolean {
  // The port is the destination's: the peer's at egress, the pod's own at ingress.
  const dest = kind === "Egress" ? peer : pod;
  const selecting = policies.filter((p) => p.metadata.namespace === pod.namespace && p.spec.policyTypes.includes(kind) && matches(p.spec.podSelector, pod.labels));
  if (selecting.length === 0) return true;
  return selecting.some((p) => {
    const rules = (kind === "Ingress" ? p.spec.ingress : p.spec.egress) ?? [];
    return rules.some((r: any) => {
      const peers = (kind === "Ingress" ? r.from : r.to) as unknown[] | undefined;
      const peerOk = !peers || peers.some((x) => peerMatches(x, peer));
      return peerOk && portMatches(r.ports, port, protocol, dest);
    });
  });
}

/** The two ends' verdicts on a connection: egress at the source, ingress at the destination. */
export function verdict(policies: readonly NetworkPolicyObject[], from: Destination, to: Destination, port: number, protocol: "TCP" | "UDP" = "TCP"): { egress: boolean; ingress: boolean } {
  return {
    egress: from.namespace === undefined || direction(policies, from, "Egress", to, port, protocol),
    ingress: to.namespace === undefined || direction(policies, to, "Ingress", from, port, protocol),
  };
}

/**
 * Is a connection from `from` to `to` on port/protocol allowed by the policies? Either end may
 * be outside the cluster ({ ip }): then only the in-cluster end's policies apply.
 */
export function allowed(policies: readonly NetworkPolicyObject[], from: Destination, to: Destination, port: number, protocol: "TCP" | "UDP" = "TCP"): boolean {
  const egress = from.namespace === undefined || direction(policies, from, "Egress", to, port, protocol);
  const ingress = to.namespace === undefined || direction(policies, to, "Ingress", from, port, protocol);
  return egress && ingress;
}
