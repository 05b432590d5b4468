/** Area `edge`: the ALB, WAF and the LiteLLM gateway with its datastores. */
import { z } from "zod";
import { CACHE_NODE_TYPES, DB_INSTANCE_CLASSES } from "../catalog/instances";
import { int, replicas } from "./primitives";

export const edgeSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    loadBalancer: z
      .strictObject({
        scheme: z.enum(["internal", "internet-facing"]).default("internal"),
        certificateArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/, { error: "expected an ACM certificate ARN" })
          .optional(),
        waf: z.strictObject({ enabled: z.boolean().default(false), rateLimitPer5Min: int(100, 2_000_000_000).default(2000) }).prefault({}),
        accessLogRetentionDays: int(1, 3650).default(90),
      })
      .prefault({}),
    /** AWS Load Balancer Controller replicas (the chart's replicaCount; leader election keeps one active). */
    loadBalancerController: z.strictObject({ replicas: int(1, 5).default(1) }).prefault({}),
    gateway: z.strictObject({ replicas: replicas(1).prefault({ min: 2, max: 4 }) }).prefault({}),
    database: z
      .strictObject({
        instanceClass: z.string().regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/).default("db.t4g.medium"),
        allocatedStorageGiB: int(20, 65536).default(50),
        multiAz: z.boolean().default(false),
        backupRetentionDays: int(1, 35).default(7),
        deletionProtection: z.boolean().default(false),
        /** Take a final snapshot (`<identifier>-final`) when the instance is deleted; false skips it. */
        finalSnapshot: z.boolean().default(true),
      })
      .prefault({}),
    cache: z
      .strictObject({
        nodeType: z.string().regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/).default("cache.t4g.medium"),
        replicasPerShard: int(0, 5).default(0),
        automaticFailover: z.boolean().default(false),
        /** Days ElastiCache keeps automatic snapshots; 0 turns them off, 35 is the most AWS allows (SnapshotRetentionLimit). */
        snapshotRetentionDays: int(0, 35).default(7),
      })
      .prefault({}),
  })
  .prefault({})
  .superRefine((e, ctx) => {
    if (e.enabled && !e.loadBalancer.certificateArn)
      ctx.addIssue({ code: "custom", path: ["loadBalancer", "certificateArn"], message: "required when edge.enabled is true (TLS terminates at the ALB)" });
    if (!DB_INSTANCE_CLASSES.has(e.database.instanceClass))
      ctx.addIssue({ code: "custom", path: ["database", "instanceClass"], message: `${e.database.instanceClass} is not in infra/catalog/instances.ts (DB_INSTANCE_CLASSES), so it cannot be priced; known: ${[...DB_INSTANCE_CLASSES.keys()].join(", ")}` });
    if (!CACHE_NODE_TYPES.has(e.cache.nodeType))
      ctx.addIssue({ code: "custom", path: ["cache", "nodeType"], message: `${e.cache.nodeType} is not in infra/catalog/instances.ts (CACHE_NODE_TYPES), so it cannot be priced; known: ${[...CACHE_NODE_TYPES.keys()].join(", ")}` });
    if (e.cache.automaticFailover && e.cache.replicasPerShard < 1)
      ctx.addIssue({ code: "custom", path: ["cache", "replicasPerShard"], message: "must be >= 1 when automaticFailover is true" });
  });
