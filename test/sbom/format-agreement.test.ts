/**
 * One inventory, every format: for npm fixtures, a Go source fixture (no module cache: unknown
 * dependency lists), a mixed folder (package.json + go.mod) and an npm package with Go modules nested
 * inside, detbuild writes CycloneDX 1.4–1.7 JSON, SPDX 2.3 JSON and SPDX 3.0.1 JSON-LD; each validates
 * against its official schema, each is byte-identical on a second run, and read back through the one
 * SBOM reader (src/sbom-read/index.ts) they agree: the same purls, dependency edges (by purl), hashes,
 * licences, suppliers, scopes, nesting and unknown-dependency statements.
 */
import assert from 'node:assert/strict'
import { cpSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { type Inventory, type InventoryNode, npmEcosystem } from '../../src/ecosystems/index.ts'
import { makeSbom, readSbomText, SPEC_VERSIONS, type SpecVersion } from '../../src/sbom/index.ts'
import { selectPackages } from '../../src/sbom/select.ts'
import { toSpdxFacts } from '../../src/sbom/spdx-facts.ts'
import { writeSpdx2 } from '../../src/sbom/spdx2.ts'
import { writeSpdx3 } from '../../src/sbom/spdx3.ts'
import { validateJson } from '../../src/sbom/validate.ts'
import { validateSpdx } from '../../src/sbom/validate-spdx.ts'
import { buildBomDocument, serializeBomDocument } from '../../src/sbom/write-json.ts'
import { GO_FIXTURES, goFixtureExecutables } from '../helpers/go.ts'
import { fixture, repoRoot, tempDir } from '../helpers/paths.ts'

type Doc = any

const base = {
  from: 'lockfile' as const,
  omit: [],
  workspaces: [],
  validate: false,
  sourceDateEpoch: 1_700_000_000,
  env: {},
}

/** What every format must agree on, keyed by purl (refs differ between formats; purls do not). */
function facts(bom: Doc) {
  const purlOf = new Map<string, string>()
  const components: Record<string, unknown> = {}
  const walk = (list: Doc[] | undefined, parent: string | undefined) => {
    for (const c of list ?? []) {
      purlOf.set(c['bom-ref'], c.purl)
      components[`${parent ? `${parent} > ` : ''}${c.purl}`] = {
        version: c.version,
        hashes: [...(c.hashes ?? [])].sort((a: Doc, b: Doc) => (a.alg < b.alg ? -1 : 1)),
        licenses: c.licenses ?? [],
        supplier: c.supplier?.name,
        scope: c.scope,
        type: c.type,
        properties: [...(c.properties ?? [])].map((p: Doc) => `${p.name}=${p.value}`).sort(),
      }
      walk(c.components, c.purl)
    }
  }
  walk([bom.metadata.component], undefined)
  walk(bom.components, undefined)
  const edges = bom.dependencies
    .flatMap((d: Doc) => (d.dependsOn ?? []).map((t: string) => `${purlOf.get(d.ref)} -> ${purlOf.get(t)}`))
    .sort()
  const incomplete = (bom.compositions ?? [])
    .flatMap((c: Doc) => (c.aggregate === 'incomplete' ? c.dependencies : []))
    .map((r: string) => purlOf.get(r))
    .sort()
  const sorted = Object.fromEntries(Object.entries(components).sort(([a], [b]) => (a < b ? -1 : 1)))
  return { root: bom.metadata.component.purl, components: sorted, edges, incomplete }
}

interface Written {
  cdx: Map<SpecVersion, string>
  spdx2: string
  spdx3: string
}

async function writeAll(cwd: string): Promise<Written> {
  const cdx = new Map<SpecVersion, string>()
  let spdx2 = ''
  let spdx3 = ''
  for (const spec of SPEC_VERSIONS) {
    const made = await makeSbom({ ...base, cwd, format: 'json', spec, spdx: ['2.3', '3.0.1'] })
    cdx.set(spec, made.serialized.json)
    // the SPDX documents do not depend on the CycloneDX version the run also writes
    if (spdx2 !== '') {
      assert.equal(made.spdx['2.3']!.json, spdx2, `SPDX 2.3 beside CycloneDX ${spec}`)
      assert.equal(made.spdx['3.0.1']!.json, spdx3, `SPDX 3.0.1 beside CycloneDX ${spec}`)
    }
    spdx2 = made.spdx['2.3']!.json
    spdx3 = made.spdx['3.0.1']!.json
  }
  return { cdx, spdx2, spdx3 }
}

async function checkAgreement(label: string, w: Written): Promise<ReturnType<typeof facts>> {
  for (const [spec, json] of w.cdx)
    assert.deepEqual(await validateJson(json, spec), { ok: true }, `${label}: CycloneDX ${spec}`)
  assert.deepEqual(await validateSpdx(w.spdx2, '2.3'), { ok: true }, `${label}: SPDX 2.3`)
  assert.deepEqual(await validateSpdx(w.spdx3, '3.0.1'), { ok: true }, `${label}: SPDX 3.0.1`)
  const read = (text: string, name: string) => readSbomText(text, name, 'SCAN_SBOM_INVALID')
  const reference = facts(read(w.cdx.get('1.6')!, 'sbom.cdx.json').bom)
  for (const [spec, json] of w.cdx)
    assert.deepEqual(facts(read(json, `cdx-${spec}`).bom), reference, `${label}: CycloneDX ${spec} = 1.6`)
  const two = read(w.spdx2, 'sbom.spdx.json')
  assert.equal(two.format, 'spdx-2.3')
  assert.deepEqual(facts(two.bom), reference, `${label}: SPDX 2.3 = CycloneDX`)
  const three = read(w.spdx3, 'sbom.spdx3.jsonld')
  assert.equal(three.format, 'spdx-3.0.1')
  assert.deepEqual(facts(three.bom), reference, `${label}: SPDX 3.0.1 = CycloneDX`)
  return reference
}

for (const name of ['small-app', 'monorepo', 'dep-kinds', 'lockfile-v1', 'vulnerable-app']) {
  test(`${name}: every format schema-valid, reproducible, and in agreement`, async () => {
    const first = await writeAll(fixture(name))
    const second = await writeAll(fixture(name))
    assert.deepEqual(second, first, 'run twice: the same bytes in every format')
    const reference = await checkAgreement(name, first)
    assert.ok(Object.keys(reference.components).length > 1, 'the fixture has components')
    const spdx2: Doc = JSON.parse(first.spdx2)
    // the SPDX 2.3 content the issue names, checked on the document itself
    assert.equal(spdx2.creationInfo.created, '2023-11-14T22:13:20Z', 'SOURCE_DATE_EPOCH, to the second')
    assert.match(spdx2.creationInfo.creators[0], /^Tool: detbuild-\d/)
    assert.match(
      spdx2.documentNamespace,
      /^https:\/\/spdx\.org\/spdxdocs\/detbuild-[A-Za-z0-9.-]+-[0-9a-f-]{36}$/,
    )
    for (const p of spdx2.packages) {
      assert.match(p.SPDXID, /^SPDXRef-[A-Za-z0-9.-]+$/)
      assert.ok(p.licenseDeclared, `${p.name}: licenseDeclared (NOASSERTION when unknown)`)
      assert.ok(p.supplier, `${p.name}: supplier (NOASSERTION when unknown)`)
      assert.equal(p.externalRefs?.[0]?.referenceCategory, 'PACKAGE-MANAGER')
    }
  })
}

test('SPDX ids and namespaces are content-derived: another inventory, another namespace', async () => {
  const a = await makeSbom({
    ...base,
    cwd: fixture('small-app'),
    format: 'none',
    spec: '1.6',
    spdx: ['2.3', '3.0.1'],
  })
  const b = await makeSbom({
    ...base,
    cwd: fixture('dep-kinds'),
    format: 'none',
    spec: '1.6',
    spdx: ['2.3', '3.0.1'],
  })
  const later = await makeSbom({
    ...base,
    sourceDateEpoch: 1_800_000_000,
    cwd: fixture('small-app'),
    format: 'none',
    spec: '1.6',
    spdx: ['2.3', '3.0.1'],
  })
  assert.notEqual(a.spdx['2.3']!.id, b.spdx['2.3']!.id)
  assert.notEqual(a.spdx['3.0.1']!.id, b.spdx['3.0.1']!.id)
  assert.notEqual(a.spdx['2.3']!.id, later.spdx['2.3']!.id, 'another time, another document')
  assert.match(later.spdx['2.3']!.json, /"created": "2027-01-15T08:00:00Z"/)
})

test('Go from source (no module cache): SPDX says "unknown dependencies", h1: sums are never checksums', async () => {
  const dir = tempDir('detbuild-format-go-')
  cpSync(path.join(repoRoot, 'test/fixtures/go/source/caddy'), dir, { recursive: true })
  const w = await writeAll(dir)
  const reference = await checkAgreement('caddy', w)
  assert.ok(reference.incomplete.length > 10, 'the unknown dependency lists survive every format')
  const spdx2: Doc = JSON.parse(w.spdx2)
  for (const p of spdx2.packages) assert.equal(p.checksums, undefined, `${p.name}: an h1: is not a checksum`)
  assert.ok(
    spdx2.packages.some((p: Doc) =>
      p.annotations?.some((a: Doc) => a.comment.includes('"detbuild:go:h1","h1:')),
    ),
    'the h1: sums are kept, as annotations',
  )
  assert.ok(
    spdx2.relationships.some(
      (r: Doc) => r.relationshipType === 'DEPENDS_ON' && r.relatedSpdxElement === 'NOASSERTION',
    ),
  )
  const spdx3: Doc = JSON.parse(w.spdx3)
  const incomplete = spdx3['@graph'].filter(
    (e: Doc) => e.type === 'Relationship' && e.completeness === 'incomplete',
  )
  assert.equal(incomplete.length, reference.incomplete.length)
  for (const r of incomplete) assert.ok(r.to.includes('NoAssertionElement'))
  assert.ok(!spdx3['@graph'].some((e: Doc) => e.type === 'software_Package' && e.verifiedUsing))
})

test('a mixed folder (package.json + go.mod): both ecosystems in every format', async () => {
  const dir = tempDir('detbuild-format-mixed-')
  cpSync(fixture('small-app'), dir, { recursive: true })
  cpSync(path.join(repoRoot, 'test/fixtures/go/source/go-cmd'), dir, { recursive: true })
  const reference = await checkAgreement('mixed', await writeAll(dir))
  const purls = Object.keys(reference.components)
  assert.ok(purls.some((p) => p.startsWith('pkg:golang/')))
  assert.ok(purls.some((p) => p.startsWith('pkg:npm/')))
})

function node(key: string, name: string, version: string, extra: Partial<InventoryNode> = {}): InventoryNode {
  return {
    key,
    name,
    version,
    location: key,
    kind: key === '' ? 'root' : 'registry',
    resolved: undefined,
    integrity: undefined,
    dev: false,
    optional: false,
    devOptional: false,
    peer: false,
    extraneous: false,
    bundled: false,
    manifest: { name, version, license: name === 'other' ? 'Acme Proprietary' : 'MIT OR Apache-2.0' },
    deps: [],
    ...extra,
  }
}

test('nested components (Go modules inside an npm package): CONTAINS in SPDX, the same nesting read back', async () => {
  const goNode = (key: string, p: string, v: string, deps: string[] = []) =>
    node(key, p, v, {
      ecosystem: 'go',
      purl: `pkg:golang/${p}@${v}`,
      deps,
      properties: [{ name: 'detbuild:go:h1', value: 'h1:x' }],
    })
  const nested = [
    goNode('bin:main', 'github.com/evanw/esbuild', 'v0.25.0', ['bin:sys']),
    goNode('bin:sys', 'golang.org/x/sys', 'v0.30.0'),
  ]
  const root = node('', 'app', '1.0.0', { deps: ['node_modules/@esbuild/linux-x64', 'node_modules/other'] })
  const esb = node('node_modules/@esbuild/linux-x64', '@esbuild/linux-x64', '0.25.0', {
    nested,
    deps: ['bin:main'],
  })
  const other = node('node_modules/other', 'other', '2.0.0', { dev: true })
  const inventory: Inventory = {
    root,
    nodes: new Map([root, esb, other].map((n) => [n.key, n])),
    warnings: [],
    lockfile: 'package-lock.json',
    lockfileVersion: 3,
    source: 'installed',
    workspaces: new Map(),
  }
  const selection = selectPackages(inventory, { omit: new Set(), workspaces: [] })
  const options = {
    timestamp: new Date(0),
    tool: { name: 'detbuild', version: '0.1.0' },
    toPurl: npmEcosystem.toPurl,
    spec: '1.6' as const,
  }
  const built = buildBomDocument(inventory, selection, options)
  const cdx = serializeBomDocument(built).json
  const f = toSpdxFacts(built.doc)
  const w: Written = { cdx: new Map([['1.6', cdx]]), spdx2: writeSpdx2(f).json, spdx3: writeSpdx3(f).json }
  const reference = await checkAgreement('nested', w)
  const parent = 'pkg:npm/%40esbuild/linux-x64@0.25.0'
  assert.ok(`${parent} > pkg:golang/golang.org/x/sys@v0.30.0` in reference.components)
  assert.ok(
    reference.edges.includes(
      `pkg:golang/github.com/evanw/esbuild@v0.25.0 -> pkg:golang/golang.org/x/sys@v0.30.0`,
    ),
  )
  const spdx2: Doc = JSON.parse(w.spdx2)
  assert.equal(spdx2.relationships.filter((r: Doc) => r.relationshipType === 'CONTAINS').length, 2)
  // a licence that is no SPDX id: a LicenseRef with its name, read back as the name
  const otherPkg = spdx2.packages.find((p: Doc) => p.name === 'other')
  assert.match(otherPkg.licenseDeclared, /^LicenseRef-Acme-Proprietary-[0-9a-f]{8}$/)
  assert.equal(spdx2.hasExtractedLicensingInfos[0].name, 'Acme Proprietary')
  assert.deepEqual(reference.components['pkg:npm/other@2.0.0'], {
    ...(reference.components['pkg:npm/other@2.0.0'] as object),
    licenses: [{ license: { name: 'Acme Proprietary' } }],
    scope: 'excluded',
  })
  const spdx3: Doc = JSON.parse(w.spdx3)
  assert.equal(
    spdx3['@graph'].filter((e: Doc) => e.type === 'Relationship' && e.relationshipType === 'contains').length,
    2,
  )
})

test('sbom --binary (a Go executable) writes the same formats from the same inventory', async () => {
  assert.ok(goFixtureExecutables().includes('bin/app-linux-amd64'))
  const dir = tempDir('detbuild-format-binary-')
  cpSync(path.join(GO_FIXTURES, 'bin/app-linux-amd64'), path.join(dir, 'app'))
  const cdx = new Map<SpecVersion, string>()
  let spdx2 = ''
  let spdx3 = ''
  for (const spec of SPEC_VERSIONS) {
    const made = await makeSbom({
      ...base,
      cwd: dir,
      binaries: ['app'],
      format: 'json',
      spec,
      spdx: ['2.3', '3.0.1'],
    })
    cdx.set(spec, made.serialized.json)
    spdx2 = made.spdx['2.3']!.json
    spdx3 = made.spdx['3.0.1']!.json
  }
  const reference = await checkAgreement('binary', { cdx, spdx2, spdx3 })
  assert.ok(Object.keys(reference.components).some((p) => p.startsWith('pkg:golang/')))
  // the executable's own sha256 is a real file digest: a property here (the CycloneDX writer's choice), kept
  assert.ok(
    JSON.parse(spdx2).packages.some((p: Doc) =>
      p.annotations?.some((a: Doc) => a.comment.includes('detbuild:go:binary-sha256')),
    ),
  )
})
