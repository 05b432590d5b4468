/**
 * SLOs as code (components/slo-rules.ts): burn-rate windows and factors from config, Sloth's
 * recording-rule naming, thresholds that follow the config, runbook anchors, the rendered
 * PrometheusRule against its schema, the $/token rules, and the safety dashboard's metric names
 * against the safety service's source.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { alertRuleGroups, prometheusRule, runbookUrl } from "../components/alerts";
import { safetyDashboard, sloDashboard } from "../components/dashboards";
import { kubePrometheusStackValues, platformRuleGroups } from "../components/observability";
import {
  bucketFor,
  burnWindows,
  COST_NODE_LABELS,
  COST_RECORDS,
  costRuleGroups,
  gpuInstanceTypes,
  isAlert,
  ksmLabel,
  leMatcher,
  SLI_WINDOWS,
  sloRuleGroups,
  sloSpecs,
  type RecordingRule,
} from "../components/slo-rules";
import { HOSTED_REFERENCE_PRICES } from "../infra/catalog/hosted-prices";
import { requireInstanceType } from "../infra/catalog/instances";
import { ALL_METRICS, HISTOGRAM_BUCKETS, METRICS } from "../infra/catalog/metrics";
import type { PlatformConfig } from "../infra/config";
import { sloSchema } from "../infra/config/slo";
import { HELM_RELEASE_TYPE } from "../stacks/plan/render";
import { metricNames } from "./support/promql";
import { validatorFor } from "./support/schemas";
import { ofType, stack, STACKS } from "./support/stacks";

const ROOT = path.resolve(__dirname, "..");
const RB = "https://example.org/runbooks.md";
const rb = (a: string) => runbookUrl(RB, a);

let prod: PlatformConfig;
beforeAll(async () => {
  prod = (await stack("prod")).config;
});

const withSlo = (c: PlatformConfig, slo: Partial<Record<string, unknown>>): PlatformConfig => ({ ...c, slo: sloSchema.parse({ ...c.slo, ...slo }) });
const rules = (c: PlatformConfig) => sloRuleGroups({ ...c, runbookBaseUrl: RB }, rb).flatMap((g) => g.rules);
const alertsOf = (c: PlatformConfig) => rules(c).filter(isAlert);

describe("burn-rate windows (SRE workbook, 30-day period)", () => {
  it("pages at 14.4x (1h/5m) and 6x (6h/30m), tickets at 3x (1d/2h) and 1x (3d/6h)", () => {
    expect(burnWindows(30).map((w) => [w.long, w.short, w.factor, w.severity])).toEqual([
      ["1h", "5m", 14.4, "critical"],
      ["6h", "30m", 6, "critical"],
      ["1d", "2h", 3, "warning"],
      ["3d", "6h", 1, "warning"],
    ]);
  });

  it("derives the factors from the period: budget share x period / long window", () => {
    expect(burnWindows(28).map((w) => w.factor)).toEqual([13.44, 5.6, 2.8, 0.933]);
    expect(burnWindows(7).map((w) => w.factor)).toEqual([3.36, 1.4, 0.7, 0.233]);
  });

  it("records every SLI over every alert window", () => {
    expect(SLI_WINDOWS).toEqual(["5m", "30m", "1h", "2h", "6h", "1d", "3d"]);
  });
});

describe("SLOs from config", () => {
  it("covers every row of the seed's table plus the gateway, each with availability and latency", () => {
    const specs = sloSpecs(prod);
    const services = [...new Set(specs.map((s) => s.service))].sort();
    expect(services).toEqual(["gateway", "safety", "tei-embed", "tei-rerank", "vector-db", "vllm-gpt-oss-120b", "vllm-gpt-oss-20b"]);
    for (const s of services) expect(specs.filter((x) => x.service === s).map((x) => x.slo)).toEqual(["availability", "latency"]);
    const obj = Object.fromEntries(specs.map((s) => [`${s.service}/${s.slo}`, s.objectivePct]));
    expect(obj).toMatchObject({
      "vllm-gpt-oss-20b/availability": 99.9,
      "vllm-gpt-oss-120b/availability": 99.9,
      "tei-embed/availability": 99.95,
      "vector-db/availability": 99.9,
      "safety/availability": 99.95,
      "gateway/availability": 99.9,
      "safety/latency": 95,
    });
  });

  it("follows availabilityPct: the page threshold is factor x (1 - objective)", () => {
    const pageOf = (c: PlatformConfig, service: string, slo: string) =>
      alertsOf(c).find((a) => a.labels.sloth_service === service && a.labels.sloth_slo === slo && a.labels.severity === "critical")!.expr;
    expect(pageOf(prod, "safety", "availability")).toContain("> (14.4 * 0.0005)");
    expect(pageOf(prod, "safety", "availability")).toContain("> (6 * 0.0005)");
    const changed = withSlo(prod, { safety: { availabilityPct: 99.5 }, periodDays: 28 });
    expect(pageOf(changed, "safety", "availability")).toContain("> (13.44 * 0.005)");
    expect(pageOf(changed, "safety", "availability")).not.toContain("0.0005");
    // A model's objective comes from models.<k>.slo.
    const models = { ...prod.models, "gpt-oss-20b": { ...prod.models["gpt-oss-20b"]!, slo: { ...prod.models["gpt-oss-20b"]!.slo, availabilityPct: 99.99 } } };
    expect(pageOf({ ...prod, models }, "vllm-gpt-oss-20b", "availability")).toContain("> (14.4 * 0.0001)");
  });

  it("follows the latency threshold: the bucket boundaries read change with latencyMs", () => {
    const sli = (c: PlatformConfig, service: string) =>
      (rules(c).find((r) => !isAlert(r) && r.record === "slo:sli_error:ratio_rate5m" && r.labels?.sloth_service === service && r.labels?.sloth_slo === "latency") as RecordingRule).expr;
    // 25 ms is a boundary of the safety histogram: exact, one bucket.
    expect(sli(prod, "safety")).toContain('safety_request_duration_seconds_bucket{namespace="safety", le="0.025"}');
    expect(sli(prod, "safety")).not.toContain("le=\"0.05\"");
    expect(sli(withSlo(prod, { safety: { latencyMs: 50 } }), "safety")).toContain('le="0.05"');
    // 20 ms for Milvus (ms buckets 16, 32): interpolated a quarter into (16, 32].
    expect(sli(prod, "vector-db")).toContain("0.25 * (");
    expect(sli(prod, "vector-db")).toContain('le=~"16|16\\\\.0"');
    expect(sli(prod, "vector-db")).toContain('le=~"32|32\\\\.0"');
    // gpt-oss-20b's 150 ms TTFT lies between vLLM's 0.1 and 0.25 s boundaries.
    expect(sli(prod, "vllm-gpt-oss-20b")).toContain('le="0.1"');
    expect(sli(prod, "vllm-gpt-oss-20b")).toContain('le="0.25"');
    expect(sli(prod, "vllm-gpt-oss-20b")).toContain("0.333333 * (");
  });

  it("records Sloth's series for each SLO with sloth_id, sloth_service, sloth_slo and sloth_window", () => {
    const recs = rules(prod).filter((r): r is RecordingRule => !isAlert(r));
    for (const s of sloSpecs(prod)) {
      const id = `${s.service}-${s.slo}`;
      const sli = recs.filter((r) => r.record.startsWith("slo:sli_error:ratio_rate") && r.labels?.sloth_id === id);
      expect(sli.map((r) => r.labels!.sloth_window)).toEqual([...SLI_WINDOWS]);
      for (const r of sli) expect(r.labels).toMatchObject({ sloth_service: s.service, sloth_slo: s.slo });
      const meta = recs.filter((r) => r.expr.includes(`sloth_id="${id}"`) || r.labels?.sloth_id === id).map((r) => r.record);
      for (const name of ["slo:sli_error:ratio_rate30d", "slo:objective:ratio", "slo:error_budget:ratio", "slo:time_period:days", "slo:current_burn_rate:ratio", "slo:period_burn_rate:ratio", "slo:period_error_budget_remaining:ratio"])
        expect(meta, `${id}: ${name}`).toContain(name);
    }
  });

  it("leaves the safety SLOs and alerts out when the service is off", () => {
    const off = { ...prod, safety: { ...prod.safety, enabled: false } } as PlatformConfig;
    expect(sloSpecs(off).some((s) => s.service === "safety")).toBe(false);
    expect(alertRuleGroups({ models: off.models, runbookBaseUrl: RB, slo: off.slo, safety: off.safety }).some((g) => g.name === "safety")).toBe(false);
  });
});

describe("histogram buckets", () => {
  it("is exact on a boundary and interpolates between two", () => {
    expect(bucketFor([0.01, 0.025, 0.05], 0.025)).toEqual({ exact: true, hi: 0.025, fraction: 1 });
    expect(bucketFor(HISTOGRAM_BUCKETS[METRICS.vllm.timeToFirstToken]!.le, 0.15)).toEqual({ exact: false, lo: 0.1, hi: 0.25, fraction: 0.333333 });
    expect(bucketFor(HISTOGRAM_BUCKETS[METRICS.vllm.timeToFirstToken]!.le, 0.3)).toEqual({ exact: false, lo: 0.25, hi: 0.5, fraction: 0.2 });
    expect(bucketFor([1, 2, 4], 0.5)).toEqual({ exact: false, hi: 1, fraction: 0.5 });
    expect(() => bucketFor([1, 2], 3)).toThrow(/above the largest/);
  });

  it("matches integer boundaries in both spellings and others in their shortest form", () => {
    expect(leMatcher(16)).toBe('le=~"16|16\\\\.0"');
    expect(leMatcher(0.025)).toBe('le="0.025"');
  });

  it("holds TEI's geometric boundaries (0.00001 x 1.5^k, 35 of them)", () => {
    const le = HISTOGRAM_BUCKETS[METRICS.tei.requestDuration]!.le;
    expect(le).toHaveLength(35);
    expect(le[0]).toBeCloseTo(1.5e-5, 12);
    expect(le[20]! / le[19]!).toBeCloseTo(1.5, 12);
  });
});

describe.each(STACKS)("the PrometheusRule in %s", (name) => {
  const runbooks = fs.readFileSync(path.join(ROOT, "docs/runbooks.md"), "utf8");
  const anchors = new Set([...runbooks.matchAll(/^## `?([A-Za-z0-9]+)`?\s*$/gm)].map((m) => m[1]!.toLowerCase()));

  it("validates against the prometheus-operator schema and carries the SLO and cost groups", async () => {
    const r = await stack(name);
    const obj = ofType(r, "kubernetes:monitoring.coreos.com/v1:PrometheusRule")[0]!.inputs;
    const v = (await validatorFor("monitoring.coreos.com/v1", "PrometheusRule"))!;
    expect(v(obj)).toEqual([]);
    expect(v({ ...obj, spec: { groups: [{ name: "x", rules: [{ record: 5, expr: "up" }] }] } })).not.toEqual([]);
    const names = obj.spec.groups.map((g: any) => g.name);
    expect(names).toEqual(expect.arrayContaining(["slo-sli-recordings", "slo-meta-recordings", "slo-alerts", "cost-recordings", "cost-alerts", "safety"]));
    // The same object the pure builder renders from the stack's config.
    const c = r.config;
    const built = platformRuleGroups(c);
    expect(obj.spec).toEqual(JSON.parse(JSON.stringify(prometheusRule(built.alertInputs, "monitoring", built.extra).spec)));
  });

  it("gives every alert a summary, a description and a runbook section", async () => {
    const c = (await stack(name)).config;
    const all = [...alertsOf(c), ...costRuleGroups(c, rb).flatMap((g) => g.rules).filter(isAlert)];
    expect(all.length).toBeGreaterThan(10);
    for (const a of all) {
      expect(a.annotations.summary.length, a.alert).toBeGreaterThan(10);
      expect(a.annotations.description.length, a.alert).toBeGreaterThan(30);
      expect(a.annotations.runbook_url, a.alert).toBe(`${RB}#${a.alert.toLowerCase()}`);
      expect(anchors.has(a.alert.toLowerCase()), `docs/runbooks.md has no section for ${a.alert}`).toBe(true);
    }
  });

  it("writes well-formed PromQL: balanced delimiters, no undefined or NaN, every metric catalogued or recorded", async () => {
    const r = await stack(name);
    const groups = ofType(r, "kubernetes:monitoring.coreos.com/v1:PrometheusRule")[0]!.inputs.spec.groups as { rules: { expr: string; record?: string }[] }[];
    const recorded = new Set(groups.flatMap((g) => g.rules.flatMap((q) => (q.record ? [q.record] : []))));
    for (const q of groups.flatMap((g) => g.rules)) {
      expect(q.expr, q.expr).not.toMatch(/undefined|NaN|\[object/);
      const stripped = q.expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
      for (const [open, close] of [["(", ")"], ["[", "]"], ["{", "}"]] as const) {
        let depth = 0;
        for (const ch of stripped) {
          if (ch === open) depth++;
          if (ch === close) depth--;
          expect(depth, q.expr).toBeGreaterThanOrEqual(0);
        }
        expect(depth, q.expr).toBe(0);
      }
      for (const n of metricNames(q.expr)) expect(recorded.has(n) || ALL_METRICS.has(n) || ALL_METRICS.has(n.replace(/_(bucket|sum|count)$/, "")), n).toBe(true);
    }
  });
});

describe("$/1M output tokens", () => {
  it("prices every GPU node type from the catalog, spot at budget.spotDiscount", () => {
    const groups = costRuleGroups(prod, rb);
    const node = (groups[0]!.rules as RecordingRule[]).find((q) => q.record === COST_RECORDS.nodeCost)!.expr;
    const types = gpuInstanceTypes(prod);
    expect(types.length).toBeGreaterThan(0);
    for (const t of types) {
      const od = requireInstanceType(t).onDemandHourlyUsd;
      const spot = Math.round(od * (1 - prod.budget.spotDiscount) * 1e6) / 1e6;
      expect(node).toContain(`label_node_kubernetes_io_instance_type="${t}"}) * ${od})`);
      expect(node).toContain(`label_node_kubernetes_io_instance_type="${t}", label_karpenter_sh_capacity_type="spot"}) * ${spot})`);
      expect(node).toContain(`label_node_kubernetes_io_instance_type="${t}", label_eks_amazonaws_com_capacity_type="SPOT"}) * ${spot})`);
    }
    const cheaper = costRuleGroups({ ...prod, budget: { ...prod.budget, spotDiscount: 0.8 } }, rb);
    const t = types[0]!;
    const od = requireInstanceType(t).onDemandHourlyUsd;
    expect((cheaper[0]!.rules as RecordingRule[])[0]!.expr).toContain(`* ${Math.round(od * 0.2 * 1e6) / 1e6})`);
  });

  it("divides the model's node cost by its generated tokens and compares with the hosted reference", () => {
    const [rec, alerts] = costRuleGroups(prod, rb);
    const byName = (n: string) => (rec!.rules as RecordingRule[]).filter((q) => q.record === n);
    expect(byName(COST_RECORDS.modelCost)[0]!.expr).toContain('kube_pod_container_resource_requests{namespace="inference", resource="nvidia_com_gpu"}');
    expect(byName(COST_RECORDS.outputTokens)[0]!.expr).toContain("rate(vllm:generation_tokens_total");
    expect(byName(COST_RECORDS.costPerMTok)[0]!.expr).toMatch(/\/ 3600 \/ \(llm_platform:model_output_tokens_per_second:rate1h > 0\) \* 1000000$/);
    const hosted = byName(COST_RECORDS.hostedPerMTok).map((q) => [q.labels!.model_name, q.expr]);
    expect(hosted).toEqual(Object.keys(prod.models).map((k) => [k, `vector(${HOSTED_REFERENCE_PRICES[k as keyof typeof HOSTED_REFERENCE_PRICES].outputPerMTokUsd})`]));
    const alert = alerts!.rules.filter(isAlert)[0]!;
    expect(alert.alert).toBe("SelfHostedCostAboveHosted");
    expect(alert.expr).toBe(`${COST_RECORDS.costPerMTok} > on (model_name) ${COST_RECORDS.hostedPerMTok}`);
    expect(alert.for).toBe("6h");
  });

  it("allows the node labels the rules read in kube-state-metrics, under the names KSM gives them", () => {
    expect(COST_NODE_LABELS.map(ksmLabel)).toEqual(["label_node_kubernetes_io_instance_type", "label_karpenter_sh_capacity_type", "label_eks_amazonaws_com_capacity_type"]);
    const values = kubePrometheusStackValues({ obs: prod.observability, clusterName: "c", environment: "prod" }) as any;
    expect(values["kube-state-metrics"].metricLabelsAllowlist).toEqual(["nodes=[node.kubernetes.io/instance-type,karpenter.sh/capacity-type,eks.amazonaws.com/capacityType]"]);
  });

  it.each(STACKS)("%s: the rendered kube-prometheus-stack release carries the allowlist", async (name) => {
    const r = await stack(name);
    const rel = ofType(r, HELM_RELEASE_TYPE).find((x) => x.inputs.name === "kube-prometheus-stack")!;
    expect(rel.inputs.values["kube-state-metrics"].metricLabelsAllowlist[0]).toContain("karpenter.sh/capacity-type");
  });
});

describe("dashboards", () => {
  const src = fs.readFileSync(path.join(ROOT, "services/safety/src/metrics.ts"), "utf8");
  const sourceNames = new Set([...src.matchAll(/(?:name: |new Fast(?:Counter|Histogram)\(\s*)'(safety_[a-z_]+)'/g)].map((m) => m[1]!));

  it("reads the safety service's metric names from its source", () => {
    expect(sourceNames.size).toBeGreaterThanOrEqual(14);
    for (const n of Object.values(METRICS.safety)) expect(sourceNames.has(n), n).toBe(true);
  });

  it("the safety dashboard queries only names the service exports and covers what the issue lists", () => {
    const d = safetyDashboard();
    const exprs = d.panels.flatMap((p) => p.targets.map((t) => t.expr));
    const used = new Set(exprs.flatMap((e) => metricNames(e)).map((n) => n.replace(/_(bucket|sum|count)$/, "")));
    expect([...used].filter((n) => !sourceNames.has(n))).toEqual([]);
    for (const n of ["safety_requests_total", "safety_request_duration_seconds", "safety_verdict_categories_total", "safety_azure_attempts_total", "safety_azure_errors_total", "safety_azure_circuit_breaker_state"])
      expect(used.has(n), n).toBe(true);
    expect(exprs.some((e) => e.includes('category="azure_unavailable", level="blocked"'))).toBe(true);
    expect(exprs.some((e) => e.startsWith("histogram_quantile(0.95") && e.includes("safety_request_duration_seconds_bucket"))).toBe(true);
  });

  it("the SLO dashboard reads the recorded SLO series", () => {
    const exprs = sloDashboard().panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.map((e) => metricNames(e)[0])).toEqual(["slo:period_error_budget_remaining:ratio", "slo:current_burn_rate:ratio", "slo:sli_error:ratio_rate1h", "slo:error_budget:ratio"]);
  });
});

describe("alert thresholds that the seed sets come from config", () => {
  it("gateway 5xx ratio and vector-DB latency follow slo.*", () => {
    const byName = (slo: PlatformConfig["slo"]) => new Map(alertRuleGroups({ models: prod.models, runbookBaseUrl: RB, slo }).flatMap((g) => g.rules).map((q) => [q.alert, q.expr]));
    const d = byName(sloSchema.parse({}));
    expect(d.get("GatewayHighErrorRate")).toMatch(/> 0\.001$/);
    expect(d.get("MilvusSearchLatencyHigh")).toMatch(/^histogram_quantile\(0\.95,.*> 20$/);
    const c = byName(sloSchema.parse({ gateway: { availabilityPct: 99.5 }, vectorDb: { latencyMs: 40, latencyBudgetPct: 1 } }));
    expect(c.get("GatewayHighErrorRate")).toMatch(/> 0\.005$/);
    expect(c.get("MilvusSearchLatencyHigh")).toMatch(/^histogram_quantile\(0\.99,.*> 40$/);
  });
});
