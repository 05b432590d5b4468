/**
 * Runs the real program for one stack on Pulumi's mock runtime and records every resource it
 * registers, with the options the engine would receive (protect, retainOnDelete, ignoreChanges)
 * and its inputs with secret values redacted. Used by the offline plan and by the tests.
 *
 * No CLI, no credentials, no network: the stack config is read from stacks/Pulumi.<stack>.yaml.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { isMap, LineCounter, parseDocument } from "yaml";
import { PROJECT, type PlatformConfig } from "../../infra/config";
import { createMocks, REMOTE_COMPONENT_TYPES } from "./mocks";

// Internal runtime modules: the monitor (to see full registration requests) and the RPC queue.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings") as {
  getMonitor(): { registerResource(req: RegisterRequest, cb: (err: unknown, resp: unknown) => void): void } | undefined;
  waitForRPCs(): Promise<void>;
};

interface Struct {
  toJavaScript(): Record<string, unknown>;
}
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getRemote(): boolean;
  getProtect(): boolean;
  getRetainondelete(): boolean;
  getDeletebeforereplace(): boolean;
  getIgnorechangesList(): string[];
  getDependenciesList(): string[];
  getProvider(): string;
  getAliasesList?(): unknown[];
  getObject(): Struct | undefined;
}

export interface RecordedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent?: string;
  readonly custom: boolean;
  /** A component implemented by another package (eks.Cluster...): its children are not visible offline. */
  readonly remote: boolean;
  readonly provider?: string;
  /** Inputs as registered, secrets replaced by "[secret]", resource references by {"$ref": urn}. */
  readonly inputs: Record<string, unknown>;
  readonly secretPaths: readonly string[];
  readonly options: {
    readonly protect: boolean;
    readonly retainOnDelete: boolean;
    readonly deleteBeforeReplace: boolean;
    readonly ignoreChanges: readonly string[];
    readonly dependsOn: readonly string[];
  };
}

export interface RunResult {
  readonly stack: string;
  readonly config: PlatformConfig;
  readonly resources: readonly RecordedResource[];
  readonly outputs: Record<string, unknown>;
}

export type RawStackConfig = Record<string, unknown>;

const SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Converts a serialized property value to plain data, redacting secrets and recording where they were. */
function plain(v: unknown, at: string, secrets: string[]): unknown {
  if (v === UNKNOWN) return "[unknown]";
  if (Array.isArray(v)) return v.map((x, i) => plain(x, `${at}[${i}]`, secrets));
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const sig = o[SPECIAL_SIG_KEY];
    if (sig === SECRET_SIG || (sig === OUTPUT_SIG && o.secret === true)) {
      secrets.push(at);
      return "[secret]";
    }
    if (sig === OUTPUT_SIG) return plain(o.value, at, secrets);
    if (sig === RESOURCE_SIG) return { $ref: o.urn };
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = plain(x, at ? `${at}.${k}` : k, secrets);
    return out;
  }
  return v;
}

export function stacksDir(): string {
  return path.resolve(__dirname, "..", "..", "stacks");
}

export function listStacks(): string[] {
  return fs
    .readdirSync(stacksDir())
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => !!s)
    .sort();
}

/**
 * A stack file that cannot be read as a stack config: missing, not YAML (syntax error, a tab in
 * the indentation, a duplicate key), or a `config:` that is not a mapping. The message is
 * `<file>:<line>:<column>: <problem>`, as editors and CI annotate it; the plan exits 2.
 */
export class StackFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly problem: string,
  ) {
    super(`${file}:${line}:${column}: ${problem}`);
    this.name = "StackFileError";
  }
}

const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** The `config:` map of stacks/Pulumi.<stack>.yaml, as written. Throws StackFileError. */
export function readStackConfig(stack: string): RawStackConfig {
  const file = path.join(stacksDir(), `Pulumi.${stack}.yaml`);
  const shown = path.relative(REPO_ROOT, file);
  if (!fs.existsSync(file)) throw new StackFileError(shown, 1, 1, `no such stack file; known stacks: ${listStacks().join(", ")}`);
  return parseStackFile(fs.readFileSync(file, "utf8"), shown);
}

/** A stack file given by path (`npm run plan -- <stack> --config <file>`); errors name `file` as given. */
export function readStackConfigFile(file: string): RawStackConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StackFileError(file, 1, 1, code === "ENOENT" ? "no such file" : `cannot read: ${code ?? String(e)}`);
  }
  return parseStackFile(text, file);
}

/**
 * Parses a stack file's text with the `yaml` package (YAML 1.2, duplicate keys are errors:
 * `uniqueKeys` defaults to true) and returns its `config:` mapping. The first error the parser
 * reports is raised with its line and column (1-based).
 */
export function parseStackFile(text: string, shown: string): RawStackConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined, problem: string): StackFileError => {
    const { line, col } = offset === undefined ? { line: 1, col: 1 } : lineCounter.linePos(offset);
    return new StackFileError(shown, line, col, problem);
  };
  const first = doc.errors[0];
  if (first) throw at(first.pos[0], yamlProblem(first.code, first.message, text.slice(first.pos[0])));
  if (doc.contents === null) return {};
  if (!isMap(doc.contents)) throw at(doc.contents.range?.[0], "a stack file is a mapping with a `config:` key; this document is not a mapping");
  const pair = doc.contents.items.find((p) => (p.key as { value?: unknown } | null)?.value === "config");
  if (!pair) return {};
  const value = pair.value as { range?: [number, number, number] } | null;
  if (!isMap(pair.value)) {
    const keyRange = (pair.key as { range?: [number, number, number] }).range;
    throw at(value?.range?.[0] ?? keyRange?.[0], `\`config:\` must be a mapping of <namespace>:<key> to values, got ${describeNode(pair.value)}`);
  }
  return (doc.toJS() as { config: RawStackConfig }).config;
}

/** The parser's message, with the fix for the common ones. */
function yamlProblem(code: string, message: string, rest: string): string {
  const m = message.replace(/\s+/g, " ").trim();
  if (code === "TAB_AS_INDENT") return `${m} (YAML indents with spaces only; replace the tab)`;
  if (code === "DUPLICATE_KEY") {
    const key = /^("[^"\n]*"|'[^'\n]*'|[^\n]*?)(?=:(\s|$))/.exec(rest)?.[1];
    return `${key ? `duplicate key ${key}: ` : ""}${m} (a key may appear once per mapping; keep one entry)`;
  }
  return m;
}

function describeNode(n: unknown): string {
  if (n === null || n === undefined) return "nothing";
  const v = (n as { value?: unknown; items?: unknown }).items !== undefined ? "a list" : (n as { value?: unknown }).value;
  if (v === "a list") return v;
  if (v === null) return "null";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/**
 * Converts a stack config map to what the Pulumi runtime holds: strings, objects as JSON.
 * `secure:` values cannot be decrypted offline; they become a placeholder marked secret.
 */
function toRuntimeConfig(raw: RawStackConfig): { values: Record<string, string>; secretKeys: string[] } {
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  const walk = (v: unknown, key: string): unknown => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (Object.keys(o).length === 1 && typeof o.secure === "string") {
        if (!secretKeys.includes(key)) secretKeys.push(key);
        return "[secure value: not decrypted by the offline plan]";
      }
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x, key)]));
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    return v;
  };
  for (const [k, v] of Object.entries(raw)) {
    const w = walk(v, k);
    values[k] = typeof w === "string" ? w : JSON.stringify(w);
  }
  return { values, secretKeys };
}

// The runtime is global: runs are serialized.
let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs the program for `stack`. `raw` overrides the stack file's config map (tests use it for
 * deliberately broken configs). Rejects with ConfigError on invalid config.
 */
export function runStack(stack: string, raw?: RawStackConfig): Promise<RunResult> {
  const run = queue.then(() => runStackNow(stack, raw ?? readStackConfig(stack)));
  queue = run.catch(() => undefined);
  return run;
}

async function runStackNow(stack: string, raw: RawStackConfig): Promise<RunResult> {
  const region = typeof raw["aws:region"] === "string" ? raw["aws:region"] : "us-east-1";
  await pulumi.runtime.setMocks(createMocks(region), PROJECT, stack, false);

  const resources: RecordedResource[] = [];
  const monitor = settings.getMonitor();
  if (!monitor) throw new Error("the Pulumi mock monitor is not set");
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    const secrets: string[] = [];
    const inputs = plain(req.getObject()?.toJavaScript() ?? {}, "", secrets) as Record<string, unknown>;
    const type = req.getType();
    const parent = req.getParent();
    const urnParentType = parent ? parent.split("::")[2]?.split("$").pop() : undefined;
    const urn = `urn:pulumi:${stack}::${PROJECT}::${urnParentType ? `${urnParentType}$` : ""}${type}::${req.getName()}`;
    const provider = req.getProvider();
    resources.push({
      urn,
      type,
      name: req.getName(),
      ...(parent ? { parent } : {}),
      custom: req.getCustom(),
      remote: req.getRemote() || REMOTE_COMPONENT_TYPES.has(type),
      ...(provider ? { provider: provider.split("::").slice(0, 4).join("::") } : {}),
      inputs,
      secretPaths: secrets,
      options: {
        protect: req.getProtect(),
        retainOnDelete: req.getRetainondelete(),
        deleteBeforeReplace: req.getDeletebeforereplace(),
        ignoreChanges: req.getIgnorechangesList(),
        dependsOn: req.getDependenciesList(),
      },
    });
    register(req, cb);
  };

  const { values, secretKeys } = toRuntimeConfig(raw);
  pulumi.runtime.setAllConfig(values, secretKeys);

  // Import lazily so that the program module sees the mocks and the config set above.
  const { program } = await import("../program");
  const { loadConfig } = await import("../../infra/config");
  // Validate first, outside the stack: invalid config registers nothing, not even the stack.
  const config: PlatformConfig = loadConfig();
  let failure: unknown;
  let programOutputs: Record<string, unknown> = {};
  await pulumi.runtime
    .runInPulumiStack(() => {
      try {
        programOutputs = program() as unknown as Record<string, unknown>;
      } catch (e) {
        failure = e;
        throw e;
      }
      return Promise.resolve(programOutputs as pulumi.Inputs);
    })
    .catch((e: unknown) => {
      throw failure ?? e;
    });
  await settings.waitForRPCs();
  const outputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(programOutputs)) {
    const o = pulumi.output(v);
    outputs[k] = (await pulumi.isSecret(o)) ? "[secret]" : await promiseOf(o);
  }
  return { stack, config, resources, outputs };
}

/** The resolved value of an output (unknowns included), through the SDK's own `promise()`. */
function promiseOf<T>(o: pulumi.Output<T>): Promise<T | undefined> {
  return (o as unknown as { promise(withUnknowns?: boolean): Promise<T | undefined> }).promise(true);
}
