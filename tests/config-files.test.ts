/**
 * What reaches the config before the schema: the stack file itself (malformed YAML, a missing
 * file, a `config:` that is not a mapping), the namespaces of its keys, and numbers or booleans
 * written as strings. Also: no behaviour in components/ switches on the environment's name.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, configFromRuntime, parsePlatformConfig, PROJECT } from "../infra/config";
import { AWS_CONFIG_KEYS, DOCKER_BUILD_CONFIG_KEYS, VAULT_CONFIG_KEYS } from "../infra/config/namespaces";
import { milvusValues } from "../components/vector-db";
import { rdsInstanceArgs, replicationGroupArgs } from "../components/datastores";
import { plan } from "../stacks/plan/plan";
import { readStackConfig } from "./support/stacks";

const REPO = path.resolve(__dirname, "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm-config-files-"));
const outDir = path.join(tmp, "out");
const DEV_TEXT = fs.readFileSync(path.join(REPO, "stacks", "Pulumi.dev.yaml"), "utf8");
const DEV_LINES = DEV_TEXT.split("\n");

/** The dev stack file with one line replaced (or inserted after); returns the file and the 1-based line. */
function devFileWith(find: string, edit: (line: string) => string, mode: "replace" | "insertAfter" = "replace"): { file: string; line: number } {
  const i = DEV_LINES.indexOf(find);
  if (i < 0) throw new Error(`no line ${JSON.stringify(find)} in stacks/Pulumi.dev.yaml`);
  const lines = [...DEV_LINES];
  if (mode === "replace") lines[i] = edit(lines[i]!);
  else lines.splice(i + 1, 0, edit(lines[i]!));
  const file = path.join(tmp, `case-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, lines.join("\n"));
  return { file, line: mode === "replace" ? i + 1 : i + 2 };
}

function writeTmp(text: string): string {
  const file = path.join(tmp, `case-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

const NO_TRACE = /^\s+at .+:\d+:\d+\)?$/m;

describe("malformed stack files exit 2 with <file>:<line>:<column>: <message>", () => {
  it("a YAML syntax error (an unterminated quote)", async () => {
    const { file, line } = devFileWith("    mode: standalone", () => '    mode: "standalone');
    const r = await plan("dev", { configFile: file, outDir });
    expect(r.exitCode).toBe(2);
    // The parser reports it where the line ends, column 22 of `    mode: "standalone`.
    expect(r.text).toBe(`${file}:${line}:22: Missing closing "quote`);
    expect(r.text).not.toMatch(NO_TRACE);
  });

  it("a tab in the indentation", async () => {
    const { file, line } = devFileWith("    etcdReplicas: 1", (l) => `\t${l.trimStart()}`);
    const r = await plan("dev", { configFile: file, outDir });
    expect(r.exitCode).toBe(2);
    expect(r.text).toBe(`${file}:${line}:1: Tabs are not allowed as indentation (YAML indents with spaces only; replace the tab)`);
  });

  it("a duplicate key (the yaml package's uniqueKeys, on by default and set explicitly)", async () => {
    const { file, line } = devFileWith("    etcdReplicas: 1", () => "    etcdReplicas: 3", "insertAfter");
    const r = await plan("dev", { configFile: file, outDir });
    expect(r.exitCode).toBe(2);
    expect(r.text).toBe(`${file}:${line}:5: duplicate key etcdReplicas: Map keys must be unique (a key may appear once per mapping; keep one entry)`);
  });

  it("a duplicate top-level config key", async () => {
    const { file, line } = devFileWith("  aws:region: us-east-1", () => "  aws:region: us-west-2", "insertAfter");
    const r = await plan("dev", { configFile: file, outDir });
    expect(r.exitCode).toBe(2);
    expect(r.text.startsWith(`${file}:${line}:3: duplicate key aws:region:`)).toBe(true);
  });

  it("a missing stack file, by stack name and by --config", async () => {
    const r = await plan("qa", { outDir });
    expect(r.exitCode).toBe(2);
    expect(r.text).toBe("stacks/Pulumi.qa.yaml:1:1: no such stack file; known stacks: dev, prod, staging");
    const absent = path.join(tmp, "absent.yaml");
    const r2 = await plan("dev", { configFile: absent, outDir });
    expect(r2.exitCode).toBe(2);
    expect(r2.text).toBe(`${absent}:1:1: no such file`);
  });

  it.each([
    ["a list", "config:\n  - aws:region\n  - us-east-1\n", "2:3", "`config:` must be a mapping of <namespace>:<key> to values, got a list"],
    ["a string", "config: us-east-1\n", "1:9", '`config:` must be a mapping of <namespace>:<key> to values, got string "us-east-1"'],
    ["empty", "# nothing yet\nconfig:\n", "2:8", "`config:` must be a mapping of <namespace>:<key> to values, got null"],
  ])("a config: that is not a mapping (%s)", async (_what, text, at, message) => {
    const file = writeTmp(text);
    const r = await plan("dev", { configFile: file, outDir });
    expect(r.exitCode).toBe(2);
    expect(r.text).toBe(`${file}:${at}: ${message}`);
  });

  it("a document that is not a mapping", async () => {
    const file = writeTmp("- config\n");
    const r = await plan("dev", { configFile: file, outDir });
    expect(r.exitCode).toBe(2);
    expect(r.text).toBe(`${file}:1:1: a stack file is a mapping with a \`config:\` key; this document is not a mapping`);
  });

  it("the real CLI prints the location, exits 2 and puts no stack trace on stderr", () => {
    const { file, line } = devFileWith("    etcdReplicas: 1", (l) => `\t${l.trimStart()}`);
    const p = spawnSync("npx", ["tsx", "stacks/plan/cli.ts", "dev", "--config", file, "--out", outDir], { cwd: REPO, encoding: "utf8", timeout: 110_000 });
    expect(p.status).toBe(2);
    expect(p.stdout.split("\n")[0]).toBe(`${file}:${line}:1: Tabs are not allowed as indentation (YAML indents with spaces only; replace the tab)`);
    expect(p.stderr).not.toMatch(NO_TRACE);
    expect(p.stderr).not.toMatch(/Error/);
  }, 120_000);
});

describe("config namespaces: the project's or a provider's, else refused with a did-you-mean", () => {
  const renamed = (stack: string, from: string, to: string): Record<string, unknown> => {
    const raw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(readStackConfig(stack))) raw[k === from ? to : k] = structuredClone(v);
    return raw;
  };

  it("a typo in the project name would drop prod's whole networkSecurity area (Istio off): refused", async () => {
    const r = await plan("prod", { raw: renamed("prod", `${PROJECT}:networkSecurity`, "llm-platfrom:networkSecurity"), outDir });
    expect(r.exitCode).toBe(2);
    expect(r.text).toContain('  - llm-platfrom:networkSecurity: unknown config namespace "llm-platfrom", so this key would be ignored; did you mean "llm-platform:networkSecurity"?');
  });

  it("a typo in a provider key the program reads (aws:regoin)", async () => {
    const r = await plan("dev", { raw: renamed("dev", "aws:region", "aws:regoin"), outDir });
    expect(r.exitCode).toBe(2);
    expect(r.text).toContain('  - aws:regoin: the aws provider has no config key "regoin"; did you mean "aws:region"?');
    expect(r.text).toContain("  - aws:region: required (string)");
  });

  it("a key with no namespace, and a namespace nothing like a known one", () => {
    const { issues } = configFromRuntime({ networkSecurity: "{}", "acme:owner": "x", "vault:adress": "https://v", "kuberentes:context": "c" });
    expect(issues).toEqual([
      { path: "networkSecurity", message: 'a stack config key is <namespace>:<name>; did you mean "llm-platform:networkSecurity"?' },
      { path: "acme:owner", message: 'unknown config namespace "acme", so this key would be ignored; known namespaces: llm-platform, aws, vault, kubernetes, pulumi, eks, random, docker-build' },
      { path: "vault:adress", message: 'the vault provider has no config key "adress"; did you mean "vault:address"?' },
      { path: "kuberentes:context", message: 'unknown config namespace "kuberentes", so this key would be ignored; did you mean "kubernetes:context"?' },
    ]);
  });

  it("accepts every provider key the pinned SDKs define, and any key where no list exists", () => {
    const all: Record<string, string> = {};
    for (const k of AWS_CONFIG_KEYS) all[`aws:${k}`] = "x";
    for (const k of VAULT_CONFIG_KEYS) all[`vault:${k}`] = "x";
    for (const k of DOCKER_BUILD_CONFIG_KEYS) all[`docker-build:${k}`] = "x";
    Object.assign(all, { "kubernetes:context": "x", "pulumi:tags": "{}", "pulumi:disable-default-providers": "[]" });
    const { raw, issues } = configFromRuntime(all);
    expect(issues).toEqual([]);
    expect(raw).toEqual({ region: "x" });
  });

  it("the provider key lists are the installed SDKs' config modules (a version bump that adds keys fails here, not in a stack)", () => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    expect([...AWS_CONFIG_KEYS].sort()).toEqual(Object.keys(require("@pulumi/aws/config/vars") as object).sort());
    expect([...VAULT_CONFIG_KEYS].sort()).toEqual(Object.keys(require("@pulumi/vault/config/vars") as object).sort());
    expect([...DOCKER_BUILD_CONFIG_KEYS].sort()).toEqual(Object.keys(require("@pulumi/docker-build/config/vars") as object).sort());
    /* eslint-enable @typescript-eslint/no-require-imports */
  });
});

describe("numbers and booleans written as strings", () => {
  /** The dev stack's raw config, as parsePlatformConfig takes it. */
  const devRaw = (): Record<string, any> => {
    const raw: Record<string, any> = {};
    for (const [k, v] of Object.entries(readStackConfig("dev"))) {
      if (k === "aws:region") raw.region = v;
      else if (k.startsWith(`${PROJECT}:`)) raw[k.slice(PROJECT.length + 1)] = structuredClone(v);
    }
    return raw;
  };
  const problems = (mutate: (raw: Record<string, any>) => void): { path: string; message: string }[] => {
    const raw = devRaw();
    mutate(raw);
    try {
      parsePlatformConfig(raw, "dev");
      return [];
    } catch (e) {
      if (e instanceof ConfigError) return [...e.issues];
      throw e;
    }
  };

  it("canonical decimal strings become numbers, true/false become booleans (what `pulumi config set --path` stores for 0.5)", () => {
    const raw = devRaw();
    raw.observability.tracing.samplingRatio = "0.5";
    raw.observability.prometheus.replicas = "2";
    raw.protection.retainOnDelete = "true";
    raw.protection.protect = "false";
    const c = parsePlatformConfig(raw, "dev");
    expect(c.observability.tracing.samplingRatio).toBe(0.5);
    expect(c.observability.prometheus.replicas).toBe(2);
    expect(c.protection.retainOnDelete).toBe(true);
    expect(c.protection.protect).toBe(false);
  });

  it("through the offline plan too: a quoted number and boolean in the stack file", async () => {
    const raw = structuredClone(readStackConfig("dev")) as Record<string, any>;
    raw[`${PROJECT}:observability`].tracing.samplingRatio = "0.25";
    raw[`${PROJECT}:protection`].protect = "true";
    const r = await plan("dev", { raw, outDir });
    expect(r.run?.config.observability.tracing.samplingRatio).toBe(0.25);
    expect(r.run?.config.protection.protect).toBe(true);
  });

  it.each([
    ["", "float"],
    [" 2", "int"],
    ["1e3", "float"],
    ["02", "int"],
    ["0x10", "float"],
  ])("refuses %j for a number key, saying how to store a number", (value, type) => {
    expect(problems((r) => (r.observability.prometheus.replicas = value))).toEqual([
      {
        path: "observability.prometheus.replicas",
        message: `expected number, got string ${JSON.stringify(value)} (write it unquoted in the stack file, or set it with \`pulumi config set --path --type ${type} 'llm-platform:observability.prometheus.replicas' <value>\`)`,
      },
    ]);
  });

  it.each(["yes", "True", "1", ""])("refuses %j for a boolean key, saying how to store a boolean", (value) => {
    expect(problems((r) => (r.protection.protect = value))).toEqual([
      {
        path: "protection.protect",
        message: `expected boolean, got string ${JSON.stringify(value)} (write it unquoted in the stack file, or set it with \`pulumi config set --path --type bool 'llm-platform:protection.protect' <value>\`)`,
      },
    ]);
  });

  it("a string that is one of a union's number literals (etcdReplicas \"3\") is that number; \"03\" is not", () => {
    expect(problems((r) => Object.assign(r.vectorDb, { mode: "cluster", etcdReplicas: "3" }))).toEqual([]);
    expect(problems((r) => Object.assign(r.vectorDb, { mode: "cluster", etcdReplicas: "03" }))).toEqual([{ path: "vectorDb.etcdReplicas", message: 'expected 1 or 3 (etcd needs an odd quorum), got string "03"' }]);
  });

  it("a string where the schema wants a string stays a string", () => {
    const raw = devRaw();
    raw.tags.costCenter = "1234";
    expect(parsePlatformConfig(raw, "dev").tags.costCenter).toBe("1234");
  });
});

describe("environment switches are config keys", () => {
  /**
   * Comparisons with the environment's name in components/. Every behaviour that differs by
   * environment must be a config key; the environment may only be used as a value (tags,
   * labels, names). Allowed comparisons, listed explicitly with their reason: none.
   */
  const ALLOWED: readonly string[] = [];
  const SWITCH = /\benvironment\s*[!=]==?|[!=]==?\s*[\w.]*\benvironment\b|["'`](dev|staging|prod)["'`]\s*[!=]==?|[!=]==?\s*["'`](dev|staging|prod)["'`]|case\s+["'`](dev|staging|prod)["'`]/;

  it("no component compares the environment (or a value) with dev, staging or prod", () => {
    const found: string[] = [];
    const dir = path.join(REPO, "components");
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith(".ts"))) {
      fs.readFileSync(path.join(dir, f), "utf8")
        .split("\n")
        .forEach((line, i) => {
          if (SWITCH.test(line) && !line.trimStart().startsWith("//") && !line.trimStart().startsWith("*")) found.push(`components/${f}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(found.filter((x) => !ALLOWED.some((a) => x.includes(a)))).toEqual([]);
  });

  it("the pattern catches the switches this replaced", () => {
    for (const line of ['replicas: c.environment === "prod" ? 2 : 1', 'versioning: c.environment !== "dev"', 'const keep = s.environment !== "dev";', 'if ("prod" === env)', 'case "staging":'])
      expect(SWITCH.test(line), line).toBe(true);
    expect(SWITCH.test("environment: c.environment,")).toBe(false);
  });

  it("the committed stacks write the values that differ from the defaults", () => {
    const cfg = (s: string) => {
      const raw: Record<string, any> = {};
      for (const [k, v] of Object.entries(readStackConfig(s))) {
        if (k === "aws:region") raw.region = v;
        else if (k.startsWith(`${PROJECT}:`)) raw[k.slice(PROJECT.length + 1)] = structuredClone(v);
      }
      return parsePlatformConfig(raw, s);
    };
    const [dev, staging, prod] = [cfg("dev"), cfg("staging"), cfg("prod")];
    const switches = (c: ReturnType<typeof cfg>) => [
      c.observability.tracing.collectorReplicas,
      c.networkSecurity.istio.istiodReplicas,
      c.vault.externalSecretsReplicas,
      c.edge.loadBalancerController.replicas,
      c.vectorDb.coordinatorReplicas,
      c.vectorDb.streamingNodeReplicas,
      c.protection.bucketVersioning,
      c.edge.database.finalSnapshot,
      c.edge.cache.snapshotRetentionDays,
    ];
    expect(switches(dev)).toEqual([1, 1, 1, 1, 1, 1, false, false, 0]);
    expect(switches(staging)).toEqual([1, 1, 1, 1, 1, 1, true, true, 7]);
    expect(switches(prod)).toEqual([2, 2, 2, 2, 2, 2, true, true, 7]);
  });

  it("the keys drive what is rendered: Milvus coordinators and streaming nodes, RDS final snapshot, Redis snapshots", () => {
    const cfg = { mode: "cluster", etcdReplicas: 3, messageQueue: "woodpecker", queryNodeReplicas: 1, dataNodeReplicas: 1, proxyReplicas: 1, etcdStorageGi: 10, coordinatorReplicas: 2, streamingNodeReplicas: 3 } as const;
    const ha = milvusValues({ cfg, region: "us-east-1", bucketName: "b", roleArn: "r" }) as any;
    expect([ha.mixCoordinator.replicas, ha.mixCoordinator.activeStandby.enabled, ha.streamingNode.replicas]).toEqual([2, true, 3]);
    const single = milvusValues({ cfg: { ...cfg, coordinatorReplicas: 1 }, region: "us-east-1", bucketName: "b", roleArn: "r" }) as any;
    expect([single.mixCoordinator.replicas, single.mixCoordinator.activeStandby.enabled]).toEqual([1, false]);

    const db = { instanceClass: "db.t4g.micro", allocatedStorageGiB: 20, multiAz: false, backupRetentionDays: 1, deletionProtection: false };
    const s = { identifier: "x", subnetGroup: "g", securityGroupId: "s", username: "u", password: "p" };
    expect(rdsInstanceArgs({ ...db, finalSnapshot: false }, s)).toMatchObject({ skipFinalSnapshot: true });
    expect(rdsInstanceArgs({ ...db, finalSnapshot: false }, s)).not.toHaveProperty("finalSnapshotIdentifier");
    expect(rdsInstanceArgs({ ...db, finalSnapshot: true }, s)).toMatchObject({ skipFinalSnapshot: false, finalSnapshotIdentifier: "x-final" });
    const cache = { nodeType: "cache.t3.micro", replicasPerShard: 0, automaticFailover: false };
    expect(replicationGroupArgs({ ...cache, snapshotRetentionDays: 12 }, { id: "r", subnetGroup: "g", securityGroupId: "s", authToken: "t" }).snapshotRetentionLimit).toBe(12);
  });

  it("standalone Milvus refuses more than one coordinator or streaming node", () => {
    const raw: Record<string, any> = {};
    for (const [k, v] of Object.entries(readStackConfig("dev"))) {
      if (k === "aws:region") raw.region = v;
      else if (k.startsWith(`${PROJECT}:`)) raw[k.slice(PROJECT.length + 1)] = structuredClone(v);
    }
    raw.vectorDb.coordinatorReplicas = 2;
    expect(() => parsePlatformConfig(raw, "dev")).toThrow(/vectorDb\.mode: standalone runs one pod; set mode: cluster to scale query, data, proxy, coordinator or streaming nodes/);
  });
});
