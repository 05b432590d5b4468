/**
 * The vLLM compile cache as a versioned artifact (issue 16).
 *
 * vLLM keeps its torch.compile artifacts under `VLLM_CACHE_ROOT` (vllm/envs.py: default
 * `~/.cache/vllm`; the compile cache is `<root>/torch_compile_cache/`), PyTorch Inductor under
 * `TORCHINDUCTOR_CACHE_DIR` (torch/_inductor/runtime/cache_dir_utils.py) and Triton its kernels under
 * `TRITON_CACHE_DIR` (triton/runtime/cache.py). Without them every start compiles again (~20 s for
 * gpt-oss-20b on sm86, vllm issue #22331).
 *
 * Here the three live on a node-local emptyDir (the inference namespace is Pod Security
 * "baseline": no hostPath), seeded before vLLM starts by an init container from
 * `s3://<weights bucket>/compile-cache/<key>/`. The key is the sha256 of (vLLM image, model,
 * model revision, GPU architecture, TP, max-model-len) (infra/coldstart.ts `compileCacheKey`), so a
 * change to any pin points at a new prefix: an empty one until the producer Job fills it, which
 * costs the compile time and never a failure (`aws s3 sync` of an empty prefix copies nothing).
 *
 * The producer Job that fills a prefix is in components/compile-cache-job.ts.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { compileCacheKey } from "../infra/coldstart";
import { requireInstanceType } from "../infra/catalog/instances";
import { IMAGES, imageRef } from "../infra/catalog/versions";
import type { GpuPoolConfig, ModelConfig } from "../infra/config";
import { mapInput, s3FetchContainer } from "./weights";

export const COMPILE_CACHE_MOUNT = "/compile-cache";
export const COMPILE_CACHE_VOLUME = "compile-cache";
export const COMPILE_CACHE_COMPONENT = "compile-cache";
/** The emptyDir's limit: the caches are EST ~0.5 GiB; room for a few graph variants. */
export const COMPILE_CACHE_SIZE_LIMIT = "4Gi";
export const COMPILE_CACHE_PREFIX = "compile-cache";

/** The cache directories vLLM, Inductor and Triton read (names verified in their sources, above). */
export function compileCacheEnv(): { name: string; value: string }[] {
  return [
    { name: "VLLM_CACHE_ROOT", value: `${COMPILE_CACHE_MOUNT}/vllm` },
    { name: "TORCHINDUCTOR_CACHE_DIR", value: `${COMPILE_CACHE_MOUNT}/inductor` },
    { name: "TRITON_CACHE_DIR", value: `${COMPILE_CACHE_MOUNT}/triton` },
  ];
}

/** The cache key of a model server: its image, model, revision, GPU architecture, TP and max-model-len. */
export function compileCacheKeyFor(s: { readonly key: string; readonly cfg: ModelConfig; readonly pool: GpuPoolConfig }): string {
  return compileCacheKey({
    vllmImage: imageRef(IMAGES.vllm),
    model: s.key,
    modelRevision: s.cfg.weights.revision,
    // A pool holds one GPU model (config check), so its first type names the architecture.
    gpuArch: requireInstanceType(s.pool.instanceTypes[0]!).gpu!.computeCapability,
    tensorParallelSize: s.cfg.tensorParallelSize,
    maxModelLen: s.cfg.maxModelLen,
  });
}

export function compileCacheUri(bucket: pulumi.Input<string>, key: string): pulumi.Input<string> {
  return mapInput(bucket, (b) => `s3://${b}/${COMPILE_CACHE_PREFIX}/${key}/`);
}

/** The init container that seeds the node-local cache from S3 (an absent prefix seeds nothing). */
export function compileCacheSeedContainer(uri: pulumi.Input<string>, region: string): k8s.types.input.core.v1.Container {
  return s3FetchContainer({ name: "compile-cache", source: uri, target: COMPILE_CACHE_MOUNT, volume: COMPILE_CACHE_VOLUME, mountPath: COMPILE_CACHE_MOUNT, region });
}

export function compileCacheVolume(): k8s.types.input.core.v1.Volume {
  return { name: COMPILE_CACHE_VOLUME, emptyDir: { sizeLimit: COMPILE_CACHE_SIZE_LIMIT } };
}
