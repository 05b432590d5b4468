import { describe, expect, it } from "vitest";
import {
  anomalyMonitorArgs,
  anomalySubscriptionArgs,
  anomalyThresholdExpression,
  budgetArgs,
  budgetFilterExpression,
  budgetNotifications,
  stackScope,
  type BudgetConfig,
} from "../components/budgets";
import { costTags } from "../components/labels";
import { ConfigError, parsePlatformConfig, PROJECT } from "../infra/config";
import { budgetCrossChecks } from "../infra/config/budget";
import { ofType, one, readStackConfig, stack, STACKS, stackWith } from "./support/stacks";

const BUDGET = "aws:budgets/budget:Budget";
const MONITOR = "aws:costexplorer/anomalyMonitor:AnomalyMonitor";
const SUBSCRIPTION = "aws:costexplorer/anomalySubscription:AnomalySubscription";

const cfg = (over: Partial<BudgetConfig> = {}): BudgetConfig => ({
  monthlyUsd: 1234.5,
  spotDiscount: 0.6,
  alertEmails: ["a@example.com", "b@example.com"],
  notifications: { forecastedPercent: [80, 100], actualPercent: [100] },
  anomaly: { impactUsd: 100, impactPercent: 10, frequency: "DAILY" },
  ...over,
});
const scope = { project: "llm-platform", environment: "staging" };

describe("budget builders", () => {
  it("scopes the budget to the stack: project AND environment, as plain tag keys", () => {
    expect(budgetFilterExpression(scope)).toEqual({
      ands: [{ tags: { key: "project", values: ["llm-platform"] } }, { tags: { key: "environment", values: ["staging"] } }],
    });
  });

  it("reads the scope from the provider's default tags, and refuses tags without it", () => {
    const tags = costTags({ environment: "prod", project: "p", costCenter: "c", owner: "o", extra: { team: "t" } });
    expect(stackScope(tags)).toEqual({ project: "p", environment: "prod" });
    expect(() => stackScope({ owner: "o" })).toThrow(/"project" and "environment"/);
  });

  it("is a monthly COST budget at monthlyUsd, unblended, with the filter expression (not costFilters)", () => {
    const a = budgetArgs("llm-platform-staging", cfg(), scope);
    expect(a).toMatchObject({ name: "llm-platform-staging-monthly-cost", budgetType: "COST", timeUnit: "MONTHLY", limitAmount: "1234.50", limitUnit: "USD", metrics: "UnblendedCost" });
    expect(a.costFilters).toBeUndefined();
    expect(a.filterExpression).toEqual(budgetFilterExpression(scope));
  });

  it("notifies every address at each FORECASTED and ACTUAL threshold, in percent of the limit", () => {
    const n = budgetNotifications(cfg({ notifications: { forecastedPercent: [50, 90], actualPercent: [100, 120] } }));
    expect(n.map((x) => [x.notificationType, x.threshold])).toEqual([
      ["FORECASTED", 50],
      ["FORECASTED", 90],
      ["ACTUAL", 100],
      ["ACTUAL", 120],
    ]);
    for (const x of n) expect(x).toMatchObject({ comparisonOperator: "GREATER_THAN", thresholdType: "PERCENTAGE", subscriberEmailAddresses: ["a@example.com", "b@example.com"] });
  });

  it("with no addresses: the budget keeps tracking but has no notification, and there is no subscription", () => {
    expect(budgetNotifications(cfg({ alertEmails: [] }))).toEqual([]);
    expect(budgetArgs("x", cfg({ alertEmails: [] }), scope).notifications).toEqual([]);
    expect(anomalySubscriptionArgs("x", cfg({ alertEmails: [] }), "arn:m")).toBeUndefined();
  });

  it("monitors one cost allocation tag, environment, in the provider's JSON shape", () => {
    const m = anomalyMonitorArgs("llm-platform-staging", scope);
    expect(m).toMatchObject({ name: "llm-platform-staging-spend", monitorType: "CUSTOM" });
    expect(m.monitorDimension).toBeUndefined();
    expect(JSON.parse(m.monitorSpecification as string)).toEqual({ And: null, CostCategories: null, Dimensions: null, Not: null, Or: null, Tags: { Key: "environment", MatchOptions: null, Values: ["staging"] } });
  });

  it("reports anomalies at or above impactUsd AND impactPercent; impactPercent 0 leaves the USD floor alone", () => {
    expect(anomalyThresholdExpression({ impactUsd: 250, impactPercent: 15, frequency: "DAILY" })).toEqual({
      ands: [
        { dimension: { key: "ANOMALY_TOTAL_IMPACT_ABSOLUTE", matchOptions: ["GREATER_THAN_OR_EQUAL"], values: ["250"] } },
        { dimension: { key: "ANOMALY_TOTAL_IMPACT_PERCENTAGE", matchOptions: ["GREATER_THAN_OR_EQUAL"], values: ["15"] } },
      ],
    });
    expect(anomalyThresholdExpression({ impactUsd: 40, impactPercent: 0, frequency: "WEEKLY" })).toEqual({
      dimension: { key: "ANOMALY_TOTAL_IMPACT_ABSOLUTE", matchOptions: ["GREATER_THAN_OR_EQUAL"], values: ["40"] },
    });
  });

  it("emails every address at the configured frequency (email needs DAILY or WEEKLY)", () => {
    const s = anomalySubscriptionArgs("n", cfg({ anomaly: { impactUsd: 100, impactPercent: 10, frequency: "WEEKLY" } }), "arn:monitor")!;
    expect(s).toMatchObject({ name: "n-spend-anomalies", frequency: "WEEKLY", monitorArnLists: ["arn:monitor"] });
    expect(s.subscribers).toEqual([
      { type: "EMAIL", address: "a@example.com" },
      { type: "EMAIL", address: "b@example.com" },
    ]);
  });
});

describe("budget config", () => {
  const rawOf = (s: string): Record<string, any> => {
    const raw: Record<string, any> = {};
    for (const [k, v] of Object.entries(readStackConfig(s))) {
      if (k === "aws:region") raw.region = v;
      else if (k.startsWith(`${PROJECT}:`)) raw[k.slice(PROJECT.length + 1)] = structuredClone(v);
    }
    return raw;
  };
  const issues = (s: string, mutate: (b: Record<string, any>) => void) => {
    const raw = rawOf(s);
    mutate(raw.budget);
    try {
      parsePlatformConfig(raw, s);
      return [];
    } catch (e) {
      if (e instanceof ConfigError) return e.issues.filter((i) => i.path.startsWith("budget."));
      throw e;
    }
  };

  it("prod with no address fails at budget.alertEmails; dev with none is valid", () => {
    expect(issues("prod", (b) => (b.alertEmails = [])).map((i) => i.path)).toContain("budget.alertEmails");
    expect(issues("dev", (b) => (b.alertEmails = []))).toEqual([]);
  });

  it("defaults: forecast 80% and 100%, actual 100%, anomalies >= $100 and >= 10%, daily", () => {
    const c = parsePlatformConfig(rawOf("dev"), "dev").budget;
    expect(c.notifications).toEqual({ forecastedPercent: [80, 100], actualPercent: [100] });
    expect(c.anomaly).toEqual({ impactUsd: 100, impactPercent: 10, frequency: "DAILY" });
  });

  it.each([
    ["more than 10 addresses", (b: any) => (b.alertEmails = Array.from({ length: 11 }, (_, i) => `a${i}@example.com`)), "budget.alertEmails", /at most 10/],
    ["a repeated address", (b: any) => (b.alertEmails = ["a@example.com", "a@example.com"]), "budget.alertEmails", /distinct/],
    ["a repeated threshold", (b: any) => (b.notifications = { forecastedPercent: [80, 80] }), "budget.notifications.forecastedPercent", /distinct/],
    ["more than ten notifications", (b: any) => (b.notifications = { forecastedPercent: [10, 20, 30, 40, 50, 60], actualPercent: [70, 80, 90, 100, 110] }), "budget.notifications.forecastedPercent", /at most 10/],
    ["a zero threshold", (b: any) => (b.notifications = { actualPercent: [0] }), "budget.notifications.actualPercent[0]", /> 0/],
    ["IMMEDIATE anomalies (need SNS)", (b: any) => (b.anomaly = { frequency: "IMMEDIATE" }), "budget.anomaly.frequency", /DAILY/],
  ])("refuses %s, naming the key", (_what, mutate, path, message) => {
    const found = issues("dev", mutate);
    expect(found.map((i) => i.path)).toContain(path);
    expect(found.find((i) => i.path === path)!.message).toMatch(message);
  });

  it("prod with no address is refused at budget.alertEmails; dev and staging may have none", () => {
    const add = (env: string, alertEmails: string[]) => {
      const out: string[] = [];
      budgetCrossChecks(env, { alertEmails }, (p, m) => out.push(`${p.join(".")}: ${m}`));
      return out;
    };
    expect(add("prod", [])).toEqual([expect.stringMatching(/^budget\.alertEmails: prod needs at least one address/)]);
    expect(add("prod", ["a@example.com"])).toEqual([]);
    expect(add("dev", [])).toEqual([]);
    expect(add("staging", [])).toEqual([]);
  });
});

describe.each(STACKS)("budgets in %s", (name) => {
  it("registers the monthly budget, the anomaly monitor and the email subscription from budget.*", async () => {
    const r = await stack(name);
    const b = r.config.budget;
    const budget = one(r, BUDGET, "budget-monthly").inputs;
    expect(budget).toMatchObject({ name: `llm-platform-${name}-monthly-cost`, budgetType: "COST", timeUnit: "MONTHLY", limitAmount: b.monthlyUsd.toFixed(2), limitUnit: "USD" });
    expect(budget.filterExpression).toEqual({ ands: [{ tags: { key: "project", values: ["llm-platform"] } }, { tags: { key: "environment", values: [name] } }] });
    expect(budget.notifications).toHaveLength(b.notifications.forecastedPercent.length + b.notifications.actualPercent.length);
    for (const n of budget.notifications) expect(n.subscriberEmailAddresses).toEqual(b.alertEmails);

    const monitor = one(r, MONITOR, "budget-anomaly-monitor").inputs;
    expect(JSON.parse(monitor.monitorSpecification).Tags).toEqual({ Key: "environment", MatchOptions: null, Values: [name] });
    const sub = one(r, SUBSCRIPTION, "budget-anomaly-subscription");
    expect(sub.inputs.subscribers.map((s: any) => s.address)).toEqual(b.alertEmails);
    expect(sub.inputs.frequency).toBe(b.anomaly.frequency);
    // The subscription waits for the monitor: its ARN is the monitor's output.
    expect(sub.inputs.monitorArnLists).toHaveLength(1);
    expect(sub.inputs.monitorArnLists[0]).toMatch(/anomalymonitor/);
    // Documented stack outputs (README "Stack outputs").
    expect(r.outputs.costBudgetName).toBe(`llm-platform-${name}-monthly-cost`);
    expect(r.outputs.costAnomalyMonitorArn).toBe(sub.inputs.monitorArnLists[0]);
  });
});

describe("budgets with no addresses (dev)", () => {
  it("keeps the budget without notifications and creates no subscription", async () => {
    const r = await stackWith("dev", (raw) => {
      raw["llm-platform:budget"].alertEmails = [];
    });
    expect(one(r, BUDGET, "budget-monthly").inputs.notifications).toEqual([]);
    expect(ofType(r, MONITOR)).toHaveLength(1);
    expect(ofType(r, SUBSCRIPTION)).toHaveLength(0);
  });
});
