/**
 * Elasticity of the vLLM models (issue 16, docs/scaling.md): pure builders for the KEDA triggers
 * beside the reactive ones (components/model-server.ts `modelScaledObject`), the gateway's retry
 * budget for a model that scales from zero, and the drain timings that fit the spot notice.
 *
 * Upstream facts used here, each read at the pinned version or marked as an estimate:
 * - KEDA `cron` scaler (kedacore/keda v2.20 pkg/scalers/cron_scaler.go, `cronMetadata`): metadata
 *   `start`, `end`, `timezone`, `desiredReplicas`; start and end are parsed by robfig/cron with
 *   `cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow` (5 fields, day of week 0 = Sunday)
 *   and may not be equal; keda.sh docs 2.18 scalers/cron.md: "Number of replicas to which the
 *   resource has to be scaled between the start and end".
 * - KEDA `prometheus` scaler (keda v2.20.2 pkg/scalers/prometheus_scaler.go; upstream-facts
 *   sections 3 and 12): `ignoreNullValues` defaults to true, so an empty result reads as 0 and
 *   silently never scales; a result of more than one element is an error. AverageValue divides
 *   the value by the replica count (HPA), so threshold = what one replica carries.
 * - LiteLLM router retries (BerriAI/litellm litellm/router.py `_time_to_sleep_before_retry`: a
 *   model group with one deployment backs off, `litellm._calculate_retry_after(...,
 *   min_timeout=self.retry_after)`: exponential from 0.5 s capped at 8 s with jitter <= 1, and
 *   never below `retry_after`; router_settings `num_retries`, `retry_after` in
 *   docs/my-website/docs/proxy/reliability.md). Cool-downs spare single-deployment groups and
 *   never apply to APIConnectionError (litellm/router_utils/cooldown_handlers.py
 *   `_is_cooldown_required`, `_should_cooldown_deployment`). Read on the stored main-branch source,
 *   not the v1.101.0 tag (not stored): see docs/scaling.md "What is not verified".
 * - Spot notice: "Spot interruptions have a 2 minute notice before Amazon EC2 reclaims the
 *   instance. Once Karpenter has received this warning it will begin draining the node while in
 *   parallel provisioning a new node" (aws/karpenter-provider-aws website/content/en/v1.14/
 *   concepts/disruption.md, "Interruption").
 */
import { METRICS as M } from "../infra/catalog/metrics";
import { cronDays, type PredictiveConfig, type ScheduleWindow } from "../infra/config/scaling";

/** One KEDA trigger as the ScaledObject carries it. */
export interface KedaTrigger {
  readonly type: string;
  readonly name: string;
  readonly metricType?: "AverageValue" | "Value" | "Utilization";
  readonly metadata: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Scheduled scaling

/** KEDA cron triggers, one per configured window: the floor is minReplicas inside the window. */
export function cronTriggers(windows: readonly ScheduleWindow[]): KedaTrigger[] {
  return windows.map((w, i) => {
    const [sh, sm] = w.start.split(":").map(Number) as [number, number];
    const [eh, em] = w.end.split(":").map(Number) as [number, number];
    const dow = cronDays(w.days);
    return {
      type: "cron",
      name: `schedule-${i}`,
      metadata: { timezone: w.timezone, start: `${sm} ${sh} * * ${dow}`, end: `${em} ${eh} * * ${dow}`, desiredReplicas: String(w.minReplicas) },
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Predictive scaling

export const WEEK_MINUTES = 7 * 24 * 60;
/** The rate window of the demand series (four scrapes at the 15 s ServiceMonitor interval). */
export const DEMAND_RATE_WINDOW = "5m";

/** Lookahead in minutes: the configured one, else the new-node cold start rounded up to 5 minutes. */
export function lookaheadMinutes(p: Pick<PredictiveConfig, "lookaheadMinutes">, newNodeColdStartSeconds: number): number {
  return p.lookaheadMinutes ?? Math.max(5, Math.ceil(newNodeColdStartSeconds / 300) * 5);
}

/**
 * Last week's served output tokens/s for the model, at its peak over [now, now + lookahead] one
 * week ago, times the growth factor. `or vector(0)`: before a week of history exists the floor is
 * 0 (the reactive triggers still act), and an empty answer can then only mean a broken query or
 * Prometheus, which `ignoreNullValues: "false"` turns into a KEDA error instead of a silent 0.
 */
export function predictiveQuery(key: string, lookahead: number, growthFactor: number): string {
  const demand = `sum(rate(${M.vllm.generationTokens}{model_name="${key}"}[${DEMAND_RATE_WINDOW}]))`;
  return `(max_over_time(${demand}[${lookahead}m:1m] offset ${WEEK_MINUTES - lookahead}m) * ${growthFactor}) or vector(0)`;
}

export interface PredictiveInputs {
  readonly key: string;
  readonly prometheusUrl: string;
  readonly predictive: PredictiveConfig;
  readonly newNodeColdStartSeconds: number;
  /** One replica's sustained output tokens/s at the model's SLO (the capacity catalog). */
  readonly replicaTokensPerSecond: number;
}

/** The seasonal floor: ceil(last week's demand x growth / one replica's tokens/s) replicas. */
export function predictiveTrigger(i: PredictiveInputs): KedaTrigger {
  const lookahead = lookaheadMinutes(i.predictive, i.newNodeColdStartSeconds);
  return {
    type: "prometheus",
    name: "predictive",
    metricType: "AverageValue",
    metadata: {
      serverAddress: i.prometheusUrl,
      query: predictiveQuery(i.key, lookahead, i.predictive.growthFactor),
      threshold: String(Math.round(i.replicaTokensPerSecond)),
      activationThreshold: "0",
      ignoreNullValues: "false",
    },
  };
}

/** The lookahead (minutes) a rendered predictive query uses, or undefined if it is not one. */
export function parsePredictiveLookahead(query: string): number | undefined {
  const m = /\[(\d+)m:1m\] offset (\d+)m/.exec(query);
  if (!m) return undefined;
  const lookahead = Number(m[1]);
  return Number(m[2]) + lookahead === WEEK_MINUTES ? lookahead : undefined;
}

// ---------------------------------------------------------------------------------------------
// Scale from zero: the gateway holds the request while KEDA wakes the model

/** The gateway's ServiceMonitor interval (litellmValues serviceMonitor.interval), seconds. */
export const GATEWAY_SCRAPE_SECONDS = 15;

/**
 * Seconds from the first failed attempt to KEDA activating the Deployment: two scrapes of the
 * gateway's per-attempt counter (a rate needs two samples) and one KEDA polling interval.
 */
export function wakeLatencySeconds(pollingIntervalSeconds: number): number {
  return 2 * GATEWAY_SCRAPE_SECONDS + pollingIntervalSeconds;
}

/**
 * The trigger that wakes a model at zero replicas: vLLM reports nothing then, the gateway does.
 * The high threshold keeps it to waking the model; the queue and cache triggers size it.
 */
export function wakeTrigger(key: string, prometheusUrl: string): KedaTrigger {
  return {
    type: "prometheus",
    name: "gateway-demand",
    metricType: "AverageValue",
    metadata: {
      serverAddress: prometheusUrl,
      // Failed attempts while the router holds the request (the model has no endpoint yet), plus
      // finished requests: either wakes the model (docs/scaling.md "Scale from zero").
      query: `sum(rate(${M.litellm.deploymentFailureResponses}{requested_model="${key}"}[2m])) + sum(rate(${M.litellm.proxyRequests}{requested_model="${key}"}[2m]))`,
      threshold: "1000",
      activationThreshold: "0",
    },
  };
}

/** LiteLLM's backoff never exceeds this before `retry_after` applies (utils `_calculate_retry_after`). */
export const LITELLM_MAX_BACKOFF_SECONDS = 8;
/** Seconds between attempts while a model wakes: above LiteLLM's 8 s cap, so every wait is exactly this. */
export const SCALE_FROM_ZERO_RETRY_AFTER_SECONDS = 15;
/** What a stack without a model at zero keeps: two immediate retries (another replica behind the Service). */
export const DEFAULT_NUM_RETRIES = 2;

export interface RetryBudget {
  readonly numRetries: number;
  readonly retryAfterSeconds: number;
  /** The shortest time the router holds a request across its retries: numRetries x retryAfter. */
  readonly windowSeconds: number;
}

/** The router's retries, sized so that the hold covers waking the model and a new-node cold start. */
export function scaleFromZeroRetryBudget(newNodeColdStartSeconds: number, pollingIntervalSeconds: number): RetryBudget {
  const need = wakeLatencySeconds(pollingIntervalSeconds) + newNodeColdStartSeconds;
  const retryAfterSeconds = SCALE_FROM_ZERO_RETRY_AFTER_SECONDS;
  const numRetries = Math.max(DEFAULT_NUM_RETRIES, Math.ceil(need / retryAfterSeconds));
  return { numRetries, retryAfterSeconds, windowSeconds: numRetries * retryAfterSeconds };
}

/** What the router needs for the given models at zero: the largest budget of them, or the default. */
export function routerRetryBudget(zeroModels: readonly { newNodeColdStartSeconds: number; pollingIntervalSeconds: number }[]): RetryBudget {
  const budgets = zeroModels.map((m) => scaleFromZeroRetryBudget(m.newNodeColdStartSeconds, m.pollingIntervalSeconds));
  return budgets.reduce<RetryBudget>((a, b) => (b.windowSeconds > a.windowSeconds ? b : a), { numRetries: DEFAULT_NUM_RETRIES, retryAfterSeconds: 0, windowSeconds: 0 });
}

// ---------------------------------------------------------------------------------------------
// Spot reclaim

/** EC2's spot interruption notice (Karpenter v1.14 docs, concepts/disruption.md "Interruption"). */
export const SPOT_NOTICE_SECONDS = 120;
/**
 * EST: EventBridge delivering the warning to the interruption queue and Karpenter's SQS long
 * poll picking it up and starting the drain (not measured; docs/scaling.md).
 */
export const INTERRUPTION_DETECTION_SECONDS = 15;
/** EST: the instance's own shutdown once EC2 reclaims it begins inside the notice. */
export const RECLAIM_MARGIN_SECONDS = 10;

export interface DrainTimings {
  readonly preStopSeconds: number;
  readonly terminationGraceSeconds: number;
}

/** Seconds vLLM has after SIGTERM to finish in-flight requests (the grace period includes preStop). */
export function inFlightSeconds(d: DrainTimings): number {
  return d.terminationGraceSeconds - d.preStopSeconds;
}

/** What breaks the spot notice, or [] when the drain fits and in-flight requests of e2eP95 finish. */
export function drainProblems(d: DrainTimings, e2eP95Seconds: number): string[] {
  const out: string[] = [];
  const used = INTERRUPTION_DETECTION_SECONDS + d.terminationGraceSeconds + RECLAIM_MARGIN_SECONDS;
  if (used > SPOT_NOTICE_SECONDS)
    out.push(
      `detection ${INTERRUPTION_DETECTION_SECONDS} s + termination grace ${d.terminationGraceSeconds} s + margin ${RECLAIM_MARGIN_SECONDS} s = ${used} s exceeds the ${SPOT_NOTICE_SECONDS} s spot notice`,
    );
  if (d.preStopSeconds >= d.terminationGraceSeconds) out.push(`preStop ${d.preStopSeconds} s leaves no time inside the ${d.terminationGraceSeconds} s grace period`);
  else if (inFlightSeconds(d) < e2eP95Seconds)
    out.push(`in-flight requests get ${inFlightSeconds(d)} s after preStop, below the model's e2e p95 of ${e2eP95Seconds} s`);
  return out;
}
