/** Area `autoscaling`: KEDA. */
import { z } from "zod";
import { int } from "./primitives";

export const autoscalingSchema = z
  .strictObject({
    kedaOperatorReplicas: int(1, 3).default(1),
  })
  .prefault({});
