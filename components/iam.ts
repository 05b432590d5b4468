/**
 * IAM document builders shared by the components. Pure functions, so the documents are
 * unit-tested and the policies can inspect them.
 */

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Principal?: Record<string, string | readonly string[]>;
  readonly Condition?: Record<string, Record<string, string | readonly string[] | boolean>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

export function policyDocument(...statements: PolicyStatement[]): PolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

/** Trust policy for an AWS service principal, e.g. `ec2.amazonaws.com`. */
export function serviceTrustPolicy(service: string): PolicyDocument {
  return policyDocument({ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" });
}

/**
 * Trust policy for EKS Pod Identity: the Pod Identity agent assumes the role and tags the
 * session with the cluster, namespace and service account.
 */
export function podIdentityTrustPolicy(): PolicyDocument {
  return policyDocument({ Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] });
}

export const MANAGED_POLICY = {
  eksCluster: "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
  eksWorkerNode: "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
  eksCni: "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
  ecrPullOnly: "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
  ssmCore: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
  ebsCsi: "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
  eksClusterAdminAccess: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
} as const;
