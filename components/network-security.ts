/**
 * NetworkSecurity: a default-deny NetworkPolicy in every platform namespace, then one allow per
 * declared flow (components/flows.ts); the VPC CNI enforces them (cluster: vpc-cni
 * enableNetworkPolicy). Components declare the flows they need (components/platform-flows.ts
 * collects them from config); policies come from the flows, never the other way round.
 * Optionally Istio: mTLS STRICT, Istio CNI (so injected pods need no NET_ADMIN), and an
 * AuthorizationPolicy that lets only the gateway's service account POST the completion
 * endpoints of the model servers.
 *
 * A flow between two pods becomes two policies: an egress allow in the source namespace and an
 * ingress allow in the destination namespace. A flow to or from CIDRs becomes one.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../infra/catalog/versions";
import type { PlatformConfig } from "../infra/config";
import { DNS_PORTS, flow, isCidr, tcp, type CidrPeer, type Flow, type Peer, type Peers, type PodPeer, type Port } from "./flows";
import { namespaceArgs, release } from "./helm";
import { recommendedLabels } from "./labels";
import { NAMESPACES, type NamespaceKey } from "./namespaces";

export { PORTS, POD_IDENTITY_AGENT, serviceCidr } from "./flows";
export type { CidrPeer, Flow, Peer, PodPeer, Port } from "./flows";

const component = (c: string) => ({ "app.kubernetes.io/component": c });

/** Pod labels the workloads carry; chart pods' labels as their templates set them (tests/cluster/charts.ts). */
export const WORKLOAD = {
  modelServer: component("model-server"),
  embeddings: component("embeddings"),
  reranker: component("reranker"),
  vectorDb: { "app.kubernetes.io/name": "milvus" },
  safety: component("safety"),
  gateway: component("gateway"),
  prometheus: { "app.kubernetes.io/name": "prometheus" },
  grafana: { "app.kubernetes.io/name": "grafana" },
  alertmanager: { "app.kubernetes.io/name": "alertmanager" },
  kedaOperator: { "app.kubernetes.io/name": "keda-operator" },
  collector: { "app.kubernetes.io/name": "opentelemetry-collector" },
  jaeger: { "app.kubernetes.io/name": "jaeger" },
} as const;

export const ISTIO_NS = "istio-system";
/** istiod's ports (istio.io "Ports used by Istio"): xDS/CA for sidecars, the injection webhook. istiod's own metrics (15014) are not scraped: no monitor selects them. */
export const ISTIOD_PORTS = { xds: 15012, webhook: 15017 } as const;
/** The sidecar's merged Prometheus endpoint (istio.io "Prometheus integration", metrics merging). */
export const ISTIO_MERGED_METRICS_PORT = 15020;

/** Prometheus (kube-prometheus-stack) as a flow source. */
export const PROMETHEUS: PodPeer = { namespace: NAMESPACES.monitoring.name, pods: WORKLOAD.prometheus };

/** Is the namespace in the Istio mesh (sidecars injected, STRICT mTLS)? */
export function meshed(namespace: string, istio: boolean): boolean {
  return istio && Object.values(NAMESPACES).some((n) => n.name === namespace && n.mesh);
}

/**
 * Prometheus scraping a workload. In a meshed namespace under STRICT mTLS, Prometheus (outside
 * the mesh) scrapes the sidecar's merged plaintext endpoint instead of the app's port.
 */
export function scrapeFlow(name: string, target: PodPeer, ports: readonly number[], istio: boolean, why = "Prometheus scrapes metrics"): Flow {
  return flow(`prometheus-scrapes-${name}`, PROMETHEUS, target, tcp(...(meshed(target.namespace, istio) ? [ISTIO_MERGED_METRICS_PORT] : ports)), why);
}

/** DNS for every pod of every platform namespace (CoreDNS in kube-system, k8s-app=kube-dns). */
export function dnsFlows(namespaces: readonly string[]): Flow[] {
  return namespaces.map((n) => flow(`${n}-dns`, { namespace: n }, { namespace: "kube-system", pods: { "k8s-app": "kube-dns" } }, DNS_PORTS, "DNS"));
}

/** Istio's own flows: sidecars to istiod, istiod to and from the API server. */
export function istioFlows(p: Peers): Flow[] {
  const istiod: PodPeer = { namespace: ISTIO_NS, pods: { app: "istiod" } };
  const out: Flow[] = [];
  for (const spec of Object.values(NAMESPACES)) if (spec.mesh) out.push(flow(`${spec.name}-to-istiod`, { namespace: spec.name }, istiod, tcp(ISTIOD_PORTS.xds), "sidecars get config and certificates from istiod"));
  out.push(
    flow("istiod-to-apiserver", istiod, p.apiServer, tcp(443), "istiod watches the Kubernetes API"),
    flow("apiserver-to-istiod", p.controlPlane, istiod, tcp(ISTIOD_PORTS.webhook), "the API server calls istiod's injection and validation webhooks"),
  );
  return out;
}

export interface NetworkPolicyObject {
  readonly apiVersion: "networking.k8s.io/v1";
  readonly kind: "NetworkPolicy";
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Record<string, string> };
  readonly spec: {
    readonly podSelector: { readonly matchLabels?: Record<string, string> };
    readonly policyTypes: readonly ("Ingress" | "Egress")[];
    readonly ingress?: readonly { readonly from?: readonly unknown[]; readonly ports?: readonly Port[] }[];
    readonly egress?: readonly { readonly to?: readonly unknown[]; readonly ports?: readonly Port[] }[];
  };
}

function meta(name: string, namespace: string): NetworkPolicyObject["metadata"] {
  return { name, namespace, labels: recommendedLabels(name, "network-security") };
}

function selector(p: PodPeer): { matchLabels?: Record<string, string> } {
  return p.pods ? { matchLabels: { ...p.pods } } : {};
}

function peerRef(p: Peer): unknown[] {
  if (isCidr(p)) return p.cidrs.map((cidr) => ({ ipBlock: { cidr, ...(exceptWithin(p, cidr).length ? { except: exceptWithin(p, cidr) } : {}) } }));
  return [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": p.namespace } }, podSelector: selector(p) }];
}

/** ipBlock.except must lie inside its cidr: keep the excepted ranges that do. */
function exceptWithin(p: CidrPeer, cidr: string): string[] {
  const [base, bits] = cidr.split("/") as [string, string];
  const toInt = (ip: string) => ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  const start = toInt(base);
  return (p.except ?? []).filter((e) => {
    const [eb, ebits] = e.split("/") as [string, string];
    return Number(ebits) > Number(bits) && toInt(eb) >= start && toInt(eb) < start + size;
  });
}

const withPorts = (ports: readonly Port[]) => ({ ports: ports.map((p) => ({ ...p })) });

export function defaultDeny(namespace: string): NetworkPolicyObject {
  return { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: meta("default-deny", namespace), spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } };
}

/** The policies for one flow: egress at the source (for pods), ingress at the destination (for pods). */
export function flowPolicies(f: Flow): NetworkPolicyObject[] {
  if (f.ports.length === 0) throw new Error(`flow ${f.name}: a flow names its ports; no rule allows all ports`);
  const out: NetworkPolicyObject[] = [];
  if (!isCidr(f.from))
    out.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta(`allow-egress-${f.name}`, f.from.namespace),
      spec: { podSelector: selector(f.from), policyTypes: ["Egress"], egress: [{ to: peerRef(f.to), ...withPorts(f.ports) }] },
    });
  if (!isCidr(f.to) && f.to.namespace !== "kube-system")
    out.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta(`allow-ingress-${f.name}`, f.to.namespace),
      spec: { podSelector: selector(f.to), policyTypes: ["Ingress"], ingress: [{ from: peerRef(f.from), ...withPorts(f.ports) }] },
    });
  return out;
}

/** The namespaces that get a default deny: every platform namespace, and istio-system with Istio. */
export function policedNamespaces(istio: boolean): string[] {
  return [...Object.values(NAMESPACES).map((n) => n.name), ...(istio ? [ISTIO_NS] : [])];
}

/** Every NetworkPolicy of the platform: default deny where it polices, one allow per flow end. */
export function platformNetworkPolicies(flows: readonly Flow[], istio: boolean): NetworkPolicyObject[] {
  const names = new Set<string>();
  for (const f of flows) if (names.has(f.name)) throw new Error(`two flows are named ${f.name}`);
  else names.add(f.name);
  return [...policedNamespaces(istio).map(defaultDeny), ...flows.flatMap(flowPolicies)];
}

// ---------------------------------------------------------------------------------------------
// Istio

export const GATEWAY_PRINCIPAL = `cluster.local/ns/${NAMESPACES.gateway.name}/sa/litellm`;

export function peerAuthenticationStrict(): Record<string, unknown> {
  return {
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: { name: "default", namespace: ISTIO_NS, labels: recommendedLabels("mesh-mtls", "network-security") },
    spec: { mtls: { mode: "STRICT" } },
  };
}

/**
 * Only the gateway may POST completions (and `callers`: the load-test Jobs' principal when
 * loadTest is on, for their direct run); probes and metrics stay reachable.
 */
export function inferenceAuthorizationPolicy(callers: readonly string[] = []): Record<string, unknown> {
  return {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: "model-server-callers", namespace: NAMESPACES.inference.name, labels: recommendedLabels("model-server-callers", "network-security") },
    spec: {
      selector: { matchLabels: { ...WORKLOAD.modelServer } },
      action: "ALLOW",
      rules: [
        { from: [{ source: { principals: [GATEWAY_PRINCIPAL, ...callers] } }], to: [{ operation: { methods: ["POST"], paths: ["/v1/chat/completions", "/v1/completions"] } }] },
        { to: [{ operation: { methods: ["GET"], paths: ["/health", "/metrics"] } }] },
      ],
    },
  };
}

export interface NetworkSecurityArgs {
  readonly config: Pick<PlatformConfig, "networkSecurity">;
  /** Every flow the components declared (components/platform-flows.ts). */
  readonly flows: readonly Flow[];
  readonly k8sProvider: k8s.Provider;
  readonly namespaces: Readonly<Record<NamespaceKey, k8s.core.v1.Namespace>>;
  /** Istio principals besides the gateway that may POST completions to vLLM (components/load-test.ts LOAD_TEST_PRINCIPAL). */
  readonly inferenceCallers?: readonly string[];
}

/**
 * istiod's values. With Istio CNI, the injector adds the unprivileged istio-validation init
 * container instead of istio-init (NET_ADMIN, NET_RAW), so injected pods pass Pod Security
 * baseline and restricted (istio.io, "Install Istio with Pod Security Admission"; istiod chart
 * values pilot.cni.enabled).
 */
export function istiodValues(replicas: number): Record<string, unknown> {
  return { pilot: { replicaCount: replicas, autoscaleMin: replicas, cni: { enabled: true } }, meshConfig: { enablePrometheusMerge: true } };
}

export class NetworkSecurity extends pulumi.ComponentResource {
  /** What meshed workloads wait for: the sidecar injector and the CNI node agent. Empty without Istio. */
  public readonly meshReady: pulumi.Resource[];
  /** The release that installs Istio's CRDs (PeerAuthentication, AuthorizationPolicy); undefined without Istio. */
  public readonly istioCrds?: pulumi.Resource;

  constructor(name: string, args: NetworkSecurityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:network:NetworkSecurity", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.k8sProvider, dependsOn: Object.values(args.namespaces) };
    const c = args.config;
    const istio = c.networkSecurity.istio.enabled;
    const istioNs = istio ? new k8s.core.v1.Namespace(`${name}-istio-system`, namespaceArgs(ISTIO_NS, "network-security", "privileged"), { parent: this, provider: args.k8sProvider }) : undefined;
    for (const np of platformNetworkPolicies(args.flows, istio)) {
      new k8s.networking.v1.NetworkPolicy(`${name}-${np.metadata.namespace}-${np.metadata.name}`, np as k8s.networking.v1.NetworkPolicyArgs, {
        ...k8sOpts,
        dependsOn: [...k8sOpts.dependsOn, ...(istioNs ? [istioNs] : [])],
      });
    }

    if (istioNs) {
      const inNs = { parent: this, provider: args.k8sProvider, dependsOn: [istioNs] };
      const base = release(`${name}-istio-base`, { name: "istio-base", namespace: ISTIO_NS, pin: CHARTS.istioBase, values: { defaultRevision: "default" } }, inNs);
      const cni = release(`${name}-istio-cni`, { name: "istio-cni", namespace: ISTIO_NS, pin: CHARTS.istioCni, values: {} }, { ...inNs, dependsOn: [istioNs, base] });
      const istiod = release(
        `${name}-istiod`,
        { name: "istiod", namespace: ISTIO_NS, pin: CHARTS.istiod, values: istiodValues(c.networkSecurity.istio.istiodReplicas) },
        { ...inNs, dependsOn: [istioNs, base, cni] },
      );
      this.meshReady = [istiod, cni];
      this.istioCrds = base;
      const crOpts = { parent: this, provider: args.k8sProvider, dependsOn: [base, istiod, ...Object.values(args.namespaces)] };
      new k8s.apiextensions.CustomResource(`${name}-mtls-strict`, peerAuthenticationStrict() as k8s.apiextensions.CustomResourceArgs, crOpts);
      new k8s.apiextensions.CustomResource(`${name}-inference-authz`, inferenceAuthorizationPolicy(args.inferenceCallers) as k8s.apiextensions.CustomResourceArgs, crOpts);
    } else this.meshReady = [];
    this.registerOutputs({});
  }
}
