/**
 * SLOs as code: every SLO of the platform (each model's `models.<k>.slo`, and `slo.*` for TEI,
 * the vector DB, the safety service and the gateway) rendered as Prometheus recording rules and
 * multi-window multi-burn-rate alerts, and the self-hosted $/1M output tokens per model.
 *
 * Burn-rate pattern: Google SRE workbook, "Alerting on SLOs", recommendation 6 (table 6-8):
 * page when 2% of the period's error budget burns in 1h (short window 5m) or 5% in 6h (30m);
 * ticket when 10% burns in 1d (2h) or 10% in 3d (6h). The burn-rate factor is
 * budget share x period / long window: 14.4, 6, 3 and 1 for a 30-day period; it is computed
 * from `slo.periodDays`, so another period gives other factors.
 *
 * Naming follows Sloth (github.com/slok/sloth, its generated rules and docs/ "Rules"):
 * `slo:sli_error:ratio_rate<window>` per SLO and window, with labels `sloth_id`,
 * `sloth_service`, `sloth_slo` and `sloth_window`; `slo:objective:ratio`,
 * `slo:error_budget:ratio`, `slo:time_period:days`, `slo:current_burn_rate:ratio`,
 * `slo:period_burn_rate:ratio`, `slo:period_error_budget_remaining:ratio`; page and ticket
 * alerts with Sloth's expression shape (`max(... > (factor * budget)) without (sloth_window)`).
 * Sloth itself is not run: it is a Go binary that is not available offline here, and rendering
 * the rules in TypeScript keeps them typed against the zod config and inside the offline plan.
 *
 * Pure: no Pulumi; components/observability.ts puts the groups into the PrometheusRule.
 */
import { HOSTED_REFERENCE_PRICES } from "../infra/catalog/hosted-prices";
import { requireInstanceType } from "../infra/catalog/instances";
import { HISTOGRAM_BUCKETS, METRICS as M, teCounter } from "../infra/catalog/metrics";
import type { LlmModelKey } from "../infra/catalog/models";
import type { PlatformConfig } from "../infra/config";
import type { SloServiceKey } from "../infra/config/slo";
import type { AlertRule } from "./alerts";
import { deploymentName } from "./model-server";
import { NAMESPACES } from "./namespaces";

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export type Rule = AlertRule | RecordingRule;

export interface SloRuleGroup {
  readonly name: string;
  readonly rules: readonly Rule[];
}

export const isAlert = (r: Rule): r is AlertRule => "alert" in r;

// ---------------------------------------------------------------------------------------------
// Burn-rate windows

export interface BurnWindow {
  readonly long: string;
  readonly short: string;
  /** Share of the period's error budget this alert catches being spent within `long`. */
  readonly budgetShare: number;
  readonly severity: "critical" | "warning";
  /** budgetShare x period / long window. */
  readonly factor: number;
}

/** SRE workbook table 6-8 (page: 2% in 1h, 5% in 6h; ticket: 10% in 1d, 10% in 3d). */
export const BURN_POLICY: readonly Omit<BurnWindow, "factor">[] = [
  { long: "1h", short: "5m", budgetShare: 0.02, severity: "critical" },
  { long: "6h", short: "30m", budgetShare: 0.05, severity: "critical" },
  { long: "1d", short: "2h", budgetShare: 0.1, severity: "warning" },
  { long: "3d", short: "6h", budgetShare: 0.1, severity: "warning" },
];

export function durationHours(d: string): number {
  const m = /^(\d+)([mhd])$/.exec(d);
  if (!m) throw new Error(`unsupported duration ${d}`);
  const n = Number(m[1]);
  return m[2] === "m" ? n / 60 : m[2] === "h" ? n : n * 24;
}

const round = (x: number, digits = 6) => Math.round(x * 10 ** digits) / 10 ** digits;

export function burnWindows(periodDays: number): BurnWindow[] {
  return BURN_POLICY.map((w) => ({ ...w, factor: round((w.budgetShare * periodDays * 24) / durationHours(w.long), 3) }));
}

/** Every window an SLI is recorded over: the alert windows, sorted, without duplicates. */
export const SLI_WINDOWS: readonly string[] = [...new Set(BURN_POLICY.flatMap((w) => [w.short, w.long]))].sort((a, b) => durationHours(a) - durationHours(b));

// ---------------------------------------------------------------------------------------------
// SLI expressions

/**
 * A matcher for one histogram bucket. Prometheus 3 (kube-prometheus-stack 88.5.3 ships
 * v3.14.0) normalises classic-histogram `le` values on ingestion (Prometheus 3.0 migration
 * guide, "le and quantile label values"), so an integer boundary may arrive as "16" or "16.0";
 * the matcher takes both. Other boundaries are written in their shortest round-trip form, as
 * Python, Go and JavaScript print them.
 */
export function leMatcher(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`le ${x} is not finite`);
  return Number.isInteger(x) ? `le=~"${x}|${x}\\\\.0"` : `le="${String(x)}"`;
}

export interface BucketChoice {
  /** Exact when the threshold is a bucket boundary. */
  readonly exact: boolean;
  readonly lo?: number;
  readonly hi: number;
  /** Share of the (lo, hi] bucket counted as under the threshold (linear interpolation). */
  readonly fraction: number;
}

/**
 * Where a threshold falls among a histogram's boundaries. On a boundary the SLI is exact;
 * between two it is interpolated linearly inside the bucket, which is the assumption
 * histogram_quantile makes too (docs/slos.md).
 */
export function bucketFor(boundaries: readonly number[], threshold: number): BucketChoice {
  const sorted = [...boundaries].sort((a, b) => a - b);
  const exact = sorted.find((b) => Math.abs(b - threshold) <= 1e-12 * Math.max(1, threshold));
  if (exact !== undefined) return { exact: true, hi: exact, fraction: 1 };
  const hi = sorted.find((b) => b > threshold);
  if (hi === undefined) throw new Error(`threshold ${threshold} is above the largest bucket boundary ${sorted[sorted.length - 1]}`);
  const lo = [...sorted].reverse().find((b) => b < threshold);
  return { exact: false, ...(lo !== undefined ? { lo } : {}), hi, fraction: round((threshold - (lo ?? 0)) / (hi - (lo ?? 0))) };
}

/** Rate of requests at or under `threshold` (in the histogram's unit), interpolated if needed. */
export function goodUnder(histogram: string, selector: string, threshold: number, window: string): string {
  const spec = HISTOGRAM_BUCKETS[histogram];
  if (!spec) throw new Error(`no bucket boundaries in infra/catalog/metrics.ts HISTOGRAM_BUCKETS for ${histogram}`);
  const b = bucketFor(spec.le, threshold);
  const bucket = (le: number) => `sum(rate(${histogram}_bucket{${selector}${selector ? ", " : ""}${leMatcher(le)}}[${window}]))`;
  if (b.exact) return bucket(b.hi);
  const lo = b.lo !== undefined ? bucket(b.lo) : "0";
  return `(${lo} + ${b.fraction} * (${bucket(b.hi)} - ${lo}))`;
}

/** A label-less sum that reads 0 instead of nothing when no series exists yet. */
const orZero = (e: string) => `(${e} or vector(0))`;

export interface SloSpec {
  /** sloth_service. */
  readonly service: string;
  /** sloth_slo. */
  readonly slo: "availability" | "latency";
  /** Objective, percent. */
  readonly objectivePct: number;
  /** The alert name (one runbook section per name, docs/runbooks.md). */
  readonly alert: string;
  /** Extra labels on the alerts (model_name, role). */
  readonly labels: Readonly<Record<string, string>>;
  /** The config key the objective comes from. */
  readonly configKey: string;
  /** What counts as an error, for the alert description. */
  readonly meaning: string;
  /** The SLI error ratio over a window. */
  errorRatio(window: string): string;
}

export const slothId = (s: Pick<SloSpec, "service" | "slo">) => `${s.service}-${s.slo}`;

type SloInputs = Pick<PlatformConfig, "models" | "slo" | "embeddings" | "safety">;

const INFERENCE_NS = NAMESPACES.inference.name;

function latencySpec(
  base: Omit<SloSpec, "slo" | "objectivePct" | "errorRatio" | "meaning" | "configKey">,
  o: { readonly latencyMs: number; readonly latencyBudgetPct: number },
  configKey: string,
  histogram: string,
  selector: string,
  what: string,
): SloSpec {
  const unit = HISTOGRAM_BUCKETS[histogram]?.unit ?? "s";
  const threshold = unit === "ms" ? o.latencyMs : o.latencyMs / 1000;
  return {
    ...base,
    slo: "latency",
    objectivePct: round(100 - o.latencyBudgetPct, 4),
    configKey,
    meaning: `${what} slower than ${o.latencyMs} ms (more than ${o.latencyBudgetPct}% of requests)`,
    errorRatio: (w) => `(1 - ${goodUnder(histogram, selector, threshold, w)} / sum(rate(${histogram}_count{${selector}}[${w}])))`,
  };
}

/** Every SLO of the stack, models first. */
export function sloSpecs(c: SloInputs): SloSpec[] {
  const out: SloSpec[] = [];
  for (const [key, m] of Object.entries(c.models) as [LlmModelKey, NonNullable<PlatformConfig["models"][LlmModelKey]>][]) {
    const service = deploymentName(key);
    const http = `namespace="${INFERENCE_NS}", service="${service}", handler=~"/v1/.+"`;
    out.push({
      service,
      slo: "availability",
      objectivePct: m.slo.availabilityPct,
      alert: "VLLMAvailabilityBudgetBurn",
      labels: { model_name: key },
      configKey: `models.${key}.slo.availabilityPct`,
      meaning: "OpenAI API requests answered with a 5xx",
      errorRatio: (w) => `(${orZero(`sum(rate(${M.http.requestsTotal}{${http}, status=~"5.."}[${w}]))`)} / sum(rate(${M.http.requestsTotal}{${http}}[${w}])))`,
    });
    // The seed's "p95 150 ms" is time to first token (infra/config/models.ts): at most
    // latencyBudgetPct percent of requests may wait longer than ttftP95Ms for the first token.
    out.push(
      latencySpec(
        { service, alert: "VLLMLatencyBudgetBurn", labels: { model_name: key } },
        { latencyMs: m.slo.ttftP95Ms, latencyBudgetPct: m.slo.latencyBudgetPct },
        `models.${key}.slo.ttftP95Ms`,
        M.vllm.timeToFirstToken,
        `model_name="${key}"`,
        "time to first token",
      ),
    );
  }

  const s = c.slo;
  const roles = (["embed", "rerank"] as const).filter((r) => c.embeddings[r].enabled);
  for (const role of roles) {
    const k: SloServiceKey = role === "embed" ? "teiEmbed" : "teiRerank";
    const service = `tei-${role}`;
    const sel = `namespace="${NAMESPACES.embeddings.name}", service="${service}"`;
    out.push({
      service,
      slo: "availability",
      objectivePct: s[k].availabilityPct,
      alert: "TEIAvailabilityBudgetBurn",
      labels: { role },
      configKey: `slo.${k}.availabilityPct`,
      // router/src/http/server.rs and infer.rs: err=backend (the model failed) and overloaded
      // (no free permit, HTTP 429) are ours; validation, tokenization, batch_size, empty and
      // dropped (client went away) are the caller's.
      meaning: 'requests that failed in the backend or were refused as overloaded (te_request_failure{err=~"backend|overloaded"})',
      errorRatio: (w) => `(${orZero(`sum(rate(${teCounter(M.tei.requestFailure, `${sel}, err=~"backend|overloaded"`)}[${w}]))`)} / sum(rate(${teCounter(M.tei.requestCount, sel)}[${w}])))`,
    });
    out.push(latencySpec({ service, alert: "TEILatencyBudgetBurn", labels: { role } }, s[k], `slo.${k}.latencyMs`, M.tei.requestDuration, sel, "requests"));
  }

  const vdb = `namespace="${NAMESPACES.vectordb.name}"`;
  out.push({
    service: "vector-db",
    slo: "availability",
    objectivePct: s.vectorDb.availabilityPct,
    alert: "VectorDBAvailabilityBudgetBurn",
    labels: {},
    configKey: "slo.vectorDb.availabilityPct",
    meaning: 'Milvus proxy Search calls that failed (milvus_proxy_req_count{function_name="Search", status="fail"})',
    errorRatio: (w) =>
      `(${orZero(`sum(rate(${M.milvus.reqCount}{${vdb}, function_name="Search", status="fail"}[${w}]))`)} / sum(rate(${M.milvus.reqCount}{${vdb}, function_name="Search", status="total"}[${w}])))`,
  });
  out.push(latencySpec({ service: "vector-db", alert: "VectorDBLatencyBudgetBurn", labels: {} }, s.vectorDb, "slo.vectorDb.latencyMs", M.milvus.searchLatencyMs, `${vdb}, query_type="search"`, "searches"));

  if (c.safety.enabled) {
    const sel = `namespace="${NAMESPACES.safety.name}"`;
    out.push({
      service: "safety",
      slo: "availability",
      objectivePct: s.safety.availabilityPct,
      alert: "SafetyAvailabilityBudgetBurn",
      labels: {},
      configKey: "slo.safety.availabilityPct",
      meaning: "moderation requests answered with a 5xx (including 503 when Azure calls are shed)",
      errorRatio: (w) => {
        const errors = orZero(`sum(rate(${M.safety.requestErrors}{${sel}, status_code=~"5.."}[${w}]))`);
        const total = `(${orZero(`sum(rate(${M.safety.requests}{${sel}}[${w}]))`)} + ${orZero(`sum(rate(${M.safety.requestErrors}{${sel}}[${w}]))`)})`;
        return `(${errors} / ${total})`;
      },
    });
    out.push(latencySpec({ service: "safety", alert: "SafetyLatencyBudgetBurn", labels: {} }, s.safety, "slo.safety.latencyMs", M.safety.requestDuration, sel, "moderations"));
  }

  const gw = `namespace="${NAMESPACES.gateway.name}"`;
  out.push({
    service: "gateway",
    slo: "availability",
    objectivePct: s.gateway.availabilityPct,
    alert: "GatewayAvailabilityBudgetBurn",
    labels: {},
    configKey: "slo.gateway.availabilityPct",
    meaning: "gateway requests that failed with a 5xx (litellm_proxy_failed_requests_metric exception_status 5xx; 4xx such as bad keys and rate limits are the caller's)",
    errorRatio: (w) =>
      `(${orZero(`sum(rate(${M.litellm.proxyFailedRequests}{${gw}, exception_status=~"5.."}[${w}]))`)} / sum(rate(${M.litellm.proxyRequests}{${gw}}[${w}])))`,
  });
  out.push(latencySpec({ service: "gateway", alert: "GatewayLatencyBudgetBurn", labels: {} }, s.gateway, "slo.gateway.latencyMs", M.litellm.overheadLatency, gw, "the gateway's own overhead"));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rules

export const SLI_RECORD = (window: string) => `slo:sli_error:ratio_rate${window}`;

function sloLabels(s: SloSpec): Record<string, string> {
  return { sloth_id: slothId(s), sloth_service: s.service, sloth_slo: s.slo };
}

function selector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(", ");
}

/** The recorded SLI, objective and burn series of one SLO (Sloth's sli and meta recordings). */
export function sloRecordingRules(s: SloSpec, periodDays: number): RecordingRule[] {
  const l = sloLabels(s);
  const sel = selector(l);
  const budget = round(1 - s.objectivePct / 100, 8);
  const period = `${periodDays}d`;
  return [
    ...SLI_WINDOWS.map((w) => ({ record: SLI_RECORD(w), expr: s.errorRatio(w), labels: { ...l, sloth_window: w } })),
    // The period's ratio is the mean of the 5m ratios (Sloth's optimized period SLI), so no
    // 30-day raw range is evaluated.
    {
      record: SLI_RECORD(period),
      expr: `sum_over_time(${SLI_RECORD("5m")}{${sel}}[${period}]) / ignoring (sloth_window) count_over_time(${SLI_RECORD("5m")}{${sel}}[${period}])`,
      labels: { sloth_window: period },
    },
    { record: "slo:objective:ratio", expr: `vector(${round(s.objectivePct / 100, 8)})`, labels: l },
    { record: "slo:error_budget:ratio", expr: `vector(${budget})`, labels: l },
    { record: "slo:time_period:days", expr: `vector(${periodDays})`, labels: l },
    {
      record: "slo:current_burn_rate:ratio",
      expr: `${SLI_RECORD("5m")}{${sel}} / on (sloth_id, sloth_slo, sloth_service) group_left () slo:error_budget:ratio{${sel}}`,
    },
    {
      record: "slo:period_burn_rate:ratio",
      expr: `${SLI_RECORD(period)}{${sel}} / on (sloth_id, sloth_slo, sloth_service) group_left () slo:error_budget:ratio{${sel}}`,
    },
    { record: "slo:period_error_budget_remaining:ratio", expr: `1 - slo:period_burn_rate:ratio{${sel}}` },
  ];
}

/** Sloth's alert expression: any (short and long) window pair above factor x budget. */
export function burnExpr(s: SloSpec, windows: readonly BurnWindow[]): string {
  const sel = selector(sloLabels(s));
  const budget = round(1 - s.objectivePct / 100, 8);
  const above = (w: string, f: number) => `max(${SLI_RECORD(w)}{${sel}} > (${f} * ${budget})) without (sloth_window)`;
  return windows.map((w) => `(${above(w.short, w.factor)} and ${above(w.long, w.factor)})`).join(" or ");
}

export function sloAlerts(s: SloSpec, periodDays: number, runbook: (alert: string) => string): AlertRule[] {
  const windows = burnWindows(periodDays);
  const budgetPct = round(100 - s.objectivePct, 6);
  const who = s.labels.model_name ?? s.labels.role ?? s.service;
  return (["critical", "warning"] as const).map((severity) => {
    const ws = windows.filter((w) => w.severity === severity);
    const page = severity === "critical";
    return {
      alert: s.alert,
      expr: burnExpr(s, ws),
      for: page ? "2m" : "15m",
      labels: { severity, ...sloLabels(s), ...s.labels },
      annotations: {
        summary: `${who}: ${s.slo} SLO (${s.objectivePct}%) error budget burning ${page ? "fast (page)" : "steadily (ticket)"}`,
        description:
          `${s.service} spends its ${periodDays}-day ${s.slo} error budget (${budgetPct}% of requests: ${s.meaning}; objective from ${s.configKey}) ` +
          `at ${ws.map((w) => `${w.factor}x over ${w.long} and ${w.short}`).join(", or ")}: ` +
          `${ws.map((w) => `${Math.round(w.budgetShare * 100)}% of the budget in ${w.long}`).join(", or ")}.`,
        runbook_url: runbook(s.alert),
      },
    };
  });
}

export interface SloRuleInputs extends SloInputs {
  readonly runbookBaseUrl: string;
}

export function sloRuleGroups(c: SloRuleInputs, runbook: (alert: string) => string): SloRuleGroup[] {
  const specs = sloSpecs(c);
  return [
    { name: "slo-sli-recordings", rules: specs.flatMap((s) => sloRecordingRules(s, c.slo.periodDays).filter((r) => r.record.startsWith("slo:sli_error"))) },
    { name: "slo-meta-recordings", rules: specs.flatMap((s) => sloRecordingRules(s, c.slo.periodDays).filter((r) => !r.record.startsWith("slo:sli_error"))) },
    { name: "slo-alerts", rules: specs.flatMap((s) => sloAlerts(s, c.slo.periodDays, runbook)) },
  ];
}

// ---------------------------------------------------------------------------------------------
// $/1M output tokens

export const COST_RECORDS = {
  nodeCost: "llm_platform:node_cost_usd_per_hour",
  modelCost: "llm_platform:model_cost_usd_per_hour",
  outputTokens: "llm_platform:model_output_tokens_per_second:rate1h",
  costPerMTok: "llm_platform:model_cost_usd_per_mtok_output:1h",
  hostedPerMTok: "llm_platform:hosted_reference_usd_per_mtok_output",
} as const;

/** How long self-hosting must cost more than the hosted reference before the alert fires. */
export const COST_ALERT_FOR = "6h";

/**
 * kube-state-metrics labels (kube_node_labels) the cost rules read; the allowlist in
 * kubePrometheusStackValues must name these Kubernetes labels.
 * - node.kubernetes.io/instance-type: well-known label, set by the kubelet/cloud provider.
 * - karpenter.sh/capacity-type: spot | on-demand | reserved (Karpenter v1 well-known labels).
 * - eks.amazonaws.com/capacityType: ON_DEMAND | SPOT on EKS managed node group nodes (EKS user
 *   guide, "Managed node group capacity types").
 */
export const COST_NODE_LABELS = ["node.kubernetes.io/instance-type", "karpenter.sh/capacity-type", "eks.amazonaws.com/capacityType"] as const;

/** kube-state-metrics' label name for a Kubernetes label (internal/store/utils.go labelName). */
export function ksmLabel(k8sLabel: string): string {
  const sanitized = k8sLabel.replace(/[^a-zA-Z0-9_]/g, "_");
  return `label_${sanitized.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()}`;
}

type CostInputs = Pick<PlatformConfig, "models" | "gpuPools" | "karpenter" | "budget">;

/** The GPU instance types the stack may launch: its managed pools and its Karpenter GPU NodePools. */
export function gpuInstanceTypes(c: CostInputs): string[] {
  const pools = Object.values(c.gpuPools).flatMap((p) => p.instanceTypes);
  const karp = [c.karpenter.gpuSpot, c.karpenter.gpuOnDemand].filter((p) => p.enabled).flatMap((p) => p.instanceTypes);
  return [...new Set([...pools, ...karp])].sort();
}

/**
 * $/h of each GPU node, from the instance catalog's on-demand price and budget.spotDiscount for
 * spot nodes (Karpenter's capacity-type label or the managed node group's capacityType label).
 * A node of a type outside the list gets no series, and its pods no cost.
 */
export function nodeCostExpr(c: CostInputs): string {
  const type = ksmLabel(COST_NODE_LABELS[0]);
  const karpCap = ksmLabel(COST_NODE_LABELS[1]);
  const eksCap = ksmLabel(COST_NODE_LABELS[2]);
  const d = c.budget.spotDiscount;
  return gpuInstanceTypes(c)
    .flatMap((name) => {
      const od = requireInstanceType(name).onDemandHourlyUsd;
      const spot = round(od * (1 - d), 6);
      const node = (extra: string) => `max by (node) (${M.kube.nodeLabels}{${type}="${name}"${extra}})`;
      return [`(${node(`, ${karpCap}="spot"`)} * ${spot})`, `(${node(`, ${eksCap}="SPOT"`)} * ${spot})`, `(${node("")} * ${od})`];
    })
    .join(" or ");
}

export function costRuleGroups(c: CostInputs & { readonly runbookBaseUrl?: string }, runbook: (alert: string) => string): SloRuleGroup[] {
  const R = COST_RECORDS;
  const gpu = `resource="nvidia_com_gpu"`;
  const models = Object.keys(c.models) as LlmModelKey[];
  const recordings: RecordingRule[] = [
    { record: R.nodeCost, expr: nodeCostExpr(c) },
    {
      // Each model pod carries the share of its node's cost that its GPU requests hold; the pod's
      // model comes from its own vllm: series (model_name, with the namespace and pod target labels).
      record: R.modelCost,
      expr:
        `sum by (model_name) (` +
        `(sum by (namespace, pod, node) (${M.kube.podContainerResourceRequests}{namespace="${INFERENCE_NS}", ${gpu}})` +
        ` / on (node) group_left () sum by (node) (${M.kube.nodeStatusAllocatable}{${gpu}}))` +
        ` * on (node) group_left () ${R.nodeCost}` +
        ` * on (namespace, pod) group_left (model_name) group by (namespace, pod, model_name) (${M.vllm.numRequestsRunning}{namespace="${INFERENCE_NS}"}))`,
    },
    { record: R.outputTokens, expr: `sum by (model_name) (rate(${M.vllm.generationTokens}{namespace="${INFERENCE_NS}"}[1h]))` },
    {
      record: R.costPerMTok,
      expr: `avg_over_time(${R.modelCost}[1h]) / 3600 / (${R.outputTokens} > 0) * 1000000`,
    },
    ...models.map((k) => ({
      record: R.hostedPerMTok,
      expr: `vector(${HOSTED_REFERENCE_PRICES[k].outputPerMTokUsd})`,
      labels: { model_name: k },
    })),
  ];
  const alert: AlertRule = {
    alert: "SelfHostedCostAboveHosted",
    expr: `${R.costPerMTok} > on (model_name) ${R.hostedPerMTok}`,
    for: COST_ALERT_FOR,
    labels: { severity: "warning" },
    annotations: {
      summary: "{{ $labels.model_name }}: self-hosted output tokens cost ${{ $value | printf \"%.2f\" }} per 1M, above the hosted reference",
      description: `For ${COST_ALERT_FOR}, the GPU nodes serving {{ $labels.model_name }} (their catalog price, spot at budget.spotDiscount ${c.budget.spotDiscount}) divided by the output tokens it generated cost more per 1M tokens than the hosted-API reference (infra/catalog/hosted-prices.ts): the replicas are underused for the traffic.`,
      runbook_url: runbook("SelfHostedCostAboveHosted"),
    },
  };
  return [
    { name: "cost-recordings", rules: recordings },
    { name: "cost-alerts", rules: models.length ? [alert] : [] },
  ];
}
