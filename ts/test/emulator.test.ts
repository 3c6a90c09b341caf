import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { Client, Emulator } from '../src/index.js';
import { LOCATION, PROJECT, rejection, thrown } from './helpers.js';

test('an emulator starts on a loopback port, serves, and stops', async () => {
  const emu = await Emulator.start();
  assert.match(emu.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(emu.token, 'ya29.demo-user-token');
  assert.equal(emu.running, true);
  const client = new Client({ project: PROJECT, location: LOCATION, emulator: emu });
  const repos = await client.repositories.list().toArray();
  assert.equal(repos.length, 10);
  const log = emu.requests();
  assert.ok(log.some((r) => r.method === 'GET' && r.path.endsWith('/repositories') && r.status === 200));
  assert.ok(log.every((r) => r.authorization === 'Bearer'));
  await emu.shutdown();
  assert.equal(emu.running, false);
  await emu.shutdown(); // idempotent
  const e = await rejection(client.repositories.get('docker', { signal: AbortSignal.timeout(10_000) }));
  assert.equal(e.code, 'CONNECTION_FAILED');
  assert.equal(e.retryable, true);
  assert.equal(thrown(() => emu.requests()).code, 'FAILED_PRECONDITION');
});

test('fault rules are added, fire, are counted and cleared', async () => {
  const emu = await Emulator.start({ faults: [{ operation: 'rest', status: 500, times: 1 }] });
  try {
    const client = new Client({ project: PROJECT, location: LOCATION, emulator: emu, retry: false });
    const first = await rejection(client.repositories.get('docker'));
    assert.equal(first.code, 'INTERNAL_ERROR');
    assert.equal(first.httpStatus, 500);
    assert.equal((await client.repositories.get('docker')).format, 'DOCKER');
    const [rule] = emu.faults();
    assert.equal(rule?.fired, 1);
    const id = emu.addFault({ operation: 'rest', status: 503 });
    assert.equal(typeof id, 'string');
    assert.equal((await rejection(client.repositories.get('docker'))).code, 'SERVICE_UNAVAILABLE');
    emu.clearFaults();
    assert.deepEqual(emu.faults(), []);
    assert.equal((await client.repositories.get('docker')).format, 'DOCKER');
    assert.equal(thrown(() => emu.addFault({ status: 500, reset: true })).code, 'INVALID_ARGUMENT');
  } finally {
    await emu.shutdown();
  }
});

test('tokens are minted for principals of the seed only', async () => {
  const emu = await Emulator.start();
  try {
    assert.match(emu.tokenFor('user:viewer@example.com'), /.+/);
    assert.equal(thrown(() => emu.tokenFor('user:nobody@example.com')).code, 'INVALID_ARGUMENT');
  } finally {
    await emu.shutdown();
  }
});

test('a custom seed and a data directory that survives a restart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gar-node-'));
  try {
    const seed = {
      projects: [{ id: 'proj-one', locations: ['europe-west1'] }],
      repositories: [{ name: 'projects/proj-one/locations/europe-west1/repositories/only', format: 'GENERIC' }],
      tokens: [{ token: 'ya29.t', principal: 'user:a@example.com' }],
      roles: [{ principal: 'user:a@example.com', role: 'admin', resource: 'projects/proj-one' }],
      defaultPrincipal: 'user:a@example.com',
    };
    let emu = await Emulator.start({ seed, dataDir: dir });
    assert.equal(emu.dataDir, dir);
    let client = new Client({ project: 'proj-one', location: 'europe-west1', emulator: emu });
    await client.repositories.create('made', 'GENERIC', { description: 'kept' });
    await emu.shutdown();
    emu = await Emulator.start({ seed, dataDir: dir });
    client = new Client({ project: 'proj-one', location: 'europe-west1', emulator: emu });
    const names = (await client.repositories.list().toArray()).map((r) => r.name.split('/').pop());
    assert.deepEqual(names.sort(), ['made', 'only']);
    await emu.shutdown();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a bad seed or listen address is refused', async () => {
  assert.equal((await rejection(Emulator.start({ seed: { projects: 'nope' as never } }))).code, 'INVALID_ARGUMENT');
  assert.equal((await rejection(Emulator.start({ listen: 'not an address' }))).code, 'INVALID_ARGUMENT');
  assert.equal((await rejection(Emulator.start({ seed: '/no/such/seed.json' }))).code, 'INVALID_ARGUMENT');
});
