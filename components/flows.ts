/**
 * Network flows: what each component declares it needs on the network. NetworkPolicies are
 * generated from these declarations (components/network-security.ts), never the other way round,
 * and the cluster model (tests/cluster/network.test.ts) proves that every declared flow passes
 * the generated policies at egress and at ingress, and that every allow rule carries a flow.
 *
 * Peers are pods (a namespace, and optionally matchLabels on the pods), or CIDRs with a role
 * that says what lives there. The roles matter: under the VPC CNI, pod IPs are VPC IPs, so a
 * rule meant for the API server or the load balancer must name the small subnets where only
 * they live (network.controlPlaneCidrs, network.publicCidrs), never a range that holds pods.
 */
import type { PlatformConfig } from "../infra/config";
import { planSubnets, subnetSpans } from "./network";

export type Protocol = "TCP" | "UDP";
export interface Port {
  readonly port: number;
  readonly protocol: Protocol;
}

export interface PodPeer {
  readonly namespace: string;
  /** matchLabels on the pods; undefined = every pod in the namespace. */
  readonly pods?: Readonly<Record<string, string>>;
}

/**
 * What a CIDR peer is. `nodes` and `datastores` overlap the pod subnets by nature (kubelet and
 * hostNetwork daemons run on node IPs; RDS and ElastiCache sit in the private subnets);
 * `control-plane`, `load-balancer`, `aws-endpoints` and `kubernetes-service` never may.
 */
export type CidrRole = "control-plane" | "kubernetes-service" | "load-balancer" | "nodes" | "datastores" | "aws-endpoints" | "pod-identity-agent" | "vault" | "internet";

export interface CidrPeer {
  readonly cidrs: readonly string[];
  /** Ranges inside `cidrs` that are excluded (ipBlock.except). */
  readonly except?: readonly string[];
  readonly role: CidrRole;
}

export type Peer = PodPeer | CidrPeer;

export interface Flow {
  readonly name: string;
  readonly from: Peer;
  readonly to: Peer;
  /** Never empty: no rule allows all ports. */
  readonly ports: readonly Port[];
  readonly why: string;
}

export const isCidr = (p: Peer): p is CidrPeer => "cidrs" in p;
export const tcp = (...ports: number[]): Port[] => ports.map((port) => ({ port, protocol: "TCP" }));
export const DNS_PORTS: readonly Port[] = [
  { port: 53, protocol: "UDP" },
  { port: 53, protocol: "TCP" },
];

/** Ports the platform's own workloads listen on. */
export const PORTS = { vllm: 8000, tei: 80, milvus: 19530, safety: 8080, gateway: 4000, postgres: 5432, redis: 6379, prometheus: 9090, jaegerQuery: 16686, otlpGrpc: 4317, otlpHttp: 4318, vault: 8200 } as const;

/** The EKS Pod Identity agent answers on this link-local address on every node (EKS user guide, pod-id-agent-setup). */
export const POD_IDENTITY_AGENT = "169.254.170.23/32";

/** EKS picks the service CIDR from the VPC range: 172.20.0.0/16 when the VPC is in 10.0.0.0/8, else 10.100.0.0/16 (EKS API, KubernetesNetworkConfig). */
export function serviceCidr(vpcCidr: string): string {
  return vpcCidr.startsWith("10.") ? "172.20.0.0/16" : "10.100.0.0/16";
}

/** The `kubernetes` Service's ClusterIP: the first address of the service CIDR. */
export function kubernetesServiceIp(vpcCidr: string): string {
  const [base] = serviceCidr(vpcCidr).split("/") as [string];
  const o = base.split(".").map(Number);
  return `${o[0]}.${o[1]}.${o[2]}.${o[3]! + 1}`;
}

/** The CIDRs of the network, as planned from config (components/network.ts), by role. */
export interface NetworkFacts {
  readonly vpcCidr: string;
  /** Private subnets: nodes and pods (VPC CNI), RDS and ElastiCache. */
  readonly privateCidrs: readonly string[];
  /** Public subnets: NAT gateways and load balancers; never a node or a pod. */
  readonly publicCidrs: readonly string[];
  /** Small subnets that hold only the EKS control plane's network interfaces. */
  readonly controlPlaneCidrs: readonly string[];
  /** Small subnets that hold only the interface VPC endpoints (S3, STS). */
  readonly endpointCidrs: readonly string[];
  readonly vaultCidrs: readonly string[];
  readonly vaultPort: number;
}

export function networkFacts(cfg: Pick<PlatformConfig, "network" | "vault">): NetworkFacts {
  const plan = planSubnets(cfg.network.vpcCidr, cfg.network.availabilityZones);
  const spans = subnetSpans(plan);
  return {
    vpcCidr: cfg.network.vpcCidr,
    privateCidrs: spans.private,
    publicCidrs: spans.public,
    controlPlaneCidrs: spans.controlPlane,
    endpointCidrs: spans.endpoints,
    vaultCidrs: cfg.vault.cidrs,
    vaultPort: Number(new URL(cfg.vault.address).port || 443),
  };
}

/** The peers every component names, from the network's facts. */
export function peers(n: NetworkFacts) {
  return {
    /** The API server as pods reach it: the kubernetes Service IP (DNAT'ed) and the control-plane ENIs. */
    apiServer: { cidrs: [...n.controlPlaneCidrs, `${kubernetesServiceIp(n.vpcCidr)}/32`], role: "control-plane" } satisfies CidrPeer,
    /** Where API-server-initiated calls (admission webhooks, aggregated APIs) come from. */
    controlPlane: { cidrs: [...n.controlPlaneCidrs], role: "control-plane" } satisfies CidrPeer,
    loadBalancers: { cidrs: [...n.publicCidrs], role: "load-balancer" } satisfies CidrPeer,
    nodes: { cidrs: [...n.privateCidrs], role: "nodes" } satisfies CidrPeer,
    datastores: { cidrs: [...n.privateCidrs], role: "datastores" } satisfies CidrPeer,
    /** S3 and STS through interface endpoints with private DNS (components/network.ts). */
    awsApis: { cidrs: [...n.endpointCidrs], role: "aws-endpoints" } satisfies CidrPeer,
    podIdentityAgent: { cidrs: [POD_IDENTITY_AGENT], role: "pod-identity-agent" } satisfies CidrPeer,
    vault: { cidrs: [...n.vaultCidrs], role: "vault" } satisfies CidrPeer,
    vaultPort: n.vaultPort,
    /** Anywhere outside the VPC. */
    internet: { cidrs: ["0.0.0.0/0"], except: [n.vpcCidr], role: "internet" } satisfies CidrPeer,
  };
}

export type Peers = ReturnType<typeof peers>;

/** Shorthand for a flow. */
export function flow(name: string, from: Peer, to: Peer, ports: readonly Port[], why: string): Flow {
  return { name, from, to, ports, why };
}

/** The flows a pod in `namespace` needs to reach AWS through Pod Identity: the agent, then S3/STS endpoints. */
export function awsAccessFlows(prefix: string, from: PodPeer, p: Peers, why: string): Flow[] {
  return [
    flow(`${prefix}-to-pod-identity-agent`, from, p.podIdentityAgent, tcp(80), `${why}: credentials from the EKS Pod Identity agent`),
    flow(`${prefix}-to-aws-apis`, from, p.awsApis, tcp(443), `${why}: S3 and STS through the interface endpoints`),
  ];
}
