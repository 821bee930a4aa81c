/**
 * Round trip: `detbuild sbom --format cyclonedx-json,spdx-json,spdx3-jsonld,cyclonedx-xml` writes four files, and
 * `scan --sbom` / `policy --sbom` read each of them (the format detected from the content, not the file
 * name) with the same findings and the same rule outcomes. A real third-party SPDX 2.3 document (npm's
 * own `npm sbom --sbom-format spdx`) reads too. Hostile documents end in one line naming the file and the
 * JSON path, exit 2, never a crash.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { readSbomText } from '../../src/sbom/index.ts'
import { validateSpdx } from '../../src/sbom/validate-spdx.ts'
import { runScan, type ScanOptions } from '../../src/scan/index.ts'
import { silentLogger } from '../../src/util/log.ts'
import { cli } from '../helpers/cli.ts'
import { loadRecords, type OsvFake, startOsvFake } from '../helpers/osv-server.ts'
import { fixture, tempDir } from '../helpers/paths.ts'
import { recordsDir } from '../scan/helpers.ts'

type Doc = any

const FILES = ['sbom.cdx.json', 'sbom.spdx.json', 'sbom.spdx3.jsonld', 'sbom.cdx.xml'] as const

let osv: OsvFake
before(async () => {
  osv = await startOsvFake(loadRecords(recordsDir))
})
after(async () => {
  await osv.close()
})

/** The project's SBOM in all three formats (through the CLI), in `<dir>/.detbuild`. */
async function writeFormats(name: string): Promise<string> {
  const out = tempDir('detbuild-roundtrip-')
  const r = await cli([
    'sbom',
    '-C',
    fixture(name),
    '--out',
    out,
    '--format',
    'cyclonedx-json,spdx-json',
    '--format',
    'spdx3-jsonld,cyclonedx-xml',
  ])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /SPDX 2\.3, schema-valid/)
  assert.match(r.stdout, /SPDX 3\.0\.1, schema-valid/)
  assert.match(r.stdout, /CycloneDX 1\.6, schema-valid/)
  return out
}

function scanOptions(cwd: string, out: string, sbom: string): ScanOptions {
  return {
    cwd,
    out,
    sbom,
    osvUrl: osv.url,
    cacheDir: null,
    failOn: null,
    omitDev: false,
    env: { SOURCE_DATE_EPOCH: '1700000000' },
    now: new Date('2026-01-01T00:00:00Z'),
    log: silentLogger,
    client: { sleep: async () => {}, timeoutMs: 5000, retries: 0 },
  }
}

for (const name of ['vulnerable-app', 'small-app', 'dep-kinds']) {
  test(`${name}: scan finds the same in CycloneDX JSON and XML, SPDX 2.3 and SPDX 3.0.1`, async () => {
    const dir = await writeFormats(name)
    const reports = []
    for (const file of FILES) {
      const result = await runScan(
        scanOptions(fixture(name), tempDir('detbuild-roundtrip-scan-'), path.join(dir, file)),
      )
      const r = result.report as Doc
      reports.push({
        file,
        findings: r.findings.map((f: Doc) => ({
          id: f.id,
          purl: f.purl,
          severity: f.severity,
          direct: f.direct,
          dev: f.dev,
          paths: f.paths,
          fixed: f.fixed,
        })),
        checked: r.summary?.components ?? r.components,
        unchecked: r.unchecked,
        exitCode: result.exitCode,
      })
    }
    if (name === 'vulnerable-app') assert.ok(reports[0]!.findings.length > 0, 'the fixture has findings')
    for (const r of reports.slice(1))
      assert.deepEqual({ ...r, file: '' }, { ...reports[0]!, file: '' }, r.file)
  })
}

test('policy reads all four formats with the same rule outcomes', async () => {
  const dir = await writeFormats('small-app')
  const outcomes = []
  for (const file of FILES) {
    const r = await cli([
      'policy',
      '-C',
      fixture('small-app'),
      '--out',
      tempDir('detbuild-roundtrip-policy-'),
      '--sbom',
      path.join(dir, file),
      '--json',
      '--warn-only',
    ])
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout)
    outcomes.push(JSON.stringify(result.rules.map((x: Doc) => ({ ...x, evidence: undefined }))))
  }
  assert.ok(outcomes[0]!.length > 10)
  assert.equal(outcomes[1], outcomes[0], 'SPDX 2.3 = CycloneDX')
  assert.equal(outcomes[2], outcomes[0], 'SPDX 3.0.1 = CycloneDX')
  assert.equal(outcomes[3], outcomes[0], 'CycloneDX XML = CycloneDX JSON')
})

test('the format comes from the content: an SPDX document named .cdx.json is read as SPDX', async () => {
  const dir = await writeFormats('vulnerable-app')
  copyFileSync(path.join(dir, 'sbom.spdx3.jsonld'), path.join(dir, 'renamed.cdx.json'))
  const read = readSbomText(
    readFileSync(path.join(dir, 'renamed.cdx.json'), 'utf8'),
    'renamed.cdx.json',
    'SCAN_SBOM_INVALID',
  )
  assert.equal(read.format, 'spdx-3.0.1')
})

test("npm's own SPDX 2.3 (a third-party writer) reads: the same packages and dev flags as detbuild's CycloneDX", async () => {
  const { stdout } = await promisify(execFile)(
    'npm',
    ['sbom', '--sbom-format', 'spdx', '--package-lock-only'],
    {
      cwd: fixture('small-app'),
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, npm_config_loglevel: 'silent' },
    },
  )
  const npmDoc = readSbomText(stdout, 'npm-sbom.spdx.json', 'SCAN_SBOM_INVALID')
  assert.equal(npmDoc.format, 'spdx-2.3')
  const dir = await writeFormats('small-app')
  const ours = readSbomText(readFileSync(path.join(dir, 'sbom.cdx.json'), 'utf8'), 'x', 'SCAN_SBOM_INVALID')
    .bom as Doc
  const view = (bom: Doc) =>
    Object.fromEntries(
      (bom.components as Doc[])
        .map((c) => [decodeURIComponent(c.purl), c.scope === 'excluded'] as const)
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    )
  assert.deepEqual(view(npmDoc.bom), view(ours))
  assert.equal((npmDoc.bom as Doc).metadata.component.purl, 'pkg:npm/small-app@1.2.0')
  // the schema detbuild validates its own documents against accepts the third-party document too
  assert.deepEqual(await validateSpdx(stdout, '2.3'), { ok: true })
})

test('a broken document fails the official schemas (the validators check)', async () => {
  const dir = await writeFormats('small-app')
  const two: Doc = JSON.parse(readFileSync(path.join(dir, 'sbom.spdx.json'), 'utf8'))
  // (the v2.3 schema has no SPDXID pattern: format-agreement.test.ts checks detbuild's ids itself)
  two.packages[0].primaryPackagePurpose = 'TOASTER'
  assert.equal((await validateSpdx(JSON.stringify(two), '2.3')).ok, false)
  const three: Doc = JSON.parse(readFileSync(path.join(dir, 'sbom.spdx3.jsonld'), 'utf8'))
  three['@graph'].find((e: Doc) => e.type === 'software_Package').software_primaryPurpose = 'toaster'
  assert.equal((await validateSpdx(JSON.stringify(three), '3.0.1')).ok, false)
  delete three['@context']
  assert.equal((await validateSpdx(JSON.stringify(three), '3.0.1')).ok, false)
})

const HOSTILE: Array<[string, string, RegExp]> = [
  [
    'not an SBOM',
    '{"hello": "world"}',
    /(SCAN|POLICY)_SBOM_INVALID.*x\.json.*no "bomFormat".*"spdxVersion".*"@context"/,
  ],
  ['an array', '[1, 2]', /(SCAN|POLICY)_SBOM_INVALID.*\$ is not a JSON object/],
  ['XML', '<?xml version="1.0"?><bom/>', /(SCAN|POLICY)_SBOM_INVALID.*an XML document that is not CycloneDX/],
  [
    'CycloneDX 1.3 XML',
    '<bom xmlns="http://cyclonedx.org/schema/bom/1.3" version="1"><components/></bom>',
    /(SCAN|POLICY)_SBOM_INVALID.*not CycloneDX 1\.4–1\.7 XML/,
  ],
  [
    'XML with an entity declaration',
    '<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY a "aaaaaaaaaa">]><bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><metadata><timestamp>&a;</timestamp></metadata></bom>',
    /(SCAN|POLICY)_SBOM_INVALID.*DOCTYPE or entity declaration: not read/,
  ],
  [
    'CycloneDX XML that breaks its schema',
    '<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><components><component type="toaster"><name>a</name></component></components></bom>',
    /(SCAN|POLICY)_SBOM_INVALID.*not a valid CycloneDX 1\.6 XML document/,
  ],
  [
    'malformed CycloneDX XML (an element not closed)',
    '<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><components><component type="library"><name>a</name></components></bom>',
    /(SCAN|POLICY)_SBOM_INVALID.*not a valid CycloneDX 1\.6 XML document/,
  ],
  [
    'another JSON-LD',
    '{"@context": "https://schema.org", "@graph": []}',
    /(SCAN|POLICY)_SBOM_INVALID.*@context/,
  ],
  ['SPDX 2.1', '{"spdxVersion": "SPDX-2.1"}', /SPDX_INVALID.*\$\.spdxVersion.*SPDX-2\.3/],
  [
    'packages not an array',
    '{"spdxVersion": "SPDX-2.3", "packages": {}}',
    /SPDX_INVALID.*\$\.packages: must be an array/,
  ],
  [
    'a package without SPDXID',
    '{"spdxVersion": "SPDX-2.3", "packages": [{"name": "a"}]}',
    /SPDX_INVALID.*\$\.packages\[0\]\.SPDXID: is missing/,
  ],
  [
    'a type-confused name',
    '{"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "SPDXRef-a", "name": ["a"]}]}',
    /SPDX_INVALID.*\$\.packages\[0\]\.name: must be a string/,
  ],
  [
    'a duplicate SPDXID',
    '{"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "SPDXRef-a", "name": "a"}, {"SPDXID": "SPDXRef-a", "name": "b"}]}',
    /SPDX_INVALID.*\$\.packages\[1\]\.SPDXID.*used twice/,
  ],
  [
    'nothing described',
    '{"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "SPDXRef-a", "name": "a"}]}',
    /SPDX_INVALID.*DESCRIBES no package/,
  ],
  [
    'a CONTAINS cycle',
    JSON.stringify({
      spdxVersion: 'SPDX-2.3',
      packages: ['r', 'a', 'b'].map((n) => ({ SPDXID: `SPDXRef-${n}`, name: n })),
      relationships: [
        { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-r' },
        { spdxElementId: 'SPDXRef-a', relationshipType: 'CONTAINS', relatedSpdxElement: 'SPDXRef-b' },
        { spdxElementId: 'SPDXRef-b', relationshipType: 'CONTAINS', relatedSpdxElement: 'SPDXRef-a' },
      ],
    }),
    /SPDX_INVALID.*CONTAINS cycle/,
  ],
  [
    'containment 100 deep',
    JSON.stringify({
      spdxVersion: 'SPDX-2.3',
      packages: Array.from({ length: 101 }, (_, i) => ({ SPDXID: `SPDXRef-p${i}`, name: `p${i}` })),
      relationships: [
        {
          spdxElementId: 'SPDXRef-DOCUMENT',
          relationshipType: 'DESCRIBES',
          relatedSpdxElement: 'SPDXRef-p0',
        },
        ...Array.from({ length: 100 }, (_, i) => ({
          spdxElementId: `SPDXRef-p${i}`,
          relationshipType: 'CONTAINS',
          relatedSpdxElement: `SPDXRef-p${i + 1}`,
        })),
      ],
    }),
    /SPDX_INVALID.*more than 32 levels deep/,
  ],
  [
    'SPDX 3 without @graph',
    '{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"}',
    /SPDX_INVALID.*"@graph"/,
  ],
  [
    'SPDX 3 with a non-object element',
    '{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": [1]}',
    /SPDX_INVALID.*\$\["@graph"\]\[0\]: must be an object/,
  ],
  [
    'SPDX 3 without a root package',
    '{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": [{"type": "SpdxDocument", "spdxId": "urn:x", "rootElement": ["urn:y"]}]}',
    /SPDX_INVALID.*no SpdxDocument whose rootElement/,
  ],
]

for (const [what, text, expected] of HOSTILE) {
  test(`hostile SBOM input (${what}): scan and policy exit 2 with one line`, async () => {
    const dir = tempDir('detbuild-roundtrip-hostile-')
    writeFileSync(path.join(dir, 'x.json'), text)
    for (const command of ['scan', 'policy']) {
      // scan reads the SBOM before it asks any server: the URL is never reached
      const extra = command === 'scan' ? ['--osv-url', 'http://127.0.0.1:9'] : []
      const r = await cli([command, '-C', dir, '--sbom', 'x.json', ...extra])
      assert.equal(r.code, 2, `${command}: ${r.stderr}`)
      const lines = r.stderr.trim().split('\n')
      assert.match(lines[0]!, expected, command)
      assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace')
    }
  })
}

test('a hostile SPDX creator or package name (long runs of "-1") is read in one pass, kept as a name', () => {
  const long = `${'a-1'.repeat(300_000)}x`
  const doc = {
    spdxVersion: 'SPDX-2.3',
    creationInfo: { created: '2024-01-01T00:00:00Z', creators: [`Tool: ${long}`, 'Tool: detbuild-1.2.3'] },
    packages: [{ SPDXID: 'SPDXRef-r', name: `r${'-'.repeat(100_000)}q` }],
    relationships: [
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-r' },
    ],
  }
  const read = readSbomText(JSON.stringify(doc), 'x.json', 'SCAN_SBOM_INVALID').bom as Doc
  assert.deepEqual(read.metadata.tools.components, [
    { type: 'application', name: long },
    { type: 'application', name: 'detbuild', version: '1.2.3' },
  ])
  assert.equal(read.metadata.timestamp, '2024-01-01T00:00:00.000Z')
  assert.equal(read.metadata.component['bom-ref'], 'SPDXRef-r', 'no purl: the SPDX id is the ref')
})

test('sbom --format: SPDX only writes no CycloneDX file; an unknown format is FORMAT_USAGE, exit 2', async () => {
  const out = tempDir('detbuild-roundtrip-only-')
  const r = await cli([
    'sbom',
    '-C',
    fixture('small-app'),
    '--out',
    out,
    '--format',
    'spdx3-jsonld',
    '--json',
  ])
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout).files, ['sbom.spdx3.jsonld'])
  const bad = await cli(['sbom', '-C', fixture('small-app'), '--out', out, '--format', 'json,spdx4'])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /\[FORMAT_USAGE\]: --format takes .*not "spdx4"/)
})

test('Object.prototype names are no algorithm, lifecycle or format', async () => {
  const two = readSbomText(
    JSON.stringify({
      spdxVersion: 'SPDX-2.3',
      packages: [
        {
          SPDXID: 'SPDXRef-r',
          name: 'r',
          checksums: [
            { algorithm: 'constructor', checksumValue: 'ab' },
            { algorithm: '__proto__', checksumValue: 'ab' },
            { algorithm: 'SHA256', checksumValue: 'AB' },
          ],
        },
      ],
      relationships: [
        { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-r' },
      ],
    }),
    'x.json',
    'SCAN_SBOM_INVALID',
  ).bom as Doc
  assert.deepEqual(two.metadata.component.hashes, [{ alg: 'SHA-256', content: 'ab' }])
  const three = readSbomText(
    JSON.stringify({
      '@context': 'https://spdx.org/rdf/3.0.1/spdx-context.jsonld',
      '@graph': [
        { type: 'SpdxDocument', spdxId: 'urn:d', rootElement: ['urn:s'] },
        {
          type: 'software_Sbom',
          spdxId: 'urn:s',
          rootElement: ['urn:p'],
          software_sbomType: ['constructor', 'build'],
        },
        {
          type: 'software_Package',
          spdxId: 'urn:p',
          name: 'p',
          verifiedUsing: [{ type: 'Hash', algorithm: 'toString', hashValue: 'ab' }],
        },
      ],
    }),
    'x.jsonld',
    'SCAN_SBOM_INVALID',
  ).bom as Doc
  assert.deepEqual(three.metadata.lifecycles, [{ phase: 'build' }])
  assert.equal(three.metadata.component.hashes, undefined)
  const bad = await cli([
    'sbom',
    '-C',
    fixture('small-app'),
    '--out',
    tempDir('detbuild-proto-'),
    '--format',
    'constructor',
  ])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /FORMAT_USAGE/)
})
