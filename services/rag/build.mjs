// Bundles the service (and the dev tools) with esbuild.
// The service bundle (dist/server.cjs) contains all runtime dependencies, so the
// runtime image needs no node_modules.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

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
  entryPoints: {
    bench: 'bench/bench.ts',
    fakes: 'bench/fakes.ts',
    smoke: 'scripts/smoke.ts',
    local: 'scripts/local.ts',
    eval: 'eval/run.ts',
  },
  outdir: 'dist/tools',
  outExtension: { '.js': '.cjs' },
  packages: 'external',
});

// The evaluation runner, fully bundled, for the image (an in-cluster evaluation Job runs
// `node /app/dist/eval.cjs --url http://<rag service>` with the fixture in /app/eval).
await build({
  ...common,
  entryPoints: ['eval/run.ts'],
  outfile: 'dist/eval.cjs',
});
