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
 * - Metrics: the chart's own ServiceMonitor scrapes plaintext :9091 and only the Services it
 *   renders, which fails under Istio STRICT mTLS; it is off. Every Milvus pod is annotated
 *   (global `annotations`, read by milvus.ud.annotations into every component's pod template)
 *   with its metrics port, and the program scrapes all of them through one headless Service and
 *   the shared ServiceMonitor builder (workload-objects.ts: Istio's merged :15020 when meshed).
 * - PodDisruptionBudgets for the cluster-mode components, created here: milvus-helm 5.0.19 has
 *   no PDB template or values for Milvus components (only its etcd and pulsar subcharts do).
 * - The data bucket is stateful (protect/retain per env); in staging and prod the release is
 *   also retained on destroy, so Pulumi never deletes the Milvus data path.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import type { IServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../infra/catalog/versions";
import type { PlatformConfig } from "../infra/config";
import { PrivateBucket } from "./bucket";
import { release } from "./helm";
import { policyDocument } from "./iam";
import { recommendedLabels } from "./labels";
import { irsaTrustPolicy } from "./workload-identity";
import { metricsAnnotations, metricsServicePorts, serviceMonitor } from "./workload-objects";
import { flow, tcp, type Flow, type Peers, type PodPeer } from "./flows";
import { NAMESPACES } from "./namespaces";
import { scrapeFlow } from "./network-security";

export const MILVUS_SA = "milvus";
export const MILVUS_ROOT_SECRET = "milvus-root";
export const MILVUS_RELEASE = "milvus";
/** Every Milvus component serves Prometheus metrics here (milvus-helm 5.0.19 templates/*-deployment.yaml, container port "metrics"). */
export const MILVUS_METRICS_PORT = 9091;
export const MILVUS_METRICS_SERVICE = "milvus-metrics";

/**
 * The labels milvus-helm 5.0.19 puts on every component's pods: milvus.matchLabels
 * (app.kubernetes.io/name = the chart name, app.kubernetes.io/instance = the release; templates/_helpers.tpl)
 * plus `component` (templates/<component>-deployment.yaml).
 */
export function milvusPodSelector(component?: string): Record<string, string> {
  return { "app.kubernetes.io/name": "milvus", "app.kubernetes.io/instance": MILVUS_RELEASE, ...(component ? { component } : {}) };
}

/** The cluster-mode components that run as Deployments (templates/{proxy,querynode,datanode,mixcoord,streamingnode}-deployment.yaml). */
export const MILVUS_CLUSTER_COMPONENTS = ["proxy", "querynode", "datanode", "mixcoord", "streamingnode"] as const;

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
  return {
    cluster: { enabled: cluster },
    serviceAccount: { create: true, name: MILVUS_SA, annotations: { "eks.amazonaws.com/role-arn": i.roleArn } },
    // The chart's ServiceMonitor is off: the program scrapes every component (milvusServiceMonitor).
    metrics: { enabled: true, serviceMonitor: { enabled: false } },
    // Global pod annotations (milvus.ud.annotations, in every component's pod template): where
    // Istio's metrics merging finds each component's own metrics.
    annotations: metricsAnnotations({ containerPort: MILVUS_METRICS_PORT, path: "/metrics" }),
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
    proxy: { replicas: c.proxyReplicas, extraEnv: rootPasswordEnv, resources: resources("500m", "1Gi", "2Gi") },
    mixCoordinator: {
      enabled: true,
      replicas: c.coordinatorReplicas,
      // The chart allows replicas > 1 only with active-standby (values.yaml, mixCoordinator).
      activeStandby: { enabled: c.coordinatorReplicas > 1 },
      extraEnv: rootPasswordEnv,
      resources: resources("500m", "1Gi", "2Gi"),
    },
    queryNode: { replicas: c.queryNodeReplicas, resources: resources("1", "4Gi", "8Gi") },
    dataNode: { replicas: c.dataNodeReplicas, resources: resources("500m", "2Gi", "4Gi") },
    streamingNode: { replicas: cluster ? c.streamingNodeReplicas : 1, resources: resources("500m", "2Gi", "4Gi") },
    attu: { enabled: false },
  };
}

/** A headless Service over every Milvus pod, for scraping only (the chart's Services cover some components). */
export function milvusMetricsService(namespace: string, istio: boolean): k8s.core.v1.ServiceArgs {
  return {
    metadata: { name: MILVUS_METRICS_SERVICE, namespace, labels: recommendedLabels(MILVUS_METRICS_SERVICE, "vector-db") },
    spec: {
      clusterIP: "None",
      selector: milvusPodSelector(),
      ports: [{ name: "metrics", port: MILVUS_METRICS_PORT, targetPort: "metrics", protocol: "TCP" }, ...metricsServicePorts(istio)],
    },
  };
}

/** Scrapes every Milvus component; `component` is kept as a label as the chart's own monitor did (targetLabels). */
export function milvusServiceMonitor(namespace: string, istio: boolean): IServiceMonitor {
  return serviceMonitor(
    { name: MILVUS_METRICS_SERVICE, namespace, labels: recommendedLabels(MILVUS_METRICS_SERVICE, "vector-db") },
    { "app.kubernetes.io/name": MILVUS_METRICS_SERVICE },
    { port: "metrics", path: "/metrics" },
    { istio, podTargetLabels: ["component"], interval: "30s" },
  );
}

/** policy/v1 PDBs for the cluster-mode components (none in standalone mode: one pod, nothing to keep). */
export function milvusPdbs(namespace: string, mode: PlatformConfig["vectorDb"]["mode"]): k8s.policy.v1.PodDisruptionBudgetArgs[] {
  if (mode !== "cluster") return [];
  return MILVUS_CLUSTER_COMPONENTS.map((component) => ({
    metadata: { name: `${MILVUS_RELEASE}-${component}`, namespace, labels: recommendedLabels(`${MILVUS_RELEASE}-${component}`, "vector-db") },
    spec: { maxUnavailable: 1, selector: { matchLabels: milvusPodSelector(component) } },
  }));
}

export interface VectorDbArgs {
  readonly config: Pick<PlatformConfig, "vectorDb" | "region" | "protection" | "networkSecurity">;
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
    const bucket = new PrivateBucket(`${name}-bucket`, { bucketName: pulumi.interpolate`${args.clusterName}-milvus-${account.accountId}`, versioning: c.protection.bucketVersioning }, child);
    this.bucketName = bucket.name;

    const role = new aws.iam.Role(
      `${name}-s3`,
      {
        description: "Milvus object storage (IRSA)",
        assumeRolePolicy: pulumi.all([args.oidcProviderArn, args.oidcIssuer]).apply(([arn, issuer]) => JSON.stringify(irsaTrustPolicy(arn, issuer, args.namespace, MILVUS_SA))),
      },
      child,
    );
    const s3Policy = new aws.iam.RolePolicy(`${name}-s3`, { role: role.id, policy: bucket.arn.apply(milvusBucketPolicy) }, child);

    release(
      `${name}-milvus`,
      {
        name: MILVUS_RELEASE,
        namespace: args.namespace,
        pin: CHARTS.milvus,
        timeout: 1200,
        values: milvusValues({ cfg: c.vectorDb, region: c.region, bucketName: bucket.name, roleArn: role.arn }),
      },
      // Milvus starts with its S3 permissions in place (the role alone gets AccessDenied).
      { parent: this, provider: args.k8sProvider, dependsOn: [role, s3Policy, ...args.dependsOn], retainOnDelete: c.protection.retainOnDelete },
    );
    const k8sOpts = { parent: this, provider: args.k8sProvider, dependsOn: args.dependsOn };
    const istio = c.networkSecurity.istio.enabled;
    new k8s.core.v1.Service(`${name}-metrics`, milvusMetricsService(args.namespace, istio), k8sOpts);
    new k8s.apiextensions.CustomResource(`${name}-monitor`, milvusServiceMonitor(args.namespace, istio), k8sOpts);
    for (const pdb of milvusPdbs(args.namespace, c.vectorDb.mode)) {
      new k8s.policy.v1.PodDisruptionBudget(`${name}-${(pdb.metadata as { name: string }).name}-pdb`, pdb, k8sOpts);
    }
    this.endpoint = `${MILVUS_RELEASE}.${args.namespace}.svc:19530`;
    this.registerOutputs({ endpoint: this.endpoint, bucketName: this.bucketName });
  }
}

/**
 * Milvus's gRPC ports between its components (milvus configs/milvus.yaml and milvus-helm 5.0.19
 * values: proxy 19530 and internal 19529, mixCoord/rootCoord 53100, queryCoord 19531, dataCoord
 * 13333, queryNode 21123, dataNode 21124, indexNode 21121, streamingNode 22222), and etcd's
 * client and peer ports (bitnami etcd containerPorts 2379/2380).
 */
export const MILVUS_INTERNAL_PORTS = [19529, 19530, 53100, 19531, 13333, 21123, 21124, 21121, 22222] as const;

/** Milvus's flows: its components among themselves and to etcd, S3 and STS through IRSA, its metrics. */
export function vectorDbFlows(cfg: PlatformConfig, p: Peers): Flow[] {
  const n = NAMESPACES.vectordb.name;
  const milvus: PodPeer = { namespace: n, pods: milvusPodSelector() };
  const etcd: PodPeer = { namespace: n, pods: { "app.kubernetes.io/name": "etcd", "app.kubernetes.io/instance": MILVUS_RELEASE } };
  return [
    flow("milvus-internal", milvus, milvus, tcp(...MILVUS_INTERNAL_PORTS), "Milvus components call each other over gRPC"),
    flow("milvus-to-etcd", milvus, etcd, tcp(2379), "Milvus keeps its metadata in etcd"),
    ...(cfg.vectorDb.etcdReplicas > 1 ? [flow("etcd-peers", etcd, etcd, tcp(2379, 2380), "etcd members replicate")] : []),
    flow("milvus-to-aws-apis", milvus, p.awsApis, tcp(443), "object storage on S3, credentials from STS (IRSA)"),
    scrapeFlow("milvus", milvus, [MILVUS_METRICS_PORT], cfg.networkSecurity.istio.enabled),
  ];
}
