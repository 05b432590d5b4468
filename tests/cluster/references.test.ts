import { describe, expect, it } from "vitest";
import { stack, STACKS } from "../support/stacks";
import { buildModel, type ClusterModel, type K8sObject } from "./model";
import { addresses, objectReferenceProblems, referenceProblems, scalingProblems, serviceProblems, urlProblems } from "./references";

describe.each(STACKS)("references in %s", (name) => {
  it("Services select pods and their ports, in-cluster URLs name Services and ports, used objects exist, scalers have one target each", async () => {
    expect(referenceProblems(buildModel(await stack(name)))).toEqual([]);
  });
});

/** The model with one rendered object rewritten. */
function mapObject(m: ClusterModel, match: (o: K8sObject) => boolean, f: (o: any) => any): ClusterModel {
  const objects = m.objects.map((o) => (match(o.obj) ? { ...o, obj: f(structuredClone(o.obj)) } : o));
  return { ...m, objects, services: m.services };
}

describe("the reference checks fail when they should", () => {
  const prod = async () => buildModel(await stack("prod"));

  it("a Service whose selector matches no pod", async () => {
    const m = await prod();
    const services = m.services.map((s) => (s.origin === "Service safety/safety" ? { ...s, selector: { ...s.selector, "app.kubernetes.io/name": "safty" } } : s));
    expect(serviceProblems({ ...m, services })).toEqual(['Service safety/safety: its selector {"app.kubernetes.io/component":"safety","app.kubernetes.io/name":"safty"} selects no pod in safety']);
  });

  it("a Service port that targets a name no container declares", async () => {
    const m = await prod();
    const services = m.services.map((s) => (s.origin === "Service safety/safety" ? { ...s, ports: [{ name: "http", port: 8080, targetPort: "htp" }] } : s));
    expect(serviceProblems({ ...m, services })).toEqual(["Service safety/safety: port http targets htp, which no selected pod declares"]);
  });

  it("an in-cluster URL with the wrong port, and one to a Service that does not exist", async () => {
    const m = await prod();
    const releases = m.releases.map((r) =>
      r.chart === "opentelemetry-collector" ? { ...r, values: { ...r.values, config: { ...r.values.config, exporters: { "otlp/jaeger": { endpoint: "jaeger.tracing.svc:14317" }, extra: { endpoint: "http://nowhere.tracing.svc:80" } } } } } : r,
    );
    expect(urlProblems({ ...m, releases })).toEqual([
      "release tracing/otel-collector values.config.exporters.otlp/jaeger.endpoint: jaeger.tracing.svc:14317: Service tracing/jaeger exposes 4317, 4318, 16686, not 14317",
      "release tracing/otel-collector values.config.exporters.extra.endpoint: http://nowhere.tracing.svc:80 names no Service tracing/nowhere",
    ]);
  });

  it("a Secret a pod reads that no ExternalSecret writes", async () => {
    const m = await prod();
    const objects = m.objects.filter((o) => !(o.obj.kind === "ExternalSecret" && o.obj.metadata.name === "vllm-api-key"));
    const problems = objectReferenceProblems({ ...m, objects });
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(p).toMatch(/^Deployment inference\/vllm-gpt-oss-(20|120)b: uses Secret inference\/vllm-api-key, which nothing creates$/);
  });

  it("a ScaledObject whose target is missing, and a workload with both an HPA and a ScaledObject", async () => {
    const m = await prod();
    const broken = mapObject(m, (o) => o.kind === "ScaledObject" && o.metadata.name === "tei-embed", (o) => ({ ...o, spec: { ...o.spec, scaleTargetRef: { ...o.spec.scaleTargetRef, name: "tei-embedd" } } }));
    expect(scalingProblems(broken)).toEqual(["ScaledObject embeddings/tei-embed: its target Deployment embeddings/tei-embedd does not exist"]);
    const hpa = { urn: "x", type: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", waitsFor: new Set<string>(), obj: { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "tei-embed-cpu", namespace: "embeddings" }, spec: { scaleTargetRef: { kind: "Deployment", name: "tei-embed" } } } };
    expect(scalingProblems({ ...m, objects: [...m.objects, hpa] })).toEqual(["Deployment embeddings/tei-embed: scaled by ScaledObject tei-embed and HPA tei-embed-cpu; KEDA and an HPA would fight over replicas"]);
  });

  it("reads addresses with and without a scheme", () => {
    expect(addresses("grpc at milvus.vectordb.svc.cluster.local:19530 and http://tei-embed.embeddings.svc/embed")).toEqual([
      { name: "milvus", namespace: "vectordb", port: 19530, raw: "milvus.vectordb.svc.cluster.local:19530" },
      { name: "tei-embed", namespace: "embeddings", port: 80, raw: "http://tei-embed.embeddings.svc" },
    ]);
  });
});
