/**
 * Go executables inside installed npm packages (`detbuild sbom --from installed`): real esbuild packages
 * (a Go ≥1.18 and a pre-1.18 one, from scripts/go-fixtures.sh) and the built fixture with replacements
 * and vcs settings, installed into a throwaway project. Their Go modules are nested in the package that
 * ships them, with the edges package → main module → modules and stdlib, the properties other steps read
 * (detbuild:go:binary, detbuild:go:binary-sha256, detbuild:go:h1, detbuild:go:version, detbuild:go:build:*),
 * and the module sets equal `go version -m`. A Go executable without build info marks its package
 * incomplete; one that lies stops the SBOM with exit 2 naming it.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { readGoBinary } from '../../../src/ecosystems/go/binary/index.ts'
import { goBinaryNodes } from '../../../src/ecosystems/go/installed-binaries.ts'
import { cli } from '../../helpers/cli.ts'
import { GO_FIXTURES, goBinary, goEnv, goFixtureExecutables } from '../../helpers/go.ts'
import { tempDir } from '../../helpers/paths.ts'

interface Component {
  'bom-ref': string
  name: string
  version?: string
  purl?: string
  type: string
  properties?: Array<{ name: string; value: string }>
  components?: Component[]
}
interface Bom {
  components: Component[]
  dependencies: Array<{ ref: string; dependsOn?: string[] }>
  compositions?: Array<{ aggregate: string; dependencies?: string[] }>
}

const prop = (c: Component, name: string) => c.properties?.find((p) => p.name === name)?.value

/** A project with the given packages installed (name → folder to copy), and a package.json naming them. */
function project(packages: Record<string, string>): string {
  const dir = tempDir('detbuild-go-installed-')
  const deps: Record<string, string> = {}
  for (const [name, from] of Object.entries(packages)) {
    const to = path.join(dir, 'node_modules', name)
    mkdirSync(to, { recursive: true })
    cpSync(from, to, { recursive: true })
    deps[name] = (
      JSON.parse(readFileSync(path.join(to, 'package.json'), 'utf8')) as { version: string }
    ).version
  }
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'shop', version: '1.0.0', dependencies: deps }),
  )
  return dir
}

/** A package folder holding one executable at `bin/<name>`. */
function packageWith(name: string, version: string, exe: Buffer | string): string {
  const dir = tempDir('detbuild-go-pkg-')
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version }))
  mkdirSync(path.join(dir, 'bin'))
  writeFileSync(path.join(dir, 'bin', 'tool'), typeof exe === 'string' ? readFileSync(exe) : exe)
  return dir
}

async function sbom(dir: string): Promise<{ code: number; stderr: string; bom?: Bom; text?: string }> {
  const r = await cli(['sbom', '--from', 'installed', '--out', path.join(dir, 'out')], { cwd: dir })
  if (r.code !== 0) return { code: r.code, stderr: r.stderr }
  const text = readFileSync(path.join(dir, 'out', 'sbom.cdx.json'), 'utf8')
  return { code: r.code, stderr: r.stderr, bom: JSON.parse(text) as Bom, text }
}

const npmFixture = (dir: string) => path.join(GO_FIXTURES, 'npm', dir, 'package')

/** The module versions `go version -m` lists (after replace), plus stdlib, as purl-ish strings. */
function goModules(file: string): string[] {
  const j = JSON.parse(
    execFileSync(goBinary(), ['version', '-m', '-json', file], { env: goEnv(), encoding: 'utf8' }),
  ) as {
    GoVersion: string
    Deps?: Array<{ Path: string; Version: string; Replace?: { Path: string; Version: string } }>
  }
  const out = (j.Deps ?? []).map((d) => {
    const t = d.Replace ?? d
    return t.Path.startsWith('.') ? d.Path : `${t.Path}@${t.Version}`
  })
  return [...out, `stdlib@${j.GoVersion}`].sort()
}

test('esbuild packages: their Go modules nested, with edges, properties and go version -m module sets', async () => {
  goFixtureExecutables()
  const dir = project({
    '@esbuild/linux-x64': npmFixture('@esbuild+linux-x64@0.25.0'),
    'esbuild-linux-64': npmFixture('esbuild-linux-64@0.13.15'),
  })
  const first = await sbom(dir)
  assert.equal(first.code, 0, first.stderr)
  const bom = first.bom as Bom
  for (const [name, exeRel] of [
    ['@esbuild/linux-x64', 'node_modules/@esbuild/linux-x64/bin/esbuild'],
    ['esbuild-linux-64', 'node_modules/esbuild-linux-64/bin/esbuild'],
  ] as const) {
    const pkg = bom.components.find((c) => c.name === name.replace(/^@esbuild\//, '') || c.name === name)
    assert.ok(pkg?.components, `${name} has nested components`)
    const nested = pkg.components
    const exe = path.join(dir, exeRel)
    const sha = createHash('sha256').update(readFileSync(exe)).digest('hex')
    for (const c of nested) {
      assert.equal(prop(c, 'detbuild:go:binary'), exeRel)
      assert.equal(prop(c, 'detbuild:go:binary-sha256'), sha)
      assert.ok(c['bom-ref'].startsWith(`${pkg['bom-ref']}#pkg:golang/`), c['bom-ref'])
    }
    const main = nested.find((c) => c.name === 'github.com/evanw/esbuild')
    assert.ok(main, 'the main module')
    assert.equal(main.version, undefined, '(devel) is no version')
    const modules = nested
      .filter((c) => c !== main)
      .map((c) => `${c.name}@${c.version}`)
      .sort()
    assert.deepEqual(modules, goModules(exe))
    const stdlib = nested.find((c) => c.name === 'stdlib')
    assert.equal(stdlib?.purl, `pkg:golang/stdlib@${stdlib?.version?.replace(/^go/, '')}`)
    assert.match(prop(stdlib as Component, 'detbuild:go:version') ?? '', /^go1\.\d+/)
    const sys = nested.find((c) => c.name === 'golang.org/x/sys')
    assert.match(prop(sys as Component, 'detbuild:go:h1') ?? '', /^h1:/)
    // edges: package → main module → every module and stdlib
    const edges = new Map(bom.dependencies.map((d) => [d.ref, new Set(d.dependsOn ?? [])]))
    assert.ok(edges.get(pkg['bom-ref'])?.has(main['bom-ref']))
    for (const c of nested) if (c !== main) assert.ok(edges.get(main['bom-ref'])?.has(c['bom-ref']), c.name)
  }
  // the newer esbuild records its build settings on the main module
  const x64 = bom.components.find((c) => c.purl?.startsWith('pkg:npm/%40esbuild/linux-x64@'))
  const main = x64?.components?.find((c) => c.name === 'github.com/evanw/esbuild') as Component
  assert.equal(prop(main, 'detbuild:go:build:CGO_ENABLED'), '0')
  assert.equal(prop(main, 'detbuild:go:build:-trimpath'), 'true')
  assert.equal(prop(main, 'detbuild:go:main-package'), 'github.com/evanw/esbuild/cmd/esbuild')
  // reproducible: the same tree gives the same bytes
  const second = await sbom(dir)
  assert.equal(second.text, first.text)
})

test('the mapping of one executable: replacements, local folders, settings, the main module', async () => {
  goFixtureExecutables()
  const read = await readGoBinary(path.join(GO_FIXTURES, 'bin/app-vcs'))
  assert.ok(read)
  const { nested, entries } = goBinaryNodes([
    { path: 'node_modules/app/bin/app', sha256: 'ab'.repeat(32), buildInfo: read.buildInfo },
  ])
  const byName = new Map(nested.map((n) => [n.name, n]))
  const main = byName.get('example.com/app')
  assert.ok(main?.application)
  assert.deepEqual(entries, [main.key])
  assert.equal(main.deps.length, 4)
  const props = (name: string) =>
    Object.fromEntries((byName.get(name)?.properties ?? []).map((p) => [p.name, p.value]))
  assert.equal(props('example.com/app')['detbuild:go:build:vcs.modified'], 'false')
  assert.match(props('example.com/app')['detbuild:go:build:vcs.revision'] ?? '', /^[0-9a-f]{40}$/)
  // the replacement is the code built; the original is recorded
  const colour = byName.get('example.com/colour')
  assert.equal(colour?.purl, 'pkg:golang/example.com/colour@v1.0.1')
  assert.equal(props('example.com/colour')['detbuild:go:replaces'], 'example.com/color@v1.0.0')
  assert.match(props('example.com/colour')['detbuild:go:h1'] ?? '', /^h1:/)
  // a folder replacement has no version and names its folder
  assert.equal(byName.get('example.com/local')?.purl, 'pkg:golang/example.com/local')
  assert.equal(byName.get('example.com/local')?.kind, 'directory')
  assert.equal(props('example.com/local')['detbuild:go:replace-dir'], './local')
  assert.equal(byName.get('stdlib')?.purl, `pkg:golang/stdlib@${read.buildInfo.goVersion.slice(2)}`)
  // without a main module (GOPATH builds), the package depends on the modules directly
  const { main: _m, ...noMain } = read.buildInfo
  const bare = goBinaryNodes([{ path: 'x', sha256: '00', buildInfo: noMain }])
  assert.deepEqual(
    bare.entries,
    bare.nested.map((n) => n.key),
  )
})

test('a Go executable without build info marks its package incomplete; a lying one is exit 2', async () => {
  goFixtureExecutables()
  const exe = readFileSync(path.join(GO_FIXTURES, 'bin/app-linux-amd64'))
  // no build info: the magic rubbed out (the function table stays)
  const noInfo = Buffer.from(exe)
  const at = noInfo.indexOf(Buffer.from('\xff Go buildinf:', 'latin1'))
  noInfo.write('not build info', at + 1, 'latin1')
  // a lie: the version's length runs past its section
  const lie = Buffer.from(exe)
  Buffer.from([0xff, 0xff, 0x3f]).copy(lie, at + 32)
  const small = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(100)])

  const dir = project({
    stripped: packageWith('stripped', '1.0.0', noInfo),
    tiny: packageWith('tiny', '1.0.0', small),
  })
  const r = await sbom(dir)
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stderr, /node_modules\/stripped\/bin\/tool is a Go executable without build info/)
  const ref = r.bom?.components.find((c) => c.name === 'stripped')?.['bom-ref']
  assert.ok(
    r.bom?.compositions?.some((c) => c.aggregate === 'incomplete' && c.dependencies?.includes(ref as string)),
  )
  assert.equal(
    r.bom?.components.find((c) => c.name === 'tiny')?.components,
    undefined,
    'a small file is not sniffed',
  )

  const bad = project({ liar: packageWith('liar', '1.0.0', lie) })
  const b = await sbom(bad)
  assert.equal(b.code, 2)
  assert.match(
    b.stderr,
    /node_modules\/liar\/bin\/tool: .*GO_BINARY_BUILDINFO_INVALID|GO_BINARY_BUILDINFO_INVALID.*node_modules\/liar\/bin\/tool/,
  )
})
