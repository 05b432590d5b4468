/**
 * The Pulumi program: load and validate config, register the protection transform, build the
 * platform, and return the stack outputs. stacks/index.ts runs it under the Pulumi CLI; the
 * offline plan and the tests run the same function on the mock runtime.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "../infra/config";
import { createPlatform } from "./platform";
import { protectionTransformation } from "../infra/protection";

/** Stack outputs; each is documented in README.md ("Stack outputs"). */
export interface StackOutputs {
  readonly environment: string;
  readonly region: string;
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly publicSubnetIds: pulumi.Output<string>[];
  readonly clusterName: pulumi.Output<string>;
  readonly clusterEndpoint: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  /** Secret: a kubeconfig that authenticates with `aws eks get-token`. */
  readonly kubeconfig: pulumi.Output<string>;
  /** In-cluster URL and cold-start estimate (seconds, warm node) of each model server. */
  readonly models: Record<string, { url: string; coldStartEstimateSeconds: number }>;
  /** In-cluster URLs of TEI (embed, rerank). */
  readonly embeddings: Record<string, string>;
  readonly vectorDbEndpoint: string;
  readonly safetyUrl?: string;
  /** The safety image deployed, by digest. */
  readonly safetyImage?: pulumi.Output<string>;
  /** The RAG service inside the cluster (API clients use the gateway's /rag route). */
  readonly ragUrl?: string;
  /** The RAG image deployed, by digest. */
  readonly ragImage?: pulumi.Output<string>;
  readonly modelWeightsBucket: pulumi.Output<string>;
  readonly karpenterInterruptionQueue: pulumi.Output<string>;
  readonly prometheusUrl: string;
  readonly otlpEndpoint?: string;
  /** The gateway's ALB hostname (known after the load balancer controller creates it). */
  readonly gatewayHostname?: pulumi.Output<string>;
  /** The gateway inside the cluster. */
  readonly gatewayServiceUrl?: string;
  readonly postgresHost?: pulumi.Output<string>;
  readonly redisHost?: pulumi.Output<string>;
  /** The AWS Budgets budget and the Cost Anomaly Detection monitor over this stack's cost tags. */
  readonly costBudgetName: pulumi.Output<string>;
  readonly costAnomalyMonitorArn: pulumi.Output<string>;
  /** Where the load-test Jobs write their results (loadTest.enabled): s3://.../load-tests/<runId>/. */
  readonly loadTestResults?: pulumi.Output<string>;
}

export function program(): StackOutputs {
  // Config first: an invalid config throws here, before any resource is registered.
  const config = loadConfig();
  pulumi.runtime.registerStackTransformation(protectionTransformation(config.protection));
  const p = createPlatform(config);
  return {
    environment: config.environment,
    region: config.region,
    vpcId: p.network.vpcId,
    privateSubnetIds: p.network.privateSubnetIds,
    publicSubnetIds: p.network.publicSubnetIds,
    clusterName: p.cluster.name,
    clusterEndpoint: p.cluster.endpoint,
    oidcProviderArn: p.cluster.oidcProviderArn,
    kubeconfig: p.cluster.kubeconfig,
    models: { ...p.serving.models },
    embeddings: { ...p.serving.embeddings },
    vectorDbEndpoint: p.serving.vectorDbEndpoint,
    ...(p.serving.safetyUrl ? { safetyUrl: p.serving.safetyUrl } : {}),
    ...(p.serving.safetyImage ? { safetyImage: p.serving.safetyImage } : {}),
    ...(p.rag ? { ragUrl: p.rag.url, ragImage: p.rag.image } : {}),
    modelWeightsBucket: p.serving.weightsBucket,
    karpenterInterruptionQueue: p.gpuCapacity.karpenter.queueName,
    prometheusUrl: p.observability.prometheusUrl,
    ...(p.tracing ? { otlpEndpoint: p.tracing.otlpEndpoint } : {}),
    ...(p.edge
      ? { gatewayHostname: p.edge.gatewayHostname, gatewayServiceUrl: p.edge.gatewayServiceUrl, postgresHost: p.edge.postgresHost, redisHost: p.edge.redisHost }
      : {}),
    costBudgetName: p.budgets.budgetName,
    costAnomalyMonitorArn: p.budgets.anomalyMonitor.arn,
    ...(p.loadTest ? { loadTestResults: p.loadTest.resultsPrefix } : {}),
  };
}
