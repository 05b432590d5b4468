/**
 * LoadTest: benchmark Jobs generated from the models' SLOs (`loadTest.enabled`, off by default;
 * docs/capacity.md "Calibrating with load tests", docs/runbooks.md).
 *
 * One Job per model, in the inference namespace, with the pinned load generator inference-perf
 * (IMAGES.inferencePerf; its config format, CLI and reports read at kubernetes-sigs/inference-perf
 * v0.6.1: docs/config.md, inference_perf/config/**, inference_perf/reportgen/base.py). Its steps
 * run one after the other as init containers, so the two runs never load the model together:
 * 1. `tokenizer`: the AWS CLI copies the model's tokenizer files (JSON and the chat template, not
 *    the checkpoint) from the weights bucket: inference-perf needs a tokenizer for `random` data
 *    (inference_perf/main.py) and would otherwise download it from the Hub.
 * 2. `direct`: inference-perf against the model's vLLM Service, with the vLLM API key.
 * 3. `gateway`: the same sweep through the LiteLLM gateway, with a gateway key from Vault, so the
 *    gateway's overhead is measured at equal concurrency, not assumed.
 * 4. `assemble`: a small script (in the ConfigMap) folds both runs' per-stage reports and the run's
 *    metadata (GPU, instance types, tensor-parallel size, images: from the Job's env) into
 *    result.json, the file `npm run capacity:calibrate` reads.
 * Then the `upload` container writes everything to s3://<weights bucket>/load-tests/<runId>/<model>/.
 *
 * The sweep comes from `models.<k>.slo`: the per-replica share of the throughput SLO over the
 * per-stream rate the latency SLO allows gives the concurrency at the SLO; the stages bracket it
 * (loadTestSweep). Requests are concurrency-driven (`load.type: concurrent`), so every stage report
 * carries `load_summary.concurrency`, the ThroughputPoint's concurrency.
 *
 * Under Istio the pods are meshed (the inference namespace): the Envoy sidecar is asked as a native
 * sidecar (`sidecar.istio.io/nativeSidecar: "true"`, Istio >= 1.24 per-pod annotation; the default
 * since 1.27), which starts before the init containers and stops when the pod's containers are
 * done, so the Job completes.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { stringify } from "yaml";
import { MODELS, type LlmModelKey } from "../infra/catalog/models";
import { IMAGES, imageRef } from "../infra/catalog/versions";
import type { ModelConfig, PlatformConfig } from "../infra/config";
import { awsAccessFlows, flow, tcp, type Flow, type Peers, type PodPeer } from "./flows";
import { GATEWAY_NS, GATEWAY_PODS, GATEWAY_PORT, GATEWAY_RELEASE } from "./gateway";
import { policyDocument } from "./iam";
import { recommendedLabels } from "./labels";
import { API_KEY_SECRET, deploymentName } from "./model-server";
import { NAMESPACES } from "./namespaces";
import { PORTS, WORKLOAD } from "./network-security";
import { cpuNodeAffinity, gpuOf } from "./node-groups";
import { containerSecurityContext, podSecurityContext } from "./pod-security";
import { parseVaultRef, Secrets } from "./secrets";
import { awsCliEnv, weightsPrefix } from "./weights";
import { podIdentityRole } from "./workload-identity";

export const LOAD_TEST_NAMESPACE = NAMESPACES.inference.name;
export const LOAD_TEST_SA = "load-test";
export const LOAD_TEST_COMPONENT = "load-test";
/** The Jobs' pods, and no other pod, carry this label (their flows select it). */
export const LOAD_TEST_POD_LABELS = { "app.kubernetes.io/component": LOAD_TEST_COMPONENT } as const;
export const LOAD_TEST_GATEWAY_SECRET = "load-test-gateway-key";
/** The results' prefix in the weights bucket. */
export const RESULTS_PREFIX = "load-tests";
/** The Istio principal of the Jobs' pods (the inference AuthorizationPolicy must admit it for the direct run). */
export const LOAD_TEST_PRINCIPAL = `cluster.local/ns/${LOAD_TEST_NAMESPACE}/sa/${LOAD_TEST_SA}`;
/** The distroless-style non-root uid the Jobs run as (the inference-perf and AWS CLI images define no user; neither needs root). */
const UID = 65532;

type LoadTestConfig = PlatformConfig["loadTest"];

export interface SweepStage {
  readonly concurrency: number;
  readonly numRequests: number;
}

export interface Sweep {
  readonly stages: readonly SweepStage[];
  /** The concurrency the SLO implies for one replica (undefined without a throughput SLO). */
  readonly sloConcurrency?: number;
  /** How the stages were derived, for the run's metadata and the docs. */
  readonly basis: string;
}

/**
 * The concurrency sweep of one model, from its SLO:
 * - the stream rate one request may have at the SLO: outputTokens over the decode time the
 *   latency SLO leaves, (e2eP95Ms - ttftP95Ms);
 * - the per-replica target: throughputTokensPerSecond / replicas.max (what each replica must
 *   sustain at full scale);
 * - the SLO concurrency c = ceil(target / stream rate); the stages are 1, c/4, c/2, c, 2c (at most
 *   maxNumSeqs, the most vLLM batches), so the point where latency breaks is inside the sweep.
 * Without a throughput SLO: 1, 2, 4, ... up to maxNumSeqs. At most `maxStages` stages (the lowest
 * dropped first, stage 1 kept). Each stage sends enough requests for about `stageSeconds` at the
 * SLO's e2e latency: ceil(stageSeconds * concurrency / (e2eP95Ms / 1000)), at least 4 per stream.
 */
export function loadTestSweep(m: ModelConfig, lt: Pick<LoadTestConfig, "outputTokens" | "stageSeconds" | "maxStages">): Sweep {
  const slo = m.slo;
  const decodeSeconds = Math.max(0.001, (slo.e2eP95Ms - slo.ttftP95Ms) / 1000);
  const streamRate = lt.outputTokens / decodeSeconds;
  const cap = m.maxNumSeqs;
  let levels: number[];
  let sloConcurrency: number | undefined;
  let basis: string;
  if (slo.throughputTokensPerSecond !== undefined) {
    const perReplica = slo.throughputTokensPerSecond / Math.max(1, m.replicas.max);
    sloConcurrency = Math.min(cap, Math.max(1, Math.ceil(perReplica / streamRate)));
    const c = sloConcurrency;
    levels = [1, Math.ceil(c / 4), Math.ceil(c / 2), c, 2 * c];
    basis = `throughput SLO ${slo.throughputTokensPerSecond} tok/s / replicas.max ${m.replicas.max} = ${round(perReplica)} tok/s per replica; ${lt.outputTokens} output tokens in (e2eP95Ms ${slo.e2eP95Ms} - ttftP95Ms ${slo.ttftP95Ms}) ms = ${round(streamRate)} tok/s per stream; concurrency at the SLO ${c}`;
  } else {
    levels = [];
    for (let c = 1; c <= cap; c *= 2) levels.push(c);
    basis = `no throughput SLO: powers of 2 up to maxNumSeqs ${cap}`;
  }
  const uniq = [...new Set(levels.map((c) => Math.min(cap, Math.max(1, c))))].sort((a, b) => a - b);
  while (uniq.length > lt.maxStages) uniq.splice(1, 1);
  const e2eSeconds = slo.e2eP95Ms / 1000;
  const stages = uniq.map((concurrency) => ({ concurrency, numRequests: Math.max(4 * concurrency, Math.ceil((lt.stageSeconds * concurrency) / e2eSeconds)) }));
  return { stages, ...(sloConcurrency !== undefined ? { sloConcurrency } : {}), basis };
}

const round = (x: number) => Math.round(x * 10) / 10;

export type RunKind = "direct" | "gateway";
export const RUNS: readonly RunKind[] = ["direct", "gateway"];

/** Where each run sends its requests: the model's vLLM Service, or the gateway's Service. */
export function runTarget(key: string, run: RunKind): string {
  return run === "direct" ? `http://${deploymentName(key)}.${LOAD_TEST_NAMESPACE}.svc:${PORTS.vllm}` : `http://${GATEWAY_RELEASE}.${GATEWAY_NS}.svc:${GATEWAY_PORT}`;
}

export const TOKENIZER_DIR = "/tokenizer";
export const RESULTS_DIR = "/results";
export const CONFIG_DIR = "/config";

/**
 * The inference-perf config of one run (docs/config.md at v0.6.1): chat completions, streamed (for
 * TTFT and inter-token latency), fixed prompt and output lengths from the `random` generator with
 * the model's own tokenizer (from the bucket), concurrency stages, per-stage reports with p50/p90/
 * p95/p99, written to a local directory (uploaded by the Job's last container). The API key is not
 * here: each run passes it with `--server.api_key` from a Secret-backed variable.
 */
export function inferencePerfConfig(key: string, run: RunKind, sweep: Sweep, lt: Pick<LoadTestConfig, "inputTokens" | "outputTokens">): Record<string, unknown> {
  const total = sweep.stages.reduce((n, s) => n + s.numRequests, 0);
  const fixed = (n: number) => ({ min: n, max: n, mean: n, std_dev: 0, total_count: total });
  return {
    api: { type: "chat", streaming: true },
    server: {
      type: "vllm",
      model_name: key,
      base_url: runTarget(key, run),
      // The gateway may refuse vLLM-only sampling parameters; both runs leave EOS on and cap the
      // output with max_tokens, so they send the same requests (report: output_tokens_per_sec counts what came back).
      ignore_eos: false,
    },
    tokenizer: { pretrained_model_name_or_path: TOKENIZER_DIR },
    data: { type: "random", input_distribution: fixed(lt.inputTokens), output_distribution: fixed(lt.outputTokens) },
    load: {
      type: "concurrent",
      stages: sweep.stages.map((s) => ({ concurrency_level: s.concurrency, num_requests: s.numRequests })),
      // One worker process per CPU the container gets (LoadConfig.num_workers).
      num_workers: 2,
      worker_max_concurrency: Math.max(...sweep.stages.map((s) => s.concurrency)),
      base_seed: 14,
    },
    report: { request_lifecycle: { summary: true, per_stage: true, per_request: false, percentiles: [50, 90, 95, 99] } },
    storage: { local_storage: { path: `${RESULTS_DIR}/${run}` } },
  };
}

/**
 * The assemble step (python in the inference-perf image): the run's metadata from the Job's env,
 * and both runs' stage reports (stage_<N>_lifecycle_metrics.json, summary_lifecycle_metrics.json:
 * inference-perf reportgen/base.py `generate_reports`) into one result.json.
 */
export const ASSEMBLE_SCRIPT = `import glob, json, os, re, datetime
e = os.environ
def run(kind):
    d = os.path.join("${RESULTS_DIR}", kind)
    stages = []
    for f in glob.glob(os.path.join(d, "stage_*_lifecycle_metrics.json")):
        n = int(re.search(r"stage_(\\d+)_lifecycle_metrics\\.json$", f).group(1))
        stages.append({"stage": n, "report": json.load(open(f))})
    stages.sort(key=lambda s: s["stage"])
    s = os.path.join(d, "summary_lifecycle_metrics.json")
    return {"target": e["LOAD_TEST_TARGET_" + kind.upper()], "stages": stages, "summary": json.load(open(s)) if os.path.exists(s) else None}
out = {
    "schema": "llm-platform/load-test-result/v1",
    "tool": {"name": "inference-perf", "image": e["LOAD_TEST_IMAGE"]},
    "runId": e["LOAD_TEST_RUN_ID"],
    "model": e["LOAD_TEST_MODEL"],
    "gpu": e["LOAD_TEST_GPU"],
    "instanceTypes": e["LOAD_TEST_INSTANCE_TYPES"].split(","),
    "tensorParallelSize": int(e["LOAD_TEST_TP"]),
    "vllmImage": e["LOAD_TEST_VLLM_IMAGE"],
    "inputTokens": int(e["LOAD_TEST_INPUT_TOKENS"]),
    "outputTokens": int(e["LOAD_TEST_OUTPUT_TOKENS"]),
    "finishedAt": datetime.datetime.now(datetime.timezone.utc).isoformat(),
    "runs": {"direct": run("direct"), "gateway": run("gateway")},
}
json.dump(out, open(os.path.join("${RESULTS_DIR}", "result.json"), "w"), indent=2)
print("result.json:", len(out["runs"]["direct"]["stages"]), "direct stages,", len(out["runs"]["gateway"]["stages"]), "gateway stages")
`;

export interface LoadTestModel {
  readonly key: LlmModelKey;
  readonly cfg: ModelConfig;
  readonly pool: PlatformConfig["gpuPools"][string];
}

/** The models of a stack, with their pools. */
export function loadTestModels(c: Pick<PlatformConfig, "models" | "gpuPools">): LoadTestModel[] {
  return (Object.entries(c.models) as [LlmModelKey, ModelConfig][]).map(([key, cfg]) => ({ key, cfg, pool: c.gpuPools[cfg.pool]! }));
}

export function configMapName(key: string): string {
  return `load-test-${key}`;
}

/** The ConfigMap of one model's Job: both runs' inference-perf configs and the assemble script. */
export function loadTestConfigMap(m: LoadTestModel, lt: LoadTestConfig): k8s.core.v1.ConfigMapArgs {
  const sweep = loadTestSweep(m.cfg, lt);
  return {
    metadata: { name: configMapName(m.key), namespace: LOAD_TEST_NAMESPACE, labels: { ...recommendedLabels(configMapName(m.key), LOAD_TEST_COMPONENT), "llm-platform.io/model": m.key } },
    data: {
      "direct.yaml": stringify(inferencePerfConfig(m.key, "direct", sweep, lt)),
      "gateway.yaml": stringify(inferencePerfConfig(m.key, "gateway", sweep, lt)),
      "assemble.py": ASSEMBLE_SCRIPT,
    },
  };
}

/** The run id: `loadTest.runId`, or a hash of everything that makes the benchmark (configs, images, metadata). */
export function loadTestRunId(c: Pick<PlatformConfig, "models" | "gpuPools" | "loadTest">): string {
  if (c.loadTest.runId) return c.loadTest.runId;
  const h = createHash("sha256");
  for (const m of loadTestModels(c)) h.update(JSON.stringify([m.key, loadTestConfigMap(m, c.loadTest).data, runMetadata(m)]));
  h.update(imageRef(IMAGES.inferencePerf));
  return h.digest("hex").slice(0, 10);
}

export function loadTestJobName(key: string, runId: string): string {
  return `load-test-${key}-${runId}`;
}

/** s3://<bucket>/load-tests/<runId>/<model>/ */
export function resultsUri(bucket: pulumi.Input<string>, runId: string, key: string): pulumi.Input<string> {
  return pulumi.Output.isInstance(bucket) ? pulumi.interpolate`s3://${bucket}/${RESULTS_PREFIX}/${runId}/${key}/` : `s3://${bucket as string}/${RESULTS_PREFIX}/${runId}/${key}/`;
}

/** What the result file records about the serving side, known from config (the Job cannot see the GPU nodes). */
export function runMetadata(m: LoadTestModel): { gpu: string; instanceTypes: string[]; tensorParallelSize: number; vllmImage: string } {
  return { gpu: gpuOf(m.pool).gpu!.model, instanceTypes: [...m.pool.instanceTypes], tensorParallelSize: m.cfg.tensorParallelSize, vllmImage: imageRef(IMAGES.vllm) };
}

export interface LoadTestJobSpec {
  readonly model: LoadTestModel;
  readonly config: LoadTestConfig;
  readonly runId: string;
  readonly bucket: pulumi.Input<string>;
  readonly region: string;
  readonly istio: boolean;
}

export function loadTestJob(s: LoadTestJobSpec): k8s.batch.v1.JobArgs {
  const { model: m, config: lt } = s;
  const name = loadTestJobName(m.key, s.runId);
  const labels = { ...recommendedLabels(name, LOAD_TEST_COMPONENT), ...LOAD_TEST_POD_LABELS, "llm-platform.io/model": m.key };
  const md = runMetadata(m);
  const hardening = { runAsUser: UID, runAsGroup: UID };
  const common = [
    { name: "HOME", value: "/tmp" },
    { name: "TMPDIR", value: "/tmp" },
  ];
  const mounts = [
    { name: "tmp", mountPath: "/tmp" },
    { name: "results", mountPath: RESULTS_DIR },
  ];
  const perf = (run: RunKind, keyVar: string, keySecret: string): k8s.types.input.core.v1.Container => ({
    name: run,
    image: imageRef(IMAGES.inferencePerf),
    // The image's own entry (Dockerfile CMD: python inference_perf/main.py --config_file ...);
    // `--server.api_key` is one of the dotted overrides main.py builds from the Config schema
    // (docs/cli_flags.md); Kubernetes expands $(VAR) from the container's env, so the key is never in the spec.
    command: ["python", "/workspace/inference_perf/main.py", "--config_file", `${CONFIG_DIR}/${run}.yaml`, "--server.api_key", `$(${keyVar})`],
    env: [
      ...common,
      { name: keyVar, valueFrom: { secretKeyRef: { name: keySecret, key: "api-key" } } },
      { name: "HF_HOME", value: "/tmp/hf" },
      { name: "HF_HUB_OFFLINE", value: "1" },
      { name: "PYTHONDONTWRITEBYTECODE", value: "1" },
    ],
    resources: { requests: { cpu: "2", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
    securityContext: containerSecurityContext(hardening),
    volumeMounts: [...mounts, { name: "config", mountPath: CONFIG_DIR, readOnly: true }, { name: "tokenizer", mountPath: TOKENIZER_DIR, readOnly: true }],
  });
  const tokenizerSource = mapBucket(s.bucket, (b) => `s3://${b}/${weightsPrefix(MODELS[m.key], m.cfg.weights.revision)}`);
  return {
    metadata: {
      name,
      namespace: LOAD_TEST_NAMESPACE,
      labels,
      // A load test takes as long as its sweep: `pulumi up` does not wait for it (its result is in S3).
      annotations: { "pulumi.com/skipAwait": "true" },
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: 4 * 3600,
      ttlSecondsAfterFinished: 7 * 24 * 3600,
      template: {
        metadata: { labels, ...(s.istio ? { annotations: { "sidecar.istio.io/nativeSidecar": "true" } } : {}) },
        spec: {
          serviceAccountName: LOAD_TEST_SA,
          restartPolicy: "Never",
          affinity: { nodeAffinity: cpuNodeAffinity() },
          securityContext: podSecurityContext({ ...hardening, fsGroup: UID }),
          initContainers: [
            {
              name: "tokenizer",
              image: imageRef(IMAGES.awsCli),
              // Only the tokenizer and config files (JSON, the chat template): not the checkpoint.
              args: ["s3", "cp", tokenizerSource, TOKENIZER_DIR, "--recursive", "--only-show-errors", "--exclude", "*", "--include", "*.json", "--include", "*.jinja", "--exclude", "*/*"],
              env: [...common, ...awsCliEnv(s.region), { name: "AWS_DEFAULT_REGION", value: s.region }],
              resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
              securityContext: containerSecurityContext(hardening),
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }, { name: "tokenizer", mountPath: TOKENIZER_DIR }],
            },
            perf("direct", "VLLM_API_KEY", API_KEY_SECRET),
            perf("gateway", "GATEWAY_API_KEY", LOAD_TEST_GATEWAY_SECRET),
            {
              name: "assemble",
              image: imageRef(IMAGES.inferencePerf),
              command: ["python", `${CONFIG_DIR}/assemble.py`],
              env: [
                ...common,
                { name: "PYTHONDONTWRITEBYTECODE", value: "1" },
                { name: "LOAD_TEST_RUN_ID", value: s.runId },
                { name: "LOAD_TEST_MODEL", value: m.key },
                { name: "LOAD_TEST_GPU", value: md.gpu },
                { name: "LOAD_TEST_INSTANCE_TYPES", value: md.instanceTypes.join(",") },
                { name: "LOAD_TEST_TP", value: String(md.tensorParallelSize) },
                { name: "LOAD_TEST_VLLM_IMAGE", value: md.vllmImage },
                { name: "LOAD_TEST_IMAGE", value: imageRef(IMAGES.inferencePerf) },
                { name: "LOAD_TEST_INPUT_TOKENS", value: String(lt.inputTokens) },
                { name: "LOAD_TEST_OUTPUT_TOKENS", value: String(lt.outputTokens) },
                { name: "LOAD_TEST_TARGET_DIRECT", value: runTarget(m.key, "direct") },
                { name: "LOAD_TEST_TARGET_GATEWAY", value: runTarget(m.key, "gateway") },
              ],
              resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
              securityContext: containerSecurityContext(hardening),
              volumeMounts: [...mounts, { name: "config", mountPath: CONFIG_DIR, readOnly: true }],
            },
          ],
          containers: [
            {
              name: "upload",
              image: imageRef(IMAGES.awsCli),
              args: ["s3", "sync", RESULTS_DIR, resultsUri(s.bucket, s.runId, m.key), "--only-show-errors"],
              env: [...common, ...awsCliEnv(s.region), { name: "AWS_DEFAULT_REGION", value: s.region }],
              resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
              securityContext: containerSecurityContext(hardening),
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }, { name: "results", mountPath: RESULTS_DIR, readOnly: true }],
            },
          ],
          volumes: [
            { name: "config", configMap: { name: configMapName(m.key) } },
            { name: "tokenizer", emptyDir: { sizeLimit: "256Mi" } },
            { name: "results", emptyDir: { sizeLimit: "1Gi" } },
            { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
          ],
        },
      },
    },
  };
}

function mapBucket(b: pulumi.Input<string>, f: (b: string) => string): pulumi.Input<string> {
  return pulumi.Output.isInstance(b) ? b.apply(f) : f(b as string);
}

/**
 * The Jobs' S3 access: read the tested models' tokenizer files (their weights prefixes), write
 * results under load-tests/ only. Nothing else in the bucket is writable by them.
 */
export function loadTestPolicy(bucketArn: string, models: readonly LoadTestModel[]): string {
  const prefixes = models.map((m) => weightsPrefix(MODELS[m.key], m.cfg.weights.revision));
  return JSON.stringify(
    policyDocument(
      { Sid: "ReadTokenizers", Effect: "Allow", Action: ["s3:GetObject"], Resource: prefixes.map((p) => `${bucketArn}/${p}*`) },
      { Sid: "WriteResults", Effect: "Allow", Action: ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"], Resource: `${bucketArn}/${RESULTS_PREFIX}/*` },
      { Sid: "ListBucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: bucketArn },
    ),
  );
}

/**
 * The Jobs' flows: to each model's vLLM pods (the direct run), to the gateway (the gateway run),
 * and to AWS (credentials from the Pod Identity agent; S3 through the interface endpoints).
 * DNS comes with the namespace (dnsFlows over policedNamespaces).
 */
export function loadTestFlows(cfg: Pick<PlatformConfig, "loadTest" | "models" | "edge">, p: Peers): Flow[] {
  if (!cfg.loadTest.enabled || Object.keys(cfg.models).length === 0) return [];
  const self: PodPeer = { namespace: LOAD_TEST_NAMESPACE, pods: { ...LOAD_TEST_POD_LABELS } };
  return [
    flow("load-test-to-model-servers", self, { namespace: NAMESPACES.inference.name, pods: WORKLOAD.modelServer }, tcp(PORTS.vllm), "the load test's direct run calls each model's vLLM Service"),
    ...(cfg.edge.enabled ? [flow("load-test-to-gateway", self, GATEWAY_PODS, tcp(GATEWAY_PORT), "the load test's second run goes through the LiteLLM gateway")] : []),
    ...awsAccessFlows("load-test", self, p, "the load test reads the tokenizer files and writes its results to the weights bucket"),
  ];
}

export interface LoadTestArgs {
  readonly config: PlatformConfig;
  readonly weightsBucket: pulumi.Input<string>;
  readonly secretStore: pulumi.Resource;
  readonly k8sProvider: k8s.Provider;
  /** The model servers, the gateway and the namespace: the runs need them up. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class LoadTest extends pulumi.ComponentResource {
  public readonly runId: string;
  /** s3://.../load-tests/<runId>/ */
  public readonly resultsPrefix: pulumi.Output<string>;

  constructor(name: string, args: LoadTestArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:serving:LoadTest", name, {}, opts);
    const c = args.config;
    const lt = c.loadTest;
    const models = loadTestModels(c);
    this.runId = loadTestRunId(c);
    const bucket = pulumi.output(args.weightsBucket);
    const k8sOpts = { parent: this, provider: args.k8sProvider, dependsOn: args.dependsOn };

    const role = podIdentityRole(
      `${name}-role`,
      {
        clusterName: c.cluster.name,
        namespace: LOAD_TEST_NAMESPACE,
        serviceAccount: LOAD_TEST_SA,
        policy: bucket.apply((b) => loadTestPolicy(`arn:aws:s3:::${b}`, models)),
        description: "Load-test Jobs: read tokenizer files, write results under load-tests/",
      },
      { parent: this },
    );
    const sa = new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata: { name: LOAD_TEST_SA, namespace: LOAD_TEST_NAMESPACE, labels: recommendedLabels(LOAD_TEST_SA, LOAD_TEST_COMPONENT) } }, k8sOpts);
    const key = Secrets.externalSecret(
      `${name}-gateway-key`,
      { name: LOAD_TEST_GATEWAY_SECRET, namespace: LOAD_TEST_NAMESPACE, component: LOAD_TEST_COMPONENT, data: [{ secretKey: "api-key", ref: parseVaultRef(lt.gatewayKeyVaultRef!) }] },
      args.secretStore,
      k8sOpts,
    );
    for (const m of models) {
      const cm = new k8s.core.v1.ConfigMap(`${name}-${m.key}-config`, loadTestConfigMap(m, lt), k8sOpts);
      new k8s.batch.v1.Job(`${name}-${m.key}`, loadTestJob({ model: m, config: lt, runId: this.runId, bucket, region: c.region, istio: c.networkSecurity.istio.enabled }), {
        ...k8sOpts,
        dependsOn: [cm, sa, key, role.association, ...args.dependsOn],
        // A new run is a new Job (its name carries the run id); the old one is replaced, not patched.
        deleteBeforeReplace: true,
      });
    }
    this.resultsPrefix = pulumi.interpolate`s3://${bucket}/${RESULTS_PREFIX}/${this.runId}/`;
    this.registerOutputs({ runId: this.runId, resultsPrefix: this.resultsPrefix });
  }
}
