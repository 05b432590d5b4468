/**
 * The guardrails, as a list: policies/index.ts serves them as a CrossGuard pack under the Pulumi
 * CLI, and the offline plan (stacks/plan/policies.ts) and the tests run the same objects
 * in-process. Nothing here starts the policy server.
 */
import type { EnforcementLevel, Policies } from "@pulumi/policy";
import { capacitySloPolicies } from "./capacity-slo";
import { costPolicies } from "./cost";
import { elasticityPolicies } from "./elasticity";
import { reliabilityPolicies } from "./reliability";
import { scalingPolicies } from "./scaling";
import { securityPolicies } from "./security";

export const PACK_NAME = "llm-platform-guardrails";

/** The pack's default enforcement level; every policy sets its own. */
export const PACK_ENFORCEMENT_LEVEL: EnforcementLevel = "advisory";

export const policies: Policies = [...costPolicies, ...securityPolicies, ...reliabilityPolicies, ...scalingPolicies, ...capacitySloPolicies, ...elasticityPolicies];
