/**
 * Area `economics`: the assumptions behind the capacity table and the $/token figures
 * (infra/unit-economics.ts, docs/capacity.md). Every default is stated there with its reason.
 */
import { z } from "zod";
import { int } from "./primitives";

export const economicsSchema = z
  .strictObject({
    /**
     * Share of the replicas' throughput at the SLO that traffic uses on average, for $/token:
     * tokens per hour = tokens/s at the SLO x targetUtilization x 3600. 0.6 by default: a
     * fleet sized for its peak idles part of the day.
     */
    targetUtilization: z.number().gt(0, { error: "must be > 0 (a share of the SLO throughput)" }).max(1).default(0.6),
    /**
     * p95 prompt length (tokens) the TTFT target is held at. 1,024 by default: the bound of the
     * ShareGPT sample the measured points used (infra/catalog/throughput.ts REFERENCE_WORKLOAD).
     */
    promptTokensP95: int(16, 131072).default(1024),
    /** Prompt tokens per output token in the traffic, for the gateway's input/output price split (ShareGPT: 215/194 = 1.1). */
    inputTokensPerOutputToken: z.number().min(0).max(1000).default(1.1),
  })
  .prefault({});
