/** Kubernetes recommended labels (app.kubernetes.io/*) for everything the platform renders. */
export const PART_OF = "llm-platform";

export function recommendedLabels(name: string, component: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": PART_OF,
    "app.kubernetes.io/managed-by": "pulumi",
    ...extra,
  };
}

/** The cost-allocation tags every taggable AWS resource carries (through the provider's defaultTags). */
export function costTags(t: { environment: string; project: string; costCenter: string; owner: string; extra?: Readonly<Record<string, string>> }): Record<string, string> {
  return { ...(t.extra ?? {}), environment: t.environment, project: t.project, "cost-center": t.costCenter, owner: t.owner };
}
