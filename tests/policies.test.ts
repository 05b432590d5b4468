/**
 * The CrossGuard pack, run in-process (stacks/plan/policies.ts; never PolicyPack):
 * - each policy on crafted resources that pass and that fail;
 * - the runner: config resolution, enforcement levels, notApplicable;
 * - the committed stacks (their recorded runs) and deliberately bad configs through the plan.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import type { RecordedResource } from "../stacks/plan/harness";
import { estimateCost } from "../infra/cost";
import { PolicyConfigError, runPolicies } from "../stacks/plan/policies";
import { policies } from "../policies/policies";
import { CAPACITY_SLO_CASES } from "./support/capacity-slo-cases";
import {
  awsProvider,
  bucket,
  check,
  COST_TAGS,
  deployment,
  goodContainer,
  helmRelease,
  managedNodeGroup,
  nodePool,
  pdb,
  policyNamed,
  res,
  scaledObject,
  SERVING_LABELS,
  urnOf,
} from "./support/policy-harness";

interface Case {
  readonly name: string;
  readonly resources: RecordedResource[];
  readonly config?: Record<string, unknown>;
  /** One pattern per expected violation; [] means the resources pass. */
  readonly violations: readonly RegExp[];
}

const pass = (name: string, resources: RecordedResource[], config?: Record<string, unknown>): Case => ({ name, resources, violations: [], ...(config ? { config } : {}) });
const fail = (name: string, resources: RecordedResource[], violations: RegExp[], config?: Record<string, unknown>): Case => ({ name, resources, violations, ...(config ? { config } : {}) });

// Shared crafted resources -------------------------------------------------------------------

const gpuLimits = { cpu: "16", memory: "64Gi", "nvidia.com/gpu": "2" };
const lt = (name: string, inputs: Record<string, unknown>) => res("aws:ec2/launchTemplate:LaunchTemplate", name, inputs);
const taggedSpecs = [
  { resourceType: "instance", tags: { Name: "x", ...COST_TAGS } },
  { resourceType: "volume", tags: { Name: "x", ...COST_TAGS } },
];
const imds = { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 };
const nodeClass = (spec: Record<string, unknown>) => res("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", "nodeclass-gpu", { metadata: { name: "gpu" }, spec });
const eksCluster = (inputs: Record<string, unknown>) => res("eks:index:Cluster", "cluster-eks", { name: "llm-dev", ...inputs });
const awsEksCluster = (inputs: Record<string, unknown>) => res("aws:eks/cluster:Cluster", "cluster-eks-eksCluster", { name: "llm-dev", ...inputs });
const logGroup = (name: string, retentionInDays?: number) => res("aws:cloudwatch/logGroup:LogGroup", name, { name, ...(retentionInDays !== undefined ? { retentionInDays } : {}) });
const ns = (name: string, labels: Record<string, string> = { "app.kubernetes.io/part-of": "llm-platform", "app.kubernetes.io/name": name }) =>
  res("kubernetes:core/v1:Namespace", `ns-${name}`, { metadata: { name, labels } });
const netpol = (namespace: string, spec: Record<string, unknown>) => res("kubernetes:networking.k8s.io/v1:NetworkPolicy", `np-${namespace}-${Object.keys(spec).join("-")}`, { metadata: { name: "default-deny", namespace }, spec });
const pab = (b: RecordedResource, flags: Partial<Record<string, boolean>> = {}) =>
  res(
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    `${b.name}-pab`,
    { bucket: `${b.name}-id`, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true, ...flags },
    { dependsOn: [b.urn] },
  );
const sse = (b: RecordedResource) =>
  res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", `${b.name}-sse`, { bucket: `${b.name}-id`, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }] }, { dependsOn: [b.urn] });
const iamDoc = (...statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
const podSpecWith = (pod: Record<string, unknown>, labels: Record<string, string> = { app: "x" }) => deployment("tool", { labels, namespace: "tools", pod });
const withContainer = (container: Record<string, unknown>) => deployment("tool", { labels: { app: "x" }, namespace: "tools", container });

// The table: every policy, with resources that pass and resources that fail -----------------

const CASES: Record<string, Case[]> = {
  "monthly-budget": [
    pass("a spot GPU pool and a limited NodePool within $3,500", [managedNodeGroup("g5", { max: 2 }), nodePool("gpu-spot", gpuLimits)], { monthlyUsd: 3500, spotDiscount: 0.6 }),
    fail("dev asking for p5.48xlarge on demand at 8 nodes", [managedNodeGroup("p5", { instanceTypes: ["p5.48xlarge"], capacityType: "ON_DEMAND", max: 8 })], [/\$321,434\/month is over the budget of \$3,500 .*GPU node group p5/], {
      monthlyUsd: 3500,
      spotDiscount: 0.6,
    }),
    fail("a NodePool without limits cannot be bounded", [nodePool("gpu-spot", {})], [/no upper bound: NodePool gpu-spot/], { monthlyUsd: 3500, spotDiscount: 0.6 }),
    pass(
      "a node group visible as component and as aws.eks.NodeGroup child counts once ($1,770 < $2,000 < 2 x $1,770)",
      [managedNodeGroup("g5", { capacityType: "ON_DEMAND", max: 2 }), managedNodeGroup("g5", { capacityType: "ON_DEMAND", max: 2, child: true })],
      { monthlyUsd: 2000, spotDiscount: 0.6 },
    ),
  ],
  "allowed-instance-types": [
    pass("g5 node group and NodePool where g5 is allowed", [managedNodeGroup("g5"), nodePool("gpu-spot", gpuLimits)], { allowedFamilies: ["g5"] }),
    pass("a single allowed type", [managedNodeGroup("p5", { instanceTypes: ["p5.4xlarge"] })], { allowedFamilies: ["g5"], allowedTypes: ["p5.4xlarge"] }),
    fail("p5 in dev", [managedNodeGroup("p5", { instanceTypes: ["p5.48xlarge"] })], [/node group p5 .*p5\.48xlarge is not allowed here .*gpuPools\.p5\.instanceTypes/], { allowedFamilies: ["g5", "m6i"] }),
    fail("a type outside the catalog", [managedNodeGroup("x", { instanceTypes: ["x9.huge"] })], [/x9\.huge is not in infra\/catalog\/instances\.ts/], { allowedFamilies: ["g5"] }),
    fail("a NodePool of a family not allowed", [nodePool("gpu-spot", gpuLimits, ["p5"], ["48xlarge"])], [/NodePool gpu-spot: family p5 is not allowed/], { allowedFamilies: ["g5"] }),
    fail("a NodePool without family or type requirement", [res("kubernetes:karpenter.sh/v1:NodePool", "np", { metadata: { name: "any" }, spec: { limits: gpuLimits, template: { spec: { requirements: [] } } } })], [/NodePool any: .*any instance type may launch/], {
      allowedFamilies: ["g5"],
    }),
    fail("a NodePool without a size requirement", [nodePool("gpu-spot", gpuLimits, ["g5"], null)], [/sizes outside infra\/catalog\/instances\.ts may launch unpriced/], { allowedFamilies: ["g5"] }),
    fail("an EC2 instance of a type not allowed", [res("aws:ec2/instance:Instance", "bastion", { instanceType: "p4d.24xlarge" })], [/Instance bastion: p4d\.24xlarge is not allowed/], { allowedFamilies: ["g5"] }),
  ],
  "gpu-count-cap": [
    pass("2 node-group GPUs and a NodePool limit of 2, under 8", [managedNodeGroup("g5", { max: 2 }), nodePool("gpu-spot", gpuLimits)], { maxGpus: 8 }),
    pass("a CPU NodePool without a GPU limit counts 0", [nodePool("cpu", { cpu: "16", memory: "64Gi" }, ["m5"], ["large"])], { maxGpus: 0 }),
    pass("component and child node group are counted once", [managedNodeGroup("g5", { max: 6 }), managedNodeGroup("g5", { max: 6, child: true })], { maxGpus: 8 }),
    fail("8 x p5.48xlarge is 64 GPUs", [managedNodeGroup("p5", { instanceTypes: ["p5.48xlarge"], max: 8 })], [/may run 64 GPUs, over the cap of 8: node group p5 8 x 8 = 64/], { maxGpus: 8 }),
    fail("node groups and NodePool limits add up", [managedNodeGroup("g5", { max: 4 }), nodePool("gpu-spot", { ...gpuLimits, "nvidia.com/gpu": "6" })], [/may run 10 GPUs, over the cap of 8/], { maxGpus: 8 }),
    fail("a GPU NodePool without a GPU limit", [nodePool("gpu-spot", { cpu: "16", memory: "64Gi" })], [/NodePool gpu-spot may launch GPU instances but sets no nvidia\.com\/gpu limit/], { maxGpus: 8 }),
  ],
  "gpu-spot-or-scale-to-zero": [
    pass("spot with a baseline, on-demand at zero, and an on-demand CPU group", [
      managedNodeGroup("g5", { min: 2, max: 4 }),
      managedNodeGroup("p4d", { instanceTypes: ["p4d.24xlarge"], capacityType: "ON_DEMAND", min: 0, max: 1 }),
      managedNodeGroup("system", { instanceTypes: ["m6i.xlarge"], capacityType: "ON_DEMAND", min: 2, max: 3 }),
    ]),
    fail("an on-demand GPU baseline", [managedNodeGroup("g5", { capacityType: "ON_DEMAND", min: 1 })], [/GPU node group g5 .*ON_DEMAND with minSize 1.*gpuPools\.g5\.capacityType: SPOT or gpuPools\.g5\.minNodes: 0/]),
    fail("the aws.eks.NodeGroup child too", [managedNodeGroup("g5", { capacityType: "ON_DEMAND", min: 1, child: true })], [/GPU node group g5/]),
  ],
  "karpenter-nodepool-limits": [
    pass("cpu, memory and nvidia.com/gpu set", [nodePool("gpu-spot", gpuLimits), nodePool("cpu", { cpu: "16", memory: "64Gi", "nvidia.com/gpu": "0" }, ["m5"], ["large"])]),
    fail("a NodePool with no GPU limit", [nodePool("gpu-spot", { cpu: "16", memory: "64Gi" })], [/^NodePool gpu-spot: spec\.limits has no nvidia\.com\/gpu; set karpenter\.gpuSpot\.limits\.gpus\.$/]),
    fail("no limits at all", [nodePool("burst", {})], [/no cpu/, /no memory/, /no nvidia\.com\/gpu; add spec\.limits\["nvidia\.com\/gpu"\]/]),
    fail("a limit that is not a quantity", [nodePool("gpu-spot", { ...gpuLimits, cpu: "lots" })], [/spec\.limits\["cpu"\] is "lots", not a Kubernetes quantity/]),
  ],
  "required-cost-tags": [
    pass("tags from the provider's defaultTags", [res("aws:ec2/vpc:Vpc", "vpc", { cidrBlock: "10.0.0.0/16", tags: { Name: "vpc" } })]),
    pass("an untaggable type under an untagged provider", [awsProvider({}), res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach", { role: "r", policyArn: "arn" })]),
    pass("a bucket's own tags", [awsProvider({}), bucket("weights", { tags: COST_TAGS })]),
    pass("a launch template that tags its instances and volumes", [lt("lt", { metadataOptions: imds, tagSpecifications: taggedSpecs })]),
    pass("an EC2NodeClass with the tags", [nodeClass({ tags: COST_TAGS })]),
    fail("an untagged bucket", [awsProvider({}), bucket("weights")], [/Bucket weights: cost-allocation tags missing environment, project, cost-center, owner/]),
    fail("a launch template without tagSpecifications", [lt("lt", { metadataOptions: imds })], [/LaunchTemplate lt: the provider's defaultTags never reach the instances and volumes it launches/]),
    fail("an EC2NodeClass without cost tags", [nodeClass({ tags: { "karpenter.sh/discovery": "c" } })], [/EC2NodeClass gpu: spec\.tags .* missing environment, project, cost-center, owner/]),
    fail("a tag with the wrong environment", [res("aws:sqs/queue:Queue", "q", {})], [/Queue q: cost-allocation tags wrong environment=dev \(expected prod\)/], { expectedTagValues: { environment: "prod" } }),
  ],
  "eks-standard-support": [
    pass("STANDARD on the component and the aws.eks.Cluster", [eksCluster({ upgradePolicy: { supportType: "STANDARD" } }), awsEksCluster({ upgradePolicy: { supportType: "STANDARD" } })]),
    fail("no upgrade policy means EXTENDED", [eksCluster({})], [/unset \(EKS defaults to EXTENDED\); set cluster\.supportType: STANDARD/]),
    fail("EXTENDED", [awsEksCluster({ upgradePolicy: { supportType: "EXTENDED" } })], [/supportType is EXTENDED/]),
  ],
  "log-retention-bounded": [
    pass("bounded groups, and the cluster's log group present", [logGroup("/aws/vpc/flow", 30), logGroup("/aws/eks/llm-dev/cluster", 14), eksCluster({ enabledClusterLogTypes: ["api"] })], { maxRetentionDays: 90 }),
    fail("a group that never expires", [logGroup("/app")], [/LogGroup \/app: retentionInDays is unset, so logs never expire/], { maxRetentionDays: 90 }),
    fail("a retention longer than allowed", [logGroup("/app", 365)], [/retentionInDays 365 is longer than this environment's maximum of 90/], { maxRetentionDays: 90 }),
    fail("a cluster shipping logs to a group EKS would create", [eksCluster({ enabledClusterLogTypes: ["api", "audit"] })], [/no log group \/aws\/eks\/llm-dev\/cluster/], { maxRetentionDays: 90 }),
  ],
  "k8s-no-privileged-containers": [
    pass("an unprivileged container", [withContainer({ securityContext: { allowPrivilegeEscalation: false } })]),
    pass("an exempt namespace", [withContainer({ securityContext: { privileged: true } })], { exemptNamespaces: ["tools"] }),
    fail("a privileged container", [withContainer({ securityContext: { privileged: true } })], [/Deployment tools\/tool: container server runs privileged/]),
    fail("SYS_ADMIN", [withContainer({ securityContext: { capabilities: { add: ["SYS_ADMIN"] } } })], [/adds the SYS_ADMIN capability/]),
  ],
  "k8s-no-host-network": [
    pass("pod network", [podSpecWith({ hostNetwork: false })]),
    fail("hostNetwork", [podSpecWith({ hostNetwork: true })], [/spec\.hostNetwork is true/]),
    fail("hostPID on a DaemonSet", [res("kubernetes:apps/v1:DaemonSet", "agent", { kind: "DaemonSet", metadata: { name: "agent", namespace: "kube-system" }, spec: { template: { spec: { hostPID: true, containers: [] } } } })], [/DaemonSet kube-system\/agent: spec\.hostPID is true/]),
  ],
  "k8s-no-host-path": [
    pass("emptyDir", [podSpecWith({ volumes: [{ name: "cache", emptyDir: {} }] })]),
    fail("hostPath", [podSpecWith({ volumes: [{ name: "dev", hostPath: { path: "/dev" } }] })], [/volume dev is a hostPath \(\/dev\)/]),
  ],
  "k8s-images-pinned": [
    pass("a version tag and a digest", [withContainer({ image: "ghcr.io/org/safety:1.4.2" }), deployment("d", { image: `vllm/vllm-openai@sha256:${"a".repeat(64)}` })]),
    pass("Helm values with a pinned repository/tag", [helmRelease("tei", { image: { repository: "ghcr.io/huggingface/text-embeddings-inference", tag: "1.9" } })]),
    fail("a latest image", [withContainer({ image: "vllm/vllm-openai:latest" })], [/image "vllm\/vllm-openai:latest" uses the floating tag "latest"/]),
    fail("an untagged image", [withContainer({ image: "nginx" })], [/image "nginx" has no tag/]),
    fail("a CronJob's latest image", [res("kubernetes:batch/v1:CronJob", "sync", { kind: "CronJob", metadata: { name: "sync", namespace: "inference" }, spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: "s", image: "amazon/aws-cli:latest" }] } } } } } })], [/CronJob inference\/sync: container s image/]),
    fail("Helm values with tag: latest", [helmRelease("grafana", { image: { repository: "grafana/grafana", tag: "latest" } })], [/Helm release grafana: values image\.tag: "latest"/]),
    fail("Helm values with an image string ending :latest", [helmRelease("otel", { sidecar: { image: "otel/opentelemetry-collector:latest" } })], [/values sidecar\.image: "otel\/opentelemetry-collector:latest"/]),
  ],
  "k8s-resources-set": [
    pass("requests, memory limit and GPU in both", [deployment("vllm")]),
    fail("no resources", [withContainer({ resources: {} })], [/container server sets no resources\.requests\.cpu, resources\.requests\.memory, resources\.limits\.memory/]),
    fail("a GPU requested but not limited", [withContainer({ resources: { requests: { cpu: "1", memory: "1Gi", "nvidia.com/gpu": "1" }, limits: { memory: "1Gi" } } })], [/must set nvidia\.com\/gpu in limits/]),
  ],
  "k8s-secrets-by-reference": [
    pass("secretKeyRef env and a plain ConfigMap", [deployment("vllm"), res("kubernetes:core/v1:ConfigMap", "cm", { metadata: { name: "cm", namespace: "x" }, data: { LOG_LEVEL: "info" } })]),
    pass("Helm values pointing at an existing Secret", [helmRelease("grafana", { admin: { existingSecret: "grafana-admin", passwordKey: "password" } })]),
    fail("a literal token in env", [withContainer({ env: [{ name: "HF_TOKEN", value: "abc123" }] })], [/env HF_TOKEN is a literal secret-looking value; use valueFrom\.secretKeyRef/]),
    fail("a token value under an innocent name", [withContainer({ env: [{ name: "MODEL_OPTS", value: `hf_${"x".repeat(30)}` }] })], [/env MODEL_OPTS is a literal a Hugging Face token/]),
    fail("a redacted Pulumi secret inlined in env", [withContainer({ env: [{ name: "DB_URL", value: "[secret]" }] })], [/a Pulumi secret value inlined into the manifest/]),
    fail("a Secret with data in the program", [res("kubernetes:core/v1:Secret", "s", { metadata: { name: "azure", namespace: "safety" }, stringData: { key: "k" } })], [/Secret safety\/azure carries data \(key\) in the program; .*ExternalSecret/]),
    fail("an AWS key in a ConfigMap", [res("kubernetes:core/v1:ConfigMap", "cm", { metadata: { name: "cm", namespace: "x" }, data: { config: "AKIAABCDEFGHIJKLMNOP" } })], [/ConfigMap x\/cm: key config holds an AWS access key id/]),
    fail("a literal password in Helm values", [helmRelease("grafana", { adminPassword: "hunter2" })], [/Helm release grafana: values adminPassword is a literal credential/]),
    pass("Helm values with env references and key names (LiteLLM)", [
      helmRelease("litellm", {
        masterkeySecretKey: "master-key",
        db: { url: "postgresql://$(DATABASE_USERNAME):$(DATABASE_PASSWORD)@$(DATABASE_HOST)/$(DATABASE_NAME)", secret: { passwordKey: "password" } },
        proxy_config: { model_list: [{ litellm_params: { api_key: "os.environ/VLLM_API_KEY" } }], litellm_settings: { cache_params: { password: "os.environ/REDIS_PASSWORD" } } },
      }),
    ]),
    fail("a URL with a literal password in Helm values", [helmRelease("litellm", { db: { url: "postgresql://litellm:hunter2@db:5432/litellm" } })], [/values db\.url holds a URL with a password/]),
    fail("a literal API key beside references", [helmRelease("litellm", { proxy_config: { model_list: [{ litellm_params: { api_key: "abc123" } }] } })], [/api_key is a literal credential/]),
  ],
  "s3-encrypted-private": (() => {
    const b = bucket("weights");
    return [
      pass("public access blocked and SSE-KMS", [b, pab(b), sse(b)]),
      pass("blocked at the account level", [b, sse(b), res("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "account", { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true })]),
      fail("neither", [b], [/Bucket weights has no BucketPublicAccessBlock/, /Bucket weights has no server-side encryption configuration/]),
      fail("a public access block with a flag off", [b, pab(b, { restrictPublicBuckets: false }), sse(b)], [/leaves restrictPublicBuckets off/]),
      fail("a public ACL", [bucket("site", { acl: "public-read" }), pab(bucket("site")), sse(bucket("site"))], [/Bucket site: acl is public-read/]),
    ];
  })(),
  "ec2-imdsv2-required": [
    pass("required tokens and hop limit 1; an EC2NodeClass on Karpenter's defaults", [lt("lt", { metadataOptions: imds }), nodeClass({}), managedNodeGroup("g5")]),
    fail("tokens optional", [lt("lt", { metadataOptions: { ...imds, httpTokens: "optional" } })], [/LaunchTemplate lt: metadataOptions\.httpTokens is optional, not "required"/]),
    fail("no metadataOptions", [lt("lt", {})], [/sets no metadataOptions/]),
    fail("a hop limit that lets pods reach the node", [lt("lt", { metadataOptions: { ...imds, httpPutResponseHopLimit: 2 } })], [/httpPutResponseHopLimit is 2, above 1/]),
    fail("a managed node group without a launch template", [managedNodeGroup("g5", { launchTemplate: false })], [/node group g5 .*has no launch template/]),
    fail("an EC2NodeClass with tokens optional", [nodeClass({ metadataOptions: { httpTokens: "optional" } })], [/EC2NodeClass gpu: metadataOptions\.httpTokens is optional/]),
  ],
  "eks-private-endpoint": [
    pass("private only, where required", [eksCluster({ endpointPrivateAccess: true, endpointPublicAccess: false })], { requirePrivateEndpoint: true }),
    pass("public limited to an office range, where allowed", [eksCluster({ endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] })], { requirePrivateEndpoint: false }),
    fail("prod with a public endpoint", [eksCluster({ endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] })], [/the API endpoint is public \(203\.0\.113\.0\/24\); this environment requires a private endpoint/], {
      requirePrivateEndpoint: true,
    }),
    fail("the aws.eks.Cluster child, public by default", [awsEksCluster({ vpcConfig: { endpointPrivateAccess: true } })], [/Cluster cluster-eks-eksCluster: the API endpoint is public \(0\.0\.0\.0\/0\)/], { requirePrivateEndpoint: true }),
    fail("open to the internet where public is allowed", [eksCluster({ endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] })], [/open to 0\.0\.0\.0\/0/], { requirePrivateEndpoint: false }),
    fail("no private access", [eksCluster({ endpointPrivateAccess: false, endpointPublicAccess: false })], [/endpointPrivateAccess is off/], { requirePrivateEndpoint: true }),
  ],
  "k8s-default-deny-network-policy": [
    pass("a platform namespace with a default deny", [ns("inference"), netpol("inference", { podSelector: {}, policyTypes: ["Ingress", "Egress"] })]),
    pass("namespaces the platform does not own are not checked", [ns("kube-system", {})]),
    fail("a platform namespace without one", [ns("nvidia")], [/Namespace nvidia has no default-deny NetworkPolicy/]),
    fail("a policy that selects some pods only", [ns("inference"), netpol("inference", { podSelector: { matchLabels: { app: "x" } }, policyTypes: ["Ingress"] })], [/Namespace inference has no default-deny/]),
    fail("a policy that allows ingress", [ns("inference"), netpol("inference", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{}] })], [/Namespace inference has no default-deny/]),
    fail("ingress-only where egress must be denied too", [ns("inference"), netpol("inference", { podSelector: {}, policyTypes: ["Ingress"] })], [/policyTypes: \[Ingress, Egress\]/], { requireEgressDeny: true }),
  ],
  "iam-no-wildcard-admin": [
    pass("scoped statements, and a Deny on everything", [
      res("aws:iam/rolePolicy:RolePolicy", "scoped", { role: "r", policy: iamDoc({ Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::b/*" }, { Effect: "Deny", Action: "*", Resource: "*" }) }),
      res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "ssm", { role: "r", policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" }),
    ]),
    fail("* on * in a role policy", [res("aws:iam/rolePolicy:RolePolicy", "admin", { role: "r", policy: iamDoc({ Effect: "Allow", Action: "*", Resource: "*" }) })], [/RolePolicy admin: Statement\[0\] allows Action "\*" on Resource "\*"/]),
    fail("* on * as lists in a managed policy object", [res("aws:iam/policy:Policy", "p", { policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["*"], Resource: ["*"] }] } })], [/Policy p: Statement\[0\]/]),
    fail("AdministratorAccess attached", [res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a", { role: "r", policyArn: "arn:aws:iam::aws:policy/AdministratorAccess" })], [/attaches arn:aws:iam::aws:policy\/AdministratorAccess/]),
    fail("a role's inline policy", [res("aws:iam/role:Role", "r", { assumeRolePolicy: "{}", inlinePolicies: [{ name: "all", policy: iamDoc({ Effect: "Allow", Action: "*", Resource: "*" }) }] })], [/Role r: inlinePolicies\[0\] Statement\[0\]/]),
  ],
  "serving-probes": [
    pass("startup and readiness probes", [deployment("vllm")]),
    pass("workloads that do not serve are not checked", [withContainer({ startupProbe: undefined })]),
    fail("no startup probe", [deployment("vllm", { container: { startupProbe: undefined } })], [/Deployment inference\/vllm: container server has no startupProbe/]),
    fail("neither probe, in a serving namespace without component labels", [ns("embeddings", { "app.kubernetes.io/part-of": "llm-platform", "app.kubernetes.io/component": "serving" }), deployment("tei", { namespace: "embeddings", labels: { app: "tei" }, container: { startupProbe: undefined, readinessProbe: undefined } })], [/container server has no startupProbe or readinessProbe/]),
  ],
  "serving-pod-disruption-budget": [
    pass("a PDB selecting the pods", [deployment("vllm"), pdb("vllm", "inference", { "app.kubernetes.io/name": "vllm" })]),
    fail("no PDB", [deployment("vllm")], [/Deployment inference\/vllm has no PodDisruptionBudget selecting its pods/]),
    fail("a PDB in another namespace", [deployment("vllm"), pdb("vllm", "embeddings", { "app.kubernetes.io/name": "vllm" })], [/has no PodDisruptionBudget/]),
  ],
  "serving-topology-spread": [
    pass("spread over zones", [deployment("vllm")]),
    fail("no spread", [deployment("vllm", { pod: { topologySpreadConstraints: [] } })], [/Deployment inference\/vllm sets no topologySpreadConstraints/]),
  ],
  "serving-min-replicas": [
    pass("a KEDA minimum of 2", [deployment("vllm"), scaledObject("vllm", "inference", "vllm", 2)], { minReplicas: 2 }),
    pass("an HPA minimum of 3 for a StatefulSet", [deployment("milvus", { kind: "StatefulSet" }), res("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "hpa", { metadata: { name: "milvus", namespace: "inference" }, spec: { scaleTargetRef: { kind: "StatefulSet", name: "milvus" }, minReplicas: 3 } })], { minReplicas: 2 }),
    pass("3 fixed replicas", [deployment("tei", { replicas: 3 })], { minReplicas: 2 }),
    fail("a KEDA minimum of 1 in prod", [deployment("vllm"), scaledObject("vllm", "inference", "vllm", 1)], [/KEDA ScaledObject minReplicaCount is 1, below this environment's minimum of 2/], { minReplicas: 2 }),
    fail("KEDA's default minimum is 0", [deployment("vllm"), scaledObject("vllm", "inference", "vllm")], [/minReplicaCount is 0/], { minReplicas: 2 }),
    fail("one fixed replica", [deployment("safety", { replicas: 1 })], [/spec\.replicas is 1/], { minReplicas: 2 }),
  ],
  "stateful-resources-protected": [
    pass("protect", [res("aws:kms/key:Key", "k", {}, { protect: true })]),
    pass("retainOnDelete", [res("aws:s3/bucket:Bucket", "b", {}, { retainOnDelete: true })]),
    pass("not required in this environment", [res("aws:kms/key:Key", "k", {})], { requireProtection: false }),
    fail("neither", [res("aws:ecr/repository:Repository", "safety", {}), res("vault:kv/secretV2:SecretV2", "grafana-admin", {})], [/Repository safety has neither protect nor retainOnDelete/, /SecretV2 grafana-admin/]),
  ],
  ...CAPACITY_SLO_CASES,
};

/**
 * Stack policies whose passing and failing cases need whole rendered stacks or a component's
 * objects, so they live beside that component's tests: the file and the strings that must
 * appear there for a passing and a failing verdict.
 */
const TESTED_ELSEWHERE: Record<string, { file: string; mentions: string[] }> = {
  "cold-start-within-targets": { file: "tests/coldstart.test.ts", mentions: ['"cold-start-within-targets"', ".toEqual([])"] },
  "scaling-schedule-within-bounds": { file: "tests/scaling.test.ts", mentions: ["pol.scalingScheduleWithinBounds", ".toEqual([])"] },
  "scaling-predictive-lookahead": { file: "tests/scaling.test.ts", mentions: ["pol.scalingPredictiveLookahead", ".toEqual([])"] },
  "scaling-drain-within-spot-notice": { file: "tests/scaling.test.ts", mentions: ["pol.scalingDrainWithinSpotNotice", ".toEqual([])"] },
  "scaling-prod-on-demand-baseline": { file: "tests/scaling.test.ts", mentions: ["pol.scalingProdOnDemandBaseline", ".toEqual([])"] },
  "scaling-zero-retry-budget": { file: "tests/scaling.test.ts", mentions: ["pol.scalingZeroRetryBudget", ".toEqual([])"] },
};

describe("the policy table", () => {
  it("covers every policy of the pack, each with passing and failing resources", () => {
    expect([...Object.keys(CASES), ...Object.keys(TESTED_ELSEWHERE)].sort()).toEqual(policies.map((p) => p.name).sort());
    for (const [name, { file, mentions }] of Object.entries(TESTED_ELSEWHERE)) {
      const text = fs.readFileSync(path.join(__dirname, "..", file), "utf8");
      for (const m of mentions) expect(text.includes(m), `${file} tests ${name} (${m})`).toBe(true);
      // A failing case: the policy's symbol or name appears in more than one assertion.
      expect(text.split(mentions[0]!).length - 1, `${file} has passing and failing cases for ${name}`).toBeGreaterThanOrEqual(2);
    }
    for (const [name, cases] of Object.entries(CASES)) {
      expect(cases.some((c) => c.violations.length === 0), `${name} has a passing case`).toBe(true);
      expect(cases.some((c) => c.violations.length > 0), `${name} has a failing case`).toBe(true);
    }
  });
});

describe.each(Object.entries(CASES))("%s", (policy, cases) => {
  it.each(cases)("$name", async (c) => {
    const verdicts = await check(policy, c.resources, c.config);
    const messages = verdicts.map((v) => v.message);
    expect(messages, messages.join("\n")).toHaveLength(c.violations.length);
    for (const re of c.violations) expect(messages.some((m) => re.test(m)), `${re} in:\n${messages.join("\n")}`).toBe(true);
    for (const v of verdicts) {
      expect(v.policy).toBe(policy);
      expect(v.enforcementLevel).toBe("mandatory");
    }
  });
});

describe("the pack", () => {
  it("has unique names, descriptions and explicit enforcement levels, and no config key the engine reserves", () => {
    const names = policies.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const p of policies) {
      expect(p.name).toMatch(/^[a-z0-9-]+$/);
      expect(p.name).not.toBe("all");
      expect(p.description.length).toBeGreaterThan(20);
      expect(["mandatory", "advisory"]).toContain(p.enforcementLevel);
      expect(Object.keys(p.configSchema?.properties ?? {})).not.toContain("enforcementLevel");
    }
  });

  it("attributes a stack policy's violation to the resource it names", async () => {
    const v = await check("s3-encrypted-private", [bucket("weights")]);
    expect(v[0]?.resource).toEqual({ urn: urnOf("aws:s3/bucket:Bucket", "weights"), name: "weights", type: "aws:s3/bucket:Bucket" });
  });
});

describe("the in-process runner", () => {
  const key = res("aws:kms/key:Key", "k", {});
  const only = [policyNamed("stateful-resources-protected"), policyNamed("eks-standard-support")];

  it("applies enforcement levels: the policy's own, then `all`, then the policy's config; disabled policies do not run", async () => {
    const resources = [awsProvider(), key, eksCluster({})];
    const levels = async (config: Record<string, unknown>) => {
      const r = await runPolicies(resources, config, { policies: only });
      return Object.fromEntries(r.verdicts.map((v) => [v.policy, v.enforcementLevel]));
    };
    expect(await levels({})).toEqual({ "stateful-resources-protected": "mandatory", "eks-standard-support": "mandatory" });
    expect(await levels({ all: "advisory" })).toEqual({ "stateful-resources-protected": "advisory", "eks-standard-support": "advisory" });
    expect(await levels({ all: { enforcementLevel: "advisory" }, "eks-standard-support": "mandatory" })).toEqual({ "stateful-resources-protected": "advisory", "eks-standard-support": "mandatory" });
    expect(await levels({ "stateful-resources-protected": { enforcementLevel: "disabled" } })).toEqual({ "eks-standard-support": "mandatory" });
  });

  it("applies schema defaults and rejects unknown policies, unknown keys and wrong types, all at once", async () => {
    // requireProtection defaults to true.
    expect((await runPolicies([key], {}, { policies: only })).verdicts).toHaveLength(1);
    const error = await runPolicies([key], { "no-such-policy": "mandatory", "stateful-resources-protected": { requireProtecton: true }, "monthly-budget": { monthlyUsd: "lots" } }, { policies }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PolicyConfigError);
    expect((error as PolicyConfigError).problems).toEqual(
      expect.arrayContaining([
        "no-such-policy: no such policy in llm-platform-guardrails",
        "stateful-resources-protected: must NOT have additional properties (requireProtecton)",
        "monthly-budget.monthlyUsd: must be number",
        "monthly-budget: must have required property 'spotDiscount'",
        "gpu-count-cap: must have required property 'maxGpus'",
      ]),
    );
  });

  it("without retainOnDelete in its options (as under the CLI), the protection check is not applicable rather than failing", () => {
    const p = policyNamed("stateful-resources-protected") as ResourceValidationPolicy;
    const validate = p.validateResource as (a: ResourceValidationArgs, r: (m: string) => void) => void;
    const reasons: string[] = [];
    const args = {
      type: "aws:kms/key:Key",
      name: "k",
      urn: key.urn,
      props: {},
      opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
      stackTags: new Map(),
      isType: () => false,
      asType: () => undefined,
      getConfig: <T extends object>() => ({ requireProtection: true }) as T,
      notApplicable: (reason?: string): never => {
        reasons.push(reason ?? "");
        throw new Error("not applicable");
      },
    } as unknown as ResourceValidationArgs;
    expect(() => validate(args, () => undefined)).toThrow("not applicable");
    expect(reasons[0]).toMatch(/retainOnDelete is not visible to policy packs under the Pulumi CLI/);
  });

  it("gives stack policies resolved dependencies, so that bucket-level resources match their bucket in preview too", async () => {
    const b = bucket("weights");
    // The PAB names the bucket by an id that is unknown in preview; the dependency still links them.
    const block = { ...pab(b), inputs: { ...pab(b).inputs, bucket: "[unknown]" } };
    const enc = { ...sse(b), inputs: { ...sse(b).inputs, bucket: "[unknown]" } };
    expect(await check("s3-encrypted-private", [b, block, enc])).toEqual([]);
  });

  it("reads the AWS provider's defaultTags whether serialized as a JSON string or as an object", async () => {
    const provider = { ...awsProvider(), inputs: { defaultTags: { tags: COST_TAGS } } };
    expect(await check("required-cost-tags", [provider, res("aws:ec2/vpc:Vpc", "vpc", {})])).toEqual([]);
  });
});

describe("serving workload helpers", () => {
  it("treat a StatefulSet with a pod template like a Deployment", async () => {
    const sts = deployment("milvus", { kind: "StatefulSet", container: goodContainer({ readinessProbe: undefined }) });
    const v = await check("serving-probes", [sts]);
    expect(v.map((x) => x.message)).toEqual(["StatefulSet inference/milvus: container server has no readinessProbe."]);
    expect(SERVING_LABELS["app.kubernetes.io/part-of"]).toBe("llm-platform");
  });
});

describe("the cost model's additions for the budget", () => {
  const cost = (resources: { type: string; name: string; inputs: Record<string, unknown> }[]) => estimateCost(resources, { spotDiscount: 0.6 });

  it("prices block storage at the gp3 price: EBS volumes, PVCs, StatefulSet claim templates x replicas", () => {
    const e = cost([
      { type: "aws:ebs/volume:Volume", name: "v", inputs: { size: 200, type: "gp3" } },
      { type: "kubernetes:core/v1:PersistentVolumeClaim", name: "pvc", inputs: { spec: { resources: { requests: { storage: "100Gi" } } } } },
      { type: "kubernetes:apps/v1:StatefulSet", name: "etcd", inputs: { spec: { replicas: 3, volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { resources: { requests: { storage: "50Gi" } } } }] } } },
    ]);
    expect(e.lines.map((l) => l.maxMonthlyUsd)).toEqual([16, 8, 12]);
    expect(e.maxMonthlyUsd).toBe(36);
  });

  it("lists what the catalog cannot price, and compute it cannot bound", () => {
    const e = cost([
      { type: "aws:rds/instance:Instance", name: "db", inputs: {} },
      { type: "kubernetes:karpenter.sh/v1:NodePool", name: "np", inputs: { metadata: { name: "burst" }, spec: { template: { spec: { requirements: [] } } } } },
    ]);
    expect(e.notPriced.join("\n")).toContain("RDS instance db: class undefined is not in infra/catalog/instances.ts");
    expect(e.unbounded).toEqual(["NodePool burst: no instance-family or instance-type requirement: any type may launch"]);
  });
});
