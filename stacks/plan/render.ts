/**
 * Turns a recorded run into the plan's artifacts: the inventory (plan.json), every Kubernetes
 * object and Helm release as YAML, and the summary a person reads.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { renderColdStart, type ColdStartRow } from "../../infra/coldstart";
import type { PlatformConfig } from "../../infra/config";
import type { CostEstimate } from "../../infra/cost";
import { renderUnitEconomics, type UnitEconomicsRow } from "../../infra/unit-economics";
import { renderSimulation, type SimulationRow } from "../../infra/scaling-sim";
import type { RecordedResource } from "./harness";
import type { PolicyVerdict } from "./policies";

import { HELM_RELEASE_TYPE } from "./resource-types";

export { HELM_RELEASE_TYPE };

/** What each remote component creates that the offline plan cannot see. */
export const REMOTE_CHILDREN: Record<string, string> = {
  "eks:index:Cluster":
    "the aws.eks.Cluster, its IAM role, cluster and node security groups, the OIDC provider, access entries and the vpc-cni, coredns and kube-proxy add-ons",
  "eks:index:ManagedNodeGroup": "the aws.eks.NodeGroup and, where set, its IAM role",
};

export interface KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  readonly [k: string]: unknown;
}

export function isKubernetesObject(r: RecordedResource): boolean {
  return r.custom && r.type.startsWith("kubernetes:") && r.type !== HELM_RELEASE_TYPE && !r.type.startsWith("pulumi:providers:");
}

export function kubernetesObjects(resources: readonly RecordedResource[]): KubernetesObject[] {
  return resources.filter(isKubernetesObject).map((r) => r.inputs as unknown as KubernetesObject);
}

export interface HelmReleaseView {
  readonly name: string;
  readonly namespace: string;
  readonly chart: string;
  readonly version: string;
  readonly repository?: string;
  readonly values: Record<string, unknown>;
  readonly resource: string;
}

export function helmReleases(resources: readonly RecordedResource[]): HelmReleaseView[] {
  return resources
    .filter((r) => r.type === HELM_RELEASE_TYPE)
    .map((r) => {
      const i = r.inputs as {
        name?: string;
        namespace?: string;
        chart?: string;
        version?: string;
        repositoryOpts?: { repo?: string };
        values?: Record<string, unknown>;
      };
      return {
        name: i.name ?? r.name,
        namespace: i.namespace ?? "default",
        chart: i.chart ?? "",
        version: i.version ?? "",
        ...(i.repositoryOpts?.repo ? { repository: i.repositoryOpts.repo } : {}),
        values: i.values ?? {},
        resource: r.name,
      };
    });
}

/** The top-level component each resource belongs to (the stack's direct child above it). */
export function componentOf(r: RecordedResource, byUrn: ReadonlyMap<string, RecordedResource>): string {
  let cur: RecordedResource | undefined = r;
  for (let i = 0; i < 100 && cur; i++) {
    const parent: RecordedResource | undefined = cur.parent ? byUrn.get(cur.parent) : undefined;
    if (!parent || parent.type === "pulumi:pulumi:Stack") return cur.type === "pulumi:pulumi:Stack" ? "(stack)" : `${cur.name} (${cur.type.split(":").pop()})`;
    cur = parent;
  }
  return "(unknown)";
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, "_");

export interface PlanDocument {
  readonly stack: string;
  readonly environment?: string;
  readonly region?: string;
  readonly summary: { readonly resources: number; readonly kubernetesObjects: number; readonly helmReleases: number; readonly remoteComponents: number };
  readonly notVisible: readonly { resource: string; type: string; hidden: string }[];
  readonly cost: CostEstimate & { readonly budgetMonthlyUsd?: number };
  /** Warm-node and new-node cold start per model, phase by phase (infra/coldstart.ts). */
  readonly coldStart?: readonly ColdStartRow[];
  /** Capacity and $/token per model (infra/unit-economics.ts). */
  readonly unitEconomics?: readonly UnitEconomicsRow[];
  /** The scaling preview: a week of the default trace per model and strategy (infra/scaling-sim.ts). */
  readonly scaling?: readonly SimulationRow[];
  /** The policy pack's verdicts (violations), mandatory and advisory. */
  readonly policies: readonly PolicyVerdict[];
  readonly policyRun: {
    readonly pack: string;
    readonly configFile?: string;
    readonly policies: readonly { readonly name: string; readonly enforcementLevel: string }[];
    /** Checks the offline plan cannot make (remote components hide their children). */
    readonly notCheckedOffline: readonly string[];
  };
  readonly outputs: Record<string, unknown>;
  readonly resources: readonly RecordedResource[];
}

export function notVisible(resources: readonly RecordedResource[]): PlanDocument["notVisible"] {
  return resources
    .filter((r) => r.remote)
    .map((r) => ({ resource: r.name, type: r.type, hidden: REMOTE_CHILDREN[r.type] ?? "its children (remote component)" }));
}

/** Writes out/<stack>/plan.json and out/<stack>/manifests/. Returns the files written. */
export function writePlan(outDir: string, doc: PlanDocument): { planFile: string; manifestFiles: string[] } {
  const stackDir = path.join(outDir, doc.stack);
  const manifestsDir = path.join(stackDir, "manifests");
  fs.rmSync(stackDir, { recursive: true, force: true });
  fs.mkdirSync(manifestsDir, { recursive: true });
  const planFile = path.join(stackDir, "plan.json");
  fs.writeFileSync(planFile, JSON.stringify(doc, null, 2) + "\n");

  const files: string[] = [];
  for (const r of doc.resources.filter(isKubernetesObject)) {
    const o = r.inputs as unknown as KubernetesObject;
    const dir = path.join(manifestsDir, safe(o.metadata?.namespace ?? "_cluster"));
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${safe(o.kind)}.${safe(o.metadata?.name ?? r.name)}.yaml`);
    fs.writeFileSync(file, `# Pulumi resource ${r.urn}\n${stringify(o, { lineWidth: 0 })}`);
    files.push(file);
  }
  for (const h of helmReleases(doc.resources)) {
    const dir = path.join(manifestsDir, "_helm");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${safe(h.namespace)}.${safe(h.name)}.yaml`);
    const { values, ...release } = h;
    fs.writeFileSync(file, `# Helm release (values as passed to the chart)\n${stringify({ release, values }, { lineWidth: 0 })}`);
    files.push(file);
  }
  return { planFile, manifestFiles: files };
}

const usd = (n: number) => `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

export function summary(doc: PlanDocument, config: PlatformConfig | undefined, written: { planFile: string; manifestFiles: string[] }, maxLines = 10): string {
  const out: string[] = [];
  const byUrn = new Map(doc.resources.map((r) => [r.urn, r]));
  out.push(`Offline plan for stack "${doc.stack}" (${doc.environment ?? "?"}, ${doc.region ?? "?"}), on Pulumi's mock runtime`);
  out.push("");
  out.push(`Resources: ${doc.summary.resources} registered, ${doc.summary.kubernetesObjects} Kubernetes objects, ${doc.summary.helmReleases} Helm releases`);
  const counts = new Map<string, number>();
  for (const r of doc.resources) {
    if (r.type === "pulumi:pulumi:Stack" || r.type.startsWith("pulumi:providers:")) continue;
    const c = componentOf(r, byUrn);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  for (const [c, n] of [...counts].sort((a, b) => b[1] - a[1])) out.push(`  ${String(n).padStart(4)}  ${c}`);
  if (doc.notVisible.length > 0) {
    out.push("");
    out.push("Not visible offline (remote components; `pulumi preview` shows their children):");
    for (const n of doc.notVisible) out.push(`  - ${n.resource} (${n.type}): ${n.hidden}`);
  }
  out.push("");
  out.push("Estimated monthly cost (USD)");
  // By the larger of the two figures: a line priced only at baseline (minimum replicas placed on
  // Karpenter capacity) must not hide among the "more lines".
  const lines = [...doc.cost.lines].sort((a, b) => Math.max(b.maxMonthlyUsd, b.baselineMonthlyUsd) - Math.max(a.maxMonthlyUsd, a.baselineMonthlyUsd));
  const w = Math.min(70, Math.max(...lines.map((l) => l.item.length), 20));
  out.push(`  ${"item".padEnd(w)}  ${"baseline".padStart(12)}  ${"maximum".padStart(12)}`);
  for (const l of lines.slice(0, maxLines)) out.push(`  ${l.item.slice(0, w).padEnd(w)}  ${usd(l.baselineMonthlyUsd).padStart(12)}  ${usd(l.maxMonthlyUsd).padStart(12)}`);
  if (lines.length > maxLines) {
    const rest = lines.slice(maxLines);
    const rb = rest.reduce((a, l) => a + l.baselineMonthlyUsd, 0);
    const rm = rest.reduce((a, l) => a + l.maxMonthlyUsd, 0);
    out.push(`  ${`... ${rest.length} more lines (plan.json)`.padEnd(w)}  ${usd(rb).padStart(12)}  ${usd(rm).padStart(12)}`);
  }
  out.push(`  ${"Total".padEnd(w)}  ${usd(doc.cost.baselineMonthlyUsd).padStart(12)}  ${usd(doc.cost.maxMonthlyUsd).padStart(12)}`);
  if (config) {
    const b = config.budget.monthlyUsd;
    const pct = Math.round((doc.cost.maxMonthlyUsd / b) * 100);
    out.push(`  Budget ${usd(b)}: maximum is ${pct}% of it${doc.cost.maxMonthlyUsd > b ? " - OVER BUDGET" : ""}`);
  }
  out.push(`  Spot assumption: ${Math.round((config?.budget.spotDiscount ?? 0) * 100)}% off on-demand (budget.spotDiscount) - an assumption, not a quote.`);
  if (doc.cost.notPriced.length > 0) out.push(`  Not priced: ${doc.cost.notPriced.join("; ")}`);
  if (doc.unitEconomics && doc.unitEconomics.length > 0) {
    out.push("");
    out.push(...renderUnitEconomics(doc.unitEconomics));
  }
  out.push("");
  out.push(...policySummary(doc));
  out.push("");
  if (doc.coldStart && doc.coldStart.length > 0) {
    out.push(...renderColdStart(doc.coldStart));
    out.push("");
  }
  if (doc.scaling && doc.scaling.length > 0) {
    out.push(...renderSimulation(doc.scaling));
    out.push("");
  }
  out.push(`Wrote ${path.relative(process.cwd(), written.planFile)} and ${written.manifestFiles.length} manifests under ${path.relative(process.cwd(), path.dirname(written.planFile))}/manifests/`);
  return out.join("\n");
}

/** "<name> (<Kind>)" for a verdict's resource, "(stack)" for a stack-wide verdict. */
function verdictSubject(v: PolicyVerdict): string {
  return v.resource ? `${v.resource.name} (${v.resource.type.split(":").pop() ?? v.resource.type})` : "(stack)";
}

/** The policy section of the summary: every verdict, grouped by policy, mandatory first, then the counts. */
export function policySummary(doc: PlanDocument): string[] {
  const out: string[] = [];
  const run = doc.policyRun;
  const mandatory = doc.policies.filter((v) => v.enforcementLevel === "mandatory").length;
  const advisory = doc.policies.length - mandatory;
  out.push(`Policy verdicts: ${run.pack}, ${run.policies.length} policies${run.configFile ? ` with ${run.configFile}` : ""}`);
  const order = (v: PolicyVerdict) => (v.enforcementLevel === "mandatory" ? 0 : 1);
  const sorted = [...doc.policies].sort((a, b) => order(a) - order(b) || a.policy.localeCompare(b.policy));
  let last = "";
  for (const v of sorted) {
    if (v.policy !== last && last !== "") out.push("");
    last = v.policy;
    out.push(`  [${v.enforcementLevel}] ${v.policy}: ${verdictSubject(v)} - ${v.message}`);
  }
  if (sorted.length === 0) out.push("  no violations");
  if (run.notCheckedOffline.length > 0) {
    out.push("");
    out.push("  Not checked offline (`pulumi preview --policy-pack policies` sees the children of remote components):");
    for (const n of run.notCheckedOffline) out.push(`    - ${n}`);
  }
  out.push(
    `  ${mandatory} mandatory, ${advisory} advisory violation${advisory === 1 ? "" : "s"}${mandatory > 0 ? " - the plan fails (exit 1)" : ""}`,
  );
  return out;
}
