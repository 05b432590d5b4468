/**
 * Metrics catalog: every metric name an alert, a dashboard or a KEDA trigger uses. Queries are
 * written with these constants, and a test parses every rendered PromQL expression and fails on
 * a name that is not here. Each name is as exposed upstream (counters with `_total`; histograms
 * by base name, queried as `_bucket`, `_sum`, `_count`).
 *
 * Sources (../shared/reference/upstream-facts.md; copied to tests/data/upstream-metrics.txt):
 * - vLLM: vllm-project/vllm docs/design/metrics.md + vllm/v1/metrics/loggers.py (V1 engine,
 *   labels model_name, engine). gpu_cache_usage_perc and gpu_prefix_cache_* were removed.
 * - HTTP: prometheus_fastapi_instrumentator in the vLLM API server (labels handler, method, status).
 * - DCGM: NVIDIA/dcgm-exporter etc/default-counters.csv.
 * - TEI: huggingface/text-embeddings-inference router (metrics-exporter-prometheus; `*duration`
 *   metrics are histograms in seconds, router/src/prometheus.rs). Counter suffixes are not
 *   verified, so no query uses a TEI counter.
 * - Milvus: milvus.io docs (metrics_dashboard, monitor alerts): milvus_proxy_sq_latency
 *   (histogram, milliseconds, label query_type=search|query).
 * - Kubernetes: Prometheus `up`; kube-state-metrics deployment metrics.
 * - LiteLLM: BerriAI/litellm docs/my-website/docs/proxy/prometheus.md (labels requested_model,
 *   model, team, api_key_alias, status_code). Its Counters are prometheus_client Counters, so
 *   they are exposed with `_total`. The Prometheus logger is open source since PR #16689
 *   ("Prometheus - make OSS", merged 2025-11-15), before the pinned 1.101.0; before that it
 *   needed an Enterprise licence (PR #5769). `litellm_proxy_failed_requests_metric` carries
 *   `exception_status` (the HTTP status); `litellm_overhead_latency_metric` is the time LiteLLM
 *   itself adds (litellm/types/integrations/prometheus.py DEFINED_PROMETHEUS_METRICS), seconds,
 *   LATENCY_BUCKETS.
 * - Milvus proxy: milvus-io/milvus pkg/metrics/proxy_metrics.go: `milvus_proxy_req_count`
 *   (counter without `_total`: client_golang adds no suffix; labels node_id, function_name,
 *   status = total|success|fail|...), `milvus_proxy_sq_latency` (ms, buckets
 *   ExponentialBuckets(1, 2, 18) in pkg/metrics/metrics.go).
 * - Safety service (ours): services/safety/src/metrics.ts (docs/safety.md section 9).
 * - kube-state-metrics 2.20.0 (kube-prometheus-stack 88.5.3 subchart 8.4.0):
 *   `kube_node_labels` (label_<sanitized, snake-cased k8s label> for the labels allowed by
 *   --metric-labels-allowlist; internal/store/utils.go labelName/toSnakeCase),
 *   `kube_pod_container_resource_requests` and `kube_node_status_allocatable` (labels node,
 *   resource, unit; extended resources sanitized: `nvidia.com/gpu` -> `nvidia_com_gpu`).
 */
export const METRICS = {
  vllm: {
    numRequestsRunning: "vllm:num_requests_running",
    numRequestsWaiting: "vllm:num_requests_waiting",
    kvCacheUsagePerc: "vllm:kv_cache_usage_perc",
    prefixCacheQueries: "vllm:prefix_cache_queries_total",
    prefixCacheHits: "vllm:prefix_cache_hits_total",
    promptTokens: "vllm:prompt_tokens_total",
    generationTokens: "vllm:generation_tokens_total",
    requestSuccess: "vllm:request_success_total",
    numPreemptions: "vllm:num_preemptions_total",
    timeToFirstToken: "vllm:time_to_first_token_seconds",
    interTokenLatency: "vllm:inter_token_latency_seconds",
    e2eRequestLatency: "vllm:e2e_request_latency_seconds",
    requestQueueTime: "vllm:request_queue_time_seconds",
  },
  http: {
    requestsTotal: "http_requests_total",
  },
  dcgm: {
    gpuUtil: "DCGM_FI_DEV_GPU_UTIL",
    fbUsed: "DCGM_FI_DEV_FB_USED",
    fbFree: "DCGM_FI_DEV_FB_FREE",
    gpuTemp: "DCGM_FI_DEV_GPU_TEMP",
    powerUsage: "DCGM_FI_DEV_POWER_USAGE",
    xidErrors: "DCGM_FI_DEV_XID_ERRORS",
    grEngineActive: "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
    tensorActive: "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
  },
  tei: {
    queueSize: "te_queue_size",
    requestDuration: "te_request_duration",
    requestQueueDuration: "te_request_queue_duration",
    batchNextSize: "te_batch_next_size",
    /**
     * Counters (router/src/http/server.rs: te_request_count per request, te_request_failure per
     * failed one). Whether metrics-exporter-prometheus appends `_total` at TEI's pinned version is
     * not verified, so queries select them with {@link teCounter}, which matches both spellings.
     */
    requestCount: "te_request_count",
    requestFailure: "te_request_failure",
  },
  milvus: {
    searchLatencyMs: "milvus_proxy_sq_latency",
    /** Proxy calls by function_name (Search, Query, Insert, ...) and status (total|success|fail). */
    reqCount: "milvus_proxy_req_count",
  },
  litellm: {
    proxyRequests: "litellm_proxy_total_requests_metric_total",
    proxyFailedRequests: "litellm_proxy_failed_requests_metric_total",
    /**
     * One count per failed attempt at a deployment (router `set_llm_deployment_failure_metrics`),
     * labels include requested_model and exception_status (BerriAI/litellm docs/my-website/docs/load_test_advanced.md,
     * "Prometheus Metrics for debugging load tests"). It rises while the router still holds the
     * request, so it can wake a model at zero; the request counter only moves when a request ends.
     */
    deploymentFailureResponses: "litellm_deployment_failure_responses_total",
    requestLatency: "litellm_request_total_latency_metric",
    spend: "litellm_spend_metric_total",
    inputTokens: "litellm_input_tokens_metric_total",
    outputTokens: "litellm_output_tokens_metric_total",
    overheadLatency: "litellm_overhead_latency_metric",
  },
  safety: {
    requests: "safety_requests_total",
    requestErrors: "safety_request_errors_total",
    verdictCategories: "safety_verdict_categories_total",
    layerDuration: "safety_layer_duration_seconds",
    layerVerdicts: "safety_layer_verdicts_total",
    requestDuration: "safety_request_duration_seconds",
    azureErrors: "safety_azure_errors_total",
    azureHttpErrors: "safety_azure_http_errors_total",
    azureAttempts: "safety_azure_attempts_total",
    breakerState: "safety_azure_circuit_breaker_state",
    breakerTransitions: "safety_azure_circuit_breaker_transitions_total",
    azureShed: "safety_azure_shed_total",
    azureInFlight: "safety_azure_in_flight",
    decodedMatches: "safety_decoded_matches_total",
  },
  kube: {
    up: "up",
    deploymentSpecReplicas: "kube_deployment_spec_replicas",
    deploymentAvailableReplicas: "kube_deployment_status_replicas_available",
    nodeLabels: "kube_node_labels",
    podContainerResourceRequests: "kube_pod_container_resource_requests",
    nodeStatusAllocatable: "kube_node_status_allocatable",
  },
} as const;

/** Histograms (queried with a _bucket/_sum/_count suffix). */
export const HISTOGRAMS: ReadonlySet<string> = new Set([
  METRICS.vllm.timeToFirstToken,
  METRICS.vllm.interTokenLatency,
  METRICS.vllm.e2eRequestLatency,
  METRICS.vllm.requestQueueTime,
  METRICS.tei.requestDuration,
  METRICS.tei.requestQueueDuration,
  METRICS.tei.batchNextSize,
  METRICS.milvus.searchLatencyMs,
  METRICS.litellm.requestLatency,
  METRICS.litellm.overheadLatency,
  METRICS.safety.layerDuration,
  METRICS.safety.requestDuration,
]);

/**
 * Bucket boundaries (`le`) of the histograms an SLO reads, in the unit of the histogram. A
 * latency SLI "requests under X" is exact only when X is one of these; otherwise
 * components/slo-rules.ts interpolates between the two neighbouring boundaries (docs/slos.md).
 */
export const HISTOGRAM_BUCKETS: Readonly<Record<string, { readonly le: readonly number[]; readonly unit: "s" | "ms"; readonly source: string }>> = {
  [METRICS.vllm.timeToFirstToken]: {
    le: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0],
    unit: "s",
    source: "vllm-project/vllm vllm/v1/metrics/loggers.py, histogram_time_to_first_token (main; the same list since v0.11, not re-read at the pinned v0.30.0 tag)",
  },
  [METRICS.vllm.e2eRequestLatency]: {
    le: [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0],
    unit: "s",
    source: "vllm-project/vllm vllm/v1/metrics/loggers.py, request_latency_buckets",
  },
  // router/src/prometheus.rs: every metric whose name ends in "duration" gets 35 buckets,
  // value = 0.00001 then value *= 1.5 before each push (so the first is 1.5e-5 s).
  [METRICS.tei.requestDuration]: {
    le: Array.from({ length: 35 }, (_, i) => i).reduce<number[]>((acc) => {
      acc.push((acc.length ? acc[acc.length - 1]! : 0.00001) * 1.5);
      return acc;
    }, []),
    unit: "s",
    source: "huggingface/text-embeddings-inference router/src/prometheus.rs (duration_buckets: 0.00001 x 1.5^k, k = 1..35)",
  },
  [METRICS.milvus.searchLatencyMs]: {
    le: Array.from({ length: 18 }, (_, i) => 2 ** i),
    unit: "ms",
    source: "milvus-io/milvus pkg/metrics/metrics.go: buckets = prometheus.ExponentialBuckets(1, 2, 18)",
  },
  [METRICS.litellm.overheadLatency]: {
    le: [0.005, 0.00625, 0.0125, 0.025, 0.05, 0.1, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0, 15.0, 20.0, 25.0, 30.0, 60.0, 120.0, 180.0, 240.0, 300.0],
    unit: "s",
    source: "BerriAI/litellm litellm/types/integrations/prometheus.py LATENCY_BUCKETS",
  },
  [METRICS.safety.requestDuration]: {
    le: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    unit: "s",
    source: "services/safety/src/metrics.ts (safety_request_duration_seconds)",
  },
};

/**
 * A selector for a TEI counter that matches it with or without the `_total` suffix (the
 * exporter's behaviour at TEI's pin is not verified), e.g. `{__name__=~"te_request_count(_total)?", namespace="embeddings"}`.
 */
export function teCounter(name: string, matchers = ""): string {
  return `{__name__=~"${name}(_total)?"${matchers ? `, ${matchers}` : ""}}`;
}

/** Every metric name in the catalog. */
export const ALL_METRICS: ReadonlySet<string> = new Set(Object.values(METRICS).flatMap((group) => Object.values(group)));
