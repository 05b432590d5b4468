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
import { Cluster } from "../components/cluster";
import { GpuCapacity } from "../components/gpu-capacity";
import { costTags } from "../components/labels";
import { MonitoringCrds } from "../components/monitoring-crds";
import { Network } from "../components/network";
import type { PlatformConfig } from "./config";

export interface Platform {
  readonly config: PlatformConfig;
  readonly awsProvider: aws.Provider;
  readonly network: Network;
  readonly cluster: Cluster;
  readonly k8sProvider: k8s.Provider;
  readonly monitoringCrds: MonitoringCrds;
  readonly gpuCapacity: GpuCapacity;
}

export function createPlatform(config: PlatformConfig): Platform {
  const tags = costTags({ environment: config.environment, ...config.tags });
  const awsProvider = new aws.Provider("aws", { region: config.region as aws.Region, defaultTags: { tags } });
  const withAws: pulumi.ComponentResourceOptions = { providers: [awsProvider] };

  const network = new Network("network", { config: config.network, clusterName: config.cluster.name, region: config.region }, withAws);

  const cluster = new Cluster(
    "cluster",
    {
      config: config.cluster,
      environment: config.environment,
      vpcId: network.vpcId,
      publicSubnetIds: network.publicSubnetIds,
      privateSubnetIds: network.privateSubnetIds,
    },
    withAws,
  );

  const k8sProvider = cluster.provider;
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
    },
    withAws,
  );

  return { config, awsProvider, network, cluster, k8sProvider, monitoringCrds, gpuCapacity };
}
