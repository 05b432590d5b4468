// Bundles the service (and the bench/smoke helpers) with esbuild.
// The service bundle (dist/server.cjs) contains all runtime dependencies, so the
// runtime image needs no node_modules.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node26',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: ['src/main.ts'],
  outfile: 'dist/server.cjs',
  // keep class/function names readable in stack traces
  keepNames: true,
});

// Dev-only helpers: they run from the source checkout, with node_modules present.
await build({
  ...common,
  entryPoints: { bench: 'bench/bench.ts', smoke: 'scripts/smoke.ts' },
  outdir: 'dist/tools',
  outExtension: { '.js': '.cjs' },
  packages: 'external',
});
