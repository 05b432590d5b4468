/** Building blocks every area schema uses, and the project's identity. */
import { z } from "zod";

export const PROJECT = "llm-platform";
export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);

export const cidr = (minPrefix: number, maxPrefix: number) =>
  z.cidrv4({ error: "expected an IPv4 CIDR such as 10.0.0.0/16" }).refine(
    (v) => {
      const prefix = Number(v.split("/")[1]);
      return prefix >= minPrefix && prefix <= maxPrefix;
    },
    { error: `prefix length must be between /${minPrefix} and /${maxPrefix}` },
  );

/** Durations as Karpenter v1 accepts them (`^(([0-9]+(s|m|h))+|Never)$`). */
export const karpenterDuration = z
  .string()
  .regex(/^(([0-9]+(s|m|h))+|Never)$/, { error: 'expected a duration such as "30s", "5m", "720h" or "Never"' });

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
export const logRetentionDays = z
  .number()
  .refine((v) => (LOG_RETENTION_DAYS as readonly number[]).includes(v), {
    error: `expected one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(", ")} (days)`,
  });

/** `path#key` in the Vault KV v2 mount, e.g. `llm-platform/prod/huggingface#token`. */
export const vaultRef = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*#[A-Za-z0-9_.-]+$/, {
    error: 'expected a Vault KV v2 reference "path/to/secret#key", e.g. "llm-platform/prod/huggingface#token"',
  });

export const roleArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, { error: "expected an IAM role ARN arn:aws:iam::<account>:role/<name>" });

export const replicas = (minFloor = 0) =>
  z
    .strictObject({ min: int(minFloor, 1000), max: int(1, 1000) })
    .superRefine((r, ctx) => {
      if (r.max < r.min) ctx.addIssue({ code: "custom", path: ["max"], message: `must be >= min (${r.min}), got ${r.max}` });
    });

/**
 * The image of a service we ship: `build` builds services/<name> and pushes it to an ECR
 * repository the stack owns (components/service-image.ts); `registry` is a published image,
 * pinned by tag or digest (never :latest).
 */
export const serviceImageSchema = z.discriminatedUnion("source", [
  z.strictObject({ source: z.literal("build") }),
  z.strictObject({
    source: z.literal("registry"),
    ref: z
      .string()
      .regex(/^[\w.-]+(:\d+)?(\/[\w.-]+)+(:[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64})$/, { error: "expected repository:tag or repository@sha256:<digest>" })
      // eslint-disable-next-line no-restricted-syntax -- this is the check that rejects :latest
      .refine((r) => !r.endsWith(":latest"), { error: "must be pinned; :latest is not allowed" }),
  }),
]);

export function unknownInstanceMessage(name: string): string {
  return `${name} is not in infra/catalog/instances.ts; add it there (with its price and source) or pick a listed type`;
}
