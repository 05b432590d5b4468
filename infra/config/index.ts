/**
 * The platform's configuration: one zod schema for every area, parsed once per run. One module
 * per area (infra/config/<area>.ts), the cross-area rules in cross-checks.ts, error formatting in
 * errors.ts, parsing in load.ts; this module is the only entry point the rest of the code imports.
 *
 * Flow: stack config (stacks/Pulumi.<stack>.yaml) -> loadConfig() -> parsePlatformConfig()
 * -> PlatformConfig (typed, read-only). Components receive slices of PlatformConfig and never
 * read Pulumi config themselves.
 *
 * Invalid config raises one ConfigError listing every problem with its key path, before any
 * resource is registered. Unknown keys are rejected, so typos fail.
 */
export { ENVIRONMENTS, PROJECT, type Environment } from "./primitives";
export {
  AREAS,
  PlatformConfigSchema,
  type EncoderConfig,
  type GpuPoolConfig,
  type ModelConfig,
  type NodePoolConfig,
  type PlatformConfig,
} from "./schema";
export { ConfigError, type ConfigIssue } from "./errors";
export { coerceScalars, configFromRuntime, configKeyPaths, loadConfig, parsePlatformConfig } from "./load";
