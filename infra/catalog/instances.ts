/**
 * Instance catalog: every EC2 instance type the platform may launch, with its GPUs and its
 * on-demand price. This is the only place prices and GPU specs live; config validation,
 * the cost model and the policies all read it.
 *
 * Prices are us-east-1 Linux on-demand $/hour from aws/karpenter-provider-aws
 * `pkg/providers/pricing/zz_generated.pricing_aws.go` (generated 2026-07-20 from the AWS
 * Pricing API). GPU memory is the EC2-reported MiB per GPU from the same repository's
 * `website/content/en/v1.14/reference/instance-types.md`. See
 * ../shared/reference/upstream-facts.md section 9.
 */

export type GpuModel = "a10g" | "l4" | "l40s" | "a100" | "a100-80gb" | "h100";

export interface GpuSpec {
  /** Karpenter's `karpenter.k8s.aws/instance-gpu-name` value for the GPU. */
  readonly name: "a10g" | "l4" | "l40s" | "a100" | "h100";
  /** Our GPU model key (distinguishes A100 40 GB from 80 GB). */
  readonly model: GpuModel;
  /** CUDA compute capability, which selects architecture-specific images (TEI). */
  readonly computeCapability: "8.0" | "8.6" | "8.9" | "9.0";
  readonly count: number;
  /** Memory per GPU in MiB, as EC2 reports it. */
  readonly memoryMiB: number;
}

export interface InstanceType {
  readonly name: string;
  readonly family: string;
  readonly size: string;
  readonly vcpu: number;
  readonly memoryGiB: number;
  readonly gpu?: GpuSpec;
  /** EFA interfaces the type supports (one per network card); 0 = no EFA. */
  readonly efaInterfaces: number;
  /** us-east-1 Linux on-demand $/hour. */
  readonly onDemandHourlyUsd: number;
  /** Where the price and specs were read. */
  readonly source: string;
}

const PRICING_SRC = "aws/karpenter-provider-aws pkg/providers/pricing/zz_generated.pricing_aws.go (2026-07-20, us-east-1)";
const SPECS_SRC = "aws/karpenter-provider-aws website/content/en/v1.14/reference/instance-types.md";
const SRC = `${PRICING_SRC}; ${SPECS_SRC}`;
/** t3.xlarge / t3a.xlarge: the same generated file, read at commit 031e72b6 ("generated at 2026-01-19T13:23:24Z for us-east-1"). */
const T3_SRC = `aws/karpenter-provider-aws pkg/providers/pricing/zz_generated.pricing_aws.go (commit 031e72b6, 2026-01-19, us-east-1: t3.xlarge 0.1664, t3a.xlarge 0.1504); ${SPECS_SRC}`;

const a10g = (count: number): GpuSpec => ({ name: "a10g", model: "a10g", computeCapability: "8.6", count, memoryMiB: 22888 });
const l4 = (count: number): GpuSpec => ({ name: "l4", model: "l4", computeCapability: "8.9", count, memoryMiB: 22888 });
const l40s = (count: number): GpuSpec => ({ name: "l40s", model: "l40s", computeCapability: "8.9", count, memoryMiB: 45776 });
const a100 = (count: number): GpuSpec => ({ name: "a100", model: "a100", computeCapability: "8.0", count, memoryMiB: 40960 });
const a100x80 = (count: number): GpuSpec => ({ name: "a100", model: "a100-80gb", computeCapability: "8.0", count, memoryMiB: 81920 });
const h100 = (count: number): GpuSpec => ({ name: "h100", model: "h100", computeCapability: "9.0", count, memoryMiB: 81920 });

/**
 * EFA-capable types among those listed, with their EFA interface count (AWS EC2 User Guide:
 * "Elastic Fabric Adapter - supported instance types" and "network cards").
 */
const EFA_INTERFACES: Readonly<Record<string, number>> = { "g5.48xlarge": 1, "g6e.12xlarge": 1, "p4d.24xlarge": 4, "p4de.24xlarge": 4, "p5.48xlarge": 32 };

function it(name: string, vcpu: number, memoryGiB: number, onDemandHourlyUsd: number, gpu?: GpuSpec, source = SRC): InstanceType {
  const [family, size] = name.split(".") as [string, string];
  const efaInterfaces = EFA_INTERFACES[name] ?? 0;
  return gpu
    ? { name, family, size, vcpu, memoryGiB, gpu, efaInterfaces, onDemandHourlyUsd, source }
    : { name, family, size, vcpu, memoryGiB, efaInterfaces, onDemandHourlyUsd, source };
}

const ALL: readonly InstanceType[] = [
  // NVIDIA A10G (Ampere, sm86), 24 GB nominal.
  it("g5.xlarge", 4, 16, 1.006, a10g(1)),
  it("g5.2xlarge", 8, 32, 1.212, a10g(1)),
  it("g5.4xlarge", 16, 64, 1.624, a10g(1)),
  it("g5.12xlarge", 48, 192, 5.672, a10g(4)),
  it("g5.48xlarge", 192, 768, 16.288, a10g(8)),
  // NVIDIA L4 (Ada, sm89), 24 GB nominal.
  it("g6.xlarge", 4, 16, 0.8048, l4(1)),
  it("g6.12xlarge", 48, 192, 4.6016, l4(4)),
  // NVIDIA L40S (Ada, sm89), 48 GB nominal.
  it("g6e.xlarge", 4, 32, 1.861, l40s(1)),
  it("g6e.12xlarge", 48, 384, 10.49264, l40s(4)),
  // NVIDIA A100 (Ampere, sm80): 40 GB on p4d, 80 GB on p4de.
  it("p4d.24xlarge", 96, 1152, 21.957642, a100(8)),
  it("p4de.24xlarge", 96, 1152, 27.44705, a100x80(8)),
  // NVIDIA H100 (Hopper, sm90), 80 GB.
  it("p5.4xlarge", 16, 256, 6.88, h100(1)),
  it("p5.48xlarge", 192, 2048, 55.04, h100(8)),
  // CPU types for the system node group and the Karpenter CPU pool.
  it("m5.large", 2, 8, 0.096),
  it("m5.xlarge", 4, 16, 0.192),
  it("m5.2xlarge", 8, 32, 0.384),
  it("m5.4xlarge", 16, 64, 0.768),
  it("m6i.large", 2, 8, 0.096),
  it("m6i.xlarge", 4, 16, 0.192),
  it("m6i.2xlarge", 8, 32, 0.384),
  it("m6i.4xlarge", 16, 64, 0.768),
  it("t3.large", 2, 8, 0.0832),
  // Burstable 4-vCPU types for dev's system group (40% baseline per vCPU; unlimited mode by
  // default, so sustained use above the baseline is billed as surplus credits, not priced here).
  it("t3.xlarge", 4, 16, 0.1664, undefined, T3_SRC),
  it("t3a.xlarge", 4, 16, 0.1504, undefined, T3_SRC),
];

export const INSTANCE_TYPES: ReadonlyMap<string, InstanceType> = new Map(ALL.map((t) => [t.name, t]));

export function instanceType(name: string): InstanceType | undefined {
  return INSTANCE_TYPES.get(name);
}

/** Like {@link instanceType}, for names that config validation has already checked. */
export function requireInstanceType(name: string): InstanceType {
  const t = INSTANCE_TYPES.get(name);
  if (!t) throw new Error(`instance type ${name} is not in infra/catalog/instances.ts`);
  return t;
}

export function instanceTypesInFamilies(families: readonly string[], sizes?: readonly string[]): InstanceType[] {
  return ALL.filter((t) => families.includes(t.family) && (!sizes || sizes.includes(t.size)));
}

export const INSTANCE_FAMILIES: readonly string[] = [...new Set(ALL.map((t) => t.family))];

export function isGpuFamily(family: string): boolean {
  return ALL.some((t) => t.family === family && t.gpu !== undefined);
}

/**
 * The labels a node of this type carries from the kubelet and the cloud provider, on managed
 * node groups and Karpenter nodes alike (Kubernetes "Well-Known Labels": instance type,
 * architecture, OS). Zone and hostname vary per node and are left out.
 */
export function kubeletLabels(t: InstanceType): Record<string, string> {
  return { "node.kubernetes.io/instance-type": t.name, "kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux" };
}

/**
 * The well-known labels Karpenter puts on a node it launches for this type, next to
 * `karpenter.sh/nodepool` and `karpenter.sh/capacity-type` (aws/karpenter-provider-aws
 * website/content/en/v1.14/reference/instance-types.md lists them per type;
 * `karpenter.k8s.aws/instance-memory` is MiB, `instance-gpu-memory` MiB per GPU). Pods select
 * Karpenter GPU nodes by these (components/model-server.ts `modelNodeAffinity`), and the
 * cluster model evaluates NodePool requirements against them.
 */
export function karpenterLabels(t: InstanceType): Record<string, string> {
  const [, category, generation] = /^([a-z]+)(\d+)/.exec(t.family) ?? [];
  return {
    ...kubeletLabels(t),
    "karpenter.k8s.aws/instance-family": t.family,
    "karpenter.k8s.aws/instance-size": t.size,
    ...(category ? { "karpenter.k8s.aws/instance-category": category, "karpenter.k8s.aws/instance-generation": generation! } : {}),
    "karpenter.k8s.aws/instance-cpu": String(t.vcpu),
    "karpenter.k8s.aws/instance-memory": String(t.memoryGiB * 1024),
    ...(t.gpu
      ? {
          "karpenter.k8s.aws/instance-gpu-name": t.gpu.name,
          "karpenter.k8s.aws/instance-gpu-manufacturer": "nvidia",
          "karpenter.k8s.aws/instance-gpu-count": String(t.gpu.count),
          "karpenter.k8s.aws/instance-gpu-memory": String(t.gpu.memoryMiB),
        }
      : {}),
  };
}

/** GPU memory per GPU in GiB. */
export function gpuMemoryGiB(t: InstanceType): number {
  return t.gpu ? t.gpu.memoryMiB / 1024 : 0;
}

export const HOURS_PER_MONTH = 730;

/**
 * Non-instance list prices (us-east-1) used by the cost model.
 * EKS: upstream-facts.md section 9 (AWS Containers blog, EKS pricing).
 */
export const SERVICE_PRICES = {
  eksControlPlaneStandardHourlyUsd: { value: 0.1, source: "AWS EKS pricing: $0.10 per cluster-hour (standard support)" },
  eksControlPlaneExtendedHourlyUsd: { value: 0.6, source: "AWS EKS pricing: $0.60 per cluster-hour (extended support)" },
  natGatewayHourlyUsd: { value: 0.045, source: "AWS VPC pricing, us-east-1 (infracost price data): $0.045/h per NAT gateway, plus $0.045/GB processed" },
  interfaceEndpointAzHourlyUsd: { value: 0.01, source: "AWS PrivateLink pricing, us-east-1: $0.01 per interface VPC endpoint per AZ-hour, plus $0.01/GB processed" },
  publicIpv4HourlyUsd: { value: 0.005, source: "AWS VPC pricing: $0.005/h per in-use public IPv4 address (since 2024-02-01)" },
  ebsGp3GbMonthUsd: { value: 0.08, source: "AWS EBS pricing, us-east-1 (infracost price data): gp3 $0.08/GB-month (baseline 3000 IOPS, 125 MB/s free)" },
  s3StandardGbMonthUsd: { value: 0.023, source: "AWS S3 pricing, us-east-1 (infracost price data): Standard $0.023/GB-month, first 50 TB" },
  kmsKeyMonthlyUsd: { value: 1.0, source: "AWS KMS pricing: $1/month per customer managed key" },
  sqsPerMillionRequestsUsd: { value: 0.4, source: "AWS SQS pricing (infracost price data): $0.40 per 1M standard requests" },
  albHourlyUsd: { value: 0.0225, source: "AWS ELB pricing, us-east-1 (infracost price data): ALB $0.0225/h, plus $0.008 per LCU-hour" },
  albLcuHourlyUsd: { value: 0.008, source: "AWS ELB pricing, us-east-1 (infracost price data)" },
  wafWebAclMonthlyUsd: { value: 5, source: "AWS WAF pricing (infracost price data): $5 per web ACL-month" },
  wafRuleMonthlyUsd: { value: 1, source: "AWS WAF pricing (infracost price data): $1 per rule-month, plus $0.60 per 1M requests" },
  rdsGp3GbMonthUsd: { value: 0.115, source: "AWS RDS pricing, us-east-1: gp3 storage $0.115/GB-month single-AZ (x2 Multi-AZ)" },
} as const;

export interface ManagedNodePrice {
  readonly hourlyUsd: number;
  readonly vcpu: number;
  readonly memoryGiB: number;
  readonly source: string;
}

/** RDS for PostgreSQL instance classes, us-east-1 single-AZ on-demand $/h (Multi-AZ doubles). */
export const DB_INSTANCE_CLASSES: ReadonlyMap<string, ManagedNodePrice> = new Map([
  // infratally.com "AWS RDS pricing explained (2026)", us-east-1 Single-AZ PostgreSQL table
  // (third-party; its db.t4g.medium $0.065 agrees with the row below).
  ["db.t4g.micro", { hourlyUsd: 0.016, vcpu: 2, memoryGiB: 1, source: "third-party: infratally.com/articles/aws-rds-pricing-explained-2026.html (us-east-1 Single-AZ PostgreSQL); check the AWS RDS pricing page" }],
  ["db.t4g.small", { hourlyUsd: 0.032, vcpu: 2, memoryGiB: 2, source: "third-party: infratally.com/articles/aws-rds-pricing-explained-2026.html (us-east-1 Single-AZ PostgreSQL); check the AWS RDS pricing page" }],
  ["db.t4g.medium", { hourlyUsd: 0.065, vcpu: 2, memoryGiB: 4, source: "third-party price listing (research notes), AWS RDS pricing page" }],
  ["db.r6g.large", { hourlyUsd: 0.225, vcpu: 2, memoryGiB: 16, source: "third-party price listing (research notes), AWS RDS pricing page" }],
]);

/** ElastiCache for Redis OSS node types, us-east-1 on-demand $/h per node. */
export const CACHE_NODE_TYPES: ReadonlyMap<string, ManagedNodePrice> = new Map([
  // T3 supports in-transit encryption and AUTH (T2 does not); 0.5 GiB is enough for dev's rate-limit counters.
  ["cache.t3.micro", { hourlyUsd: 0.017, vcpu: 2, memoryGiB: 0.5, source: "third-party: dragonflydb.io/finops/elasticache/cache.t3.micro (US East (N. Virginia) on-demand); check the AWS ElastiCache pricing page" }],
  ["cache.t4g.medium", { hourlyUsd: 0.065, vcpu: 2, memoryGiB: 3.09, source: "third-party, read from the AWS Price List API on 2026-10-02 (research notes)" }],
  ["cache.r7g.large", { hourlyUsd: 0.219, vcpu: 2, memoryGiB: 13.07, source: "third-party, read from the AWS Price List API on 2026-10-02 (research notes)" }],
]);
