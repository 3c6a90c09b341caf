import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';

import type { Progress } from '../src/index.js';
import { rejection, withEmulator } from './helpers.js';

const { emulator, client } = withEmulator();

test('an image name is parsed into its parts and full reference', async () => {
  const c = client();
  const n = await c.images.parse('docker/team/app:1.0');
  assert.equal(n.repository, 'projects/demo-project/locations/us-central1/repositories/docker');
  assert.equal(n.image, 'team/app');
  assert.equal(n.tag, '1.0');
  assert.equal(n.digest, null);
  assert.ok(n.reference.endsWith('/demo-project/docker/team/app:1.0'), n.reference);
  const host = new URL(emulator().url).host;
  const full = await c.images.parse(`${host}/demo-project/docker/hello:latest`);
  assert.equal(full.image, 'hello');
  assert.equal((await rejection(c.images.parse('nothing'))).code, 'INVALID_REFERENCE');
});

test('a tag resolves to its digest and the image is inspected', async () => {
  const c = client();
  const r = await c.images.resolve('docker/hello:latest');
  assert.match(r.digest, /^sha256:[0-9a-f]{64}$/);
  assert.ok(r.name.endsWith(`/dockerImages/hello@${r.digest}`));
  assert.deepEqual(await c.images.resolve(`docker/hello@${r.digest}`), r);
  const d = await c.images.inspect('docker/hello');
  assert.equal(d.name, r.name);
  assert.deepEqual(d.image.tags, ['latest']);
  assert.equal(typeof d.image.imageSizeBytes, 'string');
  assert.ok(d.vulnerabilities !== null || d.error !== null);
  assert.equal((await rejection(c.images.resolve('docker/hello:nope'))).code, 'TAG_NOT_FOUND');
});

test('docker images are listed and read through the Artifact Registry API', async () => {
  const c = client();
  const images = await c.dockerImages.list('docker', { orderBy: 'upload_time desc' }).toArray();
  const hello = images.find((i) => i.uri.includes('/docker/hello@'));
  assert.ok(hello?.uri.includes('/demo-project/docker/hello@sha256:'));
  const digest = hello?.name.split('@')[1] ?? '';
  const one = await c.dockerImages.get('docker', `hello@${digest}`);
  assert.equal(one.name, hello?.name);
  assert.equal((await rejection(c.dockerImages.list('docker', { filter: 'x' } as never).toArray())).code, 'INVALID_ARGUMENT');
  assert.equal((await rejection(c.dockerImages.get('docker', 'hello:latest'))).code, 'INVALID_REFERENCE');
});

test('an image is pulled into a layout, pushed back under a new name, and copied', async () => {
  const c = client();
  const dir = await mkdtemp(join(tmpdir(), 'gar-node-layout-'));
  try {
    const layout = join(dir, 'hello');
    const seen: Progress[] = [];
    const pulled = await c.images.pull('docker/hello:latest', layout, { onProgress: (p) => seen.push(p) });
    assert.match(pulled.digest, /^sha256:/);
    assert.equal(pulled.manifests, 1);
    assert.ok(pulled.blobsTransferred >= 2, 'config and layer');
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: unknown[] };
    assert.equal(index.manifests.length, 1);
    assert.ok((await readdir(join(layout, 'blobs', 'sha256'))).length >= 3);
    await new Promise((r) => setTimeout(r, 50));
    // Blobs move in parallel, so events may arrive out of order: the furthest one reached the total.
    const furthest = Math.max(...seen.map((p) => p.bytes));
    assert.ok(seen.length > 0 && furthest === seen[0]?.total, 'progress reached the total');
    assert.ok(seen.every((p) => /^sha256:/.test(p.digest ?? '')));

    const pushed = await c.images.push(layout, 'docker/team/again:v1');
    assert.equal(pushed.digest, pulled.digest, 'the same manifest bytes');
    assert.equal((await c.images.resolve('docker/team/again:v1')).digest, pulled.digest);

    const copied = await c.images.copy('docker/hello:latest', 'docker/copied:1.0');
    assert.equal(copied.digest, pulled.digest);
    assert.deepEqual((await c.images.inspect('docker/copied:1.0')).image.tags, ['1.0']);

    assert.equal((await rejection(c.images.push(join(dir, 'nothing'), 'docker/x:1'))).code, 'INVALID_ARGUMENT');
    assert.equal((await rejection(c.images.pull('docker/hello:latest', join(dir, 'p'), { platform: 'linux' }))).code, 'INVALID_ARGUMENT');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('manifests and blobs are read, verified as they flow', async () => {
  const c = client();
  const m = await c.images.manifest('docker/hello:latest');
  assert.match(m.mediaType, /manifest/);
  const layers = m.manifest.layers as Array<{ digest: string; size: number }>;
  assert.equal(layers.length, 1);
  const layer = layers[0];
  if (layer === undefined) throw new Error('no layer');
  const stream = await c.images.blob('docker/hello', layer.digest);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'hello from the gar emulator\n');
  const dir = await mkdtemp(join(tmpdir(), 'gar-node-blob-'));
  try {
    assert.equal(await c.images.downloadBlob('docker/hello', layer.digest, join(dir, 'layer')), layer.size);
    assert.equal(await readFile(join(dir, 'layer'), 'utf8'), 'hello from the gar emulator\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const missing = await rejection(c.images.manifest('docker/hello:nope'));
  assert.equal(missing.code, 'MANIFEST_NOT_FOUND');
  assert.equal(missing.httpStatus, 404);
  assert.equal(missing.ociCode, 'MANIFEST_UNKNOWN');
  const noBlob = await rejection(
    (async () => {
      const s = await c.images.blob('docker/hello', `sha256:${'0'.repeat(64)}`);
      for await (const _ of s) {
        // drain
      }
    })(),
  );
  assert.equal(noBlob.code, 'BLOB_NOT_FOUND');
});

test('a blob streams in pieces of 1 MiB, and aborting mid-stream ends it with CANCELLED', async () => {
  const c = client();
  const MiB = 1024 * 1024;
  const content = Buffer.alloc(5 * MiB + 5, 'pieces');
  const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
  assert.equal(await c.images.uploadBlob('docker/pieces', digest, content.length, content), 'uploaded');
  const back: Buffer[] = [];
  for await (const chunk of await c.images.blob('docker/pieces', digest)) back.push(chunk as Buffer);
  assert.ok(Buffer.concat(back).equals(content));
  assert.deepEqual(
    back.map((b) => b.length),
    [MiB, MiB, MiB, MiB, MiB, 5],
  );

  const ac = new AbortController();
  const stream = await c.images.blob('docker/pieces', digest, { signal: ac.signal });
  let got = 0;
  const e = await rejection(
    (async () => {
      for await (const chunk of stream) {
        got += (chunk as Buffer).length;
        ac.abort(new Error('enough'));
      }
    })(),
  );
  assert.equal(e.code, 'CANCELLED');
  assert.equal(e.name, 'AbortError');
  assert.ok(got > 0 && got < content.length, `read ${got} bytes`);
});

test('blobs are uploaded from a Node stream, a file and bytes, and checked by digest', async () => {
  const c = client();
  const content = Buffer.alloc(3 * 1024 * 1024 + 17, 'gar');
  const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
  const seen: Progress[] = [];
  const pieces = async function* () {
    for (let at = 0; at < content.length; at += 256 * 1024) yield content.subarray(at, at + 256 * 1024);
  };
  const out = await c.images.uploadBlob('docker/uploads', digest, content.length, Readable.from(pieces()), {
    onProgress: (p) => seen.push(p),
  });
  assert.equal(out, 'uploaded');
  const back: Buffer[] = [];
  for await (const chunk of await c.images.blob('docker/uploads', digest)) back.push(chunk as Buffer);
  assert.ok(Buffer.concat(back).equals(content));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(Math.max(...seen.map((p) => p.bytes)), content.length);

  assert.equal(await c.images.uploadBlob('docker/uploads', digest, content.length, content), 'existed');

  const small = Buffer.from('a small blob\n');
  const smallDigest = `sha256:${createHash('sha256').update(small).digest('hex')}`;
  const dir = await mkdtemp(join(tmpdir(), 'gar-node-up-'));
  try {
    await writeFile(join(dir, 'blob'), small);
    assert.equal(await c.images.uploadBlob('docker/uploads', smallDigest, small.length, join(dir, 'blob')), 'uploaded');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const wrong = `sha256:${'1'.repeat(64)}`;
  const e = await rejection(c.images.uploadBlob('docker/uploads', wrong, small.length, Readable.from([small])));
  assert.ok(e.code === 'BLOB_DIGEST_MISMATCH' || e.code === 'BLOB_UPLOAD_FAILED' || e.code === 'INVALID_DIGEST', e.code);

  const broken = async function* () {
    yield small;
    throw new Error('the source broke');
  };
  await assert.rejects(
    c.images.uploadBlob('docker/uploads', smallDigest.replace(/.$/, '0'), 100, broken()),
    /the source broke/,
  );
});

test('an image is deleted by tag', async () => {
  const c = client();
  const deleted = await c.images.delete('docker/hello:latest');
  assert.match(deleted, /\/dockerImages\/hello@sha256:/);
  const left = (await c.dockerImages.list('docker').toArray()).filter((i) => i.uri.includes('/hello@'));
  assert.deepEqual(left, []);
  // The image was the package's only version: the package went with it.
  assert.equal((await rejection(c.images.resolve('docker/hello:latest'))).code, 'PACKAGE_NOT_FOUND');
});
