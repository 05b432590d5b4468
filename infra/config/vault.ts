/** Area `vault`: where secrets come from. */
import { z } from "zod";
import { cidr, int, vaultRef } from "./primitives";

export const vaultSchema = z.strictObject({
  address: z.url({ protocol: /^https$/, error: "expected the Vault address as an https:// URL" }),
  /** Where Vault lives, for the egress NetworkPolicy of External Secrets (CIDRs). */
  cidrs: z.array(cidr(8, 32)).min(1),
  /** Vault Enterprise / HCP namespace; omit for OSS Vault. */
  namespace: z.string().regex(/^[\w-]+(\/[\w-]+)*$/).optional(),
  /** KV v2 mount that holds the platform's secrets. */
  kvMount: z.string().regex(/^[\w-]+$/).default("secret"),
  /** Prefix of every secret path the platform owns in that mount. */
  pathPrefix: z.string().regex(/^[\w-]+(\/[\w-]+)*$/),
  /**
   * Mount path for this cluster's JWT auth method (service-account tokens verified against the
   * cluster's OIDC issuer); defaults to `jwt-<cluster name>`.
   */
  jwtAuthPath: z.string().regex(/^[\w-]+(\/[\w-]+)*$/).optional(),
  /** External Secrets Operator replicas (controller and webhook; more than 1 turns on leader election). */
  externalSecretsReplicas: int(1, 5).default(1),
  /** Secrets the operators put in Vault by hand. */
  operatorSecrets: z.strictObject({ huggingfaceToken: vaultRef, azureContentSafetyKey: vaultRef }),
});
