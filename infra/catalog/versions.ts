/**
 * Versions catalog: every Helm chart and container image the platform installs, pinned.
 * Nothing else in the program names a version. Each entry says where the pin was verified
 * (see ../shared/reference/upstream-facts.md for the sources).
 */

export interface ChartPin {
  /** Helm repository URL, or an `oci://` registry path (then `chart` is the full reference). */
  readonly repo: string;
  readonly chart: string;
  readonly version: string;
  readonly appVersion?: string;
  readonly source: string;
}

export interface ImagePin {
  readonly repository: string;
  readonly tag: string;
  readonly source: string;
}

export const KUBERNETES_VERSION = {
  value: "1.36",
  source: "aws/karpenter-provider-aws website v1.14 getting-started (K8S_VERSION=1.36, tested with Karpenter 1.14.1)",
} as const;

/**
 * The Amazon EKS Kubernetes release calendar (UTC dates). A version is in standard support from
 * its EKS release until its end of standard support, then in extended support for 12 more months
 * (billed $0.60/h instead of $0.10/h). EKS announces an end of standard support at least 60 days
 * ahead, so a released version with no announced end is in standard support.
 * Sources: awsdocs/amazon-eks-user-guide latest/ug/versioning/kubernetes-versions.adoc,
 * "Amazon EKS Kubernetes release calendar" (1.27-1.33, and the 14 + 12 month rule); endoflife.date/amazon-eks,
 * which mirrors that calendar (1.34, 1.35). 1.36: on EKS (Karpenter 1.14 docs use K8S_VERSION=1.36),
 * end of standard support not in our sources.
 */
export interface EksVersionSupport {
  readonly endOfStandardSupport?: string;
  readonly endOfExtendedSupport?: string;
}

export const EKS_SUPPORT_CALENDAR: Readonly<Record<string, EksVersionSupport>> = {
  "1.30": { endOfStandardSupport: "2025-07-23", endOfExtendedSupport: "2026-07-23" },
  "1.31": { endOfStandardSupport: "2025-11-26", endOfExtendedSupport: "2026-11-26" },
  "1.32": { endOfStandardSupport: "2026-03-23", endOfExtendedSupport: "2027-03-23" },
  "1.33": { endOfStandardSupport: "2026-07-29", endOfExtendedSupport: "2027-07-29" },
  "1.34": { endOfStandardSupport: "2026-12-02", endOfExtendedSupport: "2027-12-02" },
  "1.35": { endOfStandardSupport: "2027-03-27", endOfExtendedSupport: "2028-03-27" },
  "1.36": {},
};

/** The day the calendar was read; support is judged as of this day, so a plan does not change with the clock. Re-read the calendar and move it forward. */
export const EKS_SUPPORT_CALENDAR_AS_OF = "2026-12-02";

/** The support phase of a Kubernetes minor on EKS as of the calendar's date (undefined: not in the calendar). */
export function eksSupportPhase(version: string, asOf = EKS_SUPPORT_CALENDAR_AS_OF): "standard" | "extended" | "ended" | undefined {
  const v = EKS_SUPPORT_CALENDAR[version];
  if (!v) return undefined;
  // Extended support (and its billing) starts at the beginning of the end-of-standard-support day.
  if (v.endOfStandardSupport === undefined || asOf < v.endOfStandardSupport) return "standard";
  if (v.endOfExtendedSupport === undefined || asOf < v.endOfExtendedSupport) return "extended";
  return "ended";
}

export const CHARTS = {
  karpenterCrd: {
    repo: "oci://public.ecr.aws/karpenter",
    chart: "karpenter-crd",
    version: "1.14.1",
    appVersion: "1.14.1",
    source: "aws/karpenter-provider-aws charts/karpenter-crd/Chart.yaml (mirror 2026-08-21); installed separately so CRDs upgrade with the chart",
  },
  karpenter: {
    repo: "oci://public.ecr.aws/karpenter",
    chart: "karpenter",
    version: "1.14.1",
    appVersion: "1.14.1",
    source: "aws/karpenter-provider-aws charts/karpenter/Chart.yaml (upstream-facts section 4)",
  },
  nvidiaDevicePlugin: {
    repo: "https://nvidia.github.io/k8s-device-plugin",
    chart: "nvidia-device-plugin",
    version: "0.20.0",
    appVersion: "0.20.0",
    source: "NVIDIA/k8s-device-plugin deployments/helm (upstream-facts section 7)",
  },
  efaDevicePlugin: {
    repo: "https://aws.github.io/eks-charts",
    chart: "aws-efa-k8s-device-plugin",
    version: "v0.5.30",
    appVersion: "v0.5.20",
    source: "aws/eks-charts stable/aws-efa-k8s-device-plugin/Chart.yaml (mirror 2026-08-03)",
  },
  dcgmExporter: {
    repo: "https://nvidia.github.io/dcgm-exporter/helm-charts",
    chart: "dcgm-exporter",
    version: "4.8.2",
    appVersion: "4.5.3-4.8.2",
    source: "NVIDIA/dcgm-exporter deployment/Chart.yaml (upstream-facts section 7)",
  },
  prometheusOperatorCrds: {
    repo: "https://prometheus-community.github.io/helm-charts",
    chart: "prometheus-operator-crds",
    version: "31.0.1",
    appVersion: "v0.93.1",
    source: "prometheus-community/helm-charts charts/prometheus-operator-crds/Chart.yaml (mirror 2026-08-22); same operator as kube-prometheus-stack 88.5.3",
  },
  externalSecrets: {
    repo: "https://charts.external-secrets.io",
    chart: "external-secrets",
    version: "2.9.0",
    appVersion: "v2.9.0",
    source: "external-secrets/external-secrets deploy/charts/external-secrets/Chart.yaml (upstream-facts section 5)",
  },
  keda: {
    repo: "https://kedacore.github.io/charts",
    chart: "keda",
    version: "2.20.2",
    appVersion: "2.20.2",
    source: "kedacore/charts keda/Chart.yaml (upstream-facts section 3)",
  },
  kubePrometheusStack: {
    repo: "https://prometheus-community.github.io/helm-charts",
    chart: "kube-prometheus-stack",
    version: "88.5.3",
    appVersion: "v0.93.1",
    source: "prometheus-community/helm-charts charts/kube-prometheus-stack/Chart.yaml (upstream-facts section 8)",
  },
  otelCollector: {
    repo: "https://open-telemetry.github.io/opentelemetry-helm-charts",
    chart: "opentelemetry-collector",
    version: "0.170.0",
    appVersion: "0.158.0",
    source: "open-telemetry/opentelemetry-helm-charts charts/opentelemetry-collector/Chart.yaml (mirror 2026-08-20); image otel/opentelemetry-collector-contrib at the appVersion",
  },
  jaeger: {
    repo: "https://jaegertracing.github.io/helm-charts",
    chart: "jaeger",
    version: "4.11.1",
    appVersion: "2.19.0",
    source: "jaegertracing/helm-charts charts/jaeger/Chart.yaml (mirror 2026-06-14): Jaeger v2 all-in-one",
  },
  istioBase: {
    repo: "https://istio-release.storage.googleapis.com/charts",
    chart: "base",
    version: "1.30.3",
    appVersion: "1.30.3",
    source: "istio/istio release 1.30.3 (2026-07-16), manifests/charts/base",
  },
  istioCni: {
    repo: "https://istio-release.storage.googleapis.com/charts",
    chart: "cni",
    version: "1.30.3",
    appVersion: "1.30.3",
    source: "istio/istio release 1.30.3 (2026-07-16), manifests/charts/istio-cni (chart name cni); istio.io 'Install Istio with Pod Security Admission' requires it for baseline/restricted namespaces",
  },
  istiod: {
    repo: "https://istio-release.storage.googleapis.com/charts",
    chart: "istiod",
    version: "1.30.3",
    appVersion: "1.30.3",
    source: "istio/istio release 1.30.3 (2026-07-16), manifests/charts/istio-control/istio-discovery",
  },
  awsLoadBalancerController: {
    repo: "https://aws.github.io/eks-charts",
    chart: "aws-load-balancer-controller",
    version: "3.5.0",
    appVersion: "v3.5.0",
    source: "aws/eks-charts stable/aws-load-balancer-controller/Chart.yaml (2026-08-03); kubernetes-sigs/aws-load-balancer-controller tag v3.5.0",
  },
  litellm: {
    repo: "oci://ghcr.io/berriai",
    chart: "litellm-helm",
    version: "1.101.0",
    appVersion: "v1.101.0",
    source:
      "BerriAI/litellm helm/litellm-helm (moved from deploy/charts/litellm-helm). Since 1.84.0 the chart is published at the release's bare SemVer with appVersion = the image tag (docs.litellm.ai/blog/cleaner-release-versions, 2026-04-28; charts 1.93.0, 1.103.2 and 1.104.0 seen pulled from ghcr by users). v1.101.0 is a stable release: tag 18243cd7, GHCR image manifest 200 (litellm-docs PR #1468, 2026-09-14), PyPI litellm 1.101.0. The 1.101.0 chart artifact itself was not seen: verify with helm show chart",
  },
  milvus: {
    repo: "https://zilliztech.github.io/milvus-helm",
    chart: "milvus",
    version: "5.0.19",
    appVersion: "2.6.15",
    source: "zilliztech/milvus-helm charts/milvus/Chart.yaml (upstream-facts section 6)",
  },
} as const satisfies Record<string, ChartPin>;

export const IMAGES = {
  vllm: {
    repository: "vllm/vllm-openai",
    tag: "v0.30.0",
    source: "Docker Hub vllm/vllm-openai; latest official release on 2026-09-23 (upstream-facts section 1)",
  },
  litellm: {
    // The non-root build (docker/Dockerfile.non_root: USER nobody, Prisma binaries generated at
    // build time, HOME=/app), so the gateway's pods pass Pod Security "restricted".
    repository: "ghcr.io/berriai/litellm-non_root",
    tag: "1.101.0",
    source:
      "LiteLLM v1.101.0 (stable 2026-09-14); plain version tags since ~1.84, the chart's main-<version> default no longer exists. The litellm-non_root repository is published per release next to litellm-database (docs.litellm.ai deploy, 'non-root image'); this tag follows the same scheme and was not seen offline: verify with docker manifest inspect",
  },
  otelCollectorContrib: {
    repository: "otel/opentelemetry-collector-contrib",
    tag: "0.158.0",
    source: "appVersion of opentelemetry-collector chart 0.170.0 (the chart's default tag); contrib has the probabilistic_sampler processor",
  },
  awsCli: {
    repository: "amazon/aws-cli",
    tag: "2.37.5",
    source: "Docker Hub amazon/aws-cli (tag pinned in public manifests in 2026); supports EKS Pod Identity credentials",
  },
  inferencePerf: {
    // The load generator of the load-test Jobs (components/load-test.ts). Its config format, CLI
    // (`--config_file`, dotted overrides such as `--server.api_key`) and report files were read at
    // this tag: kubernetes-sigs/inference-perf v0.6.1 (a40897e, 2026-07-23) docs/config.md,
    // inference_perf/config/**, inference_perf/reportgen/base.py.
    repository: "quay.io/inference-perf/inference-perf",
    tag: "v0.6.1",
    source:
      "kubernetes-sigs/inference-perf .github/workflows/publish-on-release.yml pushes quay.io/inference-perf/inference-perf:<release tag> for every v*.*.* tag; release v0.6.1 (tag a40897e, 2026-07-23). Pulled by digest in public manifests: v0.6.1@sha256:e29328cc223ebae58d9022d60ad651cc3c4cbd534885a78b28f54086aa4b9c9e. v0.7.0 (2026-09-15, inference-perf issue #606) exists but its source was not read here",
  },
  teiAmpere80: {
    repository: "ghcr.io/huggingface/text-embeddings-inference",
    tag: "1.9",
    source: "huggingface/text-embeddings-inference README, Docker Images table (A100, sm80)",
  },
  teiAmpere86: {
    repository: "ghcr.io/huggingface/text-embeddings-inference",
    tag: "86-1.9",
    source: "huggingface/text-embeddings-inference README, Docker Images table (A10G, sm86)",
  },
  teiAda89: {
    repository: "ghcr.io/huggingface/text-embeddings-inference",
    tag: "89-1.9",
    source: "huggingface/text-embeddings-inference README, Docker Images table (L4/L40S, sm89)",
  },
  teiHopper: {
    repository: "ghcr.io/huggingface/text-embeddings-inference",
    tag: "hopper-1.9",
    source: "huggingface/text-embeddings-inference README, Docker Images table (H100, sm90)",
  },
  teiCpu: {
    repository: "ghcr.io/huggingface/text-embeddings-inference",
    tag: "cpu-1.9",
    source: "huggingface/text-embeddings-inference README, Docker Images table (CPU x86_64)",
  },
} as const satisfies Record<string, ImagePin>;

/** Managed database and cache engines (the edge). Major versions: AWS applies minor versions in maintenance windows. */
export const ENGINES = {
  postgres: { engine: "postgres", version: "17", source: "Amazon RDS for PostgreSQL 17 (major version; minor upgrades automatic)" },
  redis: { engine: "redis", version: "7.1", source: "Amazon ElastiCache for Redis OSS 7.1" },
} as const;

export function imageRef(pin: ImagePin): string {
  return `${pin.repository}:${pin.tag}`;
}
