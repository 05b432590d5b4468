import { describe, expect, it } from "vitest";
import { eksClusterArgs, gp3StorageClass } from "../components/cluster";
import { get, ofType, one, stack, STACKS } from "./support/stacks";

const net = { vpcId: "vpc-1", controlPlaneSubnetIds: ["cp-a", "cp-b"] };

describe("eksClusterArgs", () => {
  describe.each(STACKS)("for %s", (name) => {
    it("uses API authentication, no default node group, managed add-ons, STANDARD support and logging", async () => {
      const c = (await stack(name)).config.cluster;
      const a = eksClusterArgs(c, net, "arn:kms");
      expect(a.authenticationMode).toBe("API");
      expect(a.skipDefaultNodeGroup).toBe(true);
      expect(a.bootstrapSelfManagedAddons).toBe(false);
      expect(a.useDefaultVpcCni).toBe(false);
      expect(a.vpcCniOptions?.enableNetworkPolicy).toBe(true);
      expect(a.corednsAddonOptions?.enabled).toBe(true);
      expect(a.kubeProxyAddonOptions?.enabled).toBe(true);
      expect(a.createOidcProvider).toBe(true);
      expect(a.upgradePolicy).toEqual({ supportType: "STANDARD" });
      expect(a.enabledClusterLogTypes).toEqual([...c.logging.types]);
      expect(a.encryptionConfigKeyArn).toBe("arn:kms");
      expect(a.endpointPrivateAccess).toBe(true);
      expect(a.version).toBe("1.36");
      // The control plane's ENIs live in their own subnets; no public/private mix for it.
      expect(a.subnetIds).toEqual(["cp-a", "cp-b"]);
      expect(a.publicSubnetIds).toBeUndefined();
      expect(a.privateSubnetIds).toBeUndefined();
    });
  });

  it("keeps the endpoint private in prod and limits the public one elsewhere", async () => {
    const prod = eksClusterArgs((await stack("prod")).config.cluster, net);
    expect(prod.endpointPublicAccess).toBe(false);
    expect(prod.publicAccessCidrs).toBeUndefined();
    const dev = eksClusterArgs((await stack("dev")).config.cluster, net);
    expect(dev.endpointPublicAccess).toBe(true);
    expect(dev.publicAccessCidrs).toEqual(["203.0.113.0/24"]);
  });

  it("grants cluster-admin to the configured roles through access entries", async () => {
    const a = eksClusterArgs((await stack("dev")).config.cluster, net);
    expect(a.accessEntries).toEqual({
      "admin-0": {
        principalArn: "arn:aws:iam::111122223333:role/PlatformEngineers",
        type: "STANDARD",
        accessPolicies: { clusterAdmin: { policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", accessScope: { type: "cluster" } } },
      },
    });
  });
});

describe("gp3StorageClass", () => {
  it.each(["Retain", "Delete"] as const)("is the encrypted gp3 default with reclaim %s", (policy) => {
    const sc = gp3StorageClass(policy);
    expect(get(sc, "metadata", "annotations", "storageclass.kubernetes.io/is-default-class")).toBe("true");
    expect(sc.provisioner).toBe("ebs.csi.aws.com");
    expect(sc.parameters).toMatchObject({ type: "gp3", encrypted: "true" });
    expect(sc.reclaimPolicy).toBe(policy);
    expect(sc.volumeBindingMode).toBe("WaitForFirstConsumer");
  });
});

describe.each(STACKS)("Cluster in %s", (name) => {
  it("passes the built args to eks.Cluster, after its log group", async () => {
    const r = await stack(name);
    const eks = one(r, "eks:index:Cluster");
    expect(eks.remote).toBe(true);
    expect(eks.inputs.name).toBe(`llm-platform-${name}`);
    expect(eks.inputs.authenticationMode).toBe("API");
    expect(eks.inputs.upgradePolicy).toEqual({ supportType: "STANDARD" });
    expect(eks.inputs.endpointPublicAccess).toBe(name !== "prod");
    // The control plane's ENIs go only to the control-plane /28s.
    expect(eks.inputs.subnetIds).toEqual(r.config.network.availabilityZones.map((az) => `network-control-plane-${az}-id`));
    const logs = ofType(r, "aws:cloudwatch/logGroup:LogGroup").find((l) => l.name === "cluster-control-plane-logs")!;
    expect(logs.inputs.name).toBe(`/aws/eks/llm-platform-${name}/cluster`);
    expect(logs.inputs.retentionInDays).toBe(r.config.cluster.logging.retentionDays);
    expect(eks.options.dependsOn).toContain(logs.urn);
  });

  it("installs the EBS CSI driver with Pod Identity and the Pod Identity agent", async () => {
    const r = await stack(name);
    const addons = ofType(r, "aws:eks/addon:Addon");
    expect(addons.map((a) => a.inputs.addonName).sort()).toEqual(["aws-ebs-csi-driver", "eks-pod-identity-agent"]);
    const ebs = addons.find((a) => a.inputs.addonName === "aws-ebs-csi-driver")!;
    expect(get(ebs.inputs, "podIdentityAssociations", 0, "serviceAccount")).toBe("ebs-csi-controller-sa");
    const role = ofType(r, "aws:iam/role:Role").find((x) => x.name === "cluster-ebs-csi")!;
    expect(JSON.parse(role.inputs.assumeRolePolicy as string).Statement[0].Principal.Service).toBe("pods.eks.amazonaws.com");
    expect(ofType(r, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").find((x) => x.name === "cluster-ebs-csi")?.inputs.policyArn).toBe(
      "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
    );
  });

  it("encrypts Secrets with a rotating KMS key, protected per environment", async () => {
    const r = await stack(name);
    const key = one(r, "aws:kms/key:Key");
    expect(key.inputs.enableKeyRotation).toBe(true);
    expect(key.options.protect).toBe(r.config.protection.protect);
    expect(key.options.retainOnDelete).toBe(r.config.protection.retainOnDelete);
  });

  it("creates the default gp3 StorageClass through the cluster's Kubernetes provider", async () => {
    const r = await stack(name);
    const sc = one(r, "kubernetes:storage.k8s.io/v1:StorageClass");
    expect(sc.inputs.reclaimPolicy).toBe(r.config.cluster.storageReclaimPolicy);
    expect(sc.provider).toContain("pulumi:providers:kubernetes::cluster-k8s");
    const provider = one(r, "pulumi:providers:kubernetes");
    expect(provider.secretPaths).toContain("kubeconfig");
  });

  it("exports the kubeconfig only as a secret", async () => {
    const r = await stack(name);
    expect(r.outputs.kubeconfig).toBe("[secret]");
    expect(r.outputs.clusterName).toBe(`llm-platform-${name}`);
  });
});
