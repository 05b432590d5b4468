/**
 * Compute capacity as the policies count it: managed node groups (the eks component offline, the
 * aws.eks.NodeGroup child under the CLI, never both) and Karpenter NodePools.
 */
import type { PolicyResource } from "@pulumi/policy";
import { INSTANCE_TYPES, type InstanceType } from "llm-platform-infra/catalog/instances";
import { nodePoolCandidates, parseQuantity } from "llm-platform-infra/cost";
import { get, num, str, strings, stringMap, type Props } from "./props";

export const EKS_COMPONENT_NODE_GROUP = "eks:index:ManagedNodeGroup";
export const AWS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
export const EKS_COMPONENT_CLUSTER = "eks:index:Cluster";
export const AWS_EKS_CLUSTER = "aws:eks/cluster:Cluster";
export const NODE_GROUP_TYPES: readonly string[] = [EKS_COMPONENT_NODE_GROUP, AWS_NODE_GROUP];
export const POOL_LABEL = "llm-platform.io/pool";

export interface NodeGroupView {
  /** The pool label, else the node group name, else the resource name. */
  readonly pool: string;
  readonly instanceTypes: readonly string[];
  /** Catalog entries of instanceTypes; undefined where a type is not in the catalog. */
  readonly catalog: readonly (InstanceType | undefined)[];
  readonly capacityType: string;
  readonly minSize?: number;
  readonly desiredSize?: number;
  readonly maxSize?: number;
}

export function nodeGroupView(name: string, props: Props): NodeGroupView {
  const types = strings(props.instanceTypes);
  const labels = stringMap(props.labels);
  const minSize = num(get(props, "scalingConfig", "minSize"));
  const desiredSize = num(get(props, "scalingConfig", "desiredSize"));
  const maxSize = num(get(props, "scalingConfig", "maxSize"));
  return {
    pool: labels[POOL_LABEL] ?? str(props.nodeGroupName) ?? name,
    instanceTypes: types,
    catalog: types.map((t) => INSTANCE_TYPES.get(t)),
    // EKS defaults to ON_DEMAND.
    capacityType: str(props.capacityType) ?? "ON_DEMAND",
    ...(minSize !== undefined ? { minSize } : {}),
    ...(desiredSize !== undefined ? { desiredSize } : {}),
    ...(maxSize !== undefined ? { maxSize } : {}),
  };
}

export function hasGpu(view: NodeGroupView): boolean {
  return view.catalog.some((t) => t?.gpu !== undefined);
}

/**
 * The node groups to count in a stack: the aws.eks.NodeGroup children when any is visible (under
 * the CLI), otherwise the eks.ManagedNodeGroup components (offline). Same rule as the cost model.
 */
export function countableNodeGroups(resources: readonly PolicyResource[]): PolicyResource[] {
  const children = resources.filter((r) => r.type === AWS_NODE_GROUP);
  return children.length > 0 ? children : resources.filter((r) => r.type === EKS_COMPONENT_NODE_GROUP);
}

/** The Karpenter config key behind one of our NodePools, for messages that say what to change. */
export function nodePoolConfigKey(poolName: string): string | undefined {
  return ({ "gpu-spot": "karpenter.gpuSpot", "gpu-on-demand": "karpenter.gpuOnDemand", cpu: "karpenter.cpu" } as Record<string, string>)[poolName];
}

export interface NodePoolGpus {
  readonly name: string;
  /** The nvidia.com/gpu limit, when set. */
  readonly limit?: number;
  /** Whether the pool may launch GPU instances (a catalog GPU type matches, or any type may launch). */
  readonly mayLaunchGpus: boolean;
}

export function nodePoolGpus(fallbackName: string, props: Props): NodePoolGpus {
  const spec = props.spec;
  const { types, unbounded } = nodePoolCandidates(spec);
  const limit = parseQuantity(get(spec, "limits", "nvidia.com/gpu"));
  return {
    name: str(get(props, "metadata", "name")) ?? fallbackName,
    ...(limit !== undefined ? { limit } : {}),
    mayLaunchGpus: unbounded.length > 0 || types.some((t) => t.gpu !== undefined),
  };
}
