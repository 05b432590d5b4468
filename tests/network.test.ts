import { describe, expect, it } from "vitest";
import { inCidr } from "./support/netpol";
import { natIndexForAz, planSubnets, subnetSpans, subnetTags } from "../components/network";
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

  it.each([
    ["10.42.0.0/16", ["a", "b", "c"]],
    ["172.16.0.0/20", ["a", "b"]],
  ] as const)("puts /28 control-plane and endpoint subnets for %s outside every pod subnet, each inside the VPC", (cidr, azs) => {
    const spans = subnetSpans(planSubnets(cidr, azs));
    const all = [...spans.private, ...spans.public, ...spans.controlPlane, ...spans.endpoints];
    const first = (c: string) => c.split("/")[0]!;
    for (const small of [...spans.controlPlane, ...spans.endpoints]) {
      expect(small).toMatch(/\/28$/);
      expect(inCidr(first(small), cidr)).toBe(true);
    }
    // No two subnets overlap (each one's network address lies in no other).
    for (const a of all) for (const b of all) if (a !== b) expect(inCidr(first(a), b)).toBe(false);
  });

  it("rejects more than 3 AZs", () => {
    expect(() => planSubnets("10.0.0.0/16", ["a", "b", "c", "d"])).toThrow(/1-3 AZs/);
  });
});

describe("subnetTags", () => {
  it.each([
    ["public", "1", undefined],
    ["private", undefined, "llm-platform-dev"],
  ] as const)("%s subnets: load balancers %s, Karpenter discovery %s", (kind, elb, discovery) => {
    const t = subnetTags(kind, "llm-platform-dev", "us-east-1a");
    // Every load balancer, internal ones too, goes where no pod runs.
    expect(t["kubernetes.io/role/elb"]).toBe(elb);
    expect(t["kubernetes.io/role/internal-elb"]).toBe(elb);
    expect(t["karpenter.sh/discovery"]).toBe(discovery);
    expect(t["kubernetes.io/cluster/llm-platform-dev"]).toBe("shared");
  });

  it("gives control-plane and endpoint subnets no discovery tag", () => {
    for (const kind of ["control-plane", "endpoints"] as const) {
      const t = subnetTags(kind, "llm-platform-dev", "us-east-1a");
      expect(Object.keys(t).filter((k) => k.startsWith("kubernetes.io/") || k.startsWith("karpenter"))).toEqual([]);
    }
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
    expect(subnets).toHaveLength(azs.length * 4);
    const priv = subnets.filter((s) => get(s.inputs, "tags", "llm-platform/tier") === "private");
    expect(priv.map((s) => s.inputs.availabilityZone).sort()).toEqual([...azs].sort());
    for (const s of priv) {
      expect(get(s.inputs, "tags", "karpenter.sh/discovery")).toBe(r.config.cluster.name);
      expect(get(s.inputs, "tags", "kubernetes.io/role/internal-elb")).toBeUndefined();
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

  it("has S3 and STS interface endpoints with private DNS in the endpoint subnets only", async () => {
    const r = await stack(name);
    const eps = ofType(r, "aws:ec2/vpcEndpoint:VpcEndpoint").filter((e) => e.inputs.vpcEndpointType === "Interface");
    expect(eps.map((e) => e.inputs.serviceName).sort()).toEqual([`com.amazonaws.${r.config.region}.s3`, `com.amazonaws.${r.config.region}.sts`]);
    const endpointSubnetIds = ofType(r, "aws:ec2/subnet:Subnet")
      .filter((s) => get(s.inputs, "tags", "llm-platform/tier") === "endpoints")
      .map((s) => `${s.name}-id`);
    for (const e of eps) {
      expect(e.inputs.privateDnsEnabled).toBe(true);
      expect([...e.inputs.subnetIds].sort()).toEqual([...endpointSubnetIds].sort());
    }
    const s3 = eps.find((e) => e.inputs.serviceName.endsWith(".s3"))!;
    expect(s3.inputs.dnsOptions).toEqual({ privateDnsOnlyForInboundResolverEndpoint: false });
  });

  it("has an S3 gateway endpoint on every private route table", async () => {
    const r = await stack(name);
    const ep = one(r, "aws:ec2/vpcEndpoint:VpcEndpoint", "network-s3");
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
