/**
 * Network: the VPC the cluster lives in.
 *
 * Public and private subnets in each configured AZ, NAT per environment (one, or one per AZ),
 * an S3 gateway endpoint (model weights and Milvus data stay off the NAT), VPC flow logs with
 * bounded retention, and the subnet tags the AWS Load Balancer Controller and Karpenter use for
 * discovery.
 *
 * Built from plain aws.ec2 resources rather than awsx.ec2.Vpc: awsx is a remote component, so
 * its children (NAT gateways, EIPs, routes) would be invisible to the offline plan, its cost
 * model and the policies. Here every billable piece is a resource the plan can see.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../infra/config";

export interface NetworkArgs {
  readonly config: PlatformConfig["network"];
  /** EKS cluster name, for the discovery tags. */
  readonly clusterName: string;
  readonly region: string;
}

export interface SubnetPlan {
  readonly az: string;
  readonly publicCidr: string;
  readonly privateCidr: string;
  /** A /28 that holds only the EKS control plane's network interfaces (EKS needs >= 6 free IPs per subnet, 2+ AZs). */
  readonly controlPlaneCidr: string;
  /** A /28 that holds only the interface VPC endpoints (S3, STS). */
  readonly endpointCidr: string;
}

function ipToInt(ip: string): number {
  return ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/**
 * Splits the VPC CIDR: each AZ gets a private subnet of a quarter of the VPC (pods take VPC IPs
 * with the VPC CNI, so private subnets are large), and the last quarter is cut into /+6 public
 * subnets (NAT gateways and load balancers only). After the public subnets come two /28s per
 * AZ where no pod ever runs: one for the EKS control plane's ENIs and one for the interface VPC
 * endpoints. NetworkPolicies name these small ranges (API server, webhooks, AWS APIs) instead of
 * the VPC range, which under the VPC CNI also holds every pod. Works for 1 to 3 AZs.
 */
export function planSubnets(vpcCidr: string, azs: readonly string[]): SubnetPlan[] {
  const [base, prefixStr] = vpcCidr.split("/") as [string, string];
  const prefix = Number(prefixStr);
  if (azs.length < 1 || azs.length > 3) throw new Error(`planSubnets: need 1-3 AZs, got ${azs.length}`);
  const size = 2 ** (32 - prefix);
  const start = ipToInt(base) - (ipToInt(base) % size);
  const privateSize = size / 4;
  const publicSize = size / 64;
  const publicStart = start + 3 * privateSize;
  const smallStart = publicStart + 3 * publicSize;
  return azs.map((az, i) => ({
    az,
    privateCidr: `${intToIp(start + i * privateSize)}/${prefix + 2}`,
    publicCidr: `${intToIp(publicStart + i * publicSize)}/${prefix + 6}`,
    controlPlaneCidr: `${intToIp(smallStart + i * 16)}/28`,
    endpointCidr: `${intToIp(smallStart + 64 + i * 16)}/28`,
  }));
}

/** The plan's CIDRs by kind. */
export function subnetSpans(plan: readonly SubnetPlan[]): { private: string[]; public: string[]; controlPlane: string[]; endpoints: string[] } {
  return {
    private: plan.map((p) => p.privateCidr),
    public: plan.map((p) => p.publicCidr),
    controlPlane: plan.map((p) => p.controlPlaneCidr),
    endpoints: plan.map((p) => p.endpointCidr),
  };
}

/** Interface endpoints with private DNS: the only AWS APIs serving pods reach, by name, inside the VPC. */
export const INTERFACE_ENDPOINTS = ["s3", "sts"] as const;

/**
 * Tags that let the load balancer controller and Karpenter find the subnets. Load balancers,
 * internal ones included, go to the public subnets, where no pod runs, so the gateway admits
 * load-balancer traffic from those CIDRs only (an internal ALB in a public subnet still gets
 * private IPs only; aws-load-balancer-controller docs, "Subnet auto-discovery": role/elb for
 * internet-facing, role/internal-elb for internal). Karpenter launches nodes in private subnets.
 */
export function subnetTags(kind: "public" | "private" | "control-plane" | "endpoints", clusterName: string, az: string): Record<string, string> {
  const common = { Name: `${clusterName}-${kind}-${az}`, "llm-platform/tier": kind };
  const cluster = { [`kubernetes.io/cluster/${clusterName}`]: "shared" };
  switch (kind) {
    case "public":
      return { ...common, ...cluster, "kubernetes.io/role/elb": "1", "kubernetes.io/role/internal-elb": "1" };
    case "private":
      return { ...common, ...cluster, "karpenter.sh/discovery": clusterName };
    default:
      return common;
  }
}

/** Which NAT gateway (index into the NAT list) each AZ's private route table uses. */
export function natIndexForAz(natGateways: "single" | "perAz", azIndex: number): number {
  return natGateways === "single" ? 0 : azIndex;
}

export class Network extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly vpcCidr: string;
  public readonly publicSubnetIds: pulumi.Output<string>[];
  public readonly privateSubnetIds: pulumi.Output<string>[];
  public readonly privateRouteTableIds: pulumi.Output<string>[];
  /** The /28s the EKS control plane's ENIs live in (the cluster's subnetIds). */
  public readonly controlPlaneSubnetIds: pulumi.Output<string>[];
  public readonly natGatewayCount: number;
  public readonly s3EndpointId: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:network:Network", name, {}, opts);
    const { config, clusterName } = args;
    const child = { parent: this };
    const plan = planSubnets(config.vpcCidr, config.availabilityZones);

    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { cidrBlock: config.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: `${clusterName}-vpc` } },
      child,
    );
    this.vpcId = vpc.id;
    this.vpcCidr = config.vpcCidr;

    // Nothing may use the default security group (CIS AWS 5.4): manage it with no rules.
    new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id, tags: { Name: `${clusterName}-default-locked` } }, child);

    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: { Name: `${clusterName}-igw` } }, child);

    const publicRt = new aws.ec2.RouteTable(
      `${name}-public-rt`,
      { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: { Name: `${clusterName}-public` } },
      child,
    );

    const publicSubnets = plan.map(
      (p) =>
        new aws.ec2.Subnet(
          `${name}-public-${p.az}`,
          { vpcId: vpc.id, cidrBlock: p.publicCidr, availabilityZone: p.az, mapPublicIpOnLaunch: false, tags: subnetTags("public", clusterName, p.az) },
          child,
        ),
    );
    publicSubnets.forEach((s, i) => new aws.ec2.RouteTableAssociation(`${name}-public-rta-${plan[i]!.az}`, { subnetId: s.id, routeTableId: publicRt.id }, child));

    const natAzs = config.natGateways === "single" ? plan.slice(0, 1) : plan;
    this.natGatewayCount = natAzs.length;
    const nats = natAzs.map((p, i) => {
      const eip = new aws.ec2.Eip(`${name}-nat-eip-${p.az}`, { domain: "vpc", tags: { Name: `${clusterName}-nat-${p.az}` } }, child);
      return new aws.ec2.NatGateway(
        `${name}-nat-${p.az}`,
        { allocationId: eip.id, subnetId: publicSubnets[i]!.id, connectivityType: "public", tags: { Name: `${clusterName}-nat-${p.az}` } },
        { ...child, dependsOn: [igw] },
      );
    });

    const privateSubnets = plan.map(
      (p) =>
        new aws.ec2.Subnet(
          `${name}-private-${p.az}`,
          { vpcId: vpc.id, cidrBlock: p.privateCidr, availabilityZone: p.az, tags: subnetTags("private", clusterName, p.az) },
          child,
        ),
    );
    const privateRts = plan.map(
      (p, i) =>
        new aws.ec2.RouteTable(
          `${name}-private-rt-${p.az}`,
          {
            vpcId: vpc.id,
            routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nats[natIndexForAz(config.natGateways, i)]!.id }],
            tags: { Name: `${clusterName}-private-${p.az}` },
          },
          child,
        ),
    );
    privateSubnets.forEach((s, i) => new aws.ec2.RouteTableAssociation(`${name}-private-rta-${plan[i]!.az}`, { subnetId: s.id, routeTableId: privateRts[i]!.id }, child));

    const s3Endpoint = new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: vpc.id,
        serviceName: `com.amazonaws.${args.region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: [...privateRts.map((rt) => rt.id), publicRt.id],
        tags: { Name: `${clusterName}-s3` },
      },
      child,
    );

    if (config.flowLogs.enabled) {
      const logGroup = new aws.cloudwatch.LogGroup(
        `${name}-flow-logs`,
        { name: `/aws/vpc/${clusterName}/flow-logs`, retentionInDays: config.flowLogs.retentionDays },
        child,
      );
      const role = new aws.iam.Role(
        `${name}-flow-logs`,
        {
          assumeRolePolicy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { Service: "vpc-flow-logs.amazonaws.com" }, Action: "sts:AssumeRole" }],
          }),
        },
        child,
      );
      new aws.iam.RolePolicy(
        `${name}-flow-logs`,
        {
          role: role.id,
          policy: logGroup.arn.apply((arn) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Effect: "Allow",
                  Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                  Resource: [arn, `${arn}:*`],
                },
              ],
            }),
          ),
        },
        child,
      );
      new aws.ec2.FlowLog(
        `${name}-flow-log`,
        { vpcId: vpc.id, trafficType: "ALL", logDestinationType: "cloud-watch-logs", logDestination: logGroup.arn, iamRoleArn: role.arn, maxAggregationInterval: 600 },
        child,
      );
    }

    // Control-plane and endpoint subnets: private routing, nothing else runs there.
    const small = (kind: "control-plane" | "endpoints", cidr: (p: SubnetPlan) => string) =>
      plan.map((p, i) => {
        const subnet = new aws.ec2.Subnet(`${name}-${kind}-${p.az}`, { vpcId: vpc.id, cidrBlock: cidr(p), availabilityZone: p.az, tags: subnetTags(kind, clusterName, p.az) }, child);
        new aws.ec2.RouteTableAssociation(`${name}-${kind}-rta-${p.az}`, { subnetId: subnet.id, routeTableId: privateRts[i]!.id }, child);
        return subnet;
      });
    const controlPlaneSubnets = small("control-plane", (p) => p.controlPlaneCidr);
    const endpointSubnets = small("endpoints", (p) => p.endpointCidr);

    // Interface endpoints for S3 and STS with private DNS, so pods reach them at addresses in the
    // endpoint subnets and their NetworkPolicies can name exactly those. For S3 next to the gateway
    // endpoint, privateDnsOnlyForInboundResolverEndpoint must be false for in-VPC clients to resolve
    // to the interface endpoint (AWS PrivateLink for Amazon S3, "Private DNS").
    const endpointSg = new aws.ec2.SecurityGroup(
      `${name}-endpoints`,
      {
        vpcId: vpc.id,
        description: "Interface VPC endpoints: HTTPS from inside the VPC",
        ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [config.vpcCidr], description: "HTTPS from the VPC" }],
        tags: { Name: `${clusterName}-endpoints` },
      },
      child,
    );
    for (const svc of INTERFACE_ENDPOINTS) {
      new aws.ec2.VpcEndpoint(
        `${name}-${svc}-interface`,
        {
          vpcId: vpc.id,
          serviceName: `com.amazonaws.${args.region}.${svc}`,
          vpcEndpointType: "Interface",
          privateDnsEnabled: true,
          ...(svc === "s3" ? { dnsOptions: { privateDnsOnlyForInboundResolverEndpoint: false } } : {}),
          subnetIds: endpointSubnets.map((s) => s.id),
          securityGroupIds: [endpointSg.id],
          tags: { Name: `${clusterName}-${svc}` },
        },
        // The S3 interface endpoint's private DNS needs the gateway endpoint to exist first.
        { ...child, dependsOn: [s3Endpoint] },
      );
    }

    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.controlPlaneSubnetIds = controlPlaneSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.privateRouteTableIds = privateRts.map((rt) => rt.id);
    this.s3EndpointId = s3Endpoint.id;
    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      privateRouteTableIds: this.privateRouteTableIds,
      s3EndpointId: this.s3EndpointId,
    });
  }
}
