import assert from 'node:assert/strict';
import { test } from 'node:test';

import { rejection, withEmulator } from './helpers.js';

const { client } = withEmulator();
const REPO = 'generic';
const PKG = 'demo-bundle';

test('packages are listed and read', async () => {
  const c = client();
  const pkgs = await c.packages.list(REPO).toArray();
  assert.deepEqual(
    pkgs.map((p) => p.name),
    ['projects/demo-project/locations/us-central1/repositories/generic/packages/demo-bundle'],
  );
  const p = await c.packages.get(REPO, PKG);
  assert.deepEqual(p.annotations, { team: 'platform' });
  const maven = await c.packages.list('maven').toArray();
  assert.equal(maven.length, 1);
});

test('versions are listed with their tags, ordered, and read', async () => {
  const c = client();
  const full = await c.versions.list(REPO, PKG, { view: 'FULL', orderBy: 'create_time desc' }).toArray();
  assert.deepEqual(
    full.map((v) => v.name.split('/').pop()),
    ['2.0.0', '1.0.0'],
  );
  assert.deepEqual(
    full[0]?.relatedTags?.map((t) => t.name.split('/').pop()),
    ['latest'],
  );
  const basic = await c.versions.list(REPO, PKG).toArray();
  assert.equal(basic[0]?.relatedTags, undefined);
  const one = await c.versions.get(REPO, PKG, '1.0.0', { view: 'FULL' });
  assert.equal(one.relatedTags?.[0]?.name.split('/').pop(), 'stable');
  assert.equal((await rejection(c.versions.list(REPO, PKG, { view: 'WIDE' as 'FULL' }).toArray())).code, 'INVALID_ARGUMENT');
});

test('tags are created, moved, read, listed and deleted', async () => {
  const c = client();
  const t = await c.tags.create(REPO, PKG, 'candidate', '1.0.0');
  assert.equal(t.version.split('/').pop(), '1.0.0');
  const moved = await c.tags.update(REPO, PKG, 'candidate', '2.0.0');
  assert.equal(moved.version.split('/').pop(), '2.0.0');
  assert.equal((await c.tags.get(REPO, PKG, 'candidate')).version, moved.version);
  const names = (await c.tags.list(REPO, PKG).toArray()).map((x) => x.name.split('/').pop()).sort();
  assert.deepEqual(names, ['candidate', 'latest', 'stable']);
  const filtered = await c.tags
    .list(REPO, PKG, { filter: `version="${moved.version}"` })
    .toArray();
  assert.deepEqual(filtered.map((x) => x.name.split('/').pop()).sort(), ['candidate', 'latest']);
  await c.tags.delete(REPO, PKG, 'candidate');
  assert.equal((await rejection(c.tags.get(REPO, PKG, 'candidate'))).code, 'TAG_NOT_FOUND');
  assert.equal((await c.versions.get(REPO, PKG, '2.0.0')).name.split('/').pop(), '2.0.0');
});

test('versions are deleted one by one (tagged ones with force) and in batches', async () => {
  const c = client();
  const check = await c.versions.batchDelete('npm', '@demo/widgets', ['1.0.0'], { validateOnly: true });
  assert.deepEqual(check.failedVersions, []);
  const npmVersions = await c.versions.list('npm', '@demo/widgets').toArray();
  assert.ok(npmVersions.length >= 1, 'validateOnly deleted nothing');

  const tagged = await rejection(c.versions.delete(REPO, PKG, '1.0.0'));
  assert.equal(tagged.code, 'FAILED_PRECONDITION');
  await c.versions.delete(REPO, PKG, '1.0.0', { force: true });
  assert.equal((await rejection(c.versions.get(REPO, PKG, '1.0.0'))).code, 'VERSION_NOT_FOUND');

  await c.packages.delete(REPO, PKG);
  assert.equal((await rejection(c.packages.get(REPO, PKG))).code, 'PACKAGE_NOT_FOUND');
});
