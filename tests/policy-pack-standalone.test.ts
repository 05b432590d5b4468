/**
 * The policy pack publishes on its own: `pulumi policy publish` uploads only the pack's folder.
 * This test rebuilds that situation: it copies policies/ to an empty directory, installs only
 * the packages policies/package.json declares (the ground floor `llm-platform-infra` as a copy
 * of infra/, the rest linked from this checkout's node_modules, like a registry install), and
 * type-checks and loads the pack there. An import of a file outside the pack, or of a package
 * the pack does not declare, fails here.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policies as inRepoPolicies } from "../policies/policies";

const ROOT = path.resolve(__dirname, "..");
const GROUND = "llm-platform-infra";

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const manifest = (dir: string): Manifest => JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as Manifest;

function copyTree(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true, filter: (src) => !src.split(path.sep).includes("node_modules") });
}

/** Installs `name` into dir/node_modules: the ground floor as a copy, anything else as a link. */
function install(dir: string, name: string, seen: Set<string>): void {
  if (seen.has(name)) return;
  seen.add(name);
  const target = path.join(dir, "node_modules", name);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  if (name === GROUND) {
    copyTree(path.join(ROOT, "infra"), target);
    for (const dep of Object.keys(manifest(target).dependencies ?? {})) install(dir, dep, seen);
  } else {
    fs.symlinkSync(path.join(ROOT, "node_modules", name), target, "dir");
  }
}

describe("the policy pack builds from its own folder", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-pack-"));
    copyTree(path.join(ROOT, "policies"), dir);
    const m = manifest(dir);
    const seen = new Set<string>();
    for (const dep of [...Object.keys(m.dependencies ?? {}), ...Object.keys(m.devDependencies ?? {})]) install(dir, dep, seen);
    const root = JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8")) as { compilerOptions: Record<string, unknown> };
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: root.compilerOptions, include: ["**/*.ts"], exclude: ["node_modules"] }));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("declares the ground floor as a dependency, at the workspace's version", () => {
    expect(manifest(path.join(ROOT, "policies")).dependencies?.[GROUND]).toBe(JSON.parse(fs.readFileSync(path.join(ROOT, "infra", "package.json"), "utf8")).version);
  });

  it("imports nothing outside its folder except declared packages", () => {
    const declared = new Set(Object.keys({ ...manifest(dir).dependencies, ...manifest(dir).devDependencies }));
    const offending: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.name === "node_modules") continue;
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith(".ts"))
          for (const [, spec] of fs.readFileSync(p, "utf8").matchAll(/from "([^"]+)"/g)) {
            if (spec!.startsWith(".")) {
              if (!path.resolve(path.dirname(p), spec!).startsWith(dir)) offending.push(`${path.relative(dir, p)}: ${spec}`);
            } else if (!spec!.startsWith("node:")) {
              const pkg = spec!.startsWith("@") ? spec!.split("/").slice(0, 2).join("/") : spec!.split("/")[0]!;
              if (!declared.has(pkg)) offending.push(`${path.relative(dir, p)}: ${spec} (not in policies/package.json)`);
            }
          }
      }
    };
    walk(dir);
    expect(offending).toEqual([]);
  });

  it("type-checks with only its declared dependencies installed", () => {
    const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
    let out = "";
    try {
      execFileSync(process.execPath, [tsc, "--noEmit", "-p", path.join(dir, "tsconfig.json")], { cwd: dir, encoding: "utf8", stdio: "pipe" });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(out).toBe("");
  }, 120_000);

  it("loads its policies from there", () => {
    const tsx = path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
    const out = execFileSync(process.execPath, [tsx, "-e", 'const p = require("./policies.ts"); console.log(JSON.stringify(p.policies.map((x) => x.name)))'], { cwd: dir, encoding: "utf8" });
    const names = JSON.parse(out.trim()) as string[];
    const inRepo = inRepoPolicies.map((x) => x.name);
    expect(names).toEqual(inRepo);
    expect(names.length).toBeGreaterThan(20);
  }, 60_000);
});
