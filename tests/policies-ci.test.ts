/**
 * The CI workflows for the platform's users (.github/workflows) and the docs that go with the
 * pack: pinned actions, least privilege, no secrets where forks run, the pack on every preview
 * and update, every variable documented, every policy documented.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { policies } from "../policies/policies";
import { STACKS } from "./support/stacks";

const ROOT = path.resolve(__dirname, "..");
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), "utf8");

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  if?: string;
}
interface Job {
  if?: string;
  needs?: string | string[];
  environment?: string;
  permissions?: Record<string, string>;
  strategy?: { matrix?: { stack?: string[]; include?: Record<string, string>[] } };
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflow = (name: string) => ({ text: read(`.github/workflows/${name}.yml`), doc: parse(read(`.github/workflows/${name}.yml`)) as Workflow });
const preview = workflow("preview");
const deploy = workflow("deploy");
const pulumiStep = (job: Job) => job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));

/** Tags checked against each action's repository (docs/ci.md, "Versions"). */
const VERIFIED: Record<string, string> = {
  "actions/checkout": "v7.0.1",
  "actions/setup-node": "v7.0.0",
  "actions/upload-artifact": "v7.0.0",
  "aws-actions/configure-aws-credentials": "v6.2.3",
  "hashicorp/vault-action": "v3.4.0",
  "pulumi/actions": "v7.0.0",
};

describe.each([
  ["preview", preview],
  ["deploy", deploy],
])("%s.yml", (_name, wf) => {
  it("pins every action to a verified release tag", () => {
    const uses = Object.values(wf.doc.jobs).flatMap((j) => j.steps.map((s) => s.uses).filter((u): u is string => !!u));
    expect(uses.length).toBeGreaterThan(0);
    for (const u of uses) {
      const [action, version] = u.split("@") as [string, string];
      expect(VERIFIED[action], `${u} is not a verified action`).toBeDefined();
      expect(version, u).toBe(VERIFIED[action]);
    }
  });

  it("grants contents: read by default; only jobs that reach the cloud get an OIDC token", () => {
    expect(wf.doc.permissions).toEqual({ contents: "read" });
    for (const [id, job] of Object.entries(wf.doc.jobs)) {
      const usesCloud = job.steps.some((s) => s.uses?.startsWith("aws-actions/") || s.uses?.startsWith("hashicorp/vault-action"));
      expect(job.permissions?.["id-token"] === "write", id).toBe(usesCloud);
      for (const s of job.steps.filter((x) => x.uses?.startsWith("actions/checkout"))) expect(s.with?.["persist-credentials"]).toBe(false);
    }
  });

  it("logs in to AWS by role and to Vault by JWT: no long-lived keys", () => {
    expect(wf.text).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY|VAULT_TOKEN:|secretId/);
    for (const job of Object.values(wf.doc.jobs)) {
      for (const s of job.steps) {
        if (s.uses?.startsWith("aws-actions/")) expect(s.with?.["role-to-assume"]).toMatch(/vars/);
        if (s.uses?.startsWith("hashicorp/vault-action")) expect(s.with).toMatchObject({ method: "jwt", exportToken: true });
      }
    }
  });

  it("runs pulumi with the policy pack and the stack's policy config", () => {
    for (const job of Object.values(wf.doc.jobs)) {
      const p = pulumiStep(job);
      if (!p) continue;
      expect(p.with?.policyPacks).toBe("policies");
      expect(String(p.with?.policyPackConfigs)).toMatch(/^policies\/config\/(\$\{\{ matrix\.stack \}\}|dev|staging|prod)\.json$/);
    }
  });
});

describe("preview.yml", () => {
  const jobs = preview.doc.jobs;

  it("runs on pull requests", () => {
    expect(Object.keys(preview.doc.on)).toEqual(["pull_request"]);
  });

  it("plans every stack offline with no secrets and no cloud access, uploading out/", () => {
    const job = jobs["offline-plan"]!;
    expect([...(job.strategy?.matrix?.stack ?? [])].sort()).toEqual([...STACKS].sort());
    expect(job.if).toBeUndefined();
    const text = JSON.stringify(job);
    expect(text).not.toMatch(/secrets\.|vars\.|id-token/);
    expect(job.steps.some((s) => s.run?.includes("npm ci"))).toBe(true);
    expect(job.steps.some((s) => s.run?.includes('npm run --silent plan -- "${{ matrix.stack }}"'))).toBe(true);
    expect(job.steps.find((s) => s.uses?.startsWith("actions/upload-artifact"))?.with?.path).toContain("out/${{ matrix.stack }}/");
    expect(JSON.stringify(jobs.checks)).not.toMatch(/secrets\.|vars\./);
  });

  it("previews every stack with the pack, comments on the PR, and skips forks", () => {
    const job = jobs.preview!;
    expect(job.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    expect(job.strategy?.matrix?.include?.map((i) => i.stack).sort()).toEqual([...STACKS].sort());
    expect(job.permissions).toEqual({ contents: "read", "id-token": "write", "pull-requests": "write" });
    expect(pulumiStep(job)?.with).toMatchObject({ command: "preview", "comment-on-pr": true, policyPacks: "policies", policyPackConfigs: "policies/config/${{ matrix.stack }}.json" });
  });
});

describe("deploy.yml", () => {
  const jobs = deploy.doc.jobs;

  it("runs on pushes to main: dev automatically, then staging, then prod, each in its environment", () => {
    expect(deploy.doc.on).toEqual({ push: { branches: ["main"] } });
    expect(Object.keys(jobs)).toEqual(["dev", "staging", "prod"]);
    expect(jobs.dev!.needs).toBeUndefined();
    expect(jobs.staging!.needs).toBe("dev");
    expect(jobs.prod!.needs).toBe("staging");
    for (const s of STACKS) {
      expect(jobs[s]!.environment).toBe(s);
      expect(pulumiStep(jobs[s]!)?.with).toMatchObject({ command: "up", policyPacks: "policies", policyPackConfigs: `policies/config/${s}.json` });
      expect(jobs[s]!.steps.some((x) => x.run === `npm run --silent plan -- ${s}`)).toBe(true);
    }
  });
});

describe("docs/ci.md", () => {
  it("lists every secret and variable the workflows read", () => {
    const doc = read("docs/ci.md");
    const names = new Set([...(preview.text + deploy.text).matchAll(/\b(?:secrets|vars)\.([A-Z_]+)/g)].map((m) => m[1]!));
    for (const i of preview.doc.jobs.preview!.strategy!.matrix!.include!) names.add(i["aws-role"]!);
    expect(names.size).toBeGreaterThan(5);
    for (const n of names) expect(doc, n).toContain(`\`${n}\``);
  });
});

describe("docs/policies.md", () => {
  it("documents every policy", () => {
    const doc = read("docs/policies.md");
    for (const p of policies) expect(doc, p.name).toContain(`\`${p.name}\``);
  });
});
