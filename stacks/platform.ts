/**
 * The composition root: builds the layers in order, passing outputs forward, never backward.
 *
 *   Network -> Cluster -> GpuCapacity -> Platform services -> Serving
 *
 * Every component receives its slice of the validated PlatformConfig and the outputs of the
 * layers before it; none reads Pulumi config itself.
 */
import * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { Autoscaling } from "../components/autoscaling";
import { Budgets } from "../components/budgets";
import { Cluster } from "../components/cluster";
import { Edge } from "../components/edge";
import { GATEWAY_NS, GATEWAY_PORT, GATEWAY_RELEASE } from "../components/gateway";
import { GpuCapacity } from "../components/gpu-capacity";
import { costTags } from "../components/labels";
import { LOAD_TEST_PRINCIPAL, LoadTest } from "../components/load-test";
import { MonitoringCrds } from "../components/monitoring-crds";
import { PlatformNamespaces } from "../components/namespaces";
import { Network } from "../components/network";
import { NetworkSecurity } from "../components/network-security";
import { newNodeColdStartSeconds } from "../components/model-server";
import { Observability } from "../components/observability";
import { OTLP_HTTP_TRACES_ENDPOINT, RAG_NAMESPACE, RagService } from "../components/rag";
import { declaredFlows } from "../components/platform-flows";
import { Secrets } from "../components/secrets";
import { Serving } from "../components/serving";
import { Tracing } from "../components/tracing";
import { MODELS, type LlmModelKey } from "../infra/catalog/models";
import type { PlatformConfig } from "../infra/config";

export interface Platform {
  readonly config: PlatformConfig;
  readonly awsProvider: aws.Provider;
  readonly network: Network;
  readonly cluster: Cluster;
  readonly k8sProvider: k8s.Provider;
  readonly namespaces: PlatformNamespaces;
  readonly monitoringCrds: MonitoringCrds;
  readonly gpuCapacity: GpuCapacity;
  readonly secrets: Secrets;
  readonly tracing?: Tracing;
  readonly observability: Observability;
  readonly autoscaling: Autoscaling;
  readonly networkSecurity: NetworkSecurity;
  readonly serving: Serving;
  readonly rag?: RagService;
  readonly edge?: Edge;
  readonly budgets: Budgets;
  readonly loadTest?: LoadTest;
}

export function createPlatform(config: PlatformConfig): Platform {
  const tags = costTags({ environment: config.environment, ...config.tags });
  const awsProvider = new aws.Provider("aws", { region: config.region as aws.Region, defaultTags: { tags } });
  const withAws: pulumi.ComponentResourceOptions = { providers: [awsProvider] };
  // Run-time money guardrails: AWS Budgets and Cost Anomaly Detection over this stack's cost tags.
  const budgets = new Budgets("budget", { budget: config.budget, tags, name: config.cluster.name }, withAws);

  const network = new Network("network", { config: config.network, clusterName: config.cluster.name, region: config.region }, withAws);

  const cluster = new Cluster(
    "cluster",
    {
      config: config.cluster,
      environment: config.environment,
      vpcId: network.vpcId,
      controlPlaneSubnetIds: network.controlPlaneSubnetIds,
    },
    withAws,
  );

  const k8sProvider = cluster.provider;
  const namespaces = new PlatformNamespaces("namespaces", { k8sProvider, istio: config.networkSecurity.istio.enabled });
  const monitoringCrds = new MonitoringCrds("monitoring-crds", { k8sProvider });

  const gpuCapacity = new GpuCapacity(
    "gpu",
    {
      config,
      clusterName: config.cluster.name,
      cluster: cluster.eks,
      clusterEndpoint: cluster.endpoint,
      clusterSecurityGroupId: cluster.eksManagedSecurityGroupId,
      vpcId: network.vpcId,
      privateSubnetIds: network.privateSubnetIds,
      tags,
      k8sProvider,
      monitoringCrds: monitoringCrds.release,
      nvidiaNamespace: namespaces.namespaces.nvidia,
    },
    withAws,
  );

  // Platform services: secrets first (others consume its store), then tracing, observability,
  // autoscaling and the network policies.
  const ns = namespaces.namespaces;
  const secrets = new Secrets("secrets", {
    config,
    clusterName: config.cluster.name,
    oidcIssuer: cluster.oidcIssuer,
    k8sProvider,
    namespace: ns.secrets,
    monitoringCrds: monitoringCrds.release,
  });
  const tracing = config.observability.tracing.enabled
    ? new Tracing("tracing", { config: config.observability.tracing, k8sProvider, namespace: ns.tracing, monitoringCrds: monitoringCrds.release })
    : undefined;
  const observability = new Observability("observability", {
    config,
    clusterName: config.cluster.name,
    vaultPathPrefix: config.vault.pathPrefix,
    k8sProvider,
    namespace: ns.monitoring,
    secretStore: secrets.store,
    monitoringCrds: monitoringCrds.release,
    ...(tracing ? { jaegerUrl: tracing.jaegerUrl } : {}),
  });
  const autoscaling = new Autoscaling("autoscaling", { operatorReplicas: config.autoscaling.kedaOperatorReplicas, k8sProvider, namespace: ns.autoscaling, monitoringCrds: monitoringCrds.release });
  const networkSecurity = new NetworkSecurity("network-security", {
    config,
    flows: declaredFlows(config),
    k8sProvider,
    namespaces: ns,
    // The load-test Jobs' direct run POSTs to vLLM, which Istio otherwise admits from the gateway only.
    inferenceCallers: config.loadTest.enabled ? [LOAD_TEST_PRINCIPAL] : [],
  });

  // Serving: model servers, TEI, Milvus, the safety service.
  const serving = new Serving(
    "serving",
    {
      config,
      k8sProvider,
      namespaces: ns,
      secretStore: secrets.store,
      oidcProviderArn: cluster.oidcProviderArn,
      oidcIssuer: cluster.oidcIssuer,
      prometheusUrl: observability.prometheusUrl,
      ...(tracing ? { otlpEndpoint: tracing.otlpEndpoint } : {}),
      // Meshed pods need the sidecar injector and Istio CNI before they are created.
      platformReady: [autoscaling.release, monitoringCrds.release, gpuCapacity.nvidia.devicePlugin, ...networkSecurity.meshReady],
    },
    withAws,
  );


  // Edge: load balancer, LiteLLM gateway, its PostgreSQL and Redis.
  let edge: Edge | undefined;
  if (config.edge.enabled) {
    const gen = secrets.generatedValues;
    const route = (role: "embed" | "rerank") => {
      const model = serving.encoderModels[role];
      const url = serving.embeddings[role];
      return model && url ? { [role === "embed" ? "embeddings" : "rerank"]: { name: model, url, upstream: MODELS[model as keyof typeof MODELS].hfRepo } } : {};
    };
    edge = new Edge(
      "edge",
      {
        config,
        tags,
        vpcId: network.vpcId,
        privateSubnetIds: network.privateSubnetIds,
        clusterSecurityGroupId: cluster.eksManagedSecurityGroupId,
        postgresCredentials: { username: gen.postgres!.username!, password: gen.postgres!.password! },
        redisAuthToken: gen.redis!["auth-token"]!,
        proxy: {
          // A model that may be at zero replicas gets the gateway's retry budget (components/model-scaling.ts,
          // docs/scaling.md "Scale from zero"): the router holds its requests while KEDA wakes it.
          models: Object.entries(serving.models).map(([name, m]) => {
            const c = config.models[name as LlmModelKey]!;
            if (c.replicas.min > 0) return { name, url: m.url };
            const pool = config.gpuPools[c.pool]!;
            return {
              name,
              url: m.url,
              scaleFromZero: {
                newNodeColdStartSeconds: newNodeColdStartSeconds({ key: name as LlmModelKey, cfg: c, pool }),
                pollingIntervalSeconds: c.autoscaling.pollingIntervalSeconds,
              },
            };
          }),
          ...route("embed"),
          ...route("rerank"),
          ...(serving.safetyUrl ? { safetyUrl: serving.safetyUrl } : {}),
        },
        k8sProvider,
        secretStore: secrets.store,
        dependsOn: [ns.gateway, monitoringCrds.release, ...networkSecurity.meshReady],
      },
      withAws,
    );
  }

  // The RAG service (docs/rag.md): it calls Milvus, TEI and the gateway by their static in-cluster
  // URLs. Its /rag route joins the gateway's ALB, so it comes after the edge.
  const embed = serving.embeddings.embed;
  const rag =
    config.rag.enabled && embed
      ? new RagService(
          "rag",
          {
            config,
            endpoints: {
              milvus: serving.vectorDbEndpoint,
              embed,
              ...(serving.embeddings.rerank ? { rerank: serving.embeddings.rerank } : {}),
              gateway: `http://${GATEWAY_RELEASE}.${GATEWAY_NS}.svc:${GATEWAY_PORT}`,
              ...(tracing ? { otlpTraces: OTLP_HTTP_TRACES_ENDPOINT } : {}),
            },
            namespace: RAG_NAMESPACE,
            istio: config.networkSecurity.istio.enabled,
            secretStore: secrets.store,
            k8sProvider,
            dependsOn: [ns.rag, monitoringCrds.release, ...networkSecurity.meshReady],
            ...(edge && config.rag.gatewayRoute ? { route: { loadBalancer: config.edge.loadBalancer, dependsOn: [edge] } } : {}),
          },
          withAws,
        )
      : undefined;

  // Load-test Jobs generated from the models' SLOs (loadTest.enabled, off by default): each model
  // straight to vLLM and through the gateway; results to the weights bucket (components/load-test.ts).
  const loadTest = config.loadTest.enabled
    ? new LoadTest(
      "load-test",
      { config, weightsBucket: serving.weightsBucket, secretStore: secrets.store, k8sProvider, dependsOn: [ns.inference, serving, ...(edge ? [edge] : []), ...networkSecurity.meshReady] },
      withAws,
    )
    : undefined;

  return {
    config,
    awsProvider,
    network,
    cluster,
    k8sProvider,
    namespaces,
    monitoringCrds,
    gpuCapacity,
    secrets,
    ...(tracing ? { tracing } : {}),
    observability,
    autoscaling,
    networkSecurity,
    serving,
    ...(rag ? { rag } : {}),
    ...(edge ? { edge } : {}),
    budgets,
    ...(loadTest ? { loadTest } : {}),
  };
}
