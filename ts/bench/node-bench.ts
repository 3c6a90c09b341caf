// The TypeScript side of `cargo xtask bench node`: the same calls as the Rust
// side (bindings/node/examples/node_bench.rs) through the addon, against the
// same emulator, and, for reference, the small call's request made by Node's own
// HTTP client. Usage: node dist/bench/node-bench.js URL TOKEN CALLS DIR
import { rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { Client } from '../src/index.js';

const BLOB = 256 << 20;
const PULLS = 3;
/** The REST path of the small call: the packages of the repository `generic`. */
const PACKAGES = '/v1/projects/demo-project/locations/us-central1/repositories/generic/packages';

/**
 * The small call's request made with `node:http` on one kept-alive connection,
 * its JSON parsed: what Node itself does for it, with its I/O on the JavaScript
 * thread and none of the library's work. Resolves with the number of packages.
 */
function plainCall(url: URL, token: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: PACKAGES, agent, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { packages?: unknown[] };
            if (res.statusCode !== 200 || !Array.isArray(body.packages)) {
              reject(new Error(`plain call: HTTP ${res.statusCode ?? '?'}`));
            } else {
              resolve(body.packages.length);
            }
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const [url, token, callsText, dir] = process.argv.slice(2);
  if (url === undefined || token === undefined || callsText === undefined || dir === undefined) {
    throw new Error('usage: node-bench URL TOKEN CALLS DIR');
  }
  const calls = Number(callsText);
  const client = await Client.connect({
    project: 'demo-project',
    location: 'us-central1',
    emulator: url,
    credentials: { type: 'accessToken', token },
  });
  const list = async (): Promise<number> => {
    let n = 0;
    for await (const page of client.packages.list('generic').byPage()) n += page.items.length;
    return n;
  };
  for (let i = 0; i < calls / 10; i++) await list();
  let started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await list();
  const callsPerSec = calls / (Number(process.hrtime.bigint() - started) / 1e9);

  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const emulator = new URL(url);
  const expected = await list();
  for (let i = 0; i < calls / 10; i++) {
    const n = await plainCall(emulator, token, agent);
    if (n !== expected) throw new Error(`plain call: ${n} packages, the library listed ${expected}`);
  }
  started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await plainCall(emulator, token, agent);
  const plainCallsPerSec = calls / (Number(process.hrtime.bigint() - started) / 1e9);
  agent.destroy();

  started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await client.accessToken();
  const floorUs = Number(process.hrtime.bigint() - started) / 1e3 / calls;

  const { manifest } = await client.images.manifest('docker/bench:1');
  const layer = (manifest.layers as Array<{ digest: string }>)[0];
  if (layer === undefined) throw new Error('the bench image has no layer');
  let best = Number.MAX_VALUE;
  for (let i = 0; i < PULLS; i++) {
    started = process.hrtime.bigint();
    const stream = await client.images.blob('docker/bench', layer.digest);
    let bytes = 0;
    for await (const chunk of stream) bytes += (chunk as Buffer).length;
    if (bytes !== BLOB) throw new Error(`pulled ${bytes} bytes, expected ${BLOB}`);
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e9);
  }
  const blobMBps = BLOB / 1e6 / best;

  const dest = join(dir, `ts-${process.pid}.blob`);
  best = Number.MAX_VALUE;
  for (let i = 0; i < PULLS; i++) {
    started = process.hrtime.bigint();
    const size = await client.images.downloadBlob('docker/bench', layer.digest, dest);
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e9);
    await rm(dest);
    if (size !== BLOB) throw new Error(`downloaded ${size} bytes, expected ${BLOB}`);
  }
  console.log(JSON.stringify({ callsPerSec, plainCallsPerSec, blobMBps, fileMBps: BLOB / 1e6 / best, floorUs }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
