import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { configCapacityProblems } from "../infra/capacity";
import { HOSTED_REFERENCE_PRICES } from "../infra/catalog/hosted-prices";
import { requireInstanceType } from "../infra/catalog/instances";
import {
  estimateSaturation,
  GPU_PERFORMANCE,
  impliedInterTokenMs,
  MEASURED_POINTS,
  pointsFor,
  replicaThroughputAtSlo,
} from "../infra/catalog/throughput";
import { minReplicaNodeLines } from "../infra/cost";
import {
  gatewayTokenPrices,
  placeGpuReplicas,
  replicaHourlyUsd,
  unitEconomicsReport,
  usdPerMillionOutputTokens,
  type UnitEconomicsConfig,
} from "../infra/unit-economics";
import { HELM_RELEASE_TYPE } from "../stacks/plan/render";
import { CAPACITY_SLO_CASES, sloAnnotations, withSlo } from "./support/capacity-slo-cases";
import { check } from "./support/policy-harness";
import { ofType, readStackConfig, stack, STACKS } from "./support/stacks";

const cfgOf = async (name: string) => (await stack(name)).config as unknown as UnitEconomicsConfig;

describe("the money arithmetic, by hand", () => {
  it("$/1M output tokens = $/h / (tokens/s x utilization x 3600) x 1e6", () => {
    // $6.88/h, 1,000 tok/s at 50%: 1.8M tokens/h -> $3.8222 per 1M.
    expect(usdPerMillionOutputTokens(6.88, 1000, 0.5)).toBeCloseTo(3.82222, 4);
    // upstream-facts section 11: 120b on one H100 at full use, $55.04/8 per GPU-hour and 2,943 tok/s -> ~$0.65.
    expect(usdPerMillionOutputTokens(55.04 / 8, 2943, 1)).toBeCloseTo(0.6494, 3);
    expect(usdPerMillionOutputTokens(1, 0, 0.6)).toBe(Infinity);
  });

  it("a replica costs its GPUs' share of the node", () => {
    expect(replicaHourlyUsd(requireInstanceType("g5.12xlarge"), 2)).toBeCloseTo(2.836, 6);
    expect(replicaHourlyUsd(requireInstanceType("p4d.24xlarge"), 2)).toBeCloseTo(21.957642 / 4, 6);
  });

  it("reads the seed's p95 150 ms as TTFT; the end-to-end target sets the per-token pace", () => {
    expect(impliedInterTokenMs({ ttftP95Ms: 150, e2eP95Ms: 20000 }, 1024)).toBeCloseTo(19.385, 3);
    expect(impliedInterTokenMs({ ttftP95Ms: 150, e2eP95Ms: 20000 }, 194)).toBeCloseTo(102.32, 2);
  });

  it("counts the Karpenter nodes the minimum replicas need in the baseline, at the spot discount", () => {
    const lines = minReplicaNodeLines({
      spotDiscount: 0.6,
      minReplicaNodes: [
        { pool: "gpu-spot", instanceType: "g5.2xlarge", capacity: "spot" },
        { pool: "gpu-spot", instanceType: "g5.2xlarge", capacity: "spot" },
        { pool: "gpu-on-demand", instanceType: "g5.xlarge", capacity: "on-demand" },
      ],
    });
    expect(lines.map((l) => [l.resource, l.baselineMonthlyUsd, l.maxMonthlyUsd])).toEqual([
      ["gpu-spot", expect.closeTo(2 * 1.212 * 0.4 * 730, 6), 0],
      ["gpu-on-demand", expect.closeTo(1.006 * 730, 6), 0],
    ]);
  });
});

describe("the capacity catalog", () => {
  it("keeps the measured burst points with their source and caveat", () => {
    const h100 = MEASURED_POINTS.find((p) => p.model === "gpt-oss-20b" && p.gpu === "h100")!;
    expect(h100.outputTokensPerSecond).toBe(9064.4);
    expect(h100.provenance.kind).toBe("measured");
    expect(h100.provenance.note).toMatch(/not a figure at an SLO/);
    expect(pointsFor("gpt-oss-120b", { gpu: "h100", tensorParallelSize: 4 })[0]!.outputTokensPerSecond).toBe(11327);
  });

  it("labels an estimate and states its model: 20b on L40S from A100-80GB by min(bandwidth, TFLOPS)", () => {
    const [p] = pointsFor("gpt-oss-20b", { gpu: "l40s", tensorParallelSize: 1 });
    expect(p!.provenance.kind).toBe("estimate");
    expect(p!.provenance.source).toMatch(/^estimate from measured gpt-oss-20b a100-80gb TP1/);
    expect(p!.outputTokensPerSecond).toBeCloseTo(5179.92 * (864 / 2039), 6);
    // A10G is compute-bound by the rule: 70 / 312 TFLOPS < 600 / 2039 GB/s.
    expect(pointsFor("gpt-oss-20b", { gpu: "a10g", tensorParallelSize: 1 })[0]!.outputTokensPerSecond).toBeCloseTo(5179.92 * (70 / 312), 6);
    expect(GPU_PERFORMANCE.a10g.source).toMatch(/600 GB\/s/);
  });

  it("checks the estimate rule against the measurements it did not use (-6% and +32%)", () => {
    const only = (gpu: "a100-80gb") => MEASURED_POINTS.filter((p) => p.gpu === gpu);
    const e20 = estimateSaturation("gpt-oss-20b", { gpu: "h100", tensorParallelSize: 1 }, only("a100-80gb"))!;
    expect(e20.outputTokensPerSecond / 9064.4).toBeCloseTo(0.939, 2);
    const e120 = estimateSaturation("gpt-oss-120b", { gpu: "h100", tensorParallelSize: 1 }, only("a100-80gb"))!;
    expect(e120.outputTokensPerSecond / 2943).toBeCloseTo(1.324, 2);
  });

  it("derates burst throughput to the TTFT target with the stated M/M/1 model, and labels it an estimate", () => {
    const r = replicaThroughputAtSlo("gpt-oss-20b", { gpu: "h100", tensorParallelSize: 1 }, { ttftP95Ms: 150 });
    const t0 = (1024 / (999120 / 32.58)) * 1000; // measured prefill, 1,024-token p95 prompt
    expect(r.unloadedTtftP95Ms).toBeCloseTo(t0, 6);
    expect(r.utilizationAtSlo).toBeCloseTo(1 - t0 / 150, 9);
    expect(r.tokensPerSecond).toBeCloseTo(9064.4 * (1 - t0 / 150), 6);
    expect(r).toMatchObject({ basis: "estimate", saturationBasis: "measured" });
    // A shorter prompt leaves more of the replica usable.
    expect(replicaThroughputAtSlo("gpt-oss-20b", { gpu: "h100", tensorParallelSize: 1 }, { ttftP95Ms: 150 }, { promptTokensP95: 256 }).tokensPerSecond).toBeGreaterThan(r.tokensPerSecond);
  });

  it("says plainly when no load meets the target: 20b on A10G at 150 ms", () => {
    const r = replicaThroughputAtSlo("gpt-oss-20b", { gpu: "a10g", tensorParallelSize: 1 }, { ttftP95Ms: 150 });
    expect(r.tokensPerSecond).toBe(0);
    expect(r.unloadedTtftP95Ms).toBeGreaterThan(150);
    expect(r.note).toMatch(/no load meets it \(estimate\)/);
  });
});

describe("calibrated points (throughput-calibrated.json) outrank measurements and estimates", () => {
  it("answers from a calibrated point with TTFT p95 under the target, and takes a calibrated saturation over a measured one", async () => {
    vi.resetModules();
    vi.doMock("../infra/catalog/throughput-calibrated.json", () => ({
      default: {
        points: [
          { model: "gpt-oss-20b", gpu: "a10g", tensorParallelSize: 1, concurrency: 16, outputTokensPerSecond: 900, ttftMs: { p95: 120 }, provenance: { kind: "calibrated", source: "load test run-1" } },
          { model: "gpt-oss-20b", gpu: "a10g", tensorParallelSize: 1, concurrency: 64, outputTokensPerSecond: 1400, ttftMs: { p95: 900 }, provenance: { kind: "calibrated", source: "load test run-1" } },
          { model: "gpt-oss-20b", gpu: "h100", tensorParallelSize: 1, concurrency: 512, outputTokensPerSecond: 10000, provenance: { kind: "calibrated", source: "load test run-2" } },
        ],
      },
    }));
    const t = await import("../infra/catalog/throughput");
    const a10g = t.replicaThroughputAtSlo("gpt-oss-20b", { gpu: "a10g", tensorParallelSize: 1 }, { ttftP95Ms: 150 });
    expect(a10g).toMatchObject({ tokensPerSecond: 900, basis: "calibrated", source: "load test run-1" });
    const h100 = t.replicaThroughputAtSlo("gpt-oss-20b", { gpu: "h100", tensorParallelSize: 1 }, { ttftP95Ms: 150 });
    expect(h100).toMatchObject({ saturationTokensPerSecond: 10000, saturationBasis: "calibrated", basis: "estimate" });
    expect(t.pointsFor("gpt-oss-20b", { gpu: "h100", tensorParallelSize: 1 }).map((p) => p.provenance.kind)).toEqual(["calibrated", "measured"]);
    vi.doUnmock("../infra/catalog/throughput-calibrated.json");
    vi.resetModules();
  });

  it("refuses a malformed calibrated file, naming the file and the entry", async () => {
    vi.resetModules();
    vi.doMock("../infra/catalog/throughput-calibrated.json", () => ({ default: { points: [{ model: "gpt-oss-20b", gpu: "tpu", tensorParallelSize: 1, concurrency: 1, outputTokensPerSecond: 5, provenance: { kind: "calibrated", source: "x" } }] } }));
    await expect(import("../infra/catalog/throughput")).rejects.toThrow(/throughput-calibrated\.json points\[0\]: gpu tpu is not a GpuModel/);
    vi.doUnmock("../infra/catalog/throughput-calibrated.json");
    vi.resetModules();
  });

  it("the committed file is the calibrate tool's empty start", () => {
    expect(JSON.parse(fs.readFileSync(path.join(__dirname, "..", "infra", "catalog", "throughput-calibrated.json"), "utf8"))).toHaveProperty("points");
  });
});

describe.each(STACKS)("unit economics of %s", (name) => {
  it("places replicas as the capacity rule does: every replicas.max placed exactly when the cross-check finds no shortfall", async () => {
    const c = await cfgOf(name);
    const placed = placeGpuReplicas(c, "max");
    const short = configCapacityProblems(c).filter((p) => p.path.endsWith(".replicas.max"));
    for (const [key, m] of Object.entries(c.models)) expect(placed.replicas.get(`models.${key}`)!.length === m!.replicas.max).toBe(!short.some((p) => p.path === `models.${key}.replicas.max`));
  });

  it("gives the gateway the unit-economics prices, and they recover the replica cost for the stated token mix", async () => {
    const r = await stack(name);
    const c = r.config as unknown as UnitEconomicsConfig;
    const rows = unitEconomicsReport(c);
    const prices = gatewayTokenPrices(c);
    const litellm = ofType(r, HELM_RELEASE_TYPE).find((x) => x.inputs.name === "litellm");
    if (litellm) {
      for (const row of rows) {
        const route = litellm.inputs.values.proxy_config.model_list.find((m: any) => m.model_name === row.model);
        expect(route.model_info).toMatchObject({ mode: "chat", input_cost_per_token: prices[row.model]!.inputCostPerToken, output_cost_per_token: prices[row.model]!.outputCostPerToken });
      }
    }
    for (const row of rows) {
      const tokensPerHour = row.pricedTokensPerSecond * c.economics.targetUtilization * 3600;
      const spend = tokensPerHour * (row.gateway.outputCostPerToken + c.economics.inputTokensPerOutputToken * row.gateway.inputCostPerToken);
      expect(spend).toBeCloseTo(row.replicaHourlyUsd.spotMix, 9);
      expect(row.hosted.outputPerMTokUsd).toBe(HOSTED_REFERENCE_PRICES[row.model].outputPerMTokUsd);
      expect(["measured", "estimate", "calibrated"]).toContain(row.basis);
    }
  });
});

describe("prod's committed config", () => {
  it("meets each model's SLO throughput at replicas.max and half of it at replicas.min", async () => {
    const rows = unitEconomicsReport(await cfgOf("prod"));
    expect(rows.map((r) => r.model).sort()).toEqual(["gpt-oss-120b", "gpt-oss-20b"]);
    for (const r of rows) {
      expect(r.coverage.max).toBeGreaterThanOrEqual(1);
      expect(r.coverage.baseline).toBeGreaterThanOrEqual(0.5);
    }
  });
});

describe("the capacity policies", () => {
  it("read each model's SLO from its Deployment, as the stack file states it, and keep the economics settings equal to the stack files", async () => {
    for (const env of ["staging", "prod"] as const) {
      const r = await stack(env);
      const raw = readStackConfig(env) as Record<string, any>;
      for (const [k, m] of Object.entries<any>(raw["llm-platform:models"])) {
        const d = r.resources.find((x: any) => x.type === "kubernetes:apps/v1:Deployment" && x.inputs.metadata.labels?.["llm-platform.io/model"] === k)!;
        expect((d.inputs as any).metadata.annotations).toMatchObject(sloAnnotations({ ttftP95Ms: m.slo.ttftP95Ms, throughputTokensPerSecond: m.slo.throughputTokensPerSecond }));
      }
      const pc = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "policies", "config", `${env}.json`), "utf8"));
      for (const name of ["capacity-slo-at-max", "capacity-slo-baseline", "token-cost-vs-hosted"]) {
        expect(pc[name].models).toBeUndefined();
        expect(pc[name].promptTokensP95).toBe(raw["llm-platform:economics"]?.promptTokensP95 ?? 1024);
      }
      expect(pc["token-cost-vs-hosted"].spotDiscount).toBe(raw["llm-platform:budget"].spotDiscount);
      expect(pc["token-cost-vs-hosted"].targetUtilization).toBe(raw["llm-platform:economics"]?.targetUtilization ?? 0.6);
    }
  });

  it("pass prod's committed resources", async () => {
    const r = await stack("prod");
    expect(await check("capacity-slo-at-max", r.resources)).toEqual([]);
    expect(await check("capacity-slo-baseline", r.resources, { baselineShare: 0.5 })).toEqual([]);
  });

  it("fail when replicas.max cannot carry the target, naming the replica count that would", async () => {
    const r = await stack("prod");
    const v = await check("capacity-slo-at-max", withSlo(r.resources, "gpt-oss-20b", { ttftP95Ms: 150, throughputTokensPerSecond: 30000 }));
    expect(v).toHaveLength(1);
    // One H100 replica: 9,064.4 x (1 - 33.4/150) = 7,047 tok/s -> 5 replicas for 30,000.
    expect(v[0]!.message).toMatch(/gpt-oss-20b on 1 x h100\): maximum 3 replica\(s\) x 7,047 tok\/s .* below 30,000 \[estimate.*raise models\.gpt-oss-20b\.replicas\.max to 5/);
  });

  it("fail the baseline when replicas.min covers less than the configured share", async () => {
    const r = await stack("prod");
    const v = await check("capacity-slo-baseline", r.resources, { baselineShare: 1, promptTokensP95: 1024 });
    expect(v).toEqual([]);
    const v2 = await check("capacity-slo-baseline", withSlo(r.resources, "gpt-oss-120b", { ttftP95Ms: 300, throughputTokensPerSecond: 5000 }), { baselineShare: 1 });
    expect(v2.map((x) => x.message)).toEqual([expect.stringMatching(/gpt-oss-120b .*baseline \(100% of the SLO throughput\): 2 replica\(s\) .* below 5,000 .*raise models\.gpt-oss-120b\.replicas\.min to 3/)]);
  });

  it("say no replica count suffices where the GPU cannot reach the TTFT target (staging's 20b on A10G)", async () => {
    const r = await stack("staging");
    const v = await check("capacity-slo-at-max", withSlo(r.resources, "gpt-oss-20b", { ttftP95Ms: 150, throughputTokensPerSecond: 500 }));
    expect(v.map((x) => x.message)).toEqual([expect.stringMatching(/no replica count suffices on a10g/)]);
  });

  it("flag $/token above the hosted reference, and not below it", async () => {
    const r = await stack("prod");
    const cfg = { targetUtilization: 0.6, inputTokensPerOutputToken: 1.1, spotDiscount: 0.6 };
    const v = await check("token-cost-vs-hosted", r.resources, cfg);
    // 120b on one H100 on-demand: $6.88/h over 2,258 tok/s x 60% -> $1.41 per 1M against $0.60 + 1.1 x $0.15.
    expect(v.some((x) => /gpt-oss-120b on 1 x p5\.4xlarge, on-demand\): \$1\.41\d per 1M .*above the hosted reference \$0\.765/.test(x.message))).toBe(true);
    const cheap = await check("token-cost-vs-hosted", r.resources, { ...cfg, targetUtilization: 1 });
    // At full use: 120b $6.88 / (2,258 x 3600) x 1e6 = $0.846 > $0.765 still; 20b $6.88 / (7,047 x 3600) x 1e6 = $0.271 < $0.316.
    expect(cheap.map((x) => x.message)).toEqual([expect.stringMatching(/gpt-oss-120b on 1 x p5\.4xlarge/)]);
  });
});

describe.each(Object.entries(CAPACITY_SLO_CASES))("%s on crafted resources", (policy, cases) => {
  it.each(cases)("$name", async (c) => {
    const messages = (await check(policy, c.resources, c.config)).map((v) => v.message);
    expect(messages, messages.join("\n")).toHaveLength(c.violations.length);
    for (const re of c.violations) expect(messages.some((m) => re.test(m)), `${re} in:\n${messages.join("\n")}`).toBe(true);
  });
});
