/**
 * Network bandwidth of the instance types the platform may launch, for the cold-start model
 * (infra/coldstart.ts): how fast a new node can pull its image and stream weights from S3.
 *
 * - Baseline: the `karpenter.k8s.aws/instance-network-bandwidth` label (Mbps) per type in
 *   aws/karpenter-provider-aws website/content/en/v1.14/reference/instance-types.md (read at the
 *   v1.14.1 tag, the pinned Karpenter), which Karpenter takes from EC2 DescribeInstanceTypes
 *   `NetworkInfo.NetworkCards[].BaselineBandwidthInGbps`.
 * - Burst: the "up to" figure of the smaller sizes (AWS EC2 User Guide, "Amazon EC2 instance
 *   type specifications - Accelerated computing", network performance column). A type with no
 *   "up to" figure runs at its baseline. A node that has just launched holds its full network
 *   I/O credits, so a start-up transfer of a few tens of GiB runs at the burst rate; that is an
 *   estimate (AWS documents the credit mechanism, not its size).
 */

export interface NetworkBandwidth {
  /** Sustained bandwidth, Gbps. */
  readonly baselineGbps: number;
  /** Short-term ("up to") bandwidth, Gbps; equals the baseline when the type does not burst. */
  readonly burstGbps: number;
  readonly source: string;
}

const KARPENTER_SRC = "aws/karpenter-provider-aws website/content/en/v1.14/reference/instance-types.md (karpenter.k8s.aws/instance-network-bandwidth)";
const BURST_SRC = "AWS EC2 User Guide, accelerated computing instance specifications (network performance 'Up to N Gigabit')";

const bw = (baselineMbps: number, burstGbps?: number): NetworkBandwidth => ({
  baselineGbps: baselineMbps / 1000,
  burstGbps: burstGbps ?? baselineMbps / 1000,
  source: burstGbps ? `${KARPENTER_SRC}; ${BURST_SRC}` : KARPENTER_SRC,
});

export const NETWORK_BANDWIDTH: Readonly<Record<string, NetworkBandwidth>> = {
  "g5.xlarge": bw(2500, 10),
  "g5.2xlarge": bw(5000, 10),
  "g5.4xlarge": bw(10000, 25),
  "g5.12xlarge": bw(40000),
  "g5.48xlarge": bw(100000),
  "g6.xlarge": bw(2500, 10),
  "g6.12xlarge": bw(40000),
  "g6e.xlarge": bw(2500, 20),
  "g6e.12xlarge": bw(100000),
  "p4d.24xlarge": bw(400000),
  "p4de.24xlarge": bw(400000),
  "p5.4xlarge": bw(100000),
  "p5.48xlarge": bw(3200000),
};

/** The bandwidth of a GPU instance type; throws for a type this table does not list. */
export function networkBandwidth(instanceType: string): NetworkBandwidth {
  const b = NETWORK_BANDWIDTH[instanceType];
  if (!b) throw new Error(`instance type ${instanceType} has no network bandwidth in infra/catalog/network-bandwidth.ts: add it with its source`);
  return b;
}

/** Gbps to GiB/s. */
export function gbpsToGiBps(gbps: number): number {
  return (gbps * 1e9) / 8 / 1024 ** 3;
}
