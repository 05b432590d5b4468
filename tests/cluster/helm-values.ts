/**
 * Check 8 of the cluster model: Helm values are read.
 *
 * Helm silently ignores a value that no template reads. For every release the program records,
 * every key path it sets in `values` must either exist in the chart's values.yaml at the pinned
 * version (subcharts' values under their alias key), or lie under a subtree that the chart's
 * templates pass through whole (PASS_THROUGH below, each row with the template it comes from).
 * Where the chart ships values.schema.json, the coalesced values must validate against it, as
 * `helm install` would. The release's version must be the reference chart's version.
 *
 * The reference data (values.yaml, values.schema.json, Chart.yaml, SOURCE.txt of every pinned
 * chart and subchart) is read from ../shared/reference/charts/, never copied into the project.
 *
 * Arrays are leaves: the check accepts an array at a key the chart declares and does not look
 * inside its items (lists such as tolerations, extraEnv, volumes are passed to the pod spec).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { parse as parseYaml } from "yaml";

export type ValuePath = readonly string[];

/** Renders a key path the way Helm's --set would, quoting keys that contain dots. */
export function formatPath(p: ValuePath): string {
  return p.map((k, i) => (/^[A-Za-z0-9_-]+$/.test(k) ? `${i ? "." : ""}${k}` : `[${JSON.stringify(k)}]`)).join("");
}

// ---------------------------------------------------------------------------------------------
// Chart facts read from the charts' templates at the pinned versions.
// ---------------------------------------------------------------------------------------------

export interface PassThrough {
  /** Reference folder name under ../shared/reference/charts/ (the chart's name). */
  readonly chart: string;
  /** Key path in the release values (a subchart's keys start with its alias). */
  readonly path: ValuePath;
  /**
   * "subtree": the template passes everything under `path` on whole (toYaml, tpl, range over a
   * free-form map), so any key below it is read.
   * "key": the template reads exactly this key although values.yaml does not declare it.
   */
  readonly reads: "subtree" | "key";
  /** Upstream repository, tag or commit, and the template file that reads it. */
  readonly repo: string;
  readonly ref: string;
  readonly template: string;
  readonly how: string;
}

const EKS_CHARTS_EFA = { repo: "aws/eks-charts", ref: "bfe91c4b9257c80f754ad4b3d6a9a3c239b2b8ec" } as const;
const EKS_CHARTS_LBC = { repo: "aws/eks-charts", ref: "5239609242f3430be50fb0b714a24d3ef2b47983" } as const;
const DCGM = { repo: "NVIDIA/dcgm-exporter", ref: "4.5.3-4.8.2 (691c92762eb551313c825f6efe4ceeee20982801)" } as const;
const ESO = { repo: "external-secrets/external-secrets", ref: "v2.9.0 (cc5bfbc2234ace9cb0caff4ea89c435cf517b27b)" } as const;
const JAEGER = { repo: "jaegertracing/helm-charts", ref: "jaeger-4.11.1 (6c602b54a1800ff35ea055d16789a9522166e0a6)" } as const;
const KARPENTER = { repo: "aws/karpenter-provider-aws", ref: "v1.14.1 (bde00654cd316fddb3dccfba3f5ac07039865429)" } as const;
const ISTIO = { repo: "istio/istio", ref: "1.30.3 (56df41f63e513f834c9a3af33d8aed82d1d961f2)" } as const;
const KEDA = { repo: "kedacore/charts", ref: "v2.20.2 (cbb9bb8ce0809dc9048f72302f7c09765d66ed56)" } as const;
const KPS = { repo: "prometheus-community/helm-charts", ref: "kube-prometheus-stack-88.5.3 (ea930baeebeba39f56d6b44e351f23b2a072a600)" } as const;
const GRAFANA = { repo: "grafana-community/helm-charts", ref: "grafana-12.11.1 (864f7794683680e5100a38670e103c4fa6e37e29)" } as const;
const LITELLM = { repo: "BerriAI/litellm", ref: "see ../shared/reference/charts/litellm-helm/SOURCE.txt" } as const;
const MILVUS = { repo: "zilliztech/milvus-helm", ref: "milvus-5.0.19 (98324768aeb70ebfea91f9968853e0fa29838639)" } as const;
const NVIDIA_DP = { repo: "NVIDIA/k8s-device-plugin", ref: "v0.20.0 (1b826acc6af3079d8923bac395c3124b8861a9a6)" } as const;
const OTEL = { repo: "open-telemetry/opentelemetry-helm-charts", ref: "opentelemetry-collector-0.170.0 (f5178cb97987004b474867a99e081be59b7f9bab)" } as const;

const subtree = (chart: string, p: string | ValuePath, src: { repo: string; ref: string }, template: string, how: string): PassThrough => ({
  chart,
  path: typeof p === "string" ? p.split(".") : p,
  reads: "subtree",
  ...src,
  template,
  how,
});
const key = (chart: string, p: string, src: { repo: string; ref: string }, template: string, how: string): PassThrough => ({
  chart,
  path: p.split("."),
  reads: "key",
  ...src,
  template,
  how,
});

const TOYAML = "toYaml of the whole value";

/** Subtrees (and undeclared keys) the pinned charts' templates read. One row per fact, with its source. */
export const PASS_THROUGH: readonly PassThrough[] = [
  subtree("aws-efa-k8s-device-plugin", "resources", EKS_CHARTS_EFA, "stable/aws-efa-k8s-device-plugin/templates/daemonset.yaml", `with .Values.resources: ${TOYAML}`),
  subtree("aws-load-balancer-controller", "nodeSelector", EKS_CHARTS_LBC, "stable/aws-load-balancer-controller/templates/deployment.yaml", `with .Values.nodeSelector: ${TOYAML}`),
  subtree("aws-load-balancer-controller", "resources", EKS_CHARTS_LBC, "stable/aws-load-balancer-controller/templates/deployment.yaml", `toYaml .Values.resources`),
  subtree("dcgm-exporter", "nodeSelector", DCGM, "deployment/templates/daemonset.yaml", `toYaml .Values.nodeSelector`),
  subtree("dcgm-exporter", "serviceMonitor.additionalLabels", DCGM, "deployment/templates/service-monitor.yaml", `toYaml .Values.serviceMonitor.additionalLabels`),
  subtree("external-secrets", "resources", ESO, "deploy/charts/external-secrets/templates/deployment.yaml", `with .Values.resources: ${TOYAML}`),
  subtree("external-secrets", "certController.resources", ESO, "deploy/charts/external-secrets/templates/cert-controller-deployment.yaml", `with .Values.certController.resources: ${TOYAML}`),
  subtree("external-secrets", "webhook.resources", ESO, "deploy/charts/external-secrets/templates/webhook-deployment.yaml", `with .Values.webhook.resources: ${TOYAML}`),
  subtree("istiod", "meshConfig", ISTIO, "manifests/charts/istio-control/istio-discovery/templates/configmap.yaml", "mergeOverwrite (the chart's mesh config) .Values.meshConfig: MeshConfig fields are the API"),
  subtree("jaeger", "jaeger.resources", JAEGER, "charts/jaeger/templates/jaeger/jaeger-deploy.yaml", `with .Values.jaeger.resources: ${TOYAML} (not declared in values.yaml)`),
  subtree("jaeger", "userconfig", JAEGER, "charts/jaeger/templates/jaeger/jaeger-user-config.yaml", `toYaml .Values.userconfig into the config map the deployment mounts (values.yaml: userconfig is null)`),
  subtree("karpenter", "controller.resources", KARPENTER, "charts/karpenter/templates/deployment.yaml", `with .Values.controller.resources: ${TOYAML}`),
  subtree("karpenter", "nodeSelector", KARPENTER, "charts/karpenter/templates/deployment.yaml", `with .Values.nodeSelector: ${TOYAML}`),
  key("keda", "podDisruptionBudget.operator.minAvailable", KEDA, "keda/templates/manager/poddisruptionbudget.yaml", "reads .Values.podDisruptionBudget.operator.minAvailable (values.yaml: operator: {} with the key in a comment)"),
  key("keda", "podDisruptionBudget.webhooks.minAvailable", KEDA, "keda/templates/webhooks/poddisruptionbudget.yaml", "reads .Values.podDisruptionBudget.webhooks.minAvailable (values.yaml: webhooks: {} with the key in a comment)"),
  subtree("kube-prometheus-stack", "alertmanager.alertmanagerSpec.resources", KPS, "charts/kube-prometheus-stack/templates/alertmanager/alertmanager.yaml", "toYaml .Values.alertmanager.alertmanagerSpec.resources"),
  subtree("kube-prometheus-stack", "alertmanager.alertmanagerSpec.storage", KPS, "charts/kube-prometheus-stack/templates/alertmanager/alertmanager.yaml", "tpl (toYaml .Values.alertmanager.alertmanagerSpec.storage)"),
  subtree("kube-prometheus-stack", "prometheus.prometheusSpec.externalLabels", KPS, "charts/kube-prometheus-stack/templates/prometheus/prometheus.yaml", "tpl (toYaml .Values.prometheus.prometheusSpec.externalLabels)"),
  subtree("kube-prometheus-stack", "prometheus.prometheusSpec.resources", KPS, "charts/kube-prometheus-stack/templates/prometheus/prometheus.yaml", "toYaml .Values.prometheus.prometheusSpec.resources"),
  subtree("kube-prometheus-stack", "prometheus.prometheusSpec.storageSpec", KPS, "charts/kube-prometheus-stack/templates/prometheus/prometheus.yaml", "tpl (toYaml .Values.prometheus.prometheusSpec.storageSpec)"),
  subtree("kube-prometheus-stack", "grafana.resources", GRAFANA, "charts/grafana/templates/_pod.tpl", `subchart grafana: with .Values.resources: ${TOYAML}`),
  subtree("litellm-helm", "envVars", LITELLM, "helm/litellm-helm/templates/_deployment.tpl", "range $key, $val := .Values.envVars: one env var per key"),
  subtree("litellm-helm", "migrationJob.annotations", LITELLM, "helm/litellm-helm/templates/migrations-job.yaml", `with .Values.migrationJob.annotations: ${TOYAML} into the Job's pod template annotations`),
  subtree("litellm-helm", "podSecurityContext", LITELLM, "helm/litellm-helm/templates/_deployment.tpl", "toYaml .Values.podSecurityContext as the proxy pod's securityContext"),
  subtree("litellm-helm", "securityContext", LITELLM, "helm/litellm-helm/templates/_deployment.tpl", "toYaml .Values.securityContext as the proxy container's securityContext (and the migration Job's, templates/migrations-job.yaml)"),
  subtree("litellm-helm", "podLabels", LITELLM, "helm/litellm-helm/templates/deployment.yaml", `with .Values.podLabels: ${TOYAML} into the pod template's labels`),
  subtree("litellm-helm", "proxy_config", LITELLM, "helm/litellm-helm/templates/configmap-litellm.yaml", "deepCopy .Values.proxy_config, then toYaml as config.yaml (LiteLLM's own config file)"),
  subtree("litellm-helm", "resources", LITELLM, "helm/litellm-helm/templates/_deployment.tpl", "toYaml $resources (.Values.resources)"),
  ...(["dataNode", "mixCoordinator", "proxy", "queryNode", "standalone", "streamingNode"] as const).map((c) =>
    subtree("milvus", `${c}.resources`, MILVUS, `charts/milvus/templates/${c === "mixCoordinator" ? "mixcoord" : c.toLowerCase()}-deployment.yaml`, `toYaml .Values.${c}.resources`),
  ),
  subtree("milvus", "annotations", MILVUS, "charts/milvus/templates/_helpers.tpl", "milvus.ud.annotations: toYaml .Values.annotations, included in every component's pod template annotations"),
  subtree("milvus", "serviceAccount.annotations", MILVUS, "charts/milvus/templates/serviceaccount.yaml", "toYaml .Values.serviceAccount.annotations (values.yaml: null)"),
  subtree("nvidia-device-plugin", "resources", NVIDIA_DP, "deployments/helm/nvidia-device-plugin/templates/daemonset-device-plugin.yml", `with .Values.resources: ${TOYAML}`),
  subtree("opentelemetry-collector", "config", OTEL, "charts/opentelemetry-collector/templates/_config.tpl", "deepCopy .Values.config (merged over the chart's default config), then toYaml as the collector's config"),
  subtree("opentelemetry-collector", "resources", OTEL, "charts/opentelemetry-collector/templates/_pod.tpl", `with .Values.resources: ${TOYAML}`),
];

export interface ChartLayout {
  /** The key of values.yaml under which the chart keeps its defaults (Istio's profile mechanism). */
  readonly defaultsKey?: string;
  /** Keys whose contents the chart copies to the root of .Values before rendering. */
  readonly rootAliases?: readonly string[];
  /** Subchart folder name -> the values key it is addressed by, where Chart.yaml has no dependencies list. */
  readonly subchartKeys?: Readonly<Record<string, string>>;
  readonly source: string;
}

/** How a chart's values are laid out, where that is not plain values.yaml plus Chart.yaml dependencies. */
export const CHART_LAYOUT: Readonly<Record<string, ChartLayout>> = {
  base: {
    defaultsKey: "_internal_defaults_do_not_set",
    source: "istio/istio 1.30.3 manifests/charts/base/templates/zzz_profile.yaml: $defaults := .Values._internal_defaults_do_not_set, then .Values = mergeOverwrite $defaults .Values",
  },
  istiod: {
    defaultsKey: "_internal_defaults_do_not_set",
    rootAliases: ["pilot"],
    source:
      "istio/istio 1.30.3 manifests/charts/istio-control/istio-discovery/templates/zzz_profile.yaml (defaults under _internal_defaults_do_not_set) and zzy_descope_legacy.yaml (mustMergeOverwrite $.Values .Values.pilot: anything under pilot.* is read at the root)",
  },
  milvus: {
    subchartKeys: { etcd: "etcd", minio: "minio", pulsarv2: "pulsar", pulsar: "pulsarv3", kafka: "kafka", tei: "tei" },
    source: "zilliztech/milvus-helm milvus-5.0.19 charts/milvus/requirements.yaml (apiVersion v1 chart; not in the reference folder): pulsarv2 alias pulsar, pulsar alias pulsarv3",
  },
};

export interface VersionException {
  /** The pinned release version this exception is for. */
  readonly forVersion: string;
  /** The version the reference Chart.yaml carries. */
  readonly chartYamlVersion: string;
  /** A string SOURCE.txt must contain: the release tag (or commit) the files were read at. */
  readonly sourceTag: string;
  readonly why: string;
  /**
   * The reference was not read at the pinned release: its values stand in for the pinned chart's.
   * The test reports this plainly; findings for this chart rest on that assumption.
   */
  readonly standIn?: boolean;
}

/**
 * Charts whose Chart.yaml in the source tree does not carry the published version: the release
 * process stamps it when it packages the chart. The check then requires the reference to have been
 * read at the release tag instead.
 */
export const VERSION_EXCEPTIONS: Readonly<Record<string, VersionException>> = {
  karpenter: {
    forVersion: "1.14.1",
    chartYamlVersion: "1.13.0",
    sourceTag: "v1.14.1",
    why: "aws/karpenter-provider-aws: Chart.yaml at tag v1.14.1 still reads 1.13.0; the release workflow stamps the version when it publishes to oci://public.ecr.aws/karpenter (../shared/reference/charts/README.md)",
  },
  "karpenter-crd": {
    forVersion: "1.14.1",
    chartYamlVersion: "1.13.0",
    sourceTag: "v1.14.1",
    why: "aws/karpenter-provider-aws: as karpenter; charts/karpenter-crd/Chart.yaml at v1.14.1 reads 1.13.0 (../shared/reference/charts/README.md)",
  },
  base: {
    forVersion: "1.30.3",
    chartYamlVersion: "1.0.0",
    sourceTag: "1.30.3",
    why: "istio/istio: manifests/charts/base/Chart.yaml is 1.0.0 in the source tree; the release build sets the chart version to the Istio release (istio-release.storage.googleapis.com/charts publishes base 1.30.3)",
  },
  istiod: {
    forVersion: "1.30.3",
    chartYamlVersion: "1.0.0",
    sourceTag: "1.30.3",
    why: "istio/istio: manifests/charts/istio-control/istio-discovery/Chart.yaml is 1.0.0 in the source tree; the release build sets the chart version to the Istio release",
  },
  "litellm-helm": {
    forVersion: "1.101.0",
    chartYamlVersion: "1.1.3",
    sourceTag: "2ad9e53d90100f99f01abb107f5a0fe71dab1497",
    standIn: true,
    why:
      "BerriAI/litellm: since 1.84.0 the published chart's version is the release's bare SemVer and its appVersion the image tag (docs.litellm.ai/blog/cleaner-release-versions, 2026-04-28), stamped at release; the source tree's helm/litellm-helm/Chart.yaml reads 1.1.3. The 1.101.0 tag (18243cd7, litellm-docs PR #1468) is not stored, so ../shared/reference/charts/litellm-helm holds the newest stored chart files (values.yaml at 2ad9e53d) as a stand-in",
  },
};

// ---------------------------------------------------------------------------------------------
// The reference charts.
// ---------------------------------------------------------------------------------------------

type Tree = Record<string, unknown>;

const isMap = (v: unknown): v is Tree => typeof v === "object" && v !== null && !Array.isArray(v);

/** Union of two trees' keys; `over` wins for leaves. */
function union(base: unknown, over: unknown): unknown {
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = union(base[k], v);
  return out;
}

export interface ChartSchema {
  /** Where in the release values the schema applies ([] for the chart itself, [alias] for a subchart). */
  readonly at: ValuePath;
  readonly file: string;
  readonly schema: Tree;
}

export interface ReferenceChart {
  readonly name: string;
  readonly dir: string;
  readonly version: string;
  readonly source: string;
  /** Every key the chart (and its subcharts, under their keys) declares in values.yaml. */
  readonly tree: Tree;
  /** values.yaml defaults as Helm coalesces them, for schema validation. */
  readonly defaults: Tree;
  readonly schemas: readonly ChartSchema[];
}

const readYaml = (file: string): Tree => {
  const v: unknown = parseYaml(fs.readFileSync(file, "utf8"));
  return isMap(v) ? v : {};
};

function loadChart(dir: string, name: string, at: ValuePath): { tree: Tree; defaults: Tree; schemas: ChartSchema[]; version: string } {
  const chartYaml = readYaml(path.join(dir, "Chart.yaml"));
  const valuesFile = path.join(dir, "values.yaml");
  const layout = CHART_LAYOUT[name];
  let values = fs.existsSync(valuesFile) ? readYaml(valuesFile) : {};
  if (layout?.defaultsKey && isMap(values[layout.defaultsKey])) {
    const { [layout.defaultsKey]: defaults, ...rest } = values;
    values = union(defaults, rest) as Tree;
  }
  let tree = structuredClone(values);
  let defaults = structuredClone(values);
  const schemas: ChartSchema[] = [];
  const schemaFile = path.join(dir, "values.schema.json");
  if (fs.existsSync(schemaFile)) schemas.push({ at, file: schemaFile, schema: JSON.parse(fs.readFileSync(schemaFile, "utf8")) as Tree });

  const subDir = path.join(dir, "charts");
  if (fs.existsSync(subDir)) {
    const deps = (Array.isArray(chartYaml.dependencies) ? chartYaml.dependencies : []) as { name?: string; alias?: string }[];
    for (const folder of fs.readdirSync(subDir).sort()) {
      const sub = path.join(subDir, folder);
      if (!fs.existsSync(path.join(sub, "Chart.yaml"))) continue;
      const declared = readYaml(path.join(sub, "Chart.yaml")).name;
      const subName = typeof declared === "string" ? declared : folder;
      const dep = deps.find((d) => d.name === subName || d.name === folder);
      const k = layout?.subchartKeys?.[folder] ?? dep?.alias ?? dep?.name ?? folder;
      const child = loadChart(sub, subName, [...at, k]);
      tree = { ...tree, [k]: union(child.tree, tree[k]) };
      defaults = { ...defaults, [k]: union(child.defaults, defaults[k]) };
      schemas.push(...child.schemas);
    }
  }
  for (const alias of layout?.rootAliases ?? []) if (!(alias in tree)) tree = { ...tree, [alias]: structuredClone(values) };
  return { tree, defaults, schemas, version: typeof chartYaml.version === "string" || typeof chartYaml.version === "number" ? String(chartYaml.version) : "" };
}

/** The reference chart named `name` under `chartsDir` (../shared/reference/charts), or undefined. */
export function referenceChart(chartsDir: string, name: string): ReferenceChart | undefined {
  const dir = path.join(chartsDir, name);
  if (!fs.existsSync(path.join(dir, "Chart.yaml"))) return undefined;
  const loaded = loadChart(dir, name, []);
  const sourceFile = path.join(dir, "SOURCE.txt");
  return { name, dir, ...loaded, source: fs.existsSync(sourceFile) ? fs.readFileSync(sourceFile, "utf8") : "" };
}

/** The reference folder for a release's chart: the last segment of `chart` (oci://.../karpenter -> karpenter). */
export function chartName(chart: string): string {
  return chart.replace(/\/+$/, "").split("/").pop()!;
}

// ---------------------------------------------------------------------------------------------
// The checks. Each returns a list of problems; empty means the release passes.
// ---------------------------------------------------------------------------------------------

const startsWith = (p: ValuePath, prefix: ValuePath) => prefix.length <= p.length && prefix.every((k, i) => p[i] === k);

/** Key paths set in `values` that the chart never reads, each as a formatted path. */
export function unreadKeys(chart: string, values: unknown, tree: Tree, passThrough: readonly PassThrough[] = PASS_THROUGH): string[] {
  const rows = passThrough.filter((r) => r.chart === chart);
  const underSubtree = (p: ValuePath) => rows.some((r) => r.reads === "subtree" && startsWith(p, r.path));
  const isReadKey = (p: ValuePath) => rows.some((r) => r.reads === "key" && r.path.length === p.length && startsWith(p, r.path));
  const out: string[] = [];
  const walk = (v: unknown, ref: unknown, at: ValuePath) => {
    if (!isMap(v)) return;
    for (const [k, x] of Object.entries(v)) {
      const p = [...at, k];
      if (underSubtree(p)) continue;
      if (isMap(ref) && k in ref) walk(x, ref[k], p);
      else if (!isReadKey(p)) out.push(formatPath(p));
    }
  };
  walk(values, tree, []);
  return out;
}

/** Helm's coalescing of user values over chart defaults: maps merge, a null deletes the key. */
export function coalesce(defaults: unknown, user: unknown): unknown {
  if (!isMap(user)) return user === undefined ? defaults : user;
  if (!isMap(defaults)) defaults = {};
  const out: Tree = { ...(defaults as Tree) };
  for (const [k, v] of Object.entries(user)) {
    if (v === null) delete out[k];
    else out[k] = coalesce(out[k], v);
  }
  return out;
}

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
const compiledSchemas = new Map<string, ReturnType<typeof ajv.compile>>();

/** Validates the coalesced values against every values.schema.json of the chart and its subcharts. */
export function schemaProblems(ref: ReferenceChart, values: unknown): string[] {
  const merged = coalesce(ref.defaults, values);
  const out: string[] = [];
  for (const s of ref.schemas) {
    let fn = compiledSchemas.get(s.file);
    if (!fn) {
      const { $schema: _ignored, ...schema } = s.schema;
      fn = ajv.compile(schema);
      compiledSchemas.set(s.file, fn);
    }
    let target: unknown = merged;
    for (const k of s.at) target = isMap(target) ? target[k] : undefined;
    if (target === undefined) continue;
    if (!fn(target)) {
      const rel = path.relative(path.dirname(ref.dir), s.file);
      for (const e of fn.errors ?? []) {
        const extra = e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : "";
        out.push(`${rel}: ${s.at.length ? formatPath(s.at) : ""}${e.instancePath || "/"} ${e.message ?? ""}${extra}`);
      }
    }
  }
  return out;
}

/** The release's version against the reference Chart.yaml, with the sourced exceptions. */
export function versionProblems(ref: ReferenceChart, releaseVersion: string, exceptions: Readonly<Record<string, VersionException>> = VERSION_EXCEPTIONS): string[] {
  const ex = exceptions[ref.name];
  if (ref.version === releaseVersion) return ex ? [`${ref.name}: Chart.yaml now carries ${ref.version}; remove its entry from VERSION_EXCEPTIONS`] : [];
  if (!ex) return [`${ref.name}: the release pins ${releaseVersion}, the reference Chart.yaml is ${ref.version}`];
  const problems: string[] = [];
  if (ref.version !== ex.chartYamlVersion) problems.push(`${ref.name}: reference Chart.yaml is ${ref.version}, the exception expects ${ex.chartYamlVersion}`);
  if (!ref.source.includes(ex.sourceTag)) problems.push(`${ref.name}: SOURCE.txt does not name the release tag ${ex.sourceTag}`);
  if (releaseVersion !== ex.forVersion) problems.push(`${ref.name}: the release pins ${releaseVersion}, but the exception is for ${ex.forVersion}`);
  return problems;
}

export interface ReleaseValues {
  readonly name: string;
  readonly chart: string;
  readonly version: string;
  readonly values: unknown;
}

/**
 * Charts installed with NO values of ours, for which ../shared/reference has no copy. With no key
 * set there is nothing a chart could silently ignore; any value set later makes the check fail
 * until the chart's reference values are added.
 */
export const NO_VALUES_CHARTS: Readonly<Record<string, string>> = {
  // istio/istio manifests/charts/istio-cni (chart "cni"), installed at istiod's version so that
  // injected pods need no NET_ADMIN/NET_RAW init container (istio.io, "Install Istio with Pod
  // Security Admission"); its defaults fit EKS (cniBinDir /opt/cni/bin, cniConfDir /etc/cni/net.d, chained).
  cni: "istio/istio manifests/charts/istio-cni 1.30.3, defaults only",
};

/** Every problem of one release against the reference charts folder. */
export function releaseProblems(chartsDir: string, r: ReleaseValues, passThrough: readonly PassThrough[] = PASS_THROUGH): string[] {
  const name = chartName(r.chart);
  const ref = referenceChart(chartsDir, name);
  if (!ref && NO_VALUES_CHARTS[name] !== undefined) {
    const set = r.values && typeof r.values === "object" ? Object.keys(r.values) : [];
    return set.length ? [`${r.name}: ${name} has no reference values under ${chartsDir}, yet the program sets ${set.join(", ")}`] : [];
  }
  if (!ref) return [`${r.name}: no reference chart ${name} under ${chartsDir}`];
  return [
    ...versionProblems(ref, r.version).map((p) => `${r.name}: ${p}`),
    ...unreadKeys(name, r.values, ref.tree, passThrough).map((p) => `${r.name}: ${name} ${r.version} never reads ${p}`),
    ...schemaProblems(ref, r.values).map((p) => `${r.name}: values.schema.json: ${p}`),
  ];
}
