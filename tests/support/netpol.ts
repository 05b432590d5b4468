/**
 * A small NetworkPolicy evaluator, for the constructs the platform uses (podSelector
 * matchLabels, namespaceSelector on kubernetes.io/metadata.name, ipBlock, ports), with
 * Kubernetes semantics: a pod selected by no policy of a type is open for that type; once
 * selected, only what some policy allows passes; a connection needs egress at the source AND
 * ingress at the destination.
 */
import type { NetworkPolicyObject } from "../../components/network-security";

export interface Pod {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ip?: string;
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
  if (peer.ipBlock) return target.ip !== undefined && target.namespace === undefined && inCidr(target.ip, peer.ipBlock.cidr);
  if (target.namespace === undefined) return false;
  const nsName = peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"];
  const nsOk = peer.namespaceSelector ? nsName === undefined || nsName === target.namespace : true;
  return nsOk && matches(peer.podSelector, (target).labels);
}

function portMatches(ports: readonly { port: number; protocol: string }[] | undefined, port: number, protocol: string): boolean {
  return !ports || ports.length === 0 || ports.some((p) => p.port === port && p.protocol === protocol);
}

function direction(policies: readonly NetworkPolicyObject[], pod: Pod, kind: "Ingress" | "Egress", peer: Destination, port: number, protocol: string): boolean {
  const selecting = policies.filter((p) => p.metadata.namespace === pod.namespace && p.spec.policyTypes.includes(kind) && matches(p.spec.podSelector, pod.labels));
  if (selecting.length === 0) return true;
  return selecting.some((p) => {
    const rules = (kind === "Ingress" ? p.spec.ingress : p.spec.egress) ?? [];
    return rules.some((r: any) => {
      const peers = (kind === "Ingress" ? r.from : r.to) as unknown[] | undefined;
      const peerOk = !peers || peers.some((x) => peerMatches(x, peer));
      return peerOk && portMatches(r.ports, port, protocol);
    });
  });
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
