import assert from 'node:assert/strict';
import { test } from 'node:test';

import { rejection, withEmulator } from './helpers.js';

const { client } = withEmulator();

async function hello(): Promise<{ image: string; uri: string }> {
  const c = client();
  const { digest } = await c.images.resolve('docker/hello:latest');
  const image = `hello@${digest}`;
  const report = await c.vulnerabilities.report('docker', image);
  return { image, uri: report.resourceUri };
}

test('an image without findings has an empty report', async () => {
  const { image, uri } = await hello();
  const c = client();
  const report = await c.vulnerabilities.report('docker', image);
  assert.match(uri, /^https:\/\/us-central1-docker\.pkg\.dev\/demo-project\/docker\/hello@sha256:/);
  assert.deepEqual(report.findings, []);
  assert.equal(report.counts.CRITICAL?.total ?? 0, 0);
  assert.deepEqual(await c.vulnerabilities.sbomReferences('docker', image), []);
});

test('occurrences created through Grafeas show up in the report, summary and image report', async () => {
  const { image, uri } = await hello();
  const c = client();
  const note = await c.vulnerabilities.createNote('CVE-2024-0001', {
    kind: 'VULNERABILITY',
    shortDescription: 'a demo vulnerability',
    vulnerability: { severity: 'HIGH', cvssScore: 8.1 },
  });
  assert.equal(note.name, 'projects/demo-project/notes/CVE-2024-0001');
  assert.equal((await c.vulnerabilities.note(note.name ?? '')).shortDescription, 'a demo vulnerability');

  const occ = await c.vulnerabilities.createOccurrence({
    resourceUri: uri,
    noteName: note.name ?? '',
    kind: 'VULNERABILITY',
    vulnerability: {
      effectiveSeverity: 'HIGH',
      severity: 'HIGH',
      cvssScore: 8.1,
      fixAvailable: true,
      shortDescription: 'openssl: a demo vulnerability',
      packageIssue: [
        {
          affectedPackage: 'openssl',
          affectedVersion: { kind: 'NORMAL', name: '3.0.1' },
          fixedVersion: { kind: 'NORMAL', name: '3.0.8' },
          fixAvailable: true,
        },
      ],
    },
  });
  assert.match(occ.name ?? '', /^projects\/demo-project\/occurrences\//);
  assert.equal((await c.vulnerabilities.occurrence(occ.name ?? '')).noteName, note.name);

  const report = await c.vulnerabilities.report('docker', image);
  assert.deepEqual(report.counts.HIGH, { total: 1, fixable: 1 });
  assert.equal(report.findings[0]?.cve, 'CVE-2024-0001');
  assert.equal(report.findings[0]?.severity, 'HIGH');
  assert.equal(report.findings[0]?.packages[0]?.name, 'openssl');
  assert.equal(report.findings[0]?.packages[0]?.fixedVersion, '3.0.8');

  const all = await c.vulnerabilities.occurrences({ filter: 'kind="VULNERABILITY"' }).toArray();
  assert.equal(all.length, 1);
  const forImage = await c.vulnerabilities.occurrences({ repository: 'docker', image }).toArray();
  assert.ok(forImage.some((o) => o.name === occ.name));

  const summary = await c.vulnerabilities.summary();
  assert.equal(summary.resources[uri]?.counts.HIGH?.total, 1);
  const one = await c.vulnerabilities.summary({ repository: 'docker', image });
  assert.deepEqual(Object.keys(one.resources), [uri]);

  const rows = await c.vulnerabilities.imageReport('docker');
  assert.equal(rows.length, 1);
  assert.equal(rows[0]?.vulnerabilities?.counts.HIGH?.total, 1);
  assert.equal(rows[0]?.error, null);
  const inspected = await c.images.inspect('docker/hello:latest');
  assert.equal(inspected.vulnerabilities?.total.total, 1);

  const notes = await c.vulnerabilities.notes().toArray();
  assert.ok(notes.some((n) => n.name === note.name));
});

test('Container Analysis answers the same over REST', async () => {
  const { image } = await hello();
  const rest = client({ analysisProtocol: 'rest' });
  const report = await rest.vulnerabilities.report('docker', image);
  assert.equal(report.counts.HIGH?.total, 1);
  const viaRest = await rest.vulnerabilities.occurrences({ filter: 'kind="VULNERABILITY"' }).toArray();
  assert.equal(viaRest.length, 1);
});

test('waiting for an analysis that is not there times out', async () => {
  const c = client();
  await c.ready();
  const { image } = await hello();
  const e = await rejection(
    c.vulnerabilities.waitForAnalysis('docker', image, { pollIntervalMs: 50, deadlineMs: 200 }),
  );
  assert.equal(e.code, 'TIMEOUT');
});

test('a vulnerability call needs a project and a digest', async () => {
  const c = client();
  assert.equal((await rejection(c.vulnerabilities.report('docker', 'hello:latest'))).code, 'INVALID_REFERENCE');
  const noProject = client({ project: undefined });
  const e = await rejection(noProject.vulnerabilities.summary());
  assert.equal(e.code, 'INVALID_PROJECT');
  assert.equal(
    (await rejection(c.vulnerabilities.createOccurrence({ resourceUri: 1 } as never))).code,
    'INVALID_ARGUMENT',
  );
});
