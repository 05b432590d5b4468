/**
 * Secrets: Vault is the source of truth; External Secrets Operator delivers to pods.
 *
 * Vault side (@pulumi/vault; address and namespace from config, token from VAULT_TOKEN):
 * - a Kubernetes auth mount for this cluster (endpoint and CA from the EKS outputs). Vault
 *   reviews each client's own service-account token, so the ESO service account gets
 *   system:auth-delegator (chart value systemAuthDelegator);
 * - a read-only policy over exactly the platform's KV v2 paths;
 * - a role bound to the ESO service account, with that policy.
 * Generated credentials (Milvus root, Grafana admin, the vLLM API key) come from
 * @pulumi/random and are written to KV v2; Pulumi state holds them encrypted, and nothing else
 * does. Operator-provided secrets (Hugging Face token, Azure key) are read from the Vault paths
 * the config names.
 *
 * Cluster side: ESO from its pinned chart, and one ClusterSecretStore (external-secrets.io/v1)
 * using Vault Kubernetes auth. Consumers create their ExternalSecrets with `externalSecret()`.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as vault from "@pulumi/vault";
import { CHARTS } from "../infra/catalog/versions";
import type { PlatformConfig } from "../infra/config";
import { release } from "./helm";
import { recommendedLabels } from "./labels";
import { NAMESPACES } from "./namespaces";

export const SECRET_STORE = "vault";
export const ESO_SERVICE_ACCOUNT = "external-secrets";
export const ESO_VAULT_ROLE = "external-secrets";
export const VAULT_AUDIENCE = "vault";

/** A key in Vault KV v2: the path under the mount, and the property. */
export interface VaultRef {
  readonly path: string;
  readonly property: string;
}

/** Parses a config reference "path/to/secret#key". */
export function parseVaultRef(ref: string): VaultRef {
  const i = ref.lastIndexOf("#");
  return { path: ref.slice(0, i), property: ref.slice(i + 1) };
}

/** A generated key: a fixed value, or random (40 alphanumerics) with an optional prefix. */
export type GeneratedKey = { readonly fixed: string } | { readonly random: true; readonly prefix?: string };

/**
 * The credentials the platform generates, by consumer, with their KV path suffix and keys.
 * `edge` ones exist only when the edge (gateway, PostgreSQL, Redis) is enabled.
 */
export const GENERATED = {
  milvus: { path: "generated/milvus", edge: false, keys: { username: { fixed: "root" }, password: { random: true } } },
  grafana: { path: "generated/grafana", edge: false, keys: { "admin-user": { fixed: "admin" }, "admin-password": { random: true } } },
  vllm: { path: "generated/vllm", edge: false, keys: { "api-key": { random: true } } },
  // LiteLLM requires master keys to start with "sk-"; the salt key encrypts provider credentials in its database.
  litellm: { path: "generated/litellm", edge: true, keys: { "master-key": { random: true, prefix: "sk-" }, "salt-key": { random: true } } },
  postgres: { path: "generated/postgres", edge: true, keys: { username: { fixed: "litellm" }, password: { random: true } } },
  redis: { path: "generated/redis", edge: true, keys: { "auth-token": { random: true } } },
} as const satisfies Record<string, { path: string; edge: boolean; keys: Record<string, GeneratedKey> }>;

export type GeneratedName = keyof typeof GENERATED;

/** The generated credentials a stack has. */
export function generatedNames(edge: boolean): GeneratedName[] {
  return (Object.keys(GENERATED) as GeneratedName[]).filter((n) => edge || !GENERATED[n].edge);
}

/** Where a generated credential lives in Vault. */
export function generatedRef(pathPrefix: string, name: GeneratedName, key: string): VaultRef {
  return { path: `${pathPrefix}/${GENERATED[name].path}`, property: key };
}

/** Every Vault path the platform reads: its own prefix, plus operator references outside it. */
export function platformReadPaths(cfg: Pick<PlatformConfig, "vault" | "observability">): string[] {
  const refs = [cfg.vault.operatorSecrets.huggingfaceToken, cfg.vault.operatorSecrets.azureContentSafetyKey];
  const r = cfg.observability.alertmanager.receiver;
  if (r.type === "slack") refs.push(r.webhookUrlVaultRef);
  if (r.type === "pagerduty") refs.push(r.routingKeyVaultRef);
  const outside = refs.map((x) => parseVaultRef(x).path).filter((p) => !p.startsWith(`${cfg.vault.pathPrefix}/`));
  return [`${cfg.vault.pathPrefix}/*`, ...new Set(outside)];
}

/** The Vault policy (HCL): read on the data paths, read/list on their metadata. Nothing else. */
export function vaultPolicy(kvMount: string, paths: readonly string[]): string {
  return paths
    .flatMap((p) => [
      `path "${kvMount}/data/${p}" {\n  capabilities = ["read"]\n}`,
      `path "${kvMount}/metadata/${p}" {\n  capabilities = ["read", "list"]\n}`,
    ])
    .join("\n\n");
}

export interface ClusterSecretStoreSpec {
  readonly server: string;
  readonly namespace?: string;
  readonly kvMount: string;
  readonly authMountPath: string;
}

/** The one ClusterSecretStore: Vault KV v2 through Kubernetes auth as the ESO service account. */
export function clusterSecretStore(s: ClusterSecretStoreSpec): Record<string, unknown> {
  return {
    apiVersion: "external-secrets.io/v1",
    kind: "ClusterSecretStore",
    metadata: { name: SECRET_STORE, labels: recommendedLabels(SECRET_STORE, "secrets") },
    spec: {
      provider: {
        vault: {
          server: s.server,
          path: s.kvMount,
          version: "v2",
          ...(s.namespace ? { namespace: s.namespace } : {}),
          auth: {
            kubernetes: {
              mountPath: s.authMountPath,
              role: ESO_VAULT_ROLE,
              serviceAccountRef: { name: ESO_SERVICE_ACCOUNT, namespace: NAMESPACES.secrets.name, audiences: [VAULT_AUDIENCE] },
            },
          },
        },
      },
    },
  };
}

export interface ExternalSecretSpec {
  readonly name: string;
  readonly namespace: string;
  /** The Kubernetes Secret ESO writes (defaults to name). */
  readonly targetName?: string;
  readonly data: readonly { readonly secretKey: string; readonly ref: VaultRef }[];
  readonly refreshInterval?: string;
  readonly component: string;
}

/** An ExternalSecret that syncs Vault keys into a Secret the store owns. */
export function externalSecret(s: ExternalSecretSpec): { apiVersion: string; kind: string; metadata: { name: string; namespace: string; labels: Record<string, string> }; spec: Record<string, unknown> } {
  return {
    apiVersion: "external-secrets.io/v1",
    kind: "ExternalSecret",
    metadata: { name: s.name, namespace: s.namespace, labels: recommendedLabels(s.name, s.component) },
    spec: {
      refreshInterval: s.refreshInterval ?? "1h",
      secretStoreRef: { name: SECRET_STORE, kind: "ClusterSecretStore" },
      target: { name: s.targetName ?? s.name, creationPolicy: "Owner", deletionPolicy: "Retain" },
      data: s.data.map((d) => ({ secretKey: d.secretKey, remoteRef: { key: d.ref.path, property: d.ref.property } })),
    },
  };
}

export function esoValues(replicas: number): Record<string, unknown> {
  return {
    installCRDs: true,
    replicaCount: replicas,
    leaderElect: replicas > 1,
    serviceAccount: { create: true, name: ESO_SERVICE_ACCOUNT },
    // Vault's Kubernetes auth reviews the client's own token: ESO needs TokenReview rights.
    systemAuthDelegator: true,
    serviceMonitor: { enabled: true },
    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } },
    webhook: { replicaCount: replicas, resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "128Mi" } } },
    certController: { replicaCount: 1, resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "256Mi" } } },
  };
}

export interface SecretsArgs {
  readonly config: Pick<PlatformConfig, "vault" | "observability" | "environment" | "edge">;
  readonly clusterName: string;
  readonly clusterEndpoint: pulumi.Input<string>;
  /** Base64 CA data, as EKS reports it. */
  readonly clusterCaData: pulumi.Input<string>;
  readonly k8sProvider: k8s.Provider;
  readonly namespace: k8s.core.v1.Namespace;
  readonly monitoringCrds: pulumi.Resource;
}

export class Secrets extends pulumi.ComponentResource {
  public readonly store: k8s.apiextensions.CustomResource;
  /** Path prefix of this stack's secrets in the KV mount. */
  public readonly pathPrefix: string;
  /**
   * The generated values (secret outputs), for the few AWS APIs that take a credential at
   * creation (RDS master password, ElastiCache AUTH token). Pods never get these: they read Vault.
   */
  public readonly generatedValues: Readonly<Partial<Record<GeneratedName, Readonly<Record<string, pulumi.Output<string>>>>>>;

  constructor(name: string, args: SecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:secrets:Secrets", name, {}, opts);
    const v = args.config.vault;
    const child = { parent: this };
    this.pathPrefix = v.pathPrefix;
    const authPath = v.kubernetesAuthPath ?? `kubernetes-${args.clusterName}`;

    // The token comes from VAULT_TOKEN in the environment: never from config or state.
    const provider = new vault.Provider(`${name}-vault`, { address: v.address, ...(v.namespace ? { namespace: v.namespace } : {}), skipChildToken: false }, child);
    const vopts = { parent: this, provider };

    const auth = new vault.AuthBackend(`${name}-k8s-auth`, { type: "kubernetes", path: authPath, description: `Kubernetes auth for EKS cluster ${args.clusterName}` }, vopts);
    new vault.kubernetes.AuthBackendConfig(
      `${name}-k8s-auth`,
      {
        backend: auth.path,
        kubernetesHost: args.clusterEndpoint,
        kubernetesCaCert: pulumi.output(args.clusterCaData).apply((d) => Buffer.from(d, "base64").toString("utf8")),
      },
      vopts,
    );
    const policy = new vault.Policy(`${name}-eso`, { name: `${args.clusterName}-external-secrets`, policy: vaultPolicy(v.kvMount, platformReadPaths(args.config)) }, vopts);
    new vault.kubernetes.AuthBackendRole(
      `${name}-eso`,
      {
        backend: auth.path,
        roleName: ESO_VAULT_ROLE,
        boundServiceAccountNames: [ESO_SERVICE_ACCOUNT],
        boundServiceAccountNamespaces: [NAMESPACES.secrets.name],
        audience: VAULT_AUDIENCE,
        tokenPolicies: [policy.name],
        tokenTtl: 3600,
        tokenMaxTtl: 14400,
      },
      vopts,
    );

    // Generated credentials: random values written to KV v2, marked secret end to end.
    const values: Partial<Record<GeneratedName, Record<string, pulumi.Output<string>>>> = {};
    for (const gen of generatedNames(args.config.edge.enabled)) {
      const spec = GENERATED[gen];
      const data: Record<string, pulumi.Output<string>> = {};
      for (const [key, k] of Object.entries(spec.keys) as [string, GeneratedKey][]) {
        if ("fixed" in k) data[key] = pulumi.output(k.fixed);
        else {
          const result = new random.RandomPassword(`${name}-${gen}-${key}`, { length: 40, special: false }, child).result;
          data[key] = k.prefix ? pulumi.secret(pulumi.interpolate`${k.prefix}${result}`) : result;
        }
      }
      values[gen] = data;
      new vault.kv.SecretV2(
        `${name}-${gen}`,
        { mount: v.kvMount, name: `${v.pathPrefix}/${spec.path}`, dataJson: pulumi.secret(pulumi.output(data).apply((d) => JSON.stringify(d))) },
        vopts,
      );
    }

    this.generatedValues = values;

    const k8sOpts = { parent: this, provider: args.k8sProvider };
    const replicas = args.config.environment === "prod" ? 2 : 1;
    const eso = release(
      `${name}-eso`,
      { name: "external-secrets", namespace: NAMESPACES.secrets.name, pin: CHARTS.externalSecrets, values: esoValues(replicas) },
      { ...k8sOpts, dependsOn: [args.namespace, args.monitoringCrds] },
    );
    this.store = new k8s.apiextensions.CustomResource(
      `${name}-store`,
      clusterSecretStore({ server: v.address, ...(v.namespace ? { namespace: v.namespace } : {}), kvMount: v.kvMount, authMountPath: authPath }) as k8s.apiextensions.CustomResourceArgs,
      { ...k8sOpts, dependsOn: [eso] },
    );

    this.registerOutputs({ store: SECRET_STORE, authPath });
  }

  /** An ExternalSecret resource owned by a consumer component. */
  static externalSecret(resourceName: string, spec: ExternalSecretSpec, store: pulumi.Resource, opts: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource {
    return new k8s.apiextensions.CustomResource(resourceName, externalSecret(spec), {
      ...opts,
      dependsOn: [store, ...((opts.dependsOn as pulumi.Resource[] | undefined) ?? [])],
    });
  }
}
