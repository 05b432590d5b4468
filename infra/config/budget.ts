/**
 * Area `budget`: the money guardrails. The cost model and the budget policy read `monthlyUsd` and
 * `spotDiscount`; components/budgets.ts turns `monthlyUsd`, `alertEmails`, `notifications` and
 * `anomaly` into an AWS Budgets cost budget and a Cost Anomaly Detection monitor and
 * subscription (docs/runbooks.md "Budget and cost-anomaly alerts").
 */
import { z } from "zod";

/**
 * AWS Budgets: "A notification can have one SNS subscriber and up to 10 email subscribers" and
 * "A budget can have up to ten notifications" (AWS Billing and Cost Management API Reference,
 * NotificationWithSubscribers and Notification).
 */
export const MAX_EMAIL_SUBSCRIBERS = 10;
export const MAX_NOTIFICATIONS_PER_BUDGET = 10;

/** Percent of `monthlyUsd`; above 100 is allowed (an alert past the limit). */
const percentList = z
  .array(z.number().positive({ error: "must be > 0 (percent of budget.monthlyUsd)" }).max(1000, { error: "must be <= 1000 (percent of budget.monthlyUsd)" }))
  .refine((xs) => new Set(xs).size === xs.length, { error: "thresholds must be distinct (AWS Budgets rejects duplicate notifications)" });

export const budgetSchema = z
  .strictObject({
    /** Hard ceiling for the estimated monthly cost at maximum scale, USD; also the AWS Budgets limit. */
    monthlyUsd: z.number().positive({ error: "must be > 0 (USD per month)" }),
    /** Assumed spot discount off on-demand (0-0.9). Public reports range 50-80% for GPUs. */
    spotDiscount: z.number().min(0).max(0.9),
    /** Addresses the budget notifications and the anomaly subscription email; required in prod. */
    alertEmails: z
      .array(z.email())
      .max(MAX_EMAIL_SUBSCRIBERS, { error: `at most ${MAX_EMAIL_SUBSCRIBERS} addresses (AWS Budgets: up to 10 email subscribers per notification)` })
      .refine((xs) => new Set(xs).size === xs.length, { error: "addresses must be distinct" })
      .default([]),
    /** AWS Budgets notifications, in percent of `monthlyUsd`. */
    notifications: z
      .strictObject({
        /** FORECASTED notifications: the month-end forecast crosses these. */
        forecastedPercent: percentList.default([80, 100]),
        /** ACTUAL notifications: the month-to-date spend crosses these. */
        actualPercent: percentList.default([100]),
      })
      .prefault({})
      .superRefine((n, ctx) => {
        if (n.forecastedPercent.length + n.actualPercent.length > MAX_NOTIFICATIONS_PER_BUDGET)
          ctx.addIssue({
            code: "custom",
            path: ["forecastedPercent"],
            message: `forecastedPercent and actualPercent together allow at most ${MAX_NOTIFICATIONS_PER_BUDGET} thresholds (AWS Budgets: up to ten notifications per budget), got ${n.forecastedPercent.length + n.actualPercent.length}`,
          });
      }),
    /** Cost Anomaly Detection: which anomalies of this stack's spend are emailed, and how often. */
    anomaly: z
      .strictObject({
        /** An anomaly is reported when its total impact is at least this many USD ... */
        impactUsd: z.number().positive({ error: "must be > 0 (USD)" }).default(100),
        /** ... and at least this percent above the expected spend. */
        impactPercent: z.number().min(0).max(1000).default(10),
        /** Email summaries: DAILY or WEEKLY (IMMEDIATE alerts need an SNS topic). */
        frequency: z.enum(["DAILY", "WEEKLY"]).default("DAILY"),
      })
      .prefault({}),
  });

export type BudgetConfig = z.output<typeof budgetSchema>;

/**
 * The budget rules that need another area (the environment): called from cross-checks.ts. A
 * guardrail that notifies nobody is refused in prod; elsewhere an empty list keeps the budget and
 * the monitor (visible in the console) without notifications or a subscription.
 */
export function budgetCrossChecks(
  environment: string | undefined,
  budget: { readonly alertEmails?: readonly string[] | undefined } | undefined,
  add: (path: (string | number)[], message: string) => void,
): void {
  if (environment === "prod" && budget?.alertEmails && budget.alertEmails.length === 0)
    add(["budget", "alertEmails"], "prod needs at least one address: the AWS budget and the cost-anomaly subscription would otherwise notify nobody");
}
