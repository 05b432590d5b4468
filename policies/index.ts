/**
 * The CrossGuard policy pack. Run it with the Pulumi CLI:
 *
 *   pulumi preview --policy-pack policies --policy-pack-config policies/config/<stack>.json
 *
 * This file only constructs the pack (which starts the policy server); the policies live in
 * policies.ts so that tests and the offline plan can run them without it.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_ENFORCEMENT_LEVEL, PACK_NAME, policies } from "./policies";

new PolicyPack(PACK_NAME, {
  policies,
  enforcementLevel: PACK_ENFORCEMENT_LEVEL,
  description: "LLM platform guardrails: cost, security and reliability (docs/policies.md).",
  tags: ["cost", "security", "reliability", "aws", "kubernetes"],
});
