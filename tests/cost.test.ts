import { describe, expect, it } from "vitest";
import { estimateCost, nodeGroupLine, nodePoolLine, parseQuantity, type CostResource } from "../infra/cost";

const opts = { spotDiscount: 0.6 };

describe("parseQuantity", () => {
  it.each([
    ["384Gi", 384 * 1024 ** 3],
    ["16", 16],
    ["500m", 0.5],
    [8, 8],
    ["1Ti", 1024 ** 4],
    ["lots", undefined],
  ] as const)("%s -> %s", (q, n) => {
    expect(parseQuantity(q)).toBe(n);
  });
});

describe("nodeGroupLine", () => {
  const ng = (capacityType: string, scaling: object, instanceTypes = ["g5.xlarge", "g5.2xlarge"]): CostResource => ({
    type: "eks:index:ManagedNodeGroup",
    name: "gpu-g5",
    inputs: { capacityType, scalingConfig: scaling, instanceTypes, labels: { "llm-platform.io/pool": "g5" } },
  });

  it("prices on-demand at the priciest type, baseline at desired size and maximum at max size", () => {
    const l = nodeGroupLine(ng("ON_DEMAND", { minSize: 1, desiredSize: 2, maxSize: 4 }), opts);
    if ("unpriced" in l) throw new Error(l.unpriced);
    expect(l.baselineMonthlyUsd).toBeCloseTo(1.212 * 2 * 730, 6);
    expect(l.maxMonthlyUsd).toBeCloseTo(1.212 * 4 * 730, 6);
    expect(l.item).toContain("g5");
  });

  it("applies the spot discount to SPOT groups", () => {
    const l = nodeGroupLine(ng("SPOT", { minSize: 0, desiredSize: 0, maxSize: 2 }), opts);
    if ("unpriced" in l) throw new Error(l.unpriced);
    expect(l.baselineMonthlyUsd).toBe(0);
    expect(l.maxMonthlyUsd).toBeCloseTo(1.212 * 0.4 * 2 * 730, 6);
  });

  it("does not price a type outside the catalog", () => {
    expect(nodeGroupLine(ng("ON_DEMAND", { minSize: 1, maxSize: 1 }, ["x9.huge"]), opts)).toHaveProperty("unpriced");
  });
});

describe("nodePoolLine", () => {
  const np = (limits: object, capacity: string[], families = ["g5"], sizes = ["xlarge", "12xlarge"]): CostResource => ({
    type: "kubernetes:karpenter.sh/v1:NodePool",
    name: "gpu-spot",
    inputs: {
      metadata: { name: "gpu-spot" },
      spec: {
        limits,
        template: {
          spec: {
            requirements: [
              { key: "karpenter.sh/capacity-type", operator: "In", values: capacity },
              { key: "karpenter.k8s.aws/instance-family", operator: "In", values: families },
              { key: "karpenter.k8s.aws/instance-size", operator: "In", values: sizes },
            ],
          },
        },
      },
    },
  });

  it("bounds the cost by the tightest limit x the highest price per unit", () => {
    // g5.xlarge: $1.006 per GPU, $0.2515 per vCPU; g5.12xlarge: $1.418 per GPU, $0.118 per vCPU.
    const l = nodePoolLine(np({ "nvidia.com/gpu": 4, cpu: 1000, memory: "100000Gi" }, ["on-demand"]), opts);
    if ("unpriced" in l) throw new Error(l.unpriced);
    expect(l.baselineMonthlyUsd).toBe(0);
    expect(l.maxMonthlyUsd).toBeCloseTo(4 * (5.672 / 4) * 730, 6);
  });

  it("lets a tight CPU limit bind before the GPU limit, and discounts spot-only pools", () => {
    const l = nodePoolLine(np({ "nvidia.com/gpu": 100, cpu: 8, memory: "100000Gi" }, ["spot"]), opts);
    if ("unpriced" in l) throw new Error(l.unpriced);
    expect(l.maxMonthlyUsd).toBeCloseTo(8 * (1.006 / 4) * 0.4 * 730, 6);
  });

  it("cannot bound a pool without limits", () => {
    expect(nodePoolLine(np({}, ["spot"]), opts)).toHaveProperty("unpriced");
  });

  it("prices a pool of listed instance types (the GPU pools' shape) over exactly those types, mixed GPUs included", () => {
    const typed: CostResource = {
      type: "kubernetes:karpenter.sh/v1:NodePool",
      name: "gpu-spot",
      inputs: {
        metadata: { name: "gpu-spot" },
        spec: {
          limits: { cpu: "192", memory: "1024Gi", "nvidia.com/gpu": "20" },
          template: {
            spec: {
              requirements: [
                { key: "karpenter.sh/capacity-type", operator: "In", values: ["spot"] },
                { key: "node.kubernetes.io/instance-type", operator: "In", values: ["g5.2xlarge", "g5.12xlarge", "p5.4xlarge"] },
              ],
            },
          },
        },
      },
    };
    const l = nodePoolLine(typed, opts);
    if ("unpriced" in l) throw new Error(l.unpriced);
    expect(l.item).toBe("Karpenter NodePool gpu-spot (spot, g5.2xlarge|g5.12xlarge|p5.4xlarge)");
    // Bounds: 20 GPUs x $6.88 (p5.4xlarge) = $137.60/h; 192 vCPU x $0.43 (p5.4xlarge) = $82.56/h;
    // 1024 GiB x $0.037875 (g5.2xlarge) = $38.78/h: memory binds.
    expect(l.maxMonthlyUsd).toBeCloseTo(1024 * (1.212 / 32) * 0.4 * 730, 6);
  });
});

describe("estimateCost", () => {
  it("counts EXTENDED support at 6x and a cluster once when its child is visible too", () => {
    const resources: CostResource[] = [
      { type: "eks:index:Cluster", name: "c", inputs: { upgradePolicy: { supportType: "EXTENDED" } } },
      { type: "aws:eks/cluster:Cluster", name: "c-eksCluster", inputs: { upgradePolicy: { supportType: "EXTENDED" } } },
    ];
    const e = estimateCost(resources, opts);
    expect(e.lines).toHaveLength(1);
    expect(e.maxMonthlyUsd).toBeCloseTo(0.6 * 730, 2);
  });

  it("sums its lines, and lists usage-priced items as not priced", () => {
    const e = estimateCost(
      [
        { type: "aws:ec2/natGateway:NatGateway", name: "nat-a", inputs: {} },
        { type: "aws:ec2/eip:Eip", name: "eip-a", inputs: {} },
        { type: "aws:kms/key:Key", name: "k", inputs: {} },
      ],
      opts,
    );
    expect(e.maxMonthlyUsd).toBeCloseTo(0.045 * 730 + 0.005 * 730 + 1, 2);
    expect(e.notPriced.join()).toContain("NAT gateway data processing");
  });

  it("prices one ALB per IngressGroup, and one per ungrouped alb Ingress", () => {
    const ing = (name: string, group?: string) => ({
      type: "kubernetes:networking.k8s.io/v1:Ingress",
      name,
      inputs: { metadata: { annotations: group ? { "alb.ingress.kubernetes.io/group.name": group } : {} }, spec: { ingressClassName: "alb" } },
    });
    const e = estimateCost([ing("gateway", "g"), ing("rag", "g"), ing("other")], opts);
    expect(e.lines.map((l) => l.item)).toEqual(["Application Load Balancer (gateway)", "Application Load Balancer (other)"]);
  });

  it("prices an interface endpoint per AZ, and a gateway endpoint at nothing", () => {
    const e = estimateCost(
      [
        { type: "aws:ec2/vpcEndpoint:VpcEndpoint", name: "sts", inputs: { vpcEndpointType: "Interface", serviceName: "com.amazonaws.us-east-1.sts", subnetIds: ["a", "b", "c"] } },
        { type: "aws:ec2/vpcEndpoint:VpcEndpoint", name: "s3", inputs: { vpcEndpointType: "Gateway", serviceName: "com.amazonaws.us-east-1.s3" } },
      ],
      opts,
    );
    expect(e.lines.map((l) => l.item)).toEqual(["Interface VPC endpoint (sts) in 3 AZs (sts)"]);
    expect(e.maxMonthlyUsd).toBeCloseTo(0.01 * 3 * 730, 2);
    expect(e.notPriced.join()).toContain("Interface VPC endpoint data processing");
  });
});

describe("edge lines", () => {
  it("prices RDS by class and storage (Multi-AZ doubles both), ElastiCache per node, the ALB of an alb Ingress, and WAF per rule", () => {
    const e = estimateCost(
      [
        { type: "aws:rds/instance:Instance", name: "db", inputs: { instanceClass: "db.r6g.large", multiAz: true, allocatedStorage: 100, maxAllocatedStorage: 400 } },
        { type: "aws:elasticache/replicationGroup:ReplicationGroup", name: "redis", inputs: { nodeType: "cache.r7g.large", numCacheClusters: 3 } },
        { type: "kubernetes:networking.k8s.io/v1:Ingress", name: "ing", inputs: { spec: { ingressClassName: "alb" } } },
        { type: "kubernetes:networking.k8s.io/v1:Ingress", name: "nginx", inputs: { spec: { ingressClassName: "nginx" } } },
        { type: "aws:wafv2/webAcl:WebAcl", name: "waf", inputs: { rules: [{}, {}, {}] } },
      ],
      opts,
    );
    const by = new Map(e.lines.map((l) => [l.resource, l]));
    expect(by.get("db")!.baselineMonthlyUsd).toBeCloseTo(0.225 * 2 * 730 + 100 * 0.115 * 2, 2);
    expect(by.get("db")!.maxMonthlyUsd).toBeCloseTo(0.225 * 2 * 730 + 400 * 0.115 * 2, 2);
    expect(by.get("redis")!.maxMonthlyUsd).toBeCloseTo(0.219 * 3 * 730, 2);
    expect(by.get("ing")!.maxMonthlyUsd).toBeCloseTo((0.0225 + 0.008) * 730, 2);
    expect(by.has("nginx")).toBe(false);
    expect(by.get("waf")!.maxMonthlyUsd).toBe(5 + 3);
  });
});
