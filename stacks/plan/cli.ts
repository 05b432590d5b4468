/**
 * `npm run plan -- <stack> [<stack>...] [--config <file>] [--out <dir>]`
 *
 * Runs the offline plan for each stack. `--config` plans a different stack file (for example a
 * deliberately broken copy) under the given stack name.
 */
import { listStacks } from "./harness";
import { DEFAULT_OUT_DIR, plan } from "./plan";

function usage(): never {
  console.error(`usage: npm run plan -- <stack> [<stack>...] [--config <Pulumi.<stack>.yaml>] [--out <dir>]\nstacks: ${listStacks().join(", ")}`);
  process.exit(2);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const stacks: string[] = [];
  let configFile: string | undefined;
  let outDir = DEFAULT_OUT_DIR;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--config") configFile = args[++i] ?? usage();
    else if (a === "--out") outDir = args[++i] ?? usage();
    else if (a === "--all") stacks.push(...listStacks());
    else if (a.startsWith("-")) usage();
    else stacks.push(a);
  }
  if (stacks.length === 0) usage();
  if (configFile && stacks.length !== 1) {
    console.error("--config takes exactly one stack name");
    return 2;
  }
  let worst = 0;
  for (const stack of stacks) {
    const started = Date.now();
    const r = await plan(stack, { ...(configFile !== undefined ? { configFile } : {}), outDir });
    console.log(r.text);
    console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s, exit ${r.exitCode})\n`);
    worst = Math.max(worst, r.exitCode);
  }
  return worst;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
