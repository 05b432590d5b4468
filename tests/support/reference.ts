/**
 * Upstream reference data (CRD schemas, pinned charts' values) lives outside the project, in
 * ../shared/reference/ from the repository root. Tests read it from there and never copy it in.
 *
 * When it is missing:
 * - under CI (CI=true) that is a failure: `guardReference` registers a failing test;
 * - elsewhere the checks that need it are skipped, and say so: a skipped test whose name gives
 *   the reason, and a console warning.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { it } from "vitest";

/** ../shared/reference from the repository root. */
export const REFERENCE_DIR = path.resolve(__dirname, "..", "..", "..", "shared", "reference");

export const UNDER_CI = process.env.CI === "true";

export interface ReferenceLookup {
  /** Absolute path of the requested folder under the reference directory. */
  readonly dir: string;
  readonly present: boolean;
  /** Why the data is unavailable (empty when present). */
  readonly reason: string;
}

/** Looks up a folder of the reference data, e.g. reference("charts"), reference("crds"). */
export function reference(sub: string, root: string = REFERENCE_DIR): ReferenceLookup {
  const dir = path.join(root, sub);
  const present = fs.existsSync(dir) && fs.statSync(dir).isDirectory();
  return { dir, present, reason: present ? "" : `reference data not found at ${dir}` };
}

/**
 * For use at the top level of a test file, before the checks that need `sub`. Returns the lookup;
 * run the checks only when `present` (e.g. `describe.skipIf(!ref.present)`).
 * Missing under CI: registers a failing test. Missing elsewhere: registers a skipped test that
 * names the reason, and warns on the console.
 */
export function guardReference(sub: string, what: string, root: string = REFERENCE_DIR): ReferenceLookup {
  const ref = reference(sub, root);
  if (ref.present) return ref;
  if (UNDER_CI) {
    it(`reference data for ${what} is present (required under CI)`, () => {
      throw new Error(`${ref.reason}: under CI the upstream reference data must be available (checkout ../shared next to the project)`);
    });
  } else {
    const message = `SKIPPED ${what}: ${ref.reason} (the checks run when ../shared/reference is present; under CI its absence fails)`;
    console.warn(message);
    it.skip(message, () => undefined);
  }
  return ref;
}
