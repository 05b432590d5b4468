/**
 * Cluster-model check 7, Secrets: would External Secrets log in to a Vault that lives outside
 * the cluster, could it then read every key an ExternalSecret asks for, and does every
 * ExternalSecret land in a Secret of its own?
 *
 * Pure functions over the cluster model (./model.ts) and the Vault resources of the same run.
 * Each returns a list of problems; [] means the check passes. The upstream behaviour modelled
 * here, with its source:
 *
 * - ESO's Vault JWT login with `kubernetesServiceAccountToken` (external-secrets v2.9.0
 *   providers/v1/vault/auth_jwt.go requestTokenWithJwtAuth, auth.go createServiceAccountToken):
 *   ESO calls TokenRequest for `serviceAccountRef` with audiences = serviceAccountRef.audiences
 *   followed by kubernetesServiceAccountToken.audiences, which is ["vault"] when unset;
 *   expirationSeconds defaults to 600; for a ClusterSecretStore the token is minted in
 *   serviceAccountRef.namespace, or in each ExternalSecret's namespace when that is unset. It
 *   then writes {role, jwt} to auth/<path>/login, where path defaults to "jwt"
 *   (apis/externalsecrets/v1/secretstore_vault_types.go, kubebuilder default).
 * - ESO may mint that token only if its controller ClusterRole grants create on
 *   serviceaccounts/token: chart 2.9.0 templates/rbac.yaml, under `rbac.create` and
 *   `rbac.serviceAccountTokenCreate` (both default true in values.yaml).
 * - A Kubernetes service-account token carries iss = the cluster's issuer and
 *   sub = system:serviceaccount:<namespace>:<name> (Kubernetes, "Managing Service Accounts",
 *   and KEP-1205 bound service account tokens). TokenRequest refuses expirationSeconds < 600.
 * - Vault JWT auth (developer.hashicorp.com/vault/api-docs/auth/jwt): the mount verifies the
 *   signature with keys from oidc_discovery_url (or jwks_url / static keys) and checks iss
 *   against bound_issuer; the role must have role_type "jwt" (the default, "oidc", is the browser
 *   flow), the token's aud must contain one of bound_audiences (required when the token has aud,
 *   Vault 1.17+), sub must equal bound_subject when set, and user_claim must name a claim the
 *   token has. Kubernetes auth, by contrast, calls the cluster's TokenReview API: a Vault outside
 *   a private EKS endpoint cannot, which is the defect this check exists for.
 * - Vault ACL evaluation (hashicorp/vault vault/policy.go ParseACLPolicy and vault/acl.go
 *   AllowOperation, CheckAllowedFromNonExactPaths): an exact rule wins; otherwise the
 *   highest-priority matching rule among trailing-`*` prefixes and `+` single-segment
 *   wildcards; capabilities of the same path in several policies are merged, deny wins.
 * - ESO's KV v2 read path (providers/v1/vault/client_get.go buildPath): with the store's `path`
 *   (the mount) set, a key is read at <mount>/data/<key>, after stripping a leading "<mount>/"
 *   and then "data/" from the key.
 */
import type * as pulumi from "@pulumi/pulumi";
import { createMocks } from "../../stacks/plan/mocks";
import type { RunResult } from "../support/stacks";
import { type ClusterModel, type K8sObject, objectsOfKind } from "./model";

export const VAULT_TYPES = {
  jwtBackend: "vault:jwt/authBackend:AuthBackend",
  jwtRole: "vault:jwt/authBackendRole:AuthBackendRole",
  k8sRole: "vault:kubernetes/authBackendRole:AuthBackendRole",
  policy: "vault:index/policy:Policy",
  provider: "pulumi:providers:vault",
} as const;

/** ESO's defaults (see the header). */
export const ESO_DEFAULT_JWT_PATH = "jwt";
export const ESO_DEFAULT_TOKEN_AUDIENCES = ["vault"] as const;
export const ESO_DEFAULT_TOKEN_EXPIRATION = 600;
export const TOKEN_REQUEST_MIN_EXPIRATION = 600;
/** String claims of a Kubernetes service-account token that a Vault role's user_claim can name. */
const SA_TOKEN_STRING_CLAIMS = new Set(["sub", "iss", "jti"]);

type Res = RunResult["resources"][number];
const inputs = (r: Res): any => r.inputs;

function storeName(o: K8sObject): string {
  return o.kind === "ClusterSecretStore" ? `ClusterSecretStore ${o.metadata.name}` : `SecretStore ${o.metadata.namespace}/${o.metadata.name}`;
}

/**
 * The cluster's OIDC issuer URL: what eks.Cluster returns for the run's region, asked of the same
 * mocks the offline plan runs on (the issuer is an output of the remote component, not an input
 * the run records). pulumi-eks reports it without the scheme; tokens carry it with https://.
 */
export function clusterIssuer(run: Pick<RunResult, "config">): string {
  const args: pulumi.runtime.MockResourceArgs = { type: "eks:index:Cluster", name: run.config.cluster.name, inputs: { name: run.config.cluster.name }, custom: false };
  const mock = createMocks(run.config.region).newResource(args) as unknown as { state: { oidcIssuer: string } };
  return `https://${mock.state.oidcIssuer.replace(/^https:\/\//, "")}`;
}

// ---------------------------------------------------------------------------------------------
// The login ESO performs, as ESO builds it.

export interface EsoJwtLogin {
  readonly store: string;
  readonly mountPath: string;
  readonly role: string;
  readonly token: { readonly audiences: readonly string[]; readonly subject: string | undefined; readonly expirationSeconds: number; readonly serviceAccount: { readonly name: string; readonly namespace: string | undefined } };
}

/** The JWT login a store makes, or a reason it makes none that a Vault outside the cluster accepts. */
export function esoJwtLogin(store: K8sObject): EsoJwtLogin | string {
  const auth = store.spec?.provider?.vault?.auth ?? {};
  if (auth.kubernetes)
    return "authenticates with Vault Kubernetes auth: Vault must call the cluster's TokenReview API with a reviewer token, which a Vault outside the cluster cannot do against a private EKS endpoint; use auth.jwt with kubernetesServiceAccountToken";
  const jwt = auth.jwt;
  if (!jwt) return `authenticates with ${Object.keys(auth).join(", ") || "nothing"}, not JWT auth with a Kubernetes service-account token`;
  const sat = jwt.kubernetesServiceAccountToken;
  if (!sat) return "uses auth.jwt without kubernetesServiceAccountToken: no short-lived service-account token is minted";
  const ref = sat.serviceAccountRef ?? {};
  const audiences = [...(ref.audiences ?? []), ...(sat.audiences ?? ESO_DEFAULT_TOKEN_AUDIENCES)];
  // A ClusterSecretStore without serviceAccountRef.namespace mints in each ExternalSecret's namespace.
  const namespace: string | undefined = store.kind === "ClusterSecretStore" ? ref.namespace : store.metadata.namespace;
  return {
    store: storeName(store),
    mountPath: jwt.path ?? ESO_DEFAULT_JWT_PATH,
    role: jwt.role ?? "",
    token: {
      audiences,
      subject: namespace ? `system:serviceaccount:${namespace}:${ref.name}` : undefined,
      expirationSeconds: sat.expirationSeconds ?? ESO_DEFAULT_TOKEN_EXPIRATION,
      serviceAccount: { name: ref.name, namespace },
    },
  };
}

/** Check 7a: every store's Vault login works for a Vault outside the cluster. */
export function vaultLoginProblems(m: ClusterModel): string[] {
  const problems: string[] = [];
  const res = m.run.resources;
  const backends = res.filter((r) => r.type === VAULT_TYPES.jwtBackend);
  const roles = res.filter((r) => r.type === VAULT_TYPES.jwtRole);
  const providers = res.filter((r) => r.type === VAULT_TYPES.provider);
  const issuer = clusterIssuer(m.run);
  const stores = [...objectsOfKind(m, "ClusterSecretStore"), ...objectsOfKind(m, "SecretStore")].filter((s) => s.obj.spec?.provider?.vault);
  if (stores.length === 0) problems.push("no SecretStore or ClusterSecretStore uses Vault");

  for (const { obj } of stores) {
    const name = storeName(obj);
    const v = obj.spec.provider.vault;
    const login = esoJwtLogin(obj);
    if (typeof login === "string") {
      problems.push(`${name}: ${login}`);
      continue;
    }
    // The Vault the store logs in to is the one the program configures.
    const provider = providers.find((p) => inputs(p).address === v.server);
    if (!provider) {
      problems.push(`${name}: server ${v.server} is not the Vault the program configures (${providers.map((p) => inputs(p).address).join(", ") || "none"})`);
      continue;
    }
    if ((inputs(provider).namespace ?? undefined) !== (v.namespace ?? undefined))
      problems.push(`${name}: Vault namespace ${v.namespace ?? "(root)"} differs from the namespace ${inputs(provider).namespace ?? "(root)"} where the auth mount and policy are created`);

    const t = login.token;
    if (!t.serviceAccount.name) problems.push(`${name}: kubernetesServiceAccountToken.serviceAccountRef has no name`);
    if (!t.subject) problems.push(`${name}: serviceAccountRef.namespace is unset, so ESO mints the token in each ExternalSecret's namespace and its subject varies`);
    else if (!serviceAccountExists(m, t.serviceAccount.namespace!, t.serviceAccount.name))
      problems.push(`${name}: service account ${t.serviceAccount.namespace}/${t.serviceAccount.name} is neither rendered by the program nor created by a chart`);
    if (t.expirationSeconds < TOKEN_REQUEST_MIN_EXPIRATION) problems.push(`${name}: expirationSeconds ${t.expirationSeconds} is below the TokenRequest minimum of ${TOKEN_REQUEST_MIN_EXPIRATION}`);
    problems.push(...esoCanMintTokens(m).map((p) => `${name}: ${p}`));

    // @pulumi/vault jwt.AuthBackend: path defaults to "jwt", type to "jwt".
    const backend = backends.find((b) => (inputs(b).path ?? "jwt") === login.mountPath);
    if (!backend) {
      problems.push(`${name}: mount path ${login.mountPath} matches no JWT auth backend (have: ${backends.map((b) => inputs(b).path ?? "jwt").join(", ") || "none"})`);
      continue;
    }
    const b = inputs(backend);
    if ((b.type ?? "jwt") !== "jwt") problems.push(`${name}: auth backend ${b.path} has type ${b.type}, not jwt`);
    if (b.oidcDiscoveryUrl !== issuer)
      problems.push(`${name}: auth backend ${b.path} discovers keys at ${b.oidcDiscoveryUrl ?? (b.jwksUrl ? `jwks_url ${b.jwksUrl}` : "no OIDC discovery URL")}, not at the cluster's OIDC issuer ${issuer}`);
    if (b.boundIssuer !== undefined && b.boundIssuer !== issuer) problems.push(`${name}: auth backend ${b.path} binds issuer ${b.boundIssuer}, but the cluster's tokens carry iss ${issuer}`);

    const role = roles.find((r) => inputs(r).backend === login.mountPath && inputs(r).roleName === login.role);
    if (!role) {
      problems.push(`${name}: role ${login.role} does not exist on auth backend ${login.mountPath} (have: ${roles.filter((r) => inputs(r).backend === login.mountPath).map((r) => inputs(r).roleName).join(", ") || "none"})`);
      continue;
    }
    const r = inputs(role);
    if ((r.roleType ?? "oidc") !== "jwt") problems.push(`${name}: role ${r.roleName} has role_type ${r.roleType ?? "oidc (the default)"}, which refuses JWT logins`);
    const bound: string[] = r.boundAudiences ?? [];
    if (!t.audiences.some((a) => bound.includes(a)))
      problems.push(`${name}: the token's audiences [${t.audiences.join(", ")}] do not intersect role ${r.roleName}'s bound_audiences [${bound.join(", ")}]`);
    if (!r.boundSubject) problems.push(`${name}: role ${r.roleName} binds no subject: any service account of the cluster could log in with its policies`);
    else if (t.subject && r.boundSubject !== t.subject) problems.push(`${name}: the token's subject ${t.subject} is not role ${r.roleName}'s bound_subject ${r.boundSubject}`);
    if (!SA_TOKEN_STRING_CLAIMS.has(r.userClaim)) problems.push(`${name}: role ${r.roleName}'s user_claim ${r.userClaim} is not a string claim of a service-account token (${[...SA_TOKEN_STRING_CLAIMS].join(", ")})`);
    if (!(r.tokenPolicies ?? []).length) problems.push(`${name}: role ${r.roleName} grants no policy`);
  }
  return problems;
}

function serviceAccountExists(m: ClusterModel, namespace: string, name: string): boolean {
  return m.chartCreated.has(`ServiceAccount ${namespace}/${name}`) || objectsOfKind(m, "ServiceAccount").some((o) => o.obj.metadata.name === name && o.obj.metadata.namespace === namespace);
}

/** ESO's controller may call TokenRequest: chart 2.9.0 templates/rbac.yaml grants it under both values. */
export function esoCanMintTokens(m: ClusterModel): string[] {
  const eso = m.releases.filter((r) => r.chart === "external-secrets");
  if (eso.length === 0) return ["no external-secrets release"];
  return eso.flatMap((r) => {
    const rbac = r.values.rbac ?? {};
    if (rbac.create === false) return [`release ${r.name} sets rbac.create false: its controller has no ClusterRole, so it cannot create serviceaccounts/token`];
    if (rbac.serviceAccountTokenCreate === false) return [`release ${r.name} sets rbac.serviceAccountTokenCreate false: its ClusterRole does not grant create on serviceaccounts/token`];
    return [];
  });
}

// ---------------------------------------------------------------------------------------------
// Vault policies: HCL as the program renders it, and Vault's path matching.

export interface PolicyRule {
  readonly path: string;
  readonly capabilities: readonly string[];
}

/**
 * Parses the `path "..." { capabilities = [...] }` blocks of an HCL policy. Anything else in
 * the text (other keys, unterminated blocks) is reported, so an unparsed rule cannot pass.
 */
export function parsePolicyHcl(hcl: string): { rules: PolicyRule[]; problems: string[] } {
  const text = hcl.replace(/(^|\s)(#|\/\/)[^\n]*/g, "$1");
  const rules: PolicyRule[] = [];
  const problems: string[] = [];
  const block = /path\s+"([^"]*)"\s*\{([^}]*)\}/g;
  let rest = text;
  for (const m of text.matchAll(block)) {
    const body = m[2]!;
    const caps = /^\s*capabilities\s*=\s*\[([^\]]*)\]\s*$/.exec(body);
    if (!caps) problems.push(`path "${m[1]}": expected only capabilities = [...], got ${JSON.stringify(body.trim())}`);
    else rules.push({ path: m[1]!, capabilities: [...caps[1]!.matchAll(/"([^"]*)"/g)].map((c) => c[1]!) });
    rest = rest.replace(m[0], "");
  }
  if (rest.trim()) problems.push(`unparsed policy text: ${JSON.stringify(rest.trim().slice(0, 80))}`);
  return { rules, problems };
}

interface Candidate {
  readonly firstWildcard: number;
  readonly isPrefix: boolean;
  readonly wildcards: number;
  readonly path: string;
  readonly caps: ReadonlySet<string>;
}

/** Vault's priority order for non-exact matches (vault/acl.go CheckAllowedFromNonExactPaths, `less`): true if a < b. */
function lowerPriority(a: Candidate, b: Candidate): boolean {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard < b.firstWildcard;
  if (a.isPrefix !== b.isPrefix) return a.isPrefix;
  if (a.wildcards !== b.wildcards) return a.wildcards > b.wildcards;
  if (a.path.length !== b.path.length) return a.path.length < b.path.length;
  return a.path < b.path;
}

/**
 * The capabilities a token holding these policies has on a request path, as Vault computes them.
 * An empty set means no rule matches (implicit deny); a set containing "deny" denies everything.
 */
export function capabilitiesOn(rules: readonly PolicyRule[], requestPath: string): ReadonlySet<string> {
  // Parse: strip a leading "/"; "+*" is refused by Vault; "+" segments make a wildcard path;
  // otherwise a trailing "*" makes a prefix rule (vault/policy.go).
  const merged = new Map<string, { kind: "exact" | "prefix" | "segment"; path: string; caps: Set<string> }>();
  for (const r of rules) {
    let p = r.path.replace(/^\//, "");
    if (p.includes("+*")) continue;
    const segment = p === "+" || p.includes("/+") || p.startsWith("+/");
    let kind: "exact" | "prefix" | "segment" = segment ? "segment" : "exact";
    if (!segment && p.endsWith("*")) {
      p = p.slice(0, -1);
      kind = "prefix";
    }
    const key = `${kind}:${p}`;
    const cur = merged.get(key) ?? { kind, path: p, caps: new Set<string>() };
    if (cur.caps.has("deny") || r.capabilities.includes("deny")) {
      cur.caps.clear();
      cur.caps.add("deny");
    } else for (const c of r.capabilities) cur.caps.add(c);
    merged.set(key, cur);
  }
  const path = requestPath.replace(/^\/+/, "");
  const exact = merged.get(`exact:${path}`);
  if (exact) return exact.caps;

  const candidates: Candidate[] = [];
  const prefixes = [...merged.values()].filter((x) => x.kind === "prefix" && path.startsWith(x.path));
  const longest = prefixes.sort((a, b) => b.path.length - a.path.length)[0];
  if (longest) candidates.push({ firstWildcard: longest.path.length, isPrefix: true, wildcards: 0, path: longest.path, caps: longest.caps });

  const parts = path.split("/");
  for (const x of merged.values()) {
    if (x.kind !== "segment") continue;
    const isPrefix = x.path.endsWith("*");
    const wc = isPrefix ? x.path.slice(0, -1) : x.path;
    const acl = wc.split("/");
    if (parts.length < acl.length) continue;
    if (!isPrefix && acl.length !== parts.length) continue;
    let wildcards = 0;
    let ok = true;
    for (let i = 0; i < acl.length && ok; i++) {
      if (acl[i] === "+") wildcards++;
      else if (acl[i] === parts[i]) continue;
      else if (isPrefix && i === acl.length - 1 && parts[i]!.startsWith(acl[i]!)) continue;
      else ok = false;
    }
    if (ok) candidates.push({ firstWildcard: x.path.indexOf("+"), isPrefix, wildcards, path: wc, caps: x.caps });
  }
  if (candidates.length === 0) return new Set();
  return candidates.reduce((best, c) => (lowerPriority(best, c) ? c : best)).caps;
}

/** Whether these rules let a token read a path. */
export function canRead(rules: readonly PolicyRule[], requestPath: string): boolean {
  const caps = capabilitiesOn(rules, requestPath);
  return caps.has("read") && !caps.has("deny");
}

/** The Vault path ESO reads for a remoteRef key (providers/v1/vault/client_get.go buildPath). */
export function esoReadPath(vault: { path?: string; version?: string }, key: string): string {
  const v2 = (vault.version ?? "v2") === "v2";
  const mount = vault.path;
  let out = key;
  if (mount !== undefined) {
    const cut = `${mount}/`;
    if (out.startsWith(cut)) {
      out = out.slice(cut.length);
      if (out.startsWith("data/") && v2) out = out.slice("data/".length);
    }
    return [...mount.split("/"), ...(v2 ? ["data"] : []), ...out.split("/")].join("/");
  }
  if (!out.includes("/data/") && v2) {
    const [head, ...tail] = out.split("/");
    return [head, "data", ...tail].join("/");
  }
  return out;
}

/** The policy rules a store's Vault role grants, or a problem. */
function storeRules(m: ClusterModel, store: K8sObject): { rules: PolicyRule[]; policies: string[] } | string {
  const auth = store.spec?.provider?.vault?.auth ?? {};
  const res = m.run.resources;
  // The role the store logs in with, whichever auth method it uses (7a judges the method).
  const [type, mount, roleName] = auth.jwt
    ? [VAULT_TYPES.jwtRole, auth.jwt.path ?? ESO_DEFAULT_JWT_PATH, auth.jwt.role]
    : auth.kubernetes
      ? [VAULT_TYPES.k8sRole, auth.kubernetes.mountPath ?? "kubernetes", auth.kubernetes.role]
      : [undefined, undefined, undefined];
  const role = res.filter((x) => x.type === type).map(inputs).find((r) => r.backend === mount && r.roleName === roleName);
  if (!role) return `${storeName(store)} has no Vault role the program creates, so no policy to read with`;
  const policies: string[] = role.tokenPolicies ?? [];
  const rules: PolicyRule[] = [];
  for (const name of policies) {
    const p = res.find((x) => x.type === VAULT_TYPES.policy && inputs(x).name === name);
    if (!p) return `${storeName(store)}: role ${role.roleName} grants policy ${name}, which the program does not create`;
    const parsed = parsePolicyHcl(inputs(p).policy);
    if (parsed.problems.length) return `${storeName(store)}: policy ${name}: ${parsed.problems.join("; ")}`;
    rules.push(...parsed.rules);
  }
  return { rules, policies };
}

function findStore(m: ClusterModel, es: K8sObject): K8sObject | undefined {
  const ref = es.spec?.secretStoreRef ?? {};
  const kind = ref.kind ?? "SecretStore";
  return objectsOfKind(m, kind).find((s) => s.obj.metadata.name === ref.name && (kind === "ClusterSecretStore" || s.obj.metadata.namespace === es.metadata.namespace))?.obj;
}

/** Check 7b: every key an ExternalSecret asks for is readable under the policies its store's role grants. */
export function externalSecretReadProblems(m: ClusterModel): string[] {
  const problems: string[] = [];
  for (const { obj: es } of objectsOfKind(m, "ExternalSecret")) {
    const name = `ExternalSecret ${es.metadata.namespace}/${es.metadata.name}`;
    const store = findStore(m, es);
    if (!store?.spec?.provider?.vault) continue; // 7c reports a missing store
    const granted = storeRules(m, store);
    if (typeof granted === "string") {
      problems.push(`${name}: ${granted}`);
      continue;
    }
    const keys = [
      ...(es.spec.data ?? []).map((d: any) => d.remoteRef?.key as string),
      ...(es.spec.dataFrom ?? []).map((d: any) => d.extract?.key as string | undefined).filter((k: string | undefined): k is string => !!k),
    ];
    for (const key of new Set(keys)) {
      const path = esoReadPath(store.spec.provider.vault, key);
      if (!canRead(granted.rules, path)) problems.push(`${name}: reads ${path}, which policy ${granted.policies.join(", ")} does not grant read on`);
    }
  }
  return problems;
}

/** Check 7c: ExternalSecret targets are unique per namespace, and every ExternalSecret's store exists. */
export function externalSecretTargetProblems(m: ClusterModel): string[] {
  const problems: string[] = [];
  const owners = new Map<string, string[]>();
  for (const { obj: es } of objectsOfKind(m, "ExternalSecret")) {
    const name = `ExternalSecret ${es.metadata.namespace}/${es.metadata.name}`;
    const ref = es.spec?.secretStoreRef ?? {};
    if (!findStore(m, es)) problems.push(`${name}: its store ${ref.kind ?? "SecretStore"} ${ref.name} does not exist`);
    // ESO writes to spec.target.name, or to a Secret named like the ExternalSecret.
    const target = `${es.metadata.namespace}/${es.spec?.target?.name ?? es.metadata.name}`;
    owners.set(target, [...(owners.get(target) ?? []), name]);
  }
  for (const [target, by] of owners) if (by.length > 1) problems.push(`Secret ${target} is the target of ${by.length} ExternalSecrets (${by.join(", ")}): they overwrite each other`);
  for (const { obj } of objectsOfKind(m, "Secret")) {
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    if (owners.has(key)) problems.push(`Secret ${key} is rendered by the program and is also the target of ${owners.get(key)!.join(", ")}`);
  }
  return problems;
}

/** All of check 7. */
export function secretsProblems(m: ClusterModel): string[] {
  return [...vaultLoginProblems(m), ...externalSecretReadProblems(m), ...externalSecretTargetProblems(m)];
}
