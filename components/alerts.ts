/**
 * The platform's alert rules (a PrometheusRule), built from config. Every metric comes from
 * infra/catalog/metrics.ts; every alert has a summary, a description and a runbook section in
 * docs/runbooks.md (anchor = the alert name in lower case).
 *
 * The seed's four alerts on real metric names (queue depth, GPU utilization, model down, error
 * rate), plus SLO alerts on p95 TTFT and p95 end-to-end latency per model, KV-cache
 * saturation, GPU memory, new XID events (critical only for the codes that mean the node must
 * go), TEI queue and Milvus search latency.
 */
import { METRICS as M } from "../infra/catalog/metrics";
import type { PlatformConfig } from "../infra/config";
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
}

export function alertRuleGroups(i: AlertInputs): RuleGroup[] {
  const rb = (a: string) => runbookUrl(i.runbookBaseUrl, a);
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
      `sum by (namespace) (rate(${M.http.requestsTotal}{namespace="${INFERENCE_NS}", status=~"5.."}[5m])) / sum by (namespace) (rate(${M.http.requestsTotal}{namespace="${INFERENCE_NS}"}[5m])) > 0.001`,
      "10m",
      "critical",
      "HTTP 5xx ratio {{ $value | humanizePercentage }} in {{ $labels.namespace }}",
      "More than 0.1% of requests to the model servers fail with a 5xx, above the seed's error-rate SLA.",
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
      `histogram_quantile(0.95, sum by (le) (rate(${M.milvus.searchLatencyMs}_bucket{query_type="search"}[5m]))) > 100`,
      "10m",
      "warning",
      "Milvus p95 search latency {{ $value }} ms",
      "The proxies' p95 search latency has been above 100 ms for 10 minutes (the seed targets single-digit milliseconds).",
    ),
  ];

  const gateway: AlertRule[] = [
    rule(
      "GatewayHighErrorRate",
      `sum(rate(${M.litellm.proxyFailedRequests}[5m])) / sum(rate(${M.litellm.proxyRequests}[5m])) > 0.01`,
      "10m",
      "critical",
      "{{ $value | humanizePercentage }} of gateway requests fail",
      "More than 1% of requests to the LiteLLM gateway have failed for 10 minutes. Includes blocked guardrail calls when the safety service is unreachable (fail closed).",
    ),
  ];

  return [
    { name: "llm-gateway", rules: gateway },
    { name: "llm-inference", rules: inference },
    { name: "llm-slo", rules: slo },
    { name: "gpu", rules: gpu },
    { name: "retrieval", rules: data },
  ];
}

export function prometheusRule(i: AlertInputs, namespace: string): { apiVersion: string; kind: string; metadata: { name: string; namespace: string; labels: Record<string, string> }; spec: { groups: RuleGroup[] } } {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: "llm-platform-alerts", namespace, labels: recommendedLabels("llm-platform-alerts", "observability") },
    spec: { groups: alertRuleGroups(i) },
  };
}
