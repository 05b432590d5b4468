/**
 * AWS identities for pods. EKS Pod Identity is the default (a role, its inline policy and an
 * association to a service account); IRSA only where a workload's SDK does not read Pod
 * Identity credentials.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { podIdentityTrustPolicy, policyDocument, type PolicyDocument } from "./iam";

/** IRSA trust: the cluster's OIDC provider, for exactly one service account. */
export function irsaTrustPolicy(oidcProviderArn: string, oidcIssuer: string, namespace: string, serviceAccount: string): PolicyDocument {
  const issuer = oidcIssuer.replace(/^https:\/\//, "");
  return policyDocument({
    Effect: "Allow",
    Principal: { Federated: oidcProviderArn },
    Action: "sts:AssumeRoleWithWebIdentity",
    Condition: { StringEquals: { [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`, [`${issuer}:aud`]: "sts.amazonaws.com" } },
  });
}

export interface PodIdentityArgs {
  readonly clusterName: pulumi.Input<string>;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly policy: pulumi.Input<string>;
  readonly description: string;
}

/** A role with an inline policy, associated with a service account through EKS Pod Identity. */
export function podIdentityRole(name: string, args: PodIdentityArgs, opts: pulumi.CustomResourceOptions): { role: aws.iam.Role; association: aws.eks.PodIdentityAssociation } {
  const role = new aws.iam.Role(name, { assumeRolePolicy: JSON.stringify(podIdentityTrustPolicy()), description: args.description }, opts);
  const policy = new aws.iam.RolePolicy(name, { role: role.id, policy: args.policy }, opts);
  // The association waits for the policy: whatever waits for the association (the pods that use
  // it) then starts with its permissions in place, not with a bare role (AccessDenied, a failed Job).
  const association = new aws.eks.PodIdentityAssociation(
    name,
    { clusterName: args.clusterName, namespace: args.namespace, serviceAccount: args.serviceAccount, roleArn: role.arn },
    { ...opts, dependsOn: [policy] },
  );
  return { role, association };
}
