/** Areas `gpuPools` and `karpenter`: managed GPU node groups and Karpenter NodePools. */
import { z } from "zod";
import { instanceType, type InstanceType } from "../catalog/instances";
import { int, karpenterDuration, unknownInstanceMessage } from "./primitives";

export const gpuPoolSchema = z
  .strictObject({
    instanceTypes: z.array(z.string()).min(1),
    capacityType: z.enum(["ON_DEMAND", "SPOT"]),
    minNodes: int(0, 100).default(0),
    /** EKS requires a managed node group's max size to be at least 1. */
    maxNodes: int(1, 100),
    /** Root volume: the serving images (vLLM is 12-28 GB) plus a model cache. */
    diskSizeGiB: int(100, 4000).default(300),
    /** Attach EFA interfaces (p4d/p5 only; for multi-node NCCL traffic). */
    efa: z.boolean().default(false),
  })
  .superRefine((p, ctx) => {
    if (p.maxNodes < p.minNodes)
      ctx.addIssue({ code: "custom", path: ["maxNodes"], message: `must be >= minNodes (${p.minNodes}), got ${p.maxNodes}` });
    const types: InstanceType[] = [];
    p.instanceTypes.forEach((name, i) => {
      const t = instanceType(name);
      if (!t) ctx.addIssue({ code: "custom", path: ["instanceTypes", i], message: unknownInstanceMessage(name) });
      else if (!t.gpu) ctx.addIssue({ code: "custom", path: ["instanceTypes", i], message: `${name} has no GPU; GPU pools take GPU instance types` });
      else {
        types.push(t);
        if (p.efa && t.efaInterfaces === 0)
          ctx.addIssue({ code: "custom", path: ["efa"], message: `${name} does not support EFA; set efa: false or use p4d.24xlarge, p4de.24xlarge or p5.48xlarge` });
      }
    });
    if (p.efa && new Set(types.map((t) => t.efaInterfaces)).size > 1)
      ctx.addIssue({ code: "custom", path: ["instanceTypes"], message: "an EFA pool needs types with the same number of EFA interfaces (one launch template serves them all)" });
    const models = [...new Set(types.map((t) => t.gpu?.model))];
    if (models.length > 1)
      ctx.addIssue({
        code: "custom",
        path: ["instanceTypes"],
        message: `mixes GPU models (${models.join(", ")}); a pool has one GPU model so that models placed on it fit every node`,
      });
  });

export const consolidationPolicy = z.enum(["WhenEmpty", "WhenEmptyOrUnderutilized"], {
  error: 'expected "WhenEmpty" or "WhenEmptyOrUnderutilized" (Karpenter v1; "WhenUnderutilized" was removed with v1beta1)',
});

export const nodePoolSchema = (kind: "gpu" | "cpu") =>
  z
    .strictObject({
      enabled: z.boolean().default(true),
      /**
       * The instance types the NodePool may launch (requirement node.kubernetes.io/instance-type
       * In ...), each from the priced catalog. GPU pools list every GPU type a model or GPU
       * encoder may burst onto; the capacity cross-check (infra/capacity.ts) requires it.
       */
      instanceTypes: z.array(z.string()).min(1),
      limits: z.strictObject({ cpu: int(1), memoryGiB: int(1), gpus: int(0) }),
      weight: int(1, 100),
      consolidationPolicy,
      consolidateAfter: karpenterDuration,
      expireAfter: karpenterDuration.default("720h"),
      /** Share of this pool's nodes that may be disrupted at once, e.g. "10%" or "1". */
      disruptionBudgetNodes: z.string().regex(/^(\d+|\d+%)$/, { error: 'expected a node count or a percentage such as "10%"' }).default("10%"),
    })
    .superRefine((p, ctx) => {
      p.instanceTypes.forEach((name, i) => {
        const t = instanceType(name);
        if (!t) ctx.addIssue({ code: "custom", path: ["instanceTypes", i], message: `${name} is not in infra/catalog/instances.ts, so it cannot be priced; add it there (with its price and source) or pick a listed type` });
        else if (kind === "gpu" && !t.gpu) ctx.addIssue({ code: "custom", path: ["instanceTypes", i], message: `${name} has no GPU; GPU NodePools take GPU types` });
        else if (kind === "cpu" && t.gpu) ctx.addIssue({ code: "custom", path: ["instanceTypes", i], message: `${name} is a GPU type; the CPU NodePool takes CPU types` });
        // Karpenter only launches types that keep the pool within spec.limits (upstream-facts section 12).
        else if (p.enabled && (t.vcpu > p.limits.cpu || t.memoryGiB > p.limits.memoryGiB || (t.gpu?.count ?? 0) > p.limits.gpus))
          ctx.addIssue({
            code: "custom",
            path: ["limits"],
            message:
              `${name} (${t.vcpu} vCPU, ${t.memoryGiB} GiB, ${t.gpu?.count ?? 0} GPUs) does not fit the limits (cpu ${p.limits.cpu}, memoryGiB ${p.limits.memoryGiB}, gpus ${p.limits.gpus}), ` +
              `so Karpenter can never launch it; raise the limits or drop the type`,
          });
      });
      if (kind === "gpu" && p.enabled && p.limits.gpus < 1)
        ctx.addIssue({ code: "custom", path: ["limits", "gpus"], message: "must be >= 1 for an enabled GPU NodePool (it is the hard cap on GPUs)" });
      if (kind === "cpu" && p.limits.gpus !== 0)
        ctx.addIssue({ code: "custom", path: ["limits", "gpus"], message: `must be 0 for the CPU NodePool, got ${p.limits.gpus}` });
    });

export const karpenterSchema = z
  .strictObject({
    /** EC2NodeClass AMI alias: `al2023@v<YYYYMMDD>` pinned; `al2023@latest` only outside prod. */
    amiAlias: z.string().regex(/^al2023@(latest|v\d{8})$/, { error: 'expected "al2023@v<YYYYMMDD>" (or "al2023@latest" outside prod)' }),
    gpuSpot: nodePoolSchema("gpu"),
    gpuOnDemand: nodePoolSchema("gpu"),
    cpu: nodePoolSchema("cpu"),
  })
  .superRefine((k, ctx) => {
    if (k.gpuOnDemand.enabled && k.gpuSpot.enabled && k.gpuOnDemand.weight >= k.gpuSpot.weight)
      ctx.addIssue({
        code: "custom",
        path: ["gpuOnDemand", "weight"],
        message: `must be lower than gpuSpot.weight (${k.gpuSpot.weight}) so that spot is tried first, got ${k.gpuOnDemand.weight}`,
      });
  });
