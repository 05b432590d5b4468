/**
 * Cross-area checks: rules that span keys of more than one area, or environments. Each adds a
 * problem at the key an operator must change. They run over every area that parsed, so one
 * broken area does not hide problems elsewhere.
 */
import { configCapacityProblems, type CapacityConfig } from "../capacity";
import { gpuMemoryGiB, instanceType } from "../catalog/instances";
import { llmMemoryNeedGiB, MODELS, type LlmModelKey } from "../catalog/models";
import { regionEntry, REGIONS } from "../catalog/regions";
import { EKS_SUPPORT_CALENDAR, EKS_SUPPORT_CALENDAR_AS_OF, eksSupportPhase } from "../catalog/versions";
import { budgetCrossChecks } from "./budget";
import { ENVIRONMENTS } from "./primitives";
import { loadTestProblems } from "./load-test";
import type { modelSchema } from "./models";
import { warmStartProblems } from "./warm-start";
import type { ParsedConfig } from "./schema";
import type { z } from "zod";

export type DeepPartial<T> = T extends readonly (infer E)[]
  ? readonly E[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export function crossChecks(c: DeepPartial<ParsedConfig>, add: (path: (string | number)[], message: string) => void): void {
  const env = c.environment;

  const azs = c.network?.availabilityZones;
  if (c.region && azs) {
    azs.forEach((az, i) => {
      if (!az.startsWith(c.region!)) add(["network", "availabilityZones", i], `${az} is not in region ${c.region} (aws:region)`);
    });
  }

  if (azs && env === "prod" && azs.length < 3) add(["network", "availabilityZones"], `prod needs 3 availability zones for HA, got ${azs.length}`);

  warmStartProblems(c, add);

  if (env === "prod" && c.karpenter?.amiAlias?.endsWith("@latest"))
    add(["karpenter", "amiAlias"], 'must be pinned in prod (al2023@v<YYYYMMDD>); "@latest" replaces every node whenever AWS publishes an AMI');

  // Pools whose entry failed to parse still have a key; their own errors are reported already.
  const poolNames = c.gpuPools ? Object.keys(c.gpuPools) : undefined;
  const rawPoolNames = new Set(poolNames);
  if (c.models && c.gpuPools) {
    for (const [key, m] of Object.entries(c.models) as [LlmModelKey, DeepPartial<z.output<typeof modelSchema>>][]) {
      const path = ["models", key];
      if (!m.pool) continue;
      const pool = c.gpuPools[m.pool];
      if (!pool) {
        if (!rawPoolNames.has(m.pool)) add([...path, "pool"], `no gpuPools entry named "${m.pool}"; known pools: ${poolNames?.join(", ") || "(none)"}`);
        continue;
      }
      const model = MODELS[key];
      if (m.maxModelLen === undefined || m.tensorParallelSize === undefined || m.gpuMemoryUtilization === undefined) continue;
      if (m.maxModelLen > model.maxContextTokens)
        add([...path, "maxModelLen"], `must be <= the model's context (${model.maxContextTokens}), got ${m.maxModelLen}`);
      const need = llmMemoryNeedGiB(model, m.maxModelLen);
      for (const name of pool.instanceTypes ?? []) {
        const t = instanceType(name);
        if (!t?.gpu) continue; // reported by the pool's own checks
        if (m.tensorParallelSize > t.gpu.count)
          add([...path, "tensorParallelSize"], `must be <= the GPUs per instance of pool "${m.pool}" (${name} has ${t.gpu.count}), got ${m.tensorParallelSize}`);
        const have = gpuMemoryGiB(t) * m.gpuMemoryUtilization * m.tensorParallelSize;
        if (need > have)
          add(
            [...path, "pool"],
            `${key} needs ${need.toFixed(1)} GiB of GPU memory (weights ${model.weightsGiB.toFixed(1)} + runtime ${model.runtimeOverheadGiB} + KV for ${m.maxModelLen} tokens) ` +
              `but pool "${m.pool}" (${name}: ${gpuMemoryGiB(t).toFixed(1)} GiB per GPU x TP ${m.tensorParallelSize} x utilization ${m.gpuMemoryUtilization}) gives ${have.toFixed(1)} GiB; ` +
              `raise tensorParallelSize, lower maxModelLen or place it on a larger GPU`,
          );
      }
      if (env === "prod" && m.replicas?.min !== undefined && m.replicas.min < 2)
        add([...path, "replicas", "min"], `prod keeps at least 2 replicas of every model, got ${m.replicas.min}`);
    }
  }

  if (c.embeddings && c.gpuPools) {
    for (const role of ["embed", "rerank"] as const) {
      const e = c.embeddings[role];
      if (e?.enabled !== false && e?.placement && e.placement !== "cpu" && !rawPoolNames.has(e.placement))
        add(["embeddings", role, "placement"], `expected "cpu" or a gpuPools key (${poolNames?.join(", ") || "none configured"}), got "${e.placement}"`);
    }
  }

  // GPU capacity (infra/capacity.ts): replicas.min fits the node groups at minNodes, replicas.max
  // is reachable through Karpenter, every placed GPU is offered by a Karpenter NodePool.
  const capacity = capacityInput(c);
  if (capacity) for (const p of configCapacityProblems(capacity)) add(p.path.split("."), p.message);

  // The system group on spot is a dev-only saving (docs/runbooks.md "Dev idle cost").
  if (env && env !== "dev" && c.cluster?.systemNodes?.capacityType === "SPOT")
    add(
      ["cluster", "systemNodes", "capacityType"],
      `${env} keeps its system nodes ON_DEMAND: one spot reclaim can take every system node at once, and Karpenter (which launches every other node), CoreDNS and the operators run there; SPOT is for dev only — set ON_DEMAND`,
    );

  if (c.vectorDb?.mode && env && env !== "dev" && c.vectorDb.mode !== "cluster")
    add(["vectorDb", "mode"], `${env} runs Milvus in cluster mode for HA, got "${c.vectorDb.mode}"`);

  loadTestProblems(c, add);
  budgetCrossChecks(env, c.budget, add);

  if (c.rag?.enabled) {
    const key = c.rag.answerModel;
    const model = key && c.models ? (c.models as Record<string, DeepPartial<z.output<typeof modelSchema>> | undefined>)[key] : undefined;
    if (key && c.models && !model)
      add(["rag", "answerModel"], `"${key}" is not a configured model (models: ${Object.keys(c.models).join(", ") || "none"}); set rag.answerModel to one of them, or add models.${key}`);
    if (model?.maxModelLen !== undefined && c.rag.contextTokens !== undefined && c.rag.contextTokens > model.maxModelLen)
      add(["rag", "contextTokens"], `must be <= models.${key}.maxModelLen (${model.maxModelLen}), the answer model's context, got ${c.rag.contextTokens}`);
    if (c.embeddings?.embed && c.embeddings.embed.enabled === false) add(["rag", "enabled"], "the RAG service embeds through TEI: set embeddings.embed.enabled to true, or rag.enabled to false");
    if (c.rag.rerank?.enabled && c.embeddings?.rerank && c.embeddings.rerank.enabled === false)
      add(["rag", "rerank", "enabled"], "the reranker is off (embeddings.rerank.enabled: false): set rag.rerank.enabled to false, or turn the reranker on");
    if (c.edge && c.edge.enabled === false) add(["rag", "enabled"], "the RAG service answers through the gateway and is reached through its /rag route: set edge.enabled to true, or rag.enabled to false");
    const catalog = c.embeddings?.embed?.model ? (MODELS as Record<string, (typeof MODELS)[keyof typeof MODELS]>)[c.embeddings.embed.model] : undefined;
    const embed = catalog && catalog.kind !== "llm" ? catalog : undefined;
    if (embed && c.rag.chunking?.maxTokens !== undefined && c.rag.chunking.maxTokens > embed.maxInputTokens)
      add(["rag", "chunking", "maxTokens"], `must be <= the embedding model's input limit (${embed.key}: ${embed.maxInputTokens} tokens), got ${c.rag.chunking.maxTokens}`);
  }

  if (c.protection && env && env !== "dev" && c.protection.retainOnDelete === false && c.protection.protect === false)
    add(["protection"], `${env} must set retainOnDelete or protect so that stateful resources survive a destroy or refactor`);

  productionChecks(c, add);
  networkChecks(c, add);
  vaultChecks(c, add);
  placementChecks(c, add);
  endpointChecks(c, add);
}

type Add = (path: (string | number)[], message: string) => void;

/** A Hugging Face commit id: what a revision must be where weights must not change under a running stack. */
export const COMMIT_ID = /^[0-9a-f]{40}$/;

/**
 * Issue 12 section 1: what no production platform runs (and staging, where it says so). Each
 * rule names the key to change; docs/policies.md ("Config rules") says why each exists.
 */
function productionChecks(c: DeepPartial<ParsedConfig>, add: Add): void {
  const env = c.environment;
  const prod = env === "prod";

  if (prod && c.network?.natGateways && c.network.natGateways !== "perAz")
    add(["network", "natGateways"], 'prod needs one NAT gateway per AZ ("perAz"): with "single", losing its AZ cuts every private subnet off the internet (weights sync, Azure safety, image pulls)');

  const e = c.edge;
  if (e?.enabled) {
    const lb = e.loadBalancer;
    if (prod && lb?.scheme === "internet-facing" && lb.waf?.enabled === false)
      add(["edge", "loadBalancer", "waf", "enabled"], "must be true in prod for an internet-facing load balancer (rate limiting and AWS managed rules in front of the gateway)");
    // ACM certificates are regional: an ALB can only use a certificate from its own region.
    const certRegion = lb?.certificateArn?.split(":")[3];
    if (certRegion && c.region && certRegion !== c.region)
      add(["edge", "loadBalancer", "certificateArn"], `the certificate is in ${certRegion} but the stack is in ${c.region} (aws:region); an ALB only uses ACM certificates from its own region: request or import it in ${c.region}`);
    if (prod && e.database) {
      if (e.database.deletionProtection === false) add(["edge", "database", "deletionProtection"], "must be true in prod: the gateway's keys, budgets and spend live in this database");
      if (e.database.multiAz === false) add(["edge", "database", "multiAz"], "must be true in prod: a single-AZ database takes the gateway down with its AZ");
      if (e.database.backupRetentionDays !== undefined && e.database.backupRetentionDays < 7)
        add(["edge", "database", "backupRetentionDays"], `must be >= 7 in prod (a week of point-in-time recovery), got ${e.database.backupRetentionDays}`);
    }
    if (prod && e.cache) {
      if (e.cache.replicasPerShard !== undefined && e.cache.replicasPerShard < 1)
        add(["edge", "cache", "replicasPerShard"], `must be >= 1 in prod (a replica to fail over to), got ${e.cache.replicasPerShard}`);
      if (e.cache.automaticFailover === false) add(["edge", "cache", "automaticFailover"], "must be true in prod: without it a primary failure leaves the gateway without its cache and rate limits until someone promotes a replica");
    }
  }

  if (env && env !== "dev" && c.cluster?.storageReclaimPolicy && c.cluster.storageReclaimPolicy !== "Retain")
    add(["cluster", "storageReclaimPolicy"], `must be "Retain" in ${env}: dynamically provisioned volumes (Milvus, etcd, Prometheus) are not covered by Pulumi's protect, and "Delete" drops their data with the PVC`);

  if (env && env !== "dev" && c.vectorDb?.etcdReplicas !== undefined && c.vectorDb.etcdReplicas !== 3)
    add(["vectorDb", "etcdReplicas"], `${env} runs 3 etcd replicas (a quorum that survives one loss) for Milvus in cluster mode, got ${c.vectorDb.etcdReplicas}`);

  if (prod && c.safety) {
    if (c.safety.enabled === false)
      add(["safety", "enabled"], "must be true in prod: without the safety service the gateway serves every prompt and answer unchecked");
    if (c.safety.failureMode && c.safety.failureMode !== "closed")
      add(["safety", "failureMode"], `must be "closed" in prod (block when Azure AI Content Safety is unreachable), got "${c.safety.failureMode}"`);
  }

  if (prod && c.observability?.alertmanager?.receiver?.type === "none")
    add(["observability", "alertmanager", "receiver", "type"], 'prod needs a real receiver ("pagerduty" or "slack"): with "none" every alert fires into nothing');

  // GPUs: every pool that hosts a model runs on-demand, or an on-demand NodePool offers its GPU.
  if (prod && c.gpuPools && c.models) {
    const od = c.karpenter?.gpuOnDemand;
    const odGpus = new Set(od?.enabled === false ? [] : (od?.instanceTypes ?? []).map((n) => instanceType(n)?.gpu?.model).filter(Boolean));
    const hosting = new Set<string>();
    for (const m of Object.values(c.models)) if (m?.pool) hosting.add(m.pool);
    for (const r of ["embed", "rerank"] as const) {
      const x = c.embeddings?.[r];
      if (x?.enabled !== false && x?.placement && x.placement !== "cpu") hosting.add(x.placement);
    }
    for (const name of hosting) {
      const pool = c.gpuPools[name];
      if (!pool || pool.capacityType !== "SPOT") continue;
      const gpus = [...new Set((pool.instanceTypes ?? []).map((n) => instanceType(n)?.gpu?.model).filter(Boolean))];
      if (gpus.length && gpus.every((g) => !odGpus.has(g)))
        add(
          ["gpuPools", name, "capacityType"],
          `pool "${name}" hosts a model on SPOT in prod and no enabled on-demand NodePool offers its GPU (${gpus.join(", ")}): set capacityType: ON_DEMAND, or add a ${gpus.join("/")} type to karpenter.gpuOnDemand.instanceTypes`,
        );
    }
  }

  // Weights: a branch moves under a running stack; prod pins the commit, so the S3 prefix the
  // model server reads (<repo>/<commit>/) is known when the stack plans.
  if (prod && c.models)
    for (const [key, m] of Object.entries(c.models)) {
      const rev = m?.weights?.revision;
      if (rev !== undefined && !COMMIT_ID.test(rev))
        add(["models", key, "weights", "revision"], `must be a 40-hex commit id in prod, got "${rev}" (a branch or tag moves: the servers would read weights nobody reviewed). Pin the commit from https://huggingface.co/${MODELS[key as LlmModelKey]?.hfRepo ?? "<repo>"}/commits/main`);
    }
  if (prod && c.embeddings)
    for (const r of ["embed", "rerank"] as const) {
      const x = c.embeddings[r];
      const model = x?.model ? (MODELS as Record<string, (typeof MODELS)[keyof typeof MODELS]>)[x.model] : undefined;
      if (x?.enabled !== false && model && model.kind !== "llm" && !COMMIT_ID.test(model.revision))
        add(["embeddings", r, "model"], `${model.key} is pinned to "${model.revision}" in infra/catalog/models.ts; prod needs a 40-hex commit id there (a branch moves under a running stack)`);
    }

  // Scale to zero: at zero replicas vLLM reports nothing; only the gateway's request counter
  // (the ScaledObject's gateway-demand trigger, components/model-server.ts) can wake the model.
  if (c.models && c.edge?.enabled === false)
    for (const [key, m] of Object.entries(c.models))
      if (m?.replicas?.min === 0)
        add(["models", key, "replicas", "min"], "0 needs a wake signal, and the only one is the gateway's demand trigger: set edge.enabled to true, or replicas.min to at least 1");
}

/** The IPv4 CIDR's network address and prefix, or undefined if it does not parse. */
function parseCidr(v: string): { base: number; prefix: number } | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(v);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  return { base: octets.reduce((a, o) => a * 256 + o, 0), prefix };
}

const blockSize = (prefix: number) => 2 ** (32 - prefix);

/** Every CIDR is its own network address (host bits zero), and the VPC does not overlap Vault's networks. */
function networkChecks(c: DeepPartial<ParsedConfig>, add: Add): void {
  const hostBits = (path: (string | number)[], v: string | undefined) => {
    const p = v ? parseCidr(v) : undefined;
    if (!p) return;
    const size = blockSize(p.prefix);
    const network = Math.floor(p.base / size) * size;
    if (network !== p.base) {
      const n = [24, 16, 8, 0].map((s) => Math.floor(network / 2 ** s) % 256).join(".");
      add(path, `${v} has host bits set; its network address is ${n}/${p.prefix} (AWS and NetworkPolicies either reject it or silently widen it): write ${n}/${p.prefix}`);
    }
  };
  hostBits(["network", "vpcCidr"], c.network?.vpcCidr);
  (c.cluster?.endpoint?.publicAccessCidrs ?? []).forEach((v, i) => hostBits(["cluster", "endpoint", "publicAccessCidrs", i], v));
  (c.vault?.cidrs ?? []).forEach((v, i) => hostBits(["vault", "cidrs", i], v));

  const vpc = c.network?.vpcCidr ? parseCidr(c.network.vpcCidr) : undefined;
  if (vpc)
    (c.vault?.cidrs ?? []).forEach((v, i) => {
      const x = parseCidr(v);
      if (!x) return;
      const a0 = Math.floor(vpc.base / blockSize(vpc.prefix)) * blockSize(vpc.prefix);
      const b0 = Math.floor(x.base / blockSize(x.prefix)) * blockSize(x.prefix);
      if (a0 < b0 + blockSize(x.prefix) && b0 < a0 + blockSize(vpc.prefix))
        add(["vault", "cidrs", i], `${v} overlaps the VPC (network.vpcCidr ${c.network!.vpcCidr}): Vault must live outside the VPC (the egress rule would open the cluster's own network, and routing to Vault breaks); fix the CIDR or pick another vpcCidr`);
    });
}

/** vault.pathPrefix belongs to this environment, and every Vault reference in the config reads under it. */
function vaultChecks(c: DeepPartial<ParsedConfig>, add: Add): void {
  const env = c.environment;
  const prefix = c.vault?.pathPrefix;
  if (!env || !prefix) return;
  const segments = prefix.split("/");
  const words = prefix.split(/[/_.-]/);
  if (!segments.includes(env))
    add(["vault", "pathPrefix"], `must contain the environment "${env}" as a path segment (e.g. "llm-platform/${env}"), got "${prefix}": two environments sharing a prefix read and overwrite each other's secrets`);
  for (const other of ENVIRONMENTS.filter((x) => x !== env))
    if (words.includes(other)) add(["vault", "pathPrefix"], `names another environment ("${other}") in "${prefix}"; the ${env} stack must not read or write ${other}'s secrets`);
  const refs: [(string | number)[], string | undefined][] = [
    [["vault", "operatorSecrets", "huggingfaceToken"], c.vault?.operatorSecrets?.huggingfaceToken],
    [["vault", "operatorSecrets", "azureContentSafetyKey"], c.vault?.operatorSecrets?.azureContentSafetyKey],
  ];
  const receiver = c.observability?.alertmanager?.receiver as { webhookUrlVaultRef?: string; routingKeyVaultRef?: string } | undefined;
  if (receiver?.webhookUrlVaultRef) refs.push([["observability", "alertmanager", "receiver", "webhookUrlVaultRef"], receiver.webhookUrlVaultRef]);
  if (receiver?.routingKeyVaultRef) refs.push([["observability", "alertmanager", "receiver", "routingKeyVaultRef"], receiver.routingKeyVaultRef]);
  const evalRef = c.rag?.evaluation?.apiKeyVaultRef;
  if (evalRef) refs.push([["rag", "evaluation", "apiKeyVaultRef"], evalRef]);
  for (const [path, ref] of refs)
    if (ref && !ref.startsWith(`${prefix}/`))
      add(path, `reads "${ref.split("#")[0]}", outside this environment's vault.pathPrefix "${prefix}"; keep every secret of the ${env} stack under ${prefix}/`);
}

/** The region is in the catalog (prices and offerings), each instance type is offered there, and the Kubernetes version is supported. */
function placementChecks(c: DeepPartial<ParsedConfig>, add: Add): void {
  if (c.region) {
    const r = regionEntry(c.region);
    if (!r || !r.prices)
      add(["region"], `${c.region} is not in infra/catalog/regions.ts with prices and instance offerings (known: ${[...REGIONS.values()].filter((x) => x.prices).map((x) => x.name).join(", ")}); the cost model and the budget policy cannot price it. Add the region with its prices and offerings, or deploy to a listed region`);
    else {
      const offered = (path: (string | number)[], name: string) => {
        if (instanceType(name) && !r.instanceTypes.has(name)) add(path, `${name} is not offered in ${c.region} (infra/catalog/regions.ts)`);
      };
      (c.cluster?.systemNodes?.instanceTypes ?? []).forEach((n, i) => offered(["cluster", "systemNodes", "instanceTypes", i], n));
      for (const [pool, p] of Object.entries(c.gpuPools ?? {})) (p?.instanceTypes ?? []).forEach((n, i) => offered(["gpuPools", pool, "instanceTypes", i], n));
      for (const k of ["gpuSpot", "gpuOnDemand", "cpu"] as const) (c.karpenter?.[k]?.instanceTypes ?? []).forEach((n, i) => offered(["karpenter", k, "instanceTypes", i], n));
    }
  }
  const v = c.cluster?.kubernetesVersion;
  if (v) {
    const phase = eksSupportPhase(v);
    const support = c.cluster?.supportType ?? "STANDARD";
    const listed = Object.keys(EKS_SUPPORT_CALENDAR).filter((x) => eksSupportPhase(x) === "standard");
    if (phase === undefined) add(["cluster", "kubernetesVersion"], `${v} is not in the EKS support calendar (infra/catalog/versions.ts); versions in standard support: ${listed.join(", ")}`);
    else if (phase === "ended") add(["cluster", "kubernetesVersion"], `${v} is past the end of extended support on EKS (calendar as of ${EKS_SUPPORT_CALENDAR_AS_OF}); use ${listed.join(" or ")}`);
    else if (phase === "extended" && support === "STANDARD")
      add(["cluster", "kubernetesVersion"], `${v} is past the end of standard support on EKS (${EKS_SUPPORT_CALENDAR[v]!.endOfStandardSupport}; calendar as of ${EKS_SUPPORT_CALENDAR_AS_OF}): with supportType STANDARD EKS upgrades the control plane under you; use ${listed.join(" or ")}, or set cluster.supportType: EXTENDED (six times the control-plane price)`);
  }
}

/** Endpoints where only an origin makes sense carry no credentials, query or fragment. */
function endpointChecks(c: DeepPartial<ParsedConfig>, add: Add): void {
  const check = (path: (string | number)[], v: string | undefined, originOnly: boolean) => {
    if (!v) return;
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      return; // the area's own schema reports it
    }
    const what = [u.username || u.password ? "userinfo (user:password@)" : "", u.search ? "a query string" : "", u.hash ? "a fragment" : "", originOnly && u.pathname !== "/" ? `a path (${u.pathname})` : ""].filter(Boolean);
    if (what.length)
      add(path, `must be ${originOnly ? "an origin (https://host[:port])" : "a URL"} with no ${what.join(", ")}: credentials and tokens in a URL end up in ConfigMaps, logs and plan output; put secrets in Vault and write ${u.protocol}//${u.host}${originOnly ? "" : u.pathname}`);
  };
  check(["safety", "azure", "endpoint"], c.safety?.azure?.endpoint, true);
  check(["vault", "address"], c.vault?.address, true);
  check(["observability", "runbookBaseUrl"], c.observability?.runbookBaseUrl, false);
}

/** The parts the capacity cross-check reads, when every one of them parsed and refers to known pools. */
function capacityInput(c: DeepPartial<ParsedConfig>): CapacityConfig | undefined {
  const { gpuPools, karpenter, models, embeddings } = c;
  if (!gpuPools || !karpenter?.gpuSpot?.limits || !karpenter.gpuOnDemand?.limits || !models || !embeddings?.embed || !embeddings.rerank) return undefined;
  const pools = Object.values(gpuPools);
  if (pools.some((p) => !p?.instanceTypes?.length || p.minNodes === undefined || p.instanceTypes.some((n) => !instanceType(n)?.gpu))) return undefined;
  if ([karpenter.gpuSpot, karpenter.gpuOnDemand].some((p) => !p.instanceTypes || p.instanceTypes.some((n) => !instanceType(n)?.gpu))) return undefined;
  const known = (pool: string | undefined) => pool !== undefined && gpuPools[pool] !== undefined;
  if (Object.values(models).some((m) => !m?.replicas || m.tensorParallelSize === undefined || !known(m.pool))) return undefined;
  if ([embeddings.embed, embeddings.rerank].some((e) => !e.replicas || (e.enabled !== false && e.placement !== "cpu" && !known(e.placement)))) return undefined;
  return c as unknown as CapacityConfig;
}
