/**
 * The pod hardening every workload starts from, so that admission is right by construction.
 *
 * By default a pod meets Pod Security "restricted" (kubernetes.io, "Pod Security Standards"):
 * non-root, RuntimeDefault seccomp, no privilege escalation, every capability dropped, and a
 * read-only root filesystem besides. A workload that cannot meet part of it opts out
 * explicitly, with the reason in the code, and then needs a namespace whose level admits it
 * (baseline admits root and a writable root filesystem; the cluster model checks that).
 */

export interface Hardening {
  /** The user and group the image runs as (a numeric id, so kubelet can check runAsNonRoot). */
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly fsGroup?: number;
  /** Opt-out: the image runs as root. Say why; the namespace must be baseline or privileged. */
  readonly root?: { readonly why: string };
  /** Opt-out: the process writes outside its mounted volumes. Say why. */
  readonly writableRootFilesystem?: { readonly why: string };
}

export interface PodSecurityContext {
  readonly runAsNonRoot?: boolean;
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly fsGroup?: number;
  readonly seccompProfile: { readonly type: "RuntimeDefault" };
}

export interface ContainerSecurityContext {
  readonly allowPrivilegeEscalation: false;
  readonly capabilities: { drop: string[] };
  readonly readOnlyRootFilesystem: boolean;
  readonly runAsNonRoot?: boolean;
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly seccompProfile: { readonly type: "RuntimeDefault" };
}

/** The pod-level security context. */
export function podSecurityContext(h: Hardening = {}): PodSecurityContext {
  return {
    ...(h.root ? {} : { runAsNonRoot: true }),
    ...(h.runAsUser !== undefined ? { runAsUser: h.runAsUser } : {}),
    ...(h.runAsGroup !== undefined ? { runAsGroup: h.runAsGroup } : {}),
    ...(h.fsGroup !== undefined ? { fsGroup: h.fsGroup } : {}),
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/**
 * The container-level security context. It repeats runAsNonRoot, the user and seccomp so that a
 * chart that reads only a container context (LiteLLM's migration Job has no pod context) is
 * still restricted, and so that kubelet can verify runAsNonRoot for an image whose USER is a name.
 */
export function containerSecurityContext(h: Hardening = {}): ContainerSecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    readOnlyRootFilesystem: !h.writableRootFilesystem,
    ...(h.root ? {} : { runAsNonRoot: true }),
    ...(h.runAsUser !== undefined ? { runAsUser: h.runAsUser } : {}),
    ...(h.runAsGroup !== undefined ? { runAsGroup: h.runAsGroup } : {}),
    seccompProfile: { type: "RuntimeDefault" },
  };
}
