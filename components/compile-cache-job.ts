/**
 * The compile-cache producer (config `warmStart.compileCache.produce`, off by default): one Job per
 * model server with S3 weights, for the server's current key (components/compile-cache.ts). It
 * starts vLLM with the served arguments on the model's GPU, waits for /health within the startup
 * budget, stops it and uploads the caches it wrote to `s3://<weights bucket>/compile-cache/<key>/`.
 * It runs as the weights sync service account (write access to the weights bucket through Pod
 * Identity) and reaches only the AWS APIs (`compileCacheFlows`). The Job name carries the key, so a
 * pin change is a new Job; Pulumi does not wait for it (pulumi.com/skipAwait).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { startupProbeBudgetSeconds } from "../infra/coldstart";
import { IMAGES, imageRef } from "../infra/catalog/versions";
import type { PlatformConfig } from "../infra/config";
import { COMPILE_CACHE_COMPONENT, COMPILE_CACHE_MOUNT, COMPILE_CACHE_VOLUME, compileCacheEnv, compileCacheKeyFor, compileCacheUri, compileCacheVolume } from "./compile-cache";
import { awsAccessFlows, type Flow, type Peers, type PodPeer } from "./flows";
import { recommendedLabels } from "./labels";
import { modelNodeAffinity, resourcesFor, shmSizeGi, smallestInstance, tiktokenFromS3, TIKTOKEN_MOUNT, vllmArgs, VLLM_HARDENING, type ModelServerSpec } from "./model-server";
import { NAMESPACES } from "./namespaces";
import { GPU_TAINT } from "./node-groups";
import { PORTS } from "./network-security";
import { containerSecurityContext, podSecurityContext } from "./pod-security";
import { awsCliEnv, s3FetchContainer, SYNC_SA } from "./weights";

export const COMPILE_CACHE_POD_LABELS = { "app.kubernetes.io/component": COMPILE_CACHE_COMPONENT } as const;

/** The Job name carries the key, so a pin change is a new Job. */
export function compileCacheJobName(modelKey: string, cacheKey: string): string {
  return `compile-cache-${modelKey}-${cacheKey.slice(0, 10)}`;
}

/**
 * Starts `vllm serve` with the served arguments, waits for /health within the startup budget,
 * then stops it: the caches it wrote stay on the shared volume for the upload.
 */
export function warmUpScript(budgetSeconds: number): string {
  return [
    "import subprocess, sys, time, urllib.request",
    'p = subprocess.Popen(["vllm", "serve", *sys.argv[1:]])',
    `deadline = time.time() + ${budgetSeconds}`,
    "while time.time() < deadline:",
    "    if p.poll() is not None:",
    "        sys.exit(p.returncode or 1)",
    "    try:",
    `        if urllib.request.urlopen("http://127.0.0.1:${PORTS.vllm}/health", timeout=5).status == 200:`,
    "            p.terminate()",
    "            p.wait(120)",
    "            sys.exit(0)",
    "    except Exception:",
    "        pass",
    "    time.sleep(5)",
    "p.kill()",
    "sys.exit(1)",
  ].join("\n");
}

/** The producer Job for one model server's key. Needs S3 weights (it streams them like the server). */
export function compileCacheJob(s: ModelServerSpec, bucket: pulumi.Input<string>): k8s.batch.v1.JobArgs {
  const key = compileCacheKeyFor(s);
  const name = compileCacheJobName(s.key, key);
  const labels = { ...recommendedLabels(name, COMPILE_CACHE_COMPONENT), ...COMPILE_CACHE_POD_LABELS, "llm-platform.io/model": s.key };
  const budget = startupProbeBudgetSeconds(s.key, { instanceType: smallestInstance(s.pool).name, tensorParallelSize: s.cfg.tensorParallelSize }, { weightsSource: s.cfg.weights.source });
  const tiktoken = tiktokenFromS3(s);
  const resources = resourcesFor(s.pool, s.cfg.tensorParallelSize);
  return {
    metadata: { name, namespace: s.namespace, labels, annotations: { "pulumi.com/skipAwait": "true" } },
    spec: {
      backoffLimit: 2,
      activeDeadlineSeconds: 3600,
      ttlSecondsAfterFinished: 86400,
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: SYNC_SA,
          restartPolicy: "Never",
          affinity: { nodeAffinity: modelNodeAffinity(s.poolName, s.pool, s.cfg.tensorParallelSize) },
          tolerations: [{ key: GPU_TAINT.key, operator: "Exists", effect: "NoSchedule" }],
          securityContext: podSecurityContext(VLLM_HARDENING),
          initContainers: [
            ...(tiktoken ? [s3FetchContainer({ name: "tiktoken", source: s.tiktokenUri!, target: TIKTOKEN_MOUNT, volume: "tiktoken", mountPath: TIKTOKEN_MOUNT, region: s.region })] : []),
            {
              name: "warm-up",
              image: imageRef(IMAGES.vllm),
              command: ["python3", "-c", warmUpScript(budget), ...vllmArgs(s).map((a) => a)],
              env: [
                ...compileCacheEnv(),
                { name: "AWS_REGION", value: s.region },
                { name: "AWS_DEFAULT_REGION", value: s.region },
                { name: "HF_HUB_OFFLINE", value: "1" },
                { name: "VLLM_NO_USAGE_STATS", value: "1" },
                ...(tiktoken ? [{ name: "TIKTOKEN_ENCODINGS_BASE", value: TIKTOKEN_MOUNT }] : []),
              ],
              resources,
              securityContext: containerSecurityContext(VLLM_HARDENING),
              volumeMounts: [
                { name: "dshm", mountPath: "/dev/shm" },
                { name: COMPILE_CACHE_VOLUME, mountPath: COMPILE_CACHE_MOUNT },
                ...(tiktoken ? [{ name: "tiktoken", mountPath: TIKTOKEN_MOUNT, readOnly: true }] : []),
              ],
            },
          ],
          containers: [
            {
              name: "upload",
              image: imageRef(IMAGES.awsCli),
              args: ["s3", "sync", COMPILE_CACHE_MOUNT, compileCacheUri(bucket, key), "--only-show-errors"],
              env: [...awsCliEnv(s.region), { name: "AWS_DEFAULT_REGION", value: s.region }],
              resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
              securityContext: containerSecurityContext(VLLM_HARDENING),
              volumeMounts: [{ name: COMPILE_CACHE_VOLUME, mountPath: COMPILE_CACHE_MOUNT, readOnly: true }],
            },
          ],
          volumes: [
            { name: "dshm", emptyDir: { medium: "Memory", sizeLimit: `${shmSizeGi(s.cfg.tensorParallelSize)}Gi` } },
            compileCacheVolume(),
            ...(tiktoken ? [{ name: "tiktoken", emptyDir: { sizeLimit: "64Mi" } }] : []),
          ],
        },
      },
    },
  };
}

/** The producer Jobs' flows: the AWS APIs only (S3 for the weights and the upload). */
export function compileCacheFlows(c: Pick<PlatformConfig, "models" | "warmStart">, p: Peers): Flow[] {
  const produces = c.warmStart.compileCache.enabled && c.warmStart.compileCache.produce && Object.values(c.models).some((m) => m?.weights.source === "s3");
  if (!produces) return [];
  const from: PodPeer = { namespace: NAMESPACES.inference.name, pods: { ...COMPILE_CACHE_POD_LABELS } };
  return awsAccessFlows("compile-cache-jobs", from, p, "the compile-cache producer Jobs stream the weights and upload the caches to the weights bucket");
}

export interface CompileCacheProducerArgs {
  readonly specs: readonly ModelServerSpec[];
  readonly bucket: pulumi.Input<string>;
  readonly k8sProvider: k8s.Provider;
  /** The namespace, the weights sync (its service account and writer role) and the GPU runtime. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** One producer Job per model server with S3 weights. */
export class CompileCacheProducer extends pulumi.ComponentResource {
  public readonly jobs: Readonly<Record<string, k8s.batch.v1.Job>>;

  constructor(name: string, args: CompileCacheProducerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:serving:CompileCacheProducer", name, {}, opts);
    const jobs: Record<string, k8s.batch.v1.Job> = {};
    for (const s of args.specs.filter((x) => x.cfg.weights.source === "s3")) {
      jobs[s.key] = new k8s.batch.v1.Job(`${name}-${s.key}`, compileCacheJob(s, args.bucket), { parent: this, provider: args.k8sProvider, dependsOn: args.dependsOn });
    }
    this.jobs = jobs;
    this.registerOutputs({});
  }
}
