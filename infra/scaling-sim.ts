/**
 * The scaling preview (issue 16, docs/scaling.md "The simulator"): a deterministic, pure replay of
 * a week of demand against four ways of scaling a model:
 *
 * - `reactive`: KEDA on the model's own signals only. It sees demand `reactionMinutes` late
 *   (polling plus the HPA's 60 s scale-up window) and a new replica serves `coldStartMinutes`
 *   after it is asked for (the new-node cold start, infra/coldstart.ts).
 * - `scheduled`: reactive plus the configured time windows' floors (KEDA cron).
 * - `predictive`: reactive plus the seasonal floor (last week's demand over the lookahead, times
 *   the growth factor; a weekly trace repeats, so last week is the trace itself).
 * - `both`: reactive plus both floors (what staging and prod configure).
 *
 * Per minute: the desired count is the largest of the triggers, clamped to [min, max], held for
 * `scaleDownMinutes` before it may fall (HPA scale-down stabilization); new replicas join after the
 * cold start; capacity = ready replicas x one replica's sustained output tokens/s. Demand above
 * capacity is SLO at risk and feeds a fluid FIFO queue whose wait is reported at p95 (weighted by
 * demand). GPU-hours count every replica that holds a GPU (starting or ready); dollars price
 * replicas up to `replicas.min` at the model's pool capacity type and burst replicas at Karpenter
 * spot (when the spot NodePool is on), with `budget.spotDiscount` off on-demand
 * (infra/catalog/instances.ts prices).
 *
 * The week runs twice and the second is reported, so the start state does not bias it.
 * Ground floor: imports only infra/.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { requireInstanceType } from "./catalog/instances";
import { replicaThroughputAtSlo } from "./catalog/throughput";
import { coldStartEstimate } from "./coldstart";
import type { LlmModelKey } from "./catalog/models";
import type { PlatformConfig } from "./config";
import { minutesOfDay, WEEKDAYS, type ScheduleWindow } from "./config/scaling";

export const WEEK_MINUTES = 7 * 24 * 60;
export const STRATEGIES = ["reactive", "scheduled", "predictive", "both"] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** A floor interval in minutes of the trace's week [start, end). */
export interface FloorInterval {
  readonly start: number;
  readonly end: number;
  readonly replicas: number;
}

export interface SimModelInput {
  /** Output tokens/s asked of the model, one value per minute of the week (Monday 00:00 first). */
  readonly demand: readonly number[];
  /** One replica's sustained output tokens/s at the SLO. */
  readonly replicaTokensPerSecond: number;
  readonly min: number;
  readonly max: number;
  readonly coldStartMinutes: number;
  readonly reactionMinutes: number;
  readonly scaleDownMinutes: number;
  readonly gpusPerReplica: number;
  /** $/hour of a replica up to `min` (the managed baseline's capacity type). */
  readonly baselineHourlyUsd: number;
  /** $/hour of a replica above `min` (Karpenter burst). */
  readonly burstHourlyUsd: number;
  readonly schedule: readonly FloorInterval[];
  readonly predictive?: { readonly lookaheadMinutes: number; readonly growthFactor: number };
}

export interface SimResult {
  /** Minutes in which demand exceeded the ready replicas' capacity. */
  readonly minutesAtRisk: number;
  /** p95 over demand of the queue wait, seconds. */
  readonly p95QueueWaitSeconds: number;
  readonly gpuHours: number;
  readonly usd: number;
  /** The largest replica count reached. */
  readonly peakReplicas: number;
}

function ceilDiv(a: number, b: number): number {
  return a <= 0 ? 0 : Math.ceil(a / b - 1e-9);
}

/** The floor of the schedule windows at minute t of the week. */
function scheduleFloor(schedule: readonly FloorInterval[], t: number): number {
  return schedule.reduce((m, w) => (t >= w.start && t < w.end ? Math.max(m, w.replicas) : m), 0);
}

/** The predictive floor at minute t: last week's peak over (t, t + lookahead], x growth, in replicas. */
function predictiveFloor(m: SimModelInput, t: number): number {
  const p = m.predictive!;
  const n = m.demand.length;
  let peak = 0;
  for (let k = 1; k <= p.lookaheadMinutes; k++) peak = Math.max(peak, m.demand[(t + k) % n]!);
  return ceilDiv(peak * p.growthFactor, m.replicaTokensPerSecond);
}

/** Weighted percentile: the smallest value whose cumulative weight reaches q of the total. */
export function weightedPercentile(values: readonly number[], weights: readonly number[], q: number): number {
  const idx = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return 0;
  let acc = 0;
  for (const i of idx) {
    acc += weights[i]!;
    if (acc >= q * total - 1e-9) return values[i]!;
  }
  return values[idx[idx.length - 1]!]!;
}

export function simulate(m: SimModelInput, strategy: Strategy): SimResult {
  const n = m.demand.length;
  const useSchedule = strategy === "scheduled" || strategy === "both";
  const usePredictive = (strategy === "predictive" || strategy === "both") && m.predictive !== undefined;
  let ready = m.min;
  let pending: number[] = []; // minute each starting replica becomes ready
  let queue = 0; // tokens waiting
  const rawDesired: number[] = [];
  let atRisk = 0;
  let gpuMinutes = 0;
  let usdMinutes = 0;
  let peak = ready;
  const waits: number[] = [];
  const weights: number[] = [];
  for (let step = 0; step < 2 * n; step++) {
    const t = step % n;
    const measure = step >= n;
    // Replicas whose cold start has finished join.
    const joined = pending.filter((r) => r <= step).length;
    ready += joined;
    pending = pending.filter((r) => r > step);

    // What the triggers ask for now.
    const seen = step - m.reactionMinutes >= 0 ? m.demand[(step - m.reactionMinutes) % n]! : m.demand[t]!;
    let want = ceilDiv(seen, m.replicaTokensPerSecond);
    if (useSchedule) want = Math.max(want, scheduleFloor(m.schedule, t));
    if (usePredictive) want = Math.max(want, predictiveFloor(m, t));
    want = Math.min(m.max, Math.max(m.min, want));
    rawDesired.push(want);
    // Scale-down stabilization: the largest desire of the last scaleDownMinutes.
    let desired = want;
    for (let k = 1; k <= m.scaleDownMinutes && step - k >= 0; k++) desired = Math.max(desired, rawDesired[step - k]!);
    const have = ready + pending.length;
    if (desired > have) for (let k = 0; k < desired - have; k++) pending.push(step + m.coldStartMinutes);
    else if (desired < have) {
      let drop = have - desired;
      // Starting replicas go first (the latest asked for), then ready ones.
      pending.sort((a, b) => a - b);
      while (drop > 0 && pending.length > 0) {
        pending.pop();
        drop--;
      }
      ready -= drop;
    }
    peak = Math.max(peak, ready + pending.length);

    // Serve the minute.
    const d = m.demand[t]!;
    const cap = ready * m.replicaTokensPerSecond;
    let wait: number;
    if (cap > 0) wait = queue / cap;
    else if (d > 0 || queue > 0) {
      const next = pending.length > 0 ? Math.min(...pending) : step + m.reactionMinutes + m.coldStartMinutes;
      wait = (next - step) * 60 + queue / m.replicaTokensPerSecond;
    } else wait = 0;
    queue = Math.max(0, queue + (d - cap) * 60);
    if (measure) {
      if (d > cap + 1e-9) atRisk++;
      waits.push(wait);
      weights.push(d);
      const count = ready + pending.length;
      gpuMinutes += count * m.gpusPerReplica;
      usdMinutes += Math.min(count, m.min) * m.baselineHourlyUsd + Math.max(0, count - m.min) * m.burstHourlyUsd;
    }
  }
  return {
    minutesAtRisk: atRisk,
    p95QueueWaitSeconds: weightedPercentile(waits, weights, 0.95),
    gpuHours: gpuMinutes / 60,
    usd: usdMinutes / 60,
    peakReplicas: peak,
  };
}

// ---------------------------------------------------------------------------------------------
// Traces

/** A weekly demand profile: 168 hourly fractions of each model's peak, Monday 00:00 first. */
export interface Trace {
  readonly name: string;
  readonly description?: string;
  /** IANA zone the profile's hours are in (schedule windows in other zones are shifted). */
  readonly timezone: string;
  /** Fractions of the peak (0-1 or more), one per hour of the week. */
  readonly hourly: readonly number[];
  /** Peak output tokens/s per model; omitted: the model's slo.throughputTokensPerSecond. */
  readonly peakTokensPerSecond?: Readonly<Record<string, number>>;
}

export const DEFAULT_TRACE_FILE = path.join(__dirname, "catalog", "traces", "weekday-business.json");

export class TraceError extends Error {}

export function parseTrace(text: string, file: string): Trace {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new TraceError(`${file}: not JSON (${(e as Error).message})`);
  }
  const t = doc as Partial<Trace>;
  const problems: string[] = [];
  if (typeof t.name !== "string") problems.push("name: expected a string");
  if (typeof t.timezone !== "string") problems.push('timezone: expected an IANA zone such as "America/New_York"');
  if (!Array.isArray(t.hourly) || t.hourly.length !== 168 || t.hourly.some((v) => typeof v !== "number" || !(v >= 0)))
    problems.push("hourly: expected 168 numbers >= 0 (one per hour of the week, Monday 00:00 first)");
  if (t.peakTokensPerSecond !== undefined && (typeof t.peakTokensPerSecond !== "object" || Object.values(t.peakTokensPerSecond).some((v) => typeof v !== "number" || !(v > 0))))
    problems.push("peakTokensPerSecond: expected { <model>: tokens/s > 0 }");
  if (problems.length) throw new TraceError(`${file}: ${problems.join("; ")}`);
  return t as Trace;
}

export function readTrace(file: string = DEFAULT_TRACE_FILE): Trace {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new TraceError(`${file}: cannot read the trace file`);
  }
  return parseTrace(text, file);
}

/** Minutes to add to a time in zone `from` to get the same instant in zone `to`, at a fixed reference date (no DST modelled). */
export function zoneShiftMinutes(from: string, to: string, reference = Date.UTC(2026, 0, 5)): number {
  const offset = (tz: string) => {
    const parts = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).formatToParts(reference);
    const g = (k: string) => Number(parts.find((p) => p.type === k)!.value);
    return (Date.UTC(g("year"), g("month") - 1, g("day"), g("hour"), g("minute")) - reference) / 60000;
  };
  return offset(to) - offset(from);
}

/** Schedule windows as floor intervals in the trace's week. */
export function windowIntervals(windows: readonly ScheduleWindow[], traceZone: string): FloorInterval[] {
  const out: FloorInterval[] = [];
  for (const w of windows) {
    const shift = zoneShiftMinutes(w.timezone, traceZone);
    for (const day of w.days) {
      const base = WEEKDAYS.indexOf(day) * 1440;
      const start = (((base + minutesOfDay(w.start) + shift) % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES;
      const len = minutesOfDay(w.end) - minutesOfDay(w.start);
      if (start + len <= WEEK_MINUTES) out.push({ start, end: start + len, replicas: w.minReplicas });
      else out.push({ start, end: WEEK_MINUTES, replicas: w.minReplicas }, { start: 0, end: start + len - WEEK_MINUTES, replicas: w.minReplicas });
    }
  }
  return out;
}

/** The trace's per-minute demand for a model with the given peak (each hour held flat). */
export function minuteDemand(trace: Trace, peakTokensPerSecond: number): number[] {
  const out: number[] = [];
  for (const f of trace.hourly) for (let k = 0; k < 60; k++) out.push(f * peakTokensPerSecond);
  return out;
}

// ---------------------------------------------------------------------------------------------
// From the platform's config

/** HPA scale-up stabilization in modelScaledObject (components/model-server.ts), seconds. */
export const SCALE_UP_WINDOW_SECONDS = 60;
/** HPA scale-down stabilization in modelScaledObject, seconds. */
export const SCALE_DOWN_WINDOW_SECONDS = 300;

export interface ReplicaCapacity {
  readonly tokensPerSecond: number;
  /** `slo`: the capacity catalog's tokens/s at the TTFT target; `saturation`: the target is out of reach on this GPU, so saturation x the KV-cache target. */
  readonly basis: "slo" | "saturation";
}

/**
 * One replica's output tokens/s for scaling (infra/catalog/throughput.ts `replicaThroughputAtSlo`).
 * Where the catalog says no load meets the TTFT target on this GPU (tokens/s 0: the capacity
 * policies report that), the autoscaler still runs replicas up to its KV-cache target, so the
 * preview and the predictive threshold use saturation x `autoscaling.kvCacheUsageTarget`.
 */
export function replicaCapacity(key: LlmModelKey, instanceType: string, tensorParallelSize: number, ttftP95Ms: number, kvCacheUsageTarget: number): ReplicaCapacity {
  const gpu = requireInstanceType(instanceType).gpu!.model;
  const t = replicaThroughputAtSlo(key, { gpu, tensorParallelSize }, { ttftP95Ms });
  if (t.tokensPerSecond > 0) return { tokensPerSecond: t.tokensPerSecond, basis: "slo" };
  return { tokensPerSecond: t.saturationTokensPerSecond * kvCacheUsageTarget, basis: "saturation" };
}

export interface SimulationRow {
  readonly model: string;
  readonly strategy: Strategy;
  readonly minutesAtRisk: number;
  readonly p95QueueWaitSeconds: number;
  readonly gpuHoursPerWeek: number;
  readonly usdPerWeek: number;
  readonly peakReplicas: number;
  readonly replicaTokensPerSecond: number;
  readonly capacityBasis: ReplicaCapacity["basis"] | "given";
}

export interface SimulationOptions {
  readonly trace?: Trace;
  /**
   * One replica's sustained output tokens/s, per model; default `replicaCapacity` (the capacity
   * catalog). Models it gives no positive figure for are left out of the report.
   */
  readonly replicaTokensPerSecond?: (key: LlmModelKey, instanceType: string, tensorParallelSize: number) => number | undefined;
}

type SimConfig = Pick<PlatformConfig, "models" | "gpuPools" | "karpenter" | "budget">;

export function simulationReport(config: SimConfig, opts: SimulationOptions = {}): SimulationRow[] {
  const trace = opts.trace ?? readTrace();
  const rows: SimulationRow[] = [];
  for (const [key, m] of Object.entries(config.models) as [LlmModelKey, NonNullable<SimConfig["models"][LlmModelKey]>][]) {
    const pool = config.gpuPools[m.pool];
    if (!pool) continue;
    const type = pool.instanceTypes.map(requireInstanceType).reduce((a, b) => (b.onDemandHourlyUsd / b.gpu!.count < a.onDemandHourlyUsd / a.gpu!.count ? b : a));
    const capacity: { tokensPerSecond: number | undefined; basis: SimulationRow["capacityBasis"] } = opts.replicaTokensPerSecond
      ? { tokensPerSecond: opts.replicaTokensPerSecond(key, type.name, m.tensorParallelSize), basis: "given" }
      : replicaCapacity(key, type.name, m.tensorParallelSize, m.slo.ttftP95Ms, m.autoscaling.kvCacheUsageTarget);
    const r = capacity.tokensPerSecond;
    if (r === undefined || !(r > 0)) continue;
    const peak = trace.peakTokensPerSecond?.[key] ?? m.slo.throughputTokensPerSecond ?? 0.7 * m.replicas.max * r;
    const cold = coldStartEstimate(key, { instanceType: type.name, tensorParallelSize: m.tensorParallelSize }, "new", { weightsSource: m.weights.source });
    const coldStartMinutes = Math.ceil(cold.totalSeconds / 60);
    const perReplicaOnDemand = (type.onDemandHourlyUsd * m.tensorParallelSize) / type.gpu!.count;
    const spot = perReplicaOnDemand * (1 - config.budget.spotDiscount);
    const baselineHourlyUsd = pool.capacityType === "SPOT" ? spot : perReplicaOnDemand;
    const burstHourlyUsd = config.karpenter.gpuSpot.enabled ? spot : perReplicaOnDemand;
    const p = m.predictive;
    const input: SimModelInput = {
      demand: minuteDemand(trace, peak),
      replicaTokensPerSecond: r,
      min: m.replicas.min,
      max: m.replicas.max,
      coldStartMinutes,
      reactionMinutes: Math.ceil((m.autoscaling.pollingIntervalSeconds + SCALE_UP_WINDOW_SECONDS) / 60),
      scaleDownMinutes: Math.ceil(Math.max(SCALE_DOWN_WINDOW_SECONDS, m.autoscaling.cooldownSeconds) / 60),
      gpusPerReplica: m.tensorParallelSize,
      baselineHourlyUsd,
      burstHourlyUsd,
      schedule: windowIntervals(m.schedule ?? [], trace.timezone),
      // The preview shows what a predictive floor would do even where it is off.
      predictive: {
        lookaheadMinutes: p?.lookaheadMinutes ?? Math.max(5, Math.ceil(cold.totalSeconds / 300) * 5),
        growthFactor: p?.growthFactor ?? 1.2,
      },
    };
    for (const strategy of STRATEGIES) {
      const res = simulate(input, strategy);
      rows.push({
        model: key,
        strategy,
        minutesAtRisk: res.minutesAtRisk,
        p95QueueWaitSeconds: Math.round(res.p95QueueWaitSeconds * 10) / 10,
        gpuHoursPerWeek: Math.round(res.gpuHours * 10) / 10,
        usdPerWeek: Math.round(res.usd * 100) / 100,
        peakReplicas: res.peakReplicas,
        replicaTokensPerSecond: Math.round(r),
        capacityBasis: capacity.basis,
      });
    }
  }
  return rows;
}

/** The plan's table: per model and strategy, the SLO-at-risk minutes, p95 queue wait, GPU-hours and dollars per week. */
export function renderSimulation(rows: readonly SimulationRow[], traceName = "weekday-business"): string[] {
  if (rows.length === 0) return [];
  const out = [`Scaling preview, one week of the "${traceName}" trace (infra/scaling-sim.ts; docs/scaling.md):`];
  out.push(`  ${"model".padEnd(14)} ${"strategy".padEnd(10)} ${"at risk".padStart(9)} ${"p95 wait".padStart(9)} ${"GPU-h".padStart(7)} ${"$/week".padStart(10)} ${"peak".padStart(4)}  replica tok/s`);
  for (const r of rows)
    out.push(
      `  ${r.model.padEnd(14)} ${r.strategy.padEnd(10)} ${`${r.minutesAtRisk} min`.padStart(9)} ${`${r.p95QueueWaitSeconds} s`.padStart(9)} ${r.gpuHoursPerWeek.toFixed(1).padStart(7)} ${`$${r.usdPerWeek.toFixed(2)}`.padStart(10)} ${String(r.peakReplicas).padStart(4)}  ${r.replicaTokensPerSecond}${r.capacityBasis === "saturation" ? " (TTFT target out of reach: saturation x KV target)" : ""}`,
    );
  out.push("  at risk: minutes of demand above ready capacity; spot prices assume budget.spotDiscount; cold starts are the new-node estimate.");
  return out;
}
