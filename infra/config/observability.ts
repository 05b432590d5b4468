/** Area `observability`: Prometheus, Grafana, Alertmanager and its receiver, tracing. */
import { z } from "zod";
import { int, vaultRef } from "./primitives";

export const alertReceiverSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("none") }),
  z.strictObject({ type: z.literal("slack"), channel: z.string().regex(/^#[\w-]+$/), webhookUrlVaultRef: vaultRef }),
  z.strictObject({ type: z.literal("pagerduty"), routingKeyVaultRef: vaultRef }),
]);

export const observabilitySchema = z.strictObject({
  prometheus: z.strictObject({
    replicas: int(1, 3),
    retention: z.string().regex(/^\d+(h|d|w)$/, { error: 'expected a Prometheus duration such as "15d"' }),
    storageGi: int(10, 10000),
    scrapeInterval: z.string().regex(/^\d+s$/).default("30s"),
  }),
  grafana: z.strictObject({ replicas: int(1, 3).default(1) }).prefault({}),
  alertmanager: z.strictObject({ replicas: int(1, 3), receiver: alertReceiverSchema }),
  /** Base URL of docs/runbooks.md as published (alerts link to <base>#<alert>). */
  runbookBaseUrl: z.url({ protocol: /^https$/ }).default("https://github.com/example-org/llm-platform/blob/main/docs/runbooks.md"),
  tracing: z.strictObject({
    enabled: z.boolean(),
    /** Head sampling ratio for the collector (0-1). */
    samplingRatio: z.number().min(0).max(1).default(0.1),
    jaegerStorage: z.enum(["memory", "badger"]).default("memory"),
    /** Pass --otlp-traces-endpoint to vLLM; leave off unless the pinned image has OpenTelemetry. */
    vllmTraces: z.boolean().default(false),
    /** OpenTelemetry Collector replicas (the chart's replicaCount); 2 keeps traces flowing through a node drain. */
    collectorReplicas: int(1, 10).default(1),
  }),
});
