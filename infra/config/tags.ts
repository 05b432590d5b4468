/** Area `tags`: the cost-allocation tags on every AWS resource. */
import { z } from "zod";
import { PROJECT } from "./primitives";

export const tagsSchema = z.strictObject({
  /** `project` cost-allocation tag. */
  project: z.string().min(1).max(256).default(PROJECT),
  /** `cost-center` cost-allocation tag. */
  costCenter: z.string().min(1).max(256),
  /** `owner` cost-allocation tag: a team or an address that answers for the stack. */
  owner: z.string().min(1).max(256),
  /** More tags for every AWS resource. */
  extra: z.record(z.string().regex(/^[\w .:/=+@-]{1,128}$/), z.string().max(256)).default({}),
});
