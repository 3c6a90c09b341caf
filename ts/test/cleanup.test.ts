import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { CleanupPolicies } from '../src/index.js';
import { rejection, withEmulator } from './helpers.js';

const { client } = withEmulator();
const REPO = 'generic';
const OLD: CleanupPolicies = {
  'delete-old': { id: 'delete-old', action: 'DELETE', condition: { olderThan: '2592000s' } },
};

test('a dry run reports what would be deleted and why, and deletes nothing', async () => {
  const c = client();
  const plan = await c.cleanup.report(REPO, { policies: OLD });
  assert.equal(plan.repository, 'projects/demo-project/locations/us-central1/repositories/generic');
  const byVersion = Object.fromEntries(plan.decisions.map((d) => [d.version, d]));
  assert.equal(byVersion['1.0.0']?.action, 'DELETE');
  assert.deepEqual(byVersion['1.0.0']?.by, ['delete-old']);
  assert.equal(byVersion['2.0.0']?.action, 'NOT_SELECTED');
  assert.deepEqual(plan.deletions, [
    'projects/demo-project/locations/us-central1/repositories/generic/packages/demo-bundle/versions/1.0.0',
  ]);
  assert.equal((await c.versions.list(REPO, 'demo-bundle').toArray()).length, 2);
});

test('KEEP policies win over DELETE ones and say which they overrode', async () => {
  const c = client();
  const plan = await c.cleanup.report(REPO, {
    policies: {
      ...OLD,
      'keep-stable': { id: 'keep-stable', action: 'KEEP', condition: { tagState: 'TAGGED', tagPrefixes: ['stable'] } },
    },
  });
  const v1 = plan.decisions.find((d) => d.version === '1.0.0');
  assert.equal(v1?.action, 'KEEP');
  assert.deepEqual(v1?.by, ['keep-stable']);
  assert.deepEqual(v1?.overrides, ['delete-old']);
  assert.deepEqual(plan.deletions, []);
});

test('ages are measured against the given instant', async () => {
  const c = client();
  const past = new Date(Date.now() - 90 * 86_400_000);
  const plan = await c.cleanup.report(REPO, { policies: OLD, now: past });
  assert.deepEqual(plan.deletions, []);
  assert.equal(new Date(plan.evaluatedAt).getTime(), past.getTime());
});

test('the repository\'s own policies are used when none are given, and applied', async () => {
  const c = client();
  const empty = await c.cleanup.report(REPO);
  assert.deepEqual(empty.deletions, []);
  await c.repositories.update(REPO, { cleanupPolicies: OLD });
  const plan = await c.cleanup.report(REPO);
  assert.equal(plan.deletions.length, 1);
  const applied = await c.cleanup.apply(REPO, { force: true });
  assert.deepEqual(applied.deleted, plan.deletions);
  assert.equal((await rejection(c.versions.get(REPO, 'demo-bundle', '1.0.0'))).code, 'VERSION_NOT_FOUND');
});

test('invalid policies are refused before any call', async () => {
  const c = client();
  const e = await rejection(c.cleanup.report(REPO, { policies: { x: { id: 'x', action: 'DELETE', condition: { olderThan: 'soon' } } } }));
  assert.ok(e.isConfiguration(), e.code);
});
