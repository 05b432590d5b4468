/**
 * Security guardrails: pod security (no privileged containers, host namespaces or hostPath),
 * pinned images, resource requests and limits, secrets by reference only, private S3 with
 * encryption, IMDSv2, a private EKS endpoint in prod, default-deny NetworkPolicies, and no
 * `*` on `*` IAM statements.
 */
import type { PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { iamStatements } from "./lib/aws";
import { AWS_EKS_CLUSTER, EKS_COMPONENT_CLUSTER, NODE_GROUP_TYPES, nodeGroupView } from "./lib/capacity";
import {
  CONFIG_MAP,
  containersOf,
  describeWorkload,
  EC2_NODE_CLASS,
  floatingImage,
  HELM_RELEASE,
  NAMESPACE,
  NETWORK_POLICY,
  PART_OF_LABEL,
  pathString,
  PLATFORM,
  SECRET,
  walk,
  workloadOf,
  WORKLOAD_TYPES,
  type Workload,
} from "./lib/k8s";
import { configOf, forTypes, propsOf } from "./lib/policy";
import { arr, bool, get, isRecord, kindOf, num, record, str, strings, stringMap, type Props } from "./lib/props";

// ---------------------------------------------------------------------------------------------
// Pod security

export interface ExemptConfig {
  readonly exemptNamespaces: readonly string[];
}

const exemptSchema = {
  properties: {
    exemptNamespaces: { type: "array" as const, items: { type: "string" as const }, default: [], description: "Namespaces whose workloads are not checked (say why in docs/policies.md)." },
  },
};

/** A resource validation over Kubernetes workloads outside the exempt namespaces. */
function forWorkloads(check: (w: Workload, report: ReportViolation) => void) {
  return forTypes(WORKLOAD_TYPES, (r, report) => {
    const w = workloadOf(r.type, r.props, r.name);
    if (!w) return;
    const { exemptNamespaces } = configOf<ExemptConfig>(r.args);
    if (exemptNamespaces.includes(w.namespace)) return;
    check(w, report);
  });
}

export const noPrivilegedContainers: ResourceValidationPolicy = {
  name: "k8s-no-privileged-containers",
  description: "No container runs privileged or adds the SYS_ADMIN capability.",
  enforcementLevel: "mandatory",
  severity: "critical",
  tags: ["security"],
  configSchema: exemptSchema,
  validateResource: forWorkloads((w, report) => {
    for (const c of containersOf(w.podSpec)) {
      if (bool(get(c.spec, "securityContext", "privileged")) === true)
        report(`${describeWorkload(w)}: ${c.role} ${c.name} runs privileged; remove securityContext.privileged.`);
      if (strings(get(c.spec, "securityContext", "capabilities", "add")).some((cap) => cap.toUpperCase().replace(/^CAP_/, "") === "SYS_ADMIN"))
        report(`${describeWorkload(w)}: ${c.role} ${c.name} adds the SYS_ADMIN capability, which is as good as privileged.`);
    }
  }),
};

export const noHostNamespaces: ResourceValidationPolicy = {
  name: "k8s-no-host-network",
  description: "No pod uses the node's network (hostNetwork), nor its PID or IPC namespace.",
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["security"],
  configSchema: exemptSchema,
  validateResource: forWorkloads((w, report) => {
    for (const f of ["hostNetwork", "hostPID", "hostIPC"] as const)
      if (bool(w.podSpec[f]) === true) report(`${describeWorkload(w)}: spec.${f} is true; pods must not share the node's namespaces.`);
  }),
};

export const noHostPath: ResourceValidationPolicy = {
  name: "k8s-no-host-path",
  description: "No pod mounts a hostPath volume.",
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["security"],
  configSchema: exemptSchema,
  validateResource: forWorkloads((w, report) => {
    for (const v of arr(w.podSpec.volumes).filter(isRecord))
      if (v.hostPath !== undefined) report(`${describeWorkload(w)}: volume ${str(v.name) ?? "?"} is a hostPath (${str(get(v, "hostPath", "path")) ?? "?"}); use a PVC, emptyDir or CSI volume.`);
  }),
};

// ---------------------------------------------------------------------------------------------
// k8s-images-pinned

/** A value that reads as an image reference: `repo[:port]/path[:tag][@sha256:digest]`. */
const IMAGE_LIKE = /^[a-z0-9][a-z0-9._/-]*(:\d+\/[a-z0-9._/-]+)?(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$/;

/** Floating images in Helm values: `tag: latest`, image strings without a tag or ending :latest. */
export function floatingHelmImages(values: unknown): string[] {
  const found: string[] = [];
  walk(values, (node, path, parent) => {
    if (typeof node !== "string") return;
    const key = path[path.length - 1] ?? "";
    const where = pathString(path);
    const value = node.trim();
    if (/^(tag|imageTag)$/i.test(key) && value.toLowerCase() === "latest") found.push(`${where}: "latest"`);
    else if (/:latest$/.test(value)) found.push(`${where}: "${node}"`);
    else if (/^image$/i.test(key) && IMAGE_LIKE.test(value) && isRecord(parent) && !["tag", "imageTag", "digest", "version"].some((k) => k in parent)) {
      // An image given as one string, with no sibling tag or digest, floats unless it pins itself.
      const why = floatingImage(value);
      if (why) found.push(`${where}: "${node}" ${why}`);
    }
  });
  return found;
}

export const imagesPinned: ResourceValidationPolicy = {
  name: "k8s-images-pinned",
  description: "Every container image is pinned to a tag other than latest, or to a digest; Helm release values set no floating image tag.",
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["security", "reliability"],
  validateResource: forTypes([...WORKLOAD_TYPES, HELM_RELEASE], (r, report) => {
    if (r.type === HELM_RELEASE) {
      const release = str(r.props.name) ?? r.name;
      for (const f of floatingHelmImages(r.props.values))
        report(`Helm release ${release}: values ${f}; pin images in infra/catalog/versions.ts (a version tag or @sha256 digest).`);
      return;
    }
    const w = workloadOf(r.type, r.props, r.name);
    if (!w) return;
    for (const c of containersOf(w.podSpec)) {
      const image = str(c.spec.image);
      if (image === undefined) {
        report(`${describeWorkload(w)}: ${c.role} ${c.name} has no image.`);
        continue;
      }
      const why = floatingImage(image);
      if (why) report(`${describeWorkload(w)}: ${c.role} ${c.name} image "${image}" ${why}; pin a version tag or an @sha256 digest (infra/catalog/versions.ts).`);
    }
  }),
};

// ---------------------------------------------------------------------------------------------
// k8s-resources-set

export const resourcesSet: ResourceValidationPolicy = {
  name: "k8s-resources-set",
  description:
    "Every container requests cpu and memory and limits memory; extended resources (nvidia.com/gpu) are requested and limited alike. CPU limits are not required (they throttle latency-sensitive servers).",
  enforcementLevel: "mandatory",
  severity: "medium",
  tags: ["reliability", "cost"],
  validateResource: forTypes(WORKLOAD_TYPES, (r, report) => {
    const w = workloadOf(r.type, r.props, r.name);
    if (!w) return;
    for (const c of containersOf(w.podSpec)) {
      if (c.role === "ephemeralContainer") continue;
      const requests = record(get(c.spec, "resources", "requests"));
      const limits = record(get(c.spec, "resources", "limits"));
      const missing = [
        ...(requests.cpu === undefined ? ["requests.cpu"] : []),
        ...(requests.memory === undefined ? ["requests.memory"] : []),
        ...(limits.memory === undefined ? ["limits.memory"] : []),
      ];
      if (missing.length) report(`${describeWorkload(w)}: ${c.role} ${c.name} sets no resources.${missing.join(", resources.")}.`);
      for (const k of new Set([...Object.keys(requests), ...Object.keys(limits)])) {
        if (!k.includes("/")) continue;
        // Extended resources (nvidia.com/gpu) cannot overcommit: limits are required, requests default to them.
        const limit = quantity(limits[k]);
        const request = quantity(requests[k]) ?? limit;
        if (limit === undefined || request !== limit)
          report(`${describeWorkload(w)}: ${c.role} ${c.name} must set ${k} in limits, with requests equal to it; got requests ${request ?? "unset"}, limits ${limit ?? "unset"}.`);
      }
    }
  }),
};

function quantity(v: unknown): string | undefined {
  return typeof v === "string" || typeof v === "number" ? String(v) : undefined;
}

// ---------------------------------------------------------------------------------------------
// k8s-secrets-by-reference

/** Environment variable names that hold credentials. */
const SECRET_NAME = /(^|_)(PASSWORD|PASSWD|PASS|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?|WEBHOOK_?URL|ROUTING_?KEY|CONNECTION_?STRING|DSN)($|_)/i;

/** Values that are credentials whatever their name. "[secret]" is a Pulumi secret the plan redacted. */
const SECRET_VALUES: readonly [RegExp, string][] = [
  [/^\[secret\]$/, "a Pulumi secret value inlined into the manifest"],
  [/^hf_[A-Za-z0-9]{20,}$/, "a Hugging Face token"],
  [/\bA(KIA|SIA)[0-9A-Z]{16}\b/, "an AWS access key id"],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a private key"],
  [/^sk-[A-Za-z0-9_-]{20,}$/, "an API secret key"],
  [/^(xox[abprs]-|ghp_|github_pat_|glpat-)/, "an access token"],
  [/^https:\/\/hooks\.slack\.com\/services\//, "a Slack webhook URL"],
  // A password in the URL, unless it is a substitution such as $(DATABASE_PASSWORD).
  [/^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:(?!\$\(|\$\{)[^/\s@]+@/i, "a URL with a password"],
  // A secret in disguise: a query parameter named like a key, token or signature (api_key, access_token,
  // X-Amz-Signature, X-Amz-Credential, an Azure SAS `sig`, a Functions `code`) with a literal value,
  // anywhere in the value (a ConfigMap's data is often a whole config file). Substitutions pass.
  [/[?&][\w.-]*(key|token|signature|sig|secret|password|passwd|pwd|credential|code)=(?!\$\(|\$\{|os\.environ\/)[^&\s#"'<>]{8,}/i, "a URL whose query carries a key, token or signature"],
];

/**
 * Values that refer to a secret instead of holding one: LiteLLM-style `os.environ/NAME`, and
 * `$(VAR)` / `${VAR}` substitutions that the container runtime or the app resolves.
 */
const REFERENCE_VALUE = /^(os\.environ\/[A-Za-z_][A-Za-z0-9_]*|\$\([A-Za-z_][A-Za-z0-9_]*\)|\$\{[A-Za-z_][A-Za-z0-9_]*\})$/;

export function isSecretReference(v: string): boolean {
  return REFERENCE_VALUE.test(v.trim());
}

export function secretValueKind(v: string): string | undefined {
  if (isSecretReference(v)) return undefined;
  return SECRET_VALUES.find(([re]) => re.test(v.trim()))?.[1];
}

/** Helm value keys whose literal string value is a credential (existingSecret, *Name, *Key etc. hold names). */
const SECRET_KEY = /(password|passwd|token|apikey|api_key|secretkey|secret_key|accesskey|access_key|clientsecret|client_secret|privatekey|private_key|webhookurl|webhook_url|routingkey|routing_key)$/i;

/** Keys that name a Secret or a key inside one (e.g. masterkeySecretKey, existingSecret, passwordKey in a secretRef). */
const SECRET_NAME_KEY = /^(existingSecret|.+Secret(Name|Key)|secretName|.+SecretRef)$/;

function literalSecretsInValues(values: unknown): string[] {
  const found: string[] = [];
  walk(values, (node, path, parent) => {
    if (typeof node !== "string" || node.trim() === "") return;
    const key = path[path.length - 1] ?? "";
    const where = pathString(path);
    const kind = secretValueKind(node);
    if (kind) found.push(`${where} holds ${kind}`);
    else if (SECRET_KEY.test(key) && !SECRET_NAME_KEY.test(key) && !isSecretReference(node) && !node.startsWith("$")) found.push(`${where} is a literal credential`);
    else if (key === "value" && isRecord(parent) && typeof parent.name === "string" && SECRET_NAME.test(parent.name)) found.push(`${where} (env ${parent.name}) is a literal credential`);
  });
  return found;
}

export const secretsByReference: ResourceValidationPolicy = {
  name: "k8s-secrets-by-reference",
  description:
    "Secrets reach pods only through secretKeyRef / secretRef to Secrets that External Secrets syncs from Vault: no literal secret-looking env values, no Secret objects with data in the program, no credentials in ConfigMaps or Helm values.",
  enforcementLevel: "mandatory",
  severity: "critical",
  tags: ["security"],
  validateResource: forTypes([...WORKLOAD_TYPES, SECRET, CONFIG_MAP, HELM_RELEASE], (r, report) => {
    const name = str(get(r.props, "metadata", "name")) ?? r.name;
    const ns = str(get(r.props, "metadata", "namespace")) ?? "default";
    if (r.type === SECRET) {
      const keys = [...Object.keys(record(r.props.data)), ...Object.keys(record(r.props.stringData))];
      if (keys.length) report(`Secret ${ns}/${name} carries data (${keys.join(", ")}) in the program; store it in Vault and sync it with an ExternalSecret.`);
      return;
    }
    if (r.type === CONFIG_MAP) {
      for (const [k, v] of Object.entries(record(r.props.data))) {
        const kind = typeof v === "string" ? secretValueKind(v) : undefined;
        if (kind || (SECRET_NAME.test(k) && typeof v === "string" && v !== "")) report(`ConfigMap ${ns}/${name}: key ${k} holds ${kind ?? "a credential"}; use a Secret synced from Vault.`);
      }
      return;
    }
    if (r.type === HELM_RELEASE) {
      for (const f of literalSecretsInValues(r.props.values))
        report(`Helm release ${str(r.props.name) ?? r.name}: values ${f}; point the chart at an existing Secret synced by an ExternalSecret.`);
      return;
    }
    const w = workloadOf(r.type, r.props, r.name);
    if (!w) return;
    for (const c of containersOf(w.podSpec)) {
      for (const e of arr(c.spec.env).filter(isRecord)) {
        const envName = str(e.name) ?? "?";
        const value = str(e.value);
        if (value === undefined || value === "") continue;
        const kind = secretValueKind(value);
        if (kind || SECRET_NAME.test(envName))
          report(`${describeWorkload(w)}: ${c.role} ${c.name} env ${envName} is a literal ${kind ?? "secret-looking value"}; use valueFrom.secretKeyRef to a Secret synced by an ExternalSecret.`);
      }
    }
  }),
};

// ---------------------------------------------------------------------------------------------
// s3-encrypted-private

const BUCKET_TYPES = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
const PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const ACCOUNT_PAB = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock";
const SSE_TYPES = ["aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"];
const PAB_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;
const SSE_ALGORITHMS = ["aws:kms", "aws:kms:dsse", "AES256"];

/** Whether `r` (a bucket-level resource) targets `bucket`: by dependency (works in preview) or by name. */
function targets(r: PolicyResource, bucket: PolicyResource): boolean {
  if (r.dependencies.some((d) => d.urn === bucket.urn)) return true;
  const b = propsOf(bucket);
  const target = str(propsOf(r).bucket);
  return target !== undefined && [str(b.bucket), str(b.id), bucket.name].includes(target);
}

function sseAlgorithms(v: unknown): string[] {
  const out: string[] = [];
  walk(v, (node, path) => {
    if (path[path.length - 1] === "sseAlgorithm" && typeof node === "string") out.push(node);
  });
  return out;
}

export const s3EncryptedPrivate: StackValidationPolicy = {
  name: "s3-encrypted-private",
  description: "Every S3 bucket has all four public-access blocks on (its own or the account's), an explicit server-side encryption configuration (SSE-KMS or SSE-S3), and no public ACL.",
  enforcementLevel: "mandatory",
  severity: "critical",
  tags: ["security"],
  validateStack: (args, report) => {
    const all = args.resources;
    const accountBlocked = all.some((r) => r.type === ACCOUNT_PAB && PAB_FLAGS.every((f) => bool(propsOf(r)[f]) === true));
    for (const b of all.filter((r) => BUCKET_TYPES.includes(r.type))) {
      const p = propsOf(b);
      const label = `Bucket ${str(p.bucket) ?? b.name}`;
      const acl = str(p.acl);
      if (acl && /public|authenticated/.test(acl)) report(`${label}: acl is ${acl}; buckets are private.`, b.urn);
      if (!accountBlocked) {
        const pabs = all.filter((r) => r.type === PAB && targets(r, b));
        if (pabs.length === 0) report(`${label} has no BucketPublicAccessBlock; add one with all four flags true.`, b.urn);
        for (const pab of pabs) {
          const off = PAB_FLAGS.filter((f) => bool(propsOf(pab)[f]) !== true);
          if (off.length) report(`${label}: its BucketPublicAccessBlock ${pab.name} leaves ${off.join(", ")} off; set all four to true.`, b.urn);
        }
      }
      const algorithms = [...sseAlgorithms(p.serverSideEncryptionConfiguration), ...all.filter((r) => SSE_TYPES.includes(r.type) && targets(r, b)).flatMap((r) => sseAlgorithms(propsOf(r).rules))];
      if (algorithms.length === 0) report(`${label} has no server-side encryption configuration; add a BucketServerSideEncryptionConfiguration (aws:kms with a bucket key, or AES256).`, b.urn);
      else if (!algorithms.every((a) => SSE_ALGORITHMS.includes(a))) report(`${label}: unexpected sseAlgorithm ${algorithms.join(", ")}.`, b.urn);
    }
  },
};

// ---------------------------------------------------------------------------------------------
// ec2-imdsv2-required

export interface ImdsConfig {
  readonly maxHopLimit: number;
}

function metadataProblems(opts: unknown, c: ImdsConfig, unsetOk: boolean): string[] {
  if (opts === undefined) return unsetOk ? [] : ["sets no metadataOptions (IMDSv1 stays available); set httpTokens: required"];
  const problems: string[] = [];
  const tokens = str(get(opts, "httpTokens"));
  if (tokens !== "required" && !(unsetOk && tokens === undefined)) problems.push(`metadataOptions.httpTokens is ${tokens ?? "unset"}, not "required" (IMDSv1 stays available)`);
  const hops = num(get(opts, "httpPutResponseHopLimit"));
  if (hops !== undefined && hops > c.maxHopLimit) problems.push(`metadataOptions.httpPutResponseHopLimit is ${hops}, above ${c.maxHopLimit}: pods could reach the node's credentials`);
  return problems;
}

export const imdsv2Required: ResourceValidationPolicy = {
  name: "ec2-imdsv2-required",
  description: "Launch templates, instances and Karpenter EC2NodeClasses require IMDSv2 (httpTokens required, bounded hop limit); managed node groups launch from such a template.",
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["security"],
  configSchema: {
    properties: { maxHopLimit: { type: "integer", minimum: 1, maximum: 64, default: 1, description: "Highest httpPutResponseHopLimit allowed (1 keeps pods off the node's credentials)." } },
  },
  validateResource: forTypes(["aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/instance:Instance", EC2_NODE_CLASS, ...NODE_GROUP_TYPES], (r, report) => {
    const c = configOf<ImdsConfig>(r.args);
    if (NODE_GROUP_TYPES.includes(r.type)) {
      if (r.props.launchTemplate === undefined)
        report(`node group ${nodeGroupView(r.name, r.props).pool} (${r.name}) has no launch template, so EKS's default template decides IMDS; launch it from a template with httpTokens: required.`);
      return;
    }
    if (r.type === EC2_NODE_CLASS) {
      // Karpenter v1 defaults to httpTokens: required and hop limit 1 when metadataOptions is unset.
      for (const p of metadataProblems(get(r.props, "spec", "metadataOptions"), c, true)) report(`EC2NodeClass ${str(get(r.props, "metadata", "name")) ?? r.name}: ${p}.`);
      return;
    }
    for (const p of metadataProblems(r.props.metadataOptions, c, false)) report(`${kindOf(r.type)} ${r.name}: ${p}.`);
  }),
};

// ---------------------------------------------------------------------------------------------
// eks-private-endpoint

export interface EndpointConfig {
  readonly requirePrivateEndpoint: boolean;
}

export const eksPrivateEndpoint: ResourceValidationPolicy = {
  name: "eks-private-endpoint",
  description:
    "The EKS API endpoint is reachable privately; where requirePrivateEndpoint is set (prod) it is private only, elsewhere a public endpoint must be limited to listed CIDRs other than 0.0.0.0/0.",
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["security"],
  configSchema: {
    properties: { requirePrivateEndpoint: { type: "boolean", default: true, description: "Reject any public endpoint access." } },
  },
  validateResource: forTypes([EKS_COMPONENT_CLUSTER, AWS_EKS_CLUSTER], (r, report) => {
    const { requirePrivateEndpoint } = configOf<EndpointConfig>(r.args);
    // pulumi-eks: endpointPublicAccess defaults to true, private to false; aws.eks.Cluster nests them in vpcConfig.
    const src: Props = r.type === AWS_EKS_CLUSTER ? record(r.props.vpcConfig) : r.props;
    const pub = bool(src.endpointPublicAccess) ?? true;
    const priv = bool(src.endpointPrivateAccess) ?? false;
    const cidrs = strings(r.type === AWS_EKS_CLUSTER ? src.publicAccessCidrs : r.props.publicAccessCidrs);
    const label = `${kindOf(r.type)} ${r.name}`;
    if (!priv) report(`${label}: endpointPrivateAccess is off, so nodes reach the API over the internet; set it to true (cluster.endpoint.privateAccess).`);
    if (!pub) return;
    if (requirePrivateEndpoint) report(`${label}: the API endpoint is public (${cidrs.join(", ") || "0.0.0.0/0"}); this environment requires a private endpoint. Set cluster.endpoint.publicAccess: false.`);
    else if (cidrs.length === 0 || cidrs.includes("0.0.0.0/0"))
      report(`${label}: the public API endpoint is open to ${cidrs.length ? "0.0.0.0/0" : "the whole internet (no publicAccessCidrs)"}; limit cluster.endpoint.publicAccessCidrs to known ranges.`);
  }),
};

// ---------------------------------------------------------------------------------------------
// k8s-default-deny-network-policy

export interface NetpolConfig {
  readonly requireEgressDeny: boolean;
}

function isEmptySelector(v: unknown): boolean {
  const s = record(v);
  return Object.keys(record(s.matchLabels)).length === 0 && arr(s.matchExpressions).length === 0;
}

/** Whether a NetworkPolicy denies all ingress (and egress, when asked) to every pod of its namespace. */
export function isDefaultDeny(props: Props, egress: boolean): boolean {
  const spec = record(props.spec);
  if (!isEmptySelector(spec.podSelector)) return false;
  const types = strings(spec.policyTypes);
  // With no policyTypes, Kubernetes infers Ingress (plus Egress when egress rules exist).
  const ingressDenied = (types.length === 0 || types.includes("Ingress")) && arr(spec.ingress).length === 0;
  const egressDenied = types.includes("Egress") && arr(spec.egress).length === 0;
  return ingressDenied && (!egress || egressDenied);
}

export const defaultDenyNetworkPolicy: StackValidationPolicy = {
  name: "k8s-default-deny-network-policy",
  description: `Every platform namespace (a Namespace labelled ${PART_OF_LABEL}=${PLATFORM}) has a default-deny NetworkPolicy: empty podSelector, policyTypes Ingress, no ingress rules.`,
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["security"],
  configSchema: {
    properties: { requireEgressDeny: { type: "boolean", default: false, description: "Also require the default-deny policy to deny egress." } },
  },
  validateStack: (args, report) => {
    const { requireEgressDeny } = configOf<NetpolConfig>(args);
    const policies = args.resources.filter((r) => r.type === NETWORK_POLICY);
    for (const ns of args.resources.filter((r) => r.type === NAMESPACE)) {
      const p = propsOf(ns);
      if (stringMap(get(p, "metadata", "labels"))[PART_OF_LABEL] !== PLATFORM) continue;
      const name = str(get(p, "metadata", "name")) ?? ns.name;
      const found = policies.some((np) => str(get(propsOf(np), "metadata", "namespace")) === name && isDefaultDeny(propsOf(np), requireEgressDeny));
      if (!found)
        report(
          `Namespace ${name} has no default-deny NetworkPolicy (podSelector: {}, policyTypes: [Ingress${requireEgressDeny ? ", Egress" : ""}], no rules); add one, then allow the traffic its pods need.`,
          ns.urn,
        );
    }
  },
};

// ---------------------------------------------------------------------------------------------
// iam-no-wildcard-admin

const POLICY_DOCUMENT_TYPES: Readonly<Record<string, string>> = {
  "aws:iam/policy:Policy": "policy",
  "aws:iam/rolePolicy:RolePolicy": "policy",
  "aws:iam/userPolicy:UserPolicy": "policy",
  "aws:iam/groupPolicy:GroupPolicy": "policy",
};
const ATTACHMENT_TYPES = [
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:iam/userPolicyAttachment:UserPolicyAttachment",
  "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
  "aws:iam/policyAttachment:PolicyAttachment",
];
const ADMIN_POLICY = /:policy\/AdministratorAccess$/;

function isStar(v: unknown): boolean {
  return strings(v).includes("*");
}

/** Statements that allow every action on every resource. */
export function adminStatements(doc: unknown): number[] {
  return iamStatements(doc)
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => s.Effect === "Allow" && isStar(s.Action) && isStar(s.Resource))
    .map(({ i }) => i);
}

export const iamNoWildcardAdmin: ResourceValidationPolicy = {
  name: "iam-no-wildcard-admin",
  description: "No IAM statement allows every action (\"*\") on every resource (\"*\"), inline or as an attached AdministratorAccess.",
  enforcementLevel: "mandatory",
  severity: "critical",
  tags: ["security"],
  validateResource: forTypes([...Object.keys(POLICY_DOCUMENT_TYPES), ...ATTACHMENT_TYPES, "aws:iam/role:Role"], (r, report) => {
    const label = `${kindOf(r.type)} ${r.name}`;
    const docProp = POLICY_DOCUMENT_TYPES[r.type];
    if (docProp) {
      for (const i of adminStatements(r.props[docProp])) report(`${label}: Statement[${i}] allows Action "*" on Resource "*"; grant the actions and resources it needs.`);
      return;
    }
    if (ATTACHMENT_TYPES.includes(r.type)) {
      const arn = str(r.props.policyArn) ?? "";
      if (ADMIN_POLICY.test(arn)) report(`${label} attaches ${arn} (every action on every resource); attach a scoped policy.`);
      return;
    }
    for (const [i, p] of arr(r.props.inlinePolicies).entries())
      for (const s of adminStatements(get(p, "policy"))) report(`${label}: inlinePolicies[${i}] Statement[${s}] allows Action "*" on Resource "*".`);
    for (const arn of strings(r.props.managedPolicyArns)) if (ADMIN_POLICY.test(arn)) report(`${label}: managedPolicyArns includes ${arn}; attach a scoped policy.`);
  }),
};

export const securityPolicies = [
  noPrivilegedContainers,
  noHostNamespaces,
  noHostPath,
  imagesPinned,
  resourcesSet,
  secretsByReference,
  s3EncryptedPrivate,
  imdsv2Required,
  eksPrivateEndpoint,
  defaultDenyNetworkPolicy,
  iamNoWildcardAdmin,
] as const;
