import { describe, expect, it } from "vitest";
import { stack, stackWith, STACKS, type RunResult } from "../support/stacks";
import { buildModel, type ClusterModel } from "./model";
import {
  canRead,
  capabilitiesOn,
  clusterIssuer,
  esoJwtLogin,
  esoReadPath,
  externalSecretReadProblems,
  externalSecretTargetProblems,
  parsePolicyHcl,
  secretsProblems,
  vaultLoginProblems,
  VAULT_TYPES,
} from "./secrets";

/** A model of a copy of the run, with one mutation applied to the recorded resources. */
function mutated(run: RunResult, mutate: (resources: any[]) => void): ClusterModel {
  const copy = structuredClone<RunResult>(run);
  mutate(copy.resources as any[]);
  return buildModel(copy);
}
const byType = (resources: any[], type: string) => resources.filter((r) => r.type === type);
const theOne = (resources: any[], type: string) => {
  const found = byType(resources, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
};
const STORE = "kubernetes:external-secrets.io/v1:ClusterSecretStore";
const ES = "kubernetes:external-secrets.io/v1:ExternalSecret";
const storeJwt = (resources: any[]) => theOne(resources, STORE).inputs.spec.provider.vault.auth.jwt;

describe.each(STACKS)("check 7, secrets, on %s", (name) => {
  it("passes on the committed stack", async () => {
    const m = buildModel(await stack(name));
    expect(secretsProblems(m)).toEqual([]);
  });

  it("models the login ESO makes: JWT on the stack's mount, ESO's subject, our audience plus ESO's default", async () => {
    const r = await stack(name);
    const login = esoJwtLogin(buildModel(r).objects.find((o) => o.obj.kind === "ClusterSecretStore")!.obj);
    expect(login).toEqual({
      store: "ClusterSecretStore vault",
      mountPath: `jwt-${r.config.cluster.name}`,
      role: "external-secrets",
      token: {
        audiences: [r.config.vault.address, "vault"],
        subject: "system:serviceaccount:external-secrets:external-secrets",
        expirationSeconds: 600,
        serviceAccount: { name: "external-secrets", namespace: "external-secrets" },
      },
    });
    expect(clusterIssuer(r)).toBe(`https://oidc.eks.${r.config.region}.amazonaws.com/id/MOCKOIDC0000000000000000000000`);
  });

  // ----- 7a: the login works for a Vault outside the cluster

  it("7a: reports a store that uses Kubernetes auth (TokenReview), as the program did before", async () => {
    const m = mutated(await stack(name), (res) => {
      const v = theOne(res, STORE).inputs.spec.provider.vault;
      v.auth = { kubernetes: { mountPath: `kubernetes-llm-platform-${name}`, role: "external-secrets", serviceAccountRef: { name: "external-secrets", namespace: "external-secrets", audiences: ["vault"] } } };
    });
    expect(vaultLoginProblems(m)).toEqual([
      "ClusterSecretStore vault: authenticates with Vault Kubernetes auth: Vault must call the cluster's TokenReview API with a reviewer token, which a Vault outside the cluster cannot do against a private EKS endpoint; use auth.jwt with kubernetesServiceAccountToken",
    ]);
  });

  it("7a: reports a token audience the role does not bind", async () => {
    const r = await stack(name);
    const m = mutated(r, (res) => {
      storeJwt(res).kubernetesServiceAccountToken.serviceAccountRef.audiences = ["sts.amazonaws.com"];
    });
    expect(vaultLoginProblems(m)).toEqual([
      `ClusterSecretStore vault: the token's audiences [sts.amazonaws.com, vault] do not intersect role external-secrets's bound_audiences [${r.config.vault.address}]`,
    ]);
  });

  it("7a: counts ESO's default audience: binding \"vault\" alone would pass, binding nothing fails", async () => {
    const r = await stack(name);
    const bindVault = mutated(r, (res) => {
      theOne(res, VAULT_TYPES.jwtRole).inputs.boundAudiences = ["vault"];
    });
    expect(vaultLoginProblems(bindVault)).toEqual([]);
    const bindNone = mutated(r, (res) => {
      delete theOne(res, VAULT_TYPES.jwtRole).inputs.boundAudiences;
    });
    expect(vaultLoginProblems(bindNone)).toEqual([`ClusterSecretStore vault: the token's audiences [${r.config.vault.address}, vault] do not intersect role external-secrets's bound_audiences []`]);
  });

  it("7a: reports a subject in another namespace than the role binds", async () => {
    const m = mutated(await stack(name), (res) => {
      theOne(res, VAULT_TYPES.jwtRole).inputs.boundSubject = "system:serviceaccount:default:external-secrets";
    });
    expect(vaultLoginProblems(m)).toEqual([
      "ClusterSecretStore vault: the token's subject system:serviceaccount:external-secrets:external-secrets is not role external-secrets's bound_subject system:serviceaccount:default:external-secrets",
    ]);
  });

  it("7a: reports a token minted for a service account that does not exist, and a store that leaves the namespace to each ExternalSecret", async () => {
    const r = await stack(name);
    const other = mutated(r, (res) => {
      storeJwt(res).kubernetesServiceAccountToken.serviceAccountRef.namespace = "default";
    });
    expect(vaultLoginProblems(other)).toEqual([
      "ClusterSecretStore vault: service account default/external-secrets is neither rendered by the program nor created by a chart",
      "ClusterSecretStore vault: the token's subject system:serviceaccount:default:external-secrets is not role external-secrets's bound_subject system:serviceaccount:external-secrets:external-secrets",
    ]);
    const unset = mutated(r, (res) => {
      delete storeJwt(res).kubernetesServiceAccountToken.serviceAccountRef.namespace;
    });
    expect(vaultLoginProblems(unset)).toEqual(["ClusterSecretStore vault: serviceAccountRef.namespace is unset, so ESO mints the token in each ExternalSecret's namespace and its subject varies"]);
  });

  it("7a: reports a role without a subject, of the oidc type, or with a claim the token lacks", async () => {
    const m = mutated(await stack(name), (res) => {
      const role = theOne(res, VAULT_TYPES.jwtRole).inputs;
      delete role.boundSubject;
      delete role.roleType;
      role.userClaim = "email";
    });
    expect(vaultLoginProblems(m)).toEqual([
      "ClusterSecretStore vault: role external-secrets has role_type oidc (the default), which refuses JWT logins",
      "ClusterSecretStore vault: role external-secrets binds no subject: any service account of the cluster could log in with its policies",
      "ClusterSecretStore vault: role external-secrets's user_claim email is not a string claim of a service-account token (sub, iss, jti)",
    ]);
  });

  it("7a: reports a mount that does not verify against the cluster's OIDC issuer", async () => {
    const r = await stack(name);
    const issuer = clusterIssuer(r);
    const m = mutated(r, (res) => {
      const b = theOne(res, VAULT_TYPES.jwtBackend).inputs;
      b.oidcDiscoveryUrl = "https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER";
      b.boundIssuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER";
    });
    expect(vaultLoginProblems(m)).toEqual([
      `ClusterSecretStore vault: auth backend jwt-${r.config.cluster.name} discovers keys at https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER, not at the cluster's OIDC issuer ${issuer}`,
      `ClusterSecretStore vault: auth backend jwt-${r.config.cluster.name} binds issuer https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER, but the cluster's tokens carry iss ${issuer}`,
    ]);
  });

  it("7a: reports a store whose mount path is not the backend's path, or whose role is not on it", async () => {
    const r = await stack(name);
    const path = mutated(r, (res) => {
      storeJwt(res).path = "jwt";
    });
    expect(vaultLoginProblems(path)).toEqual([`ClusterSecretStore vault: mount path jwt matches no JWT auth backend (have: jwt-${r.config.cluster.name})`]);
    const role = mutated(r, (res) => {
      storeJwt(res).role = "eso";
    });
    expect(vaultLoginProblems(role)).toEqual([`ClusterSecretStore vault: role eso does not exist on auth backend jwt-${r.config.cluster.name} (have: external-secrets)`]);
  });

  it("7a: reports an ESO release that may not create service-account tokens", async () => {
    const m = mutated(await stack(name), (res) => {
      const eso = res.find((x) => x.type === "kubernetes:helm.sh/v3:Release" && x.inputs.name === "external-secrets");
      eso.inputs.values.rbac = { create: true, serviceAccountTokenCreate: false };
    });
    expect(vaultLoginProblems(m)).toEqual([
      "ClusterSecretStore vault: release external-secrets sets rbac.serviceAccountTokenCreate false: its ClusterRole does not grant create on serviceaccounts/token",
    ]);
  });

  it("7a: reports a store pointed at another Vault or namespace than the program configures", async () => {
    const r = await stack(name);
    const m = mutated(r, (res) => {
      theOne(res, STORE).inputs.spec.provider.vault.namespace = "other-team";
    });
    expect(vaultLoginProblems(m)).toEqual([
      `ClusterSecretStore vault: Vault namespace other-team differs from the namespace ${r.config.vault.namespace ?? "(root)"} where the auth mount and policy are created`,
    ]);
    const server = mutated(r, (res) => {
      theOne(res, STORE).inputs.spec.provider.vault.server = "https://vault.other.example.com";
    });
    expect(vaultLoginProblems(server)).toEqual([`ClusterSecretStore vault: server https://vault.other.example.com is not the Vault the program configures (${r.config.vault.address})`]);
  });

  // ----- 7b: every ExternalSecret key is readable under the role's policy

  it("7b: reports an ExternalSecret key outside the policy", async () => {
    const r = await stack(name);
    const m = mutated(r, (res) => {
      const es = byType(res, ES).find((x) => x.inputs.metadata.name === "grafana-admin");
      es.inputs.spec.data[0].remoteRef.key = "other-team/grafana";
    });
    expect(externalSecretReadProblems(m)).toEqual([`ExternalSecret monitoring/grafana-admin: reads secret/data/other-team/grafana, which policy llm-platform-${name}-external-secrets does not grant read on`]);
  });

  it("7b: reports keys when the policy loses a path, and a policy the program does not create", async () => {
    const r = await stack(name);
    const narrowed = mutated(r, (res) => {
      const p = theOne(res, VAULT_TYPES.policy).inputs;
      p.policy = p.policy.replaceAll(`"secret/data/${r.config.vault.pathPrefix}/*"`, `"secret/data/${r.config.vault.pathPrefix}/generated/*"`);
    });
    // Exactly the keys under the prefix but outside generated/ lose their grant.
    const outside = buildModel(r)
      .objects.filter((o) => o.obj.kind === "ExternalSecret")
      .flatMap(({ obj }) => [...new Set<string>(obj.spec.data.map((d: any) => d.remoteRef.key))].map((key) => ({ es: `${obj.metadata.namespace}/${obj.metadata.name}`, key })))
      .filter(({ key }) => key.startsWith(`${r.config.vault.pathPrefix}/`) && !key.startsWith(`${r.config.vault.pathPrefix}/generated/`));
    expect(outside.length).toBeGreaterThan(0);
    expect(externalSecretReadProblems(narrowed)).toEqual(outside.map(({ es, key }) => `ExternalSecret ${es}: reads secret/data/${key}, which policy llm-platform-${name}-external-secrets does not grant read on`));
    const renamed = mutated(r, (res) => {
      theOne(res, VAULT_TYPES.policy).inputs.name = "renamed";
    });
    expect(externalSecretReadProblems(renamed)).toContain(`ExternalSecret monitoring/grafana-admin: ClusterSecretStore vault: role external-secrets grants policy llm-platform-${name}-external-secrets, which the program does not create`);
  });

  // ----- 7c: targets are unique, stores exist

  it("7c: reports two ExternalSecrets writing the same Secret", async () => {
    const m = mutated(await stack(name), (res) => {
      const es = byType(res, ES).find((x) => x.inputs.metadata.name === "grafana-admin");
      const dup = structuredClone(es);
      dup.urn = `${es.urn}-dup`;
      dup.inputs.metadata.name = "grafana-admin-copy";
      dup.inputs.spec.target.name = "grafana-admin";
      res.push(dup);
    });
    expect(externalSecretTargetProblems(m)).toEqual([
      "Secret monitoring/grafana-admin is the target of 2 ExternalSecrets (ExternalSecret monitoring/grafana-admin, ExternalSecret monitoring/grafana-admin-copy): they overwrite each other",
    ]);
  });

  it("7c: reports an ExternalSecret whose store does not exist", async () => {
    const m = mutated(await stack(name), (res) => {
      const es = byType(res, ES).find((x) => x.inputs.metadata.name === "grafana-admin");
      es.inputs.spec.secretStoreRef = { name: "vault", kind: "SecretStore" };
    });
    expect(externalSecretTargetProblems(m)).toEqual(["ExternalSecret monitoring/grafana-admin: its store SecretStore vault does not exist"]);
  });
});

// Config edits through the real program (one stack: each run re-plans the program).
describe("check 7, secrets, on dev with a changed config", () => {
  it("7a: a custom vault.jwtAuthPath still lines up store, mount and role", async () => {
    const m = buildModel(
      await stackWith("dev", (raw) => {
        raw["llm-platform:vault"].jwtAuthPath = "eks/jwt-custom";
      }),
    );
    expect(esoJwtLogin(m.objects.find((o) => o.obj.kind === "ClusterSecretStore")!.obj)).toMatchObject({ mountPath: "eks/jwt-custom" });
    expect(m.run.resources.filter((x) => x.type === VAULT_TYPES.jwtBackend).map((x) => (x.inputs as any).path)).toEqual(["eks/jwt-custom"]);
    expect(m.run.resources.filter((x) => x.type === VAULT_TYPES.jwtRole).map((x) => (x.inputs as any).backend)).toEqual(["eks/jwt-custom"]);
    expect(vaultLoginProblems(m)).toEqual([]);
  });

  it("7b: an operator secret deeper under the path prefix is read through the prefix's rule; one outside it is refused by config", async () => {
    const r = await stackWith("dev", (raw) => {
      raw["llm-platform:vault"].operatorSecrets.azureContentSafetyKey = "llm-platform/dev/operators/azure-content-safety#key";
    });
    const m = buildModel(r);
    expect(externalSecretReadProblems(m)).toEqual([]);
    const es = m.objects.find((o) => o.obj.kind === "ExternalSecret" && o.obj.metadata.name === "azure-content-safety")!.obj;
    expect(es.spec.data[0].remoteRef.key).toBe("llm-platform/dev/operators/azure-content-safety");
    // No environment reads outside its own prefix (issue 12): a shared path is a config error.
    await expect(
      stackWith("dev", (raw) => {
        raw["llm-platform:vault"].operatorSecrets.azureContentSafetyKey = "shared/azure-content-safety#key";
      }),
    ).rejects.toThrow(/vault\.operatorSecrets\.azureContentSafetyKey: reads "shared\/azure-content-safety", outside this environment's vault\.pathPrefix/);
  });
});

// ---------------------------------------------------------------------------------------------
// The pieces, against Vault's and ESO's own rules.

describe("Vault path matching (vault/acl.go, vault/policy.go)", () => {
  const rules = (...r: [string, string[]][]) => r.map(([path, capabilities]) => ({ path, capabilities }));

  it.each([
    ["secret/data/app/*", "secret/data/app/x", true],
    ["secret/data/app/*", "secret/data/app/x/y", true],
    ["secret/data/app/*", "secret/data/app", false],
    ["secret/data/app*", "secret/data/apple", true],
    ["secret/data/+/x", "secret/data/team/x", true],
    ["secret/data/+/x", "secret/data/team/y/x", false],
    ["secret/data/+/x*", "secret/data/team/xy/z", true],
    ["+/data/app", "kv/data/app", true],
    ["secret/data/app", "secret/data/app", true],
    ["/secret/data/app", "secret/data/app", true],
    ["secret/data/app", "secret/data/app/x", false],
    ["secret/data/*/x", "secret/data/a/x", false],
    ["secret/data/+*", "secret/data/x", false],
  ] as const)("%s matches %s: %s", (pattern, path, expected) => {
    expect(canRead(rules([pattern, ["read"]]), path)).toBe(expected);
  });

  it("prefers an exact rule, then the later wildcard, then a non-prefix, then fewer wildcards, then the longer", () => {
    expect([...capabilitiesOn(rules(["secret/data/a/*", ["read"]], ["secret/data/a/b", ["deny"]]), "secret/data/a/b")]).toEqual(["deny"]);
    expect(canRead(rules(["secret/data/+/b", ["deny"]], ["secret/data/a/*", ["read"]]), "secret/data/a/b")).toBe(true);
    expect(canRead(rules(["secret/data/+/b", ["read"]], ["secret/data/+/*", ["deny"]]), "secret/data/a/b")).toBe(true);
    expect(canRead(rules(["secret/data/+/+", ["deny"]], ["secret/data/+/b", ["read"]]), "secret/data/a/b")).toBe(true);
    expect(canRead(rules(["secret/data/a*", ["deny"]], ["secret/data/a/b*", ["read"]]), "secret/data/a/bc")).toBe(true);
  });

  it("merges one path across policies, and deny wins", () => {
    expect([...capabilitiesOn(rules(["p/*", ["list"]], ["p/*", ["read"]]), "p/x")].sort()).toEqual(["list", "read"]);
    expect(canRead(rules(["p/*", ["read"]], ["p/*", ["deny"]]), "p/x")).toBe(false);
    expect(capabilitiesOn(rules(["p/*", ["read"]]), "q/x").size).toBe(0);
  });

  it("parses the HCL the program renders, and refuses what it cannot parse", () => {
    expect(parsePolicyHcl('# c\npath "a/*" {\n  capabilities = ["read", "list"]\n}\n\npath "b" { capabilities = ["read"] }')).toEqual({
      rules: [
        { path: "a/*", capabilities: ["read", "list"] },
        { path: "b", capabilities: ["read"] },
      ],
      problems: [],
    });
    expect(parsePolicyHcl('path "a" {\n  capabilities = ["read"]\n  allowed_parameters = {}\n}').problems[0]).toMatch(/^path "a": expected only capabilities = \[\.\.\.\], got /);
    expect(parsePolicyHcl('path "a" { capabilities = ["read"] }\nstray').problems).toEqual(['unparsed policy text: "stray"']);
  });
});

describe("ESO's KV read path (providers/v1/vault/client_get.go buildPath)", () => {
  it.each([
    [{ path: "secret", version: "v2" }, "llm/x", "secret/data/llm/x"],
    [{ path: "secret", version: "v2" }, "secret/llm/x", "secret/data/llm/x"],
    [{ path: "secret", version: "v2" }, "secret/data/llm/x", "secret/data/llm/x"],
    [{ path: "secret", version: "v1" }, "llm/x", "secret/llm/x"],
    [{ version: "v2" }, "secret/llm/x", "secret/data/llm/x"],
    [{ version: "v2" }, "secret/data/llm/x", "secret/data/llm/x"],
  ] as const)("%j reads %s at %s", (store, key, expected) => {
    expect(esoReadPath(store, key)).toBe(expected);
  });
});
