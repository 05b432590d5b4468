/**
 * LoadBalancerController: the AWS Load Balancer Controller from its pinned chart, so Ingresses
 * of class `alb` become ALBs. Its IAM is upstream's published policy for this release
 * (infra/catalog/iam/aws-load-balancer-controller.json), through EKS Pod Identity. Region and
 * VPC are set explicitly: nodes require IMDSv2 with hop limit 1, so the controller cannot read
 * them from instance metadata.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import policyFile from "../infra/catalog/iam/aws-load-balancer-controller.json";
import { CHARTS } from "../infra/catalog/versions";
import { release } from "./helm";
import { POOL_LABEL, SYSTEM_POOL } from "./node-groups";
import { podIdentityRole } from "./workload-identity";

export const LBC_SERVICE_ACCOUNT = "aws-load-balancer-controller";
export const LBC_NAMESPACE = "kube-system";

/** Upstream's controller policy, verbatim. */
export const LBC_POLICY = policyFile.policy;

export function loadBalancerControllerValues(v: { clusterName: string; region: string; vpcId: pulumi.Input<string>; replicas: number }): Record<string, unknown> {
  return {
    clusterName: v.clusterName,
    region: v.region,
    vpcId: v.vpcId,
    replicaCount: v.replicas,
    serviceAccount: { create: true, name: LBC_SERVICE_ACCOUNT },
    // Only Ingresses; Services of type LoadBalancer keep their default handling.
    enableServiceMutatorWebhook: false,
    nodeSelector: { [POOL_LABEL]: SYSTEM_POOL },
    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } },
  };
}

export interface LoadBalancerControllerArgs {
  readonly clusterName: string;
  readonly region: string;
  readonly vpcId: pulumi.Input<string>;
  readonly replicas: number;
  readonly k8sProvider: k8s.Provider;
}

export class LoadBalancerController extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: LoadBalancerControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:edge:LoadBalancerController", name, {}, opts);
    const identity = podIdentityRole(
      `${name}-controller`,
      { clusterName: args.clusterName, namespace: LBC_NAMESPACE, serviceAccount: LBC_SERVICE_ACCOUNT, policy: JSON.stringify(LBC_POLICY), description: "AWS Load Balancer Controller" },
      { parent: this },
    );
    this.release = release(
      `${name}-chart`,
      { name: "aws-load-balancer-controller", namespace: LBC_NAMESPACE, pin: CHARTS.awsLoadBalancerController, values: loadBalancerControllerValues(args) },
      { parent: this, provider: args.k8sProvider, dependsOn: [identity.association] },
    );
    this.registerOutputs({});
  }
}
