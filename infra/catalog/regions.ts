/**
 * Region catalog: the AWS regions the platform can be priced and placed in, and which catalog
 * instance types each offers. The config cross-check (infra/config/cross-checks.ts) refuses a
 * region not listed here, or an instance type the region does not offer.
 *
 * Every price in infra/catalog/instances.ts is a us-east-1 price (karpenter-provider-aws
 * `pkg/providers/pricing/zz_generated.pricing_aws.go`, generated for us-east-1), so us-east-1 is
 * the only region with prices. Its offerings are the types that file prices for us-east-1: a type
 * has an on-demand price in a region only where EC2 offers it there. Add a region only with
 * prices for it (the cost model and the budget policy read them) and its offerings, each with a
 * source.
 */
import { INSTANCE_TYPES } from "./instances";

export interface RegionEntry {
  readonly name: string;
  /** Whether infra/catalog/instances.ts prices this region (the cost model and the budget policy need it). */
  readonly prices: boolean;
  /** Catalog instance types EC2 offers in the region. */
  readonly instanceTypes: ReadonlySet<string>;
  readonly source: string;
}

export const REGIONS: ReadonlyMap<string, RegionEntry> = new Map(
  [
    {
      name: "us-east-1",
      prices: true,
      instanceTypes: new Set(INSTANCE_TYPES.keys()),
      source:
        "aws/karpenter-provider-aws pkg/providers/pricing/zz_generated.pricing_aws.go (us-east-1, the source of every price in instances.ts): each catalog type has a us-east-1 on-demand price, so it is offered there",
    },
  ].map((r) => [r.name, r]),
);

export function regionEntry(name: string): RegionEntry | undefined {
  return REGIONS.get(name);
}
