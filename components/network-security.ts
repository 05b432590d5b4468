/**
 * NetworkSecurity: a default-deny NetworkPolicy in every platform namespace, then explicit
 * allows built from one flow table; the VPC CNI enforces them (cluster: vpc-cni
 * enableNetworkPolicy). Optionally Istio: mTLS STRICT, and an AuthorizationPolicy that lets
 * only the gateway's service account POST the completion endpoints of the model servers.
 *
 * A flow between two pods becomes two policies: an egress allow in the source namespace and an
 * ingress allow in the destination namespace. A flow to or from CIDRs becomes one.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../infra/catalog/versions";
import type { PlatformConfig } from "../infra/config";
import { namespaceArgs, release } from "./helm";
import { recommendedLabels } from "./labels";
import { NAMESPACES, type NamespaceKey } from "./namespaces";

export type Port = { readonly port: number; readonly protocol: "TCP" | "UDP" };
export interface PodPeer {
  readonly namespace: string;
  /** matchLabels on the pods; undefined = every pod in the namespace. */
  readonly pods?: Readonly<Record<string, string>>;
}
export interface CidrPeer {
  readonly cidrs: readonly string[];
}
export type Peer = PodPeer | CidrPeer;

export interface Flow {
  readonly name: string;
  readonly from: Peer;
  readonly to: Peer;
  /** Empty = all ports. */
  readonly ports: readonly Port[];
  readonly why: string;
}

const tcp = (...ports: number[]): Port[] => ports.map((port) => ({ port, protocol: "TCP" }));
const isCidr = (p: Peer): p is CidrPeer => "cidrs" in p;
const ns = (key: NamespaceKey) => NAMESPACES[key].name;
const component = (c: string) => ({ "app.kubernetes.io/component": c });

/** Pod labels the serving workloads carry (app.kubernetes.io/component). */
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

/** Ports the serving workloads listen on. */
export const PORTS = { vllm: 8000, tei: 80, milvus: 19530, safety: 8080, gateway: 4000, postgres: 5432, redis: 6379, prometheus: 9090, jaegerQuery: 16686, otlpGrpc: 4317, otlpHttp: 4318, vault: 8200 } as const;

/** EKS picks the service CIDR from the VPC range: 172.20.0.0/16 inside 10.0.0.0/8, else 10.100.0.0/16. */
export function serviceCidr(vpcCidr: string): string {
  return vpcCidr.startsWith("10.") ? "172.20.0.0/16" : "10.100.0.0/16";
}

/** The EKS Pod Identity agent answers on this link-local address on every node. */
export const POD_IDENTITY_AGENT = "169.254.170.23/32";

export interface FlowInputs {
  readonly vpcCidr: string;
  readonly vaultCidrs: readonly string[];
  readonly vaultPort: number;
  readonly tracing: boolean;
  readonly istio: boolean;
}

export const ISTIO_NS = "istio-system";

/** The platform's allowed flows. Everything else is denied. */
export function platformFlows(i: FlowInputs): Flow[] {
  const anywhere: CidrPeer = { cidrs: ["0.0.0.0/0"] };
  const apiServer: CidrPeer = { cidrs: [i.vpcCidr, serviceCidr(i.vpcCidr)] };
  const controlPlane: CidrPeer = { cidrs: [i.vpcCidr] };
  const all = Object.keys(NAMESPACES) as NamespaceKey[];
  const flows: Flow[] = [];

  for (const key of all) {
    flows.push({ name: `${ns(key)}-dns`, from: { namespace: ns(key) }, to: { namespace: "kube-system", pods: { "k8s-app": "kube-dns" } }, ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }], why: "DNS" });
    if (key !== "monitoring")
      flows.push({ name: `prometheus-scrapes-${ns(key)}`, from: { namespace: ns("monitoring"), pods: WORKLOAD.prometheus }, to: { namespace: ns(key) }, ports: [], why: "Prometheus scrapes metrics" });
  }
  for (const key of ["secrets", "autoscaling", "monitoring"] as const) {
    flows.push({ name: `${ns(key)}-to-apiserver`, from: { namespace: ns(key) }, to: apiServer, ports: tcp(443), why: "operators watch the Kubernetes API" });
    flows.push({ name: `apiserver-to-${ns(key)}`, from: controlPlane, to: { namespace: ns(key) }, ports: [], why: "the API server calls admission webhooks and the metrics API" });
  }
  flows.push(
    { name: "eso-to-vault", from: { namespace: ns("secrets") }, to: { cidrs: i.vaultCidrs }, ports: tcp(i.vaultPort), why: "External Secrets reads Vault" },
    { name: "keda-to-prometheus", from: { namespace: ns("autoscaling"), pods: WORKLOAD.kedaOperator }, to: { namespace: ns("monitoring"), pods: WORKLOAD.prometheus }, ports: tcp(PORTS.prometheus), why: "KEDA queries Prometheus" },
    { name: "alertmanager-to-receivers", from: { namespace: ns("monitoring"), pods: WORKLOAD.alertmanager }, to: anywhere, ports: tcp(443), why: "Alertmanager notifies Slack/PagerDuty" },
    { name: "gateway-to-inference", from: { namespace: ns("gateway"), pods: WORKLOAD.gateway }, to: { namespace: ns("inference"), pods: WORKLOAD.modelServer }, ports: tcp(PORTS.vllm), why: "the gateway routes completions" },
    { name: "gateway-to-embeddings", from: { namespace: ns("gateway"), pods: WORKLOAD.gateway }, to: { namespace: ns("embeddings") }, ports: tcp(PORTS.tei), why: "the gateway routes embeddings and rerank" },
    { name: "alb-to-gateway", from: { cidrs: [i.vpcCidr] }, to: { namespace: ns("gateway"), pods: WORKLOAD.gateway }, ports: tcp(PORTS.gateway), why: "the ALB reaches LiteLLM pods directly (IP targets)" },
    { name: "gateway-to-datastores", from: { namespace: ns("gateway") }, to: { cidrs: [i.vpcCidr] }, ports: tcp(PORTS.postgres, PORTS.redis), why: "LiteLLM (and its migration Job) reach RDS and ElastiCache in the private subnets" },
    { name: "gateway-to-safety", from: { namespace: ns("gateway"), pods: WORKLOAD.gateway }, to: { namespace: ns("safety"), pods: WORKLOAD.safety }, ports: tcp(PORTS.safety), why: "guardrail calls" },
    { name: "inference-to-embeddings", from: { namespace: ns("inference") }, to: { namespace: ns("embeddings") }, ports: tcp(PORTS.tei), why: "retrieval: embed and rerank" },
    { name: "inference-to-vectordb", from: { namespace: ns("inference") }, to: { namespace: ns("vectordb"), pods: WORKLOAD.vectorDb }, ports: tcp(PORTS.milvus), why: "retrieval: vector search" },
    { name: "inference-to-aws", from: { namespace: ns("inference") }, to: anywhere, ports: tcp(443), why: "model weights from S3 (gateway endpoint) and the Hugging Face fallback" },
    { name: "inference-to-pod-identity", from: { namespace: ns("inference") }, to: { cidrs: [POD_IDENTITY_AGENT] }, ports: tcp(80), why: "AWS credentials from the Pod Identity agent" },
    { name: "vectordb-to-aws", from: { namespace: ns("vectordb") }, to: anywhere, ports: tcp(443), why: "Milvus object storage on S3" },
    { name: "vectordb-to-pod-identity", from: { namespace: ns("vectordb") }, to: { cidrs: [POD_IDENTITY_AGENT] }, ports: tcp(80), why: "AWS credentials from the Pod Identity agent" },
    { name: "safety-to-azure", from: { namespace: ns("safety"), pods: WORKLOAD.safety }, to: anywhere, ports: tcp(443), why: "Azure AI Content Safety" },
  );
  if (i.tracing) {
    for (const key of ["inference", "embeddings", "gateway", "safety"] as const)
      flows.push({ name: `${ns(key)}-to-otel`, from: { namespace: ns(key) }, to: { namespace: ns("tracing"), pods: WORKLOAD.collector }, ports: tcp(PORTS.otlpGrpc, PORTS.otlpHttp), why: "OTLP traces" });
    flows.push({ name: "grafana-to-jaeger", from: { namespace: ns("monitoring"), pods: WORKLOAD.grafana }, to: { namespace: ns("tracing"), pods: WORKLOAD.jaeger }, ports: tcp(PORTS.jaegerQuery), why: "Grafana's Jaeger datasource" });
  }
  if (i.istio) {
    const istiod = { namespace: ISTIO_NS, pods: { app: "istiod" } };
    for (const [key, spec] of Object.entries(NAMESPACES) as [NamespaceKey, (typeof NAMESPACES)[NamespaceKey]][])
      if (spec.mesh) flows.push({ name: `${ns(key)}-to-istiod`, from: { namespace: ns(key) }, to: istiod, ports: tcp(15012), why: "sidecars get config and certificates from istiod" });
    flows.push(
      { name: "istio-system-dns", from: { namespace: ISTIO_NS }, to: { namespace: "kube-system", pods: { "k8s-app": "kube-dns" } }, ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }], why: "DNS" },
      { name: "istio-system-to-apiserver", from: { namespace: ISTIO_NS }, to: apiServer, ports: tcp(443), why: "istiod watches the Kubernetes API" },
      { name: "apiserver-to-istio-system", from: controlPlane, to: { namespace: ISTIO_NS }, ports: [], why: "the API server calls istiod's injection webhook" },
      { name: "prometheus-scrapes-istio-system", from: { namespace: ns("monitoring"), pods: WORKLOAD.prometheus }, to: { namespace: ISTIO_NS }, ports: [], why: "Prometheus scrapes istiod" },
    );
  }
  return flows;
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
  if (isCidr(p)) return p.cidrs.map((cidr) => ({ ipBlock: { cidr } }));
  return [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": p.namespace } }, podSelector: selector(p) }];
}

const withPorts = (ports: readonly Port[]) => (ports.length ? { ports: ports.map((p) => ({ ...p })) } : {});

export function defaultDeny(namespace: string): NetworkPolicyObject {
  return { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: meta("default-deny", namespace), spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } };
}

export function allowIntraNamespace(namespace: string): NetworkPolicyObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: meta("allow-same-namespace", namespace),
    spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [{ from: [{ podSelector: {} }] }], egress: [{ to: [{ podSelector: {} }] }] },
  };
}

/** The policies for one flow: egress at the source (for pods), ingress at the destination (for pods). */
export function flowPolicies(f: Flow): NetworkPolicyObject[] {
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

/** Every NetworkPolicy of the platform. */
export function platformNetworkPolicies(i: FlowInputs): NetworkPolicyObject[] {
  const names: { name: string; intraNamespace: boolean }[] = [...Object.values(NAMESPACES), ...(i.istio ? [{ name: ISTIO_NS, intraNamespace: true }] : [])];
  const base = names.flatMap((n) => [defaultDeny(n.name), ...(n.intraNamespace ? [allowIntraNamespace(n.name)] : [])]);
  return [...base, ...platformFlows(i).flatMap(flowPolicies)];
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

/** Only the gateway may POST completions; probes and metrics stay reachable. */
export function inferenceAuthorizationPolicy(): Record<string, unknown> {
  return {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: "model-server-callers", namespace: NAMESPACES.inference.name, labels: recommendedLabels("model-server-callers", "network-security") },
    spec: {
      selector: { matchLabels: { ...WORKLOAD.modelServer } },
      action: "ALLOW",
      rules: [
        { from: [{ source: { principals: [GATEWAY_PRINCIPAL] } }], to: [{ operation: { methods: ["POST"], paths: ["/v1/chat/completions", "/v1/completions"] } }] },
        { to: [{ operation: { methods: ["GET"], paths: ["/health", "/metrics"] } }] },
      ],
    },
  };
}

export interface NetworkSecurityArgs {
  readonly config: Pick<PlatformConfig, "networkSecurity" | "network" | "vault" | "observability" | "environment">;
  readonly k8sProvider: k8s.Provider;
  readonly namespaces: Readonly<Record<NamespaceKey, k8s.core.v1.Namespace>>;
}

export class NetworkSecurity extends pulumi.ComponentResource {
  constructor(name: string, args: NetworkSecurityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:network:NetworkSecurity", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.k8sProvider, dependsOn: Object.values(args.namespaces) };
    const c = args.config;
    const vaultPort = Number(new URL(c.vault.address).port || 443);
    const istio = c.networkSecurity.istio.enabled;
    const istioNs = istio ? new k8s.core.v1.Namespace(`${name}-istio-system`, namespaceArgs(ISTIO_NS, "network-security", "privileged"), { parent: this, provider: args.k8sProvider }) : undefined;
    for (const np of platformNetworkPolicies({ vpcCidr: c.network.vpcCidr, vaultCidrs: c.vault.cidrs, vaultPort, tracing: c.observability.tracing.enabled, istio })) {
      new k8s.networking.v1.NetworkPolicy(`${name}-${np.metadata.namespace}-${np.metadata.name}`, np as k8s.networking.v1.NetworkPolicyArgs, {
        ...k8sOpts,
        dependsOn: [...k8sOpts.dependsOn, ...(istioNs ? [istioNs] : [])],
      });
    }

    if (istioNs) {
      const inNs = { parent: this, provider: args.k8sProvider, dependsOn: [istioNs] };
      const base = release(`${name}-istio-base`, { name: "istio-base", namespace: ISTIO_NS, pin: CHARTS.istioBase, values: { defaultRevision: "default" } }, inNs);
      const istiod = release(
        `${name}-istiod`,
        {
          name: "istiod",
          namespace: ISTIO_NS,
          pin: CHARTS.istiod,
          values: { pilot: { replicaCount: c.environment === "prod" ? 2 : 1, autoscaleMin: c.environment === "prod" ? 2 : 1 }, meshConfig: { enablePrometheusMerge: true } },
        },
        { ...inNs, dependsOn: [istioNs, base] },
      );
      const crOpts = { parent: this, provider: args.k8sProvider, dependsOn: [istiod, ...Object.values(args.namespaces)] };
      new k8s.apiextensions.CustomResource(`${name}-mtls-strict`, peerAuthenticationStrict() as k8s.apiextensions.CustomResourceArgs, crOpts);
      new k8s.apiextensions.CustomResource(`${name}-inference-authz`, inferenceAuthorizationPolicy() as k8s.apiextensions.CustomResourceArgs, crOpts);
    }
    this.registerOutputs({});
  }
}
