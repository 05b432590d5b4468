/** Area `networkSecurity`: Istio (NetworkPolicies are always on). */
import { z } from "zod";

export const networkSecuritySchema = z
  .strictObject({
    istio: z.strictObject({ enabled: z.boolean().default(false) }).prefault({}),
  })
  .prefault({});
