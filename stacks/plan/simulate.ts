/**
 * `npm run simulate -- <stack> [--trace <file>]`
 *
 * The scaling preview alone (infra/scaling-sim.ts, docs/scaling.md): the stack's config is parsed
 * (no program run), a week of the trace (default infra/catalog/traces/weekday-business.json) is
 * replayed against reactive, scheduled, predictive and both, and the table is printed.
 * Exit codes: 0 printed, 2 invalid stack config or trace.
 */
import { ConfigError, parsePlatformConfig, PROJECT } from "../../infra/config";
import { DEFAULT_TRACE_FILE, readTrace, renderSimulation, simulationReport, TraceError } from "../../infra/scaling-sim";
import { listStacks, readStackConfig } from "./harness";

function usage(): never {
  console.error(`usage: npm run simulate -- <stack> [--trace <file.json>]\nstacks: ${listStacks().join(", ")}\ndefault trace: ${DEFAULT_TRACE_FILE}`);
  process.exit(2);
}

/** The stack file's config as parsePlatformConfig takes it (the same keys loadConfig reads). */
function rawConfig(stack: string): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(readStackConfig(stack))) {
    if (k === "aws:region") raw.region = v;
    else if (k.startsWith(`${PROJECT}:`)) raw[k.slice(PROJECT.length + 1)] = v;
  }
  return raw;
}

function main(): number {
  const args = process.argv.slice(2);
  let stack: string | undefined;
  let traceFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--trace") traceFile = args[++i] ?? usage();
    else if (a.startsWith("-") || stack !== undefined) usage();
    else stack = a;
  }
  if (!stack) usage();
  if (!listStacks().includes(stack)) {
    console.error(`unknown stack "${stack}"; known stacks: ${listStacks().join(", ")}`);
    return 2;
  }
  try {
    const config = parsePlatformConfig(rawConfig(stack), stack);
    const trace = readTrace(traceFile ?? DEFAULT_TRACE_FILE);
    const lines = renderSimulation(simulationReport(config, { trace }), trace.name);
    console.log(lines.length > 0 ? lines.join("\n") : `${stack}: no model to simulate`);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError || e instanceof TraceError) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
}

process.exit(main());
