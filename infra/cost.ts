/**
 * The cost model: monthly cost at baseline and at maximum scale, line by line, priced from
 * infra/catalog/instances.ts. A pure function of the registered resources (type + inputs), so
 * the offline plan and the budget policy (which sees the same resources at preview) share it.
 *
 * - EKS control plane: per cluster-hour by support type.
 * - Managed node groups: baseline at desired (or min) size, maximum at max size, each node at
 *   the most expensive of its instance types; spot at the configured discount.
 * - Karpenter NodePools: baseline 0 for the pool itself, plus the GPU nodes the minimum replicas
 *   need beyond the managed groups (`CostOptions.minReplicaNodes`), plus the CPU nodes that the
 *   minimum replicas of CPU workloads no managed node group admits need
 *   (`cpuPoolMinReplicaLines`, read from the rendered Deployments), maximum at the pool's
 *   `limits`: for each limited resource r, limit_r x the highest price per unit of r among the
 *   types the pool may launch; the lowest of those bounds is a true upper bound.
 * - NAT gateways, public IPv4 addresses, KMS keys as registered.
 * - RDS at its class price and gp3 storage (Multi-AZ doubles both; maximum at
 *   maxAllocatedStorage), ElastiCache per node, an ALB per `alb` Ingress or IngressGroup (hourly plus one LCU),
 *   WAF per web ACL and rule.
 * - Block storage at its provisioned size: EBS volumes, PersistentVolumeClaims and StatefulSet
 *   volumeClaimTemplates (x replicas), at the gp3 price.
 *
 * Usage-priced items (data processed, log ingestion, requests, S3 storage) are listed as not
 * priced. Compute that cannot be bounded (a node group with types outside the catalog, a
 * NodePool without limits) is listed in `unbounded`: the maximum is then not a true maximum, and
 * the budget policy fails.
 */
import { allocatable, type Resources } from "./capacity";
import { admissionMismatch, parseQuantity, podRequests } from "./kube-scheduling";
import { CACHE_NODE_TYPES, DB_INSTANCE_CLASSES, HOURS_PER_MONTH, INSTANCE_TYPES, karpenterLabels, kubeletLabels, SERVICE_PRICES, type InstanceType } from "./catalog/instances";

export interface CostResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

export interface CostLine {
  readonly category: "control-plane" | "compute" | "network" | "storage" | "security" | "other";
  /** What is billed, e.g. "g5 GPU node group (SPOT, 0-2 x g5.2xlarge)". */
  readonly item: string;
  /** The resource name it was read from. */
  readonly resource: string;
  readonly baselineMonthlyUsd: number;
  readonly maxMonthlyUsd: number;
  /** How the figure was computed. */
  readonly basis: string;
}

export interface CostEstimate {
  readonly lines: readonly CostLine[];
  readonly baselineMonthlyUsd: number;
  readonly maxMonthlyUsd: number;
  readonly assumptions: readonly string[];
  readonly notPriced: readonly string[];
  /** Compute capacity with no upper bound in the model (also listed in notPriced). */
  readonly unbounded: readonly string[];
}

export interface CostOptions {
  /** Fraction off on-demand assumed for spot capacity (config budget.spotDiscount). */
  readonly spotDiscount: number;
  /**
   * Karpenter GPU nodes the GPU workloads' minimum replicas need beyond the managed node groups at
   * minNodes, wherever the capacity rule places them (infra/unit-economics.ts
   * `minReplicaKarpenterNodes`, from infra/capacity.ts's placement). Counted in the baseline:
   * Karpenter launches them as soon as the pods are pending, so they run all the time.
   */
  readonly minReplicaNodes?: readonly { readonly pool: string; readonly instanceType: string; readonly capacity: "spot" | "on-demand" }[];
}

export { parseQuantity };

const round2 = (n: number) => Math.round(n * 100) / 100;
const monthly = (hourly: number) => hourly * HOURS_PER_MONTH;

function get(o: unknown, ...path: string[]): unknown {
  let cur = o;
  for (const p of path) {
    if (!cur || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

// ---------------------------------------------------------------------------------------------

function controlPlane(r: CostResource): CostLine {
  const support = (get(r.inputs, "upgradePolicy", "supportType") as string | undefined) ?? "EXTENDED";
  const p = support === "STANDARD" ? SERVICE_PRICES.eksControlPlaneStandardHourlyUsd : SERVICE_PRICES.eksControlPlaneExtendedHourlyUsd;
  const m = monthly(p.value);
  return {
    category: "control-plane",
    item: `EKS control plane (${support} support)`,
    resource: r.name,
    baselineMonthlyUsd: m,
    maxMonthlyUsd: m,
    basis: `$${p.value}/h x ${HOURS_PER_MONTH} h${support === "STANDARD" ? "" : " (no upgradePolicy means EXTENDED: 6x)"}`,
  };
}

/** Managed node group, as eks.ManagedNodeGroup or aws.eks.NodeGroup inputs. */
export function nodeGroupLine(r: CostResource, opts: CostOptions): CostLine | { unpriced: string } {
  const scaling = get(r.inputs, "scalingConfig") as { minSize?: number; desiredSize?: number; maxSize?: number } | undefined;
  const types = strings(r.inputs.instanceTypes).map((t) => INSTANCE_TYPES.get(t));
  if (!scaling || types.length === 0 || types.some((t) => !t)) return { unpriced: `${r.name}: node group without scalingConfig or with instance types outside the catalog` };
  const priciest = (types as InstanceType[]).reduce((a, b) => (b.onDemandHourlyUsd > a.onDemandHourlyUsd ? b : a));
  const spot = r.inputs.capacityType === "SPOT";
  const hourly = priciest.onDemandHourlyUsd * (spot ? 1 - opts.spotDiscount : 1);
  const base = scaling.desiredSize ?? scaling.minSize ?? 0;
  const max = scaling.maxSize ?? base;
  const pool = (get(r.inputs, "labels", "llm-platform.io/pool") as string | undefined) ?? r.name;
  return {
    category: "compute",
    item: `${priciest.gpu ? "GPU" : "CPU"} node group ${pool} (${spot ? "SPOT" : "ON_DEMAND"}, ${base}-${max} x ${types.map((t) => t!.name).join("|")})`,
    resource: r.name,
    baselineMonthlyUsd: monthly(hourly * base),
    maxMonthlyUsd: monthly(hourly * max),
    basis: `${priciest.name} $${priciest.onDemandHourlyUsd}/h${spot ? ` x (1 - spot discount ${opts.spotDiscount})` : ""}; baseline ${base} node(s), max ${max}`,
  };
}

/** Which catalog types a Karpenter NodePool may launch, from its requirements. */
export function nodePoolCandidates(spec: unknown): { types: InstanceType[]; capacityTypes: string[]; unbounded: string[] } {
  const reqs = (get(spec, "template", "spec", "requirements") as { key: string; operator: string; values?: string[] }[] | undefined) ?? [];
  const inValues = (key: string): string[] | undefined => reqs.find((r) => r.key === key && r.operator === "In")?.values;
  const families = inValues("karpenter.k8s.aws/instance-family");
  const sizes = inValues("karpenter.k8s.aws/instance-size");
  const names = inValues("node.kubernetes.io/instance-type");
  const capacityTypes = inValues("karpenter.sh/capacity-type") ?? ["on-demand"];
  const unbounded: string[] = [];
  if (!families && !names) unbounded.push("no instance-family or instance-type requirement: any type may launch");
  const types = [...INSTANCE_TYPES.values()].filter(
    (t) => (!names || names.includes(t.name)) && (!families || families.includes(t.family)) && (!sizes || sizes.includes(t.size)),
  );
  return { types, capacityTypes, unbounded };
}

export function nodePoolLine(r: CostResource, opts: CostOptions): CostLine | { unpriced: string } {
  const spec = r.inputs.spec;
  const limits = (get(spec, "limits") as Record<string, unknown> | undefined) ?? {};
  const { types, capacityTypes, unbounded } = nodePoolCandidates(spec);
  const poolName = (get(r.inputs, "metadata", "name") as string | undefined) ?? r.name;
  if (unbounded.length > 0 || types.length === 0) return { unpriced: `NodePool ${poolName}: ${unbounded.join("; ") || "no catalog instance type matches its requirements"}` };
  const spotOnly = capacityTypes.every((c) => c === "spot");
  const factor = spotOnly ? 1 - opts.spotDiscount : 1;
  const bounds: { resource: string; usd: number }[] = [];
  const gpus = parseQuantity(limits["nvidia.com/gpu"]);
  const cpu = parseQuantity(limits.cpu);
  const mem = parseQuantity(limits.memory);
  const perUnit = (unit: (t: InstanceType) => number) => Math.max(...types.map((t) => (unit(t) > 0 ? t.onDemandHourlyUsd / unit(t) : Infinity)));
  if (gpus !== undefined) bounds.push({ resource: `${gpus} GPUs`, usd: gpus === 0 ? 0 : gpus * perUnit((t) => t.gpu?.count ?? 0) });
  if (cpu !== undefined) bounds.push({ resource: `${cpu} vCPU`, usd: cpu * perUnit((t) => t.vcpu) });
  if (mem !== undefined) bounds.push({ resource: `${Math.round(mem / 1024 ** 3)} GiB`, usd: (mem / 1024 ** 3) * perUnit((t) => t.memoryGiB) });
  const finite = bounds.filter((b) => Number.isFinite(b.usd));
  if (finite.length === 0) return { unpriced: `NodePool ${poolName}: no limits, so no upper bound (the guardrails reject this)` };
  const tightest = finite.reduce((a, b) => (b.usd < a.usd ? b : a));
  return {
    category: "compute",
    item: `Karpenter NodePool ${poolName} (${capacityTypes.join("/")}, ${types.map((t) => t.name).join("|")})`,
    resource: r.name,
    baselineMonthlyUsd: 0,
    maxMonthlyUsd: monthly(tightest.usd * factor),
    basis: `at its limits: ${tightest.resource} x the highest $/unit among its types${spotOnly ? ` x (1 - spot discount ${opts.spotDiscount})` : ""}; launches nothing at baseline`,
  };
}

/** Resource types the catalog has no price for: listed as not priced, so the gap is visible. */
const UNPRICED_TYPES: Readonly<Record<string, string>> = {
  "aws:rds/cluster:Cluster": "RDS clusters (no price in infra/catalog/instances.ts)",
  "aws:rds/clusterInstance:ClusterInstance": "RDS cluster instances (no price in infra/catalog/instances.ts)",
  "aws:elasticache/cluster:Cluster": "ElastiCache clusters (no price in infra/catalog/instances.ts)",
  "aws:lb/loadBalancer:LoadBalancer": "load balancers, hourly and LCU (no price in infra/catalog/instances.ts)",
  "aws:alb/loadBalancer:LoadBalancer": "load balancers, hourly and LCU (no price in infra/catalog/instances.ts)",
  "aws:s3/bucket:Bucket": "S3 storage and requests, by volume",
  "aws:s3/bucketV2:BucketV2": "S3 storage and requests, by volume",
  "aws:ecr/repository:Repository": "ECR image storage, by volume",
  "aws:secretsmanager/secret:Secret": "Secrets Manager secrets (no price in infra/catalog/instances.ts)",
};

const GIB = 1024 ** 3;

/** A storage line at the gp3 price for `gib` GiB (the catalog's only block-storage price). */
function storageLine(r: CostResource, item: string, gib: number, count = 1): CostLine {
  const p = SERVICE_PRICES.ebsGp3GbMonthUsd.value;
  return fixed("storage", item, r, gib * count * p, `${count > 1 ? `${count} x ` : ""}${gib} GiB x gp3 $${p}/GB-month`);
}

/** PersistentVolumeClaim or StatefulSet volumeClaimTemplate: spec.resources.requests.storage. */
function claimGiB(claim: unknown): number | undefined {
  const q = parseQuantity(get(claim, "spec", "resources", "requests", "storage"));
  return q === undefined ? undefined : q / GIB;
}

function fixed(category: CostLine["category"], item: string, r: CostResource, monthlyUsd: number, basis: string): CostLine {
  return { category, item: `${item} (${r.name})`, resource: r.name, baselineMonthlyUsd: monthlyUsd, maxMonthlyUsd: monthlyUsd, basis };
}

/**
 * Baseline lines for the Karpenter GPU nodes the minimum replicas need (one line per NodePool and
 * type). Their maximum is 0: the NodePool's own line already counts it at its limits.
 */
export function minReplicaNodeLines(opts: CostOptions): CostLine[] {
  const groups = new Map<string, { pool: string; type: InstanceType; capacity: "spot" | "on-demand"; count: number }>();
  for (const n of opts.minReplicaNodes ?? []) {
    const t = INSTANCE_TYPES.get(n.instanceType);
    if (!t) throw new Error(`minReplicaNodes: instance type ${n.instanceType} is not in infra/catalog/instances.ts`);
    const key = `${n.pool}/${n.instanceType}/${n.capacity}`;
    const g = groups.get(key) ?? { pool: n.pool, type: t, capacity: n.capacity, count: 0 };
    g.count++;
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => {
    const hourly = g.type.onDemandHourlyUsd * (g.capacity === "spot" ? 1 - opts.spotDiscount : 1);
    return {
      category: "compute" as const,
      item: `Karpenter NodePool ${g.pool}: ${g.count} x ${g.type.name} (${g.capacity}) for GPU replicas.min beyond the node groups`,
      resource: g.pool,
      baselineMonthlyUsd: monthly(hourly * g.count),
      maxMonthlyUsd: 0,
      basis: `${g.count} x $${g.type.onDemandHourlyUsd}/h${g.capacity === "spot" ? ` x (1 - spot discount ${opts.spotDiscount})` : ""}, placed by the capacity rule (infra/capacity.ts); maximum counted in the NodePool's line`,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// CPU workloads on Karpenter's CPU NodePools

interface NodeLabels {
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly { readonly key: string; readonly value?: string; readonly effect: string }[];
}

/** Whether a node with these labels and taints admits the pod spec (infra/kube-scheduling.ts). */
const admitsNode = (spec: unknown, node: NodeLabels): boolean => admissionMismatch(spec, node.labels, node.taints) === undefined;

const TAINT_EFFECTS: Readonly<Record<string, string>> = { NO_SCHEDULE: "NoSchedule", NO_EXECUTE: "NoExecute", PREFER_NO_SCHEDULE: "PreferNoSchedule" };

/** A workload's minimum replicas: its ScaledObject's minReplicaCount (KEDA default 0), else its HPA's minReplicas (default 1), else spec.replicas (default 1). */
function minReplicas(r: CostResource, resources: readonly CostResource[]): number {
  const ns = get(r.inputs, "metadata", "namespace");
  const name = get(r.inputs, "metadata", "name");
  const targets = (type: string) => resources.find((x) => x.type === type && get(x.inputs, "metadata", "namespace") === ns && get(x.inputs, "spec", "scaleTargetRef", "name") === name);
  const so = targets("kubernetes:keda.sh/v1alpha1:ScaledObject");
  if (so) return (get(so.inputs, "spec", "minReplicaCount") as number | undefined) ?? 0;
  const hpa = targets("kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
  if (hpa) return (get(hpa.inputs, "spec", "minReplicas") as number | undefined) ?? 1;
  return (get(r.inputs, "spec", "replicas") as number | undefined) ?? 1;
}

/**
 * Baseline lines for the nodes Karpenter's CPU NodePools run for the minimum replicas of CPU
 * workloads that no managed node group admits (by their nodeSelector, required node affinity and
 * tolerations against the groups' labels and taints): TEI on placement "cpu" with
 * `cpuNodes: karpenter`, for example. Such pods are pending until Karpenter launches a node for
 * them, so those nodes run all the time. Replicas are packed first-fit, largest first, each new
 * node the cheapest type of the pool whose allocatable (infra/capacity.ts `allocatable`) holds
 * the replica, within the pool's limits; spot-only pools at the spot discount. The cluster model
 * (tests/cluster/scheduling.ts) is the reference for which pods these are (tests/dev-idle.test.ts).
 *
 * Pods that a managed group also admits (the safety and RAG services, chart pods) are assumed to
 * fit on the group's nodes at idle and are not counted here.
 */
export function cpuPoolMinReplicaLines(resources: readonly CostResource[], opts: CostOptions): CostLine[] {
  const hasAwsNodeGroups = resources.some((r) => r.type === "aws:eks/nodeGroup:NodeGroup");
  const groupNodes: NodeLabels[] = resources
    .filter((r) => r.type === (hasAwsNodeGroups ? "aws:eks/nodeGroup:NodeGroup" : "eks:index:ManagedNodeGroup"))
    .flatMap((r) => {
      const labels = (get(r.inputs, "labels") as Record<string, string> | undefined) ?? {};
      const taints = ((get(r.inputs, "taints") as { key: string; value?: string; effect: string }[] | undefined) ?? []).map((t) => ({ ...t, effect: TAINT_EFFECTS[t.effect] ?? t.effect }));
      const capacityType = typeof r.inputs.capacityType === "string" ? r.inputs.capacityType : "ON_DEMAND";
      return strings(r.inputs.instanceTypes)
        .map((n) => INSTANCE_TYPES.get(n))
        .filter((t): t is InstanceType => t !== undefined)
        .map((t) => ({ labels: { ...kubeletLabels(t), "eks.amazonaws.com/capacityType": capacityType, ...labels }, taints }));
    });
  const workloads = resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment" || r.type === "kubernetes:apps/v1:StatefulSet");
  const lines: CostLine[] = [];
  for (const pool of resources.filter((r) => r.type === "kubernetes:karpenter.sh/v1:NodePool")) {
    const spec = pool.inputs.spec;
    const { types, capacityTypes, unbounded } = nodePoolCandidates(spec);
    if (unbounded.length > 0 || types.length === 0 || types.some((t) => t.gpu)) continue;
    const name = (get(pool.inputs, "metadata", "name") as string | undefined) ?? pool.name;
    const templateLabels = (get(spec, "template", "metadata", "labels") as Record<string, string> | undefined) ?? {};
    const taints = (get(spec, "template", "spec", "taints") as NodeLabels["taints"] | undefined) ?? [];
    const shapes = types.flatMap((t) => capacityTypes.map((c) => ({ t, node: { labels: { ...karpenterLabels(t), ...templateLabels, "karpenter.sh/nodepool": name, "karpenter.sh/capacity-type": c }, taints } })));
    const replicas: { subject: string; req: Resources }[] = [];
    for (const w of workloads) {
      const podSpec = get(w.inputs, "spec", "template", "spec");
      const req = podRequests(podSpec);
      if (req.gpus > 0 || groupNodes.some((n) => admitsNode(podSpec, n)) || !shapes.some((s) => admitsNode(podSpec, s.node))) continue;
      const subject = `${w.type.endsWith("StatefulSet") ? "StatefulSet" : "Deployment"} ${String(get(w.inputs, "metadata", "namespace"))}/${String(get(w.inputs, "metadata", "name"))}`;
      for (let i = 0; i < minReplicas(w, resources); i++) replicas.push({ subject, req });
    }
    if (replicas.length === 0) continue;
    const limits = (get(spec, "limits") as Record<string, unknown> | undefined) ?? {};
    const cap = { cpu: parseQuantity(limits.cpu) ?? Infinity, memoryGiB: (parseQuantity(limits.memory) ?? Infinity) / GIB };
    const nodes: { t: InstanceType; free: Resources }[] = [];
    const used = { cpu: 0, memoryGiB: 0 };
    const fits = (free: Resources, r: Resources) => free.cpu >= r.cpu && free.memoryGiB >= r.memoryGiB;
    let unplaced = 0;
    for (const rep of [...replicas].sort((a, b) => b.req.cpu - a.req.cpu || b.req.memoryGiB - a.req.memoryGiB)) {
      let n = nodes.find((x) => fits(x.free, rep.req));
      if (!n) {
        const t = types
          .filter((x) => fits(allocatable(x), rep.req) && used.cpu + x.vcpu <= cap.cpu && used.memoryGiB + x.memoryGiB <= cap.memoryGiB)
          .sort((a, b) => a.onDemandHourlyUsd - b.onDemandHourlyUsd)[0];
        if (!t) {
          unplaced++;
          continue;
        }
        used.cpu += t.vcpu;
        used.memoryGiB += t.memoryGiB;
        n = { t, free: allocatable(t) };
        nodes.push(n);
      }
      n.free = { cpu: n.free.cpu - rep.req.cpu, memoryGiB: n.free.memoryGiB - rep.req.memoryGiB, gpus: 0 };
    }
    const spotOnly = capacityTypes.every((c) => c === "spot");
    const factor = spotOnly ? 1 - opts.spotDiscount : 1;
    const byType = new Map<string, { t: InstanceType; count: number }>();
    for (const n of nodes) byType.set(n.t.name, { t: n.t, count: (byType.get(n.t.name)?.count ?? 0) + 1 });
    const counts = [...byType.values()];
    const subjects = [...new Set(replicas.map((r) => r.subject))];
    lines.push({
      category: "compute",
      item: `Karpenter NodePool ${name}: ${counts.map((c) => `${c.count} x ${c.t.name}`).join(" + ")} (${spotOnly ? "spot" : "on-demand"}) for CPU replicas.min no node group admits`,
      resource: pool.name,
      baselineMonthlyUsd: monthly(counts.reduce((a, c) => a + c.t.onDemandHourlyUsd * c.count, 0) * factor),
      maxMonthlyUsd: 0,
      basis:
        `${replicas.length} replica(s) of ${subjects.join(", ")} packed first-fit onto the pool's cheapest type that holds each (allocatable per infra/capacity.ts)` +
        `${spotOnly ? ` x (1 - spot discount ${opts.spotDiscount})` : ""}${unplaced ? `; ${unplaced} replica(s) do not fit within the pool's limits and stay pending` : ""}; maximum counted in the NodePool's line`,
    });
  }
  return lines;
}

export function estimateCost(resources: readonly CostResource[], opts: CostOptions): CostEstimate {
  const lines: CostLine[] = [];
  const notPriced = new Set<string>();
  /** IngressGroups already priced: the Ingresses of one group share one ALB (aws-load-balancer-controller, "IngressGroup"). */
  const albGroups = new Set<string>();
  const unbounded = new Set<string>();
  // Under the CLI both a component and its children are visible; count each thing once.
  const hasAwsEks = resources.some((r) => r.type === "aws:eks/cluster:Cluster");
  const hasAwsNodeGroups = resources.some((r) => r.type === "aws:eks/nodeGroup:NodeGroup");

  for (const r of resources) {
    switch (r.type) {
      case "eks:index:Cluster":
        if (!hasAwsEks) lines.push(controlPlane(r));
        break;
      case "aws:eks/cluster:Cluster":
        lines.push(controlPlane(r));
        break;
      case "eks:index:ManagedNodeGroup":
      case "aws:eks/nodeGroup:NodeGroup": {
        if (r.type === "eks:index:ManagedNodeGroup" && hasAwsNodeGroups) break;
        const l = nodeGroupLine(r, opts);
        if ("unpriced" in l) {
          notPriced.add(l.unpriced);
          unbounded.add(l.unpriced);
        } else lines.push(l);
        break;
      }
      case "kubernetes:karpenter.sh/v1:NodePool": {
        const l = nodePoolLine(r, opts);
        if ("unpriced" in l) {
          notPriced.add(l.unpriced);
          unbounded.add(l.unpriced);
        } else lines.push(l);
        break;
      }
      case "aws:rds/instance:Instance": {
        const cls = DB_INSTANCE_CLASSES.get(String(r.inputs.instanceClass));
        if (!cls) {
          notPriced.add(`RDS instance ${r.name}: class ${String(r.inputs.instanceClass)} is not in infra/catalog/instances.ts`);
          break;
        }
        const az = r.inputs.multiAz === true ? 2 : 1;
        const gb = typeof r.inputs.allocatedStorage === "number" ? r.inputs.allocatedStorage : 0;
        const maxGb = typeof r.inputs.maxAllocatedStorage === "number" ? r.inputs.maxAllocatedStorage : gb;
        const st = SERVICE_PRICES.rdsGp3GbMonthUsd.value;
        lines.push({
          category: "other",
          item: `RDS PostgreSQL ${String(r.inputs.instanceClass)}${az === 2 ? " Multi-AZ" : ""} (${r.name})`,
          resource: r.name,
          baselineMonthlyUsd: monthly(cls.hourlyUsd * az) + gb * st * az,
          maxMonthlyUsd: monthly(cls.hourlyUsd * az) + maxGb * st * az,
          basis: `$${cls.hourlyUsd}/h x ${az}; gp3 ${gb} GB (max ${maxGb} GB) x $${st}/GB-month x ${az}; backups beyond the DB size not included`,
        });
        break;
      }
      case "aws:elasticache/replicationGroup:ReplicationGroup": {
        const node = CACHE_NODE_TYPES.get(String(r.inputs.nodeType));
        if (!node) {
          notPriced.add(`ElastiCache ${r.name}: node type ${String(r.inputs.nodeType)} is not in infra/catalog/instances.ts`);
          break;
        }
        const nodes = typeof r.inputs.numCacheClusters === "number" ? r.inputs.numCacheClusters : 1;
        lines.push(fixed("other", `ElastiCache ${String(r.inputs.nodeType)} x ${nodes}`, r, monthly(node.hourlyUsd * nodes), `$${node.hourlyUsd}/h x ${nodes} node(s)`));
        break;
      }
      case "kubernetes:networking.k8s.io/v1:Ingress": {
        if (get(r.inputs, "spec", "ingressClassName") !== "alb") break;
        const group = get(r.inputs, "metadata", "annotations", "alb.ingress.kubernetes.io/group.name") as string | undefined;
        if (group !== undefined && albGroups.has(group)) break;
        if (group !== undefined) albGroups.add(group);
        const hourly = SERVICE_PRICES.albHourlyUsd.value + SERVICE_PRICES.albLcuHourlyUsd.value;
        lines.push(fixed("network", "Application Load Balancer", r, monthly(hourly), `$${SERVICE_PRICES.albHourlyUsd.value}/h + 1 LCU ($${SERVICE_PRICES.albLcuHourlyUsd.value}/h); more LCUs by traffic`));
        notPriced.add("ALB LCUs beyond one, by traffic ($0.008 per LCU-hour)");
        break;
      }
      case "aws:wafv2/webAcl:WebAcl": {
        const rules = Array.isArray(r.inputs.rules) ? r.inputs.rules.length : 0;
        const m = SERVICE_PRICES.wafWebAclMonthlyUsd.value + rules * SERVICE_PRICES.wafRuleMonthlyUsd.value;
        lines.push(fixed("security", `WAF web ACL with ${rules} rules`, r, m, `$${SERVICE_PRICES.wafWebAclMonthlyUsd.value}/month + $${SERVICE_PRICES.wafRuleMonthlyUsd.value} per rule; $0.60 per 1M requests not included`));
        notPriced.add("WAF requests ($0.60 per million), by traffic");
        break;
      }
      case "aws:ebs/volume:Volume": {
        const size = typeof r.inputs.size === "number" ? r.inputs.size : undefined;
        if (size === undefined) notPriced.add(`EBS volume ${r.name}: no size (sized from a snapshot)`);
        else lines.push(storageLine(r, `EBS volume (${typeof r.inputs.type === "string" ? r.inputs.type : "gp3"})`, size));
        break;
      }
      case "kubernetes:core/v1:PersistentVolumeClaim": {
        const gib = claimGiB(r.inputs);
        if (gib === undefined) notPriced.add(`PersistentVolumeClaim ${r.name}: no storage request`);
        else lines.push(storageLine(r, "PersistentVolumeClaim", gib));
        break;
      }
      case "kubernetes:apps/v1:StatefulSet": {
        const replicas = typeof get(r.inputs, "spec", "replicas") === "number" ? (get(r.inputs, "spec", "replicas") as number) : 1;
        const templates = get(r.inputs, "spec", "volumeClaimTemplates");
        for (const t of Array.isArray(templates) ? (templates as unknown[]) : []) {
          const gib = claimGiB(t);
          const claim = (get(t, "metadata", "name") as string | undefined) ?? "data";
          if (gib === undefined) notPriced.add(`StatefulSet ${r.name} volumeClaimTemplate ${claim}: no storage request`);
          else lines.push(storageLine(r, `StatefulSet volumes ${claim}`, gib, replicas));
        }
        break;
      }
      case "aws:ec2/natGateway:NatGateway":
        lines.push(fixed("network", "NAT gateway", r, monthly(SERVICE_PRICES.natGatewayHourlyUsd.value), `$${SERVICE_PRICES.natGatewayHourlyUsd.value}/h; data processed not included`));
        notPriced.add("NAT gateway data processing ($0.045/GB)");
        break;
      case "aws:ec2/vpcEndpoint:VpcEndpoint": {
        // Gateway endpoints (S3) are free; an interface endpoint is billed per AZ it has an ENI in.
        if (r.inputs.vpcEndpointType !== "Interface") break;
        const azs = Array.isArray(r.inputs.subnetIds) ? r.inputs.subnetIds.length : 1;
        const h = SERVICE_PRICES.interfaceEndpointAzHourlyUsd.value;
        lines.push(fixed("network", `Interface VPC endpoint (${String(r.inputs.serviceName).split(".").pop()}) in ${azs} AZs`, r, monthly(h * azs), `$${h}/h per AZ; data processed not included`));
        notPriced.add("Interface VPC endpoint data processing ($0.01/GB)");
        break;
      }
      case "aws:ec2/eip:Eip":
        lines.push(fixed("network", "Public IPv4 address", r, monthly(SERVICE_PRICES.publicIpv4HourlyUsd.value), `$${SERVICE_PRICES.publicIpv4HourlyUsd.value}/h`));
        break;
      case "aws:kms/key:Key":
        lines.push(fixed("security", "KMS customer managed key", r, SERVICE_PRICES.kmsKeyMonthlyUsd.value, "$1/month, requests not included"));
        break;
      case "aws:cloudwatch/logGroup:LogGroup":
        notPriced.add("CloudWatch Logs ingestion and storage ($0.50/GB ingested), by volume");
        break;
      case "aws:ec2/flowLog:FlowLog":
        notPriced.add("VPC flow log delivery, by volume");
        break;
      case "aws:sqs/queue:Queue":
        notPriced.add("SQS requests ($0.40 per million), by volume");
        break;
      default:
        if (UNPRICED_TYPES[r.type]) notPriced.add(UNPRICED_TYPES[r.type]!);
        break;
    }
  }
  lines.push(...minReplicaNodeLines(opts), ...cpuPoolMinReplicaLines(resources, opts));
  if (lines.some((l) => l.item.includes("node group"))) notPriced.add("EBS root volumes of managed node group nodes (gp3 $0.08/GB-month x disk size x nodes)");

  const rounded = lines.map((l) => ({ ...l, baselineMonthlyUsd: round2(l.baselineMonthlyUsd), maxMonthlyUsd: round2(l.maxMonthlyUsd) }));
  return {
    lines: rounded,
    baselineMonthlyUsd: round2(rounded.reduce((a, l) => a + l.baselineMonthlyUsd, 0)),
    maxMonthlyUsd: round2(rounded.reduce((a, l) => a + l.maxMonthlyUsd, 0)),
    assumptions: [
      `Prices are us-east-1 Linux on-demand list prices from infra/catalog/instances.ts (${HOURS_PER_MONTH} h per month).`,
      `Spot capacity is priced at ${Math.round(opts.spotDiscount * 100)}% off on-demand (budget.spotDiscount). This is an assumption: public reports range 50-80% for GPUs, and it varies by type, zone and hour.`,
      "Baseline = node groups at their desired size, plus the Karpenter GPU nodes the GPU workloads' replicas.min need beyond them (the capacity rule's placement; none when the managed groups hold every minimum), plus the Karpenter CPU nodes for the replicas.min of CPU workloads no node group admits; maximum = node groups at max size and every NodePool at its limits.",
    ],
    notPriced: [...notPriced].sort(),
    unbounded: [...unbounded].sort(),
  };
}
