/**
 * WeightsStore: model weights in an encrypted, private S3 bucket, so replicas stream them with
 * the Run:ai streamer (3.51 GiB/s) instead of downloading from Hugging Face at every start.
 *
 * - One bucket per stack; objects at s3://<bucket>/<hf repo>/<revision>/.
 * - A read-only Pod Identity role for the model servers, and a writer role for the sync Job.
 * - One sync Job per model and revision: download from Hugging Face with the token from Vault
 *   (through an ExternalSecret), then `aws s3 sync` into the bucket. A new revision is a new Job.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { LlmModel } from "../infra/catalog/models";
import { IMAGES, imageRef } from "../infra/catalog/versions";
import { PrivateBucket } from "./bucket";
import { policyDocument } from "./iam";
import { recommendedLabels } from "./labels";
import { HF_TOKEN_SECRET, MODEL_SERVER_SA } from "./model-server";
import { POOL_LABEL, SYSTEM_POOL } from "./node-groups";
import { podIdentityRole } from "./workload-identity";

export const SYNC_SA = "weights-sync";

export function weightsPrefix(model: LlmModel, revision: string): string {
  return `${model.hfRepo}/${revision}/`;
}

/** Maps an Input without wrapping plain values (so pure builders stay plain for plain inputs). */
export function mapInput<T, U>(x: pulumi.Input<T>, f: (v: T) => U): pulumi.Input<U> {
  return pulumi.Output.isInstance(x) || x instanceof Promise ? pulumi.output(x).apply((v) => f(v as T)) : f(x);
}

export function weightsUri(bucket: pulumi.Input<string>, model: LlmModel, revision: string): pulumi.Input<string> {
  return mapInput(bucket, (b) => `s3://${b}/${weightsPrefix(model, revision)}`);
}

export function readerPolicy(bucketArn: string): string {
  return JSON.stringify(
    policyDocument(
      { Sid: "ReadWeights", Effect: "Allow", Action: ["s3:GetObject"], Resource: `${bucketArn}/*` },
      { Sid: "ListWeights", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: bucketArn },
    ),
  );
}

export function writerPolicy(bucketArn: string): string {
  return JSON.stringify(
    policyDocument(
      { Sid: "WriteWeights", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"], Resource: `${bucketArn}/*` },
      { Sid: "ListWeights", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], Resource: bucketArn },
    ),
  );
}

/** The Job name changes with the revision, so a new revision syncs again. */
export function syncJobName(modelKey: string, revision: string): string {
  return `weights-sync-${modelKey}-${createHash("sha256").update(revision).digest("hex").slice(0, 8)}`;
}

/** The download step: the vLLM image ships huggingface_hub; skip the repos' duplicate original/ and metal/ checkpoints. */
export function downloadScript(model: LlmModel, revision: string): string {
  return [
    "from huggingface_hub import snapshot_download",
    `snapshot_download(repo_id=${JSON.stringify(model.hfRepo)}, revision=${JSON.stringify(revision)}, local_dir="/weights", ignore_patterns=["original/*", "metal/*"])`,
  ].join("\n");
}

export interface SyncJobSpec {
  readonly modelKey: string;
  readonly model: LlmModel;
  readonly revision: string;
  readonly bucket: pulumi.Input<string>;
  readonly namespace: string;
  readonly region: string;
}

export function syncJob(s: SyncJobSpec): k8s.batch.v1.JobArgs {
  const name = syncJobName(s.modelKey, s.revision);
  const scratchGi = Math.ceil(s.model.weightsGiB * 1.3) + 5;
  const restricted = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
  return {
    metadata: {
      name,
      namespace: s.namespace,
      labels: { ...recommendedLabels(name, "weights-sync"), "llm-platform.io/model": s.modelKey },
      // pulumi up waits for the sync (the model servers depend on it).
      annotations: { "pulumi.com/timeoutSeconds": "7200" },
    },
    spec: {
      backoffLimit: 3,
      activeDeadlineSeconds: 7200,
      template: {
        metadata: { labels: { ...recommendedLabels(name, "weights-sync"), "llm-platform.io/model": s.modelKey } },
        spec: {
          serviceAccountName: SYNC_SA,
          restartPolicy: "OnFailure",
          nodeSelector: { [POOL_LABEL]: SYSTEM_POOL },
          securityContext: { seccompProfile: { type: "RuntimeDefault" } },
          initContainers: [
            {
              name: "download",
              image: imageRef(IMAGES.vllm),
              command: ["python3", "-c", downloadScript(s.model, s.revision)],
              env: [
                { name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: HF_TOKEN_SECRET, key: "token" } } },
                { name: "HF_HUB_DISABLE_TELEMETRY", value: "1" },
              ],
              resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
              securityContext: restricted,
              volumeMounts: [{ name: "weights", mountPath: "/weights" }],
            },
          ],
          containers: [
            {
              name: "upload",
              image: imageRef(IMAGES.awsCli),
              args: ["s3", "sync", "/weights", weightsUri(s.bucket, s.model, s.revision), "--only-show-errors", "--exclude", ".cache/*"],
              env: [{ name: "AWS_REGION", value: s.region }],
              resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
              securityContext: restricted,
              volumeMounts: [{ name: "weights", mountPath: "/weights", readOnly: true }],
            },
          ],
          volumes: [
            {
              name: "weights",
              ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], storageClassName: "gp3", resources: { requests: { storage: `${scratchGi}Gi` } } } } },
            },
          ],
        },
      },
    },
  };
}

export interface WeightsStoreArgs {
  readonly clusterName: string;
  readonly region: string;
  readonly namespace: string;
  readonly versioning: boolean;
  /** The models whose weights live in S3, with their revision. */
  readonly models: readonly { readonly key: string; readonly model: LlmModel; readonly revision: string }[];
  readonly k8sProvider: k8s.Provider;
  /** The namespace and the HF token ExternalSecret. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class WeightsStore extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  /** The sync Job per model key. */
  public readonly syncJobs: Readonly<Record<string, k8s.batch.v1.Job>>;
  public readonly readerAssociation: aws.eks.PodIdentityAssociation;

  constructor(name: string, args: WeightsStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:serving:WeightsStore", name, {}, opts);
    const child = { parent: this };
    const account = aws.getCallerIdentityOutput({}, child);
    const bucket = new PrivateBucket(`${name}-bucket`, { bucketName: pulumi.interpolate`${args.clusterName}-model-weights-${account.accountId}`, versioning: args.versioning }, child);
    this.bucketName = bucket.name;

    const reader = podIdentityRole(
      `${name}-reader`,
      { clusterName: args.clusterName, namespace: args.namespace, serviceAccount: MODEL_SERVER_SA, policy: bucket.arn.apply(readerPolicy), description: "vLLM: read model weights" },
      child,
    );
    this.readerAssociation = reader.association;
    const writer = podIdentityRole(
      `${name}-writer`,
      { clusterName: args.clusterName, namespace: args.namespace, serviceAccount: SYNC_SA, policy: bucket.arn.apply(writerPolicy), description: "Weights sync Job: write model weights" },
      child,
    );

    const k8sOpts = { parent: this, provider: args.k8sProvider };
    const sa = new k8s.core.v1.ServiceAccount(`${name}-sync-sa`, { metadata: { name: SYNC_SA, namespace: args.namespace, labels: recommendedLabels(SYNC_SA, "weights-sync") } }, { ...k8sOpts, dependsOn: args.dependsOn });
    const jobs: Record<string, k8s.batch.v1.Job> = {};
    for (const m of args.models) {
      jobs[m.key] = new k8s.batch.v1.Job(
        `${name}-sync-${m.key}`,
        syncJob({ modelKey: m.key, model: m.model, revision: m.revision, bucket: bucket.name, namespace: args.namespace, region: args.region }),
        { ...k8sOpts, dependsOn: [sa, writer.association, ...args.dependsOn], customTimeouts: { create: "2h" } },
      );
    }
    this.syncJobs = jobs;
    this.registerOutputs({ bucketName: this.bucketName });
  }
}
