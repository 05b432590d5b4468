/**
 * Budgets: the money guardrails that act at run time, from config `budget.*`
 * (docs/runbooks.md "Budget and cost-anomaly alerts").
 *
 * - An AWS Budgets monthly COST budget at `budget.monthlyUsd`, scoped to this stack's cost tags
 *   (`project` AND `environment`, the tags the AWS provider's defaultTags put on every taggable
 *   resource, components/labels.ts `costTags`), with FORECASTED and ACTUAL email notifications at
 *   `budget.notifications.*` percent of the limit.
 * - A Cost Anomaly Detection CUSTOM monitor over the stack's `environment` cost-allocation tag,
 *   and a DAILY (or WEEKLY) email subscription for anomalies above `budget.anomaly.*`.
 *
 * Why these shapes (AWS Billing and Cost Management API Reference):
 * - Budgets `CostFilters` ORs the values of one filter ("lists of dimension values are combined
 *   with OR", API_Expression), so `TagKeyValue: ["user:project$x", "user:environment$y"]` would
 *   count every stack of the project plus every other project's `y`. The Budgets
 *   `FilterExpression` (API_budgets_Expression, `And` of `Tags`) scopes to the stack; it needs
 *   `Metrics` (the provider: "Conflicts with costFilter and requires metrics").
 * - A DIMENSIONAL SERVICE monitor watches the whole account, service by service ("AWS managed
 *   monitors automatically track up to the top 5,000 values by cost within a dimension", API
 *   AnomalyMonitor), so three stacks in one account would each report the others' spend; a
 *   CUSTOM monitor watches chosen values "in aggregate". Its specification takes one cost
 *   allocation tag (AWS Cost Anomaly Detection features: "an individual Cost Allocation tag"; the
 *   provider's Custom Example, whose JSON shape with explicit nulls is kept to avoid diffs), so it
 *   is keyed on `environment`, the tag whose value differs between this project's stacks.
 * - "Notifications are sent either over email (for DAILY and WEEKLY frequencies) or SNS (for
 *   IMMEDIATE frequency)" (API AnomalySubscription, Frequency): `budget.alertEmails` are emails.
 * - Each budget notification takes up to 10 email subscribers, a budget up to ten notifications
 *   (API_budgets_NotificationWithSubscribers, Notification): infra/config/budget.ts enforces both.
 *
 * Both act only on cost-allocation tags that are active in the billing console, which this
 * program does not do (docs/runbooks.md says why and how). Neither is in the cost model: a budget
 * costs at most $0.02 a day beyond an account's first two, and Cost Anomaly Detection nothing
 * (docs/runbooks.md "Budget and cost-anomaly alerts", with sources).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../infra/config";

/** The cost tags that identify one stack: every stack of the project differs in `environment`. */
export interface StackScope {
  readonly project: string;
  readonly environment: string;
}

/** The stack's scope from the tags the provider puts on every resource (components/labels.ts `costTags`). */
export function stackScope(tags: Readonly<Record<string, string>>): StackScope {
  const project = tags.project;
  const environment = tags.environment;
  if (!project || !environment) throw new Error(`cost tags need "project" and "environment", got ${JSON.stringify(Object.keys(tags))}`);
  return { project, environment };
}

/** The tag keys the budget and the monitor filter on: activate these as cost allocation tags. */
export const SCOPE_TAG_KEYS = ["project", "environment"] as const;

export type BudgetConfig = PlatformConfig["budget"];

/** The Budgets filter: this stack's `project` AND `environment` tags (plain tag keys, as in Cost Explorer expressions). */
export function budgetFilterExpression(scope: StackScope): aws.types.input.budgets.BudgetFilterExpression {
  return { ands: SCOPE_TAG_KEYS.map((key) => ({ tags: { key, values: [scope[key]] } })) };
}

/** One notification per threshold: FORECASTED first, then ACTUAL, each to every address. */
export function budgetNotifications(b: Pick<BudgetConfig, "alertEmails" | "notifications">): aws.types.input.budgets.BudgetNotification[] {
  if (b.alertEmails.length === 0) return [];
  const n = (notificationType: "FORECASTED" | "ACTUAL", threshold: number): aws.types.input.budgets.BudgetNotification => ({
    notificationType,
    comparisonOperator: "GREATER_THAN",
    threshold,
    thresholdType: "PERCENTAGE",
    subscriberEmailAddresses: [...b.alertEmails],
  });
  return [...b.notifications.forecastedPercent.map((p) => n("FORECASTED", p)), ...b.notifications.actualPercent.map((p) => n("ACTUAL", p))];
}

/** The monthly cost budget. `name` is unique per account (the cluster name is). */
export function budgetArgs(name: string, b: BudgetConfig, scope: StackScope): aws.budgets.BudgetArgs {
  return {
    name: `${name}-monthly-cost`,
    budgetType: "COST",
    timeUnit: "MONTHLY",
    limitAmount: b.monthlyUsd.toFixed(2),
    limitUnit: "USD",
    metrics: "UnblendedCost",
    filterExpression: budgetFilterExpression(scope),
    notifications: budgetNotifications(b),
  };
}

/** The CUSTOM anomaly monitor's specification: one cost allocation tag, `environment`. */
export function anomalyMonitorSpecification(scope: StackScope): string {
  return JSON.stringify({ And: null, CostCategories: null, Dimensions: null, Not: null, Or: null, Tags: { Key: "environment", MatchOptions: null, Values: [scope.environment] } });
}

export function anomalyMonitorArgs(name: string, scope: StackScope): aws.costexplorer.AnomalyMonitorArgs {
  return { name: `${name}-spend`, monitorType: "CUSTOM", monitorSpecification: anomalyMonitorSpecification(scope) };
}

/**
 * Which anomalies are reported: total impact >= impactUsd AND >= impactPercent above the expected
 * spend (impactPercent 0: the USD floor alone). The USD floor drops cent-sized blips of small
 * services; the percent floor drops the normal variance of a large line.
 */
export function anomalyThresholdExpression(a: BudgetConfig["anomaly"]): aws.types.input.costexplorer.AnomalySubscriptionThresholdExpression {
  const absolute = { dimension: { key: "ANOMALY_TOTAL_IMPACT_ABSOLUTE", matchOptions: ["GREATER_THAN_OR_EQUAL"], values: [String(a.impactUsd)] } };
  if (a.impactPercent === 0) return absolute;
  const percent = { dimension: { key: "ANOMALY_TOTAL_IMPACT_PERCENTAGE", matchOptions: ["GREATER_THAN_OR_EQUAL"], values: [String(a.impactPercent)] } };
  return { ands: [absolute, percent] };
}

/** The email subscription, or undefined when there is nobody to email (refused in prod by config). */
export function anomalySubscriptionArgs(name: string, b: BudgetConfig, monitorArn: pulumi.Input<string>): aws.costexplorer.AnomalySubscriptionArgs | undefined {
  if (b.alertEmails.length === 0) return undefined;
  return {
    name: `${name}-spend-anomalies`,
    frequency: b.anomaly.frequency,
    monitorArnLists: [monitorArn],
    subscribers: b.alertEmails.map((address) => ({ type: "EMAIL", address })),
    thresholdExpression: anomalyThresholdExpression(b.anomaly),
  };
}

export interface BudgetsArgs {
  readonly budget: BudgetConfig;
  /** The stack's cost tags (components/labels.ts `costTags`): the budget and the monitor filter on them. */
  readonly tags: Readonly<Record<string, string>>;
  /** Unique per account: the cluster name. */
  readonly name: string;
}

export class Budgets extends pulumi.ComponentResource {
  public readonly budget: aws.budgets.Budget;
  public readonly anomalyMonitor: aws.costexplorer.AnomalyMonitor;
  public readonly anomalySubscription?: aws.costexplorer.AnomalySubscription;
  public readonly budgetName: pulumi.Output<string>;

  constructor(name: string, args: BudgetsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:budget:Budgets", name, {}, opts);
    const child = { parent: this };
    const scope = stackScope(args.tags);
    this.budget = new aws.budgets.Budget(`${name}-monthly`, budgetArgs(args.name, args.budget, scope), child);
    this.anomalyMonitor = new aws.costexplorer.AnomalyMonitor(`${name}-anomaly-monitor`, anomalyMonitorArgs(args.name, scope), child);
    const sub = anomalySubscriptionArgs(args.name, args.budget, this.anomalyMonitor.arn);
    if (sub) this.anomalySubscription = new aws.costexplorer.AnomalySubscription(`${name}-anomaly-subscription`, sub, child);
    this.budgetName = this.budget.name;
    this.registerOutputs({ budgetName: this.budgetName, anomalyMonitorArn: this.anomalyMonitor.arn });
  }
}
