/**
 * Load-test Jobs generated from the SLOs (components/load-test.ts) and the calibrate command that
 * folds their result back into the capacity catalog (stacks/plan/calibrate.ts).
 *
 * The fixture tests/fixtures/load-test/run/ holds per-stage reports shaped as inference-perf v0.6.1
 * writes them (kubernetes-sigs/inference-perf reportgen/base.py `summarize_requests` ->
 * ResponsesSummary {benchmark_time_seconds, load_summary, successes, failures}, `summarize` keys
 * mean/min/max/median/p<N>, latencies in seconds; `generate_reports` file names
 * stage_<N>_lifecycle_metrics.json; `load_summary.concurrency` for concurrent stages). The numbers
 * are made up; result.json is what the Job's assemble script makes of them (checked below).
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { networkFacts } from "../components/flows";
import {
  ASSEMBLE_SCRIPT,
  LOAD_TEST_PRINCIPAL,
  loadTestPolicy,
  loadTestModels,
  loadTestSweep,
  RESULTS_DIR,
} from "../components/load-test";
import { declaredFlows } from "../components/platform-flows";
import { platformReadPaths } from "../components/secrets";
import { type PlatformConfig } from "../infra/config";
import { IMAGES, imageRef } from "../infra/catalog/versions";
import { calibrate, fold, parseResult, type ThroughputPoint } from "../stacks/plan/calibrate";
import { admissionProblems } from "./cluster/admission";
import { buildModel } from "./cluster/model";
import { networkProblems } from "./cluster/network";
import { orderingProblems } from "./cluster/ordering";
import { referenceProblems } from "./cluster/references";
import { secretsProblems } from "./cluster/secrets";
import { ofType, stack, STACKS, stackWith } from "./support/stacks";
import { configOf, problems } from "./support/config";

const FIXTURES = path.resolve(__dirname, "fixtures", "load-test");
const RESULT = path.join(FIXTURES, "result.json");
const KEY_REF = "llm-platform/staging/load-test#api-key";

describe("loadTest config", () => {
  it("is off by default: no load-test object in any committed stack, no load-test flow", async () => {
    for (const name of STACKS) {
      const r = await stack(name);
      expect(r.config.loadTest.enabled).toBe(false);
      expect(r.resources.filter((x) => x.name.startsWith("load-test"))).toEqual([]);
      expect(declaredFlows(r.config).filter((f) => f.name.startsWith("load-test"))).toEqual([]);
    }
  });

  it("needs a gateway key in Vault, the gateway, and requests that fit every model's context", () => {
    expect(problems("staging", (r) => (r.loadTest = { enabled: true }))).toEqual([
      { path: "loadTest.gatewayKeyVaultRef", message: expect.stringMatching(/^required when loadTest\.enabled is true: a LiteLLM key in Vault/) },
    ]);
    expect(
      problems("staging", (r) => {
        r.loadTest = { enabled: true, gatewayKeyVaultRef: KEY_REF, inputTokens: 8000, outputTokens: 256 };
        r.models["gpt-oss-20b"].maxModelLen = 8192;
      }),
    ).toContainEqual({ path: "loadTest.inputTokens", message: "loadTest.inputTokens + loadTest.outputTokens (8256) must be <= models.gpt-oss-20b.maxModelLen (8192); shorten them" });
    expect(problems("dev", (r) => ((r.loadTest = { enabled: true, gatewayKeyVaultRef: KEY_REF }), (r.edge = { ...r.edge, enabled: false })))).toContainEqual({
      path: "loadTest.enabled",
      message: expect.stringMatching(/through the LiteLLM gateway: set edge\.enabled to true/),
    });
    expect(problems("staging", (r) => (r.loadTest = { enabled: true, gatewayKeyVaultRef: KEY_REF, runId: "Run_1" }))).toEqual([{ path: "loadTest.runId", message: expect.stringMatching(/^lower-case letters/) }]);
  });
});

describe("the sweep, derived from the SLO", () => {
  const lt = { outputTokens: 256, stageSeconds: 120, maxStages: 6 };

  // The seed's SLOs, with replica bounds fixed here (not read from a stack file that moves).
  const prod = configOf("prod");
  const model = (key: "gpt-oss-20b" | "gpt-oss-120b", max: number, slo: { ttftP95Ms: number; e2eP95Ms: number; throughputTokensPerSecond: number }) => {
    const m = prod.models[key]!;
    return { ...m, maxNumSeqs: 128, replicas: { ...m.replicas, max }, slo: { ...m.slo, ...slo } };
  };
  const seed20 = { ttftP95Ms: 150, e2eP95Ms: 20000, throughputTokensPerSecond: 5000 };

  it("brackets the concurrency the SLO implies per replica", () => {
    // 20b: 5,000 tok/s / 12 replicas = 416.7 per replica; 256 tokens in (20,000 - 150) ms = 12.9 tok/s per stream -> 33.
    const s20 = loadTestSweep(model("gpt-oss-20b", 12, seed20), lt);
    expect(s20.sloConcurrency).toBe(33);
    expect(s20.stages).toEqual([1, 9, 17, 33, 66].map((concurrency) => ({ concurrency, numRequests: 6 * concurrency })));
    // 120b: 2,000 / 4 = 500 per replica; 256 tokens in 39.7 s = 6.45 tok/s -> 78; 2 x 78 capped at maxNumSeqs 128.
    const s120 = loadTestSweep(model("gpt-oss-120b", 4, { ttftP95Ms: 300, e2eP95Ms: 40000, throughputTokensPerSecond: 2000 }), lt);
    expect(s120.sloConcurrency).toBe(78);
    expect(s120.stages.map((s) => s.concurrency)).toEqual([1, 20, 39, 78, 128]);
    // 120 s at 40 s per request is 3 per stream; at least 4.
    expect(s120.stages.map((s) => s.numRequests)).toEqual([4, 80, 156, 312, 512]);
    // Fewer, faster replicas (5,000 / 3 = 1,667 tok/s each): 130 streams, capped at maxNumSeqs.
    const s3 = loadTestSweep(model("gpt-oss-20b", 3, seed20), lt);
    expect(s3.sloConcurrency).toBe(128);
    expect(s3.stages.map((s) => s.concurrency)).toEqual([1, 32, 64, 128]);
  });

  it("without a throughput SLO, doubles up to maxNumSeqs; keeps stage 1 when trimming to maxStages", () => {
    const m = model("gpt-oss-20b", 12, seed20);
    const noTarget = { ...m, slo: { ...m.slo, throughputTokensPerSecond: undefined } };
    expect(loadTestSweep(noTarget, { ...lt, maxStages: 12 }).stages.map((s) => s.concurrency)).toEqual([1, 2, 4, 8, 16, 32, 64, 128]);
    expect(loadTestSweep(noTarget, { ...lt, maxStages: 3 }).stages.map((s) => s.concurrency)).toEqual([1, 64, 128]);
  });
});

describe("the load-test Jobs (staging, loadTest on)", async () => {
  const r = await stackWith("staging", (raw) => {
    raw["llm-platform:loadTest"] = { enabled: true, gatewayKeyVaultRef: KEY_REF, runId: "staging-1" };
  });
  const jobs = ofType(r, "kubernetes:batch/v1:Job").filter((j) => j.inputs.metadata.labels["app.kubernetes.io/component"] === "load-test");
  const cms = ofType(r, "kubernetes:core/v1:ConfigMap").filter((c) => c.inputs.metadata.name.startsWith("load-test-"));
  const models = Object.keys(r.config.models);

  it("one Job per model, named by the run id, with the pinned images and two runs in sequence", () => {
    expect(models.length).toBeGreaterThan(0);
    // The documented stack output (README "Stack outputs") names where the results go.
    expect(r.outputs.loadTestResults).toMatch(/^s3:\/\/.+\/load-tests\/staging-1\/$/);
    expect(jobs.map((j) => j.inputs.metadata.name).sort()).toEqual(models.map((k) => `load-test-${k}-staging-1`).sort());
    for (const j of jobs) {
      const spec = j.inputs.spec.template.spec;
      expect(spec.initContainers.map((c: any) => [c.name, c.image])).toEqual([
        ["tokenizer", imageRef(IMAGES.awsCli)],
        ["direct", "quay.io/inference-perf/inference-perf:v0.6.1"],
        ["gateway", "quay.io/inference-perf/inference-perf:v0.6.1"],
        ["assemble", imageRef(IMAGES.inferencePerf)],
      ]);
      const [, direct, gateway] = spec.initContainers;
      expect(direct.command).toEqual(["python", "/workspace/inference_perf/main.py", "--config_file", "/config/direct.yaml", "--server.api_key", "$(VLLM_API_KEY)"]);
      expect(gateway.command.slice(-3)).toEqual(["/config/gateway.yaml", "--server.api_key", "$(GATEWAY_API_KEY)"]);
      expect(direct.env).toContainEqual({ name: "VLLM_API_KEY", valueFrom: { secretKeyRef: { name: "vllm-api-key", key: "api-key" } } });
      expect(gateway.env).toContainEqual({ name: "GATEWAY_API_KEY", valueFrom: { secretKeyRef: { name: "load-test-gateway-key", key: "api-key" } } });
      // Istio is on in staging: a native sidecar, so the Job completes; `pulumi up` does not wait for it.
      expect(j.inputs.spec.template.metadata.annotations).toEqual({ "sidecar.istio.io/nativeSidecar": "true" });
      expect(j.inputs.metadata.annotations).toEqual({ "pulumi.com/skipAwait": "true" });
      expect(spec.serviceAccountName).toBe("load-test");
    }
  });

  it("targets the model's vLLM Service and the gateway's Service, with the SLO's sweep", () => {
    for (const key of models) {
      const cm = cms.find((c) => c.inputs.metadata.name === `load-test-${key}`)!;
      const direct = parseYaml(cm.inputs.data["direct.yaml"]);
      const gateway = parseYaml(cm.inputs.data["gateway.yaml"]);
      expect(direct.server).toEqual({ type: "vllm", model_name: key, base_url: `http://vllm-${key}.inference.svc:8000`, ignore_eos: false });
      expect(gateway.server).toEqual({ type: "vllm", model_name: key, base_url: "http://litellm.gateway.svc:4000", ignore_eos: false });
      const sweep = loadTestSweep(r.config.models[key as keyof typeof r.config.models]!, r.config.loadTest);
      expect(direct.load).toMatchObject({ type: "concurrent", stages: sweep.stages.map((s) => ({ concurrency_level: s.concurrency, num_requests: s.numRequests })) });
      // The same requests on both runs: only the target differs.
      expect({ ...gateway, server: undefined, storage: undefined }).toEqual({ ...direct, server: undefined, storage: undefined });
      expect(direct.tokenizer).toEqual({ pretrained_model_name_or_path: "/tokenizer" });
      expect(direct.storage).toEqual({ local_storage: { path: "/results/direct" } });
      expect(direct.api).toEqual({ type: "chat", streaming: true });
    }
  });

  it("writes results under the run id in the weights bucket, and records the GPU and TP the run served on", () => {
    for (const j of jobs) {
      const key = j.inputs.metadata.labels["llm-platform.io/model"];
      const spec = j.inputs.spec.template.spec;
      expect(spec.containers).toHaveLength(1);
      expect(spec.containers[0].args).toEqual(["s3", "sync", "/results", expect.stringMatching(new RegExp(`^s3://[^/]+-model-weights-[^/]+/load-tests/staging-1/${key}/$`)), "--only-show-errors"]);
      const env = Object.fromEntries(spec.initContainers[3].env.map((e: any) => [e.name, e.value]));
      const m = r.config.models[key as keyof typeof r.config.models]!;
      expect(env.LOAD_TEST_TP).toBe(String(m.tensorParallelSize));
      expect(env.LOAD_TEST_RUN_ID).toBe("staging-1");
      expect(env.LOAD_TEST_INSTANCE_TYPES).toBe(r.config.gpuPools[m.pool]!.instanceTypes.join(","));
      expect(["a10g", "l4", "l40s", "a100", "a100-80gb", "h100"]).toContain(env.LOAD_TEST_GPU);
    }
  });

  it("may write only under load-tests/ and read only the tested models' files", () => {
    const policy = JSON.parse(loadTestPolicy("arn:aws:s3:::b", loadTestModels(r.config)));
    const write = policy.Statement.find((s: any) => s.Sid === "WriteResults");
    expect(write.Resource).toBe("arn:aws:s3:::b/load-tests/*");
    expect(policy.Statement.find((s: any) => s.Sid === "ReadTokenizers").Resource).toEqual(models.map((k) => expect.stringMatching(new RegExp(`^arn:aws:s3:::b/openai/${k}/[^/]+/\\*$`))));
    const assoc = ofType(r, "aws:eks/podIdentityAssociation:PodIdentityAssociation").find((a) => a.inputs.serviceAccount === "load-test")!;
    expect(assoc.inputs.namespace).toBe("inference");
  });

  it("the gateway key comes from Vault, on a path the Vault policy grants", () => {
    const es = ofType(r, "kubernetes:external-secrets.io/v1:ExternalSecret").find((x) => x.inputs.metadata.name === "load-test-gateway-key")!;
    expect(es.inputs.metadata.namespace).toBe("inference");
    expect(es.inputs.spec.data).toEqual([{ secretKey: "api-key", remoteRef: { key: "llm-platform/staging/load-test", property: "api-key" } }]);
    const outside = { ...r.config, loadTest: { ...r.config.loadTest, gatewayKeyVaultRef: "ops/benchmarks#key" } } as PlatformConfig;
    expect(platformReadPaths(outside)).toContain("ops/benchmarks");
  });

  it("the whole cluster model holds: references (targets, ports, Secrets, ConfigMaps), flows, admission, ordering, secrets", () => {
    const flows = declaredFlows(r.config);
    expect(flows.filter((f) => f.name.startsWith("load-test")).map((f) => f.name)).toEqual(["load-test-to-model-servers", "load-test-to-gateway", "load-test-to-pod-identity-agent", "load-test-to-aws-apis"]);
    const m = buildModel(r);
    const policies = m.objects.filter((o) => o.obj.kind === "NetworkPolicy").map((o) => o.obj as any);
    expect(networkProblems({ model: m, flows, policies, facts: networkFacts(r.config) })).toEqual([]);
    expect([...admissionProblems(m), ...referenceProblems(m), ...orderingProblems(m), ...secretsProblems(m)]).toEqual([]);
  });

  it("the network model sees the Jobs' pods: without the allow rules of their gateway flow, the call is refused", () => {
    const m = buildModel(r);
    const policies = m.objects.filter((o) => o.obj.kind === "NetworkPolicy" && !JSON.stringify(o.obj).includes("load-test-to-gateway")).map((o) => o.obj as any);
    const p = networkProblems({ model: m, flows: declaredFlows(r.config), policies, facts: networkFacts(r.config) });
    expect(p.length).toBeGreaterThan(0);
    expect(p.join("\n")).toContain("load-test-to-gateway");
  });

  it("the references check sees the targets: a wrong port in a run's config is reported", () => {
    const m = buildModel(r);
    const cm = m.objects.find((o) => o.obj.kind === "ConfigMap" && o.obj.metadata.name === `load-test-${models[0]}`)!;
    const data = (cm.obj as any).data;
    data["direct.yaml"] = data["direct.yaml"].replace(".inference.svc:8000", ".inference.svc:8001");
    expect(referenceProblems(m).join("\n")).toMatch(new RegExp(`vllm-${models[0]}\\.inference\\.svc:8001.*not 8001`));
  });

  it("Istio admits the direct run: the inference AuthorizationPolicy names the Jobs' principal (and only when on)", async () => {
    expect(LOAD_TEST_PRINCIPAL).toBe(`cluster.local/ns/inference/sa/${jobs[0]!.inputs.spec.template.spec.serviceAccountName}`);
    const principals = (x: typeof r) => ofType(x, "kubernetes:security.istio.io/v1:AuthorizationPolicy").find((a) => a.inputs.metadata.name === "model-server-callers")!.inputs.spec.rules[0].from[0].source.principals;
    expect(principals(r)).toEqual(["cluster.local/ns/gateway/sa/litellm", LOAD_TEST_PRINCIPAL]);
    expect(principals(await stack("staging"))).toEqual(["cluster.local/ns/gateway/sa/litellm"]);
  });
});

describe("the Job's assemble step", () => {
  it("folds the runs' inference-perf stage reports and the run's env into result.json (the fixture)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "load-test-"));
    fs.cpSync(path.join(FIXTURES, "run"), dir, { recursive: true });
    const script = ASSEMBLE_SCRIPT.split(JSON.stringify(RESULTS_DIR)).join(JSON.stringify(dir));
    expect(script).not.toContain('"/results"');
    const expected = JSON.parse(fs.readFileSync(RESULT, "utf8"));
    const env = {
      ...process.env,
      LOAD_TEST_RUN_ID: expected.runId,
      LOAD_TEST_MODEL: expected.model,
      LOAD_TEST_GPU: expected.gpu,
      LOAD_TEST_INSTANCE_TYPES: expected.instanceTypes.join(","),
      LOAD_TEST_TP: String(expected.tensorParallelSize),
      LOAD_TEST_VLLM_IMAGE: expected.vllmImage,
      LOAD_TEST_IMAGE: expected.tool.image,
      LOAD_TEST_INPUT_TOKENS: "512",
      LOAD_TEST_OUTPUT_TOKENS: "256",
      LOAD_TEST_TARGET_DIRECT: expected.runs.direct.target,
      LOAD_TEST_TARGET_GATEWAY: expected.runs.gateway.target,
    };
    execFileSync("python3", ["-c", script], { env });
    const got = JSON.parse(fs.readFileSync(path.join(dir, "result.json"), "utf8"));
    expect(got.finishedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect({ ...got, finishedAt: expected.finishedAt }).toEqual(expected);
  });
});

describe("npm run capacity:calibrate", () => {
  const fixture = () => JSON.parse(fs.readFileSync(RESULT, "utf8"));
  const tmpCatalog = (points: ThroughputPoint[] = []) => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "calibrate-")), "throughput-calibrated.json");
    fs.writeFileSync(f, JSON.stringify({ points }));
    return f;
  };
  const quiet = { log: (_: string) => {}, err: (_: string) => {} };

  it("writes one calibrated point per direct stage, with the measured values and the run's provenance", () => {
    const out = fold([], parseResult(fixture()));
    expect(out.added).toBe(3);
    expect(out.points.map((p) => [p.model, p.gpu, p.tensorParallelSize, p.concurrency, p.outputTokensPerSecond])).toEqual([
      ["gpt-oss-20b", "a10g", 1, 1, 19.1],
      ["gpt-oss-20b", "a10g", 1, 16, 246.9],
      ["gpt-oss-20b", "a10g", 1, 33, 478.2],
    ]);
    expect(out.points.map((p) => p.ttftMs)).toEqual([
      { p50: 59.7, p95: 78.4, mean: 61.2 },
      { p50: 95.2, p95: 140.2, mean: 103.8 },
      { p50: 128.8, p95: 229, mean: 147.1 },
    ]);
    expect(out.points[0]!.itlMs).toEqual({ p50: 49.3, p95: 54.7, mean: 49.8 });
    const prov = out.points[2]!.provenance;
    expect(prov).toEqual({
      kind: "calibrated",
      source: "load test fixture-20b-a10g: quay.io/inference-perf/inference-perf:v0.6.1, s3 load-tests/fixture-20b-a10g/gpt-oss-20b/result.json",
      note: "direct to vLLM, stage 2: 328 requests ok, 2 failed; through the gateway at the same concurrency: 474.1 tok/s (-0.9%), TTFT p95 260.2 ms (+31.2 ms)",
      date: "2026-12-01",
    });
  });

  it("is idempotent: the same run twice leaves the file as once; other points stay", () => {
    const other: ThroughputPoint = { model: "gpt-oss-120b", gpu: "h100", tensorParallelSize: 1, concurrency: 64, outputTokensPerSecond: 1500, provenance: { kind: "calibrated", source: "load test older-run: x" } };
    const catalog = tmpCatalog([other]);
    expect(calibrate([RESULT, "--catalog", catalog], quiet.log, quiet.err)).toBe(0);
    const once = fs.readFileSync(catalog, "utf8");
    expect(calibrate([RESULT, "--catalog", catalog], quiet.log, quiet.err)).toBe(0);
    expect(fs.readFileSync(catalog, "utf8")).toBe(once);
    const points = JSON.parse(once).points as ThroughputPoint[];
    expect(points).toHaveLength(4);
    expect(points).toContainEqual(other);
  });

  it("--run-id relabels the run, --replicas divides the throughput by the replicas that served it", () => {
    const catalog = tmpCatalog();
    expect(calibrate([RESULT, "--catalog", catalog, "--run-id", "relabelled", "--replicas", "2"], quiet.log, quiet.err)).toBe(0);
    const points = JSON.parse(fs.readFileSync(catalog, "utf8")).points as ThroughputPoint[];
    expect(points.map((p) => p.outputTokensPerSecond)).toEqual([9.5, 123.5, 239.1]);
    expect(points.every((p) => p.provenance.source.startsWith("load test relabelled: "))).toBe(true);
  });

  it("refuses a malformed file with exit 2 and names each problem", () => {
    const bad = fixture();
    delete bad.runs.direct.stages[1].report.load_summary.concurrency;
    bad.runs.direct.stages[2].report.successes.throughput.output_tokens_per_sec = "fast";
    bad.gpu = "tpu";
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "calibrate-bad-"));
    const file = path.join(dir, "result.json");
    fs.writeFileSync(file, JSON.stringify(bad));
    const catalog = tmpCatalog();
    const errors: string[] = [];
    expect(calibrate([file, "--catalog", catalog], quiet.log, (s) => errors.push(s))).toBe(2);
    const text = errors.join("\n");
    expect(text).toContain("gpu: expected one of a10g, l4, l40s, a100, a100-80gb, h100, got \"tpu\"");
    expect(text).toContain("runs.direct.stages[1].report.load_summary.concurrency: expected an integer > 0");
    expect(text).toContain('runs.direct.stages[2].report.successes.throughput.output_tokens_per_sec: expected a number >= 0, got "fast"');
    // Nothing was written.
    expect(JSON.parse(fs.readFileSync(catalog, "utf8"))).toEqual({ points: [] });
  });

  it("the npm script exits 2 on a file that is not a result; the command on no file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "calibrate-cli-"));
    const file = path.join(dir, "summary_lifecycle_metrics.json");
    fs.writeFileSync(file, JSON.stringify(fixture().runs.direct.stages[0].report));
    const tsx = path.resolve(__dirname, "..", "node_modules", ".bin", "tsx");
    const cli = path.resolve(__dirname, "..", "stacks", "plan", "calibrate.ts");
    const run = spawnSync(tsx, [cli, file, "--catalog", tmpCatalog()], { encoding: "utf8" });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('schema: expected "llm-platform/load-test-result/v1", got undefined');
    const errors: string[] = [];
    expect(calibrate([], quiet.log, (s) => errors.push(s))).toBe(2);
    expect(errors.join("\n")).toContain("no result file given");
  });
});
