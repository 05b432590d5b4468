/** Area `protection`: what survives a destroy or a refactor. */
import { z } from "zod";

export const protectionSchema = z.strictObject({
  /** Keep stateful resources (buckets, volumes, databases) in AWS when they leave the stack. */
  retainOnDelete: z.boolean(),
  /** Pulumi `protect`: refuse to delete stateful resources at all. */
  protect: z.boolean(),
  /** S3 versioning on the buckets that hold data (model weights, Milvus): an overwrite or delete keeps the old object. */
  bucketVersioning: z.boolean().default(true),
});
