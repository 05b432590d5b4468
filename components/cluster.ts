/**
 * Cluster: the EKS control plane on @pulumi/eks v4, with its managed add-ons and the
 * Kubernetes provider every later layer uses.
 *
 * - Authentication mode API (access entries, no aws-auth ConfigMap), no default node group.
 * - Managed add-ons: vpc-cni with network policy enforcement on, coredns, kube-proxy, the EBS
 *   CSI driver (IAM through Pod Identity) and the Pod Identity agent.
 * - OIDC provider, upgrade policy STANDARD by default, control-plane logs into a log group
 *   with bounded retention, Secrets envelope-encrypted with a KMS key.
 * - A default encrypted gp3 StorageClass.
 */
import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Environment, PlatformConfig } from "../infra/config";
import { MANAGED_POLICY, podIdentityTrustPolicy } from "./iam";
import { recommendedLabels } from "./labels";

export interface ClusterArgs {
  readonly config: PlatformConfig["cluster"];
  readonly environment: Environment;
  readonly vpcId: pulumi.Input<string>;
  /** The /28s that hold only the control plane's ENIs (components/network.ts). */
  readonly controlPlaneSubnetIds: pulumi.Input<string>[];
}

/** The eks.Cluster arguments, built from config. Pure, so it is unit-tested without mocks. */
export function eksClusterArgs(
  cfg: PlatformConfig["cluster"],
  net: { vpcId: pulumi.Input<string>; controlPlaneSubnetIds: pulumi.Input<string>[] },
  encryptionKeyArn?: pulumi.Input<string>,
): eks.ClusterArgs {
  const accessEntries: Record<string, eks.types.input.AccessEntryArgs> = {};
  cfg.adminRoleArns.forEach((arn, i) => {
    accessEntries[`admin-${i}`] = {
      principalArn: arn,
      type: eks.AccessEntryType.Standard,
      accessPolicies: {
        clusterAdmin: { policyArn: MANAGED_POLICY.eksClusterAdminAccess, accessScope: { type: "cluster" } },
      },
    };
  });
  return {
    name: cfg.name,
    version: cfg.kubernetesVersion,
    vpcId: net.vpcId,
    // The control plane's ENIs go to their own small subnets, where no pod runs, so webhook and
    // aggregated-API traffic from the API server can be admitted from those CIDRs alone. Nodes
    // are placed by the managed node groups and Karpenter (private subnets); there is no default
    // node group. (pulumi-eks: subnetIds is the set used for the control plane.)
    subnetIds: net.controlPlaneSubnetIds,
    nodeAssociatePublicIpAddress: false,
    authenticationMode: eks.AuthenticationMode.Api,
    accessEntries,
    skipDefaultNodeGroup: true,
    // Only the managed add-ons below; no self-managed copies at creation.
    bootstrapSelfManagedAddons: false,
    useDefaultVpcCni: false,
    vpcCniOptions: { enableNetworkPolicy: true, resolveConflictsOnUpdate: "OVERWRITE" },
    corednsAddonOptions: { enabled: true, resolveConflictsOnUpdate: "OVERWRITE" },
    kubeProxyAddonOptions: { enabled: true, resolveConflictsOnUpdate: "OVERWRITE" },
    createOidcProvider: true,
    endpointPrivateAccess: cfg.endpoint.privateAccess,
    endpointPublicAccess: cfg.endpoint.publicAccess,
    ...(cfg.endpoint.publicAccess ? { publicAccessCidrs: [...cfg.endpoint.publicAccessCidrs] } : {}),
    upgradePolicy: { supportType: cfg.supportType },
    enabledClusterLogTypes: [...cfg.logging.types],
    ...(encryptionKeyArn ? { encryptionConfigKeyArn: encryptionKeyArn } : {}),
    tags: { Name: cfg.name },
  };
}

/** The default StorageClass: encrypted gp3 through the EBS CSI driver. */
export function gp3StorageClass(reclaimPolicy: "Retain" | "Delete"): k8s.storage.v1.StorageClassArgs {
  return {
    metadata: {
      name: "gp3",
      annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
      labels: recommendedLabels("gp3", "storage"),
    },
    provisioner: "ebs.csi.aws.com",
    parameters: { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" },
    reclaimPolicy,
    volumeBindingMode: "WaitForFirstConsumer",
    allowVolumeExpansion: true,
  };
}

export class Cluster extends pulumi.ComponentResource {
  public readonly eks: eks.Cluster;
  public readonly name: pulumi.Output<string>;
  public readonly endpoint: pulumi.Output<string>;
  public readonly certificateAuthority: pulumi.Output<string>;
  public readonly oidcProviderArn: pulumi.Output<string>;
  public readonly oidcIssuer: pulumi.Output<string>;
  public readonly clusterSecurityGroupId: pulumi.Output<string>;
  /** The security group EKS creates and attaches to managed node groups and the control plane ENIs. */
  public readonly eksManagedSecurityGroupId: pulumi.Output<string>;
  public readonly nodeSecurityGroupId: pulumi.Output<string>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly provider: k8s.Provider;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:cluster:Cluster", name, {}, opts);
    const { config } = args;
    const child = { parent: this };

    // EKS writes control-plane logs to this group; created first so retention is bounded.
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-control-plane-logs`,
      { name: `/aws/eks/${config.name}/cluster`, retentionInDays: config.logging.retentionDays },
      child,
    );

    let keyArn: pulumi.Output<string> | undefined;
    if (config.secretsEncryption) {
      const key = new aws.kms.Key(
        `${name}-secrets`,
        { description: `Envelope encryption of Kubernetes Secrets in ${config.name}`, enableKeyRotation: true, deletionWindowInDays: 30 },
        child,
      );
      new aws.kms.Alias(`${name}-secrets`, { name: `alias/${config.name}-secrets`, targetKeyId: key.keyId }, child);
      keyArn = key.arn;
    }

    this.eks = new eks.Cluster(
      `${name}-eks`,
      eksClusterArgs(config, { vpcId: args.vpcId, controlPlaneSubnetIds: args.controlPlaneSubnetIds }, keyArn),
      { ...child, dependsOn: [logGroup] },
    );

    // Lifted property access works on the real eks.Cluster resource and on the plain object the
    // offline plan's mocks return for it.
    this.name = this.eks.eksCluster.name;
    this.endpoint = this.eks.eksCluster.endpoint;
    this.certificateAuthority = this.eks.eksCluster.certificateAuthority.data;
    this.oidcProviderArn = this.eks.oidcProviderArn;
    this.oidcIssuer = this.eks.oidcIssuer;
    this.clusterSecurityGroupId = this.eks.clusterSecurityGroupId;
    this.eksManagedSecurityGroupId = this.eks.eksCluster.vpcConfig.clusterSecurityGroupId;
    this.nodeSecurityGroupId = this.eks.nodeSecurityGroupId;
    this.kubeconfig = pulumi.secret(this.eks.kubeconfigJson);

    const podIdentityAgent = new aws.eks.Addon(
      `${name}-pod-identity-agent`,
      { clusterName: this.name, addonName: "eks-pod-identity-agent", resolveConflictsOnUpdate: "OVERWRITE" },
      child,
    );

    const ebsCsiRole = new aws.iam.Role(
      `${name}-ebs-csi`,
      { assumeRolePolicy: JSON.stringify(podIdentityTrustPolicy()), managedPolicyArns: [], description: "EBS CSI controller (Pod Identity)" },
      child,
    );
    new aws.iam.RolePolicyAttachment(`${name}-ebs-csi`, { role: ebsCsiRole.name, policyArn: MANAGED_POLICY.ebsCsi }, child);
    if (keyArn) {
      // The CSI driver encrypts with the account's default EBS key; it needs nothing for that.
      // The Secrets key is not granted here on purpose.
    }
    new aws.eks.Addon(
      `${name}-ebs-csi`,
      {
        clusterName: this.name,
        addonName: "aws-ebs-csi-driver",
        resolveConflictsOnUpdate: "OVERWRITE",
        podIdentityAssociations: [{ roleArn: ebsCsiRole.arn, serviceAccount: "ebs-csi-controller-sa" }],
      },
      { ...child, dependsOn: [podIdentityAgent] },
    );

    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true, deleteUnreachable: false },
      child,
    );

    new k8s.storage.v1.StorageClass(`${name}-gp3`, gp3StorageClass(config.storageReclaimPolicy), { ...child, provider: this.provider });

    this.registerOutputs({
      name: this.name,
      endpoint: this.endpoint,
      oidcProviderArn: this.oidcProviderArn,
      oidcIssuer: this.oidcIssuer,
      clusterSecurityGroupId: this.clusterSecurityGroupId,
      nodeSecurityGroupId: this.nodeSecurityGroupId,
      kubeconfig: this.kubeconfig,
    });
  }
}
