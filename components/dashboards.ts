/**
 * Grafana dashboards as JSON, provisioned by the Grafana sidecar from ConfigMaps labelled
 * grafana_dashboard=1. Every query uses names from infra/catalog/metrics.ts.
 *
 * - Inference: TTFT, inter-token latency, end-to-end p50/p95/p99, tokens/s in and out,
 *   running and waiting requests, KV-cache usage, prefix-cache hit rate, errors; per model.
 * - GPU fleet: utilization, framebuffer, temperature, power, tensor activity, XID errors.
 * - Embeddings and vector DB: TEI throughput, latency, queue and batch size; Milvus search
 *   latency and rate.
 */
import { METRICS as M } from "../infra/catalog/metrics";

export interface Target {
  readonly expr: string;
  readonly legendFormat: string;
}

export interface Panel {
  readonly id: number;
  readonly type: "timeseries";
  readonly title: string;
  readonly datasource: { readonly type: "prometheus"; readonly uid: string };
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly fieldConfig: { readonly defaults: { readonly unit: string }; readonly overrides: readonly unknown[] };
  readonly targets: readonly (Target & { readonly refId: string })[];
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly tags: readonly string[];
  readonly schemaVersion: number;
  readonly time: { readonly from: string; readonly to: string };
  readonly refresh: string;
  readonly templating: { readonly list: readonly unknown[] };
  readonly panels: readonly Panel[];
}

/** The Prometheus datasource uid kube-prometheus-stack provisions. */
export const PROMETHEUS_DS = { type: "prometheus", uid: "prometheus" } as const;

function layout(specs: readonly { title: string; unit: string; targets: readonly Target[] }[]): Panel[] {
  return specs.map((s, i) => ({
    id: i + 1,
    type: "timeseries",
    title: s.title,
    datasource: PROMETHEUS_DS,
    gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
    fieldConfig: { defaults: { unit: s.unit }, overrides: [] },
    targets: s.targets.map((t, j) => ({ ...t, refId: String.fromCharCode(65 + j) })),
  }));
}

function variable(name: string, query: string, label: string): Record<string, unknown> {
  return {
    name,
    label,
    type: "query",
    datasource: PROMETHEUS_DS,
    query: { query, refId: name },
    definition: query,
    refresh: 2,
    includeAll: true,
    multi: true,
    current: { text: "All", value: "$__all" },
  };
}

function dashboard(uid: string, title: string, variables: Record<string, unknown>[], panels: Panel[]): Dashboard {
  return {
    uid,
    title,
    tags: ["llm-platform"],
    schemaVersion: 39,
    time: { from: "now-6h", to: "now" },
    refresh: "30s",
    templating: { list: variables },
    panels,
  };
}

const quantiles = (metric: string, by: string, filter: string): Target[] =>
  [0.5, 0.95, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (le, ${by}) (rate(${metric}_bucket{${filter}}[$__rate_interval])))`,
    legendFormat: `{{${by}}} p${Math.round(q * 100)}`,
  }));

export function inferenceDashboard(): Dashboard {
  const sel = 'model_name=~"$model"';
  return dashboard(
    "llm-inference",
    "LLM inference (vLLM)",
    [variable("model", `label_values(${M.vllm.numRequestsRunning}, model_name)`, "Model")],
    layout([
      { title: "Time to first token", unit: "s", targets: quantiles(M.vllm.timeToFirstToken, "model_name", sel) },
      { title: "Inter-token latency", unit: "s", targets: quantiles(M.vllm.interTokenLatency, "model_name", sel) },
      { title: "End-to-end request latency", unit: "s", targets: quantiles(M.vllm.e2eRequestLatency, "model_name", sel) },
      { title: "Queue time", unit: "s", targets: quantiles(M.vllm.requestQueueTime, "model_name", sel) },
      {
        title: "Tokens per second",
        unit: "short",
        targets: [
          { expr: `sum by (model_name) (rate(${M.vllm.promptTokens}{${sel}}[$__rate_interval]))`, legendFormat: "{{model_name}} in (prompt)" },
          { expr: `sum by (model_name) (rate(${M.vllm.generationTokens}{${sel}}[$__rate_interval]))`, legendFormat: "{{model_name}} out (generated)" },
        ],
      },
      {
        title: "Running and waiting requests",
        unit: "short",
        targets: [
          { expr: `sum by (model_name) (${M.vllm.numRequestsRunning}{${sel}})`, legendFormat: "{{model_name}} running" },
          { expr: `sum by (model_name) (${M.vllm.numRequestsWaiting}{${sel}})`, legendFormat: "{{model_name}} waiting" },
        ],
      },
      { title: "KV-cache usage", unit: "percentunit", targets: [{ expr: `max by (model_name, pod) (${M.vllm.kvCacheUsagePerc}{${sel}})`, legendFormat: "{{model_name}} {{pod}}" }] },
      {
        title: "Prefix-cache hit rate",
        unit: "percentunit",
        targets: [
          {
            expr: `sum by (model_name) (rate(${M.vllm.prefixCacheHits}{${sel}}[$__rate_interval])) / sum by (model_name) (rate(${M.vllm.prefixCacheQueries}{${sel}}[$__rate_interval]))`,
            legendFormat: "{{model_name}}",
          },
        ],
      },
      {
        title: "Errors",
        unit: "reqps",
        targets: [
          { expr: `sum by (model_name) (rate(${M.vllm.requestSuccess}{${sel}, finished_reason="abort"}[$__rate_interval]))`, legendFormat: "{{model_name}} aborted" },
          { expr: `sum by (status) (rate(${M.http.requestsTotal}{namespace="inference", status=~"5.."}[$__rate_interval]))`, legendFormat: "HTTP {{status}}" },
        ],
      },
      { title: "Preemptions", unit: "short", targets: [{ expr: `sum by (model_name) (rate(${M.vllm.numPreemptions}{${sel}}[$__rate_interval]))`, legendFormat: "{{model_name}}" }] },
    ]),
  );
}

export function gpuFleetDashboard(): Dashboard {
  const sel = 'Hostname=~"$node"';
  return dashboard(
    "gpu-fleet",
    "GPU fleet (DCGM)",
    [variable("node", `label_values(${M.dcgm.gpuUtil}, Hostname)`, "Node")],
    layout([
      { title: "GPU utilization", unit: "percent", targets: [{ expr: `avg by (Hostname, gpu) (${M.dcgm.gpuUtil}{${sel}})`, legendFormat: "{{Hostname}} GPU {{gpu}}" }] },
      {
        title: "Framebuffer used",
        unit: "percentunit",
        targets: [{ expr: `max by (Hostname, gpu) (${M.dcgm.fbUsed}{${sel}} / (${M.dcgm.fbUsed}{${sel}} + ${M.dcgm.fbFree}{${sel}}))`, legendFormat: "{{Hostname}} GPU {{gpu}}" }],
      },
      { title: "Graphics engine active", unit: "percentunit", targets: [{ expr: `avg by (Hostname, gpu) (${M.dcgm.grEngineActive}{${sel}})`, legendFormat: "{{Hostname}} GPU {{gpu}}" }] },
      { title: "Tensor cores active", unit: "percentunit", targets: [{ expr: `avg by (Hostname, gpu) (${M.dcgm.tensorActive}{${sel}})`, legendFormat: "{{Hostname}} GPU {{gpu}}" }] },
      { title: "Temperature", unit: "celsius", targets: [{ expr: `max by (Hostname, gpu) (${M.dcgm.gpuTemp}{${sel}})`, legendFormat: "{{Hostname}} GPU {{gpu}}" }] },
      { title: "Power", unit: "watt", targets: [{ expr: `sum by (Hostname) (${M.dcgm.powerUsage}{${sel}})`, legendFormat: "{{Hostname}}" }] },
      { title: "XID errors", unit: "short", targets: [{ expr: `max by (Hostname, gpu) (${M.dcgm.xidErrors}{${sel}})`, legendFormat: "{{Hostname}} GPU {{gpu}}" }] },
      { title: "GPUs per node", unit: "short", targets: [{ expr: `count by (Hostname) (${M.dcgm.gpuUtil}{${sel}})`, legendFormat: "{{Hostname}}" }] },
    ]),
  );
}

export function retrievalDashboard(): Dashboard {
  const tei = 'namespace="embeddings"';
  return dashboard(
    "embeddings-vectordb",
    "Embeddings (TEI) and vector DB (Milvus)",
    [],
    layout([
      { title: "TEI requests per second", unit: "reqps", targets: [{ expr: `sum by (pod) (rate(${M.tei.requestDuration}_count{${tei}}[$__rate_interval]))`, legendFormat: "{{pod}}" }] },
      { title: "TEI request latency", unit: "s", targets: quantiles(M.tei.requestDuration, "service", tei) },
      { title: "TEI queue size", unit: "short", targets: [{ expr: `sum by (pod) (${M.tei.queueSize}{${tei}})`, legendFormat: "{{pod}}" }] },
      { title: "TEI queue time", unit: "s", targets: quantiles(M.tei.requestQueueDuration, "service", tei) },
      { title: "TEI batch size", unit: "short", targets: quantiles(M.tei.batchNextSize, "service", tei) },
      { title: "Milvus search latency", unit: "ms", targets: quantiles(M.milvus.searchLatencyMs, "query_type", 'query_type="search"') },
      {
        title: "Milvus searches per second",
        unit: "reqps",
        targets: [{ expr: `sum (rate(${M.milvus.searchLatencyMs}_count{query_type="search"}[$__rate_interval]))`, legendFormat: "search" }],
      },
    ]),
  );
}

export function gatewayDashboard(): Dashboard {
  const sel = 'requested_model=~"$model"';
  const L = M.litellm;
  return dashboard(
    "llm-gateway",
    "LLM gateway (LiteLLM): requests, latency and spend",
    [variable("model", `label_values(${L.proxyRequests}, requested_model)`, "Model")],
    layout([
      { title: "Requests per second by model", unit: "reqps", targets: [{ expr: `sum by (requested_model) (rate(${L.proxyRequests}{${sel}}[$__rate_interval]))`, legendFormat: "{{requested_model}}" }] },
      { title: "Failed requests by model", unit: "reqps", targets: [{ expr: `sum by (requested_model) (rate(${L.proxyFailedRequests}{${sel}}[$__rate_interval]))`, legendFormat: "{{requested_model}}" }] },
      { title: "Requests per second by key", unit: "reqps", targets: [{ expr: `sum by (api_key_alias) (rate(${L.proxyRequests}{${sel}}[$__rate_interval]))`, legendFormat: "{{api_key_alias}}" }] },
      { title: "Requests per second by team", unit: "reqps", targets: [{ expr: `sum by (team_alias) (rate(${L.proxyRequests}{${sel}}[$__rate_interval]))`, legendFormat: "{{team_alias}}" }] },
      { title: "End-to-end latency (gateway)", unit: "s", targets: quantiles(L.requestLatency, "model", 'model=~"$model"') },
      { title: "Spend per hour by key", unit: "currencyUSD", targets: [{ expr: `sum by (api_key_alias) (increase(${L.spend}[1h]))`, legendFormat: "{{api_key_alias}}" }] },
      { title: "Spend per hour by team", unit: "currencyUSD", targets: [{ expr: `sum by (team_alias) (increase(${L.spend}[1h]))`, legendFormat: "{{team_alias}}" }] },
      { title: "Spend per hour by model", unit: "currencyUSD", targets: [{ expr: `sum by (model) (increase(${L.spend}[1h]))`, legendFormat: "{{model}}" }] },
      {
        title: "Tokens per second by team",
        unit: "short",
        targets: [
          { expr: `sum by (team_alias) (rate(${L.inputTokens}[$__rate_interval]))`, legendFormat: "{{team_alias}} in" },
          { expr: `sum by (team_alias) (rate(${L.outputTokens}[$__rate_interval]))`, legendFormat: "{{team_alias}} out" },
        ],
      },
    ]),
  );
}

export const DASHBOARDS: readonly (() => Dashboard)[] = [inferenceDashboard, gpuFleetDashboard, retrievalDashboard, gatewayDashboard];
