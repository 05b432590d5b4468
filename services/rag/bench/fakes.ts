/**
 * Bench helper process: the TEI and gateway fakes (0 ms; TEI responses memoised per request
 * body so the fake's own CPU stays out of the measurement), URLs printed as one JSON line.
 */
import { startFakeGateway, startFakeTei } from '../src/dev/fakes.js';

async function main(): Promise<void> {
  const dim = Number(process.env['BENCH_DIM'] ?? 1024);
  const tei = await startFakeTei({ dim, record: false, maxBatch: 64, cache: true });
  const gw = await startFakeGateway({ record: false });
  process.stdout.write(`${JSON.stringify({ tei: tei.url, gateway: gw.url })}\n`);
  process.on('SIGTERM', () => void Promise.all([tei.close(), gw.close()]).then(() => process.exit(0)));
}

void main();
