/** Area `networkSecurity`: Istio (NetworkPolicies are always on). */
import { z } from "zod";
import { int } from "./primitives";

export const networkSecuritySchema = z
  .strictObject({
    istio: z
      .strictObject({
        enabled: z.boolean().default(false),
        /** istiod replicas (the istiod chart's pilot.replicaCount and autoscaleMin); 2 keeps sidecar injection and xDS up through a node drain. */
        istiodReplicas: int(1, 10).default(1),
      })
      .prefault({}),
  })
  .prefault({});
