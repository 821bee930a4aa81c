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
