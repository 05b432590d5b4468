import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { configKeyPaths } from "../infra/config";

const doc = fs.readFileSync(path.resolve(__dirname, "..", "docs", "configuration.md"), "utf8");

/** The documented spelling of a key path: repeated NodePool and TEI blocks are documented once. */
function documentedAs(key: string): string {
  return key
    .replace(/^karpenter\.(gpuSpot|gpuOnDemand|cpu)(\.|$)/, "karpenter.<pool>$2")
    .replace(/^embeddings\.(embed|rerank)(\.|$)/, "embeddings.<role>$2");
}

const SECTION_HEADINGS = new Set(["region", "environment", "tags", "network", "cluster", "gpuPools", "karpenter", "models", "embeddings", "vectorDb", "safety", "rag", "observability", "vault", "budget", "protection", "networkSecurity", "autoscaling", "edge"]);

describe("docs/configuration.md", () => {
  it("documents every key the schema accepts", () => {
    const keys = configKeyPaths();
    expect(keys.length).toBeGreaterThan(150);
    const missing = keys
      .filter((k) => !SECTION_HEADINGS.has(k))
      .map(documentedAs)
      .filter((k) => !doc.includes(`\`${k}\``) && !doc.includes(`\`${k.replace(/\.(min|max)$/, "")}.min\` / \`.max\``));
    // Intermediate objects (e.g. `cluster.endpoint`) are documented through their leaves.
    const leaves = missing.filter((k) => !keys.map(documentedAs).some((o) => o.startsWith(`${k}.`)));
    expect(leaves).toEqual([]);
  });

  it("documents no key the schema does not accept", () => {
    const known = new Set(configKeyPaths().map(documentedAs));
    const documented = [...doc.matchAll(/^\| `([a-zA-Z<>.]+)`/gm)].map((m) => m[1]!).filter((k) => k !== "region");
    expect(documented.filter((k) => !known.has(k))).toEqual([]);
  });
});
