/** One reader per workspace file type: garbage of each kind is named with its file and problem. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { kindOf, validateFiles } from '../../src/evidence/validate-files.ts'

const b = (s: string) => Buffer.from(s)

test('every workspace file name has its reader', () => {
  assert.deepEqual(
    [
      'vulns.json',
      'policy.json',
      'build.json',
      'provenance.intoto.json',
      'repro-report.json',
      'signatures.json',
      'vulns.intoto.json',
      'provenance.sigstore.json',
      'artifacts/a.tgz.sigstore.json',
      'vulns.sarif',
      'sbom.cdx.json',
      'sbom.vulns.cdx.json',
      'sbom.cdx.xml',
      'x.spdx.json',
      'sbom.spdx3.jsonld',
      'vulns.md',
      'build.log',
      'artifacts/a.tgz',
      'applied-policy/p.yaml',
    ].map(kindOf),
    [
      'vulns',
      'policy-result',
      'build',
      'provenance',
      'repro-report',
      'signatures',
      'in-toto-statement',
      'sigstore-bundle',
      'sigstore-bundle',
      'sarif',
      'cyclonedx-json',
      'cyclonedx-json',
      'cyclonedx-xml',
      'spdx-json',
      'spdx3-jsonld',
      'text',
      'text',
      'opaque',
      'opaque',
    ],
  )
})

test('garbage of every kind is a problem naming the file; opaque files are not read', async () => {
  const files = new Map<string, Buffer>([
    ['vulns.json', b('{"schemaVersion":1,"findings":[]}')],
    ['policy.json', b('{"schemaVersion":1,"verdict":"maybe"}')],
    ['build.json', b('[]')],
    [
      'provenance.intoto.json',
      b(
        `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"${'0'.repeat(64)}"}}],"predicateType":"https://example.com/other","predicate":{}}`,
      ),
    ],
    ['repro-report.json', b('{"schemaVersion":2}')],
    ['signatures.json', b('{"schemaVersion":1,"bundles":[{"file":"x"}]}')],
    ['vulns.intoto.json', b('{"_type":"nope"}')],
    ['provenance.sigstore.json', b('{}')],
    ['vulns.sarif', b('{"version":"1.0"}')],
    ['sbom.cdx.json', b('{"bomFormat":"SPDX"}')],
    ['x.spdx.json', b('{"spdxVersion":"2.3"}')],
    ['vulns.md', b('text\u0000with a NUL')],
    ['artifacts/a.tgz', b('\u0000\u0001 anything')],
    ['applied-policy/p.yaml', b('anything')],
  ])
  const { problems, unchecked } = await validateFiles(files, { sboms: false })
  assert.deepEqual(unchecked, [])
  assert.deepEqual(
    problems.map((p) => p.file),
    [
      'build.json',
      'policy.json',
      'provenance.intoto.json',
      'provenance.sigstore.json',
      'repro-report.json',
      'sbom.cdx.json',
      'signatures.json',
      'vulns.intoto.json',
      'vulns.json',
      'vulns.md',
      'vulns.sarif',
      'x.spdx.json',
    ],
  )
  const byFile = new Map(problems.map((p) => [p.file, p.message]))
  assert.match(byFile.get('provenance.intoto.json')!, /predicateType/)
  assert.match(byFile.get('vulns.json')!, /required property 'sbom'/)
  const notJson = await validateFiles(new Map([['build.json', b('{"schemaVersion": 1,')]]), { sboms: false })
  assert.match(notJson.problems[0]!.message, /^not JSON/)
})

test('SPDX documents detbuild writes are checked against their official schemas (with sboms)', async () => {
  const { mkdtempSync, readFileSync } = await import('node:fs')
  const os = await import('node:os')
  const path = await import('node:path')
  const { runSbom } = await import('../../src/sbom/index.ts')
  const { silentLogger } = await import('../../src/util/log.ts')
  const out = mkdtempSync(path.join(os.tmpdir(), 'detbuild-spdx-evidence-'))
  await runSbom({
    cwd: path.resolve(import.meta.dirname, '../../fixtures/small-app'),
    out,
    from: 'lockfile',
    format: 'json',
    spec: '1.6',
    spdx: ['2.3', '3.0.1'],
    omit: [],
    workspaces: [],
    validate: true,
    sourceDateEpoch: 1700000000,
    log: silentLogger,
  })
  const two = readFileSync(path.join(out, 'sbom.spdx.json'))
  const three = readFileSync(path.join(out, 'sbom.spdx3.jsonld'))
  const ok = await validateFiles(
    new Map([
      ['sbom.spdx.json', two],
      ['sbom.spdx3.jsonld', three],
    ]),
    { sboms: true },
  )
  assert.deepEqual(ok, { problems: [], unchecked: [] })
  // a package without its required name: the shape check passes, the schema does not
  const broken2 = JSON.parse(two.toString())
  delete broken2.packages[0].name
  const broken3 = JSON.parse(three.toString())
  broken3['@graph'] = broken3['@graph'].map((e: Record<string, unknown>) => ({ ...e, type: 'NotAType' }))
  const bad = await validateFiles(
    new Map([
      ['sbom.spdx.json', b(JSON.stringify(broken2))],
      ['sbom.spdx3.jsonld', b(JSON.stringify(broken3))],
      ['other.spdx3.jsonld', b('{"@context":"https://example.com/ctx"}')],
    ]),
    { sboms: true },
  )
  assert.deepEqual(
    bad.problems.map((p) => [p.file, p.message.split(':')[0]]),
    [
      ['other.spdx3.jsonld', 'not an SPDX 3.0.1 JSON-LD document (@context https'],
      ['sbom.spdx.json', 'not a valid SPDX 2.3 document'],
      ['sbom.spdx3.jsonld', 'not a valid SPDX 3.0.1 document'],
    ],
  )
})

test('bundle collects every SBOM format of the workspace: CycloneDX JSON/XML, SPDX 2.3 JSON, SPDX 3.0.1 JSON-LD', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs')
  const os = await import('node:os')
  const path = await import('node:path')
  const { collectEvidence } = await import('../../src/evidence/collect.ts')
  const out = mkdtempSync(path.join(os.tmpdir(), 'detbuild-collect-'))
  for (const n of [
    'sbom.cdx.json',
    'sbom.cdx.xml',
    'sbom.spdx.json',
    'sbom.spdx3.jsonld',
    'notes.jsonld',
    'x.spdx3.json',
  ])
    writeFileSync(path.join(out, n), '{}')
  const got = await collectEvidence({
    cwd: out,
    out,
    includeArtifacts: false,
    env: { SOURCE_DATE_EPOCH: '1700000000' },
  })
  assert.deepEqual([...got.files.keys()].sort(), [
    'sbom.cdx.json',
    'sbom.cdx.xml',
    'sbom.spdx.json',
    'sbom.spdx3.jsonld',
  ])
})
