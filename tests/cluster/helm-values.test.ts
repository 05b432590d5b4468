/**
 * Check 8: every Helm value the program sets is one the pinned chart reads (tests/cluster/helm-values.ts),
 * against ../shared/reference/charts. Each part of the check has a seeded mutation below.
 */
import { describe, expect, it } from "vitest";
import { guardReference, reference } from "../support/reference";
import { ofType, stack, STACKS, type RunResult } from "../support/stacks";
import {
  CHART_LAYOUT,
  chartName,
  coalesce,
  formatPath,
  NO_VALUES_CHARTS,
  PASS_THROUGH,
  referenceChart,
  releaseProblems,
  schemaProblems,
  unreadKeys,
  VERSION_EXCEPTIONS,
  versionProblems,
  type PassThrough,
  type ReleaseValues,
} from "./helm-values";

const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";
const charts = guardReference("charts", "Helm values checks (check 8)");

function releases(run: RunResult): ReleaseValues[] {
  return ofType(run, HELM_RELEASE).map((r) => ({ name: r.name, chart: String(r.inputs.chart), version: String(r.inputs.version), values: r.inputs.values ?? {} }));
}

async function releaseOf(stackName: string, chart: string): Promise<ReleaseValues> {
  const found = releases(await stack(stackName)).filter((r) => chartName(r.chart) === chart);
  if (found.length !== 1) throw new Error(`expected one ${chart} release in ${stackName}, found ${found.length}`);
  return structuredClone(found[0]!);
}

describe("the reference lookup", () => {
  it("reports a missing reference directory with its path instead of failing later", () => {
    const r = reference("charts", "/nonexistent/shared/reference");
    expect(r.present).toBe(false);
    expect(r.reason).toBe("reference data not found at /nonexistent/shared/reference/charts");
  });
});

describe("key paths", () => {
  it("quote keys that contain dots, as --set would need", () => {
    expect(formatPath(["nodeSelector", "nvidia.com/gpu.present"])).toBe('nodeSelector["nvidia.com/gpu.present"]');
    expect(formatPath(["grafana", "sidecar", "dashboards"])).toBe("grafana.sidecar.dashboards");
  });

  it("coalesce as Helm does: maps merge, a null removes the default", () => {
    expect(coalesce({ a: { b: 1, c: 2 }, d: 3 }, { a: { b: 5 }, d: null })).toEqual({ a: { b: 5, c: 2 } });
  });
});

describe.skipIf(!charts.present)("Helm values against the pinned charts", () => {
  const dir = charts.dir;

  describe.each(STACKS)("in %s", (name) => {
    it("every release's chart has a reference folder, or is installed with no values at all (NO_VALUES_CHARTS)", async () => {
      const rs = releases(await stack(name));
      const missing = rs.map((r) => chartName(r.chart)).filter((c) => !referenceChart(dir, c) && NO_VALUES_CHARTS[c] === undefined);
      expect(missing).toEqual([]);
      const valueless = rs.filter((r) => NO_VALUES_CHARTS[chartName(r.chart)] !== undefined && !referenceChart(dir, chartName(r.chart)));
      expect(valueless.flatMap((r) => releaseProblems(dir, r))).toEqual([]);
    });

    it("a chart with no reference folder fails once the program sets a value on it", () => {
      expect(releaseProblems(dir, { name: "istio-cni", chart: "cni", version: "1.30.3", values: { cni: { chained: false } } })).toEqual([`istio-cni: cni has no reference values under ${dir}, yet the program sets cni`]);
    });

    it("every key the program sets is read by the pinned chart (values.yaml or a recorded pass-through subtree)", async () => {
      const problems = releases(await stack(name)).flatMap((r) => {
        const ref = referenceChart(dir, chartName(r.chart));
        return ref ? unreadKeys(ref.name, r.values, ref.tree).map((p) => `${r.name} (${ref.name} ${r.version}): ${p}`) : [];
      });
      expect(problems).toEqual([]);
    });

    it("values validate against values.schema.json where the chart (or a subchart) has one", async () => {
      const rs = releases(await stack(name));
      const withSchema = rs.filter((r) => (referenceChart(dir, chartName(r.chart))?.schemas.length ?? 0) > 0);
      expect(withSchema.map((r) => chartName(r.chart))).toEqual(expect.arrayContaining(["external-secrets", "opentelemetry-collector"]));
      expect(withSchema.flatMap((r) => schemaProblems(referenceChart(dir, chartName(r.chart))!, r.values).map((p) => `${r.name}: ${p}`))).toEqual([]);
    });

    it("each release pins the reference chart's version (or a sourced exception)", async () => {
      const problems = releases(await stack(name)).flatMap((r) => {
        const ref = referenceChart(dir, chartName(r.chart));
        return ref ? versionProblems(ref, r.version).map((p) => `${r.name}: ${p}`) : [];
      });
      expect(problems).toEqual([]);
    });
  });

  describe("the fact tables", () => {
    it("every pass-through row is used by some stack's values (no stale facts) and names its source", async () => {
      const runs = await Promise.all(STACKS.map((s) => stack(s)));
      const used = (row: PassThrough) =>
        runs.some((run) =>
          releases(run).some((r) => {
            if (chartName(r.chart) !== row.chart) return false;
            let v: unknown = r.values;
            for (const k of row.path) v = v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
            return v !== undefined;
          }),
        );
      expect(PASS_THROUGH.filter((row) => !used(row)).map((row) => `${row.chart} ${formatPath(row.path)}`)).toEqual([]);
      for (const row of PASS_THROUGH) {
        expect(row.template, `${row.chart} ${formatPath(row.path)}`).toMatch(/\.(ya?ml|tpl)$/);
        expect(row.repo).toMatch(/^[\w.-]+\/[\w.-]+$/);
        expect(referenceChart(dir, row.chart), row.chart).toBeDefined();
      }
    });

    it("every version exception applies to a release, and flags a stand-in reference plainly", async () => {
      const runs = await Promise.all(STACKS.map((s) => stack(s)));
      const pinned = new Set(runs.flatMap((run) => releases(run).map((r) => `${chartName(r.chart)}@${r.version}`)));
      expect(Object.entries(VERSION_EXCEPTIONS).filter(([c, ex]) => !pinned.has(`${c}@${ex.forVersion}`))).toEqual([]);
      for (const [c, ex] of Object.entries(VERSION_EXCEPTIONS)) {
        if (ex.standIn) console.warn(`helm values: ${c} ${ex.forVersion} is checked against a stand-in reference, not the pinned release: ${ex.why}`);
      }
      expect(Object.entries(VERSION_EXCEPTIONS).filter(([, ex]) => ex.standIn).map(([c]) => c)).toEqual(["litellm-helm"]);
    });

    it("subcharts are addressed by their alias key (nvidia-device-plugin: node-feature-discovery as nfd; milvus: pulsarv2 as pulsar)", () => {
      expect(referenceChart(dir, "nvidia-device-plugin")!.tree).toHaveProperty("nfd");
      expect(referenceChart(dir, "nvidia-device-plugin")!.tree).not.toHaveProperty("node-feature-discovery");
      expect(CHART_LAYOUT.milvus!.subchartKeys).toMatchObject({ pulsarv2: "pulsar", pulsar: "pulsarv3" });
      expect(referenceChart(dir, "milvus")!.tree).toHaveProperty(["pulsarv3", "kube-prometheus-stack"]);
    });
  });

  describe("seeded mutations: each part of the check reports", () => {
    it("an unread key the chart removed (dcgm-exporter mapPodsMetrics) is reported, exactly that path", async () => {
      const r = await releaseOf("prod", "dcgm-exporter");
      expect(releaseProblems(dir, r)).toEqual([]);
      (r.values as Record<string, unknown>).mapPodsMetrics = true;
      expect(releaseProblems(dir, r)).toEqual([`${r.name}: dcgm-exporter 4.8.2 never reads mapPodsMetrics`]);
    });

    it("a typo in a nested key is reported (kube-prometheus-stack prometheusSpec.retension)", async () => {
      const r = await releaseOf("prod", "kube-prometheus-stack");
      const spec = (r.values as any).prometheus.prometheusSpec;
      spec.retension = spec.retention;
      delete spec.retention;
      expect(unreadKeys("kube-prometheus-stack", r.values, referenceChart(dir, "kube-prometheus-stack")!.tree)).toEqual(["prometheus.prometheusSpec.retension"]);
    });

    it("a typo under a subchart's alias key is reported (grafana.sidecar.dashboard)", async () => {
      const r = await releaseOf("prod", "kube-prometheus-stack");
      (r.values as any).grafana.sidecar.dashboard = { enabled: true };
      expect(unreadKeys("kube-prometheus-stack", r.values, referenceChart(dir, "kube-prometheus-stack")!.tree)).toEqual(["grafana.sidecar.dashboard"]);
    });

    it("keys under an Istio chart's defaults and its pilot.* alias are read; a typo there is not", async () => {
      const r = await releaseOf("prod", "istiod");
      expect(releaseProblems(dir, r)).toEqual([]);
      (r.values as any).pilot.replicaCont = 2;
      expect(unreadKeys("istiod", r.values, referenceChart(dir, "istiod")!.tree)).toEqual(["pilot.replicaCont"]);
    });

    it("without its pass-through row, a subtree's keys are reported (kube-prometheus-stack externalLabels)", async () => {
      const r = await releaseOf("prod", "kube-prometheus-stack");
      const rows = PASS_THROUGH.filter((row) => !(row.chart === "kube-prometheus-stack" && formatPath(row.path) === "prometheus.prometheusSpec.externalLabels"));
      expect(rows).toHaveLength(PASS_THROUGH.length - 1);
      expect(unreadKeys("kube-prometheus-stack", r.values, referenceChart(dir, "kube-prometheus-stack")!.tree, rows)).toEqual([
        "prometheus.prometheusSpec.externalLabels.cluster",
        "prometheus.prometheusSpec.externalLabels.environment",
      ]);
    });

    it("a 'key' row admits exactly that key, not its siblings (keda podDisruptionBudget.operator)", async () => {
      const r = await releaseOf("prod", "keda");
      const tree = referenceChart(dir, "keda")!.tree;
      expect(unreadKeys("keda", r.values, tree)).toEqual([]);
      (r.values as any).podDisruptionBudget.operator.minAvailabel = 1;
      expect(unreadKeys("keda", r.values, tree)).toEqual(["podDisruptionBudget.operator.minAvailabel"]);
      const rows = PASS_THROUGH.filter((row) => row.chart !== "keda");
      expect(unreadKeys("keda", r.values, tree, rows)).toEqual([
        "podDisruptionBudget.operator.minAvailable",
        "podDisruptionBudget.operator.minAvailabel",
        "podDisruptionBudget.webhooks.minAvailable",
      ]);
    });

    it("values.schema.json violations are reported (external-secrets replicaCount as a string)", async () => {
      const r = await releaseOf("prod", "external-secrets");
      const ref = referenceChart(dir, "external-secrets")!;
      expect(schemaProblems(ref, r.values)).toEqual([]);
      (r.values as any).replicaCount = "two";
      expect(schemaProblems(ref, r.values).join("\n")).toMatch(/external-secrets\/values\.schema\.json: \/replicaCount must be integer/);
    });

    it("a version that differs from the reference Chart.yaml is reported", async () => {
      const r = await releaseOf("prod", "external-secrets");
      expect(releaseProblems(dir, { ...r, version: "2.9.1" })).toEqual([`${r.name}: external-secrets: the release pins 2.9.1, the reference Chart.yaml is 2.9.0`]);
    });

    it("without its exception, a chart whose Chart.yaml lags the release is reported (karpenter)", async () => {
      const r = await releaseOf("prod", "karpenter");
      const ref = referenceChart(dir, "karpenter")!;
      expect(versionProblems(ref, r.version)).toEqual([]);
      const { karpenter: _dropped, ...rest } = VERSION_EXCEPTIONS;
      expect(versionProblems(ref, r.version, rest)).toEqual(["karpenter: the release pins 1.14.1, the reference Chart.yaml is 1.13.0"]);
      expect(versionProblems({ ...ref, source: "read at v1.13.0" }, r.version)).toEqual(["karpenter: SOURCE.txt does not name the release tag v1.14.1"]);
      expect(versionProblems(ref, "1.15.0")).toEqual(["karpenter: the release pins 1.15.0, but the exception is for 1.14.1"]);
    });

    it("a release with no reference chart is reported", () => {
      expect(releaseProblems(dir, { name: "x", chart: "oci://example.com/charts/nope", version: "1.0.0", values: {} })).toEqual([`x: no reference chart nope under ${dir}`]);
    });
  });
});
