/**
 * Elasticity wiring (issue 16, docs/scaling.md), offline:
 * - the KEDA triggers the config renders (cron windows, the predictive floor, the wake trigger);
 * - scale from zero: the gateway's retry window against waking the model and its new-node cold
 *   start, and against the ALB idle timeout and LiteLLM's request timeout;
 * - spot reclaim: the drain timings against the 2-minute notice and every model's e2e p95;
 * - the scaling policies on the real builders' objects, passing and broken;
 * - the config keys' errors.
 */
import { describe, expect, it } from "vitest";
import type { StackValidationPolicy } from "@pulumi/policy";
import * as ms from "../components/model-scaling";
import { ALB_IDLE_TIMEOUT_SECONDS, GATEWAY_RELEASE, litellmProxyConfig } from "../components/gateway";
import {
  deploymentName,
  modelScaledObject,
  modelServerDeployment,
  newNodeColdStartSeconds,
  PRESTOP_DRAIN_SECONDS,
  TERMINATION_GRACE_SECONDS,
  type ModelServerSpec,
} from "../components/model-server";
import { MODELS, type LlmModelKey } from "../infra/catalog/models";
import { ConfigError, parsePlatformConfig, type PlatformConfig } from "../infra/config";
import * as pol from "../policies/scaling";
import { runPolicies } from "../stacks/plan/policies";
import { awsProvider, managedNodeGroup, res, urnOf } from "./support/policy-harness";
import { rawOf } from "./support/config";

const cfgOf = (stack: string): PlatformConfig => parsePlatformConfig(rawOf(stack), stack);

function specOf(c: PlatformConfig, key: LlmModelKey, over: Partial<ModelServerSpec> = {}): ModelServerSpec {
  const m = c.models[key]!;
  return {
    key,
    model: MODELS[key],
    cfg: m,
    poolName: m.pool,
    pool: c.gpuPools[m.pool]!,
    namespace: "inference",
    weightsUri: `s3://b/${MODELS[key].hfRepo}/main/`,
    region: c.region,
    prometheusUrl: "http://prom:9090",
    istio: false,
    gatewayDemand: true,
    ...over,
  };
}

const STACKS = ["dev", "staging", "prod"] as const;

describe("triggers", () => {
  it("a window renders as a KEDA cron trigger in 5-field cron, Sunday = 0", () => {
    const [t] = ms.cronTriggers([{ days: ["mon", "tue", "wed", "thu", "fri"], start: "07:45", end: "18:00", timezone: "America/New_York", minReplicas: 3 }]);
    expect(t).toEqual({ type: "cron", name: "schedule-0", metadata: { timezone: "America/New_York", start: "45 7 * * 1,2,3,4,5", end: "0 18 * * 1,2,3,4,5", desiredReplicas: "3" } });
    expect(ms.cronTriggers([{ days: ["sun", "sat"], start: "09:05", end: "10:00", timezone: "UTC", minReplicas: 1 }])[0]!.metadata.start).toBe("5 9 * * 0,6");
  });

  it("the predictive query reads last week at the lookahead and never answers empty", () => {
    const q = ms.predictiveQuery("gpt-oss-20b", 10, 1.2);
    expect(q).toBe('(max_over_time(sum(rate(vllm:generation_tokens_total{model_name="gpt-oss-20b"}[5m]))[10m:1m] offset 10070m) * 1.2) or vector(0)');
    expect(ms.parsePredictiveLookahead(q)).toBe(10);
    expect(ms.parsePredictiveLookahead("sum(x)[10m:1m] offset 60m")).toBeUndefined();
    // Default lookahead: the new-node cold start rounded up to 5 minutes.
    expect(ms.lookaheadMinutes({}, 271)).toBe(5);
    expect(ms.lookaheadMinutes({}, 301)).toBe(10);
    expect(ms.lookaheadMinutes({ lookaheadMinutes: 3 }, 301)).toBe(3);
  });

  it.each(["staging", "prod"] as const)("%s: every model has its window and a predictive floor covering the new-node cold start", (stack) => {
    const c = cfgOf(stack);
    for (const key of Object.keys(c.models) as LlmModelKey[]) {
      const so = modelScaledObject(specOf(c, key));
      const cron = so.spec.triggers.filter((t) => t.type === "cron");
      expect(cron.length).toBeGreaterThan(0);
      for (const t of cron) {
        expect(Number(t.metadata.desiredReplicas)).toBeGreaterThan(so.spec.minReplicaCount!);
        expect(Number(t.metadata.desiredReplicas)).toBeLessThanOrEqual(so.spec.maxReplicaCount!);
      }
      const p = so.spec.triggers.find((t) => t.name === "predictive")!;
      expect(p.metadata.ignoreNullValues).toBe("false");
      expect(ms.parsePredictiveLookahead(p.metadata.query ?? "")! * 60).toBeGreaterThanOrEqual(newNodeColdStartSeconds(specOf(c, key)));
      expect(Number(p.metadata.threshold)).toBeGreaterThan(0);
    }
  });

  it("dev: the model at zero wakes on the gateway's demand and has no floors", () => {
    const c = cfgOf("dev");
    const so = modelScaledObject(specOf(c, "gpt-oss-20b"));
    expect(so.spec.minReplicaCount).toBe(0);
    expect(so.spec.triggers.map((t) => t.name)).toEqual(["queue-depth", "kv-cache", "gateway-demand"]);
    expect(so.metadata!.annotations![pol.NEW_NODE_COLD_START_ANNOTATION]).toBe(String(Math.ceil(newNodeColdStartSeconds(specOf(c, "gpt-oss-20b")))));
  });
});

describe("scale from zero: the gateway holds requests long enough", () => {
  const c = cfgOf("dev");
  const spec = specOf(c, "gpt-oss-20b");
  const cold = newNodeColdStartSeconds(spec);
  const budget = ms.scaleFromZeroRetryBudget(cold, spec.cfg.autoscaling.pollingIntervalSeconds);

  it("the retry window covers waking the model and a new-node cold start", () => {
    expect(cold).toBeGreaterThan(200); // a new node: launch, device plugin, image, weights, engine
    expect(budget.retryAfterSeconds).toBeGreaterThan(ms.LITELLM_MAX_BACKOFF_SECONDS); // every wait is exactly retry_after
    expect(budget.windowSeconds).toBe(budget.numRetries * budget.retryAfterSeconds);
    expect(budget.windowSeconds).toBeGreaterThanOrEqual(ms.wakeLatencySeconds(spec.cfg.autoscaling.pollingIntervalSeconds) + cold);
    // Not more than one retry interval beyond what is needed.
    expect(budget.windowSeconds - budget.retryAfterSeconds).toBeLessThan(ms.wakeLatencySeconds(spec.cfg.autoscaling.pollingIntervalSeconds) + cold);
  });

  it("the hold plus a response at the e2e p95 fits the ALB idle timeout and LiteLLM's request timeout", () => {
    const e2e = spec.cfg.slo.e2eP95Ms / 1000;
    expect(budget.windowSeconds + e2e).toBeLessThanOrEqual(ALB_IDLE_TIMEOUT_SECONDS);
    const proxy = litellmProxyConfig({ models: [{ name: "gpt-oss-20b", url: "http://vllm", scaleFromZero: { newNodeColdStartSeconds: cold, pollingIntervalSeconds: 15 } }] }) as any;
    // Each attempt is bounded by request_timeout; a generation must fit one attempt.
    expect(proxy.litellm_settings.request_timeout).toBeGreaterThanOrEqual(e2e);
    expect(proxy.router_settings.num_retries).toBe(budget.numRetries);
    expect(proxy.router_settings.retry_after).toBe(budget.retryAfterSeconds);
    expect(proxy.litellm_settings.num_retries).toBe(budget.numRetries);
  });

  it("without a model at zero the router keeps two quick retries (another replica behind the Service)", () => {
    const proxy = litellmProxyConfig({ models: [{ name: "gpt-oss-20b", url: "http://vllm" }] }) as any;
    expect(proxy.router_settings.num_retries).toBe(2);
    expect(proxy.router_settings.retry_after).toBeUndefined();
  });

  it("the largest budget of several models at zero wins", () => {
    const b = ms.routerRetryBudget([
      { newNodeColdStartSeconds: 100, pollingIntervalSeconds: 15 },
      { newNodeColdStartSeconds: 400, pollingIntervalSeconds: 30 },
    ]);
    expect(b).toEqual(ms.scaleFromZeroRetryBudget(400, 30));
    expect(b.numRetries).toBe(Math.ceil((400 + 60) / 15));
  });
});

describe("spot reclaim: the drain fits the notice", () => {
  it("the model server's grace and preStop are what the Deployment renders", () => {
    const c = cfgOf("staging");
    const d = modelServerDeployment(specOf(c, "gpt-oss-20b")) as any;
    const pod = d.spec.template.spec;
    expect(pod.terminationGracePeriodSeconds).toBe(TERMINATION_GRACE_SECONDS);
    expect(pod.containers[0].lifecycle.preStop.exec.command).toEqual(["sleep", String(PRESTOP_DRAIN_SECONDS)]);
  });

  it.each(STACKS)("%s: detection + grace + margin <= 120 s, and in-flight requests of every model's e2e p95 finish", (stack) => {
    const c = cfgOf(stack);
    for (const m of Object.values(c.models)) expect(ms.drainProblems({ preStopSeconds: PRESTOP_DRAIN_SECONDS, terminationGraceSeconds: TERMINATION_GRACE_SECONDS }, m.slo.e2eP95Ms / 1000)).toEqual([]);
  });

  it("a grace period equal to the notice, or a preStop eating the grace, is refused", () => {
    expect(ms.drainProblems({ preStopSeconds: 20, terminationGraceSeconds: 120 }, 20)[0]).toMatch(/145 s exceeds the 120 s spot notice/);
    expect(ms.drainProblems({ preStopSeconds: 90, terminationGraceSeconds: 90 }, 20)[0]).toMatch(/leaves no time/);
    expect(ms.drainProblems({ preStopSeconds: 60, terminationGraceSeconds: 90 }, 40)[0]).toMatch(/30 s after preStop, below the model's e2e p95 of 40 s/);
  });

  it("the policy pack's copies of the timing constants match the components'", () => {
    expect([pol.SPOT_NOTICE_SECONDS, pol.INTERRUPTION_DETECTION_SECONDS, pol.RECLAIM_MARGIN_SECONDS, pol.GATEWAY_SCRAPE_SECONDS, pol.WEEK_MINUTES]).toEqual([
      ms.SPOT_NOTICE_SECONDS,
      ms.INTERRUPTION_DETECTION_SECONDS,
      ms.RECLAIM_MARGIN_SECONDS,
      ms.GATEWAY_SCRAPE_SECONDS,
      ms.WEEK_MINUTES,
    ]);
    expect(pol.ALB_IDLE_TIMEOUT_SECONDS).toBe(ALB_IDLE_TIMEOUT_SECONDS);
  });
});

// ---------------------------------------------------------------------------------------------
// Policies on the builders' objects

const SO = "kubernetes:keda.sh/v1alpha1:ScaledObject";
const DEP = "kubernetes:apps/v1:Deployment";

async function verdicts(policy: StackValidationPolicy, resources: any[]): Promise<string[]> {
  const withProvider = resources.some((r) => r.type === "pulumi:providers:aws") ? resources : [awsProvider(), ...resources];
  const run = await runPolicies(withProvider, { [policy.name]: { enforcementLevel: "mandatory" } }, { policies: [policy] });
  return run.verdicts.map((v) => v.message);
}

function objectsOf(spec: ModelServerSpec): any[] {
  return [res(SO, `${spec.key}-scaler`, modelScaledObject(spec) as any), res(DEP, `${spec.key}-deployment`, modelServerDeployment(spec) as any)];
}

describe("policies", () => {
  it("schedule within bounds: the committed window passes; one above max or at min fails", async () => {
    const c = cfgOf("prod");
    const ok = specOf(c, "gpt-oss-20b");
    expect(await verdicts(pol.scalingScheduleWithinBounds, objectsOf(ok))).toEqual([]);
    const win = (n: number) => ({ ...ok, cfg: { ...ok.cfg, schedule: [{ ...ok.cfg.schedule![0]!, minReplicas: n }] } });
    const { min, max } = ok.cfg.replicas;
    expect((await verdicts(pol.scalingScheduleWithinBounds, objectsOf(win(max + 1))))[0]).toContain(`desiredReplicas ${max + 1} exceeds maxReplicaCount ${max}`);
    expect((await verdicts(pol.scalingScheduleWithinBounds, objectsOf(win(min))))[0]).toContain(`not above minReplicaCount ${min}`);
  });

  it("predictive lookahead: the default passes; a lookahead below the cold start fails", async () => {
    const c = cfgOf("prod");
    const ok = specOf(c, "gpt-oss-120b");
    expect(await verdicts(pol.scalingPredictiveLookahead, objectsOf(ok))).toEqual([]);
    const short = { ...ok, cfg: { ...ok.cfg, predictive: { enabled: true, growthFactor: 1.2, lookaheadMinutes: 2 } } };
    expect((await verdicts(pol.scalingPredictiveLookahead, objectsOf(short)))[0]).toMatch(/lookahead 2 min is shorter than the new-node cold start/);
    // An empty answer read as 0 (KEDA's default) is refused.
    const so = modelScaledObject(ok) as any;
    const p = so.spec.triggers.find((t: any) => t.name === "predictive");
    p.metadata = { ...p.metadata, ignoreNullValues: "true" };
    expect((await verdicts(pol.scalingPredictiveLookahead, [res(SO, "s", so)]))[0]).toMatch(/must not read as 0/);
  });

  it("drain within the spot notice: the Deployment passes; a 120 s grace fails", async () => {
    const c = cfgOf("staging");
    const d = modelServerDeployment(specOf(c, "gpt-oss-20b")) as any;
    expect(await verdicts(pol.scalingDrainWithinSpotNotice, [res(DEP, "d", d)])).toEqual([]);
    const bad = structuredClone(d);
    bad.spec.template.spec.terminationGracePeriodSeconds = 120;
    expect((await verdicts(pol.scalingDrainWithinSpotNotice, [res(DEP, "d", bad)]))[0]).toMatch(/145 s exceeds the 120 s spot notice/);
    bad.spec.template.spec.terminationGracePeriodSeconds = 10;
    expect((await verdicts(pol.scalingDrainWithinSpotNotice, [res(DEP, "d", bad)]))[0]).toMatch(/preStop sleep 15 s leaves nothing of the 10 s grace period/);
  });

  it("prod on-demand baseline: an on-demand pool passes; a spot pool or min 0 fails; other environments are not held to it", async () => {
    const c = cfgOf("prod");
    const spec = specOf(c, "gpt-oss-20b");
    const prod = awsProvider({ environment: "prod", project: "llm-platform", "cost-center": "x", owner: "o@example.com" });
    const pool = spec.poolName;
    const types = [...spec.pool.instanceTypes];
    const onDemand = managedNodeGroup(pool, { instanceTypes: types, capacityType: "ON_DEMAND", min: 4, max: 4 });
    expect(await verdicts(pol.scalingProdOnDemandBaseline, [prod, onDemand, ...objectsOf(spec)])).toEqual([]);
    const spot = managedNodeGroup(pool, { instanceTypes: types, capacityType: "SPOT", min: 4, max: 4 });
    expect((await verdicts(pol.scalingProdOnDemandBaseline, [prod, spot, ...objectsOf(spec)]))[0]).toContain(`pool "${pool}" is SPOT with minSize 4; in prod set gpuPools.${pool}.capacityType ON_DEMAND`);
    expect((await verdicts(pol.scalingProdOnDemandBaseline, [prod, ...objectsOf(spec)]))[0]).toContain(`no managed node group for its pool "${pool}"`);
    const zero = { ...spec, cfg: { ...spec.cfg, replicas: { min: 0, max: spec.cfg.replicas.max } } };
    expect((await verdicts(pol.scalingProdOnDemandBaseline, [prod, onDemand, ...objectsOf(zero)]))[0]).toMatch(/minReplicaCount 0/);
    expect(await verdicts(pol.scalingProdOnDemandBaseline, [awsProvider(), spot, ...objectsOf(zero)])).toEqual([]);
  });

  it("zero retry budget: a gateway routed with scaleFromZero passes; the default two retries fail", async () => {
    const c = cfgOf("dev");
    const spec = specOf(c, "gpt-oss-20b");
    const litellm = (routes: any) => res("kubernetes:helm.sh/v3:Release", GATEWAY_RELEASE, { name: GATEWAY_RELEASE, values: { proxy_config: litellmProxyConfig({ models: routes }) } });
    const cold = newNodeColdStartSeconds(spec);
    const good = litellm([{ name: spec.key, url: "http://x", scaleFromZero: { newNodeColdStartSeconds: cold, pollingIntervalSeconds: 15 } }]);
    expect(await verdicts(pol.scalingZeroRetryBudget, [good, ...objectsOf(spec)])).toEqual([]);
    const bad = litellm([{ name: spec.key, url: "http://x" }]);
    expect((await verdicts(pol.scalingZeroRetryBudget, [bad, ...objectsOf(spec)]))[0]).toMatch(/holds a request 2 x 0 s = 0 s, less than waking the model/);
    // A cold start so long that the window passes the ALB's idle timeout is refused too.
    const slow = litellm([{ name: spec.key, url: "http://x", scaleFromZero: { newNodeColdStartSeconds: 900, pollingIntervalSeconds: 15 } }]);
    expect((await verdicts(pol.scalingZeroRetryBudget, [slow, ...objectsOf(spec)])).join("\n")).toMatch(/exceeds the ALB idle timeout 600 s/);
    expect(urnOf(SO, "x")).toContain(SO);
  });
});

describe("config keys", () => {
  const problems = (mutate: (raw: Record<string, any>) => void): string[] => {
    const raw = rawOf("staging");
    mutate(raw);
    try {
      parsePlatformConfig(raw, "staging");
      return [];
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return e.issues.map((i) => `${i.path}: ${i.message}`);
    }
  };

  it("the committed stacks parse their windows", () => {
    expect(cfgOf("staging").models["gpt-oss-20b"]!.schedule).toEqual([{ days: ["mon", "tue", "wed", "thu", "fri"], start: "07:45", end: "18:00", timezone: "America/New_York", minReplicas: 3 }]);
    expect(cfgOf("dev").models["gpt-oss-20b"]!.schedule).toBeUndefined();
  });

  it("a window ending before it starts, an unknown zone or day, and a bad growth factor name the key", () => {
    const p = problems((raw) => {
      raw.models["gpt-oss-20b"].schedule = [{ days: ["mon", "funday"], start: "18:00", end: "08:00", timezone: "Mars/Olympus", minReplicas: 2 }];
      raw.models["gpt-oss-20b"].predictive = { enabled: true, growthFactor: 0.5 };
    });
    expect(p.some((x) => x.startsWith("models.gpt-oss-20b.schedule[0].days[1]") && /mon, tue/.test(x))).toBe(true);
    expect(p.some((x) => x.startsWith("models.gpt-oss-20b.schedule[0].timezone") && /IANA time zone/.test(x))).toBe(true);
    expect(p.some((x) => x.startsWith("models.gpt-oss-20b.predictive.growthFactor"))).toBe(true);
    const q = problems((raw) => {
      raw.models["gpt-oss-20b"].schedule = [{ days: ["mon"], start: "18:00", end: "08:00", timezone: "UTC", minReplicas: 2 }];
    });
    expect(q).toEqual(["models.gpt-oss-20b.schedule[0].end: must be after start (18:00), got 08:00; split a window that crosses midnight into two"]);
    expect(deploymentName("gpt-oss-20b")).toBe("vllm-gpt-oss-20b");
  });
});
