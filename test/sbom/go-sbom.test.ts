/**
 * The SBOM of a Go project from source, end to end: schema-valid CycloneDX (JSON and XML, 1.4–1.7)
 * from real go.mod/go.sum files, the same bytes from the direct JSON writer and from the CycloneDX
 * library path, the same bytes on a second run; h1 hashes never written as SHA-256; a mixed folder
 * (package.json + go.mod) as one SBOM or one ecosystem with --ecosystem; nested components; the CLI.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { type Inventory, type InventoryNode, npmEcosystem } from '../../src/ecosystems/index.ts'
import { makeSbom } from '../../src/sbom/index.ts'
import { selectPackages } from '../../src/sbom/select.ts'
import { serializeBom } from '../../src/sbom/serialize.ts'
import { SPEC_VERSIONS } from '../../src/sbom/spec.ts'
import { toBom } from '../../src/sbom/to-bom.ts'
import { validateJson, validateXml } from '../../src/sbom/validate.ts'
import { writeJsonBom } from '../../src/sbom/write-json.ts'
import { gitAt } from '../helpers/git.ts'
import { fixture, repoRoot, tempDir } from '../helpers/paths.ts'

const GO_FIXTURES = path.join(repoRoot, 'test/fixtures/go/source')

/** A fixture copied out of detbuild's repository (no git: the main module is `(devel)`). */
function goProject(name: string): string {
  const dir = tempDir('detbuild-go-sbom-')
  cpSync(path.join(GO_FIXTURES, name), dir, { recursive: true })
  return dir
}

const base = {
  from: 'lockfile' as const,
  omit: [],
  workspaces: [],
  validate: false,
  sourceDateEpoch: 1_700_000_000,
  env: {},
}

type Doc = any

for (const name of readdirSync(GO_FIXTURES, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)) {
  test(`${name}: schema-valid JSON and XML for every spec version, one writer's bytes = the other's, twice`, async () => {
    const dir = goProject(name)
    for (const spec of SPEC_VERSIONS) {
      const direct = await makeSbom({ ...base, cwd: dir, format: 'json', spec })
      const again = await makeSbom({ ...base, cwd: dir, format: 'json', spec })
      const library = await makeSbom({ ...base, cwd: dir, format: 'both', spec })
      assert.equal(again.serialized.json, direct.serialized.json, 'run twice: the same bytes')
      assert.equal(library.serialized.json, direct.serialized.json, 'the direct writer = the library path')
      assert.equal(library.dependencyEdges, direct.dependencyEdges)
      assert.deepEqual(await validateJson(direct.serialized.json, spec), { ok: true }, spec)
      assert.deepEqual(await validateXml(library.serialized.xml!, spec, 'wasm'), { ok: true }, spec)
      const doc: Doc = JSON.parse(direct.serialized.json)
      assert.equal(doc.metadata.component.version, '(devel)')
      assert.deepEqual(
        doc.metadata.component.properties.find((p: Doc) => p.name === 'detbuild:go:main-version-source'),
        { name: 'detbuild:go:main-version-source', value: 'unknown' },
        '(devel) is said to be unknown',
      )
      assert.equal(doc.metadata.component.purl, `pkg:golang/${doc.metadata.component.name}`)
      for (const c of doc.components) {
        assert.equal(c.hashes, undefined, `${c.purl}: an h1 is no SHA-256 of anything`)
        assert.match(c.purl, /^pkg:golang\//)
        assert.ok(
          !c.properties.some((p: Doc) => p.name.startsWith('cdx:npm:')),
          'no npm fields on Go modules',
        )
      }
      // no module cache: every module's own dependencies are declared unknown
      const incomplete = doc.compositions.find((c: Doc) => c.aggregate === 'incomplete')
      assert.equal(incomplete.dependencies.length, doc.components.length - 1, 'all but stdlib')
      // the root's and stdlib's lists are known: stated complete (profiles: docs/profiles.md)
      assert.equal(doc.compositions[0].aggregate, 'complete')
      assert.match(library.serialized.xml!, /<aggregate>incomplete<\/aggregate>/)
    }
  })
}

test('a mixed folder (package.json + go.mod): one SBOM with both ecosystems; --ecosystem picks one', async () => {
  const dir = tempDir('detbuild-mixed-')
  cpSync(fixture('small-app'), dir, { recursive: true })
  const npmOnly = await makeSbom({ ...base, cwd: dir, format: 'json', spec: '1.6' })
  cpSync(path.join(GO_FIXTURES, 'go-cmd'), dir, { recursive: true })

  const mixed = await makeSbom({ ...base, cwd: dir, format: 'json', spec: '1.6' })
  const both = await makeSbom({ ...base, cwd: dir, format: 'both', spec: '1.6' })
  assert.equal(both.serialized.json, mixed.serialized.json)
  assert.deepEqual(await validateJson(mixed.serialized.json, '1.6'), { ok: true })
  assert.deepEqual(await validateXml(both.serialized.xml!, '1.6', 'wasm'), { ok: true })
  const doc: Doc = JSON.parse(mixed.serialized.json)
  const npmDoc: Doc = JSON.parse(npmOnly.serialized.json)
  assert.deepEqual(
    doc.metadata.component.purl,
    npmDoc.metadata.component.purl,
    'the npm project describes the folder',
  )
  const goMain = doc.components.find((c: Doc) => c.purl === 'pkg:golang/cmd')
  assert.equal(goMain.type, 'application')
  assert.equal(goMain.scope, 'required')
  const deps = new Map(doc.dependencies.map((d: Doc) => [d.ref, d.dependsOn ?? []]))
  assert.ok((deps.get(doc.metadata.component['bom-ref']) as string[]).includes('pkg:golang/cmd'))
  assert.equal((deps.get('pkg:golang/cmd') as string[]).length, 13, "cmd's 12 modules and stdlib")
  const purls = doc.components.map((c: Doc) => c.purl as string)
  assert.deepEqual(
    purls.filter((p: string) => p.startsWith('pkg:npm/')),
    npmDoc.components.map((c: Doc) => c.purl),
    'every npm component is still there',
  )
  assert.equal(purls.filter((p: string) => p.startsWith('pkg:golang/')).length, 14)

  const onlyNpm = await makeSbom({ ...base, cwd: dir, format: 'json', spec: '1.6', ecosystem: 'npm' })
  assert.equal(
    onlyNpm.serialized.json,
    npmOnly.serialized.json,
    '--ecosystem npm: as if go.mod were not there',
  )
  const onlyGo = await makeSbom({ ...base, cwd: dir, format: 'json', spec: '1.6', ecosystem: 'go' })
  const goDoc: Doc = JSON.parse(onlyGo.serialized.json)
  assert.equal(goDoc.metadata.component.purl, 'pkg:golang/cmd')
  assert.ok(goDoc.components.every((c: Doc) => c.purl.startsWith('pkg:golang/')))
  await assert.rejects(makeSbom({ ...base, cwd: dir, format: 'json', spec: '1.6', ecosystem: 'cargo' }), {
    code: 'SBOM_USAGE',
    exitCode: 2,
    message: /--ecosystem takes npm or go, not "cargo"/,
  })
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
    manifest: { name, version },
    deps: [],
    ...extra,
  }
}

test('nested components (Go modules inside an npm package): both writers, schema-valid, qualified refs, edges', async () => {
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
  const esb2 = node('node_modules/other/node_modules/@esbuild/linux-x64', '@esbuild/linux-x64', '0.25.0', {
    nested,
    deps: ['bin:main'],
  })
  const other = node('node_modules/other', 'other', '2.0.0', { deps: [esb2.key] })
  const inventory: Inventory = {
    root,
    nodes: new Map([root, esb, esb2, other].map((n) => [n.key, n])),
    warnings: [],
    lockfile: 'package-lock.json',
    lockfileVersion: 3,
    source: 'installed',
    workspaces: new Map(),
  }
  const selection = selectPackages(inventory, { omit: new Set(), workspaces: [] })
  const tool = { name: 'detbuild', version: '0.1.0' }
  const timestamp = new Date(0)
  for (const spec of SPEC_VERSIONS) {
    const direct = writeJsonBom(inventory, selection, { timestamp, tool, toPurl: npmEcosystem.toPurl, spec })
    const built = toBom(inventory, selection, { timestamp, tool, toPurl: npmEcosystem.toPurl })
    const library = serializeBom(built.bom, spec, true, built.compositions)
    assert.equal(direct.json, library.json, spec)
    assert.equal(direct.componentCount, 4)
    assert.equal(built.componentCount, 4)
    assert.deepEqual(await validateJson(direct.json, spec), { ok: true })
    assert.deepEqual(await validateXml(library.xml!, spec, 'wasm'), { ok: true })
    const doc: Doc = JSON.parse(direct.json)
    const esbuild = doc.components.find((c: Doc) => c.name === 'linux-x64')
    const parent = 'pkg:npm/%40esbuild/linux-x64@0.25.0'
    assert.deepEqual(
      esbuild.components.map((c: Doc) => c['bom-ref']),
      [
        `${parent}#pkg:golang/github.com/evanw/esbuild@v0.25.0`,
        `${parent}#pkg:golang/golang.org/x/sys@v0.30.0`,
      ],
      'one nested component per purl over both install paths, refs qualified by the parent',
    )
    assert.equal(esbuild.components[0].purl, 'pkg:golang/github.com/evanw/esbuild@v0.25.0')
    const deps = new Map(doc.dependencies.map((d: Doc) => [d.ref, d.dependsOn ?? []]))
    assert.deepEqual(deps.get(parent), [`${parent}#pkg:golang/github.com/evanw/esbuild@v0.25.0`])
    assert.deepEqual(deps.get(`${parent}#pkg:golang/github.com/evanw/esbuild@v0.25.0`), [
      `${parent}#pkg:golang/golang.org/x/sys@v0.30.0`,
    ])
  }
})

test('detbuild sbom on a real Go project through the shipped CLI (bin/detbuild.js): tag version, schema-valid', async () => {
  const dir = goProject('caddy')
  gitAt(dir, 1_700_000_000, 'init', '-q')
  gitAt(dir, 1_700_000_000, 'add', '-A')
  gitAt(dir, 1_700_000_000, 'commit', '-qm', 'caddy')
  gitAt(dir, 0, 'tag', 'v2.10.0')
  const bin = path.join(repoRoot, 'bin', 'detbuild.js')
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, [bin, ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: tempDir(), SOURCE_DATE_EPOCH: '1700000000' },
    })
  const { stdout } = await run(['sbom', '--format', 'both'])
  assert.match(stdout, /^SBOM of github\.com\/caddyserver\/caddy\/v2@v2\.10\.0: \d+ components/m)
  assert.match(stdout, /schema-valid/)
  const doc: Doc = JSON.parse(readFileSync(path.join(dir, '.detbuild', 'sbom.cdx.json'), 'utf8'))
  assert.equal(doc.metadata.component.purl, 'pkg:golang/github.com/caddyserver/caddy/v2@v2.10.0')
  const first = readFileSync(path.join(dir, '.detbuild', 'sbom.cdx.json'))
  await run(['sbom', '--format', 'both'])
  assert.deepEqual(
    readFileSync(path.join(dir, '.detbuild', 'sbom.cdx.json')),
    first,
    'reproducible, and .detbuild/ leaves the tree clean',
  )
  // bad input: one line, go.mod and the line, exit 2, no stack trace
  writeFileSync(
    path.join(dir, 'go.mod'),
    'module github.com/caddyserver/caddy/v2\n\nrequire (\n\tgithub.com/x/y v1\n)\n',
  )
  await assert.rejects(run(['sbom']), (e: { code: number; stderr: string }) => {
    assert.equal(e.code, 2)
    assert.match(e.stderr, /\[GO_MOD_SYNTAX\]: go\.mod:4: require github\.com\/x\/y: invalid version "v1"/)
    assert.doesNotMatch(e.stderr, /\n\s+at /)
    return true
  })
})
