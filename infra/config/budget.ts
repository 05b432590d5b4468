/** Area `budget`: the money guardrails. */
import { z } from "zod";

export const budgetSchema = z.strictObject({
  /** Hard ceiling for the estimated monthly cost at maximum scale, USD. */
  monthlyUsd: z.number().positive({ error: "must be > 0 (USD per month)" }),
  /** Assumed spot discount off on-demand (0-0.9). Public reports range 50-80% for GPUs. */
  spotDiscount: z.number().min(0).max(0.9),
  /** Addresses AWS Budgets notifies at 80% forecast and 100% actual. */
  alertEmails: z.array(z.email()).default([]),
});
