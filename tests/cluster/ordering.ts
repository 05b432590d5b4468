/**
 * Cluster-model check 5: ordering. Pulumi creates resources in parallel unless one depends on
 * another, so the order a first `pulumi up` needs must be in the dependency graph:
 * - every custom resource reaches, through dependsOn (transitively, parents included), the
 *   release that installs its CRD;
 * - every namespaced object, and every release, reaches its Namespace when the program creates it;
 * - a workload that uses an AWS identity (EKS Pod Identity association, or an IRSA role named in
 *   a service-account annotation) reaches the role's policies, not only the role: a pod that
 *   starts before its policy exists gets AccessDenied, and a Job fails.
 */
import type { ClusterModel } from "./model";
import { transitiveWaits } from "./model";

/** Which chart installs each CRD group (each chart's crds/ or templates at the pinned version). */
export const CRD_SOURCES: Readonly<Record<string, { readonly chart: string; readonly source: string }>> = {
  "karpenter.sh": { chart: "karpenter-crd", source: "aws/karpenter-provider-aws charts/karpenter-crd 1.14.1" },
  "karpenter.k8s.aws": { chart: "karpenter-crd", source: "aws/karpenter-provider-aws charts/karpenter-crd 1.14.1" },
  "keda.sh": { chart: "keda", source: "kedacore/charts keda 2.20.2 (crds/ installed with the release)" },
  "monitoring.coreos.com": { chart: "prometheus-operator-crds", source: "prometheus-community/helm-charts prometheus-operator-crds 31.0.1" },
  "external-secrets.io": { chart: "external-secrets", source: "external-secrets 2.9.0 (installCRDs: true)" },
  "security.istio.io": { chart: "base", source: "istio/istio manifests/charts/base 1.30.3" },
  "networking.istio.io": { chart: "base", source: "istio/istio manifests/charts/base 1.30.3" },
};

const BUILT_IN = (group: string) => group === "" || !group.includes(".") || group.endsWith(".k8s.io");

export function crdProblems(m: ClusterModel): string[] {
  const out: string[] = [];
  for (const o of m.objects) {
    const group = o.obj.apiVersion.includes("/") ? o.obj.apiVersion.split("/")[0]! : "";
    if (BUILT_IN(group)) continue;
    const id = `${o.obj.kind} ${o.obj.metadata.namespace ?? "-"}/${o.obj.metadata.name}`;
    const src = CRD_SOURCES[group];
    if (!src) {
      out.push(`${id}: no known release installs the CRDs of ${group}`);
      continue;
    }
    const installers = m.releases.filter((r) => r.chart === src.chart);
    if (installers.length === 0) out.push(`${id}: the ${src.chart} release that installs ${group} is not in the stack`);
    else if (!installers.some((r) => transitiveWaits(m, o.urn).has(r.urn))) out.push(`${id}: can reach the API before its CRD (no dependency path to the ${src.chart} release)`);
  }
  return out;
}

export function namespaceProblems(m: ClusterModel): string[] {
  const namespaces = new Map(m.objects.filter((o) => o.obj.kind === "Namespace").map((o) => [o.obj.metadata.name, o.urn]));
  const out: string[] = [];
  for (const o of m.objects) {
    const ns = o.obj.metadata.namespace;
    const nsUrn = ns ? namespaces.get(ns) : undefined;
    if (nsUrn && !transitiveWaits(m, o.urn).has(nsUrn)) out.push(`${o.obj.kind} ${ns}/${o.obj.metadata.name}: does not wait for its Namespace`);
  }
  for (const r of m.releases) {
    const nsUrn = namespaces.get(r.namespace);
    if (nsUrn && !transitiveWaits(m, r.urn).has(nsUrn)) out.push(`release ${r.namespace}/${r.name}: does not wait for its Namespace`);
  }
  return out;
}

type Res = ClusterModel["run"]["resources"][number];

/** The policies attached to a role (inline or managed), found by their dependency on the role. */
function rolePolicies(m: ClusterModel, roleUrn: string): Res[] {
  return m.run.resources.filter((r) => (r.type === "aws:iam/rolePolicy:RolePolicy" || r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment") && r.options.dependsOn.includes(roleUrn));
}

/** The roles a (namespace, service account) assumes: Pod Identity associations, and IRSA annotations on a rendered or chart ServiceAccount. */
function rolesOf(m: ClusterModel, namespace: string, sa: string): Res[] {
  const roles = m.run.resources.filter((r) => r.type === "aws:iam/role:Role");
  const assoc = m.run.resources.filter((r) => r.type === "aws:eks/podIdentityAssociation:PodIdentityAssociation" && r.inputs.namespace === namespace && r.inputs.serviceAccount === sa);
  // The association names its role by ARN (the offline mocks give a role the ARN .../role/<resource name>).
  const fromAssoc = assoc.flatMap((a) => roles.filter((role) => String(a.inputs.roleArn).endsWith(`:role/${role.name}`)));
  // IRSA: charts that take the role ARN as a service-account annotation (milvus serviceAccount.annotations).
  const arns = m.releases
    .filter((r) => r.namespace === namespace && r.values.serviceAccount?.name === sa)
    .map((r) => r.values.serviceAccount?.annotations?.["eks.amazonaws.com/role-arn"] as string | undefined)
    .filter((x): x is string => !!x);
  const fromIrsa = roles.filter((role) => arns.some((arn) => arn.endsWith(`:role/${role.name}`)));
  return [...fromAssoc, ...fromIrsa];
}

export function identityProblems(m: ClusterModel): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const p of m.pods) {
    const sa = p.spec.serviceAccountName as string | undefined;
    if (!sa || !p.urn) continue;
    const key = `${p.urn} ${sa}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const waits = transitiveWaits(m, p.urn);
    for (const role of rolesOf(m, p.namespace, sa))
      for (const pol of rolePolicies(m, role.urn))
        if (!waits.has(pol.urn)) out.push(`${p.origin}: runs as ${p.namespace}/${sa} (role ${role.name}) but does not wait for the role's policy ${pol.name}`);
  }
  return out;
}

export function orderingProblems(m: ClusterModel): string[] {
  return [...crdProblems(m), ...namespaceProblems(m), ...identityProblems(m)];
}
