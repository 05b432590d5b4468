/**
 * Hosted-API reference prices for the models we self-host, USD per 1M tokens, for comparing
 * self-hosting against buying the same model from a hosted API (unit economics, the $/token
 * panel and the "self-hosting costs more than hosted" alert).
 *
 * Source: /work/shared/reference/upstream-facts.md section 11, "Hosted API prices, per 1M tokens
 * (input/output)". Prices are list prices that change often; they are references, not quotes.
 */
import type { LlmModelKey } from "./models";

export interface HostedReferencePrice {
  /** Typical hosted input price, USD per 1M input tokens. */
  inputPerMTokUsd: number;
  /** Typical hosted output price, USD per 1M output tokens. */
  outputPerMTokUsd: number;
  /** Lowest listed hosted output price, USD per 1M output tokens, where one was found. */
  lowestOutputPerMTokUsd?: number;
  source: string;
}

export const HOSTED_REFERENCE_PRICES: Record<
  LlmModelKey,
  { inputPerMTokUsd: number; outputPerMTokUsd: number; lowestOutputPerMTokUsd?: number; source: string }
> = {
  "gpt-oss-120b": {
    inputPerMTokUsd: 0.15,
    outputPerMTokUsd: 0.6,
    // Lowest listed: $0.039 input / $0.18 output (OpenRouter).
    lowestOutputPerMTokUsd: 0.18,
    source:
      "upstream-facts.md section 11: typical $0.15 / $0.60 per 1M input/output tokens (Groq, Together, DeepInfra); lowest listed $0.039 / $0.18 (OpenRouter)",
  },
  "gpt-oss-20b": {
    // The reference gives ranges ($0.05-0.07 input, $0.20-0.30 output); the typical figure taken
    // here is the middle of each range.
    inputPerMTokUsd: 0.06,
    outputPerMTokUsd: 0.25,
    source:
      "upstream-facts.md section 11: typical $0.05-0.07 / $0.20-0.30 per 1M input/output tokens; the middle of each range is taken as the typical figure; no lowest listed price given",
  },
};
