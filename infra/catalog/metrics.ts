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
 *   they are exposed with `_total`.
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
  },
  milvus: {
    searchLatencyMs: "milvus_proxy_sq_latency",
  },
  litellm: {
    proxyRequests: "litellm_proxy_total_requests_metric_total",
    proxyFailedRequests: "litellm_proxy_failed_requests_metric_total",
    requestLatency: "litellm_request_total_latency_metric",
    spend: "litellm_spend_metric_total",
    inputTokens: "litellm_input_tokens_metric_total",
    outputTokens: "litellm_output_tokens_metric_total",
  },
  kube: {
    up: "up",
    deploymentSpecReplicas: "kube_deployment_spec_replicas",
    deploymentAvailableReplicas: "kube_deployment_status_replicas_available",
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
]);

/** Every metric name in the catalog. */
export const ALL_METRICS: ReadonlySet<string> = new Set(Object.values(METRICS).flatMap((group) => Object.values(group)));
