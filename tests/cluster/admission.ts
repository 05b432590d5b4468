/**
 * Cluster-model check 4: admission. Every pod the program renders, and every chart pod whose
 * security context comes from the release values, passes the Pod Security level its namespace
 * enforces (label pod-security.kubernetes.io/enforce), with the containers Istio's injector adds
 * where the namespace is meshed.
 *
 * The rules are the Pod Security Standards (kubernetes.io/docs/concepts/security/pod-security-standards,
 * v1.36), as the PodSecurity admission plugin checks them:
 * - baseline: no host namespaces, no privileged containers, capabilities added only from the
 *   default set, no hostPath volumes, no host ports, no Unconfined seccomp;
 * - restricted, in addition: volume types limited, allowPrivilegeEscalation false, runAsNonRoot
 *   true (pod or every container) and no runAsUser 0, seccomp RuntimeDefault or Localhost (pod or
 *   every container), capabilities drop ALL and add at most NET_BIND_SERVICE.
 *
 * Istio's injector (istio/istio tools/istio-iptables, pkg/kube/inject templates, 1.30): without
 * Istio CNI it adds the istio-init init container with NET_ADMIN and NET_RAW running as root;
 * with CNI (istiod values pilot.cni.enabled) it adds istio-validation instead, non-root with
 * every capability dropped. The istio-proxy sidecar runs as 1337, non-root, capabilities dropped.
 */
import type { ClusterModel, PodTemplate } from "./model";
import { allContainers } from "./model";

export type Level = "privileged" | "baseline" | "restricted";

const BASELINE_CAPS = new Set(["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]);
const RESTRICTED_VOLUMES = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);

/** The sidecar's listening ports (istio.io, "Ports used by Istio"): agent status and merged metrics 15020, health 15021, Envoy stats 15090. */
const SIDECAR = {
  name: "istio-proxy",
  ports: [
    { name: "http-merged", containerPort: 15020, protocol: "TCP" },
    { name: "http-health", containerPort: 15021, protocol: "TCP" },
    { name: "http-envoy-prom", containerPort: 15090, protocol: "TCP" },
  ],
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, privileged: false, readOnlyRootFilesystem: true, runAsGroup: 1337, runAsNonRoot: true, runAsUser: 1337 },
};
const ISTIO_INIT = {
  name: "istio-init",
  securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ["NET_ADMIN", "NET_RAW"], drop: ["ALL"] }, privileged: false, readOnlyRootFilesystem: false, runAsGroup: 0, runAsNonRoot: false, runAsUser: 0 },
};
const ISTIO_VALIDATION = { name: "istio-validation", securityContext: SIDECAR.securityContext };

/** The namespace's enforced level, from the rendered Namespace objects (privileged when unset). */
export function enforcedLevel(m: ClusterModel, namespace: string): Level {
  const ns = m.objects.find((o) => o.obj.kind === "Namespace" && o.obj.metadata.name === namespace);
  return (ns?.obj.metadata.labels?.["pod-security.kubernetes.io/enforce"] as Level | undefined) ?? "privileged";
}

/** Does Istio inject into this namespace, and is Istio CNI installed (so no istio-init)? */
export function injection(m: ClusterModel, namespace: string): { injected: boolean; cni: boolean } {
  const ns = m.objects.find((o) => o.obj.kind === "Namespace" && o.obj.metadata.name === namespace);
  const istiod = m.releases.find((r) => r.chart === "istiod");
  const injected = !!istiod && ns?.obj.metadata.labels?.["istio-injection"] === "enabled";
  const cni = !!istiod && m.releases.some((r) => r.chart === "cni") && istiod.values.pilot?.cni?.enabled === true;
  return { injected, cni };
}

/** The pod spec as admission sees it: with Istio's containers where it injects. */
export function admittedSpec(m: ClusterModel, p: PodTemplate): Record<string, any> {
  const { injected, cni } = injection(m, p.namespace);
  if (!injected || p.annotations["sidecar.istio.io/inject"] === "false" || p.labels["sidecar.istio.io/inject"] === "false") return p.spec;
  return { ...p.spec, initContainers: [...(p.spec.initContainers ?? []), cni ? ISTIO_VALIDATION : ISTIO_INIT], containers: [...(p.spec.containers ?? []), SIDECAR] };
}

/** The Pod Security violations of one pod spec at a level; empty when admitted. */
export function podSecurityViolations(spec: Record<string, any>, level: Level): string[] {
  if (level === "privileged") return [];
  const out: string[] = [];
  const containers = allContainers(spec);
  const psc = spec.securityContext ?? {};
  // baseline
  for (const k of ["hostNetwork", "hostPID", "hostIPC"]) if (spec[k]) out.push(`${k} is true`);
  for (const v of spec.volumes ?? []) if (v.hostPath) out.push(`volume ${v.name} is a hostPath`);
  if (psc.seccompProfile?.type === "Unconfined") out.push("pod seccomp is Unconfined");
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    if (sc.privileged) out.push(`container ${c.name} is privileged`);
    for (const cap of sc.capabilities?.add ?? []) if (!BASELINE_CAPS.has(cap)) out.push(`container ${c.name} adds capability ${cap}`);
    for (const port of c.ports ?? []) if (port.hostPort) out.push(`container ${c.name} uses hostPort ${port.hostPort}`);
    if (sc.seccompProfile?.type === "Unconfined") out.push(`container ${c.name} seccomp is Unconfined`);
  }
  if (level === "baseline") return out;
  // restricted
  for (const v of spec.volumes ?? []) {
    const type = Object.keys(v).find((k) => k !== "name");
    if (type && !RESTRICTED_VOLUMES.has(type)) out.push(`volume ${v.name} has type ${type}`);
  }
  const podSeccomp = ["RuntimeDefault", "Localhost"].includes(psc.seccompProfile?.type);
  if (psc.runAsUser === 0) out.push("pod runAsUser is 0");
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) out.push(`container ${c.name} must set allowPrivilegeEscalation=false`);
    const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
    if (nonRoot !== true) out.push(`container ${c.name} must set runAsNonRoot=true (pod or container)`);
    if (sc.runAsUser === 0) out.push(`container ${c.name} runAsUser is 0`);
    const seccomp = sc.seccompProfile ? ["RuntimeDefault", "Localhost"].includes(sc.seccompProfile.type) : podSeccomp;
    if (!seccomp) out.push(`container ${c.name} must set seccompProfile RuntimeDefault or Localhost (pod or container)`);
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) out.push(`container ${c.name} must drop ALL capabilities`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== "NET_BIND_SERVICE") out.push(`container ${c.name} may add only NET_BIND_SERVICE, adds ${cap}`);
  }
  return out;
}

/** Every pod of the model against its namespace's enforced level. */
export function admissionProblems(m: ClusterModel): string[] {
  const out: string[] = [];
  for (const p of m.pods) {
    const level = enforcedLevel(m, p.namespace);
    for (const v of podSecurityViolations(admittedSpec(m, p), level)) out.push(`${p.origin} (namespace ${p.namespace}, ${level}): ${v}`);
  }
  return out;
}
