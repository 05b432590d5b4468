/** Area `safety`: the content-safety service (services/safety). */
import { z } from "zod";
import { int, replicas, serviceImageSchema } from "./primitives";

export const safetySchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    image: serviceImageSchema,
    replicas: replicas(1),
    targetCpuUtilization: int(20, 95).default(70),
    /** What the service answers when Azure AI Content Safety is unreachable. */
    failureMode: z.enum(["closed", "open-with-warning"]).default("closed"),
    azure: z.strictObject({
      enabled: z.boolean(),
      endpoint: z.url({ protocol: /^https$/, error: "expected an https:// URL" }).optional(),
      timeoutMs: int(100, 10000).default(1500),
    }),
    /** Severity (0-7) at or above which a category blocks. */
    thresholds: z
      .strictObject({
        hate: int(0, 7).default(4),
        sexual: int(0, 7).default(4),
        violence: int(0, 7).default(4),
        selfHarm: int(0, 7).default(2),
      })
      .prefault({}),
    /** Characters per token assumed when the service's text and body limits are derived from the largest maxModelLen. */
    charsPerToken: int(2, 32).default(8),
    /** The service's shipped, versioned default lists (weapons, self-harm, secrets, PII, prompt injection). */
    defaultLists: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Ids of default lists to leave out, e.g. ["pii_us_ssn"]. */
        disable: z.array(z.string().regex(/^[a-z0-9_]{1,64}$/)).default([]),
      })
      .prefault({}),
  })
  .superRefine((s, ctx) => {
    if (s.azure.enabled && !s.azure.endpoint)
      ctx.addIssue({ code: "custom", path: ["azure", "endpoint"], message: "required when azure.enabled is true (https://<resource>.cognitiveservices.azure.com)" });
  });
