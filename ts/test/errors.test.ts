import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ERROR_CODES, GarError } from '../src/index.js';
import { native } from '../src/native.js';
import { rejection, withEmulator } from './helpers.js';

const { emulator, client } = withEmulator();

test('the TypeScript error codes are exactly the Rust ErrorKind codes', () => {
  assert.deepEqual([...ERROR_CODES], native.errorCodes());
});

test('a missing resource of each kind has its own code, status and resource', async () => {
  const c = client();
  const repo = await rejection(c.repositories.get('nope'));
  assert.ok(repo instanceof GarError && repo instanceof Error);
  assert.equal(repo.name, 'GarError');
  assert.equal(repo.code, 'REPOSITORY_NOT_FOUND');
  assert.equal(repo.category, 'REPOSITORY');
  assert.equal(repo.retryable, false);
  assert.equal(repo.httpStatus, 404);
  assert.equal(repo.grpcCode, 'NOT_FOUND');
  assert.equal(repo.grpcStatus, 5);
  assert.equal(repo.resource?.kind, 'repository');
  assert.equal(repo.resource?.id, 'nope');
  assert.ok(repo.isNotFound());
  assert.match(repo.message, /repository nope not found/);

  assert.equal((await rejection(c.packages.get('generic', 'nope'))).code, 'PACKAGE_NOT_FOUND');
  assert.equal((await rejection(c.versions.get('generic', 'demo-bundle', '9.9.9'))).code, 'VERSION_NOT_FOUND');
  assert.equal((await rejection(c.tags.get('generic', 'demo-bundle', 'nope'))).code, 'TAG_NOT_FOUND');
  assert.equal((await rejection(c.files.get('generic', 'nope.txt'))).code, 'FILE_NOT_FOUND');
});

test('malformed ids are refused before any request', async () => {
  const c = client();
  await c.ready();
  const before = emulator().requests().length;
  const e = await rejection(c.repositories.get('Not_A_Repo!'));
  assert.equal(e.code, 'INVALID_REPOSITORY');
  assert.ok(e.isConfiguration());
  assert.equal((await rejection(c.images.resolve('docker'))).code, 'INVALID_REFERENCE');
  await assert.rejects(
    async () => {
      for await (const _ of c.versions.list('generic', 'bad package name with spaces')) {
        assert.fail('no item expected');
      }
    },
    (err: unknown) => err instanceof GarError && err.code === 'INVALID_PACKAGE',
  );
  assert.equal(emulator().requests().length, before);
});

test('bad configuration fails the client with a configuration code', async () => {
  const bad = client({ location: 'us-centrl1' });
  const e = await rejection(bad.ready());
  assert.equal(e.code, 'INVALID_LOCATION');
  assert.match(e.message, /us-central1/); // the suggestion
  assert.equal((await rejection(bad.repositories.get('docker'))).code, 'INVALID_LOCATION');
  assert.equal((await rejection(client({ project: 'Bad Project' }).ready())).code, 'INVALID_PROJECT');
  assert.equal(
    (await rejection(client({ record: '/tmp/a', replay: '/tmp/b' }).ready())).code,
    'INVALID_ARGUMENT',
  );
});

test('permission errors carry their code and are not retryable', async () => {
  const viewer = client({ credentials: { type: 'accessToken', token: 'ya29.demo-viewer-token' } });
  assert.equal((await viewer.repositories.get('docker')).format, 'DOCKER');
  const e = await rejection(viewer.repositories.create('denied', 'GENERIC'));
  assert.ok(e.isAuthorization(), e.code);
  assert.equal(e.httpStatus, 403);
  assert.equal(e.retryable, false);
  const anon = client({ credentials: { type: 'anonymous' } });
  const a = await rejection(anon.repositories.get('docker'));
  assert.ok(a.isAuthentication() || a.isAuthorization(), a.code);
});

test('server errors are retryable, and are retried by default', async () => {
  const emu = emulator();
  emu.addFault({ operation: 'rest', status: 503, times: 1 });
  const noRetry = client({ retry: false });
  const e = await rejection(noRetry.repositories.get('docker'));
  assert.equal(e.code, 'SERVICE_UNAVAILABLE');
  assert.equal(e.category, 'SERVER');
  assert.equal(e.retryable, true);
  assert.equal(e.httpStatus, 503);
  assert.equal(e.grpcCode, 'UNAVAILABLE');

  emu.addFault({ operation: 'rest', status: 500, times: 1 });
  assert.equal((await client().repositories.get('docker')).format, 'DOCKER');
  emu.clearFaults();
});

test('an aborted call rejects as CANCELLED with the signal reason as its cause', async () => {
  const emu = emulator();
  emu.addFault({ operation: 'rest', delayMs: 5000 });
  try {
    const c = client();
    await c.ready();
    const ac = new AbortController();
    const started = Date.now();
    const p = c.repositories.get('docker', { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('changed my mind')), 100);
    const e = await rejection(p);
    assert.equal(e.code, 'CANCELLED');
    assert.equal(e.name, 'AbortError');
    assert.ok(e.isCancelled());
    assert.equal((e.cause as Error).message, 'changed my mind');
    assert.ok(Date.now() - started < 3000, 'the call stopped at once');
    const already = await rejection(c.repositories.get('docker', { signal: AbortSignal.abort() }));
    assert.equal(already.code, 'CANCELLED');
  } finally {
    emu.clearFaults();
  }
});

test('a request timeout becomes TIMEOUT', async () => {
  const emu = emulator();
  emu.addFault({ operation: 'rest', delayMs: 3000 });
  try {
    const e = await rejection(client({ requestTimeoutMs: 200, retry: false }).repositories.get('docker'));
    assert.equal(e.code, 'TIMEOUT');
    assert.equal(e.category, 'NETWORK');
    assert.equal(e.retryable, true);
  } finally {
    emu.clearFaults();
  }
});
