/** Area `network`: the VPC, its AZs, NAT and flow logs. */
import { z } from "zod";
import { cidr, logRetentionDays } from "./primitives";

export const networkSchema = z.strictObject({
  vpcCidr: cidr(16, 20).default("10.0.0.0/16"),
  availabilityZones: z
    .array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, { error: 'expected an AZ name such as "us-east-1a"' }))
    .min(2, { error: "need at least 2 availability zones" })
    .max(3, { error: "at most 3 availability zones are supported" })
    .refine((azs) => new Set(azs).size === azs.length, { error: "availability zones must be distinct" }),
  /** `single`: one NAT gateway for the VPC (cheap, not zone-redundant). `perAz`: one per AZ. */
  natGateways: z.enum(["single", "perAz"]),
  flowLogs: z
    .strictObject({ enabled: z.boolean().default(true), retentionDays: logRetentionDays.default(30) })
    .prefault({}),
});
