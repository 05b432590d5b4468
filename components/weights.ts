/**
 * WeightsStore: every model file a serving pod reads lives in an encrypted, private S3 bucket, so
 * no serving pod needs the internet at run time (only the AWS APIs: S3 through the VPC's gateway
 * endpoint, credentials from the node's Pod Identity agent).
 *
 * - One bucket per stack; objects at s3://<bucket>/<hf repo>/<revision>/.
 *   - vLLM models: the checkpoint, streamed by the Run:ai streamer (3.51 GiB/s), and the tiktoken
 *     encodings their tokenizer library loads at start-up, under <prefix>tiktoken/.
 *   - TEI encoders: the files TEI reads from a local --model-id directory (TEI_MODEL_FILES).
 * - A read-only Pod Identity role per reading namespace (the model servers, TEI), and a writer role
 *   for the sync Jobs.
 * - One sync Job per model and revision: resolve the revision to the commit it names, download
 *   exactly that commit from Hugging Face with the token from Vault (through an ExternalSecret),
 *   then `aws s3 sync --delete` into the bucket and record the commit at <repo>/refs/<revision>.
 *   A new revision is a new Job. The prefix is keyed on the commit: prod requires a 40-hex commit
 *   id (config check), so <repo>/<commit>/ is known when the stack plans and the servers read it;
 *   outside prod a branch syncs to <repo>/<branch>/, which --delete keeps to exactly one commit.
 *   The sync Jobs are the only pods with internet egress; their pods carry SYNC_POD_LABELS.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { TIKTOKEN_ENCODINGS, type EncoderModel, type LlmModel, type TiktokenEncodingName } from "../infra/catalog/models";
import { IMAGES, imageRef } from "../infra/catalog/versions";
import { PrivateBucket } from "./bucket";
import { policyDocument } from "./iam";
import { recommendedLabels } from "./labels";
import { HF_TOKEN_SECRET } from "./model-server";
import { cpuNodeAffinity } from "./node-groups";
import { podIdentityRole } from "./workload-identity";
import { containerSecurityContext, podSecurityContext, type Hardening } from "./pod-security";

export const SYNC_SA = "weights-sync";
export const SYNC_COMPONENT = "weights-sync";
/** The sync Jobs' pods, and no other pod, carry this label: the one workload given internet egress. */
export const SYNC_POD_LABELS = { "app.kubernetes.io/component": SYNC_COMPONENT } as const;
/** Where the tiktoken encodings sit under a model's prefix (and in the sync Job's scratch volume). */
export const TIKTOKEN_DIR = "tiktoken";

/**
 * The files TEI v1.9.3 reads from a local `--model-id` directory (it downloads exactly these from
 * the Hub otherwise):
 * - router/src/lib.rs `run`: `config.json`; `tokenizer.json` ("only supports fast tokenizers");
 *   the Sentence Transformers configs (`sentence_bert_config.json` and the legacy
 *   `sentence_*_config.json`, for max_seq_length; `config_sentence_transformers.json`, prompts);
 *   `get_backend_model_type`: `1_Pooling/config.json` when --pooling is not given.
 * - core/src/download.rs `download_artifacts`: the same list (ST_CONFIG_NAMES).
 * - backends/src/lib.rs `download_safetensors` and backends/candle/src/lib.rs `CandleBackend::new`:
 *   `model.safetensors`, or `model.safetensors.index.json` and its shards; for a local model,
 *   `modules.json` names the Dense modules, read from `<dense>/config.json` and
 *   `<dense>/model.safetensors`.
 * - backends/ort/src/lib.rs: `tokenizer_config.json` (padding side). The ONNX weights are left out:
 *   the CPU image tries ORT first and, finding no model.onnx, starts the Candle backend
 *   (backends/src/lib.rs `init_backend`), which reads the safetensors above.
 * Patterns are huggingface_hub `snapshot_download(allow_patterns=...)` fnmatch patterns.
 */
export const TEI_MODEL_FILES = [
  "config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "1_Pooling/config.json",
  "sentence_bert_config.json",
  "sentence_*_config.json",
  "config_sentence_transformers.json",
  "modules.json",
  "model.safetensors",
  "model.safetensors.index.json",
  "model-*.safetensors",
  "*Dense*/config.json",
  "*Dense*/model.safetensors",
] as const;

/** One model the store holds: a vLLM checkpoint or a TEI encoder. */
export interface SyncedModel {
  readonly key: string;
  readonly kind: "llm" | "encoder";
  readonly hfRepo: string;
  readonly revision: string;
  readonly weightsGiB: number;
  readonly tiktokenEncodings?: readonly TiktokenEncodingName[];
}

export function syncedLlm(key: string, model: LlmModel, revision: string): SyncedModel {
  return { key, kind: "llm", hfRepo: model.hfRepo, revision, weightsGiB: model.weightsGiB, ...(model.tiktokenEncodings ? { tiktokenEncodings: model.tiktokenEncodings } : {}) };
}

export function syncedEncoder(model: EncoderModel): SyncedModel {
  return { key: model.key, kind: "encoder", hfRepo: model.hfRepo, revision: model.revision, weightsGiB: model.weightsGiB };
}

/** A Hugging Face commit id (40 hex digits); anything else is a branch or tag that moves. */
export const COMMIT_ID = /^[0-9a-f]{40}$/;

/**
 * Where a model's files live: <repo>/<revision>/. For a commit id (what prod requires) that is the
 * commit the sync Job resolved, checked and recorded; the model servers read the same prefix.
 */
export function weightsPrefix(model: { readonly hfRepo: string }, revision: string): string {
  return `${model.hfRepo}/${revision}/`;
}

/** s3 key of the record of the commit a revision resolved to (the Hub cache's refs/<revision> convention). */
export function commitRecordKey(model: { readonly hfRepo: string }, revision: string): string {
  return `${model.hfRepo}/refs/${revision}`;
}

/** Maps an Input without wrapping plain values (so pure builders stay plain for plain inputs). */
export function mapInput<T, U>(x: pulumi.Input<T>, f: (v: T) => U): pulumi.Input<U> {
  return pulumi.Output.isInstance(x) || x instanceof Promise ? pulumi.output(x).apply((v) => f(v as T)) : f(x);
}

export function weightsUri(bucket: pulumi.Input<string>, model: { readonly hfRepo: string }, revision: string): pulumi.Input<string> {
  return mapInput(bucket, (b) => `s3://${b}/${weightsPrefix(model, revision)}`);
}

/** s3://<bucket>/<repo>/<revision>/tiktoken/: the encodings beside the weights. */
export function tiktokenUri(bucket: pulumi.Input<string>, model: { readonly hfRepo: string }, revision: string): pulumi.Input<string> {
  return mapInput(bucket, (b) => `s3://${b}/${weightsPrefix(model, revision)}${TIKTOKEN_DIR}/`);
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

/**
 * The download step, run with the vLLM image (it ships huggingface_hub):
 * - LLMs: the whole repository but its duplicate original/ and metal/ checkpoints; then each
 *   tiktoken encoding from its public URL into tiktoken/, refused unless its SHA-256 is the one
 *   openai_harmony checks (it verifies the hash of files under TIKTOKEN_ENCODINGS_BASE too).
 * - Encoders: only the files TEI reads (TEI_MODEL_FILES).
 */
export function downloadScript(m: SyncedModel): string {
  const select = m.kind === "llm" ? `ignore_patterns=${JSON.stringify(["original/*", "metal/*"])}` : `allow_patterns=${JSON.stringify(TEI_MODEL_FILES)}`;
  const lines = [
    "from huggingface_hub import HfApi, snapshot_download",
    // huggingface_hub hf_api.py: HfApi.model_info(repo_id, revision=...) -> ModelInfo, whose `sha`
    // is the commit the revision points at. Download that commit, not the branch, so the files are
    // one commit even if the branch moves mid-download; a configured commit must resolve to itself.
    `commit = HfApi().model_info(${JSON.stringify(m.hfRepo)}, revision=${JSON.stringify(m.revision)}).sha`,
    ...(COMMIT_ID.test(m.revision) ? [`assert commit == ${JSON.stringify(m.revision)}, "revision ${m.revision} resolved to " + str(commit)`] : []),
    `snapshot_download(repo_id=${JSON.stringify(m.hfRepo)}, revision=commit, local_dir="/weights", ${select})`,
    // The record the upload step writes to <repo>/refs/<revision>; outside /weights so it is not synced with the files.
    `open("/record/commit", "w").write(commit)`,
    `print("${m.hfRepo}@${m.revision} resolved to commit " + commit)`,
  ];
  const encodings = m.tiktokenEncodings ?? [];
  if (encodings.length) {
    lines.push(
      "import hashlib, os, urllib.request",
      `os.makedirs("/weights/${TIKTOKEN_DIR}", exist_ok=True)`,
      ...encodings.map((e) => {
        const t = TIKTOKEN_ENCODINGS[e];
        return [
          `data = urllib.request.urlopen(${JSON.stringify(t.url)}, timeout=120).read()`,
          `assert hashlib.sha256(data).hexdigest() == ${JSON.stringify(t.sha256)}, ${JSON.stringify(`${t.file}: SHA-256 mismatch`)}`,
          `open("/weights/${TIKTOKEN_DIR}/${t.file}", "wb").write(data)`,
        ].join("\n");
      }),
    );
  }
  return lines.join("\n");
}

export interface SyncJobSpec {
  readonly model: SyncedModel;
  readonly bucket: pulumi.Input<string>;
  readonly namespace: string;
  readonly region: string;
}

/** The vLLM and aws-cli images run as root and write caches under $HOME (no non-root user in either image). */
const ROOT_IMAGES: Hardening = {
  root: { why: "vllm/vllm-openai and amazon/aws-cli define no non-root user; the inference and embeddings namespaces are baseline" },
  writableRootFilesystem: { why: "huggingface_hub and the AWS CLI write caches under $HOME" },
};

export function syncJob(s: SyncJobSpec): k8s.batch.v1.JobArgs {
  const m = s.model;
  const name = syncJobName(m.key, m.revision);
  const scratchGi = Math.ceil(m.weightsGiB * 1.3) + 5;
  const labels = { ...recommendedLabels(name, SYNC_COMPONENT), ...SYNC_POD_LABELS, "llm-platform.io/model": m.key };
  return {
    metadata: {
      name,
      namespace: s.namespace,
      labels,
      // pulumi up waits for the sync (the model servers and TEI depend on it).
      annotations: { "pulumi.com/timeoutSeconds": "7200" },
    },
    spec: {
      backoffLimit: 3,
      activeDeadlineSeconds: 7200,
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: SYNC_SA,
          restartPolicy: "OnFailure",
          // The system nodes, or Karpenter's CPU pool when they are full (dev packs TEI beside
          // them): a re-sync must not wait for room that never comes.
          affinity: { nodeAffinity: cpuNodeAffinity() },
          securityContext: podSecurityContext(ROOT_IMAGES),
          initContainers: [
            {
              name: "download",
              image: imageRef(IMAGES.vllm),
              command: ["python3", "-c", downloadScript(m)],
              env: [
                { name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: HF_TOKEN_SECRET, key: "token" } } },
                { name: "HF_HUB_DISABLE_TELEMETRY", value: "1" },
              ],
              resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
              securityContext: containerSecurityContext(ROOT_IMAGES),
              volumeMounts: [
                { name: "weights", mountPath: "/weights" },
                { name: "record", mountPath: "/record" },
              ],
            },
          ],
          containers: [
            {
              name: "upload",
              image: imageRef(IMAGES.awsCli),
              // The image's entrypoint is `aws`; a shell runs the two steps: the files (with --delete,
              // so the prefix holds exactly the resolved commit), then the record of that commit.
              command: ["/bin/sh", "-c"],
              args: [
                mapInput(s.bucket, (b) =>
                  [
                    `aws s3 sync /weights s3://${b}/${weightsPrefix(m, m.revision)} --only-show-errors --delete --exclude '.cache/*'`,
                    `aws s3 cp /record/commit s3://${b}/${commitRecordKey(m, m.revision)} --only-show-errors`,
                  ].join(" && "),
                ),
              ],
              env: awsCliEnv(s.region),
              resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
              securityContext: containerSecurityContext(ROOT_IMAGES),
              volumeMounts: [
                { name: "weights", mountPath: "/weights", readOnly: true },
                { name: "record", mountPath: "/record", readOnly: true },
              ],
            },
          ],
          volumes: [
            {
              name: "weights",
              ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], storageClassName: "gp3", resources: { requests: { storage: `${scratchGi}Gi` } } } } },
            },
            { name: "record", emptyDir: { sizeLimit: "1Mi" } },
          ],
        },
      },
    },
  };
}

/**
 * The AWS CLI's region, and S3's regional endpoint name even in us-east-1 (botocore
 * `s3_us_east_1_regional_endpoint`): the interface endpoint's private DNS answers for
 * `*.s3.<region>.amazonaws.com`, not for the global `s3.amazonaws.com`.
 */
export function awsCliEnv(region: string): { name: string; value: string }[] {
  return [
    { name: "AWS_REGION", value: region },
    { name: "AWS_S3_US_EAST_1_REGIONAL_ENDPOINT", value: "regional" },
  ];
}

export interface S3FetchSpec {
  /** The container name. */
  readonly name: string;
  /** s3://... prefix to copy. */
  readonly source: pulumi.Input<string>;
  /** Directory in the emptyDir volume. */
  readonly target: string;
  readonly volume: string;
  readonly mountPath: string;
  readonly region: string;
}

/**
 * An init container that copies an S3 prefix into a pod volume with the pinned AWS CLI, through the
 * pod's read-only Pod Identity role (the CLI reads the agent's credentials:
 * AWS_CONTAINER_CREDENTIALS_FULL_URI, injected by the Pod Identity webhook). S3 is reached through
 * the VPC's gateway endpoint (components/network.ts); nothing here leaves AWS.
 */
export function s3FetchContainer(s: S3FetchSpec): k8s.types.input.core.v1.Container {
  return {
    name: s.name,
    image: imageRef(IMAGES.awsCli),
    args: ["s3", "sync", s.source, s.target, "--only-show-errors"],
    env: [...awsCliEnv(s.region), { name: "AWS_DEFAULT_REGION", value: s.region }],
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    securityContext: containerSecurityContext(ROOT_IMAGES),
    volumeMounts: [{ name: s.volume, mountPath: s.mountPath }],
  };
}

export interface WeightsReader {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly description: string;
}

export interface WeightsStoreArgs {
  readonly clusterName: string;
  readonly region: string;
  /** Where the sync Jobs run (with the HF token ExternalSecret). */
  readonly namespace: string;
  readonly versioning: boolean;
  /** The models whose files live in S3. */
  readonly models: readonly SyncedModel[];
  /** Service accounts that read the bucket; the first keeps the original resource name. */
  readonly readers: readonly WeightsReader[];
  readonly k8sProvider: k8s.Provider;
  /** The namespace and the HF token ExternalSecret. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class WeightsStore extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  /** The sync Job per model key. */
  public readonly syncJobs: Readonly<Record<string, k8s.batch.v1.Job>>;
  /** The reader role's Pod Identity association per reading namespace. */
  public readonly readerAssociations: Readonly<Record<string, aws.eks.PodIdentityAssociation>>;

  constructor(name: string, args: WeightsStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:serving:WeightsStore", name, {}, opts);
    const child = { parent: this };
    const account = aws.getCallerIdentityOutput({}, child);
    const bucket = new PrivateBucket(`${name}-bucket`, { bucketName: pulumi.interpolate`${args.clusterName}-model-weights-${account.accountId}`, versioning: args.versioning }, child);
    this.bucketName = bucket.name;

    const readers: Record<string, aws.eks.PodIdentityAssociation> = {};
    args.readers.forEach((r, i) => {
      const role = podIdentityRole(
        i === 0 ? `${name}-reader` : `${name}-reader-${r.namespace}`,
        { clusterName: args.clusterName, namespace: r.namespace, serviceAccount: r.serviceAccount, policy: bucket.arn.apply(readerPolicy), description: r.description },
        child,
      );
      readers[r.namespace] = role.association;
    });
    this.readerAssociations = readers;
    const writer = podIdentityRole(
      `${name}-writer`,
      { clusterName: args.clusterName, namespace: args.namespace, serviceAccount: SYNC_SA, policy: bucket.arn.apply(writerPolicy), description: "Weights sync Job: write model weights" },
      child,
    );

    const k8sOpts = { parent: this, provider: args.k8sProvider };
    const sa = new k8s.core.v1.ServiceAccount(`${name}-sync-sa`, { metadata: { name: SYNC_SA, namespace: args.namespace, labels: recommendedLabels(SYNC_SA, SYNC_COMPONENT) } }, { ...k8sOpts, dependsOn: args.dependsOn });
    const jobs: Record<string, k8s.batch.v1.Job> = {};
    for (const m of args.models) {
      jobs[m.key] = new k8s.batch.v1.Job(`${name}-sync-${m.key}`, syncJob({ model: m, bucket: bucket.name, namespace: args.namespace, region: args.region }), {
        ...k8sOpts,
        dependsOn: [sa, writer.association, ...args.dependsOn],
        customTimeouts: { create: "2h" },
      });
    }
    this.syncJobs = jobs;
    this.registerOutputs({ bucketName: this.bucketName });
  }
}
