/**
 * Area `warmStart` (issue 16): how new GPU nodes get the vLLM image, and the compile cache.
 *
 * - `families.<family>`: per GPU instance family (g5, p5, ...), the warm-start mode of its nodes:
 *   - `soci` (default): SOCI parallel pull and unpack, built into the EKS AL2023 AMI and turned on
 *     by nodeadm's `FastImagePull` feature gate (awslabs/amazon-eks-ami nodeadm
 *     `api.FastImagePull`; it applies on instances with >= 4 vCPU and >= 7 GiB, which every GPU
 *     type here has). Nothing to build or roll when the vLLM pin changes.
 *   - `snapshot`: a second EBS volume restored from a snapshot that already holds the images,
 *     mounted on /var/lib/containerd before containerd starts; the snapshot must be produced per
 *     (AMI, vLLM image) and rolled by the operator (docs/runbooks.md).
 *   - `none`: containerd's default pull (the policy refuses it in prod when it breaks 5 minutes).
 * - `imageVolume`: gp3 throughput and IOPS of the GPU nodes' root volume (where SOCI writes the
 *   unpacked layers).
 * - `compileCache.enabled`: vLLM's compile caches seeded from S3 into a node-local emptyDir,
 *   keyed by (vLLM image, model revision, GPU architecture, TP, max-model-len);
 *   `compileCache.produce`: the Job that produces a missing cache (off by default).
 */
import { z } from "zod";
import { INSTANCE_FAMILIES, isGpuFamily } from "../catalog/instances";
import { int } from "./primitives";

export const WARM_START_MODES = ["soci", "snapshot", "none"] as const;

export const warmStartFamilySchema = z
  .strictObject({
    mode: z.enum(WARM_START_MODES),
    /** `snapshot` mode: the EBS snapshot holding /var/lib/containerd with the vLLM image pulled. */
    snapshotId: z.string().regex(/^snap-[0-9a-f]{8,17}$/, { error: 'expected an EBS snapshot ID "snap-<hex>"' }).optional(),
    /** `snapshot` mode: EBS provisioned volume initialization rate, MiB/s (Karpenter allows 100-300). */
    volumeInitializationRateMiBps: int(100, 300).default(300),
    /** `snapshot` mode: the data volume's size, GiB (at least the snapshot's). */
    volumeSizeGiB: int(50, 2000).default(200),
  })
  .superRefine((f, ctx) => {
    if (f.mode === "snapshot" && !f.snapshotId)
      ctx.addIssue({ code: "custom", path: ["snapshotId"], message: 'is required with mode "snapshot": produce one (docs/runbooks.md "Roll the warm-start snapshot") or use mode "soci"' });
    if (f.mode !== "snapshot" && f.snapshotId)
      ctx.addIssue({ code: "custom", path: ["snapshotId"], message: `is only used with mode "snapshot" (mode is "${f.mode}"): remove it or set mode "snapshot"` });
  });

export const warmStartSchema = z
  .strictObject({
    families: z
      .record(
        z.string().refine((f) => isGpuFamily(f), {
          error: `expected a GPU instance family of infra/catalog/instances.ts (${INSTANCE_FAMILIES.filter(isGpuFamily).join(", ")})`,
        }),
        warmStartFamilySchema,
      )
      .default({}),
    /** The mode of GPU families `families` does not list. */
    defaultMode: z.enum(WARM_START_MODES).default("soci"),
    imageVolume: z
      .strictObject({
        /** gp3 throughput, MiB/s (125-1000). */
        throughputMiBps: int(125, 1000).default(1000),
        /** gp3 IOPS (3000-16000). */
        iops: int(3000, 16000).default(6000),
      })
      .prefault({}),
    compileCache: z
      .strictObject({
        enabled: z.boolean().default(true),
        produce: z.boolean().default(false),
      })
      .prefault({}),
  })
  .prefault({});

export type WarmStartConfig = z.output<typeof warmStartSchema>;
export type WarmStartFamilyConfig = z.output<typeof warmStartFamilySchema>;

/** The warm-start settings of an instance type's family (the default mode when unlisted). */
export function warmStartFor(
  cfg: { readonly families: Readonly<Record<string, Readonly<WarmStartFamilyConfig>>>; readonly defaultMode: (typeof WARM_START_MODES)[number] },
  instanceType: string,
): Readonly<WarmStartFamilyConfig> {
  const family = instanceType.split(".")[0]!;
  return cfg.families[family] ?? { mode: cfg.defaultMode, volumeInitializationRateMiBps: 300, volumeSizeGiB: 200 };
}

interface WarmStartCheckInput {
  readonly warmStart?: { readonly families?: Readonly<Record<string, { readonly mode?: string } | undefined>>; readonly defaultMode?: string };
  readonly karpenter?: { readonly gpuSpot?: { readonly enabled?: boolean; readonly instanceTypes?: readonly string[] }; readonly gpuOnDemand?: { readonly enabled?: boolean; readonly instanceTypes?: readonly string[] } };
}

/**
 * Cross-area rule: one EC2NodeClass ("gpu") serves both Karpenter GPU NodePools, so every GPU
 * family they launch must share one warm-start mode (and, for snapshots, one snapshot).
 */
export function warmStartProblems(c: WarmStartCheckInput, add: (path: (string | number)[], message: string) => void): void {
  const ws = c.warmStart;
  if (!ws?.defaultMode) return;
  const families = new Set<string>();
  for (const pool of [c.karpenter?.gpuSpot, c.karpenter?.gpuOnDemand])
    if (pool?.enabled !== false) for (const t of pool?.instanceTypes ?? []) families.add(t.split(".")[0]!);
  const modeOf = (f: string) => ws.families?.[f]?.mode ?? ws.defaultMode!;
  const byMode = new Map<string, string[]>();
  for (const f of families) byMode.set(modeOf(f), [...(byMode.get(modeOf(f)) ?? []), f]);
  if (byMode.size > 1) {
    const listed = [...byMode].map(([m, fs]) => `${fs.join(", ")}: ${m}`).join("; ");
    add(["warmStart", "families"], `the Karpenter GPU NodePools launch families with different warm-start modes (${listed}); one EC2NodeClass serves them all: give these families the same mode`);
  }
}

/** The one warm-start mode of the Karpenter GPU EC2NodeClass (warmStartProblems keeps it single). */
export function karpenterGpuWarmStart(
  cfg: Parameters<typeof warmStartFor>[0],
  gpuInstanceTypes: readonly string[],
): Readonly<WarmStartFamilyConfig> {
  return warmStartFor(cfg, gpuInstanceTypes[0] ?? "");
}
