// The ES module entry exports the same classes as the CommonJS one.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';

import * as esm from '@gar-rs/gar';

const require = createRequire(import.meta.url);

test('the ESM entry re-exports the CommonJS implementation', async () => {
  const cjs = require('@gar-rs/gar') as typeof esm;
  assert.equal(esm.Client, cjs.Client);
  assert.equal(esm.GarError, cjs.GarError);
  assert.equal(esm.Emulator, cjs.Emulator);
  assert.deepEqual(esm.ERROR_CODES, cjs.ERROR_CODES);
  const emu = await esm.Emulator.start();
  try {
    const c = new esm.Client({ project: 'demo-project', location: 'us-central1', emulator: emu });
    const names: string[] = [];
    for await (const v of c.versions.list('generic', 'demo-bundle')) names.push(v.name.split('/').pop() ?? '');
    assert.deepEqual(names.sort(), ['1.0.0', '2.0.0']);
    await assert.rejects(c.repositories.get('nope'), (e: unknown) => e instanceof cjs.GarError);
  } finally {
    await emu.shutdown();
  }
});
