import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Paged } from '../src/index.js';
import { rejection, withEmulator } from './helpers.js';

const { client } = withEmulator();

test('repositories are listed by item and by page, lazily', async () => {
  const c = client();
  const all = await c.repositories.list().toArray();
  assert.equal(all.length, 10);
  const docker = all.find((r) => r.name.endsWith('/docker'));
  assert.equal(docker?.format, 'DOCKER');
  assert.equal(docker?.mode, 'STANDARD_REPOSITORY');
  assert.equal(typeof docker?.sizeBytes, 'string', 'int64 arrives as a string');

  const pages = [];
  for await (const page of c.repositories.list({ pageSize: 4 }).byPage()) pages.push(page);
  assert.deepEqual(
    pages.map((p) => p.items.length),
    [4, 4, 2],
  );
  assert.equal(pages.at(-1)?.nextPageToken, null);
  assert.equal(typeof pages[0]?.nextPageToken, 'string');

  // Resuming from a token continues where the first page ended.
  const rest = await c.repositories.list({ pageSize: 4, pageToken: pages[0]?.nextPageToken ?? '' }).toArray();
  assert.deepEqual(
    rest.map((r) => r.name),
    all.slice(4).map((r) => r.name),
  );

  // Breaking out early fetches no further page.
  let seen = 0;
  for await (const _ of c.repositories.list({ pageSize: 2 })) {
    seen += 1;
    if (seen === 3) break;
  }
  assert.equal(seen, 3);
  assert.ok(c.repositories.list() instanceof Paged);
});

test('repositories are filtered and ordered', async () => {
  const c = client();
  const desc = await c.repositories.list({ orderBy: 'name desc' }).toArray();
  assert.equal(desc[0]?.name.split('/').pop(), 'yum');
  const filtered = await c.repositories
    .list({ filter: 'name="projects/demo-project/locations/us-central1/repositories/npm"' })
    .toArray();
  assert.deepEqual(
    filtered.map((r) => r.format),
    ['NPM'],
  );
});

test('a repository is created, read, updated, tested and deleted', async () => {
  const c = client();
  const created = await c.repositories.create('made-by-node', 'DOCKER', {
    description: 'from node',
    labels: { team: 'ts' },
    immutableTags: true,
  });
  assert.equal(created.name, 'projects/demo-project/locations/us-central1/repositories/made-by-node');
  assert.equal(created.format, 'DOCKER');
  assert.deepEqual(created.labels, { team: 'ts' });
  assert.equal(created.dockerConfig?.immutableTags, true);

  const updated = await c.repositories.update('made-by-node', {
    description: 'changed',
    cleanupPolicyDryRun: true,
    cleanupPolicies: { old: { id: 'old', action: 'DELETE', condition: { olderThan: '86400s' } } },
  });
  assert.equal(updated.description, 'changed');
  assert.equal(updated.cleanupPolicyDryRun, true);
  assert.equal(updated.cleanupPolicies?.old?.action, 'DELETE');
  assert.equal((await c.repositories.get('made-by-node')).description, 'changed');

  const held = await c.repositories.testIamPermissions('made-by-node', [
    'artifactregistry.repositories.get',
    'artifactregistry.repositories.delete',
  ]);
  assert.equal(held.length, 2);

  const again = await rejection(c.repositories.create('made-by-node', 'DOCKER'));
  assert.equal(again.code, 'ALREADY_EXISTS');

  await c.repositories.delete('made-by-node');
  assert.equal((await rejection(c.repositories.get('made-by-node'))).code, 'REPOSITORY_NOT_FOUND');
});

test('a full repository name works where a short id does', async () => {
  const c = client();
  const r = await c.repositories.get('projects/demo-project/locations/us-central1/repositories/maven');
  assert.equal(r.format, 'MAVEN');
});

test('withProject and withLocation share the client and change its defaults', async () => {
  const c = client();
  await c.ready();
  assert.equal(c.project, 'demo-project');
  assert.equal(c.location, 'us-central1');
  const other = c.withLocation('europe-west1');
  await other.ready();
  assert.equal(other.location, 'europe-west1');
  assert.deepEqual(await other.repositories.list().toArray(), []);
  assert.equal((await rejection(c.withProject('Bad!').ready())).code, 'INVALID_PROJECT');
});
