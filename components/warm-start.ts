/**
 * Warm start of GPU nodes (issue 16): new GPU nodes must not pull the 12-28 GB vLLM image from
 * scratch. Per GPU family (config `warmStart.families`), one of:
 *
 * - `soci`: SOCI parallel pull/unpack. The EKS AL2023 AMIs ship the SOCI snapshotter and nodeadm
 *   turns it on with the `FastImagePull` feature gate (awslabs/amazon-eks-ami, nodeadm
 *   api `FastImagePull` "enables a parallel image pull for container images"; doc
 *   nodeadm/doc/examples.md "Enabling fast image pull (experimental)"; containerd
 *   `UseSOCISnapshotter`: applies on >= 4 vCPU and >= 7 GiB). Layers download over many
 *   connections and unpack concurrently (awslabs/soci-snapshotter docs/parallel-mode.md), so the
 *   pull is bounded by the network, the volume's write throughput and the largest layer's unpack.
 *   The containerd 2.2.3 sandbox deadlock with FastImagePull (amazon-eks-ami issue #2712) was
 *   fixed in nodeadm (PR #2717, May 2026), before the pinned AMI (al2023@v20260724).
 * - `snapshot`: a second EBS volume (/dev/xvdb) restored from a snapshot that already holds
 *   /var/lib/containerd with the vLLM image, mounted there by a user-data script that cloud-init
 *   runs before nodeadm starts containerd. Karpenter v1.14 EC2NodeClass blockDeviceMappings take
 *   `snapshotID` and `volumeInitializationRate` (100-300 MiB/s; the CRD requires a snapshotID with
 *   it: pkg/apis/crds/karpenter.k8s.aws_ec2nodeclasses.yaml at v1.14.1).
 * - `none`: containerd's default pull.
 *
 * User data on AL2023 is a MIME multi-part archive: Karpenter puts its generated NodeConfig first
 * and our parts after it (karpenter website v1.14 concepts/nodeclasses.md "UserData / AL2023");
 * EKS managed node groups merge a launch template's NodeConfig parts the same way (EKS User Guide,
 * "Customize managed nodes with launch templates", AL2023).
 */
import type { WarmStartFamilyConfig } from "../infra/config/warm-start";

export const MIME_BOUNDARY = "//";
/** The data volume that holds the images in snapshot mode. */
export const IMAGE_VOLUME_DEVICE = "/dev/xvdb";
export const CONTAINERD_ROOT = "/var/lib/containerd";

/** nodeadm NodeConfig turning on SOCI parallel pull (apiVersion node.eks.aws/v1alpha1). */
export const FAST_IMAGE_PULL_NODECONFIG = ["apiVersion: node.eks.aws/v1alpha1", "kind: NodeConfig", "spec:", "  featureGates:", "    FastImagePull: true", ""].join("\n");

/**
 * Mounts the snapshot volume on containerd's root before containerd starts. On Nitro instances the
 * EBS volume is an NVMe device that amazon-ec2-utils' udev rules link to its block device name.
 */
export function mountImageVolumeScript(): string {
  return [
    "#!/bin/bash",
    "set -euo pipefail",
    `dev=${IMAGE_VOLUME_DEVICE}`,
    'for _ in $(seq 1 60); do [ -e "$dev" ] && break; sleep 1; done',
    `mkdir -p ${CONTAINERD_ROOT}`,
    `mount -o noatime "$dev" ${CONTAINERD_ROOT}`,
    `echo "$dev ${CONTAINERD_ROOT} auto noatime,nofail 0 2" >> /etc/fstab`,
    "",
  ].join("\n");
}

/** The user data (MIME multi-part) for a warm-start mode; undefined when there is nothing to add. */
export function warmStartUserData(mode: WarmStartFamilyConfig["mode"]): string | undefined {
  if (mode === "none") return undefined;
  const part =
    mode === "soci"
      ? ["Content-Type: application/node.eks.aws", "", FAST_IMAGE_PULL_NODECONFIG]
      : ['Content-Type: text/x-shellscript; charset="us-ascii"', "", mountImageVolumeScript()];
  return ["MIME-Version: 1.0", `Content-Type: multipart/mixed; boundary="${MIME_BOUNDARY}"`, "", `--${MIME_BOUNDARY}`, ...part, `--${MIME_BOUNDARY}--`, ""].join("\n");
}

export interface ImageVolume {
  readonly throughputMiBps: number;
  readonly iops: number;
}

/** The snapshot data volume, as the Karpenter EC2NodeClass blockDeviceMapping takes it. */
export function karpenterSnapshotVolume(ws: WarmStartFamilyConfig, v: ImageVolume) {
  return {
    deviceName: IMAGE_VOLUME_DEVICE,
    ebs: {
      snapshotID: ws.snapshotId!,
      volumeInitializationRate: ws.volumeInitializationRateMiBps,
      volumeSize: `${ws.volumeSizeGiB}Gi`,
      volumeType: "gp3" as const,
      encrypted: true,
      deleteOnTermination: true,
      iops: v.iops,
      throughput: v.throughputMiBps,
    },
  };
}

/** The snapshot data volume, as an EC2 launch template blockDeviceMapping takes it. */
export function launchTemplateSnapshotVolume(ws: WarmStartFamilyConfig, v: ImageVolume) {
  return {
    deviceName: IMAGE_VOLUME_DEVICE,
    ebs: {
      snapshotId: ws.snapshotId!,
      volumeInitializationRate: ws.volumeInitializationRateMiBps,
      volumeSize: ws.volumeSizeGiB,
      volumeType: "gp3",
      encrypted: "true",
      deleteOnTermination: "true",
      iops: v.iops,
      throughput: v.throughputMiBps,
    },
  };
}
