/**
 * The whole config: one zod schema made of one schema per area (each in its own module here),
 * and the typed, read-only shape every component receives.
 */
import { z } from "zod";
import { LLM_MODEL_KEYS, type LlmModelKey } from "../catalog/models";
import { autoscalingSchema } from "./autoscaling";
import { budgetSchema } from "./budget";
import { clusterSchema } from "./cluster";
import { economicsSchema } from "./economics";
import { edgeSchema } from "./edge";
import { gpuPoolSchema, karpenterSchema, type nodePoolSchema } from "./gpu";
import { loadTestSchema } from "./load-test";
import { embeddingsSchema, modelSchema, type encoderSchema } from "./models";
import { networkSchema } from "./network";
import { networkSecuritySchema } from "./network-security";
import { observabilitySchema } from "./observability";
import { ENVIRONMENTS } from "./primitives";
import { protectionSchema } from "./protection";
import { ragSchema } from "./rag";
import { safetySchema } from "./safety";
import { sloSchema } from "./slo";
import { tagsSchema } from "./tags";
import { vaultSchema } from "./vault";
import { vectorDbSchema } from "./vector-db";
import { warmStartSchema } from "./warm-start";

export const AREAS = {
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'expected an AWS region such as "us-east-1"' }),
  environment: z.enum(ENVIRONMENTS),
  tags: tagsSchema,
  network: networkSchema,
  cluster: clusterSchema,
  gpuPools: z
    .record(z.string().regex(/^[a-z][a-z0-9-]{0,20}$/, { error: "pool names are lower-case letters, digits and hyphens" }), gpuPoolSchema)
    .default({}),
  karpenter: karpenterSchema,
  models: z.partialRecord(z.enum(LLM_MODEL_KEYS as [LlmModelKey, ...LlmModelKey[]]), modelSchema).refine((m) => Object.keys(m).length > 0, {
    error: "configure at least one model",
  }),
  embeddings: embeddingsSchema,
  vectorDb: vectorDbSchema,
  safety: safetySchema,
  rag: ragSchema,
  observability: observabilitySchema,
  vault: vaultSchema,
  budget: budgetSchema,
  protection: protectionSchema,
  networkSecurity: networkSecuritySchema,
  autoscaling: autoscalingSchema,
  edge: edgeSchema,
  slo: sloSchema,
  loadTest: loadTestSchema,
  economics: economicsSchema,
  warmStart: warmStartSchema,
} as const;

export const PlatformConfigSchema = z.strictObject(AREAS);

export type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export type ParsedConfig = z.output<typeof PlatformConfigSchema>;
export type ModelConfig = DeepReadonly<z.output<typeof modelSchema>>;
export type GpuPoolConfig = DeepReadonly<z.output<typeof gpuPoolSchema>>;
export type NodePoolConfig = DeepReadonly<z.output<ReturnType<typeof nodePoolSchema>>>;
export type EncoderConfig = DeepReadonly<z.output<ReturnType<typeof encoderSchema>>>;

/** The validated, read-only config every component receives (or a slice of it). */
export type PlatformConfig = DeepReadonly<
  Omit<ParsedConfig, "cluster"> & {
    /** Pulumi stack name. */
    stack: string;
    cluster: ParsedConfig["cluster"] & { name: string };
  }
>;
