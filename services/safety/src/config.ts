import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_LIST_IDS } from './defaults.js';
import { isAllowedEndpoint } from './endpoint.js';
import { VALIDATOR_NAMES } from './layers/validators.js';

/**
 * Configuration schema. Every key has a default except `azure.endpoint`, which is
 * required while `azure.enabled` is true (it may also come from the env var
 * AZURE_CONTENT_SAFETY_ENDPOINT). The Azure key is never read from the file: it
 * comes only from the env var AZURE_CONTENT_SAFETY_KEY.
 *
 * All objects are strict: an unknown (e.g. misspelt) key is an error, naming the key.
 * Every key is documented in docs/safety.md ("Configuration reference").
 */

const direction = z.enum(['input', 'output']);
const appliesTo = (def: Array<'input' | 'output'>) => z.array(direction).min(1).default(def);
const nonSafeLevel = z.enum(['warning', 'blocked']);
const regexFlags = z
  .string()
  .regex(/^[imsu]*$/, 'only the flags i, m, s and u are allowed (g and y make a regex stateful)')
  .default('i');

const severityThreshold = (def: number) =>
  z.int().min(0).max(8).default(def); // 8 = never block on this category; 0 = block every text

const keywordGroup = z.strictObject({
  category: z.string().min(1).max(64),
  level: nonSafeLevel.default('blocked'),
  terms: z.array(z.string().trim().min(1).max(256)).min(1),
});

const regexPattern = z.strictObject({
  name: z.string().min(1).max(64),
  pattern: z.string().min(1).max(2000),
  flags: regexFlags,
  category: z.string().min(1).max(64),
  level: nonSafeLevel.default('blocked'),
  /** A checksum a match must pass to count (card_luhn, us_ssn, iban_mod97). */
  validator: z.enum(VALIDATOR_NAMES).optional(),
});

export const DEFAULT_HALLUCINATION_MARKERS = [
  'I cannot find this information',
  'Based on my training data',
  "I don't have access to",
  'I cannot browse the internet',
];

export const configSchema = z
  .strictObject({
    server: z
      .strictObject({
        host: z.string().min(1).default('0.0.0.0'),
        port: z.int().min(0).max(65535).default(8080),
        bodyLimitBytes: z.int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
        maxTextChars: z.int().min(1).max(10_000_000).default(100_000),
        /** The whole request (headers and body) must arrive within this time, or the connection is answered 408 and closed. */
        requestTimeoutMs: z.int().min(100).max(600_000).default(10_000),
        /** Idle keep-alive connections from clients are closed after this time. */
        keepAliveTimeoutMs: z.int().min(100).max(600_000).default(65_000),
        shutdownTimeoutMs: z.int().min(0).max(600_000).default(10_000),
        shutdownDelayMs: z.int().min(0).max(600_000).default(0),
      })
      .prefault({}),
    logging: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        logRequestText: z.boolean().default(false),
      })
      .prefault({}),
    failureMode: z.enum(['closed', 'open-with-warning']).default('closed'),
    azure: z
      .strictObject({
        enabled: z.boolean().default(true),
        endpoint: z
          .url({ protocol: /^https?$/, error: 'must be an https:// URL, e.g. https://<resource>.cognitiveservices.azure.com' })
          .refine(isAllowedEndpoint, {
            error: 'must be an https:// URL (http:// is accepted only for a loopback host such as 127.0.0.1, for tests)',
          })
          .optional(),
        apiVersion: z.string().min(1).default('2024-09-01'),
        outputType: z.enum(['FourSeverityLevels', 'EightSeverityLevels']).default('FourSeverityLevels'),
        appliesTo: appliesTo(['input', 'output']),
        thresholds: z
          .strictObject({
            Hate: severityThreshold(4),
            Sexual: severityThreshold(4),
            Violence: severityThreshold(4),
            SelfHarm: severityThreshold(2),
          })
          .prefault({}),
        warnAtOrAbove: z.int().min(1).max(8).default(2),
        blocklistNames: z.array(z.string().regex(/^[0-9A-Za-z._~-]{1,64}$/)).default([]),
        haltOnBlocklistHit: z.boolean().default(false),
        maxCharsPerCall: z.int().min(100).max(10_000).default(10_000),
        timeoutMs: z.int().min(1).max(60_000).default(1_500),
        /**
         * A timed-out attempt whose timer fired this late (ms) was starved by this process's own
         * event loop: it is shed (503) and does not count toward the breaker. Default: half of timeoutMs.
         */
        starvationLagMs: z.int().min(1).max(600_000).optional(),
        /** Larger Azure response bodies are not read (fail closed). */
        maxResponseBytes: z.int().min(1024).max(16 * 1024 * 1024).default(64 * 1024),
        admission: z
          .strictObject({
            /** Keep-alive connections to the Azure endpoint (one undici Pool). */
            maxConnections: z.int().min(1).max(4096).default(256),
            /** Azure calls in flight at once; more wait in the queue. */
            maxInFlight: z.int().min(1).max(100_000).default(256),
            /** Calls that may wait for a slot; beyond it a call is shed (503 + Retry-After). */
            maxQueue: z.int().min(0).max(1_000_000).default(512),
            /** How long a call may wait for a slot before it is shed. */
            queueTimeoutMs: z.int().min(1).max(60_000).default(250),
            /** Retry-After (seconds) on a shed request. */
            retryAfterSeconds: z.int().min(0).max(3600).default(1),
            /** Chunks of one long text analysed concurrently. */
            chunkConcurrency: z.int().min(1).max(64).default(4),
          })
          .prefault({}),
        retry: z
          .strictObject({
            maxRetries: z.int().min(0).max(5).default(2),
            baseDelayMs: z.int().min(0).max(10_000).default(100),
            maxDelayMs: z.int().min(0).max(30_000).default(1_000),
          })
          .prefault({}),
        circuitBreaker: z
          .strictObject({
            failureThreshold: z.int().min(1).max(1000).default(5),
            cooldownMs: z.int().min(1).max(3_600_000).default(30_000),
          })
          .prefault({}),
      })
      .prefault({}),
    layers: z
      .strictObject({
        /** The shipped, versioned default lists (src/data/default-lists.ts). */
        defaults: z
          .strictObject({
            enabled: z.boolean().default(true),
            disable: z
              .array(z.string())
              .default([])
              .superRefine((ids, ctx) => {
                ids.forEach((id, i) => {
                  if (!DEFAULT_LIST_IDS.includes(id))
                    ctx.addIssue({ code: 'custom', path: [i], message: `unknown default list ${JSON.stringify(id)} (known: ${DEFAULT_LIST_IDS.join(', ')})` });
                });
              }),
          })
          .prefault({}),
        /** Text normalization before the keyword and injection layers match (see src/normalize.ts). */
        normalization: z
          .strictObject({
            enabled: z.boolean().default(true),
            /** Encoded runs decoded for a second pass. */
            decode: z.array(z.enum(['base64', 'percent', 'hex'])).default(['base64', 'percent', 'hex']),
            maxDecodeDepth: z.int().min(1).max(4).default(2),
            /** The last word of a term also matches its plural. */
            plurals: z.boolean().default(true),
            /** Terms whose shortest form is at least this long (normalized, spaces removed) also match inside long glued words; 0 = off. */
            squeezeMinChars: z.int().min(0).max(256).default(6),
            /** A word of the normalized text at least this long counts as glued text ("howtobuildapipebomb"). */
            longWordChars: z.int().min(4).max(1024).default(16),
          })
          .prefault({}),
        keywordBlocklist: z
          .strictObject({
            enabled: z.boolean().default(true),
            appliesTo: appliesTo(['input']),
            wholeWord: z.boolean().default(true),
            groups: z.array(keywordGroup).default([]),
          })
          .prefault({}),
        regexBlocklist: z
          .strictObject({
            enabled: z.boolean().default(true),
            appliesTo: appliesTo(['input']),
            patterns: z.array(regexPattern).default([]),
          })
          .prefault({}),
        heuristics: z
          .strictObject({
            enabled: z.boolean().default(true),
            appliesTo: appliesTo(['input', 'output']),
            repetition: z
              .strictObject({
                minWords: z.int().min(2).default(10),
                minUniqueRatio: z.number().min(0).max(1).default(0.3),
                level: nonSafeLevel.default('warning'),
              })
              .prefault({}),
            length: z
              .strictObject({
                maxChars: z.int().min(1).default(10_000),
                level: nonSafeLevel.default('warning'),
              })
              .prefault({}),
          })
          .prefault({}),
        promptInjection: z
          .strictObject({
            enabled: z.boolean().default(true),
            appliesTo: appliesTo(['input', 'output']),
            level: nonSafeLevel.default('blocked'),
            /** Extra phrases, in addition to the default list prompt_injection. */
            patterns: z.array(z.string().trim().min(1).max(256)).default([]),
          })
          .prefault({}),
        hallucination: z
          .strictObject({
            enabled: z.boolean().default(true),
            appliesTo: appliesTo(['output']),
            level: nonSafeLevel.default('warning'),
            markers: z.array(z.string().trim().min(1).max(256)).default(DEFAULT_HALLUCINATION_MARKERS),
          })
          .prefault({}),
      })
      .prefault({}),
    litellmGuardrail: z
      .strictObject({
        enabled: z.boolean().default(true),
        images: z.enum(['ignore', 'block']).default('ignore'),
      })
      .prefault({}),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.azure.enabled && cfg.azure.endpoint === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['azure', 'endpoint'],
        message:
          'is required while azure.enabled is true (set it in the file or in env AZURE_CONTENT_SAFETY_ENDPOINT, or set azure.enabled: false explicitly)',
      });
    }
    if (cfg.azure.admission.maxInFlight > cfg.azure.admission.maxConnections) {
      ctx.addIssue({
        code: 'custom',
        path: ['azure', 'admission', 'maxInFlight'],
        message: 'must be <= azure.admission.maxConnections (otherwise calls would wait for a connection inside the attempt timeout)',
      });
    }
    if (cfg.azure.retry.maxDelayMs < cfg.azure.retry.baseDelayMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['azure', 'retry', 'maxDelayMs'],
        message: 'must be >= azure.retry.baseDelayMs',
      });
    }
    cfg.layers.regexBlocklist.patterns.forEach((p, i) => {
      try {
        new RegExp(p.pattern, p.flags);
      } catch (e) {
        ctx.addIssue({
          code: 'custom',
          path: ['layers', 'regexBlocklist', 'patterns', i, 'pattern'],
          message: `is not a valid regular expression: ${(e as Error).message}`,
        });
      }
    });
  });

/** The parsed file config (without secrets). */
export type FileConfig = z.output<typeof configSchema>;

/** The effective config: file config plus values that come only from the environment. */
export interface Config extends FileConfig {
  readonly azureKey: string | undefined;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
  ) {
    super(issues.length > 0 ? `${message}:\n  - ${issues.join('\n  - ')}` : message);
  }
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const base = issue.path.length > 0 ? `${formatPath(issue.path)}.` : '';
      const hint = issue.keys.some((k) => /key|secret|password|token/i.test(k))
        ? ' (secrets are not read from the file: the Azure key comes only from env AZURE_CONTENT_SAFETY_KEY)'
        : '';
      return `unknown key(s): ${issue.keys.map((k) => `"${base}${k}"`).join(', ')}${hint}`;
    }
    return `"${formatPath(issue.path)}": ${issue.message}`;
  });
}

export interface Env {
  readonly [name: string]: string | undefined;
}

/**
 * Validate a raw (already parsed) config object and merge environment values:
 * - PORT overrides server.port
 * - AZURE_CONTENT_SAFETY_ENDPOINT overrides azure.endpoint
 * - AZURE_CONTENT_SAFETY_KEY is the Azure key (required while azure.enabled is true)
 */
export function resolveConfig(raw: unknown, env: Env, source = 'config'): Config {
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${source}: the top level must be an object (mapping)`);
  }
  const obj: Record<string, unknown> = { ...(raw as Record<string, unknown>) };

  const envEndpoint = env['AZURE_CONTENT_SAFETY_ENDPOINT'];
  if (envEndpoint !== undefined && envEndpoint !== '') {
    const azure = obj['azure'];
    if (azure !== undefined && (typeof azure !== 'object' || azure === null || Array.isArray(azure))) {
      throw new ConfigError(`${source} is invalid`, ['"azure": must be an object']);
    }
    obj['azure'] = { ...((azure as Record<string, unknown> | undefined) ?? {}), endpoint: envEndpoint };
  }

  const portEnv = env['PORT'];
  if (portEnv !== undefined && portEnv !== '') {
    const port = Number(portEnv);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ConfigError(`env PORT is invalid`, [`PORT="${portEnv}" must be an integer 0..65535`]);
    }
    const server = obj['server'];
    if (server !== undefined && (typeof server !== 'object' || server === null || Array.isArray(server))) {
      throw new ConfigError(`${source} is invalid`, ['"server": must be an object']);
    }
    obj['server'] = { ...((server as Record<string, unknown> | undefined) ?? {}), port };
  }

  const parsed = configSchema.safeParse(obj);
  if (!parsed.success) {
    throw new ConfigError(`${source} is invalid`, formatIssues(parsed.error));
  }

  const key = env['AZURE_CONTENT_SAFETY_KEY'];
  const azureKey = key !== undefined && key.trim() !== '' ? key.trim() : undefined;
  if (parsed.data.azure.enabled && azureKey === undefined) {
    throw new ConfigError(`${source} is invalid`, [
      'env AZURE_CONTENT_SAFETY_KEY is not set, but azure.enabled is true (the key is only read from this env var; set azure.enabled: false to run without Azure)',
    ]);
  }
  return { ...parsed.data, azureKey };
}

/** Read the file at `path` (JSON if it ends in .json, YAML otherwise) and resolve it. */
export function loadConfigFile(path: string, env: Env): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid ${extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
  return resolveConfig(raw, env, `config file ${path}`);
}

/** Load the config from the file named by env SAFETY_CONFIG_PATH. */
export function loadConfigFromEnv(env: Env): Config {
  const path = env['SAFETY_CONFIG_PATH'];
  if (path === undefined || path === '') {
    throw new ConfigError('env SAFETY_CONFIG_PATH is not set (it must name the JSON or YAML config file)');
  }
  return loadConfigFile(path, env);
}
