import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import type { Progress } from '../src/index.js';
import { rejection, withEmulator } from './helpers.js';

const { emulator, client } = withEmulator();
const REPO = 'generic';
const README = 'demo-bundle:1.0.0:README.txt';
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gar-node-files-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('files are listed and read', async () => {
  const c = client();
  const files = await c.files.list(REPO, { orderBy: 'name' }).toArray();
  assert.deepEqual(
    files.map((f) => f.name.split('/files/')[1]),
    ['demo-bundle:1.0.0:README.txt', 'demo-bundle:2.0.0:README.txt', 'demo-bundle:2.0.0:bundle.tar'],
  );
  const f = await c.files.get(REPO, README);
  assert.equal(f.sizeBytes, '18');
  assert.equal(f.hashes?.[0]?.type, 'SHA256');
  assert.match(f.owner ?? '', /versions\/1\.0\.0$/);
});

test('a file is downloaded to a path with progress, verified', async () => {
  const c = client();
  const dest = join(dir, 'readme.txt');
  const seen: Progress[] = [];
  const out = await c.files.download(REPO, README, dest, { onProgress: (p) => seen.push(p) });
  assert.deepEqual(out, { path: dest, bytes: 18 });
  assert.equal(await readFile(dest, 'utf8'), 'demo bundle 1.0.0\n');
  // Progress arrives from the Rust side asynchronously; give it a turn.
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(seen.at(-1), { bytes: 18, total: 18 });
  assert.equal(seen[0]?.bytes, 0);

  // A callback that throws does not break the download.
  const again = await c.files.download(REPO, README, join(dir, 'again.txt'), {
    onProgress: () => {
      throw new Error('boom');
    },
  });
  assert.equal(again.bytes, 18);
});

test('a file is read as a Node stream', async () => {
  const c = client();
  const stream = await c.files.read(REPO, 'demo-bundle:2.0.0:bundle.tar');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'pretend this is a tarball\n');
});

test('a wrong expected hash fails the download and leaves nothing behind', async () => {
  const c = client();
  const dest = join(dir, 'wrong.txt');
  const wrong = createHash('sha256').update('something else').digest('hex');
  const e = await rejection(c.files.download(REPO, README, dest, { expectedSha256: wrong }));
  assert.ok(e.isDigestMismatch(), e.code);
  const left = await readdir(dir);
  assert.ok(!left.some((n) => n.includes('wrong')), `left behind: ${left.join(', ')}`);
  const bad = await rejection(c.files.download(REPO, README, dest, { expectedSha256: 'abc' }));
  assert.equal(bad.code, 'INVALID_DIGEST');
  const right = createHash('sha256').update('demo bundle 1.0.0\n').digest('hex');
  assert.equal((await c.files.download(REPO, README, dest, { expectedSha256: `sha256:${right}` })).bytes, 18);
});

test('corruption in transit is caught while streaming', async () => {
  const emu = emulator();
  emu.addFault({ operation: 'rest', path: '*:download', corrupt: true, times: 1 });
  try {
    const c = client({ retry: false });
    const stream = await c.files.read(REPO, README);
    const e = await rejection(
      (async () => {
        for await (const _ of stream) {
          // drain
        }
      })(),
    );
    assert.ok(e.isDigestMismatch(), e.code);
  } finally {
    emu.clearFaults();
  }
});

test('an aborted download removes its partial file', async () => {
  const emu = emulator();
  emu.addFault({ path: '*:download', delayMs: 5000 });
  try {
    const c = client();
    const dest = join(dir, 'aborted.txt');
    const e = await rejection(c.files.download(REPO, README, dest, { signal: AbortSignal.timeout(200) }));
    assert.equal(e.code, 'CANCELLED');
    await new Promise((r) => setTimeout(r, 100));
    const left = await readdir(dir);
    assert.ok(!left.some((n) => n.includes('aborted')), `left behind: ${left.join(', ')}`);
  } finally {
    emu.clearFaults();
  }
});

test('a file is deleted', async () => {
  const c = client();
  await c.files.delete(REPO, 'demo-bundle:2.0.0:bundle.tar');
  assert.equal((await rejection(c.files.get(REPO, 'demo-bundle:2.0.0:bundle.tar'))).code, 'FILE_NOT_FOUND');
});
