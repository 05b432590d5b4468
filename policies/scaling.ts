/**
 * Elasticity guardrails (issue 16, docs/scaling.md): rules that read several rendered objects
 * together, which config checks cannot see.
 *
 * - scaling-schedule-within-bounds: a schedule window's floor (KEDA cron `desiredReplicas`) lies
 *   above the ScaledObject's minimum and at most its maximum.
 * - scaling-predictive-lookahead: the predictive trigger looks at least one new-node cold start
 *   ahead, and cannot read an empty answer as 0 (upstream-facts section 12: `ignoreNullValues`).
 * - scaling-drain-within-spot-notice: a model server's drain (detection + termination grace +
 *   margin) fits the 2-minute spot notice, and preStop leaves time for in-flight requests.
 * - scaling-prod-on-demand-baseline: in prod every model keeps at least one replica on an
 *   on-demand managed node group (its own pool), so a spot reclaim never takes all of them.
 * - scaling-zero-retry-budget: a model that may be at zero replicas has a gateway retry window that
 *   outlasts waking it and a new-node cold start, inside the ALB's idle timeout.
 *
 * Imports only the ground floor (infra/) and the pack's helpers. The timing constants mirror
 * components/model-scaling.ts (a test holds them equal).
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { providerDefaultTags } from "./lib/aws";
import { countableNodeGroups, nodeGroupView, POOL_LABEL } from "./lib/capacity";
import { COMPONENT_LABEL, HELM_RELEASE, SCALED_OBJECT, containersOf, workloadOf } from "./lib/k8s";
import { propsOf } from "./lib/policy";
import { arr, get, isRecord, jsonValue, num, record, str, stringMap } from "./lib/props";

export const SPOT_NOTICE_SECONDS = 120;
export const INTERRUPTION_DETECTION_SECONDS = 15;
export const RECLAIM_MARGIN_SECONDS = 10;
export const WEEK_MINUTES = 7 * 24 * 60;
export const NEW_NODE_COLD_START_ANNOTATION = "llm-platform.io/new-node-cold-start-seconds";
/** Two scrapes of the gateway's counter (15 s) and one KEDA polling interval. */
export const GATEWAY_SCRAPE_SECONDS = 15;
/** The gateway ALB's idle timeout (components/gateway.ts ALB_IDLE_TIMEOUT_SECONDS). */
export const ALB_IDLE_TIMEOUT_SECONDS = 600;
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

interface ScalerView {
  readonly resource: PolicyResource;
  readonly name: string;
  readonly namespace: string;
  readonly target: string;
  readonly min: number;
  readonly max: number;
  readonly pollingInterval: number;
  readonly coldStartSeconds?: number;
  readonly triggers: readonly Record<string, unknown>[];
}

/** The ScaledObjects of model servers (labelled component model-server). */
function modelScalers(resources: readonly PolicyResource[]): ScalerView[] {
  return resources
    .filter((r) => r.type === SCALED_OBJECT)
    .flatMap((r) => {
      const p = propsOf(r);
      const labels = stringMap(get(p, "metadata", "labels"));
      if (labels[COMPONENT_LABEL] !== "model-server") return [];
      const cold = Number(stringMap(get(p, "metadata", "annotations"))[NEW_NODE_COLD_START_ANNOTATION]);
      return [
        {
          resource: r,
          name: str(get(p, "metadata", "name")) ?? r.name,
          namespace: str(get(p, "metadata", "namespace")) ?? "default",
          target: str(get(p, "spec", "scaleTargetRef", "name")) ?? "",
          min: num(get(p, "spec", "minReplicaCount")) ?? 0,
          max: num(get(p, "spec", "maxReplicaCount")) ?? 100,
          pollingInterval: num(get(p, "spec", "pollingInterval")) ?? 30,
          ...(Number.isFinite(cold) ? { coldStartSeconds: cold } : {}),
          triggers: arr(get(p, "spec", "triggers")).filter(isRecord),
        },
      ];
    });
}

export const scalingScheduleWithinBounds: StackValidationPolicy = {
  name: "scaling-schedule-within-bounds",
  description: "A model's schedule window (KEDA cron desiredReplicas) is above its ScaledObject's minReplicaCount and at most its maxReplicaCount.",
  enforcementLevel: "mandatory",
  severity: "medium",
  tags: ["reliability", "cost"],
  validateStack: (args, report) => {
    for (const s of modelScalers(args.resources)) {
      for (const t of s.triggers.filter((x) => x.type === "cron")) {
        const want = Number(record(t.metadata).desiredReplicas);
        const where = `ScaledObject ${s.namespace}/${s.name} trigger ${str(t.name) ?? "cron"}`;
        if (!(want <= s.max)) report(`${where}: desiredReplicas ${want} exceeds maxReplicaCount ${s.max}; lower the window's minReplicas or raise replicas.max.`, s.resource.urn);
        else if (!(want > s.min)) report(`${where}: desiredReplicas ${want} is not above minReplicaCount ${s.min}, so the window does nothing; raise its minReplicas or remove it.`, s.resource.urn);
      }
    }
  },
};

export const scalingPredictiveLookahead: StackValidationPolicy = {
  name: "scaling-predictive-lookahead",
  description:
    "A model's predictive trigger looks at least its new-node cold start ahead (last week's demand over [t, t + lookahead]), and an empty Prometheus answer is an error, not 0 (ignoreNullValues false with `or vector(0)`).",
  enforcementLevel: "mandatory",
  severity: "medium",
  tags: ["reliability"],
  validateStack: (args, report) => {
    for (const s of modelScalers(args.resources)) {
      for (const t of s.triggers.filter((x) => x.type === "prometheus" && x.name === "predictive")) {
        const md = record(t.metadata);
        const query = str(md.query) ?? "";
        const where = `ScaledObject ${s.namespace}/${s.name} trigger predictive`;
        const m = /\[(\d+)m:1m\] offset (\d+)m/.exec(query);
        if (!m || Number(m[1]) + Number(m[2]) !== WEEK_MINUTES) {
          report(`${where}: the query does not read last week at the same time of day ([<lookahead>m:1m] offset <1w - lookahead>m): ${query}`, s.resource.urn);
          continue;
        }
        const lookahead = Number(m[1]);
        if (s.coldStartSeconds === undefined) report(`${where}: no ${NEW_NODE_COLD_START_ANNOTATION} annotation to check the lookahead against.`, s.resource.urn);
        else if (lookahead * 60 < s.coldStartSeconds)
          report(
            `${where}: lookahead ${lookahead} min is shorter than the new-node cold start (${s.coldStartSeconds} s), so the floor rises after demand arrives; raise models.<name>.predictive.lookaheadMinutes to at least ${Math.ceil(s.coldStartSeconds / 60)} or omit it.`,
            s.resource.urn,
          );
        if (str(md.ignoreNullValues) !== "false" || !query.includes("or vector(0)"))
          report(`${where}: an empty result must not read as 0 (KEDA ignoreNullValues defaults to true): set ignoreNullValues "false" and end the query with "or vector(0)".`, s.resource.urn);
      }
    }
  },
};

/** The preStop sleep of a container, seconds (exec ["sleep", "<n>"]), if it has one. */
function preStopSleep(container: Record<string, unknown>): number | undefined {
  const cmd = arr(get(container, "lifecycle", "preStop", "exec", "command"));
  if (cmd[0] !== "sleep") return num(get(container, "lifecycle", "preStop", "sleep", "seconds"));
  return Number(cmd[1]);
}

export const scalingDrainWithinSpotNotice: StackValidationPolicy = {
  name: "scaling-drain-within-spot-notice",
  description: `A model server's drain fits the ${SPOT_NOTICE_SECONDS} s spot notice: Karpenter's detection (~${INTERRUPTION_DETECTION_SECONDS} s) + terminationGracePeriodSeconds + a ${RECLAIM_MARGIN_SECONDS} s margin, with the preStop sleep shorter than the grace period.`,
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["reliability"],
  validateStack: (args, report) => {
    for (const r of args.resources.filter((x) => x.type === DEPLOYMENT)) {
      const w = workloadOf(r.type, propsOf(r), r.name);
      if (!w || { ...w.labels, ...w.podLabels }[COMPONENT_LABEL] !== "model-server") continue;
      const grace = num(w.podSpec.terminationGracePeriodSeconds) ?? 30;
      const used = INTERRUPTION_DETECTION_SECONDS + grace + RECLAIM_MARGIN_SECONDS;
      const where = `Deployment ${w.namespace}/${w.name}`;
      if (used > SPOT_NOTICE_SECONDS)
        report(`${where}: detection ${INTERRUPTION_DETECTION_SECONDS} s + terminationGracePeriodSeconds ${grace} s + margin ${RECLAIM_MARGIN_SECONDS} s = ${used} s exceeds the ${SPOT_NOTICE_SECONDS} s spot notice; EC2 reclaims the node mid-drain.`, r.urn);
      for (const c of containersOf(w.podSpec).filter((x) => x.role === "container")) {
        const sleep = preStopSleep(c.spec);
        if (sleep === undefined) report(`${where}: container ${c.name} has no preStop sleep, so requests still reach it while its endpoint leaves the Service.`, r.urn);
        else if (sleep >= grace) report(`${where}: container ${c.name}'s preStop sleep ${sleep} s leaves nothing of the ${grace} s grace period for in-flight requests.`, r.urn);
      }
    }
  },
};

/** The stack's environment, from the AWS provider's defaultTags. */
function environmentOf(resources: readonly PolicyResource[]): string | undefined {
  for (const r of resources.filter((x) => x.type === "pulumi:providers:aws")) {
    const env = providerDefaultTags(propsOf(r)).environment;
    if (env) return env;
  }
  return undefined;
}

/** The pool a model Deployment prefers (its managed node group): the preferred affinity's POOL_LABEL value. */
function preferredPool(podSpec: Record<string, unknown>): string | undefined {
  for (const pref of arr(get(podSpec, "affinity", "nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution")).filter(isRecord))
    for (const e of arr(get(pref, "preference", "matchExpressions")).filter(isRecord))
      if (e.key === POOL_LABEL && e.operator === "In") {
        const v = arr(e.values)[0];
        if (typeof v === "string") return v;
      }
  return undefined;
}

export const scalingProdOnDemandBaseline: StackValidationPolicy = {
  name: "scaling-prod-on-demand-baseline",
  description:
    "In prod every model keeps at least one replica on on-demand capacity: its ScaledObject's minReplicaCount is at least 1 and the managed node group of its own pool is ON_DEMAND with minSize at least 1, so a spot reclaim never takes every replica.",
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["reliability"],
  validateStack: (args, report) => {
    if (environmentOf(args.resources) !== "prod") return;
    const groups = countableNodeGroups(args.resources).map((r) => nodeGroupView(r.name, propsOf(r)));
    const scalers = modelScalers(args.resources);
    for (const r of args.resources.filter((x) => x.type === DEPLOYMENT)) {
      const w = workloadOf(r.type, propsOf(r), r.name);
      if (!w || { ...w.labels, ...w.podLabels }[COMPONENT_LABEL] !== "model-server") continue;
      const where = `Deployment ${w.namespace}/${w.name}`;
      const scaler = scalers.find((s) => s.target === w.name && s.namespace === w.namespace);
      if (!scaler || scaler.min < 1) report(`${where}: minReplicaCount ${scaler?.min ?? "(no ScaledObject)"}; prod keeps at least one replica on on-demand capacity (replicas.min >= 1).`, r.urn);
      const pool = preferredPool(w.podSpec);
      const group = groups.find((g) => g.pool === pool);
      if (!group) report(`${where}: no managed node group for its pool "${pool ?? "(none)"}", so no replica is held on on-demand capacity.`, r.urn);
      else if (group.capacityType !== "ON_DEMAND" || (group.minSize ?? 0) < 1)
        report(`${where}: its pool "${group.pool}" is ${group.capacityType} with minSize ${group.minSize ?? 0}; in prod set gpuPools.${group.pool}.capacityType ON_DEMAND with minNodes >= 1.`, r.urn);
    }
  },
};

/** The gateway's router retries from the LiteLLM release's proxy_config. */
function gatewayRetries(resources: readonly PolicyResource[]): { numRetries: number; retryAfter: number } | undefined {
  for (const r of resources.filter((x) => x.type === HELM_RELEASE)) {
    const values = jsonValue(propsOf(r).values);
    const rs = get(values, "proxy_config", "router_settings");
    if (!isRecord(rs)) continue;
    return { numRetries: num(rs.num_retries) ?? num(get(values, "proxy_config", "litellm_settings", "num_retries")) ?? 2, retryAfter: num(rs.retry_after) ?? 0 };
  }
  return undefined;
}

export const scalingZeroRetryBudget: StackValidationPolicy = {
  name: "scaling-zero-retry-budget",
  description: `A model that may be at zero replicas is waited for, not failed: the gateway's retry window (num_retries x retry_after) covers waking it (two ${GATEWAY_SCRAPE_SECONDS} s scrapes + KEDA polling) and its new-node cold start, and stays inside the ALB's ${ALB_IDLE_TIMEOUT_SECONDS} s idle timeout.`,
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["reliability"],
  validateStack: (args, report) => {
    const zero = modelScalers(args.resources).filter((s) => s.min === 0);
    if (zero.length === 0) return;
    const retries = gatewayRetries(args.resources);
    if (!retries) return; // no gateway: nothing routes to the model through LiteLLM
    const window = retries.numRetries * retries.retryAfter;
    for (const s of zero) {
      const where = `ScaledObject ${s.namespace}/${s.name} (minReplicaCount 0)`;
      if (s.coldStartSeconds === undefined) {
        report(`${where}: no ${NEW_NODE_COLD_START_ANNOTATION} annotation to size the gateway's retry window against.`, s.resource.urn);
        continue;
      }
      const need = 2 * GATEWAY_SCRAPE_SECONDS + s.pollingInterval + s.coldStartSeconds;
      if (window < need)
        report(
          `${where}: the gateway holds a request ${retries.numRetries} x ${retries.retryAfter} s = ${window} s, less than waking the model and a new-node cold start (${need} s): the first requests fail. Route the model with scaleFromZero (components/gateway.ts).`,
          s.resource.urn,
        );
      if (window > ALB_IDLE_TIMEOUT_SECONDS) report(`${where}: the retry window ${window} s exceeds the ALB idle timeout ${ALB_IDLE_TIMEOUT_SECONDS} s: the client's connection closes first.`, s.resource.urn);
    }
  },
};

/** Registered in policies/policies.ts. scaling-zero-retry-budget joins once the gateway routes carry scaleFromZero (docs/scaling.md). */
export const scalingPolicies: StackValidationPolicy[] = [scalingScheduleWithinBounds, scalingPredictiveLookahead, scalingDrainWithinSpotNotice, scalingProdOnDemandBaseline, scalingZeroRetryBudget];
