/**
 * Mock outputs for the offline plan and the tests.
 *
 * Custom resources echo their inputs plus the plausible computed outputs the program reads
 * (ids, ARNs, names). Remote components (eks.Cluster, eks.ManagedNodeGroup) return the
 * outputs the program reads from them; their children are not registered here, and the plan
 * says so.
 */
import type * as pulumi from "@pulumi/pulumi";

export const MOCK_ACCOUNT_ID = "123456789012";

/**
 * The value every generated secret (random.RandomPassword and friends) takes under the mocks.
 * Tests search the plan output for it: it must never appear.
 */
export const MOCK_SECRET_VALUE = "MOCK-GENERATED-SECRET-6f1d9c2ab47e";

/** Remote component types: the plan sees the component and its inputs, not its children. */
export const REMOTE_COMPONENT_TYPES: ReadonlySet<string> = new Set(["eks:index:Cluster", "eks:index:ManagedNodeGroup", "eks:index:NodeGroupV2", "eks:index:NodeGroup"]);

function service(type: string): string {
  // "aws:ec2/vpc:Vpc" -> "ec2"
  return type.split(":")[1]?.split("/")[0] ?? "unknown";
}

function mockArn(type: string, name: string, region: string): string {
  const svc = service(type);
  if (svc === "iam") return `arn:aws:iam::${MOCK_ACCOUNT_ID}:${type.endsWith(":Policy") ? "policy" : "role"}/${name}`;
  if (svc === "s3") return `arn:aws:s3:::${name}`;
  return `arn:aws:${svc}:${region}:${MOCK_ACCOUNT_ID}:${type.split(":")[2]?.toLowerCase() ?? "resource"}/${name}`;
}

function fakeKubeconfig(clusterName: string, endpoint: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: clusterName, cluster: { server: endpoint, "certificate-authority-data": "TU9DSy1DQQ==" } }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
    "current-context": clusterName,
    users: [
      {
        name: clusterName,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: ["--region", "us-east-1", "eks", "get-token", "--cluster-name", clusterName, "--output", "json"],
          },
        },
      },
    ],
  });
}

export function createMocks(region: string): pulumi.runtime.Mocks {
  return {
    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
      const inputs = args.inputs as Record<string, unknown>;
      const id = `${args.name}-id`;
      switch (args.type) {
        case "eks:index:Cluster": {
          const name = (inputs.name as string | undefined) ?? args.name;
          const endpoint = `https://MOCK${name.toUpperCase().replace(/-/g, "")}.gr7.${region}.eks.amazonaws.com`;
          const oidcIssuer = `oidc.eks.${region}.amazonaws.com/id/MOCKOIDC0000000000000000000000`;
          return {
            id,
            state: {
              ...inputs,
              kubeconfigJson: fakeKubeconfig(name, endpoint),
              kubeconfig: JSON.parse(fakeKubeconfig(name, endpoint)) as unknown,
              eksCluster: {
                name,
                arn: `arn:aws:eks:${region}:${MOCK_ACCOUNT_ID}:cluster/${name}`,
                endpoint,
                version: inputs.version,
                certificateAuthority: { data: "TU9DSy1DQQ==" },
                vpcConfig: { clusterSecurityGroupId: "sg-0mockeksmanaged" },
              },
              oidcProviderArn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:oidc-provider/${oidcIssuer}`,
              oidcProviderUrl: `https://${oidcIssuer}`,
              oidcIssuer,
              clusterSecurityGroupId: "sg-0mockcluster",
              nodeSecurityGroupId: "sg-0mocknode",
            },
          };
        }
        case "eks:index:ManagedNodeGroup": {
          const nodeGroupName = (inputs.nodeGroupName as string | undefined) ?? args.name;
          return { id, state: { ...inputs, nodeGroup: { nodeGroupName, arn: `arn:aws:eks:${region}:${MOCK_ACCOUNT_ID}:nodegroup/${nodeGroupName}`, status: "ACTIVE" } } };
        }
        case "random:index/randomPassword:RandomPassword":
        case "random:index/randomString:RandomString":
          return { id, state: { ...inputs, result: MOCK_SECRET_VALUE } };
        case "docker-build:index:Image": {
          const tag = (inputs.tags as string[] | undefined)?.[0] ?? `${args.name}:mock`;
          const digest = "sha256:" + "0".repeat(63) + "1";
          return { id, state: { ...inputs, digest, ref: `${tag.split(":").slice(0, -1).join(":")}@${digest}` } };
        }
        case "random:index/randomId:RandomId":
          return { id, state: { ...inputs, hex: "0a1b2c3d", b64Url: "ChssPQ", dec: "169552957" } };
        default: {
          const name = (inputs.name as string | undefined) ?? args.name;
          const state: Record<string, unknown> = { ...inputs, name, arn: mockArn(args.type, name, region) };
          if (args.type === "aws:kms/key:Key") state.keyId = `mock-key-${args.name}`;
          if (args.type === "aws:sqs/queue:Queue") state.url = `https://sqs.${region}.amazonaws.com/${MOCK_ACCOUNT_ID}/${name}`;
          if (args.type.startsWith("aws:s3/bucket")) state.bucket = (inputs.bucket) ?? name;
          if (args.type === "aws:ecr/repository:Repository") state.repositoryUrl = `${MOCK_ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com/${name}`;
          if (args.type === "aws:rds/instance:Instance") {
            state.address = `${(inputs.identifier as string | undefined) ?? args.name}.cmock0000000.${region}.rds.amazonaws.com`;
            state.endpoint = `${state.address as string}:5432`;
          }
          if (args.type === "aws:elasticache/replicationGroup:ReplicationGroup")
            state.primaryEndpointAddress = `master.${(inputs.replicationGroupId as string | undefined) ?? args.name}.mock00.use1.cache.amazonaws.com`;
          if (args.type === "aws:iam/role:Role") state.uniqueId = `AROAMOCK${args.name.toUpperCase().replace(/[^A-Z0-9]/g, "")}`;
          return { id: args.id || id, state };
        }
      }
    },
    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
      switch (args.token) {
        case "aws:index/getCallerIdentity:getCallerIdentity":
          return { accountId: MOCK_ACCOUNT_ID, arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:user/mock`, userId: "MOCK" };
        case "aws:index/getPartition:getPartition":
          return { partition: "aws", dnsSuffix: "amazonaws.com" };
        case "aws:index/getRegion:getRegion":
          return { name: region, region, id: region };
        case "aws:elb/getServiceAccount:getServiceAccount":
          return { arn: "arn:aws:iam::127311923021:root", id: "127311923021", region };
        case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
          return { userName: "AWS", password: "mock-ecr-token", proxyEndpoint: `https://${MOCK_ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com`, authorizationToken: "mock", expiresAt: "2099-01-01T00:00:00Z", id: "mock" };
        default:
          throw new Error(`the offline plan has no mock for the invoke ${args.token}; add one in stacks/plan/mocks.ts`);
      }
    },
  };
}
