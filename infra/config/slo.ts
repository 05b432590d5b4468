/**
 * Area `slo`: the service-level objectives of the services that are not models (the models keep
 * theirs in `models.<k>.slo`). Defaults are the seed's SLO table (seed section 11.1):
 *
 * | Service            | Availability | Latency target          | Errors   |
 * |--------------------|--------------|-------------------------|----------|
 * | TEI (embed/rerank) | 99.95%       | p95 50 ms               | < 0.05%  |
 * | Vector DB (Milvus) | 99.9%        | p95 20 ms (search)      | < 0.1%   |
 * | Safety service     | 99.95%       | p95 25 ms               | < 0.05%  |
 * | Gateway (LiteLLM)  | 99.9%        | p95 50 ms of its own overhead (our choice, docs/slos.md) |
 *
 * The error-rate column is 100 - availability, so it is not a separate key. A latency SLO "p95
 * under X ms" is read as "at most latencyBudgetPct (5) percent of requests take longer than
 * latencyMs", which is what a burn-rate alert can measure (docs/slos.md).
 * components/slo-rules.ts renders every SLO as multi-window multi-burn-rate alerts over
 * `periodDays`.
 */
import { z } from "zod";
import { int } from "./primitives";

export interface ServiceSloDefaults {
  readonly availabilityPct: number;
  readonly latencyMs: number;
}

export const serviceSloSchema = (d: ServiceSloDefaults) =>
  z
    .strictObject({
      /** Share of requests answered without a server error, percent (the error budget is 100 - this). */
      availabilityPct: z
        .number()
        .min(90, { error: "must be >= 90 (percent)" })
        .max(99.999, { error: "must be <= 99.999 (percent): a 100% objective leaves no error budget to burn" })
        .default(d.availabilityPct),
      /** The latency threshold, milliseconds: requests slower than this spend the latency budget. */
      latencyMs: int(1, 600_000).default(d.latencyMs),
      /** Share of requests allowed to be slower than latencyMs, percent (p95 = 5). */
      latencyBudgetPct: z.number().gt(0).max(50).default(5),
    })
    .prefault({});

/** The seed's table (seed section 11.1); the gateway's targets are ours (docs/slos.md). */
export const SERVICE_SLO_DEFAULTS = {
  teiEmbed: { availabilityPct: 99.95, latencyMs: 50 },
  teiRerank: { availabilityPct: 99.95, latencyMs: 50 },
  vectorDb: { availabilityPct: 99.9, latencyMs: 20 },
  safety: { availabilityPct: 99.95, latencyMs: 25 },
  gateway: { availabilityPct: 99.9, latencyMs: 50 },
} as const satisfies Record<string, ServiceSloDefaults>;

export type SloServiceKey = keyof typeof SERVICE_SLO_DEFAULTS;

export const sloSchema = z
  .strictObject({
    /** The SLO window, days: the error budget is spent over this many days (the burn-rate factors derive from it). */
    periodDays: int(7, 90).default(30),
    teiEmbed: serviceSloSchema(SERVICE_SLO_DEFAULTS.teiEmbed),
    teiRerank: serviceSloSchema(SERVICE_SLO_DEFAULTS.teiRerank),
    vectorDb: serviceSloSchema(SERVICE_SLO_DEFAULTS.vectorDb),
    safety: serviceSloSchema(SERVICE_SLO_DEFAULTS.safety),
    gateway: serviceSloSchema(SERVICE_SLO_DEFAULTS.gateway),
  })
  .prefault({});

export type SloConfig = z.output<typeof sloSchema>;
