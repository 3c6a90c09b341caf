import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { Client } from '../src/index.js';
import { LOCATION, PROJECT, rejection, withEmulator } from './helpers.js';

const { emulator, client } = withEmulator();

test('a client connects explicitly or on its first call', async () => {
  const c = await Client.connect({ project: PROJECT, location: LOCATION, emulator: emulator() });
  assert.equal(c.project, PROJECT);
  assert.equal(await c.accessToken(), emulator().token);
  const lazy = client();
  assert.equal(lazy.project, undefined, 'not ready yet');
  await lazy.repositories.get('docker');
  assert.equal(lazy.project, PROJECT);
});

test('credentials come from the options, or the environment given', async () => {
  const url = emulator().url;
  const byToken = new Client({
    project: PROJECT,
    location: LOCATION,
    emulator: url,
    credentials: { type: 'accessToken', token: 'ya29.demo-viewer-token' },
  });
  assert.equal(await byToken.accessToken(), 'ya29.demo-viewer-token');
  const byEnv = new Client({
    project: PROJECT,
    location: LOCATION,
    env: { ARTIFACT_REGISTRY_EMULATOR_HOST: url, ARTIFACT_REGISTRY_EMULATOR_TOKEN: emulator().token },
  });
  assert.equal((await byEnv.repositories.get('docker')).format, 'DOCKER');
  const anonymous = new Client({ project: PROJECT, location: LOCATION, emulator: url, credentials: { type: 'anonymous' } });
  assert.equal((await rejection(anonymous.accessToken())).code, 'CREDENTIALS_NOT_FOUND');
  const missing = new Client({
    project: PROJECT,
    location: LOCATION,
    emulator: url,
    credentials: { type: 'file', path: '/no/such/key.json' },
  });
  const e = await rejection(missing.ready());
  assert.ok(e.isAuthentication(), e.code);
});

test('a session is recorded and replayed without the network', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gar-node-rec-'));
  try {
    const cassette = join(dir, 'session.json');
    const rec = client({ record: cassette });
    const live = await rec.repositories.get('npm');
    assert.equal(await rec.saveRecording(), cassette);
    assert.ok((await stat(cassette)).size > 0);
    const replay = client({ credentials: { type: 'anonymous' }, replay: cassette });
    await replay.ready();
    const before = emulator().requests().length;
    assert.deepEqual(await replay.repositories.get('npm'), live);
    assert.equal(emulator().requests().length, before, 'the replay touched no server');
    assert.equal((await rejection(client().saveRecording())).code, 'INVALID_ARGUMENT');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the package works in a worker thread too', async () => {
  const { Worker } = await import('node:worker_threads');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { Client } = require(workerData.pkg);
    const c = new Client({ project: 'demo-project', location: 'us-central1', emulator: workerData.url,
      credentials: { type: 'accessToken', token: workerData.token } });
    c.repositories.get('docker').then((r) => parentPort.postMessage(r.format), (e) => parentPort.postMessage('error: ' + e.message));`;
  const worker = new Worker(code, {
    eval: true,
    workerData: { pkg: require.resolve('../src/index.js'), url: emulator().url, token: emulator().token },
  });
  try {
    const message = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    assert.equal(message, 'DOCKER');
  } finally {
    await worker.terminate();
  }
});

test('concurrent calls on one client all complete', async () => {
  const c = client();
  const results = await Promise.all(
    ['docker', 'maven', 'npm', 'python', 'go', 'generic', 'apt', 'yum'].map((r) => c.repositories.get(r)),
  );
  assert.deepEqual(
    results.map((r) => r.format),
    ['DOCKER', 'MAVEN', 'NPM', 'PYTHON', 'GO', 'GENERIC', 'APT', 'YUM'],
  );
});
