/**
 * Secrets: Vault is the source of truth; External Secrets Operator delivers to pods.
 *
 * Vault side (@pulumi/vault; address and namespace from config, token from VAULT_TOKEN):
 * - a JWT auth mount for this cluster that verifies Kubernetes service-account tokens against
 *   the cluster's OIDC issuer (EKS publishes a public discovery document and JWKS at
 *   https://oidc.eks.<region>.amazonaws.com/id/<id>). Vault never calls the cluster: no
 *   TokenReview, no network path from Vault to a private EKS endpoint, no reviewer token.
 *   (Vault docs, "Use Kubernetes for OIDC authentication",
 *   developer.hashicorp.com/vault/docs/auth/jwt/oidc-providers/kubernetes; AWS EKS user guide,
 *   "Fetch signing keys to validate OIDC tokens", irsa-fetch-keys.html.)
 * - a read-only policy over exactly the platform's KV v2 paths;
 * - a `jwt` role bound to the ESO service account's subject and to one audience, with that policy.
 * Generated credentials (Milvus root, Grafana admin, the vLLM API key) come from
 * @pulumi/random and are written to KV v2; Pulumi state holds them encrypted, and nothing else
 * does. Operator-provided secrets (Hugging Face token, Azure key) are read from the Vault paths
 * the config names.
 *
 * Cluster side: ESO from its pinned chart, and one ClusterSecretStore (external-secrets.io/v1)
 * using Vault JWT auth with a token ESO mints for its own service account through the
 * TokenRequest API (`auth.jwt.kubernetesServiceAccountToken`). Consumers create their
 * ExternalSecrets with `externalSecret()`.
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
import { flow, tcp, type Flow, type Peers } from "./flows";

export const SECRET_STORE = "vault";
export const ESO_SERVICE_ACCOUNT = "external-secrets";
export const ESO_VAULT_ROLE = "external-secrets";
/**
 * Lifetime of the token ESO requests for each login: ESO's own default and the TokenRequest
 * minimum (external-secrets v2.9.0 providers/v1/vault/auth_jwt.go: 600 when unset; the field is
 * marked deprecated in apis/externalsecrets/v1/secretstore_vault_types.go, so it only states the
 * default it falls back to).
 */
export const ESO_TOKEN_EXPIRATION_SECONDS = 600;
/** Lifetime of the Vault token a login returns. ESO logs in per sync and revokes it after (providers/v1/vault/client.go Close). */
export const VAULT_TOKEN_TTL_SECONDS = 900;
export const VAULT_TOKEN_MAX_TTL_SECONDS = 3600;

/** The `sub` claim of a Kubernetes service account's tokens. */
export function serviceAccountSubject(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/**
 * The issuer URL of the cluster's service-account tokens (their `iss` claim). pulumi-eks's
 * `oidcIssuer` is that URL without its scheme (@pulumi/eks cluster.d.ts: "OIDC Provider URL
 * without leading `https://`").
 */
export function issuerUrl(oidcIssuer: string): string {
  return `https://${oidcIssuer.replace(/^https:\/\//, "").replace(/\/+$/, "")}`;
}

/**
 * The audience ESO requests and the role binds: the Vault address, naming the relying party the
 * token is meant for (RFC 7519 section 4.1.3), so the token is good for this Vault only.
 */
export function vaultJwtAudience(vaultAddress: string): string {
  return vaultAddress.replace(/\/+$/, "");
}

/** The default mount path of this cluster's JWT auth method. */
export function defaultJwtAuthPath(clusterName: string): string {
  return `jwt-${clusterName}`;
}

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
export function platformReadPaths(cfg: Pick<PlatformConfig, "vault" | "observability"> & Partial<Pick<PlatformConfig, "rag" | "loadTest">>): string[] {
  const refs = [cfg.vault.operatorSecrets.huggingfaceToken, cfg.vault.operatorSecrets.azureContentSafetyKey];
  const evalKey = cfg.rag?.enabled && cfg.rag.evaluation.enabled ? cfg.rag.evaluation.apiKeyVaultRef : undefined;
  if (evalKey) refs.push(evalKey);
  if (cfg.loadTest?.enabled && cfg.loadTest.gatewayKeyVaultRef) refs.push(cfg.loadTest.gatewayKeyVaultRef);
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
  /** Mount path of the JWT auth method. */
  readonly jwtAuthPath: string;
  /** The audience of the token ESO mints; the role binds it. */
  readonly audience: string;
}

/**
 * The one ClusterSecretStore: Vault KV v2 through JWT auth, with a token ESO mints for its own
 * service account (external-secrets v2.9.0 apis/externalsecrets/v1/secretstore_vault_types.go,
 * VaultJwtAuth and VaultKubernetesServiceAccountTokenAuth; providers/v1/vault/auth_jwt.go).
 * The token's audiences are `serviceAccountRef.audiences` plus the deprecated
 * `kubernetesServiceAccountToken.audiences`, which defaults to ["vault"] when unset
 * (providers/v1/vault/auth.go createServiceAccountToken): the role binds ours, so the extra
 * "vault" is harmless. `serviceAccountRef.namespace` is required for a ClusterSecretStore, or
 * ESO would mint in each ExternalSecret's namespace.
 */
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
            jwt: {
              path: s.jwtAuthPath,
              role: ESO_VAULT_ROLE,
              kubernetesServiceAccountToken: {
                serviceAccountRef: { name: ESO_SERVICE_ACCOUNT, namespace: NAMESPACES.secrets.name, audiences: [s.audience] },
                expirationSeconds: ESO_TOKEN_EXPIRATION_SECONDS,
              },
            },
          },
        },
      },
    },
  };
}

/**
 * The JWT auth mount: tokens verified with the keys the issuer's discovery document names, and
 * `iss` bound to the issuer (Vault API docs, JWT/OIDC auth method, POST /auth/<path>/config:
 * oidc_discovery_url "without any .well-known component", bound_issuer). EKS signs with RS256
 * and rotates its keys every seven days, so the keys are discovered, never pinned.
 */
export function jwtAuthBackendArgs<T>(path: string, issuer: T, clusterName: string): { type: "jwt"; path: string; description: string; oidcDiscoveryUrl: T; boundIssuer: T; jwtSupportedAlgs: string[] } {
  return { type: "jwt", path, description: `JWT auth for service-account tokens of EKS cluster ${clusterName}`, oidcDiscoveryUrl: issuer, boundIssuer: issuer, jwtSupportedAlgs: ["RS256"] };
}

/**
 * The role ESO logs in with (Vault API docs, JWT/OIDC auth method, POST /auth/<path>/role/<name>):
 * role_type "jwt" (the default is "oidc", a browser flow); the token's `aud` must contain one of
 * bound_audiences (Vault 1.17+ requires bound_audiences when a token has `aud`); `sub` must be
 * the ESO service account. The default policy stays attached: ESO revokes its token after each
 * sync through auth/token/revoke-self, which the default policy grants.
 */
export function esoJwtRoleArgs<B, P>(backend: B, audience: string, policy: P): {
  backend: B;
  roleName: string;
  roleType: "jwt";
  boundAudiences: string[];
  boundSubject: string;
  userClaim: "sub";
  tokenPolicies: P[];
  tokenTtl: number;
  tokenMaxTtl: number;
} {
  return {
    backend,
    roleName: ESO_VAULT_ROLE,
    roleType: "jwt",
    boundAudiences: [audience],
    boundSubject: serviceAccountSubject(NAMESPACES.secrets.name, ESO_SERVICE_ACCOUNT),
    userClaim: "sub",
    tokenPolicies: [policy],
    tokenTtl: VAULT_TOKEN_TTL_SECONDS,
    tokenMaxTtl: VAULT_TOKEN_MAX_TTL_SECONDS,
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
    // ESO mints its Vault login token through TokenRequest: the controller ClusterRole must grant
    // create on serviceaccounts/token (chart 2.9.0 templates/rbac.yaml, under
    // rbac.serviceAccountTokenCreate, default true in values.yaml). Stated so it cannot drift.
    // No system:auth-delegator: Vault's JWT auth does no TokenReview.
    rbac: { create: true, serviceAccountTokenCreate: true },
    serviceMonitor: { enabled: true },
    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } },
    webhook: { replicaCount: replicas, resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "128Mi" } } },
    certController: { replicaCount: 1, resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "256Mi" } } },
  };
}

export interface SecretsArgs {
  readonly config: Pick<PlatformConfig, "vault" | "observability" | "edge" | "rag">;
  readonly clusterName: string;
  /** The cluster's OIDC issuer, as pulumi-eks reports it (with or without `https://`). */
  readonly oidcIssuer: pulumi.Input<string>;
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
    const authPath = v.jwtAuthPath ?? defaultJwtAuthPath(args.clusterName);
    const audience = vaultJwtAudience(v.address);

    // The token comes from VAULT_TOKEN in the environment: never from config or state.
    const provider = new vault.Provider(`${name}-vault`, { address: v.address, ...(v.namespace ? { namespace: v.namespace } : {}), skipChildToken: false }, child);
    const vopts = { parent: this, provider };

    const issuer = pulumi.output(args.oidcIssuer).apply(issuerUrl);
    const auth = new vault.jwt.AuthBackend(`${name}-jwt-auth`, jwtAuthBackendArgs(authPath, issuer, args.clusterName), vopts);
    const policy = new vault.Policy(`${name}-eso`, { name: `${args.clusterName}-external-secrets`, policy: vaultPolicy(v.kvMount, platformReadPaths(args.config)) }, vopts);
    // The backend's `path` output is optional-typed; name the mount and wait for it instead.
    const role = new vault.jwt.AuthBackendRole(`${name}-eso`, esoJwtRoleArgs(authPath, audience, policy.name), { ...vopts, dependsOn: [auth] });

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
    const replicas = args.config.vault.externalSecretsReplicas;
    const eso = release(
      `${name}-eso`,
      { name: "external-secrets", namespace: NAMESPACES.secrets.name, pin: CHARTS.externalSecrets, values: esoValues(replicas) },
      { ...k8sOpts, dependsOn: [args.namespace, args.monitoringCrds] },
    );
    this.store = new k8s.apiextensions.CustomResource(
      `${name}-store`,
      clusterSecretStore({ server: v.address, ...(v.namespace ? { namespace: v.namespace } : {}), kvMount: v.kvMount, jwtAuthPath: authPath, audience }) as k8s.apiextensions.CustomResourceArgs,
      // The store turns Ready on its first login: after ESO runs and the role exists.
      { ...k8sOpts, dependsOn: [eso, role] },
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

/**
 * The secrets layer's flows: ESO reads Vault, and the API server calls ESO's webhook
 * (external-secrets 2.9.0 values webhook.port 10250). Every pod of the namespace watches the API.
 */
export function secretsFlows(p: Peers): Flow[] {
  const n = NAMESPACES.secrets.name;
  const controller = { namespace: n, pods: { "app.kubernetes.io/name": "external-secrets" } };
  return [
    flow("external-secrets-to-apiserver", { namespace: n }, p.apiServer, tcp(443), "the controller, webhook and cert controller watch the Kubernetes API"),
    flow("apiserver-to-external-secrets-webhook", p.controlPlane, { namespace: n, pods: { "app.kubernetes.io/name": "external-secrets-webhook" } }, tcp(10250), "the API server calls ESO's validating webhook"),
    flow("external-secrets-to-vault", controller, p.vault, tcp(p.vaultPort), "External Secrets reads Vault (and logs in with its service-account JWT)"),
    flow("prometheus-scrapes-external-secrets", { namespace: NAMESPACES.monitoring.name, pods: { "app.kubernetes.io/name": "prometheus" } }, { namespace: n }, tcp(8080), "Prometheus scrapes the controller, webhook and cert controller (serviceMonitor.enabled covers all three; metrics.listen.port 8080)"),
  ];
}
