/** The tests run on the Node major the image ships (the npm `node` package provides it here). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const dockerfile = readFileSync(resolve(__dirname, '../Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(resolve(__dirname, '../package.json'), 'utf8')) as { devDependencies: Record<string, string>; engines: { node: string } };
const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1] as string);

describe('Node runtime', () => {
  it('both base images are Node 26 (the current LTS) and pinned by tag and digest', () => {
    expect(froms).toHaveLength(2);
    expect(froms[0]).toMatch(/^node:26\.\d+\.\d+-trixie-slim@sha256:[a-f0-9]{64}$/);
    expect(froms[1]).toMatch(/^gcr\.io\/distroless\/nodejs26-debian13:nonroot@sha256:[a-f0-9]{64}$/);
  });

  it('the tests run on that major, with the exact Node the build stage uses', () => {
    const imageVersion = /^node:(\d+\.\d+\.\d+)-/.exec(froms[0] ?? '')?.[1];
    expect(process.versions.node).toBe(imageVersion);
    expect(pkg.devDependencies['node']).toBe(imageVersion);
    expect(pkg.engines.node).toBe('>=26.0.0');
  });
});
