// Bundles the service (and the dev tools) with esbuild.
// The service bundle (dist/server.cjs) contains all runtime dependencies, so the
// runtime image needs no node_modules.
import { build } from 'esbuild';
import { existsSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: ['src/main.ts'],
  outfile: 'dist/server.cjs',
  keepNames: true,
});

// Dev-only tools: they run from the source checkout, with node_modules present.
await build({
  ...common,
  entryPoints: Object.fromEntries(
    Object.entries({ bench: 'bench/bench.ts', smoke: 'scripts/smoke.ts', local: 'scripts/local.ts', eval: 'eval/run.ts' }).filter(([, f]) => existsSync(f)),
  ),
  outdir: 'dist/tools',
  outExtension: { '.js': '.cjs' },
  packages: 'external',
});
