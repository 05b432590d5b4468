import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { alertRuleGroups } from "../components/alerts";
import { DASHBOARDS } from "../components/dashboards";
import { networkFacts } from "../components/flows";
import { platformNetworkPolicies, POD_IDENTITY_AGENT, type NetworkPolicyObject } from "../components/network-security";
import { declaredFlows } from "../components/platform-flows";
import { alertmanagerConfig, kubePrometheusStackValues, RECEIVER_SECRET_DIR } from "../components/observability";
import { clusterSecretStore, esoJwtRoleArgs, externalSecret, issuerUrl, jwtAuthBackendArgs, parseVaultRef, platformReadPaths, vaultJwtAudience, vaultPolicy } from "../components/secrets";
import { ALL_METRICS, HISTOGRAMS } from "../infra/catalog/metrics";
import { CHARTS } from "../infra/catalog/versions";
import { HELM_RELEASE_TYPE } from "../stacks/plan/render";
import { allowed, type Pod } from "./support/netpol";
import { parser as promqlParser } from "@prometheus-io/lezer-promql";
import { metricNames } from "./support/promql";
import { ofType, one, stack, STACKS, type RunResult } from "./support/stacks";

const ROOT = path.resolve(__dirname, "..");
const releases = (r: RunResult) => new Map(ofType(r, HELM_RELEASE_TYPE).map((x) => [x.inputs.name as string, x.inputs]));

// ---------------------------------------------------------------------------------------------
// Metric names: one list, checked against upstream.

function baseName(n: string): string {
  const b = n.replace(/_(bucket|sum|count)$/, "");
  return HISTOGRAMS.has(b) ? b : n;
}

const upstream = new Set(
  fs
    .readFileSync(path.join(ROOT, "tests/data/upstream-metrics.txt"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#")),
);

/** Series the platform's own recording rules produce (slo:*, llm_platform:*): known names too. */
function recordedNames(r: RunResult): Set<string> {
  return new Set(ofType(r, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").flatMap((x) => x.inputs.spec.groups.flatMap((g: any) => g.rules.filter((q: any) => q.record).map((q: any) => q.record as string))));
}

function renderedExpressions(r: RunResult): string[] {
  const rules = ofType(r, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").flatMap((x) => x.inputs.spec.groups.flatMap((g: any) => g.rules.map((q: any) => q.expr as string)));
  const dashboards = ofType(r, "kubernetes:core/v1:ConfigMap")
    .filter((c) => c.inputs.metadata.labels?.grafana_dashboard === "1")
    .flatMap((c) => Object.values(c.inputs.data as Record<string, string>).flatMap((json) => JSON.parse(json).panels.flatMap((p: any) => p.targets.map((t: any) => t.expr as string))));
  const templating = ofType(r, "kubernetes:core/v1:ConfigMap")
    .filter((c) => c.inputs.metadata.labels?.grafana_dashboard === "1")
    .flatMap((c) => Object.values(c.inputs.data as Record<string, string>).flatMap((json) => JSON.parse(json).templating.list.map((v: any) => v.definition as string)));
  return [...rules, ...dashboards, ...templating.map((d) => d.replace(/^label_values\(([^,]+),.*\)$/, "$1"))];
}

/** Positions of PromQL syntax errors in an expression (the Prometheus UI's own Lezer grammar). */
function promqlErrors(expr: string): number[] {
  const at: number[] = [];
  // Grafana replaces its range variables with a duration before the query reaches Prometheus.
  const promql = expr.replace(/\$__(rate_interval|interval|range)\b/g, "5m");
  promqlParser.parse(promql).iterate({
    enter(n) {
      if (n.type.isError) at.push(n.from);
    },
  });
  return at;
}

describe("PromQL syntax", () => {
  it("the parser finds errors", () => {
    expect(promqlErrors("sum by (a) (rate(x[5m])) > 1")).toEqual([]);
    expect(promqlErrors("sum(rate(x[5m])) by (a) >").length).toBeGreaterThan(0);
    expect(promqlErrors('rate(x{a="b"[5m])').length).toBeGreaterThan(0);
  });

  it.each(STACKS)("every rule and dashboard query of %s parses", async (name) => {
    const exprs = renderedExpressions(await stack(name));
    expect(exprs.length).toBeGreaterThan(100);
    expect(exprs.filter((e) => promqlErrors(e).length > 0)).toEqual([]);
  });
});

describe("metric names", () => {
  it("the extractor finds names and skips functions, labels and strings", () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le, model_name) (rate(vllm:e2e_request_latency_seconds_bucket{model_name="x"}[5m]))) > 1')).toEqual([
      "vllm:e2e_request_latency_seconds_bucket",
    ]);
    expect(metricNames("sum(DCGM_FI_DEV_FB_USED) / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)")).toEqual(["DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE"]);
  });

  it("every catalog metric is one upstream exposes", () => {
    expect([...ALL_METRICS].filter((m) => !upstream.has(m))).toEqual([]);
    // The names vLLM removed must not be in the catalog.
    expect(ALL_METRICS.has("vllm:gpu_cache_usage_perc")).toBe(false);
  });

  describe.each(STACKS)("in %s", (name) => {
    it("every rule and dashboard query uses only catalog metrics", async () => {
      const r = await stack(name);
      const exprs = renderedExpressions(r);
      expect(exprs.length).toBeGreaterThan(30);
      const recorded = recordedNames(r);
      expect(recorded.has("slo:sli_error:ratio_rate5m")).toBe(true);
      // Recorded names are not metrics: none may shadow an upstream name.
      expect([...recorded].filter((n) => ALL_METRICS.has(n))).toEqual([]);
      const unknown = exprs.flatMap((e) => metricNames(e).map(baseName)).filter((n) => !ALL_METRICS.has(n) && !recorded.has(n));
      expect([...new Set(unknown)]).toEqual([]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Alerts and runbooks

describe("alerts", () => {
  const runbooks = fs.readFileSync(path.join(ROOT, "docs/runbooks.md"), "utf8");
  const anchors = new Set([...runbooks.matchAll(/^## `?([A-Za-z0-9]+)`?\s*$/gm)].map((m) => m[1]!.toLowerCase()));

  it.each(STACKS)("%s: each alert has a summary, a description and a runbook section", async (name) => {
    const r = await stack(name);
    const groups = alertRuleGroups({ models: r.config.models, runbookBaseUrl: r.config.observability.runbookBaseUrl });
    const rules = groups.flatMap((g) => g.rules);
    for (const rule of rules) {
      expect(rule.annotations.summary.length, rule.alert).toBeGreaterThan(10);
      expect(rule.annotations.description.length, rule.alert).toBeGreaterThan(30);
      const anchor = rule.annotations.runbook_url.split("#")[1]!;
      expect(anchors.has(anchor), `docs/runbooks.md has no section for ${rule.alert}`).toBe(true);
    }
  });

  it("carries the seed's four alerts on real metric names", async () => {
    const r = await stack("prod");
    const byName = new Map(alertRuleGroups({ models: r.config.models, runbookBaseUrl: "x" }).flatMap((g) => g.rules).map((q) => [q.alert, q.expr]));
    expect(byName.get("VLLMQueueDepthHigh")).toContain("vllm:num_requests_waiting");
    expect(byName.get("GPUUtilizationHigh")).toContain("DCGM_FI_DEV_GPU_UTIL");
    expect(byName.get("VLLMModelDown")).toContain("kube_deployment_status_replicas_available");
    expect(byName.get("VLLMTargetDown")).toContain("up{");
    expect(byName.get("VLLMHighErrorRate")).toContain('status=~"5.."');
    expect(byName.get("VLLMRequestsAborted")).toContain("vllm:request_success_total");
  });

  it("alerts on new XID events: critical only for the codes that mean the node must go", () => {
    const rules = alertRuleGroups({ models: {} as any, runbookBaseUrl: "x" }).find((g) => g.name === "gpu")!.rules;
    const xid = rules.filter((q) => q.expr.includes("DCGM_FI_DEV_XID_ERRORS"));
    expect(xid.map((q) => [q.alert, q.labels.severity])).toEqual([["GPUXidDrainNode", "critical"], ["GPUXidError", "warning"]]);
    // The gauge holds the last XID code: a new event is a change of value, never `> 0` alone.
    for (const q of xid) expect(q.expr).toMatch(/changes\(DCGM_FI_DEV_XID_ERRORS\[\d+[mh]\]\) > 0/);
    const [crit, warn] = xid as [typeof xid[0], typeof xid[0]];
    expect([...crit.expr.matchAll(/== (\d+)/g)].map((x) => Number(x[1]))).toEqual([48, 63, 64, 74, 79, 92, 94, 95]);
    expect([...warn.expr.matchAll(/!= (\d+)/g)].map((x) => Number(x[1]))).toEqual([48, 63, 64, 74, 79, 92, 94, 95]);
    expect(warn.expr).not.toContain("==");
  });

  it("derives the SLO thresholds from each model's config", async () => {
    const r = await stack("prod");
    const slo = alertRuleGroups({ models: r.config.models, runbookBaseUrl: "x" }).find((g) => g.name === "llm-slo")!.rules;
    const ttft20 = slo.find((q) => q.alert === "VLLMTTFTSLOBreach" && q.labels.model_name === "gpt-oss-20b")!;
    const ttft120 = slo.find((q) => q.alert === "VLLMTTFTSLOBreach" && q.labels.model_name === "gpt-oss-120b")!;
    expect(ttft20.expr).toMatch(/> 0\.15$/);
    expect(ttft120.expr).toMatch(/> 0\.3$/);
    expect(slo.filter((q) => q.alert === "VLLME2ELatencySLOBreach")).toHaveLength(2);
    const dev = await stack("dev");
    expect(alertRuleGroups({ models: dev.config.models, runbookBaseUrl: "x" }).find((g) => g.name === "llm-slo")!.rules).toHaveLength(2);
  });
});

describe("dashboards", () => {
  it("inference has every panel the issue lists, per model", () => {
    const d = DASHBOARDS[0]!();
    const titles = d.panels.map((p) => p.title);
    for (const t of ["Time to first token", "Inter-token latency", "End-to-end request latency", "Tokens per second", "Running and waiting requests", "KV-cache usage", "Prefix-cache hit rate", "Errors"])
      expect(titles).toContain(t);
    expect(d.panels.find((p) => p.title === "End-to-end request latency")!.targets.map((t) => t.legendFormat)).toEqual(["{{model_name}} p50", "{{model_name}} p95", "{{model_name}} p99"]);
    expect(d.panels.every((p) => p.targets.every((t) => t.expr.includes('model_name=~"$model"') || t.expr.includes("namespace="))));
  });

  it.each(STACKS)("%s: are provisioned as labelled ConfigMaps the Grafana sidecar picks up", async (name) => {
    const r = await stack(name);
    const cms = ofType(r, "kubernetes:core/v1:ConfigMap").filter((c) => c.inputs.metadata.labels?.grafana_dashboard === "1");
    expect(cms.map((c) => c.inputs.metadata.name).sort()).toEqual([
      "dashboard-embeddings-vectordb",
      "dashboard-gpu-fleet",
      "dashboard-llm-gateway",
      "dashboard-llm-inference",
      "dashboard-safety",
      "dashboard-slos",
    ]);
    const values = releases(r).get("kube-prometheus-stack")!.values;
    expect(values.grafana.sidecar.dashboards).toEqual({ enabled: true, label: "grafana_dashboard", labelValue: "1", searchNamespace: "ALL" });
  });
});

// ---------------------------------------------------------------------------------------------
// Secrets

describe("secrets", () => {
  it("parses Vault references", () => {
    expect(parseVaultRef("llm-platform/prod/huggingface#token")).toEqual({ path: "llm-platform/prod/huggingface", property: "token" });
  });

  it("grants read on exactly the platform's paths", () => {
    const paths = platformReadPaths({
      vault: { pathPrefix: "llm-platform/prod", operatorSecrets: { huggingfaceToken: "llm-platform/prod/hf#token", azureContentSafetyKey: "shared/azure#key" } } as any,
      observability: { alertmanager: { receiver: { type: "pagerduty", routingKeyVaultRef: "shared/pagerduty#key" } } } as any,
    });
    expect(paths).toEqual(["llm-platform/prod/*", "shared/azure", "shared/pagerduty"]);
    const hcl = vaultPolicy("secret", paths);
    expect(hcl).toContain('path "secret/data/llm-platform/prod/*" {\n  capabilities = ["read"]\n}');
    expect(hcl).toContain('path "secret/metadata/shared/azure" {\n  capabilities = ["read", "list"]\n}');
    expect(hcl).not.toMatch(/create|update|delete|sudo/);
  });

  it("the ClusterSecretStore is external-secrets.io/v1 with Vault JWT auth and a token ESO mints for its own service account", () => {
    const s = clusterSecretStore({ server: "https://v:8200", namespace: "ml", kvMount: "secret", jwtAuthPath: "jwt-c", audience: "https://v:8200" }) as any;
    expect(s.apiVersion).toBe("external-secrets.io/v1");
    expect(s.spec.provider.vault).toMatchObject({ server: "https://v:8200", path: "secret", version: "v2", namespace: "ml" });
    expect(Object.keys(s.spec.provider.vault.auth)).toEqual(["jwt"]);
    expect(s.spec.provider.vault.auth.jwt).toEqual({
      path: "jwt-c",
      role: "external-secrets",
      kubernetesServiceAccountToken: { serviceAccountRef: { name: "external-secrets", namespace: "external-secrets", audiences: ["https://v:8200"] }, expirationSeconds: 600 },
    });
  });

  it("the JWT mount verifies against the cluster's OIDC issuer, and the role binds ESO's subject and the store's audience", () => {
    expect(issuerUrl("oidc.eks.us-east-1.amazonaws.com/id/ABC")).toBe("https://oidc.eks.us-east-1.amazonaws.com/id/ABC");
    expect(issuerUrl("https://oidc.eks.us-east-1.amazonaws.com/id/ABC/")).toBe("https://oidc.eks.us-east-1.amazonaws.com/id/ABC");
    expect(vaultJwtAudience("https://vault.example.com:8200/")).toBe("https://vault.example.com:8200");
    const issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/ABC";
    expect(jwtAuthBackendArgs("jwt-c", issuer, "c")).toMatchObject({ type: "jwt", path: "jwt-c", oidcDiscoveryUrl: issuer, boundIssuer: issuer, jwtSupportedAlgs: ["RS256"] });
    expect(esoJwtRoleArgs("jwt-c", "https://v:8200", "c-external-secrets")).toEqual({
      backend: "jwt-c",
      roleName: "external-secrets",
      roleType: "jwt",
      boundAudiences: ["https://v:8200"],
      boundSubject: "system:serviceaccount:external-secrets:external-secrets",
      userClaim: "sub",
      tokenPolicies: ["c-external-secrets"],
      tokenTtl: 900,
      tokenMaxTtl: 3600,
    });
  });

  it("ExternalSecrets read Vault keys into an owned Secret", () => {
    const es = externalSecret({ name: "x", namespace: "n", component: "c", data: [{ secretKey: "k", ref: { path: "p/q", property: "r" } }] }) as any;
    expect(es.spec.secretStoreRef).toEqual({ name: "vault", kind: "ClusterSecretStore" });
    expect(es.spec.data).toEqual([{ secretKey: "k", remoteRef: { key: "p/q", property: "r" } }]);
  });

  describe.each(STACKS)("in %s", (name) => {
    it("configures Vault: JWT auth against this cluster's OIDC issuer, a read-only policy, a role bound to ESO", async () => {
      const r = await stack(name);
      // The issuer the mock eks.Cluster reports (stacks/plan/mocks.ts), with its scheme.
      const issuer = `https://oidc.eks.${r.config.region}.amazonaws.com/id/MOCKOIDC0000000000000000000000`;
      const mount = one(r, "vault:jwt/authBackend:AuthBackend");
      expect(mount.inputs).toMatchObject({ type: "jwt", path: `jwt-llm-platform-${name}`, oidcDiscoveryUrl: issuer, boundIssuer: issuer });
      // Nothing of the Kubernetes auth method is left: no TokenReview, no reviewer, no API endpoint.
      expect(r.resources.filter((x) => x.type.startsWith("vault:kubernetes/") || x.type === "vault:index/authBackend:AuthBackend").map((x) => x.type)).toEqual([]);
      const role = one(r, "vault:jwt/authBackendRole:AuthBackendRole");
      expect(role.inputs).toMatchObject({
        backend: `jwt-llm-platform-${name}`,
        roleName: "external-secrets",
        roleType: "jwt",
        boundAudiences: [r.config.vault.address],
        boundSubject: "system:serviceaccount:external-secrets:external-secrets",
        userClaim: "sub",
        tokenPolicies: [`llm-platform-${name}-external-secrets`],
      });
      expect(role.options.dependsOn).toContain(mount.urn);
      const provider = one(r, "pulumi:providers:vault");
      expect(provider.inputs.address).toBe(r.config.vault.address);
      expect(provider.inputs.token).toBeUndefined();
      const store = one(r, "kubernetes:external-secrets.io/v1:ClusterSecretStore");
      expect(store.inputs.spec.provider.vault.auth.jwt.path).toBe(mount.inputs.path);
      expect(store.options.dependsOn).toContain(role.urn);
    });

    it("writes generated credentials to KV v2 as secrets, and nowhere else", async () => {
      const r = await stack(name);
      const kv = ofType(r, "vault:kv/secretV2:SecretV2");
      const names = ["generated/grafana", "generated/milvus", "generated/vllm", ...(r.config.edge.enabled ? ["generated/litellm", "generated/postgres", "generated/redis"] : [])];
      expect(kv.map((x) => x.inputs.name).sort()).toEqual(names.sort().map((p) => `${r.config.vault.pathPrefix}/${p}`));
      for (const x of kv) {
        expect(x.inputs.dataJson).toBe("[secret]");
        expect(x.secretPaths).toContain("dataJson");
      }
      expect(ofType(r, "random:index/randomPassword:RandomPassword")).toHaveLength(r.config.edge.enabled ? 7 : 3);
    });

    it("installs ESO from the pinned chart, able to mint its own tokens and without auth-delegator", async () => {
      const rel = releases(await stack(name)).get("external-secrets")!;
      expect(rel).toMatchObject({ version: CHARTS.externalSecrets.version, namespace: "external-secrets" });
      expect(rel.values).toMatchObject({ serviceAccount: { name: "external-secrets" }, rbac: { create: true, serviceAccountTokenCreate: true } });
      // Vault's JWT auth does no TokenReview, so ESO needs no system:auth-delegator binding.
      expect(rel.values).not.toHaveProperty("systemAuthDelegator");
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Observability, autoscaling, tracing

describe("kube-prometheus-stack values", () => {
  it.each(STACKS)("%s: selectors see every monitor and rule, storage and retention per env, Grafana admin from the ESO secret", async (name) => {
    const r = await stack(name);
    const rel = releases(r).get("kube-prometheus-stack")!;
    expect(rel).toMatchObject({ version: CHARTS.kubePrometheusStack.version, namespace: "monitoring", skipCrds: true });
    const p = rel.values.prometheus.prometheusSpec;
    for (const k of ["serviceMonitorSelectorNilUsesHelmValues", "podMonitorSelectorNilUsesHelmValues", "ruleSelectorNilUsesHelmValues"]) expect(p[k]).toBe(false);
    expect(p.retention).toBe(r.config.observability.prometheus.retention);
    expect(p.replicas).toBe(r.config.observability.prometheus.replicas);
    expect(p.storageSpec.volumeClaimTemplate.spec).toMatchObject({ storageClassName: "gp3", resources: { requests: { storage: `${r.config.observability.prometheus.storageGi}Gi` } } });
    expect(rel.values.grafana.admin).toEqual({ existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" });
    expect(rel.values.grafana).not.toHaveProperty("adminPassword");
    expect(rel.values.crds).toEqual({ enabled: false });
    const es = ofType(r, "kubernetes:external-secrets.io/v1:ExternalSecret").find((x) => x.inputs.metadata.name === "grafana-admin")!;
    expect(es.inputs.spec.data.map((d: any) => d.remoteRef.key)).toEqual([`${r.config.vault.pathPrefix}/generated/grafana`, `${r.config.vault.pathPrefix}/generated/grafana`]);
  });

  it.each([
    [{ type: "none" }, "null", undefined],
    [{ type: "slack", channel: "#a", webhookUrlVaultRef: "p#k" }, "platform", "slack_configs"],
    [{ type: "pagerduty", routingKeyVaultRef: "p#k" }, "platform", "pagerduty_configs"],
  ] as const)("Alertmanager routes %j to %s, reading the secret from a file", (receiver, route, key) => {
    const c = alertmanagerConfig(receiver) as any;
    expect(c.route.receiver).toBe(route);
    if (key) {
      const conf = c.receivers.find((x: any) => x.name === "platform")[key][0];
      expect(JSON.stringify(conf)).toContain(RECEIVER_SECRET_DIR);
      expect(conf.api_url ?? conf.routing_key).toBeUndefined();
    }
  });

  it("prod sends alerts to PagerDuty through a Vault-synced Secret mounted in Alertmanager", async () => {
    const r = await stack("prod");
    const values = kubePrometheusStackValues({ obs: r.config.observability, clusterName: "c", environment: "prod" }) as any;
    expect(values.alertmanager.alertmanagerSpec.secrets).toEqual(["alertmanager-receivers"]);
    expect(values.alertmanager.alertmanagerSpec.replicas).toBe(3);
    const es = ofType(r, "kubernetes:external-secrets.io/v1:ExternalSecret").find((x) => x.inputs.metadata.name === "alertmanager-receivers")!;
    expect(es.inputs.spec.data[0].remoteRef).toEqual({ key: "llm-platform/prod/alerting", property: "pagerduty-routing-key" });
  });
});

describe.each(STACKS)("KEDA and tracing in %s", (name) => {
  it("KEDA comes from its pinned chart in its own namespace", async () => {
    const r = await stack(name);
    const keda = releases(r).get("keda")!;
    expect(keda).toMatchObject({ version: CHARTS.keda.version, namespace: "keda" });
    expect(keda.values.operator.replicaCount).toBe(r.config.autoscaling.kedaOperatorReplicas);
  });

  it("tracing runs an OTel collector exporting to Jaeger v2, both pinned", async () => {
    const r = await stack(name);
    const rel = releases(r);
    expect(rel.get("otel-collector")).toMatchObject({ version: CHARTS.otelCollector.version, namespace: "tracing" });
    expect(rel.get("jaeger")).toMatchObject({ version: CHARTS.jaeger.version, namespace: "tracing" });
    const c = rel.get("otel-collector")!.values;
    expect(c.mode).toBe("deployment");
    expect(c.config.exporters["otlp/jaeger"].endpoint).toBe("jaeger.tracing.svc:4317");
    expect(c.config.processors.probabilistic_sampler.sampling_percentage).toBe(r.config.observability.tracing.samplingRatio * 100);
    const badger = r.config.observability.tracing.jaegerStorage === "badger";
    expect(rel.get("jaeger")!.values.userconfig !== undefined).toBe(badger);
  });
});

// ---------------------------------------------------------------------------------------------
// Network policy: allowed and denied pairs.

const pod = (namespace: string, labels: Record<string, string> = {}): Pod => ({ namespace, labels });
const modelServer = pod("inference", { "app.kubernetes.io/component": "model-server" });
const gateway = pod("gateway", { "app.kubernetes.io/component": "gateway" });
const tei = pod("embeddings", { "app.kubernetes.io/component": "embeddings" });
const milvus = pod("vectordb", { "app.kubernetes.io/name": "milvus", "app.kubernetes.io/instance": "milvus" });
const safety = pod("safety", { "app.kubernetes.io/component": "safety" });
const prometheus = pod("monitoring", { "app.kubernetes.io/name": "prometheus" });
const grafana = pod("monitoring", { "app.kubernetes.io/name": "grafana" });
const eso = pod("external-secrets", { "app.kubernetes.io/name": "external-secrets" });
const kedaOperator = pod("keda", { "app.kubernetes.io/name": "keda-operator" });
const coredns = pod("kube-system", { "k8s-app": "kube-dns" });
const dcgm = pod("nvidia", { "app.kubernetes.io/name": "dcgm-exporter" });

describe("network policies (prod's declared flows)", () => {
  let policies: NetworkPolicyObject[] = [];
  let facts: ReturnType<typeof networkFacts>;
  beforeAll(async () => {
    const r = await stack("prod");
    facts = networkFacts(r.config);
    policies = platformNetworkPolicies(declaredFlows(r.config), r.config.networkSecurity.istio.enabled);
  });
  // Addresses by role in prod's network plan (10.42.0.0/16): the control plane's and the
  // endpoints' /28s, a node, a public-subnet ALB address, Vault.
  const controlPlane = () => ({ ip: facts.controlPlaneCidrs[0]!.replace(/0\/28$/, "5") });
  const awsEndpoint = () => ({ ip: facts.endpointCidrs[1]!.replace(/\d+\/28$/, (m) => String(Number(m.split("/")[0]) + 6)) });
  const alb = () => ({ ip: facts.publicCidrs[0]!.replace(/0\/22$/, "10") });
  const node = { ip: "10.42.5.9" };

  it.each([
    ["gateway -> model server :8000", () => gateway, () => modelServer, 8000],
    ["gateway -> TEI :80", () => gateway, () => tei, 80],
    ["gateway -> safety :8080", () => gateway, () => safety, 8080],
    ["Prometheus scrapes vLLM through the sidecar's merged port :15020", () => prometheus, () => modelServer, 15020],
    ["Prometheus scrapes DCGM :9400", () => prometheus, () => dcgm, 9400],
    ["Prometheus scrapes kubelet on a node :10250", () => prometheus, () => node, 10250],
    ["KEDA -> Prometheus :9090", () => kedaOperator, () => prometheus, 9090],
    ["Grafana -> Prometheus (same namespace)", () => grafana, () => prometheus, 9090],
    ["ESO -> Vault :8200", () => eso, () => ({ ip: "10.10.4.20" }), 8200],
    ["model server -> S3/STS interface endpoint :443", () => modelServer, awsEndpoint, 443],
    ["model server -> Pod Identity agent :80", () => modelServer, () => ({ ip: "169.254.170.23" }), 80],
    ["Milvus -> S3/STS interface endpoint :443", () => milvus, awsEndpoint, 443],
    ["ESO -> API server :443", () => eso, controlPlane, 443],
    ["API server -> ESO webhook :10250", controlPlane, () => pod("external-secrets", { "app.kubernetes.io/name": "external-secrets-webhook" }), 10250],
    ["ALB -> gateway :4000", alb, () => gateway, 4000],
    ["TEI -> OTel collector :4317", () => tei, () => pod("tracing", { "app.kubernetes.io/name": "opentelemetry-collector" }), 4317],
  ] as const)("allows %s", (_n, from, to, port) => {
    expect(allowed(policies, from(), to(), port)).toBe(true);
  });

  it.each([["model server"], ["TEI"], ["Milvus"], ["safety"], ["DCGM"]])("allows DNS from %s", (n) => {
    const from = { "model server": modelServer, TEI: tei, Milvus: milvus, safety, DCGM: dcgm }[n]!;
    expect(allowed(policies, from, coredns, 53, "UDP")).toBe(true);
  });

  it.each([
    ["model server -> gateway", () => modelServer, () => gateway, 4000],
    ["TEI -> model server", () => tei, () => modelServer, 8000],
    ["model server -> TEI (no caller declared)", () => modelServer, () => tei, 80],
    ["model server -> Milvus (no caller declared)", () => modelServer, () => milvus, 19530],
    ["safety -> model server", () => safety, () => modelServer, 8000],
    ["a non-gateway pod in gateway -> model server", () => pod("gateway", { "app.kubernetes.io/component": "other" }), () => modelServer, 8000],
    ["gateway -> model server on another port", () => gateway, () => modelServer, 22],
    ["gateway -> Milvus", () => gateway, () => milvus, 19530],
    ["model server -> Vault", () => modelServer, () => ({ ip: "10.10.4.20" }), 8200],
    ["ESO -> Vault on another port", () => eso, () => ({ ip: "10.10.4.20" }), 443],
    ["ESO -> internet", () => eso, () => ({ ip: "52.216.1.1" }), 443],
    ["model server -> S3's public addresses (only the endpoints)", () => modelServer, () => ({ ip: "52.216.1.1" }), 443],
    ["TEI -> internet", () => tei, () => ({ ip: "52.216.1.1" }), 443],
    ["model server -> model server", () => modelServer, () => modelServer, 8000],
    ["Grafana -> model server", () => grafana, () => modelServer, 8000],
    ["DCGM -> API server", () => dcgm, controlPlane, 443],
    ["a node (or any pod IP) -> ESO webhook: only the control plane's /28s", () => node, () => pod("external-secrets", { "app.kubernetes.io/name": "external-secrets-webhook" }), 10250],
    ["a node (or any pod IP) -> gateway: only the public subnets", () => node, () => gateway, 4000],
    ["safety -> the VPC on 443 (internet egress excepts the VPC)", () => safety, () => node, 443],
    ["internet -> model server", () => ({ ip: "52.216.1.1" }), () => modelServer, 8000],
  ] as const)("denies %s", (_n, from, to, port) => {
    expect(allowed(policies, from(), to(), port)).toBe(false);
  });

  it("puts a default-deny policy in every platform namespace and istio-system", () => {
    const denies = policies.filter((p) => p.metadata.name === "default-deny");
    expect(denies.map((p) => p.metadata.namespace).sort()).toEqual(["embeddings", "external-secrets", "gateway", "inference", "istio-system", "keda", "monitoring", "nvidia", "rag", "safety", "tracing", "vectordb"]);
    for (const d of denies) expect(d.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    expect(POD_IDENTITY_AGENT).toBe("169.254.170.23/32");
  });
});

describe.each(STACKS)("Istio in %s", (name) => {
  it("follows networkSecurity.istio.enabled: STRICT mTLS, and only the gateway may POST completions", async () => {
    const r = await stack(name);
    const on = r.config.networkSecurity.istio.enabled;
    expect(on).toBe(name !== "dev");
    const rel = releases(r);
    expect(rel.has("istiod")).toBe(on);
    const peer = ofType(r, "kubernetes:security.istio.io/v1:PeerAuthentication");
    const authz = ofType(r, "kubernetes:security.istio.io/v1:AuthorizationPolicy");
    const mesh = peer.filter((p) => p.inputs.metadata.namespace === "istio-system");
    expect(mesh.length).toBe(on ? 1 : 0);
    if (!on) return;
    expect(mesh[0]!.inputs.spec.mtls.mode).toBe("STRICT");
    const rules = authz[0]!.inputs.spec.rules;
    expect(rules[0].from[0].source.principals).toEqual(["cluster.local/ns/gateway/sa/litellm"]);
    expect(rules[0].to[0].operation).toEqual({ methods: ["POST"], paths: ["/v1/chat/completions", "/v1/completions"] });
    const inference = ofType(r, "kubernetes:core/v1:Namespace").find((x) => x.inputs.metadata.name === "inference")!;
    expect(inference.inputs.metadata.labels["istio-injection"]).toBe("enabled");
  });
});
