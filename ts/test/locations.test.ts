import assert from 'node:assert/strict';
import { test } from 'node:test';

import { rejection, withEmulator } from './helpers.js';

const { emulator, client } = withEmulator();
const EU = '/v1/projects/*/locations/europe-west1/*';

test('a listing across locations gathers what answered and names what did not', async () => {
  const c = client({ retry: false });
  const all = await c.locations(['us-central1', 'europe-west1']).repositories();
  assert.equal(all.items.length, 10);
  assert.deepEqual(all.reached, ['us-central1', 'europe-west1']);
  assert.deepEqual(all.unreachable, []);

  emulator().addFault({ path: EU, status: 503 });
  try {
    const partial = await c.locations(['us-central1', 'europe-west1']).repositories();
    assert.equal(partial.items.length, 10);
    assert.deepEqual(partial.reached, ['us-central1']);
    assert.equal(partial.unreachable[0]?.location, 'europe-west1');
    assert.equal(partial.unreachable[0]?.error.code, 'SERVICE_UNAVAILABLE');
    const images = await c.locations(['europe-west1', 'us-central1']).dockerImages('docker');
    assert.equal(images.items.length, 1);
  } finally {
    emulator().clearFaults();
  }
});

test('a read fails over to the next location only when one is unavailable', async () => {
  const c = client({ retry: false });
  emulator().addFault({ path: EU, status: 503 });
  try {
    const s = await c.locations(['europe-west1', 'us-central1']).getRepository('docker');
    assert.equal(s.location, 'us-central1');
    assert.equal(s.value.format, 'DOCKER');
    assert.equal(s.skipped[0]?.location, 'europe-west1');
    const r = await c.locations(['europe-west1', 'us-central1']).resolveImage('docker/hello:latest');
    assert.match(r.value.digest, /^sha256:/);
    const none = await rejection(c.locations(['europe-west1']).getRepository('docker'));
    assert.equal(none.code, 'LOCATION_UNAVAILABLE');
  } finally {
    emulator().clearFaults();
  }
  // Not found is an answer: no failover.
  const e = await rejection(c.locations(['europe-west1', 'us-central1']).getRepository('docker'));
  assert.equal(e.code, 'REPOSITORY_NOT_FOUND');
  assert.equal((await rejection(c.locations(['mars-north1']).repositories())).code, 'INVALID_LOCATION');
});
