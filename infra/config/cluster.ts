/** Area `cluster`: the EKS control plane, its endpoint, logging and the system node group. */
import { z } from "zod";
import { instanceType } from "../catalog/instances";
import { KUBERNETES_VERSION } from "../catalog/versions";
import { cidr, int, logRetentionDays, roleArn, unknownInstanceMessage } from "./primitives";

export const EKS_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

export const systemNodesSchema = z
  .strictObject({
    instanceTypes: z.array(z.string()).min(1),
    /**
     * ON_DEMAND (default) or SPOT. SPOT is for dev only (cross-check): a reclaim can take every
     * system node at once, and Karpenter, CoreDNS and the operators run there
     * (docs/runbooks.md "Dev idle cost").
     */
    capacityType: z.enum(["ON_DEMAND", "SPOT"]).default("ON_DEMAND"),
    minSize: int(1, 100).default(2),
    desiredSize: int(1, 100).default(2),
    maxSize: int(1, 100).default(4),
    diskSizeGiB: int(20, 1000).default(50),
  })
  .superRefine((g, ctx) => {
    if (g.maxSize < g.minSize) ctx.addIssue({ code: "custom", path: ["maxSize"], message: `must be >= minSize (${g.minSize}), got ${g.maxSize}` });
    if (g.desiredSize < g.minSize || g.desiredSize > g.maxSize)
      ctx.addIssue({ code: "custom", path: ["desiredSize"], message: `must be between minSize (${g.minSize}) and maxSize (${g.maxSize}), got ${g.desiredSize}` });
    g.instanceTypes.forEach((name, i) => {
      const t = instanceType(name);
      if (!t) ctx.addIssue({ code: "custom", path: ["instanceTypes", i], message: unknownInstanceMessage(name) });
      else if (t.gpu) ctx.addIssue({ code: "custom", path: ["instanceTypes", i], message: `${name} is a GPU instance; the system group runs on CPU instances` });
    });
  });

export const clusterSchema = z
  .strictObject({
    /** EKS cluster name; defaults to `<tags.project>-<stack>`. */
    name: z
      .string()
      .regex(/^[a-zA-Z][a-zA-Z0-9-]{0,99}$/, { error: "expected letters, digits and hyphens, starting with a letter (max 100)" })
      .optional(),
    kubernetesVersion: z
      .string()
      .regex(/^1\.\d{2}$/, { error: 'expected a Kubernetes minor version such as "1.36"' })
      .default(KUBERNETES_VERSION.value),
    endpoint: z.strictObject({
      publicAccess: z.boolean(),
      privateAccess: z.literal(true, { error: "must be true: nodes and in-VPC tooling reach the API privately" }).default(true),
      publicAccessCidrs: z.array(cidr(0, 32)).default([]),
    }),
    /** EKS upgrade policy. EXTENDED support bills $0.60/h instead of $0.10/h. */
    supportType: z.enum(["STANDARD", "EXTENDED"]).default("STANDARD"),
    logging: z
      .strictObject({
        types: z.array(z.enum(EKS_LOG_TYPES)).default([...EKS_LOG_TYPES]),
        retentionDays: logRetentionDays.default(90),
      })
      .prefault({}),
    /** IAM roles that get cluster-admin through EKS access entries. */
    adminRoleArns: z.array(roleArn).default([]),
    /** Envelope encryption of Kubernetes Secrets with a KMS key the stack creates. */
    secretsEncryption: z.boolean().default(true),
    systemNodes: systemNodesSchema,
    /** The default gp3 StorageClass. `Retain` keeps EBS volumes when their PVC is deleted. */
    storageReclaimPolicy: z.enum(["Retain", "Delete"]).default("Retain"),
  })
  .superRefine((c, ctx) => {
    if (c.endpoint.publicAccess && c.endpoint.publicAccessCidrs.length === 0)
      ctx.addIssue({
        code: "custom",
        path: ["endpoint", "publicAccessCidrs"],
        message: "must list at least one CIDR when publicAccess is true (write 0.0.0.0/0 explicitly if you mean the whole internet)",
      });
    if (!c.endpoint.publicAccess && c.endpoint.publicAccessCidrs.length > 0)
      ctx.addIssue({ code: "custom", path: ["endpoint", "publicAccessCidrs"], message: "must be empty when publicAccess is false" });
  });
