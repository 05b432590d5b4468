import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { teiImage } from "../components/embeddings";
import { networkFacts, peers } from "../components/flows";
import { servingFlows } from "../components/serving";
import { modelScaledObject, recipeFor, smallestInstance, startupBudgetSeconds, vllmArgs, type ModelServerSpec } from "../components/model-server";
import { contextHash, safetyServiceConfig } from "../components/safety";
import { milvusValues } from "../components/vector-db";
import { downloadScript, readerPolicy, SYNC_POD_LABELS, syncedEncoder, syncedLlm, syncJob, syncJobName, TEI_MODEL_FILES, tiktokenUri, weightsUri } from "../components/weights";
import { requireInstanceType } from "../infra/catalog/instances";
import { ALL_METRICS } from "../infra/catalog/metrics";
import { MODELS, TIKTOKEN_ENCODINGS } from "../infra/catalog/models";
import { coldStartEstimate, startupProbeBudgetSeconds } from "../infra/coldstart";
import { CHARTS, IMAGES } from "../infra/catalog/versions";
import { HELM_RELEASE_TYPE, kubernetesObjects } from "../stacks/plan/render";
import { metricNames } from "./support/promql";
import { ofType, one, stack, STACKS, stackWith, type RunResult, type TestResource } from "./support/stacks";

const deployments = (r: RunResult, ns?: string) => ofType(r, "kubernetes:apps/v1:Deployment").filter((d) => !ns || d.inputs.metadata.namespace === ns);
const container = (d: TestResource) => d.inputs.spec.template.spec.containers[0];
const argValue = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

/** Flags removed from vLLM (upstream-facts section 1). */
const REMOVED_VLLM_FLAGS = ["--disable-log-requests", "--enable-lora-bias"];

describe("vLLM arguments", () => {
  const base = (key: "gpt-oss-20b" | "gpt-oss-120b", pool: string[], tp: 1 | 2 | 4 | 8, source: "s3" | "huggingface" = "s3"): ModelServerSpec => ({
    key,
    model: MODELS[key],
    cfg: {
      pool: "p",
      tensorParallelSize: tp,
      maxModelLen: 32768,
      gpuMemoryUtilization: 0.9,
      maxNumSeqs: 64,
      replicas: { min: 0, max: 2 },
      autoscaling: { queueDepthTarget: 8, activationQueueDepth: 1, kvCacheUsageTarget: 0.8, pollingIntervalSeconds: 15, cooldownSeconds: 300 },
      weights: { source, revision: "main" },
      slo: { ttftP95Ms: 150, e2eP95Ms: 20000, availabilityPct: 99.9, latencyBudgetPct: 5 },
    },
    poolName: "p",
    pool: { instanceTypes: pool, capacityType: "SPOT", minNodes: 0, maxNodes: 2, diskSizeGiB: 300, efa: false },
    namespace: "inference",
    weightsUri: `s3://b/${MODELS[key].hfRepo}/main/`,
    region: "us-east-1",
    prometheusUrl: "http://prom:9090",
    istio: false,
  });

  it("for gpt-oss-20b on A10G: S3 weights through the Run:ai streamer, the recipe's defaults, prefix caching on", () => {
    expect(vllmArgs(base("gpt-oss-20b", ["g5.2xlarge"], 1))).toEqual([
      "--model", "s3://b/openai/gpt-oss-20b/main/",
      "--load-format", "runai_streamer",
      "--served-model-name", "gpt-oss-20b",
      "--host", "0.0.0.0",
      "--port", "8000",
      "--tensor-parallel-size", "1",
      "--max-model-len", "32768",
      "--gpu-memory-utilization", "0.9",
      "--max-num-seqs", "64",
      "--enable-prefix-caching",
      "--tool-call-parser", "openai",
      "--enable-auto-tool-choice",
    ]);
  });

  it("for gpt-oss-120b at TP 1 on H100: the Hopper recipe with its OOM fix, prefix caching on, no stream bursts", () => {
    const args = vllmArgs(base("gpt-oss-120b", ["p5.4xlarge"], 1)) as string[];
    expect(args).toContain("--enable-prefix-caching");
    expect(args).not.toContain("--no-enable-prefix-caching");
    expect(args).not.toContain("--stream-interval");
    expect(argValue(args, "--max-num-batched-tokens")).toBe("1024");
    expect(argValue(args, "--max-cudagraph-capture-size")).toBe("1024");
    const tp2 = recipeFor(MODELS["gpt-oss-120b"], requireInstanceType("p5.48xlarge"), 2);
    expect(tp2).toEqual({ prefixCaching: true, args: ["--max-num-batched-tokens", "8192", "--max-cudagraph-capture-size", "2048"] });
  });

  it.each(Object.values(MODELS).filter((m) => m.kind === "llm"))("every recipe of $key keeps the CUDA graph capture size within its batched tokens (vLLM caps it there)", (m) => {
    for (const r of [m.recipe.default, m.recipe.hopper, "hopperTp1" in m.recipe ? m.recipe.hopperTp1 : undefined]) {
      if (!r) continue;
      const a = r.args;
      const capture = a.indexOf("--max-cudagraph-capture-size");
      const batched = a.indexOf("--max-num-batched-tokens");
      if (capture >= 0) expect(Number(a[capture + 1])).toBeLessThanOrEqual(Number(a[batched + 1]));
      expect(r.prefixCaching).toBe(true);
      expect(a).not.toContain("--stream-interval");
    }
  });

  it("falls back to Hugging Face with a pinned revision when weights.source is huggingface", () => {
    const args = vllmArgs(base("gpt-oss-20b", ["g5.2xlarge"], 1, "huggingface")) as string[];
    expect(argValue(args, "--model")).toBe("openai/gpt-oss-20b");
    expect(argValue(args, "--revision")).toBe("main");
    expect(args).not.toContain("--load-format");
  });

  it("estimates cold start on a warm node under the seed's goals, and sizes the startup probe to it", () => {
    const warm = (key: "gpt-oss-20b" | "gpt-oss-120b", instanceType: string, weightsSource: "s3" | "huggingface" = "s3") =>
      coldStartEstimate(key, { instanceType, tensorParallelSize: 1 }, "warm", { weightsSource }).totalSeconds;
    expect(warm("gpt-oss-20b", "g5.2xlarge")).toBeLessThan(MODELS["gpt-oss-20b"].coldStartGoalSeconds);
    expect(warm("gpt-oss-120b", "p5.4xlarge")).toBeLessThan(MODELS["gpt-oss-120b"].coldStartGoalSeconds);
    expect(warm("gpt-oss-120b", "p5.4xlarge", "huggingface")).toBeGreaterThan(MODELS["gpt-oss-120b"].coldStartGoalSeconds);
    // The startup probe's budget is the model's (infra/coldstart.ts), not a fixed number.
    const spec = base("gpt-oss-120b", ["p5.4xlarge"], 1);
    expect(startupBudgetSeconds(spec)).toBe(startupProbeBudgetSeconds("gpt-oss-120b", { instanceType: "p5.4xlarge", tensorParallelSize: 1 }));
    expect(startupBudgetSeconds(spec)).toBeGreaterThan(warm("gpt-oss-120b", "p5.4xlarge"));
  });

  it("scales on waiting requests (sum) and KV-cache usage (avg), with no metricName, as the seed's 6.1 behaviour", () => {
    const so = modelScaledObject(base("gpt-oss-20b", ["g5.2xlarge"], 1));
    const [queue, kv] = so.spec.triggers;
    expect(queue!.metadata).toMatchObject({ query: 'sum(vllm:num_requests_waiting{model_name="gpt-oss-20b"})', threshold: "8", activationThreshold: "1" });
    expect(queue!.metricType).toBe("AverageValue");
    expect(kv!.metadata.query).toBe('avg(vllm:kv_cache_usage_perc{model_name="gpt-oss-20b"})');
    expect(kv!.metricType).toBe("Value");
    for (const t of so.spec.triggers) expect(t.metadata).not.toHaveProperty("metricName");
    expect(so.spec.advanced?.horizontalPodAutoscalerConfig?.behavior?.scaleUp?.stabilizationWindowSeconds).toBe(60);
    expect(so.spec.advanced?.horizontalPodAutoscalerConfig?.behavior?.scaleDown?.stabilizationWindowSeconds).toBe(300);
    expect(so.spec.minReplicaCount).toBe(0);
  });
});

describe.each(STACKS)("model servers in %s", (name) => {
  it("one Deployment per configured model, with exact arguments, the API key from the ExternalSecret, and no removed flag", async () => {
    const r = await stack(name);
    const models = Object.entries(r.config.models);
    const ds = deployments(r, "inference");
    expect(ds.map((d) => d.inputs.metadata.name).sort()).toEqual(models.map(([k]) => `vllm-${k}`).sort());
    for (const [key, m] of models) {
      const c = container(ds.find((d) => d.inputs.metadata.name === `vllm-${key}`)!);
      expect(c.image).toBe(`vllm/vllm-openai:${IMAGES.vllm.tag}`);
      const args: string[] = c.args;
      expect(argValue(args, "--served-model-name")).toBe(key);
      expect(argValue(args, "--tensor-parallel-size")).toBe(String(m.tensorParallelSize));
      expect(argValue(args, "--max-model-len")).toBe(String(m.maxModelLen));
      expect(argValue(args, "--gpu-memory-utilization")).toBe(String(m.gpuMemoryUtilization));
      expect(argValue(args, "--max-num-seqs")).toBe(String(m.maxNumSeqs));
      expect(argValue(args, "--load-format")).toBe("runai_streamer");
      // The server reads the prefix its sync Job writes: <repo>/<revision>/ (a commit id in prod).
      expect(argValue(args, "--model")).toBe(`s3://llm-platform-${name}-model-weights-123456789012/${MODELS[key as keyof typeof MODELS].hfRepo}/${m.weights.revision}/`);
      for (const f of REMOVED_VLLM_FLAGS) expect(args).not.toContain(f);
      expect(c.env.find((e: any) => e.name === "VLLM_API_KEY").valueFrom.secretKeyRef).toEqual({ name: "vllm-api-key", key: "api-key" });
      expect(c.resources.limits["nvidia.com/gpu"]).toBe(String(m.tensorParallelSize));
    }
  });

  it("probes /health (startup, readiness, liveness), drains on preStop, spreads across zones, and carries a priority class and the GPU toleration", async () => {
    const r = await stack(name);
    for (const d of deployments(r, "inference")) {
      const pod = d.inputs.spec.template.spec;
      const c = pod.containers[0];
      for (const p of ["startupProbe", "readinessProbe", "livenessProbe"]) expect(c[p].httpGet).toEqual({ path: "/health", port: 8000 });
      expect(c.lifecycle.preStop.exec.command[0]).toBe("sleep");
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(Number(c.lifecycle.preStop.exec.command[1]));
      expect(pod.topologySpreadConstraints[0].topologyKey).toBe("topology.kubernetes.io/zone");
      expect(pod.priorityClassName).toBe("llm-serving");
      expect(pod.tolerations).toContainEqual({ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" });
      expect(pod.volumes.find((v: any) => v.name === "dshm").emptyDir.medium).toBe("Memory");
      expect(pod.serviceAccountName).toBe("model-server");
    }
  });

  it("places each model on its pool, or on Karpenter nodes with the same GPU", async () => {
    const r = await stack(name);
    for (const [key, m] of Object.entries(r.config.models)) {
      const d = deployments(r, "inference").find((x) => x.inputs.metadata.name === `vllm-${key}`)!;
      const terms = d.inputs.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
      expect(terms[0].matchExpressions).toEqual([{ key: "llm-platform.io/pool", operator: "In", values: [m.pool] }]);
      const gpu = smallestInstance(r.config.gpuPools[m.pool]!).gpu!;
      expect(terms[1].matchExpressions).toContainEqual({ key: "karpenter.k8s.aws/instance-gpu-name", operator: "In", values: [gpu.name] });
    }
  });

  it("has a Service, a ServiceMonitor, a PDB and a ScaledObject per model; never a CPU HPA on GPU pods", async () => {
    const r = await stack(name);
    for (const key of Object.keys(r.config.models)) {
      const n = `vllm-${key}`;
      const byName = (t: string) => ofType(r, t).filter((x) => x.inputs.metadata.name === n && x.inputs.metadata.namespace === "inference");
      expect(byName("kubernetes:core/v1:Service")).toHaveLength(1);
      expect(byName("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")).toHaveLength(1);
      expect(byName("kubernetes:policy/v1:PodDisruptionBudget")).toHaveLength(1);
      const so = byName("kubernetes:keda.sh/v1alpha1:ScaledObject");
      expect(so).toHaveLength(1);
      expect(so[0]!.inputs.spec.minReplicaCount).toBe(r.config.models[key as keyof typeof r.config.models]!.replicas.min);
    }
    const hpas = ofType(r, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
    // CPU HPAs only on the CPU services (safety, RAG): never on GPU pods.
    expect(hpas.map((h) => h.inputs.metadata.namespace).sort()).toEqual(["rag", "safety"]);
    if (name === "prod") for (const so of ofType(r, "kubernetes:keda.sh/v1alpha1:ScaledObject").filter((x) => x.inputs.metadata.namespace === "inference")) expect(so.inputs.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
  });

  it("scaler queries use only upstream metric names and return one series", async () => {
    const r = await stack(name);
    for (const so of ofType(r, "kubernetes:keda.sh/v1alpha1:ScaledObject")) {
      for (const t of so.inputs.spec.triggers) {
        if (t.type === "cron") {
          // models.<k>.schedule windows (docs/scaling.md): KEDA's cron scaler metadata.
          expect(Object.keys(t.metadata).sort()).toEqual(["desiredReplicas", "end", "start", "timezone"]);
          continue;
        }
        expect(t.type).toBe("prometheus");
        expect(t.metadata.metricName).toBeUndefined();
        // One series: an aggregation, or the predictive floor (an aggregation over last week, or vector(0)).
        if (t.name === "predictive") expect(t.metadata.query).toMatch(/^\(max_over_time\(sum\(.*\) or vector\(0\)$/);
        else expect(t.metadata.query).toMatch(/^(sum|avg)\(/);
        expect(metricNames(t.metadata.query).every((m) => ALL_METRICS.has(m))).toBe(true);
      }
    }
  });

  it("reads gpt-oss's tiktoken encodings from a local directory filled from S3 (TIKTOKEN_ENCODINGS_BASE), and never calls the Hub", async () => {
    const r = await stack(name);
    const bucket = `llm-platform-${name}-model-weights-123456789012`;
    for (const [key, m] of Object.entries(r.config.models)) {
      expect(m.weights.source).toBe("s3");
      const pod = deployments(r, "inference").find((x) => x.inputs.metadata.name === `vllm-${key}`)!.inputs.spec.template.spec;
      const c = pod.containers[0];
      const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
      expect(env).toMatchObject({ TIKTOKEN_ENCODINGS_BASE: "/tiktoken", HF_HUB_OFFLINE: "1", VLLM_NO_USAGE_STATS: "1" });
      expect(Object.keys(env)).not.toContain("HF_TOKEN");
      // tiktoken first; then the compile cache seeded from S3 (infra/coldstart.ts, docs/serving.md "Cold start").
      expect(pod.initContainers.map((x: any) => x.name)).toEqual(["tiktoken", "compile-cache"]);
      expect(pod.initContainers.slice(0, 1)).toMatchObject([
        {
          name: "tiktoken",
          image: `amazon/aws-cli:${IMAGES.awsCli.tag}`,
          args: ["s3", "sync", `s3://${bucket}/${MODELS[key as keyof typeof MODELS].hfRepo}/${m.weights.revision}/tiktoken/`, "/tiktoken", "--only-show-errors"],
          env: [
            { name: "AWS_REGION", value: r.config.region },
            { name: "AWS_S3_US_EAST_1_REGIONAL_ENDPOINT", value: "regional" },
            { name: "AWS_DEFAULT_REGION", value: r.config.region },
          ],
          resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
          volumeMounts: [{ name: "tiktoken", mountPath: "/tiktoken" }],
        },
      ]);
      expect(c.volumeMounts).toContainEqual({ name: "tiktoken", mountPath: "/tiktoken", readOnly: true });
      expect(pod.volumes).toContainEqual({ name: "tiktoken", emptyDir: { sizeLimit: "64Mi" } });
    }
  });

  it("syncs every served model (LLMs and encoders) once per revision into an encrypted, private, TLS-only bucket, read through read-only roles", async () => {
    const r = await stack(name);
    const bucket = `llm-platform-${name}-model-weights-123456789012`;
    const jobs = ofType(r, "kubernetes:batch/v1:Job");
    const encoders = (["embed", "rerank"] as const).filter((role) => r.config.embeddings[role].enabled).map((role) => MODELS[r.config.embeddings[role].model as keyof typeof MODELS]);
    const llms = Object.entries(r.config.models).filter(([, m]) => m.weights.source === "s3");
    expect(jobs.map((j) => j.inputs.metadata.name).sort()).toEqual([...llms.map(([k, m]) => syncJobName(k, m.weights.revision)), ...encoders.map((e) => syncJobName(e.key, (e as { revision: string }).revision))].sort());
    for (const j of jobs) {
      const spec = j.inputs.spec.template.spec;
      expect(j.inputs.metadata.namespace).toBe("inference");
      expect(j.inputs.spec.template.metadata.labels).toMatchObject(SYNC_POD_LABELS);
      const upload = spec.containers[0];
      expect(upload.image).toBe(`amazon/aws-cli:${IMAGES.awsCli.tag}`);
      expect(upload.command).toEqual(["/bin/sh", "-c"]);
      expect(spec.initContainers[0].env[0].valueFrom.secretKeyRef).toEqual({ name: "huggingface-token", key: "token" });
      const key = j.inputs.metadata.labels["llm-platform.io/model"] as keyof typeof MODELS;
      const rev = (r.config.models as Record<string, { weights: { revision: string } } | undefined>)[key]?.weights.revision ?? (MODELS[key] as { revision: string }).revision;
      expect(upload.args[0]).toBe(
        `aws s3 sync /weights s3://${bucket}/${MODELS[key].hfRepo}/${rev}/ --only-show-errors --delete --exclude '.cache/*' && aws s3 cp /record/commit s3://${bucket}/${MODELS[key].hfRepo}/refs/${rev} --only-show-errors`,
      );
    }
    // The Hugging Face token lives only where the sync Jobs run: TEI pods need none.
    const hfSecrets = ofType(r, "kubernetes:external-secrets.io/v1:ExternalSecret").filter((x) => x.inputs.metadata.name === "huggingface-token");
    expect(hfSecrets.map((x) => x.inputs.metadata.namespace)).toEqual(["inference"]);
    const b = ofType(r, "aws:s3/bucket:Bucket").find((x) => String(x.inputs.bucket).includes("model-weights"))!;
    expect(b.options.protect).toBe(r.config.protection.protect);
    const sse = ofType(r, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").find((x) => x.name === "serving-weights-bucket-sse")!;
    expect(sse.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).toBe("AES256");
    const pab = ofType(r, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").find((x) => x.name === "serving-weights-bucket-pab")!;
    expect(pab.inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    const reader = JSON.parse(readerPolicy("arn:aws:s3:::b"));
    expect(reader.Statement.flatMap((s: any) => s.Action)).toEqual(["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"]);
    const pias = ofType(r, "aws:eks/podIdentityAssociation:PodIdentityAssociation").filter((x) => String(x.name).startsWith("serving-weights-"));
    expect(pias.map((x) => [x.name, x.inputs.namespace, x.inputs.serviceAccount]).sort()).toEqual(
      [
        ["serving-weights-reader", "inference", "model-server"],
        ["serving-weights-reader-embeddings", "embeddings", "tei"],
        ["serving-weights-writer", "inference", "weights-sync"],
      ].sort(),
    );
    for (const n of ["serving-weights-reader", "serving-weights-reader-embeddings"]) {
      const pol = JSON.parse(ofType(r, "aws:iam/rolePolicy:RolePolicy").find((x) => x.name === n)!.inputs.policy);
      expect(pol.Statement.flatMap((st: any) => st.Action)).toEqual(["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"]);
    }
  });

  it("gives only the sync Jobs' pods the weights-sync label (the one workload with internet egress)", async () => {
    const r = await stack(name);
    const pods = kubernetesObjects(r.resources).flatMap((o: any) => {
      const t = o.spec?.template ?? o.spec?.jobTemplate?.spec?.template;
      return t?.spec?.containers ? [{ kind: o.kind, name: o.metadata?.name, labels: t.metadata?.labels ?? {} }] : [];
    });
    const labelled = pods.filter((p) => Object.entries(SYNC_POD_LABELS).every(([k, v]) => p.labels[k] === v));
    expect(labelled.length).toBe(ofType(r, "kubernetes:batch/v1:Job").length);
    expect(new Set(labelled.map((p) => p.kind))).toEqual(new Set(["Job"]));
  });
});

describe("weights sync Job builder", () => {
  it("for an LLM: downloads without the repos' duplicate checkpoints, fetches the tiktoken encodings with their SHA-256 checked, and uploads to the model's prefix", () => {
    const m = syncedLlm("gpt-oss-120b", MODELS["gpt-oss-120b"], "main");
    const job = syncJob({ model: m, bucket: "b", namespace: "inference", region: "us-east-1" }) as any;
    const spec = job.spec.template.spec;
    const script: string = spec.initContainers[0].command[2];
    // A branch is resolved to the commit it names, and that commit is downloaded and recorded.
    expect(script.split("\n").slice(0, 5)).toEqual([
      "from huggingface_hub import HfApi, snapshot_download",
      'commit = HfApi().model_info("openai/gpt-oss-120b", revision="main").sha',
      'snapshot_download(repo_id="openai/gpt-oss-120b", revision=commit, local_dir="/weights", ignore_patterns=["original/*","metal/*"])',
      'open("/record/commit", "w").write(commit)',
      'print("openai/gpt-oss-120b@main resolved to commit " + commit)',
    ]);
    for (const e of ["o200k_base", "cl100k_base"] as const) {
      expect(script).toContain(`urllib.request.urlopen("${TIKTOKEN_ENCODINGS[e].url}"`);
      expect(script).toContain(`hashlib.sha256(data).hexdigest() == "${TIKTOKEN_ENCODINGS[e].sha256}"`);
      expect(script).toContain(`open("/weights/tiktoken/${e}.tiktoken", "wb")`);
    }
    expect(spec.containers[0].args[0]).toContain("aws s3 sync /weights s3://b/openai/gpt-oss-120b/main/ --only-show-errors --delete");
    expect(spec.containers[0].args[0]).toContain("aws s3 cp /record/commit s3://b/openai/gpt-oss-120b/refs/main");
    expect(weightsUri("b", MODELS["gpt-oss-20b"], "abc")).toBe("s3://b/openai/gpt-oss-20b/abc/");
    expect(tiktokenUri("b", MODELS["gpt-oss-20b"], "abc")).toBe("s3://b/openai/gpt-oss-20b/abc/tiktoken/");
    expect(spec.volumes[0].ephemeral.volumeClaimTemplate.spec.resources.requests.storage).toBe(`${Math.ceil(MODELS["gpt-oss-120b"].weightsGiB * 1.3) + 5}Gi`);
  });

  it("for a TEI encoder: downloads only what TEI reads from a local --model-id directory (weights, config, tokenizer, pooling), no encodings", () => {
    const m = syncedEncoder(MODELS["bge-large-en-v1.5"]);
    const sha = "d4aa6901d3a41ba39fb536a557fa166f842b0e09";
    expect(m).toEqual({ key: "bge-large-en-v1.5", kind: "encoder", hfRepo: "BAAI/bge-large-en-v1.5", revision: sha, weightsGiB: 1.25 });
    const script = downloadScript(m);
    // A configured commit must resolve to itself (a short or unknown id fails the Job).
    expect(script).toBe(
      [
        "from huggingface_hub import HfApi, snapshot_download",
        `commit = HfApi().model_info("BAAI/bge-large-en-v1.5", revision="${sha}").sha`,
        `assert commit == "${sha}", "revision ${sha} resolved to " + str(commit)`,
        `snapshot_download(repo_id="BAAI/bge-large-en-v1.5", revision=commit, local_dir="/weights", allow_patterns=${JSON.stringify(TEI_MODEL_FILES)})`,
        'open("/record/commit", "w").write(commit)',
        `print("BAAI/bge-large-en-v1.5@${sha} resolved to commit " + commit)`,
      ].join("\n"),
    );
    for (const f of ["config.json", "tokenizer.json", "1_Pooling/config.json", "model.safetensors", "sentence_bert_config.json"]) expect(TEI_MODEL_FILES).toContain(f);
    const job = syncJob({ model: m, bucket: "b", namespace: "inference", region: "us-east-1" }) as any;
    expect(job.metadata.name).toBe(syncJobName("bge-large-en-v1.5", sha));
    expect(job.spec.template.spec.containers[0].args[0]).toContain(`aws s3 sync /weights s3://b/BAAI/bge-large-en-v1.5/${sha}/ `);
    expect(job.spec.template.spec.volumes[0].ephemeral.volumeClaimTemplate.spec.resources.requests.storage).toBe(`${Math.ceil(1.25 * 1.3) + 5}Gi`);
  });
});

describe.each(STACKS)("serving flows in %s", (name) => {
  it("serving pods reach only the Pod Identity agent and the AWS endpoints; only the sync Jobs reach the internet", async () => {
    const r = await stack(name);
    const p = peers(networkFacts(r.config));
    const flows = servingFlows(r.config, p);
    const sync = { namespace: "inference", pods: SYNC_POD_LABELS };
    const aws = (prefix: string, from: object) => [
      { name: `${prefix}-to-pod-identity-agent`, from, to: p.podIdentityAgent, ports: [{ port: 80, protocol: "TCP" }] },
      { name: `${prefix}-to-aws-apis`, from, to: p.awsApis, ports: [{ port: 443, protocol: "TCP" }] },
    ];
    expect(flows.map(({ name: n, from, to, ports }) => ({ name: n, from, to, ports }))).toEqual([
      ...aws("model-servers", { namespace: "inference", pods: { "app.kubernetes.io/component": "model-server" } }),
      ...aws("tei-embed", { namespace: "embeddings", pods: { "app.kubernetes.io/component": "embeddings" } }),
      ...aws("tei-rerank", { namespace: "embeddings", pods: { "app.kubernetes.io/component": "reranker" } }),
      { name: "weights-sync-to-internet", from: sync, to: p.internet, ports: [{ port: 443, protocol: "TCP" }] },
      ...aws("weights-sync", sync),
    ]);
    expect(flows.filter((f) => "cidrs" in f.to && f.to.role === "internet").map((f) => f.from)).toEqual([sync]);
    for (const f of flows) expect(f.why.length).toBeGreaterThan(10);
  });
});

it("a model left on weights.source huggingface gets internet egress for its own pods only", async () => {
  const r = await stackWith("dev", (raw) => {
    const models = raw["llm-platform:models"];
    for (const k of Object.keys(models)) models[k].weights = { source: "huggingface" };
  });
  const flows = servingFlows(r.config, peers(networkFacts(r.config)));
  const internet = flows.filter((f) => "cidrs" in f.to && f.to.role === "internet");
  expect(internet.map((f) => [f.name, f.from])).toEqual([
    ...Object.keys(r.config.models).map((k) => [`model-${k}-to-hugging-face`, { namespace: "inference", pods: { "app.kubernetes.io/component": "model-server", "llm-platform.io/model": k } }]),
    ["weights-sync-to-internet", { namespace: "inference", pods: SYNC_POD_LABELS }],
  ]);
  // Such a model downloads at start: it has the token and no S3 init container.
  const d = ofType(r, "kubernetes:apps/v1:Deployment").find((x) => x.inputs.metadata.namespace === "inference")!;
  expect(d.inputs.spec.template.spec.initContainers).toBeUndefined();
  expect(d.inputs.spec.template.spec.containers[0].env.map((e: any) => e.name)).toContain("HF_TOKEN");
});

describe("TEI", () => {
  it.each([
    ["g5.2xlarge", "86-1.9"],
    ["g6.xlarge", "89-1.9"],
    ["g6e.xlarge", "89-1.9"],
    ["p4d.24xlarge", "1.9"],
    ["p5.4xlarge", "hopper-1.9"],
    [undefined, "cpu-1.9"],
  ] as const)("on %s uses the %s image", (type, tag) => {
    expect(teiImage(type ? requireInstanceType(type) : undefined).tag).toBe(tag);
  });

  describe.each(STACKS)("in %s", (name) => {
    it("serves BGE with CLS pooling and the reranker, with the tag of its pool's GPU and config-driven limits", async () => {
      const r = await stack(name);
      for (const role of ["embed", "rerank"] as const) {
        const e = r.config.embeddings[role];
        const d = deployments(r, "embeddings").find((x) => x.inputs.metadata.name === `tei-${role}`)!;
        const c = container(d);
        const expectedTag = teiImage(e.placement === "cpu" ? undefined : smallestInstance(r.config.gpuPools[e.placement]!)).tag;
        expect(c.image).toBe(`ghcr.io/huggingface/text-embeddings-inference:${expectedTag}`);
        const model = MODELS[e.model as keyof typeof MODELS];
        expect(argValue(c.args, "--model-id")).toBe(`/data/${e.model}`);
        expect(argValue(c.args, "--served-model-name")).toBe(e.model);
        expect(argValue(c.args, "--auto-truncate")).toBe("true");
        expect(e.model).toBe(role === "embed" ? "bge-large-en-v1.5" : "gte-reranker-modernbert-base");
        // The model comes from S3 through TEI's own read-only role; no Hub token, no Hub call.
        const pod = d.inputs.spec.template.spec;
        expect(pod.serviceAccountName).toBe("tei");
        expect((c.env ?? []).map((x: any) => x.name)).not.toContain("HF_TOKEN");
        expect(pod.initContainers).toHaveLength(1);
        expect(pod.initContainers[0]).toMatchObject({
          name: "model",
          image: `amazon/aws-cli:${IMAGES.awsCli.tag}`,
          args: ["s3", "sync", `s3://llm-platform-${name}-model-weights-123456789012/${model.hfRepo}/${(model as { revision: string }).revision}/`, `/data/${e.model}`, "--only-show-errors"],
          volumeMounts: [{ name: "data", mountPath: "/data" }],
        });
        expect(c.volumeMounts).toContainEqual({ name: "data", mountPath: "/data" });
        const job = ofType(r, "kubernetes:batch/v1:Job").find((x) => x.inputs.metadata.name === syncJobName(e.model, (model as { revision: string }).revision))!;
        expect(d.options.dependsOn).toContain(job.urn);
        if (role === "embed") expect(argValue(c.args, "--pooling")).toBe("cls");
        else expect(c.args).not.toContain("--pooling");
        expect(argValue(c.args, "--max-batch-tokens")).toBe(String(e.maxBatchTokens));
        expect(argValue(c.args, "--max-concurrent-requests")).toBe(String(e.maxConcurrentRequests));
        for (const p of ["startupProbe", "readinessProbe", "livenessProbe"]) expect(c[p].httpGet.path).toBe("/health");
        const so = ofType(r, "kubernetes:keda.sh/v1alpha1:ScaledObject").find((x) => x.inputs.metadata.name === `tei-${role}`)!;
        expect(so.inputs.spec.triggers[0].metadata.query).toBe(`sum(te_queue_size{namespace="embeddings", service="tei-${role}"})`);
        expect(ofType(r, "kubernetes:policy/v1:PodDisruptionBudget").some((x) => x.inputs.metadata.name === `tei-${role}`)).toBe(true);
        expect(ofType(r, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor").some((x) => x.inputs.metadata.name === `tei-${role}`)).toBe(true);
      }
    });
  });
});

describe("Milvus", () => {
  it.each(STACKS)("%s: pinned chart, S3 through IAM, auth on with the root password from Vault, MinIO off", async (name) => {
    const r = await stack(name);
    const rel = ofType(r, HELM_RELEASE_TYPE).find((x) => x.inputs.name === "milvus")!;
    expect(rel.inputs).toMatchObject({ version: CHARTS.milvus.version, namespace: "vectordb" });
    const v = rel.inputs.values;
    expect(v.cluster.enabled).toBe(r.config.vectorDb.mode === "cluster");
    expect(v.minio.enabled).toBe(false);
    expect(v.externalS3).toMatchObject({ enabled: true, useIAM: true, cloudProvider: "aws", useSSL: true, port: 443 });
    expect(v.externalS3).not.toHaveProperty("accessKey");
    expect(v.externalS3.bucketName).toBe(`llm-platform-${name}-milvus-123456789012`);
    expect(v.extraConfigFiles["user.yaml"]).toContain("authorizationEnabled: true");
    const env = v.mixCoordinator.extraEnv.find((e: any) => e.name === "COMMON_SECURITY_DEFAULTROOTPASSWORD");
    expect(env.valueFrom.secretKeyRef).toEqual({ name: "milvus-root", key: "password" });
    expect(v.etcd.replicaCount).toBe(r.config.vectorDb.etcdReplicas);
    expect(v.serviceAccount.annotations["eks.amazonaws.com/role-arn"]).toMatch(/^arn:aws:iam::123456789012:role\//);
    // The chart's ServiceMonitor (plaintext :9091) is off; the program scrapes every component
    // through the annotations Istio's metrics merging reads (tests/cluster/monitoring.test.ts).
    expect(v.metrics.serviceMonitor.enabled).toBe(false);
    expect(v.annotations).toEqual({ "prometheus.io/scrape": "true", "prometheus.io/port": "9091", "prometheus.io/path": "/metrics" });
    // milvus-helm 5.0.19 has no pdb values for Milvus components: none is set, the program creates them.
    for (const c of ["proxy", "queryNode", "dataNode", "mixCoordinator", "streamingNode", "standalone"]) expect(v[c]).not.toHaveProperty("pdb");
    const pdbs = ofType(r, "kubernetes:policy/v1:PodDisruptionBudget").filter((x) => x.inputs.metadata.namespace === "vectordb");
    expect(pdbs.map((x) => [x.inputs.metadata.name, x.inputs.spec])).toEqual(
      r.config.vectorDb.mode === "cluster"
        ? ["proxy", "querynode", "datanode", "mixcoord", "streamingnode"].map((c) => [`milvus-${c}`, { maxUnavailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": "milvus", "app.kubernetes.io/instance": "milvus", component: c } } }])
        : [],
    );
    expect(rel.options.retainOnDelete).toBe(r.config.protection.retainOnDelete);
    const bucket = ofType(r, "aws:s3/bucket:Bucket").find((b) => String(b.inputs.bucket).includes("milvus"))!;
    expect(bucket.options.retainOnDelete).toBe(r.config.protection.retainOnDelete);
    const es = ofType(r, "kubernetes:external-secrets.io/v1:ExternalSecret").find((x) => x.inputs.metadata.name === "milvus-root")!;
    expect(es.inputs.spec.data[1].remoteRef).toEqual({ key: `${r.config.vault.pathPrefix}/generated/milvus`, property: "password" });
  });

  it("uses Woodpecker without dedicated pods in cluster mode, and 3 etcd replicas for HA", () => {
    const v = milvusValues({ cfg: { mode: "cluster", etcdReplicas: 3, messageQueue: "woodpecker", queryNodeReplicas: 3, dataNodeReplicas: 2, proxyReplicas: 2, etcdStorageGi: 20, coordinatorReplicas: 2, streamingNodeReplicas: 2 }, region: "us-east-1", bucketName: "b", roleArn: "r" }) as any;
    expect(v.woodpecker.enabled).toBe(true);
    expect(v.streaming.woodpecker.embedded).toBe(true);
    expect(v.pulsarv3.enabled).toBe(false);
    expect(v.mixCoordinator.activeStandby.enabled).toBe(true);
    expect(v.etcd.persistence).toEqual({ enabled: true, storageClass: "gp3", size: "20Gi" });
  });
});

describe("safety service", () => {
  it.each(STACKS)("%s: a pinned image, /health and /ready probes, a CPU HPA, a PDB and a ServiceMonitor; non-root, read-only rootfs", async (name) => {
    const r = await stack(name);
    const d = deployments(r, "safety")[0]!;
    const c = container(d);
    expect(c.image).toMatch(/^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/llm-platform-[a-z]+\/safety@sha256:[0-9a-f]{64}$/);
    expect(c.livenessProbe.httpGet.path).toBe("/health");
    expect(c.readinessProbe.httpGet.path).toBe("/ready");
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(d.inputs.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(c.env.find((e: any) => e.name === "AZURE_CONTENT_SAFETY_KEY").valueFrom.secretKeyRef).toEqual({ name: "azure-content-safety", key: "key" });
    const hpa = one(r, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "serving-safety-hpa");
    expect(hpa.inputs.spec).toMatchObject({ minReplicas: r.config.safety.replicas.min, maxReplicas: r.config.safety.replicas.max });
    expect(hpa.inputs.spec.metrics[0].resource).toEqual({ name: "cpu", target: { type: "Utilization", averageUtilization: r.config.safety.targetCpuUtilization } });
    const image = one(r, "docker-build:index:Image", "serving-safety-image");
    expect(image.inputs.tags[0]).toMatch(new RegExp(`:${contextHash()}$`));
    expect(one(r, "aws:ecr/repository:Repository", "serving-safety-repo").inputs).toMatchObject({ imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } });
  });

  it.each(STACKS)("%s: the rendered config file is valid for the service's own schema, and holds no secret", async (name) => {
    const r = await stack(name);
    const cm = ofType(r, "kubernetes:core/v1:ConfigMap").find((x) => x.inputs.metadata.name === "safety-config")!;
    const file = parseYaml(cm.inputs.data["config.yaml"]);
    expect(file).toEqual(safetyServiceConfig(r.config.safety, r.config.models));
    const { configSchema } = await import("../services/safety/src/config");
    const parsed = configSchema.safeParse(file);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(file.failureMode).toBe(r.config.safety.failureMode);
    expect(JSON.stringify(file)).not.toMatch(/key"?\s*:/i);
  });
});

describe.each(STACKS)("every image in %s", (name) => {
  it("is pinned by tag or digest, never latest", async () => {
    const r = await stack(name);
    const images = kubernetesObjects(r.resources).flatMap((o: any) => {
      const pod = o.spec?.template?.spec ?? o.spec?.jobTemplate?.spec?.template?.spec;
      return pod?.containers ? [...(pod.initContainers ?? []), ...pod.containers].map((c: any) => String(c.image)) : [];
    });
    expect(images.length).toBeGreaterThan(3);
    for (const i of images) {
      expect(i).toMatch(/(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$/);
      expect(i).not.toMatch(/:latest$/);
    }
  });
});
