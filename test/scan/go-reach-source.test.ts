/**
 * Reachability from source, without a Go toolchain: the import graph of the project's .go files,
 * followed into the module cache (GOMODCACHE) and GOROOT/src. A vulnerable package the graph does not
 * reach is `not_affected`; an imported one is affected; a graph that cannot be read in full (no GOROOT,
 * a GOROOT of another Go release, a module missing from the cache, a file that does not parse) proves
 * nothing, and the findings stay affected with GO_REACH_SOURCE_INCOMPLETE. The GOROOT and module cache
 * are small stand-ins: folders with import declarations, as the real ones lay them out.
 */
import assert from 'node:assert/strict'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { walkImports } from '../../src/ecosystems/go/imports-walk.ts'
import { runScan } from '../../src/scan/index.ts'
import type { Finding } from '../../src/scan/types.ts'
import { goExportZip, goScanOptions, makeGoSbom } from './go-helpers.ts'
import { tempDir, writeJson } from './helpers.ts'

let work: { dir: string; cleanup: () => Promise<void> }
let project: string
let env: Record<string, string>

async function put(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, text)
}

const goFile = (pkg: string, imports: string[]) =>
  `package ${pkg}\n\nimport (\n${imports.map((i) => `\t"${i}"\n`).join('')})\n\nfunc F() {}\n`

before(async () => {
  work = await tempDir('detbuild-go-src-')
  project = path.join(work.dir, 'app')
  const goroot = path.join(work.dir, 'goroot')
  const modcache = path.join(work.dir, 'gopath/pkg/mod')
  env = { GOROOT: goroot, GOMODCACHE: modcache, SOURCE_DATE_EPOCH: '1700000000' }
  await put(path.join(goroot, 'VERSION'), 'go1.20.4\ntime 2023-05-02T17:04:23Z\n')
  await put(path.join(goroot, 'src/fmt/print.go'), goFile('fmt', ['io', 'os']))
  await put(path.join(goroot, 'src/io/io.go'), goFile('io', ['errors']))
  await put(path.join(goroot, 'src/os/file.go'), goFile('os', ['errors', 'io']))
  await put(path.join(goroot, 'src/errors/errors.go'), 'package errors\n')
  await put(
    path.join(goroot, 'src/net/http/server.go'),
    goFile('http', ['fmt', 'golang.org/x/net/http2/hpack']),
  )
  await put(path.join(goroot, 'src/vendor/golang.org/x/net/http2/hpack/hpack.go'), goFile('hpack', ['io']))
  const xnet = path.join(modcache, 'golang.org/x/net@v0.16.0')
  await put(path.join(xnet, 'html/parse.go'), goFile('html', ['io']))
  await put(path.join(xnet, 'http2/server.go'), goFile('http2', ['net/http']))
  const saml = path.join(
    modcache,
    'github.com/!robots!and!pencils/go-saml@v0.0.0-20170520135329-fb13cb52a46b',
  )
  await put(path.join(saml, 'saml.go'), goFile('saml', ['fmt']))
  await put(path.join(project, 'go.mod'), 'module example.com/app\n\ngo 1.20\n')
  await put(path.join(project, 'main.go'), goFile('main', ['example.com/app/internal/page']))
  await put(path.join(project, 'internal/page/page.go'), goFile('page', ['fmt', 'golang.org/x/net/html']))
  // tests are not part of the program
  await put(path.join(project, 'internal/page/page_test.go'), goFile('page', ['golang.org/x/net/http2']))
  await put(path.join(project, 'testdata/x.go'), goFile('x', ['net/http']))
  await writeFile(path.join(project, 'go.zip'), goExportZip())
  await writeJson(
    path.join(project, 'sbom.json'),
    makeGoSbom([
      { name: 'stdlib', version: 'go1.20.4', properties: { 'detbuild:go:version': 'go1.20.4' } },
      { name: 'golang.org/x/net', version: 'v0.16.0' },
      { name: 'github.com/RobotsAndPencils/go-saml', version: 'v0.0.0-20170520135329-fb13cb52a46b' },
    ]),
  )
})

after(async () => {
  await work?.cleanup()
})

const scan = (extraEnv: Record<string, string> = {}) =>
  runScan(goScanOptions(project, { offlineDb: 'go.zip', env: { ...env, ...extraEnv } }))

const states = (findings: Finding[]) =>
  Object.fromEntries(
    findings.map((f) => [
      `${f.name} ${f.id}`,
      f.analysis?.state === 'affected' ? f.analysis.code : 'not_affected',
    ]),
  )

test('the walk: main packages, module cache, GOROOT and its vendored copies; tests and testdata left out', async () => {
  const walk = await walkImports({
    projectDir: project,
    mainModule: 'example.com/app',
    modules: [{ path: 'golang.org/x/net', version: 'v0.16.0' }],
    goVersion: 'go1.20.4',
    env,
  })
  assert.deepEqual(walk.missing, [])
  assert.deepEqual([...walk.packages].sort(), [
    'errors',
    'example.com/app',
    'example.com/app/internal/page',
    'fmt',
    'golang.org/x/net/html',
    'io',
    'os',
  ])
})

test('packages the program does not import: not_affected; the toolchain and an imported package stay affected', async () => {
  const r = await scan()
  assert.deepEqual(states(r.report.findings), {
    'github.com/RobotsAndPencils/go-saml GO-2020-0047': 'not_affected',
    'golang.org/x/net GO-2023-2102': 'not_affected',
    'golang.org/x/net GO-2024-2687': 'not_affected',
    'stdlib GO-2023-1841': 'GO_REACH_TOOLCHAIN',
    'stdlib GO-2023-2102': 'not_affected',
    'stdlib GO-2023-2185': 'not_affected',
    'stdlib GO-2024-2598': 'not_affected',
    'stdlib GO-2024-2687': 'not_affected',
  })
  assert.ok(r.report.findings.every((f) => f.analysis?.method === 'source'))
  // importing go-saml and net/http (through x/net/http2) makes theirs affected
  await put(
    path.join(project, 'internal/page/page.go'),
    goFile('page', [
      'fmt',
      'golang.org/x/net/html',
      'golang.org/x/net/http2',
      'github.com/RobotsAndPencils/go-saml',
    ]),
  )
  try {
    const r2 = await scan()
    assert.deepEqual(states(r2.report.findings), {
      'github.com/RobotsAndPencils/go-saml GO-2020-0047': 'GO_REACH_PACKAGE_IMPORTED',
      'golang.org/x/net GO-2023-2102': 'GO_REACH_PACKAGE_IMPORTED',
      'golang.org/x/net GO-2024-2687': 'GO_REACH_PACKAGE_IMPORTED',
      'stdlib GO-2023-1841': 'GO_REACH_TOOLCHAIN',
      'stdlib GO-2023-2102': 'GO_REACH_PACKAGE_IMPORTED',
      'stdlib GO-2023-2185': 'not_affected',
      'stdlib GO-2024-2598': 'not_affected',
      'stdlib GO-2024-2687': 'GO_REACH_PACKAGE_IMPORTED',
    })
  } finally {
    await put(path.join(project, 'internal/page/page.go'), goFile('page', ['fmt', 'golang.org/x/net/html']))
  }
})

test('an import graph that cannot be read in full proves nothing', async () => {
  const incomplete = (findings: Finding[]) =>
    findings.filter((f) => f.analysis?.code !== 'GO_REACH_TOOLCHAIN').map((f) => f.analysis?.code)
  const cases: Array<Record<string, string>> = [
    { GOROOT: '' },
    { GOROOT: path.join(work.dir, 'nowhere') },
    { GOMODCACHE: path.join(work.dir, 'empty') },
  ]
  for (const extra of cases) {
    const r = await scan(extra)
    assert.ok(
      incomplete(r.report.findings).every((c) => c === 'GO_REACH_SOURCE_INCOMPLETE'),
      JSON.stringify(extra),
    )
  }
  // a GOROOT of another Go release
  await writeFile(path.join(work.dir, 'goroot/VERSION'), 'go1.21.0\n')
  try {
    const r = await scan()
    const f = r.report.findings.find((x) => x.id === 'GO-2024-2598')!
    assert.equal(f.analysis?.code, 'GO_REACH_SOURCE_INCOMPLETE')
    assert.match(f.analysis!.detail, /GOROOT holds go1\.21\.0, the scanned Go version is go1\.20\.4/)
  } finally {
    await writeFile(path.join(work.dir, 'goroot/VERSION'), 'go1.20.4\n')
  }
  // a file that does not parse
  await put(path.join(project, 'broken.go'), 'package main\nimport ( "fmt"\n')
  try {
    const r = await scan()
    const f = r.report.findings.find((x) => x.id === 'GO-2024-2598')!
    assert.equal(f.analysis?.code, 'GO_REACH_SOURCE_INCOMPLETE')
    assert.match(f.analysis!.detail, /broken\.go: line \d+: unterminated import block/)
  } finally {
    await rm(path.join(project, 'broken.go'))
  }
  // no go.mod: nothing to compare with
  const { dir, cleanup } = await tempDir('detbuild-go-nomod-')
  try {
    await writeFile(path.join(dir, 'go.zip'), goExportZip())
    await writeJson(
      path.join(dir, 'sbom.json'),
      makeGoSbom([{ name: 'golang.org/x/net', version: 'v0.16.0' }]),
    )
    const r = await runScan(goScanOptions(dir, { offlineDb: 'go.zip', env }))
    assert.ok(r.report.findings.every((f) => f.analysis?.code === 'GO_REACH_NO_EVIDENCE'))
    // go.mod without any .go file: no evidence either (found trying it on a copy of go.mod/go.sum)
    await writeFile(path.join(dir, 'go.mod'), 'module example.com/empty\n\ngo 1.20\n')
    const empty = await runScan(goScanOptions(dir, { offlineDb: 'go.zip', env }))
    assert.equal(empty.report.findings.length, 2)
    for (const f of empty.report.findings) {
      assert.equal(f.analysis?.code, 'GO_REACH_SOURCE_INCOMPLETE')
      assert.match(f.analysis!.detail, /no Go source files/)
    }
  } finally {
    await cleanup()
  }
})
