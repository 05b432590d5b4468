/**
 * `npm run capacity:calibrate -- <result.json> [--run-id <id>] [--replicas <n>] [--catalog <file>]`
 *
 * Folds a load test's result file (components/load-test.ts: the Job's `assemble` step writes
 * s3://<weights bucket>/load-tests/<runId>/<model>/result.json) into the capacity catalog's
 * calibrated points, infra/catalog/throughput-calibrated.json, with its provenance.
 *
 * - One ThroughputPoint per stage of the direct run (straight to vLLM: the catalog is what a
 *   replica delivers): concurrency from the stage report's `load_summary.concurrency`, output
 *   tokens/s from `successes.throughput.output_tokens_per_sec` divided by `--replicas` (the
 *   replicas that served the run; the runbook pins the model to one), TTFT and inter-token latency
 *   from `successes.latency.time_to_first_token` / `inter_token_latency` (seconds in
 *   inference-perf's reports, reportgen/base.py `summarize_requests`; milliseconds here).
 * - The gateway run's figures at the same concurrency go into the point's provenance note (the
 *   gateway's overhead on TTFT p95 and on throughput, measured).
 * - Idempotent: the points of the same run id and model are replaced, never duplicated.
 * - A malformed file is refused with exit code 2 and the JSON path of every problem.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { GpuModel } from "../../infra/catalog/instances";
import { LLM_MODEL_KEYS, type LlmModelKey } from "../../infra/catalog/models";
import type { ThroughputPoint } from "../../infra/catalog/throughput";

export type { ThroughputPoint };

export const GPU_MODELS: readonly GpuModel[] = ["a10g", "l4", "l40s", "a100", "a100-80gb", "h100"];
export const RESULT_SCHEMA = "llm-platform/load-test-result/v1";
export const DEFAULT_CATALOG = path.resolve(__dirname, "..", "..", "infra", "catalog", "throughput-calibrated.json");

export class CalibrateError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
  }
}

/** A latency summary as inference-perf writes it (seconds; `median` is p50: reportgen/base.py `summarize`). */
interface LatencySummary {
  mean?: number;
  median?: number;
  p95?: number;
}

interface StagePoint {
  stage: number;
  concurrency: number;
  outputTokensPerSecond: number;
  successes: number;
  failures: number;
  ttft?: LatencySummary;
  itl?: LatencySummary;
}

export interface LoadTestResult {
  runId: string;
  model: LlmModelKey;
  gpu: GpuModel;
  tensorParallelSize: number;
  tool: string;
  finishedAt?: string;
  direct: StagePoint[];
  gateway: StagePoint[];
}

type Json = Readonly<Record<string, unknown>>;
const isObj = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
const isInt = (x: unknown, min: number): x is number => Number.isInteger(x) && (x as number) >= min;
/** The value at a path of object keys, or undefined. */
function at(x: unknown, ...keys: string[]): unknown {
  let cur = x;
  for (const k of keys) cur = isObj(cur) ? cur[k] : undefined;
  return cur;
}

function latency(x: unknown, where: string, problems: string[]): LatencySummary | undefined {
  if (x === undefined || x === null) return undefined; // no streamed request succeeded: no latency
  if (!isObj(x)) {
    problems.push(`${where}: expected an object with mean/median/p95 (seconds), got ${JSON.stringify(x)}`);
    return undefined;
  }
  const out: LatencySummary = {};
  for (const k of ["mean", "median", "p95"] as const) {
    const v = x[k];
    if (v === undefined) continue;
    if (!isNum(v) || v < 0) problems.push(`${where}.${k}: expected seconds >= 0, got ${JSON.stringify(v)}`);
    else out[k] = v;
  }
  return out;
}

function stages(run: unknown, where: string, problems: string[], required: boolean): StagePoint[] {
  if (!isObj(run)) {
    if (required || run !== undefined) problems.push(`${where}: missing (expected { target, stages: [...] })`);
    return [];
  }
  const list = run.stages;
  if (!Array.isArray(list) || (required && list.length === 0)) {
    problems.push(`${where}.stages: expected a non-empty array of { stage, report } (inference-perf stage_<N>_lifecycle_metrics.json)`);
    return [];
  }
  const out: StagePoint[] = [];
  (list as unknown[]).forEach((s, i) => {
    const w = `${where}.stages[${i}]`;
    if (!isObj(s) || !isObj(s.report)) return void problems.push(`${w}: expected { stage, report }`);
    const r = s.report;
    const n = problems.length;
    const concurrency = at(r, "load_summary", "concurrency");
    if (!isInt(concurrency, 1)) problems.push(`${w}.report.load_summary.concurrency: expected an integer > 0 (a concurrent-load stage), got ${JSON.stringify(concurrency)}`);
    const tps = at(r, "successes", "throughput", "output_tokens_per_sec");
    if (!isNum(tps) || tps < 0) problems.push(`${w}.report.successes.throughput.output_tokens_per_sec: expected a number >= 0, got ${JSON.stringify(tps)}`);
    const ok = at(r, "successes", "count");
    if (!isInt(ok, 0)) problems.push(`${w}.report.successes.count: expected an integer >= 0, got ${JSON.stringify(ok)}`);
    const failed = at(r, "failures", "count") ?? 0;
    if (!isInt(failed, 0)) problems.push(`${w}.report.failures.count: expected an integer >= 0, got ${JSON.stringify(failed)}`);
    const ttft = latency(at(r, "successes", "latency", "time_to_first_token"), `${w}.report.successes.latency.time_to_first_token`, problems);
    const itl = latency(at(r, "successes", "latency", "inter_token_latency"), `${w}.report.successes.latency.inter_token_latency`, problems);
    if (problems.length > n) return;
    out.push({
      stage: isNum(s.stage) ? s.stage : i,
      concurrency: concurrency as number,
      outputTokensPerSecond: tps as number,
      successes: ok as number,
      failures: failed as number,
      ...(ttft ? { ttft } : {}),
      ...(itl ? { itl } : {}),
    });
  });
  return out;
}

/** Reads and checks a result file's content; throws CalibrateError listing every problem. */
export function parseResult(raw: unknown, runIdOverride?: string): LoadTestResult {
  const problems: string[] = [];
  if (!isObj(raw)) throw new CalibrateError(["the file is not a JSON object (expected the load test's result.json)"]);
  if (raw.schema !== RESULT_SCHEMA) problems.push(`schema: expected "${RESULT_SCHEMA}", got ${JSON.stringify(raw.schema)} (is this a load test's result.json?)`);
  const runId = runIdOverride ?? raw.runId;
  if (typeof runId !== "string" || !/^[a-z0-9][a-z0-9-]*$/.test(runId)) problems.push(`runId: expected the run id (lower-case letters, digits, hyphens), got ${JSON.stringify(raw.runId)}; pass --run-id`);
  const model = raw.model;
  if (!(LLM_MODEL_KEYS as readonly unknown[]).includes(model)) problems.push(`model: expected one of ${LLM_MODEL_KEYS.join(", ")}, got ${JSON.stringify(model)}`);
  const gpu = raw.gpu;
  if (!(GPU_MODELS as readonly unknown[]).includes(gpu)) problems.push(`gpu: expected one of ${GPU_MODELS.join(", ")}, got ${JSON.stringify(gpu)}`);
  const tp = raw.tensorParallelSize;
  if (!([1, 2, 4, 8] as unknown[]).includes(tp)) problems.push(`tensorParallelSize: expected 1, 2, 4 or 8, got ${JSON.stringify(tp)}`);
  if (!isObj(raw.runs)) problems.push("runs: missing (expected { direct, gateway })");
  const direct = stages(at(raw, "runs", "direct"), "runs.direct", problems, true);
  const gateway = stages(at(raw, "runs", "gateway"), "runs.gateway", problems, false);
  if (problems.length) throw new CalibrateError(problems);
  const image = at(raw, "tool", "image");
  return {
    runId: runId as string,
    model: model as LlmModelKey,
    gpu: gpu as GpuModel,
    tensorParallelSize: tp as number,
    tool: typeof image === "string" ? image : "inference-perf",
    ...(typeof raw.finishedAt === "string" ? { finishedAt: raw.finishedAt } : {}),
    direct,
    gateway,
  };
}

const ms = (s: number | undefined) => (s === undefined ? undefined : Math.round(s * 1000 * 100) / 100);
const r1 = (x: number) => Math.round(x * 10) / 10;

function latencyMs(l: LatencySummary | undefined): ThroughputPoint["ttftMs"] | undefined {
  if (!l) return undefined;
  const out: Record<string, number> = {};
  if (l.median !== undefined) out.p50 = ms(l.median)!;
  if (l.p95 !== undefined) out.p95 = ms(l.p95)!;
  if (l.mean !== undefined) out.mean = ms(l.mean)!;
  return Object.keys(out).length ? out : undefined;
}

/** The provenance source of a run's points: how a later fold of the same run finds them. */
export function runSource(runId: string): string {
  return `load test ${runId}`;
}

/** The points a result gives: one per direct stage that completed requests. */
export function pointsOf(res: LoadTestResult, replicas = 1): ThroughputPoint[] {
  const date = res.finishedAt?.slice(0, 10);
  return res.direct
    .filter((s) => s.successes > 0)
    .map((s) => {
      const gw = res.gateway.find((g) => g.concurrency === s.concurrency);
      const notes = [`direct to vLLM, stage ${s.stage}: ${s.successes} requests ok, ${s.failures} failed${replicas > 1 ? `; throughput divided by ${replicas} replicas` : ""}`];
      if (gw && gw.successes > 0) {
        const dTtft = gw.ttft?.p95 !== undefined && s.ttft?.p95 !== undefined ? `, TTFT p95 ${ms(gw.ttft.p95)} ms (${signed(Math.round((gw.ttft.p95 - s.ttft.p95) * 1000 * 100) / 100)} ms)` : "";
        notes.push(`through the gateway at the same concurrency: ${r1(gw.outputTokensPerSecond / replicas)} tok/s (${signed(r1(((gw.outputTokensPerSecond - s.outputTokensPerSecond) / s.outputTokensPerSecond) * 100))}%)${dTtft}`);
      }
      const ttftMs = latencyMs(s.ttft);
      const itlMs = latencyMs(s.itl);
      return {
        model: res.model,
        gpu: res.gpu,
        tensorParallelSize: res.tensorParallelSize,
        concurrency: s.concurrency,
        outputTokensPerSecond: r1(s.outputTokensPerSecond / replicas),
        ...(ttftMs ? { ttftMs } : {}),
        ...(itlMs ? { itlMs } : {}),
        provenance: {
          kind: "calibrated" as const,
          source: `${runSource(res.runId)}: ${res.tool}, s3 load-tests/${res.runId}/${res.model}/result.json`,
          note: notes.join("; "),
          ...(date ? { date } : {}),
        },
      };
    });
}

const signed = (x: number) => (x >= 0 ? `+${x}` : `${x}`);

export interface FoldOutcome {
  readonly points: ThroughputPoint[];
  readonly added: number;
  readonly replaced: number;
}

/** The catalog with a result folded in: the run's earlier points for the same model replaced, sorted. */
export function fold(existing: readonly ThroughputPoint[], res: LoadTestResult, replicas = 1): FoldOutcome {
  const mine = (p: ThroughputPoint) => p.model === res.model && p.provenance.source.startsWith(`${runSource(res.runId)}:`);
  const kept = existing.filter((p) => !mine(p));
  const fresh = pointsOf(res, replicas);
  const points = [...kept, ...fresh].sort(
    (a, b) => a.model.localeCompare(b.model) || a.gpu.localeCompare(b.gpu) || a.tensorParallelSize - b.tensorParallelSize || a.concurrency - b.concurrency || a.provenance.source.localeCompare(b.provenance.source),
  );
  return { points, added: fresh.length, replaced: existing.length - kept.length };
}

function readCatalog(file: string): ThroughputPoint[] {
  if (!fs.existsSync(file)) return [];
  const raw: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
  if (!isObj(raw) || !Array.isArray(raw.points)) throw new CalibrateError([`${file}: expected { "points": [...] }`]);
  return raw.points as ThroughputPoint[];
}

export interface CalibrateArgs {
  readonly resultFile: string;
  readonly runId?: string;
  readonly replicas: number;
  readonly catalog: string;
}

export function parseArgs(argv: readonly string[]): CalibrateArgs {
  const usage = "usage: npm run capacity:calibrate -- <result.json> [--run-id <id>] [--replicas <n>] [--catalog <throughput-calibrated.json>]";
  let resultFile: string | undefined;
  let runId: string | undefined;
  let replicas = 1;
  let catalog = DEFAULT_CATALOG;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new CalibrateError([`${a} needs a value`, usage]);
      return v;
    };
    if (a === "--run-id") runId = value();
    else if (a === "--replicas") {
      const v = value();
      replicas = Number(v);
      if (!Number.isInteger(replicas) || replicas < 1) throw new CalibrateError([`--replicas: expected an integer >= 1 (the replicas that served the run), got ${v}`]);
    } else if (a === "--catalog") catalog = value();
    else if (a.startsWith("-")) throw new CalibrateError([`unknown option ${a}`, usage]);
    else if (resultFile) throw new CalibrateError([`one result file at a time (got ${resultFile} and ${a})`, usage]);
    else resultFile = a;
  }
  if (!resultFile) throw new CalibrateError(["no result file given", usage]);
  return { resultFile, ...(runId ? { runId } : {}), replicas, catalog };
}

/** The command: returns the exit code (0, or 2 for a malformed file or bad arguments). */
export function calibrate(argv: readonly string[], log: (s: string) => void = console.log, err: (s: string) => void = console.error): number {
  try {
    const a = parseArgs(argv);
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(a.resultFile, "utf8"));
    } catch (e) {
      throw new CalibrateError([`${a.resultFile}: ${(e as Error).message}`]);
    }
    let res: LoadTestResult;
    try {
      res = parseResult(raw, a.runId);
    } catch (e) {
      if (e instanceof CalibrateError) throw new CalibrateError(e.problems.map((p) => `${a.resultFile}: ${p}`));
      throw e;
    }
    const out = fold(readCatalog(a.catalog), res, a.replicas);
    fs.writeFileSync(a.catalog, JSON.stringify({ points: out.points }, null, 2) + "\n");
    log(`${res.model} on ${res.gpu} TP${res.tensorParallelSize}, run ${res.runId}: ${out.added} calibrated point(s) written to ${a.catalog} (${out.replaced} earlier point(s) of this run replaced)`);
    for (const p of out.points.filter((x) => x.provenance.source.startsWith(`${runSource(res.runId)}:`) && x.model === res.model))
      log(`  concurrency ${p.concurrency}: ${p.outputTokensPerSecond} tok/s, TTFT p95 ${p.ttftMs?.p95 ?? "-"} ms, ITL p50 ${p.itlMs?.p50 ?? "-"} ms`);
    return 0;
  } catch (e) {
    if (e instanceof CalibrateError) {
      err(`capacity:calibrate: ${e.problems.length} problem(s):\n${e.problems.map((p) => `  - ${p}`).join("\n")}`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) process.exit(calibrate(process.argv.slice(2)));
