/**
 * Edge: how requests reach the platform. The AWS Load Balancer Controller, the gateway's
 * PostgreSQL and Redis, and the LiteLLM gateway behind an ALB:
 *
 *   client -> ALB (TLS, WAF) -> LiteLLM (keys, limits, guardrails) -> safety -> vLLM / TEI
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../infra/config";
import { Datastores } from "./datastores";
import { Gateway, type ProxyConfigInputs } from "./gateway";
import { LoadBalancerController } from "./load-balancer";

export interface EdgeArgs {
  readonly config: PlatformConfig;
  readonly tags: Record<string, string>;
  readonly vpcId: pulumi.Input<string>;
  readonly privateSubnetIds: pulumi.Input<string>[];
  readonly clusterSecurityGroupId: pulumi.Input<string>;
  readonly postgresCredentials: { readonly username: pulumi.Input<string>; readonly password: pulumi.Input<string> };
  readonly redisAuthToken: pulumi.Input<string>;
  readonly proxy: ProxyConfigInputs;
  readonly k8sProvider: k8s.Provider;
  readonly secretStore: pulumi.Resource;
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class Edge extends pulumi.ComponentResource {
  public readonly gatewayHostname: pulumi.Output<string>;
  public readonly gatewayServiceUrl: string;
  public readonly postgresHost: pulumi.Output<string>;
  public readonly redisHost: pulumi.Output<string>;

  constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:edge:Edge", name, {}, opts);
    const c = args.config;
    const lbc = new LoadBalancerController(
      `${name}-lbc`,
      { clusterName: c.cluster.name, region: c.region, vpcId: args.vpcId, replicas: c.edge.loadBalancerController.replicas, k8sProvider: args.k8sProvider },
      { parent: this },
    );
    const stores = new Datastores(
      `${name}-datastores`,
      {
        edge: c.edge,
        clusterName: c.cluster.name,
        network: { vpcId: args.vpcId, privateSubnetIds: args.privateSubnetIds, clusterSecurityGroupId: args.clusterSecurityGroupId },
        postgres: args.postgresCredentials,
        redisAuthToken: args.redisAuthToken,
      },
      { parent: this },
    );
    const gateway = new Gateway(
      `${name}-gateway`,
      {
        config: c,
        clusterName: c.cluster.name,
        tags: args.tags,
        proxy: args.proxy,
        postgresHost: stores.postgresHost,
        redisHost: stores.redisHost,
        k8sProvider: args.k8sProvider,
        secretStore: args.secretStore,
        dependsOn: [lbc.release, ...args.dependsOn],
      },
      { parent: this },
    );
    this.gatewayHostname = gateway.hostname;
    this.gatewayServiceUrl = gateway.serviceUrl;
    this.postgresHost = stores.postgresHost;
    this.redisHost = stores.redisHost;
    this.registerOutputs({ gatewayHostname: this.gatewayHostname, postgresHost: this.postgresHost, redisHost: this.redisHost });
  }
}
