/**
 * VectorDb: Milvus from its official chart.
 * - Standalone in dev, cluster mode in staging and prod (mixCoordinator active/standby in prod).
 * - Object storage on S3 through IAM: an encrypted private bucket and an IRSA role (the Milvus
 *   chart documents IRSA; its minio-go client is not documented for Pod Identity). No MinIO, no
 *   access keys.
 * - etcd with 3 replicas where HA is wanted (gp3 volumes, reclaim Retain outside dev); the
 *   message queue is Woodpecker, the WAL the 2.6 chart recommends: embedded in the streaming
 *   nodes and stored on S3, so no Pulsar or Kafka to run.
 * - Authorization on; the root password comes from Vault (ExternalSecret) into the
 *   COMMON_SECURITY_DEFAULTROOTPASSWORD environment variable, never into the chart's ConfigMap.
 * - Metrics with a ServiceMonitor; PDBs for the Milvus components.
 * - The data bucket is stateful (protect/retain per env); in staging and prod the release is
 *   also retained on destroy, so Pulumi never deletes the Milvus data path.
 */
import * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../infra/catalog/versions";
import type { PlatformConfig } from "../infra/config";
import { PrivateBucket } from "./bucket";
import { release } from "./helm";
import { policyDocument } from "./iam";
import { irsaTrustPolicy } from "./workload-identity";

export const MILVUS_SA = "milvus";
export const MILVUS_ROOT_SECRET = "milvus-root";
export const MILVUS_RELEASE = "milvus";

export function milvusBucketPolicy(bucketArn: string): string {
  return JSON.stringify(
    policyDocument(
      { Sid: "MilvusObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], Resource: `${bucketArn}/*` },
      { Sid: "MilvusBucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: bucketArn },
    ),
  );
}

export interface MilvusValuesInputs {
  readonly cfg: PlatformConfig["vectorDb"];
  readonly environment: string;
  readonly region: string;
  readonly bucketName: pulumi.Input<string>;
  readonly roleArn: pulumi.Input<string>;
}

const rootPasswordEnv = [
  { name: "COMMON_SECURITY_AUTHORIZATIONENABLED", value: "true" },
  { name: "COMMON_SECURITY_DEFAULTROOTPASSWORD", valueFrom: { secretKeyRef: { name: MILVUS_ROOT_SECRET, key: "password" } } },
];

const resources = (cpu: string, memory: string, memLimit: string) => ({ requests: { cpu, memory }, limits: { memory: memLimit } });

export function milvusValues(i: MilvusValuesInputs): Record<string, unknown> {
  const c = i.cfg;
  const cluster = c.mode === "cluster";
  const ha = i.environment === "prod";
  const pdb = { enabled: true, maxUnavailable: 1 };
  return {
    cluster: { enabled: cluster },
    serviceAccount: { create: true, name: MILVUS_SA, annotations: { "eks.amazonaws.com/role-arn": i.roleArn } },
    metrics: { enabled: true, serviceMonitor: { enabled: true, interval: "30s" } },
    // Not a secret: the password itself arrives through the environment (rootPasswordEnv).
    extraConfigFiles: { "user.yaml": "common:\n  security:\n    authorizationEnabled: true\n" },
    minio: { enabled: false },
    externalS3: {
      enabled: true,
      host: `s3.${i.region}.amazonaws.com`,
      port: 443,
      useSSL: true,
      bucketName: i.bucketName,
      rootPath: "milvus",
      useIAM: true,
      cloudProvider: "aws",
      region: i.region,
      iamEndpoint: "",
      useVirtualHost: true,
    },
    etcd: {
      replicaCount: c.etcdReplicas,
      persistence: { enabled: true, storageClass: "gp3", size: `${c.etcdStorageGi}Gi` },
      pdb: { create: c.etcdReplicas > 1 },
    },
    // Message queue / WAL.
    pulsar: { enabled: false },
    pulsarv3: { enabled: c.messageQueue === "pulsarv3" },
    kafka: { enabled: c.messageQueue === "kafka" },
    woodpecker: { enabled: cluster && c.messageQueue === "woodpecker" },
    streaming: { enabled: true, woodpecker: { embedded: true, storage: { type: "minio" } } },
    standalone: {
      messageQueue: c.messageQueue === "woodpecker" ? "woodpecker" : c.messageQueue === "kafka" ? "kafka" : "pulsar",
      extraEnv: rootPasswordEnv,
      persistence: { persistentVolumeClaim: { storageClass: "gp3", size: "50Gi" } },
      resources: resources("1", "4Gi", "8Gi"),
    },
    proxy: { replicas: c.proxyReplicas, extraEnv: rootPasswordEnv, resources: resources("500m", "1Gi", "2Gi"), pdb },
    mixCoordinator: {
      enabled: true,
      replicas: ha ? 2 : 1,
      activeStandby: { enabled: ha },
      extraEnv: rootPasswordEnv,
      resources: resources("500m", "1Gi", "2Gi"),
    },
    queryNode: { replicas: c.queryNodeReplicas, resources: resources("1", "4Gi", "8Gi"), pdb },
    dataNode: { replicas: c.dataNodeReplicas, resources: resources("500m", "2Gi", "4Gi"), pdb },
    streamingNode: { replicas: cluster ? (ha ? 2 : 1) : 1, resources: resources("500m", "2Gi", "4Gi") },
    attu: { enabled: false },
  };
}

export interface VectorDbArgs {
  readonly config: Pick<PlatformConfig, "vectorDb" | "environment" | "region" | "protection">;
  readonly clusterName: string;
  readonly namespace: string;
  readonly oidcProviderArn: pulumi.Input<string>;
  readonly oidcIssuer: pulumi.Input<string>;
  readonly k8sProvider: k8s.Provider;
  /** The namespace, the root-password ExternalSecret, the monitoring CRDs. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class VectorDb extends pulumi.ComponentResource {
  public readonly endpoint: string;
  public readonly bucketName: pulumi.Output<string>;

  constructor(name: string, args: VectorDbArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:serving:VectorDb", name, {}, opts);
    const child = { parent: this };
    const c = args.config;
    const account = aws.getCallerIdentityOutput({}, child);
    const bucket = new PrivateBucket(`${name}-bucket`, { bucketName: pulumi.interpolate`${args.clusterName}-milvus-${account.accountId}`, versioning: c.environment !== "dev" }, child);
    this.bucketName = bucket.name;

    const role = new aws.iam.Role(
      `${name}-s3`,
      {
        description: "Milvus object storage (IRSA)",
        assumeRolePolicy: pulumi.all([args.oidcProviderArn, args.oidcIssuer]).apply(([arn, issuer]) => JSON.stringify(irsaTrustPolicy(arn, issuer, args.namespace, MILVUS_SA))),
      },
      child,
    );
    new aws.iam.RolePolicy(`${name}-s3`, { role: role.id, policy: bucket.arn.apply(milvusBucketPolicy) }, child);

    release(
      `${name}-milvus`,
      {
        name: MILVUS_RELEASE,
        namespace: args.namespace,
        pin: CHARTS.milvus,
        timeout: 1200,
        values: milvusValues({ cfg: c.vectorDb, environment: c.environment, region: c.region, bucketName: bucket.name, roleArn: role.arn }),
      },
      { parent: this, provider: args.k8sProvider, dependsOn: [role, ...args.dependsOn], retainOnDelete: c.protection.retainOnDelete },
    );
    this.endpoint = `${MILVUS_RELEASE}.${args.namespace}.svc:19530`;
    this.registerOutputs({ endpoint: this.endpoint, bucketName: this.bucketName });
  }
}
