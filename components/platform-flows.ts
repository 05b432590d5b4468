/**
 * Every flow the platform needs, as the components declare them from config. NetworkSecurity
 * turns this list into NetworkPolicies; the cluster model proves the policies admit each flow
 * at both ends and carry nothing else.
 */
import type { PlatformConfig } from "../infra/config";
import { autoscalingFlows } from "./autoscaling";
import { networkFacts, peers, PORTS, type Flow } from "./flows";
import { gatewayFlows } from "./gateway";
import { loadTestFlows } from "./load-test";
import { NAMESPACES } from "./namespaces";
import { TEI_METRICS_PORT } from "./embeddings";
import { dnsFlows, istioFlows, policedNamespaces, scrapeFlow, WORKLOAD } from "./network-security";
import { nvidiaFlows } from "./nvidia";
import { observabilityFlows } from "./observability";
import { ragFlows } from "./rag";
import { safetyFlows } from "./safety";
import { secretsFlows } from "./secrets";
import { servingFlows } from "./serving";
import { otlpFlow, tracingFlows } from "./tracing";
import { vectorDbFlows } from "./vector-db";

export function declaredFlows(cfg: PlatformConfig): Flow[] {
  const p = peers(networkFacts(cfg));
  const istio = cfg.networkSecurity.istio.enabled;
  const encoders = (["embed", "rerank"] as const).filter((r) => cfg.embeddings[r].enabled);
  // A namespace whose service is off keeps its default deny and gets no allow at all (no DNS, no
  // istiod): with safety disabled nothing runs in it, so nothing there may talk (issue 12).
  const idle = new Set<string>(cfg.safety.enabled ? [] : [NAMESPACES.safety.name]);
  const touchesIdle = (f: Flow) => [f.from, f.to].some((x) => "namespace" in x && idle.has(x.namespace));
  return [
    ...dnsFlows(policedNamespaces(istio)),
    ...secretsFlows(p),
    ...autoscalingFlows(p),
    ...observabilityFlows(cfg, p),
    ...(cfg.observability.tracing.enabled ? tracingFlows() : []),
    ...nvidiaFlows(),
    ...servingFlows(cfg, p),
    ...servingTelemetryFlows(cfg, encoders),
    ...vectorDbFlows(cfg, p),
    ...(cfg.safety.enabled ? safetyFlows(cfg, p) : []),
    ...(cfg.rag.enabled ? ragFlows(cfg, p) : []),
    ...loadTestFlows(cfg, p),
    ...(cfg.edge.enabled
      ? gatewayFlows(cfg, p, { models: Object.keys(cfg.models).length > 0, embeddings: encoders.includes("embed"), rerank: encoders.includes("rerank"), safety: cfg.safety.enabled })
      : []),
    ...(istio ? istioFlows(p) : []),
  ].filter((f) => !touchesIdle(f));
}

/**
 * Telemetry of the serving workloads, declared next to the monitors and exporters they configure:
 * Prometheus scrapes vLLM (ModelServer's ServiceMonitor) and TEI (Embeddings' ServiceMonitor, the
 * metrics port), and TEI (always, when tracing is on) and vLLM (observability.tracing.vllmTraces)
 * send OTLP to the collector.
 */
function servingTelemetryFlows(cfg: PlatformConfig, encoders: readonly ("embed" | "rerank")[]): Flow[] {
  const istio = cfg.networkSecurity.istio.enabled;
  const vllm = { namespace: NAMESPACES.inference.name, pods: WORKLOAD.modelServer };
  const tei = (role: "embed" | "rerank") => ({ namespace: NAMESPACES.embeddings.name, pods: role === "embed" ? WORKLOAD.embeddings : WORKLOAD.reranker });
  const t = cfg.observability.tracing;
  return [
    ...(Object.keys(cfg.models).length ? [scrapeFlow("model-servers", vllm, [PORTS.vllm], istio)] : []),
    ...encoders.map((r) => scrapeFlow(`tei-${r}`, tei(r), [TEI_METRICS_PORT], istio)),
    ...(t.enabled ? encoders.map((r) => otlpFlow(`tei-${r}`, tei(r))) : []),
    ...(t.enabled && t.vllmTraces && Object.keys(cfg.models).length ? [otlpFlow("model-servers", vllm)] : []),
  ];
}

/** The namespaces the flows may name: the platform's, istio-system, and kube-system (not policed). */
export const FLOW_NAMESPACES = [...Object.values(NAMESPACES).map((n) => n.name), "istio-system", "kube-system"];
