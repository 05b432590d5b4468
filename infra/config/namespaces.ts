/**
 * Which config namespaces a stack may use. Every key in a stack file is `<namespace>:<name>`;
 * the program reads `llm-platform:<area>` and `aws:region`. A key in any other namespace would be
 * ignored, so a typo in the project name (`llm-platfrom:networkSecurity`) silently drops a whole
 * area: such keys are refused with a did-you-mean.
 *
 * Provider namespaces are those of the providers the program uses (package.json). For the ones
 * whose SDK lists its config keys (config/vars.d.ts, generated from the provider schema), a key
 * outside that list is refused too (`aws:regoin`): the lists below are those files at the pinned
 * versions, and tests/config-files.test.ts checks them against the installed packages, so a
 * version bump that adds keys cannot make a valid key fail. `kubernetes` (its SDK has no
 * config/vars module: every Kubernetes provider here is explicit) and `pulumi`, `eks`, `random`
 * (engine or component settings with no generated list) accept any key: no list, no false
 * positives.
 */
import { PROJECT } from "./primitives";

/** @pulumi/aws 7.48.0, node_modules/@pulumi/aws/config/vars.d.ts. */
export const AWS_CONFIG_KEYS = [
  "accessKey",
  "allowedAccountIds",
  "assumeRoleWithWebIdentity",
  "assumeRoles",
  "customCaBundle",
  "defaultTags",
  "ec2MetadataServiceEndpoint",
  "ec2MetadataServiceEndpointMode",
  "endpoints",
  "forbiddenAccountIds",
  "httpProxy",
  "httpsProxy",
  "ignoreTags",
  "insecure",
  "maxRetries",
  "noProxy",
  "profile",
  "region",
  "retryMode",
  "s3UsEast1RegionalEndpoint",
  "s3UsePathStyle",
  "secretKey",
  "sharedConfigFiles",
  "sharedCredentialsFiles",
  "skipCredentialsValidation",
  "skipMetadataApiCheck",
  "skipRegionValidation",
  "skipRequestingAccountId",
  "stsRegion",
  "tagPolicyCompliance",
  "token",
  "tokenBucketRateLimiterCapacity",
  "useDualstackEndpoint",
  "useFipsEndpoint",
  "userAgents",
] as const;

/** @pulumi/vault 7.8.0, node_modules/@pulumi/vault/config/vars.d.ts. */
export const VAULT_CONFIG_KEYS = [
  "addAddressToEnv",
  "address",
  "authLogin",
  "authLoginAws",
  "authLoginAzure",
  "authLoginCert",
  "authLoginGcp",
  "authLoginJwt",
  "authLoginKerberos",
  "authLoginOci",
  "authLoginOidc",
  "authLoginRadius",
  "authLoginTokenFile",
  "authLoginUserpass",
  "caCertDir",
  "caCertFile",
  "clientAuth",
  "headers",
  "maxLeaseTtlSeconds",
  "maxRetries",
  "maxRetriesCcc",
  "namespace",
  "setNamespaceFromToken",
  "skipChildToken",
  "skipGetVaultVersion",
  "skipTlsVerify",
  "tlsServerName",
  "token",
  "tokenName",
  "vaultVersionOverride",
] as const;

/** @pulumi/docker-build 0.0.22, node_modules/@pulumi/docker-build/config/vars.d.ts. */
export const DOCKER_BUILD_CONFIG_KEYS = ["host", "registries"] as const;

/**
 * Every namespace a stack file may use, with the keys it accepts (undefined: any key). The
 * project's own keys are checked by the schema.
 */
export const CONFIG_NAMESPACES: Readonly<Record<string, readonly string[] | undefined>> = {
  [PROJECT]: undefined,
  aws: AWS_CONFIG_KEYS,
  vault: VAULT_CONFIG_KEYS,
  kubernetes: undefined,
  pulumi: undefined,
  eks: undefined,
  random: undefined,
  "docker-build": DOCKER_BUILD_CONFIG_KEYS,
};
