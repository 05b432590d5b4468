import { describe, expect, it } from "vitest";
import { natIndexForAz, planSubnets, subnetTags } from "../components/network";
import { get, ofType, one, stack, STACKS } from "./support/stacks";

describe("planSubnets", () => {
  describe.each([
    ["10.40.0.0/16", ["us-east-1a", "us-east-1b"], [["10.40.0.0/18", "10.40.192.0/22"], ["10.40.64.0/18", "10.40.196.0/22"]]],
    ["10.42.0.0/16", ["a", "b", "c"], [["10.42.0.0/18", "10.42.192.0/22"], ["10.42.64.0/18", "10.42.196.0/22"], ["10.42.128.0/18", "10.42.200.0/22"]]],
    ["172.16.0.0/20", ["a", "b", "c"], [["172.16.0.0/22", "172.16.12.0/26"], ["172.16.4.0/22", "172.16.12.64/26"], ["172.16.8.0/22", "172.16.12.128/26"]]],
  ] as const)("%s over %j", (cidr, azs, expected) => {
    it("gives each AZ a quarter-size private subnet and a small public one, without overlap", () => {
      const plan = planSubnets(cidr, azs);
      expect(plan.map((p) => [p.privateCidr, p.publicCidr])).toEqual(expected);
    });
  });

  it("rejects more than 3 AZs", () => {
    expect(() => planSubnets("10.0.0.0/16", ["a", "b", "c", "d"])).toThrow(/1-3 AZs/);
  });
});

describe("subnetTags", () => {
  it.each([
    ["public", "kubernetes.io/role/elb", undefined],
    ["private", "kubernetes.io/role/internal-elb", "llm-platform-dev"],
  ] as const)("%s subnets carry %s and Karpenter discovery %s", (kind, elbTag, discovery) => {
    const t = subnetTags(kind, "llm-platform-dev", "us-east-1a");
    expect(t[elbTag]).toBe("1");
    expect(t["karpenter.sh/discovery"]).toBe(discovery);
    expect(t["kubernetes.io/cluster/llm-platform-dev"]).toBe("shared");
  });
});

describe("natIndexForAz", () => {
  it.each([
    ["single", 2, 0],
    ["perAz", 2, 2],
  ] as const)("%s NAT, AZ %i routes through NAT %i", (mode, az, nat) => {
    expect(natIndexForAz(mode, az)).toBe(nat);
  });
});

describe.each(STACKS)("Network in %s", (name) => {
  it("has public and private subnets in every AZ, tagged for discovery", async () => {
    const r = await stack(name);
    const azs = r.config.network.availabilityZones;
    const subnets = ofType(r, "aws:ec2/subnet:Subnet");
    expect(subnets).toHaveLength(azs.length * 2);
    const priv = subnets.filter((s) => get(s.inputs, "tags", "llm-platform/tier") === "private");
    expect(priv.map((s) => s.inputs.availabilityZone).sort()).toEqual([...azs].sort());
    for (const s of priv) {
      expect(get(s.inputs, "tags", "karpenter.sh/discovery")).toBe(r.config.cluster.name);
      expect(get(s.inputs, "tags", "kubernetes.io/role/internal-elb")).toBe("1");
    }
    const pub = subnets.filter((s) => get(s.inputs, "tags", "llm-platform/tier") === "public");
    for (const s of pub) {
      expect(s.inputs.mapPublicIpOnLaunch).toBe(false);
      expect(get(s.inputs, "tags", "kubernetes.io/role/elb")).toBe("1");
    }
  });

  it("has the NAT gateways its environment asks for, and every private route table uses one", async () => {
    const r = await stack(name);
    const expected = r.config.network.natGateways === "single" ? 1 : r.config.network.availabilityZones.length;
    expect(ofType(r, "aws:ec2/natGateway:NatGateway")).toHaveLength(expected);
    expect(ofType(r, "aws:ec2/eip:Eip")).toHaveLength(expected);
    const privateRts = ofType(r, "aws:ec2/routeTable:RouteTable").filter((rt) => rt.name.includes("private"));
    expect(privateRts).toHaveLength(r.config.network.availabilityZones.length);
    for (const rt of privateRts) expect(get(rt.inputs, "routes", 0, "natGatewayId")).toMatch(/^network-nat-us-east-1[abc]-id$/);
  });

  it("has an S3 gateway endpoint on every private route table", async () => {
    const r = await stack(name);
    const ep = one(r, "aws:ec2/vpcEndpoint:VpcEndpoint");
    expect(ep.inputs.vpcEndpointType).toBe("Gateway");
    expect(ep.inputs.serviceName).toBe(`com.amazonaws.${r.config.region}.s3`);
    const privateRtIds = ofType(r, "aws:ec2/routeTable:RouteTable")
      .filter((rt) => rt.name.includes("private"))
      .map((rt) => `${rt.name}-id`);
    expect(ep.inputs.routeTableIds).toEqual(expect.arrayContaining(privateRtIds));
  });

  it("keeps VPC flow logs with bounded retention and locks the default security group", async () => {
    const r = await stack(name);
    const lg = ofType(r, "aws:cloudwatch/logGroup:LogGroup").find((l) => l.name === "network-flow-logs");
    expect(lg?.inputs.retentionInDays).toBe(r.config.network.flowLogs.retentionDays);
    expect(one(r, "aws:ec2/flowLog:FlowLog").inputs.trafficType).toBe("ALL");
    const sg = one(r, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup");
    expect(sg.inputs.ingress ?? []).toEqual([]);
    expect(sg.inputs.egress ?? []).toEqual([]);
  });
});
