/**
 * PlatformNamespaces: every namespace the platform owns, created once, right after the cluster,
 * so that any layer can deploy into them. Each carries the recommended labels, a Pod Security
 * Admission level, and (when Istio is on) the sidecar-injection label for mesh namespaces.
 * The NetworkSecurity layer later puts a default-deny policy and explicit allows in each.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { namespaceArgs, type PodSecurityLevel } from "./helm";

export interface NamespaceSpec {
  readonly name: string;
  readonly component: string;
  readonly podSecurity: PodSecurityLevel;
  /** Serving namespaces join the Istio mesh when networkSecurity.istio.enabled. */
  readonly mesh: boolean;
  /** Pods in the namespace talk to each other (multi-component systems). */
  readonly intraNamespace: boolean;
}

/** The platform's namespaces. Keys are how the code refers to them. */
export const NAMESPACES = {
  secrets: { name: "external-secrets", component: "secrets", podSecurity: "restricted", mesh: false, intraNamespace: true },
  autoscaling: { name: "keda", component: "autoscaling", podSecurity: "restricted", mesh: false, intraNamespace: true },
  monitoring: { name: "monitoring", component: "observability", podSecurity: "privileged", mesh: false, intraNamespace: true },
  tracing: { name: "tracing", component: "observability", podSecurity: "baseline", mesh: false, intraNamespace: true },
  nvidia: { name: "nvidia", component: "gpu-runtime", podSecurity: "privileged", mesh: false, intraNamespace: false },
  inference: { name: "inference", component: "serving", podSecurity: "baseline", mesh: true, intraNamespace: false },
  embeddings: { name: "embeddings", component: "serving", podSecurity: "baseline", mesh: true, intraNamespace: false },
  vectordb: { name: "vectordb", component: "serving", podSecurity: "baseline", mesh: true, intraNamespace: true },
  safety: { name: "safety", component: "serving", podSecurity: "restricted", mesh: true, intraNamespace: false },
  rag: { name: "rag", component: "serving", podSecurity: "restricted", mesh: true, intraNamespace: false },
  gateway: { name: "gateway", component: "edge", podSecurity: "restricted", mesh: true, intraNamespace: false },
} as const satisfies Record<string, NamespaceSpec>;

export type NamespaceKey = keyof typeof NAMESPACES;

export function namespaceManifest(spec: NamespaceSpec, istio: boolean): k8s.core.v1.NamespaceArgs {
  return namespaceArgs(spec.name, spec.component, spec.podSecurity, istio && spec.mesh ? { "istio-injection": "enabled" } : {});
}

export class PlatformNamespaces extends pulumi.ComponentResource {
  public readonly namespaces: Readonly<Record<NamespaceKey, k8s.core.v1.Namespace>>;

  constructor(name: string, args: { readonly k8sProvider: k8s.Provider; readonly istio: boolean }, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:platform:Namespaces", name, {}, opts);
    const out: Partial<Record<NamespaceKey, k8s.core.v1.Namespace>> = {};
    for (const [key, spec] of Object.entries(NAMESPACES) as [NamespaceKey, NamespaceSpec][]) {
      out[key] = new k8s.core.v1.Namespace(`${name}-${spec.name}`, namespaceManifest(spec, args.istio), { parent: this, provider: args.k8sProvider });
    }
    this.namespaces = out as Record<NamespaceKey, k8s.core.v1.Namespace>;
    this.registerOutputs({ namespaces: Object.values(NAMESPACES).map((n) => n.name) });
  }
}
