/**
 * Area `loadTest`: benchmark Jobs generated from the models' SLOs (components/load-test.ts,
 * docs/capacity.md "Calibrating with load tests"). Off by default.
 *
 * Each model gets one Job with two runs of the pinned load generator (inference-perf): straight
 * to its vLLM Service, then through the LiteLLM gateway, over the same concurrency sweep (derived
 * from `models.<k>.slo`), so the gateway's overhead is measured. Results go to the weights bucket
 * under load-tests/<runId>/<model>/.
 */
import { z } from "zod";
import { int, vaultRef } from "./primitives";

export const loadTestSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /**
     * The run's id: the results' S3 prefix and the Jobs' name suffix. Omit to derive it from the
     * rendered benchmark (a changed sweep, image or target is a new run); set a new value to run
     * the same benchmark again.
     */
    runId: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9-]{0,22}[a-z0-9])?$/, { error: "lower-case letters, digits and hyphens, 1-24 characters, starting and ending with a letter or digit (it is part of the Jobs' names)" })
      .optional(),
    /** Prompt length of every request, in the model's tokens (fixed, so runs compare). */
    inputTokens: int(16, 32768).default(512),
    /** max_tokens of every request (the output length the SLO's stream rate is computed on). */
    outputTokens: int(16, 32768).default(256),
    /** Wall time each concurrency stage aims at; its request count is derived from it and e2eP95Ms. */
    stageSeconds: int(30, 3600).default(120),
    /** The most concurrency stages in a sweep. */
    maxStages: int(2, 12).default(6),
    /** A LiteLLM key for the through-gateway run, "path#key" in the KV mount (never the value). */
    gatewayKeyVaultRef: vaultRef.optional(),
  })
  .prefault({})
  .superRefine((l, ctx) => {
    if (l.enabled && !l.gatewayKeyVaultRef)
      ctx.addIssue({
        code: "custom",
        path: ["gatewayKeyVaultRef"],
        message: 'required when loadTest.enabled is true: a LiteLLM key in Vault for the through-gateway run, e.g. "llm-platform/<env>/load-test#api-key"',
      });
  });

interface LoadTestView {
  readonly loadTest?: { readonly enabled?: boolean; readonly inputTokens?: number; readonly outputTokens?: number };
  readonly models?: Readonly<Record<string, { readonly maxModelLen?: number } | undefined>>;
  readonly edge?: { readonly enabled?: boolean };
}

/** Cross-area rules (called from cross-checks.ts): the gateway run needs the gateway; each request must fit every model's context. */
export function loadTestProblems(c: LoadTestView, add: (path: (string | number)[], message: string) => void): void {
  const l = c.loadTest;
  if (!l?.enabled) return;
  if (c.edge && c.edge.enabled === false) add(["loadTest", "enabled"], "the load test runs once through the LiteLLM gateway: set edge.enabled to true, or loadTest.enabled to false");
  if (l.inputTokens === undefined || l.outputTokens === undefined) return;
  for (const [key, m] of Object.entries(c.models ?? {}))
    if (m?.maxModelLen !== undefined && l.inputTokens + l.outputTokens > m.maxModelLen)
      add(["loadTest", "inputTokens"], `loadTest.inputTokens + loadTest.outputTokens (${l.inputTokens + l.outputTokens}) must be <= models.${key}.maxModelLen (${m.maxModelLen}); shorten them`);
}
