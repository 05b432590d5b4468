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
import { costTags } from "../components/labels";
import { Network } from "../components/network";
import type { PlatformConfig } from "./config";

export interface Platform {
  readonly config: PlatformConfig;
  readonly awsProvider: aws.Provider;
  readonly network: Network;
  readonly cluster: Cluster;
  readonly k8sProvider: k8s.Provider;
}

export function createPlatform(config: PlatformConfig): Platform {
  const awsProvider = new aws.Provider("aws", {
    region: config.region as aws.Region,
    defaultTags: { tags: costTags({ environment: config.environment, ...config.tags }) },
  });
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

  return { config, awsProvider, network, cluster, k8sProvider: cluster.provider };
}
