/**
 * The platform's alert rules (a PrometheusRule), built from config. Every metric comes from
 * infra/catalog/metrics.ts; every alert has a summary, a description and a runbook section in
 * docs/runbooks.md (anchor = the alert name in lower case).
 *
 * The seed's four alerts on real metric names (queue depth, GPU utilization, model down, error
 * rate), plus SLO alerts on p95 TTFT and p95 end-to-end latency per model, KV-cache
 * saturation, GPU memory, new XID events (critical only for the codes that mean the node must
 * go), TEI queue and Milvus search latency, the safety service's Azure dependency.
 *
 * Thresholds that an SLO sets come from config (`models.<k>.slo`, `slo.*`): the model error
 * ratio, the gateway error ratio and the vector-DB latency. The SLOs' burn-rate alerts are in
 * components/slo-rules.ts.
 */
import { METRICS as M } from "../infra/catalog/metrics";
import type { PlatformConfig } from "../infra/config";
import { sloSchema } from "../infra/config/slo";
import { recommendedLabels } from "./labels";
import { NAMESPACES } from "./namespaces";

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: "critical" | "warning" | "info"; readonly [k: string]: string };
  readonly annotations: { readonly summary: string; readonly description: string; readonly runbook_url: string };
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

const INFERENCE_NS = NAMESPACES.inference.name;
const EMBEDDINGS_NS = NAMESPACES.embeddings.name;

/** The runbook link for an alert: docs/runbooks.md#<alert in lower case>. */
export function runbookUrl(base: string, alert: string): string {
  return `${base}#${alert.toLowerCase()}`;
}

/**
 * XID alerts. DCGM_FI_DEV_XID_ERRORS is a gauge holding the last XID code the driver reported,
 * not a count (dcgm-exporter etc/default-counters.csv, 4.5.3-4.8.2: "gauge, Value of the last XID
 * error encountered"), so `> 0` stays true forever after one XID. An XID event is a change of
 * that value within a window; the value is then the code. Limitation: the same code twice in a
 * row is not a change, and is seen once.
 *
 * Codes that mean the node must be drained and replaced (the set in upstream-facts §12; meanings
 * from NVIDIA's Xid catalog, docs.nvidia.com/deploy/xid-errors/analyzing-xid-catalog.html, which
 * gives each code a resolution, and "Dynamic Page Retirement",
 * docs.nvidia.com/deploy/dynamic-page-retirement/visibility.html for 48/63/64):
 * 48 double-bit ECC error, 63 page retirement / row remap pending, 64 retirement or remap failure,
 * 74 NVLink error, 79 GPU has fallen off the bus, 92 high single-bit ECC rate, 94 contained ECC
 * error, 95 uncontained ECC error. The others (13, 31, 43, ...) are usually the application's.
 */
export const XID_DRAIN_CODES = [48, 63, 64, 74, 79, 92, 94, 95] as const;
/** How long after a drain-class XID the critical alert stays active (the gauge keeps the code; the change is what is new). */
export const XID_CRITICAL_WINDOW = "1h";
export const XID_WARNING_WINDOW = "15m";

/** Series of GPUs whose last XID changed within the window, valued with that XID code. */
function newXid(window: string): string {
  return `(${M.dcgm.xidErrors} > 0 and changes(${M.dcgm.xidErrors}[${window}]) > 0)`;
}

export function xidCriticalExpr(): string {
  const x = newXid(XID_CRITICAL_WINDOW);
  return `max by (Hostname, gpu) (${XID_DRAIN_CODES.map((c) => `${x} == ${c}`).join(" or ")})`;
}

export function xidWarningExpr(): string {
  return `max by (Hostname, gpu) (${newXid(XID_WARNING_WINDOW)}${XID_DRAIN_CODES.map((c) => ` != ${c}`).join("")})`;
}

export interface AlertInputs {
  readonly models: PlatformConfig["models"];
  readonly runbookBaseUrl: string;
  /** The services' SLOs; the seed's defaults when left out. */
  readonly slo?: PlatformConfig["slo"];
  /** The safety service's alerts are rendered when it is enabled (default). */
  readonly safety?: { readonly enabled: boolean };
}

/** A ratio as PromQL writes it, without float noise (0.1% -> 0.001). */
const ratio = (pct: number) => Math.round((pct / 100) * 1e8) / 1e8;

export function alertRuleGroups(i: AlertInputs): RuleGroup[] {
  const rb = (a: string) => runbookUrl(i.runbookBaseUrl, a);
  const sloCfg = i.slo ?? sloSchema.parse({});
  // The namespace-wide 5xx alert uses the strictest model objective (seed: < 0.1% errors).
  const modelErrorPct = Math.min(0.1, ...Object.values(i.models).map((m) => 100 - (m?.slo.availabilityPct ?? 99.9)));
  const gatewayErrorPct = 100 - sloCfg.gateway.availabilityPct;
  const vdbQuantile = ratio(100 - sloCfg.vectorDb.latencyBudgetPct);
  const rule = (alert: string, expr: string, forDur: string, severity: AlertRule["labels"]["severity"], summary: string, description: string, labels: Record<string, string> = {}): AlertRule => ({
    alert,
    expr,
    for: forDur,
    labels: { severity, ...labels },
    annotations: { summary, description, runbook_url: rb(alert) },
  });

  const inference: AlertRule[] = [
    rule(
      "VLLMQueueDepthHigh",
      `sum by (model_name) (${M.vllm.numRequestsWaiting}) > 20`,
      "5m",
      "warning",
      "{{ $labels.model_name }}: {{ $value }} requests waiting",
      "More than 20 requests have waited for a free slot for 5 minutes. KEDA should be adding replicas; if it is at its maximum or GPUs are unavailable, requests queue up and TTFT grows.",
    ),
    rule(
      "VLLMModelDown",
      `(sum by (namespace, deployment) (${M.kube.deploymentSpecReplicas}{namespace="${INFERENCE_NS}"}) > 0) and (sum by (namespace, deployment) (${M.kube.deploymentAvailableReplicas}{namespace="${INFERENCE_NS}"}) == 0)`,
      "5m",
      "critical",
      "{{ $labels.deployment }} has no available replica",
      "The model server should run at least one replica but none is ready (a scaled-to-zero model is not down). Its /health fails or its pods cannot start.",
    ),
    rule(
      "VLLMTargetDown",
      `${M.kube.up}{namespace="${INFERENCE_NS}"} == 0`,
      "5m",
      "warning",
      "{{ $labels.pod }} is not answering /metrics",
      "Prometheus cannot scrape a model-server pod that exists: the engine may be dead (/health returns 503 on EngineDeadError).",
    ),
    rule(
      "VLLMHighErrorRate",
      `sum by (namespace) (rate(${M.http.requestsTotal}{namespace="${INFERENCE_NS}", status=~"5.."}[5m])) / sum by (namespace) (rate(${M.http.requestsTotal}{namespace="${INFERENCE_NS}"}[5m])) > ${ratio(modelErrorPct)}`,
      "10m",
      "critical",
      "HTTP 5xx ratio {{ $value | humanizePercentage }} in {{ $labels.namespace }}",
      `More than ${Math.round(modelErrorPct * 1e6) / 1e6}% of requests to the model servers fail with a 5xx, above the strictest model error budget (100 - models.<k>.slo.availabilityPct).`,
    ),
    rule(
      "VLLMRequestsAborted",
      `sum by (model_name) (rate(${M.vllm.requestSuccess}{finished_reason="abort"}[5m])) / sum by (model_name) (rate(${M.vllm.requestSuccess}[5m])) > 0.01`,
      "10m",
      "warning",
      "{{ $labels.model_name }}: {{ $value | humanizePercentage }} of requests aborted",
      "More than 1% of finished requests ended with finished_reason=abort (client disconnects, timeouts or engine errors).",
    ),
    rule(
      "VLLMKVCacheSaturated",
      `max by (model_name) (${M.vllm.kvCacheUsagePerc}) > 0.95`,
      "10m",
      "warning",
      "{{ $labels.model_name }}: KV cache {{ $value | humanizePercentage }} full",
      "The KV cache has been above 95% for 10 minutes; vLLM preempts requests when it runs out, which shows as latency spikes.",
    ),
    rule(
      "VLLMPreemptions",
      `sum by (model_name) (rate(${M.vllm.numPreemptions}[5m])) > 0.1`,
      "10m",
      "warning",
      "{{ $labels.model_name }} is preempting requests",
      "Requests are being preempted for lack of KV-cache blocks: add replicas, lower max-num-seqs or max-model-len.",
    ),
  ];

  const slo: AlertRule[] = Object.entries(i.models).flatMap(([model, m]) => {
    const ttft = m.slo.ttftP95Ms / 1000;
    const e2e = m.slo.e2eP95Ms / 1000;
    return [
      rule(
        "VLLMTTFTSLOBreach",
        `histogram_quantile(0.95, sum by (le, model_name) (rate(${M.vllm.timeToFirstToken}_bucket{model_name="${model}"}[5m]))) > ${ttft}`,
        "10m",
        "warning",
        `${model}: p95 time to first token {{ $value | humanizeDuration }} over the ${m.slo.ttftP95Ms} ms SLO`,
        `The 95th percentile time to first token of ${model} has been above its target (models.${model}.slo.ttftP95Ms) for 10 minutes.`,
        { model_name: model },
      ),
      rule(
        "VLLME2ELatencySLOBreach",
        `histogram_quantile(0.95, sum by (le, model_name) (rate(${M.vllm.e2eRequestLatency}_bucket{model_name="${model}"}[5m]))) > ${e2e}`,
        "10m",
        "warning",
        `${model}: p95 end-to-end latency {{ $value | humanizeDuration }} over the ${m.slo.e2eP95Ms} ms SLO`,
        `The 95th percentile end-to-end request latency of ${model} has been above its target (models.${model}.slo.e2eP95Ms) for 10 minutes.`,
        { model_name: model },
      ),
    ];
  });

  const gpu: AlertRule[] = [
    rule(
      "GPUUtilizationHigh",
      `avg by (Hostname, gpu) (${M.dcgm.gpuUtil}) > 95`,
      "30m",
      "warning",
      "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} at {{ $value }}% for 30 minutes",
      "A GPU has been saturated for half an hour: the model on it is at capacity. Check that KEDA can add replicas and that the pool's maxNodes/limits allow it.",
    ),
    rule(
      "GPUUtilizationLow",
      `avg by (Hostname) (${M.dcgm.gpuUtil}) < 5`,
      "2h",
      "info",
      "GPUs on {{ $labels.Hostname }} idle for 2 hours",
      "A GPU node has been idle for 2 hours: a baseline that is too high, or a replica that scale-to-zero should have removed. Idle GPUs are the largest waste in this platform.",
    ),
    rule(
      "GPUMemoryNearlyFull",
      `max by (Hostname, gpu) (${M.dcgm.fbUsed} / (${M.dcgm.fbUsed} + ${M.dcgm.fbFree})) > 0.98`,
      "10m",
      "warning",
      "GPU {{ $labels.gpu }} on {{ $labels.Hostname }}: framebuffer {{ $value | humanizePercentage }} used",
      "vLLM reserves gpu-memory-utilization of the framebuffer up front; usage above 98% means something else allocates on the GPU and an OOM is near.",
    ),
    rule(
      "GPUXidDrainNode",
      xidCriticalExpr(),
      "0m",
      "critical",
      "GPU {{ $labels.gpu }} on {{ $labels.Hostname }}: XID {{ $value }}, drain and replace the node",
      `The driver reported XID {{ $value }}, one of the codes that mean the GPU or its memory is failing (${XID_DRAIN_CODES.join(", ")}): drain the node and let it be replaced.`,
    ),
    rule(
      "GPUXidError",
      xidWarningExpr(),
      "0m",
      "warning",
      "GPU {{ $labels.gpu }} on {{ $labels.Hostname }}: new XID {{ $value }}",
      "The driver reported an XID that is usually an application fault (for example 13, 31, 43: a kernel error or a bad memory access in the process on the GPU). Check the model server on that GPU; repeated XIDs on one GPU point at hardware.",
    ),
  ];

  const data: AlertRule[] = [
    rule(
      "TEIQueueHigh",
      `sum by (namespace, pod) (${M.tei.queueSize}{namespace="${EMBEDDINGS_NS}"}) > 64`,
      "5m",
      "warning",
      "{{ $labels.pod }}: {{ $value }} embedding requests queued",
      "A TEI replica has a long queue for 5 minutes; KEDA scales on te_queue_size, so it is at its maximum or new replicas cannot start.",
    ),
    rule(
      "MilvusSearchLatencyHigh",
      `histogram_quantile(${vdbQuantile}, sum by (le) (rate(${M.milvus.searchLatencyMs}_bucket{query_type="search"}[5m]))) > ${sloCfg.vectorDb.latencyMs}`,
      "10m",
      "warning",
      `Milvus p${Math.round(vdbQuantile * 1000) / 10} search latency {{ $value }} ms`,
      `The proxies' p${Math.round(vdbQuantile * 1000) / 10} search latency has been above ${sloCfg.vectorDb.latencyMs} ms (slo.vectorDb.latencyMs, seed: 20 ms) for 10 minutes. Milvus' buckets are powers of two in ms, so the quantile between two boundaries is interpolated.`,
    ),
  ];

  const gateway: AlertRule[] = [
    rule(
      "GatewayHighErrorRate",
      `sum(rate(${M.litellm.proxyFailedRequests}{exception_status=~"5.."}[5m])) / sum(rate(${M.litellm.proxyRequests}[5m])) > ${ratio(gatewayErrorPct)}`,
      "10m",
      "critical",
      "{{ $value | humanizePercentage }} of gateway requests fail with a 5xx",
      `More than ${Math.round(gatewayErrorPct * 1e6) / 1e6}% (100 - slo.gateway.availabilityPct) of requests to the LiteLLM gateway have failed with a 5xx for 10 minutes. Includes guardrail calls that fail when the safety service is unreachable (fail closed); 4xx (bad keys, rate limits) are the callers'.`,
    ),
  ];

  const S = M.safety;
  const SAFETY = 'namespace="safety"';
  const safety: AlertRule[] = [
    rule(
      "SafetyAzureCircuitOpen",
      `max(${S.breakerState}{${SAFETY}}) == 1`,
      "5m",
      "critical",
      "Safety service: the Azure Content Safety circuit breaker is open",
      "The breaker has been open for 5 minutes (safety_azure_circuit_breaker_state == 1): Azure calls are refused, so with failureMode closed every request that reaches the Azure layer is blocked, and /ready fails on the pods.",
    ),
    rule(
      "SafetyFailingClosed",
      `sum(rate(${S.verdictCategories}{${SAFETY}, category="azure_unavailable", level="blocked"}[5m])) > 0`,
      "10m",
      "warning",
      "Safety service: {{ $value | humanize }}/s answers blocked because Azure was unavailable",
      "For 10 minutes, answers have been blocked only because Azure Content Safety gave no verdict (category azure_unavailable, failureMode closed): users see refusals that are not about their content.",
    ),
    rule(
      "SafetyAzureShedding",
      `sum(rate(${S.azureShed}{${SAFETY}}[5m])) > 0`,
      "10m",
      "warning",
      "Safety service: Azure calls shed at {{ $value | humanize }}/s",
      "Admission control has been shedding Azure calls (queue full, queue deadline or a starved process) for 10 minutes: those requests get 503 and LiteLLM refuses them. Add replicas or raise azure.admission limits.",
    ),
    rule(
      "SafetyAzureErrorsHigh",
      `sum(rate(${S.azureAttempts}{${SAFETY}, outcome="failure"}[5m])) / sum(rate(${S.azureAttempts}{${SAFETY}}[5m])) > 0.05`,
      "10m",
      "warning",
      "Safety service: {{ $value | humanizePercentage }} of Azure attempts fail",
      "More than 5% of HTTP attempts to Azure Content Safety have failed for 10 minutes (timeouts, network, HTTP errors or malformed answers; safety_azure_errors_total has the kinds). Retries hide some of it; the breaker opens on consecutive failures.",
    ),
  ];

  return [
    { name: "llm-gateway", rules: gateway },
    { name: "llm-inference", rules: inference },
    { name: "llm-slo", rules: slo },
    { name: "gpu", rules: gpu },
    { name: "retrieval", rules: data },
    ...(i.safety?.enabled === false ? [] : [{ name: "safety", rules: safety }]),
  ];
}

/** A rule group of any kind (alerts here, recording rules and alerts from components/slo-rules.ts). */
export interface AnyRuleGroup {
  readonly name: string;
  readonly rules: readonly (AlertRule | { readonly record: string; readonly expr: string; readonly labels?: Readonly<Record<string, string>> })[];
}

export function prometheusRule(
  i: AlertInputs,
  namespace: string,
  extraGroups: readonly AnyRuleGroup[] = [],
): { apiVersion: string; kind: string; metadata: { name: string; namespace: string; labels: Record<string, string> }; spec: { groups: AnyRuleGroup[] } } {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: "llm-platform-alerts", namespace, labels: recommendedLabels("llm-platform-alerts", "observability") },
    spec: { groups: [...alertRuleGroups(i), ...extraGroups.filter((g) => g.rules.length > 0)] },
  };
}
