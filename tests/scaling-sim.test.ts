/**
 * The scaling simulator (infra/scaling-sim.ts) on traces whose answers are worked out by hand in
 * the comments, and on the committed stacks for the relations that must hold between strategies.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  minuteDemand,
  parseTrace,
  readTrace,
  renderSimulation,
  simulate,
  simulationReport,
  TraceError,
  weightedPercentile,
  windowIntervals,
  zoneShiftMinutes,
  type SimModelInput,
} from "../infra/scaling-sim";
import { parsePlatformConfig, PROJECT, type PlatformConfig } from "../infra/config";
import { readStackConfig } from "./support/stacks";

function loadStack(stack: string): PlatformConfig {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(readStackConfig(stack))) {
    if (k === "aws:region") raw.region = v;
    else if (k.startsWith(`${PROJECT}:`)) raw[k.slice(PROJECT.length + 1)] = structuredClone(v);
  }
  return parsePlatformConfig(raw, stack);
}

const DAY = 1440;
/** 80 tok/s (or `base`) all day, 250 tok/s from minute 600 to 719. */
function stepDemand(base: number): number[] {
  return Array.from({ length: DAY }, (_, t) => (t >= 600 && t < 720 ? 250 : base));
}
const BASE: Omit<SimModelInput, "demand"> = {
  replicaTokensPerSecond: 100,
  min: 1,
  max: 4,
  coldStartMinutes: 5,
  reactionMinutes: 2,
  scaleDownMinutes: 5,
  gpusPerReplica: 1,
  baselineHourlyUsd: 1,
  burstHourlyUsd: 0.5,
  schedule: [],
};

describe("simulate: hand-computed traces", () => {
  it("constant demand inside the floor: nothing at risk, the floor's GPU-hours and dollars", () => {
    // 150 tok/s needs ceil(1.5) = 2 replicas = min; 2 x 24 h = 48 GPU-hours at $1/h.
    const r = simulate({ ...BASE, min: 2, demand: Array(DAY).fill(150) }, "reactive");
    expect(r).toEqual({ minutesAtRisk: 0, p95QueueWaitSeconds: 0, gpuHours: 48, usd: 48, peakReplicas: 2 });
  });

  it("reactive on a step: at risk for reaction + cold start minutes, then released after the scale-down window", () => {
    // Demand reaches 250 at minute 600; KEDA sees it at 602 (reaction 2) and asks for 3 replicas,
    // which serve from 607 (cold start 5): minutes 600-606 are at risk (7). Demand falls at 720,
    // seen at 722, held 5 minutes: 3 replicas (2 burst) from 602 to 726 = 125 minutes.
    // GPU-minutes 1440 + 2 x 125 = 1690; dollars (1440 x $1 + 250 x $0.5) / 60.
    const r = simulate({ ...BASE, demand: stepDemand(80) }, "reactive");
    expect(r.minutesAtRisk).toBe(7);
    expect(r.peakReplicas).toBe(3);
    expect(r.gpuHours).toBeCloseTo(1690 / 60, 9);
    expect(r.usd).toBeCloseTo((1440 + 125) / 60, 9);
  });

  it("the queue wait's p95 on a step with no other demand", () => {
    // 150 tok/s over capacity for minutes 600-606 queues 9000 tokens a minute (wait 90 ... 540 s at
    // 100 tok/s); from 607 three replicas drain 3000 tokens a minute: 63000/300 = 210 s, then
    // 200 ... 10 s. All 120 minutes weigh 250: 93 minutes wait 0, so p95 (the 114th of 120) is the
    // 21st smallest non-zero wait of {10..210 by 10} + {90, 180, 270, 360, 450, 540}: 190 s.
    const r = simulate({ ...BASE, demand: stepDemand(0) }, "reactive");
    expect(r.p95QueueWaitSeconds).toBeCloseTo(190, 9);
  });

  it("a schedule window that starts a cold start early removes the risk", () => {
    // Floor 3 from 590 to 730: the replicas serve from 595. Held until 734: 3 replicas for 145 minutes.
    const r = simulate({ ...BASE, demand: stepDemand(80), schedule: [{ start: 590, end: 730, replicas: 3 }] }, "scheduled");
    expect(r.minutesAtRisk).toBe(0);
    expect(r.gpuHours).toBeCloseTo((1440 + 2 * 145) / 60, 9);
    // The same schedule does nothing to the reactive strategy.
    expect(simulate({ ...BASE, demand: stepDemand(80), schedule: [{ start: 590, end: 730, replicas: 3 }] }, "reactive").minutesAtRisk).toBe(7);
  });

  it("a predictive floor with a lookahead above the cold start removes the risk", () => {
    // Lookahead 10: the floor is 3 for t in [590, 718]; with reactive raw 3 up to 721 and the
    // 5-minute hold, 3 replicas from 590 to 726 = 137 minutes; ready from 595.
    const r = simulate({ ...BASE, demand: stepDemand(80), predictive: { lookaheadMinutes: 10, growthFactor: 1 } }, "predictive");
    expect(r.minutesAtRisk).toBe(0);
    expect(r.gpuHours).toBeCloseTo((1440 + 2 * 137) / 60, 9);
    // A lookahead shorter than the cold start leaves part of the risk: floor from 597, ready at 602.
    expect(simulate({ ...BASE, demand: stepDemand(80), predictive: { lookaheadMinutes: 3, growthFactor: 1 } }, "predictive").minutesAtRisk).toBe(2);
  });

  it("scale from zero: the first minutes wait for reaction and a cold start", () => {
    // min 0: demand 50 from minute 100 to 159. Seen at 102, a replica serves from 107: minutes
    // 100-106 are at risk; the wait at 100 is (102 + 5 - 100) x 60 s = 420 s until it serves.
    const demand = Array.from({ length: DAY }, (_, t) => (t >= 100 && t < 160 ? 50 : 0));
    const r = simulate({ ...BASE, min: 0, demand }, "reactive");
    expect(r.minutesAtRisk).toBe(7);
    expect(r.peakReplicas).toBe(1);
  });

  it("weighted percentile", () => {
    expect(weightedPercentile([5, 1, 3], [1, 1, 1], 0.5)).toBe(3);
    expect(weightedPercentile([5, 1, 3], [0, 10, 0], 0.95)).toBe(1);
    expect(weightedPercentile([0, 100], [95, 5], 0.95)).toBe(0);
    expect(weightedPercentile([0, 100], [94, 6], 0.95)).toBe(100);
  });
});

describe("traces and windows", () => {
  it("the shipped trace parses: 168 hours, a weekday peak of 1, quiet weekends", () => {
    const t = readTrace();
    expect(t.hourly).toHaveLength(168);
    expect(Math.max(...t.hourly)).toBe(1);
    expect(Math.max(...t.hourly.slice(120))).toBeLessThanOrEqual(0.1);
    expect(minuteDemand(t, 1000)).toHaveLength(7 * DAY);
  });

  it("a broken trace names the field and the fix", () => {
    expect(() => parseTrace('{"name":"x","timezone":"UTC","hourly":[1,2]}', "t.json")).toThrow(TraceError);
    expect(() => parseTrace('{"name":"x","timezone":"UTC","hourly":[1,2]}', "t.json")).toThrow(/hourly: expected 168 numbers/);
    expect(() => parseTrace("not json", "t.json")).toThrow(/t\.json: not JSON/);
  });

  it("windows in another zone shift into the trace's week", () => {
    // 2026-01-05: Berlin is UTC+1, New York UTC-5: 09:00 in Berlin is 03:00 in New York.
    expect(zoneShiftMinutes("Europe/Berlin", "America/New_York")).toBe(-360);
    const w = windowIntervals([{ days: ["mon"], start: "09:00", end: "17:00", timezone: "Europe/Berlin", minReplicas: 2 }], "America/New_York");
    expect(w).toEqual([{ start: 180, end: 660, replicas: 2 }]);
    // Monday 02:00-04:00 Berlin is Sunday 20:00-22:00 in New York: the end of the week.
    expect(windowIntervals([{ days: ["mon"], start: "02:00", end: "04:00", timezone: "Europe/Berlin", minReplicas: 1 }], "America/New_York")).toEqual([
      { start: 7 * DAY - 240, end: 7 * DAY - 120, replicas: 1 },
    ]);
  });
});

describe.each(["dev", "staging", "prod"])("simulationReport: %s", (stack) => {
  let config: PlatformConfig;
  let rows: ReturnType<typeof simulationReport>;
  beforeAll(() => {
    config = loadStack(stack);
    // An injected per-replica capacity, the same for every model, so the relations are exact.
    rows = simulationReport(config, { replicaTokensPerSecond: () => 1000 });
  });

  it("has the four strategies for every model", () => {
    expect(rows.length).toBe(4 * Object.keys(config.models).length);
  });

  it("floors never add risk and never cost less than reactive", () => {
    for (const model of Object.keys(config.models)) {
      const by = Object.fromEntries(rows.filter((r) => r.model === model).map((r) => [r.strategy, r]));
      for (const s of ["scheduled", "predictive", "both"] as const) {
        expect(by[s]!.minutesAtRisk).toBeLessThanOrEqual(by.reactive!.minutesAtRisk);
        expect(by[s]!.gpuHoursPerWeek).toBeGreaterThanOrEqual(by.reactive!.gpuHoursPerWeek);
      }
    }
  });

  it("renders one line per row under a header", () => {
    const lines = renderSimulation(rows);
    expect(lines.length).toBe(rows.length + 3);
    expect(lines[2]).toMatch(/gpt-oss-\d+b\s+reactive\s+\d+ min/);
  });
});
