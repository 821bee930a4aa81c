/**
 * `detbuild sbom --binary FILE`: the SBOM of a Go executable itself, without a Go toolchain. On real
 * executables (the fixtures scripts/go-fixtures.sh builds with the pinned Go for several platforms, and
 * esbuild's own Go binaries from npm, in the inline and the pre-1.18 pointer build-info formats) the
 * components are exactly what `go version -m -json` lists: every dependency after `replace` (a local
 * directory replacement without a version), and the Go release as `stdlib`; each carries the
 * executable's path and sha256; two runs write the same bytes; what is not a Go executable, or is
 * outside the project, is refused with one line.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { cli } from '../helpers/cli.ts'
import { GO_FIXTURES, goBinary, goEnv, goFixtureExecutables } from '../helpers/go.ts'
import { tempDir } from '../scan/helpers.ts'

interface GoVersionM {
  GoVersion: string
  Main?: { Path: string; Version: string }
  Deps?: Array<{ Path: string; Version: string; Replace?: { Path: string; Version: string } }>
}
interface Component {
  name: string
  version?: string
  purl: string
  properties?: Array<{ name: string; value: string }>
}

let work: { dir: string; cleanup: () => Promise<void> }
before(async () => {
  work = await tempDir()
})
after(async () => {
  await work?.cleanup()
})

const CHOSEN = [
  'bin/app-linux-amd64',
  'bin/app-darwin-arm64-stripped',
  'bin/app-windows-amd64.exe',
  'npm/@esbuild+linux-x64@0.19.12/package/bin/esbuild',
  'npm/esbuild-linux-64@0.13.15/package/bin/esbuild',
]

for (const rel of CHOSEN) {
  test(`sbom --binary ${rel}: the modules go version -m lists, with the executable's digest`, async () => {
    assert.ok(goFixtureExecutables().includes(rel), `${rel} is a fixture`)
    const project = path.join(work.dir, rel.replace(/[^A-Za-z0-9]+/g, '_'))
    await mkdir(project)
    const file = path.join(project, path.basename(rel))
    await copyFile(path.join(GO_FIXTURES, rel), file)
    const { stdout } = await promisify(execFile)(goBinary(), ['version', '-m', '-json', file], {
      env: goEnv(),
    })
    const want = JSON.parse(stdout) as GoVersionM

    const first = await cli(['sbom', '--binary', path.basename(rel), '--quiet'], { cwd: project })
    assert.equal(first.code, 0, first.stderr)
    const text = await readFile(path.join(project, '.detbuild', 'sbom.cdx.json'), 'utf8')
    const bom = JSON.parse(text) as { metadata: { component: Component }; components: Component[] }
    if (want.Main) assert.equal(bom.metadata.component.name, want.Main.Path)
    const expected = [
      ...(want.Deps ?? []).map((d) => {
        const t = d.Replace ?? d
        return t.Path.startsWith('./') || t.Path.startsWith('../') ? `${d.Path}@` : `${t.Path}@${t.Version}`
      }),
      `stdlib@${want.GoVersion}`,
    ].sort()
    assert.deepEqual(bom.components.map((c) => `${c.name}@${c.version ?? ''}`).sort(), expected)
    const sha256 = createHash('sha256')
      .update(await readFile(file))
      .digest('hex')
    for (const c of bom.components) {
      const props = new Map((c.properties ?? []).map((p) => [p.name, p.value]))
      assert.equal(props.get('detbuild:go:binary'), path.basename(rel), c.name)
      assert.equal(props.get('detbuild:go:binary-sha256'), sha256, c.name)
    }
    const again = await cli(['sbom', '--binary', path.basename(rel), '--quiet'], { cwd: project })
    assert.equal(again.code, 0, again.stderr)
    assert.equal(await readFile(path.join(project, '.detbuild', 'sbom.cdx.json'), 'utf8'), text)
  })
}

test('sbom --binary refuses a file that is not a Go executable, and one outside the project', async () => {
  const project = path.join(work.dir, 'refusals')
  await mkdir(project)
  await writeFile(path.join(project, 'notes.txt'), 'not an executable\n')
  const notGo = await cli(['sbom', '--binary', 'notes.txt'], { cwd: project })
  assert.equal(notGo.code, 2)
  assert.match(notGo.stderr, /^detbuild: error \[GO_BINARY_NOT_GO\]: notes\.txt is not a Go executable/m)
  const outside = await cli(['sbom', '--binary', path.join(GO_FIXTURES, 'bin/app-linux-amd64')], {
    cwd: project,
  })
  assert.equal(outside.code, 2)
  assert.match(outside.stderr, /\[SBOM_USAGE\]: --binary .*inside the project folder/)
  assert.doesNotMatch(notGo.stderr + outside.stderr, /\n\s+at /, 'no stack trace')
})
