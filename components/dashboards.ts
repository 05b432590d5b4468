/**
 * Grafana dashboards as JSON, provisioned by the Grafana sidecar from ConfigMaps labelled
 * grafana_dashboard=1. Every query uses names from infra/catalog/metrics.ts.
 *
 * - Inference: TTFT, inter-token latency, end-to-end p50/p95/p99, tokens/s in and out,
 *   running and waiting requests, KV-cache usage, prefix-cache hit rate, errors; per model.
 * - GPU fleet: utilization, framebuffer, temperature, power, tensor activity, XID errors.
 * - Embeddings and vector DB: TEI throughput, latency, queue and batch size; Milvus search
 *   latency and rate.
 * - Safety service: requests by verdict, errors, latency percentiles, blocks by category, Azure
 *   call outcomes, circuit-breaker state, fail-closed answers, shedding (metric names from
 *   services/safety/src/metrics.ts through the catalog).
 * - SLOs: error budget left and burn rate per SLO (components/slo-rules.ts recordings).
 * The inference dashboard also shows the self-hosted $/1M output tokens beside the hosted
 * reference (components/slo-rules.ts COST_RECORDS).
 */
import { METRICS as M } from "../infra/catalog/metrics";
import { COST_RECORDS } from "./slo-rules";

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
      {
        title: "$ per 1M output tokens (self-hosted vs hosted reference)",
        unit: "currencyUSD",
        targets: [
          { expr: `${COST_RECORDS.costPerMTok}{${sel}}`, legendFormat: "{{model_name}} self-hosted" },
          { expr: `${COST_RECORDS.hostedPerMTok}{${sel}}`, legendFormat: "{{model_name}} hosted reference" },
        ],
      },
      { title: "GPU node cost per hour", unit: "currencyUSD", targets: [{ expr: `${COST_RECORDS.modelCost}{${sel}}`, legendFormat: "{{model_name}}" }] },
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

export function safetyDashboard(): Dashboard {
  const S = M.safety;
  const ns = 'namespace="safety"';
  return dashboard(
    "safety",
    "Safety service: moderation, Azure Content Safety, fail-closed",
    [],
    layout([
      { title: "Moderations per second by verdict", unit: "reqps", targets: [{ expr: `sum by (verdict) (rate(${S.requests}{${ns}}[$__rate_interval]))`, legendFormat: "{{verdict}}" }] },
      { title: "Errors per second by status", unit: "reqps", targets: [{ expr: `sum by (status_code) (rate(${S.requestErrors}{${ns}}[$__rate_interval]))`, legendFormat: "HTTP {{status_code}}" }] },
      { title: "Moderation latency", unit: "s", targets: quantiles(S.requestDuration, "endpoint", ns) },
      {
        title: "Layer latency p95",
        unit: "s",
        targets: [{ expr: `histogram_quantile(0.95, sum by (le, layer) (rate(${S.layerDuration}_bucket{${ns}}[$__rate_interval])))`, legendFormat: "{{layer}} p95" }],
      },
      {
        title: "Blocks per second by category",
        unit: "reqps",
        targets: [{ expr: `sum by (category) (rate(${S.verdictCategories}{${ns}, level="blocked"}[$__rate_interval]))`, legendFormat: "{{category}}" }],
      },
      {
        title: "Block rate",
        unit: "percentunit",
        targets: [{ expr: `sum(rate(${S.requests}{${ns}, verdict="blocked"}[$__rate_interval])) / sum(rate(${S.requests}{${ns}}[$__rate_interval]))`, legendFormat: "blocked share" }],
      },
      { title: "Azure attempts by outcome", unit: "reqps", targets: [{ expr: `sum by (outcome) (rate(${S.azureAttempts}{${ns}}[$__rate_interval]))`, legendFormat: "{{outcome}}" }] },
      { title: "Azure errors by kind", unit: "reqps", targets: [{ expr: `sum by (kind) (rate(${S.azureErrors}{${ns}}[$__rate_interval]))`, legendFormat: "{{kind}}" }] },
      {
        title: "Azure circuit breaker state (0 closed, 1 open, 2 half-open, -1 off)",
        unit: "short",
        targets: [{ expr: `max by (pod) (${S.breakerState}{${ns}})`, legendFormat: "{{pod}}" }],
      },
      { title: "Circuit breaker transitions", unit: "short", targets: [{ expr: `sum by (to) (increase(${S.breakerTransitions}{${ns}}[$__rate_interval]))`, legendFormat: "to {{to}}" }] },
      {
        title: "Fail-closed answers (blocked because Azure was unavailable)",
        unit: "reqps",
        targets: [{ expr: `sum by (direction) (rate(${S.verdictCategories}{${ns}, category="azure_unavailable", level="blocked"}[$__rate_interval]))`, legendFormat: "{{direction}}" }],
      },
      {
        title: "Azure calls shed and in flight",
        unit: "short",
        targets: [
          { expr: `sum by (reason) (rate(${S.azureShed}{${ns}}[$__rate_interval]))`, legendFormat: "shed {{reason}} /s" },
          { expr: `sum by (state) (${S.azureInFlight}{${ns}})`, legendFormat: "{{state}}" },
        ],
      },
    ]),
  );
}

export function sloDashboard(): Dashboard {
  return dashboard(
    "slos",
    "SLOs: error budgets and burn rates",
    [variable("service", "label_values(slo:objective:ratio, sloth_service)", "Service")],
    layout([
      {
        title: "Error budget remaining over the SLO period",
        unit: "percentunit",
        targets: [{ expr: 'slo:period_error_budget_remaining:ratio{sloth_service=~"$service"}', legendFormat: "{{sloth_service}} {{sloth_slo}}" }],
      },
      {
        title: "Burn rate now (5m; 1 = spending the budget exactly over the period)",
        unit: "short",
        targets: [{ expr: 'slo:current_burn_rate:ratio{sloth_service=~"$service"}', legendFormat: "{{sloth_service}} {{sloth_slo}}" }],
      },
      {
        title: "Error ratio (1h)",
        unit: "percentunit",
        targets: [{ expr: 'slo:sli_error:ratio_rate1h{sloth_service=~"$service"}', legendFormat: "{{sloth_service}} {{sloth_slo}}" }],
      },
      {
        title: "Error budget (1 - objective)",
        unit: "percentunit",
        targets: [{ expr: 'slo:error_budget:ratio{sloth_service=~"$service"}', legendFormat: "{{sloth_service}} {{sloth_slo}}" }],
      },
    ]),
  );
}

export const DASHBOARDS: readonly (() => Dashboard)[] = [inferenceDashboard, gpuFleetDashboard, retrievalDashboard, gatewayDashboard, safetyDashboard, sloDashboard];
