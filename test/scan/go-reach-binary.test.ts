/**
 * Symbol-level reachability against a real Go executable, built here with the pinned Go toolchain
 * (.tools/interop/go, scripts/interop-tools.sh; the test fails, never skips, without it): a program that
 * calls golang.org/x/net/http2.ConfigureServer (inlined: only the name table keeps its name) but never
 * Server.ServeConn. Scanned offline against the real
 * GO- records, GO-2023-2102 (ServeConn, serverConn.serve) is `not_affected` and GO-2024-2687
 * (ConfigureServer among others) affected; vulns.json keeps both, vulns.openvex.json says so,
 * deterministically; --fail-on and policy count only the affected one. A digest that does not match, a
 * path out of the project and a damaged executable leave every finding affected, with the reason.
 * The module x/net is a local stand-in (`replace`, a few functions with x/net's names): the test needs
 * no network and no module download.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { evaluatePolicy } from '../../src/policy/evaluate.ts'
import { runScan } from '../../src/scan/index.ts'
import { WorkspaceFiles } from '../../src/workspace/index.ts'
import { goExportZip, goScanOptions, makeGoSbom } from './go-helpers.ts'
import { repoRoot, tempDir, writeJson } from './helpers.ts'

const GO = path.join(repoRoot, '.tools/interop/go/usr/lib/go-1.26/bin/go')

let work: { dir: string; cleanup: () => Promise<void> }
let digest: string

const files: Record<string, string> = {
  'src/go.mod':
    'module example.com/app\n\ngo 1.22\n\nrequire golang.org/x/net v0.16.0\n\nreplace golang.org/x/net => ./xnet\n',
  'src/xnet/go.mod': 'module golang.org/x/net\n\ngo 1.22\n',
  'src/xnet/http2/server.go': `package http2

type Server struct{ n int }

type serverConn struct{ s *Server }

//go:noinline
func (s *Server) ServeConn(c int) { sc := &serverConn{s}; sc.serve(c) }

//go:noinline
func (sc *serverConn) serve(c int) { sc.s.n += c }

// inlined into main.main: it has no entry of its own in the function table, only its name in the name table
func ConfigureServer(s *Server, n int) error {
	for i := 0; i < n; i++ {
		s.n += i
	}
	return nil
}
`,
  'src/xnet/html/parse.go': 'package html\n\n//go:noinline\nfunc Parse(s string) int { return len(s) }\n',
  'src/main.go': `package main

import (
	"os"

	"golang.org/x/net/html"
	"golang.org/x/net/http2"
)

func main() {
	var s http2.Server
	_ = http2.ConfigureServer(&s, html.Parse(os.Args[0]))
}
`,
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

async function writeSbom(binary: string, sha: string): Promise<void> {
  const props = { 'detbuild:go:binary': binary, 'detbuild:go:binary-sha256': sha }
  await writeJson(
    path.join(work.dir, 'sbom.json'),
    makeGoSbom([
      { name: 'golang.org/x/net', version: 'v0.16.0', properties: props },
      { name: 'stdlib', version: 'go1.26.10', properties: { ...props, 'detbuild:go:version': 'go1.26.10' } },
    ]),
  )
}

before(async () => {
  assert.ok(existsSync(GO), `the pinned Go toolchain is missing (${GO}): run bash scripts/interop-tools.sh`)
  work = await tempDir('detbuild-go-reach-')
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(work.dir, name)), { recursive: true })
    await writeFile(path.join(work.dir, name), text)
  }
  await mkdir(path.join(work.dir, 'bin'))
  await promisify(execFile)(GO, ['build', '-o', path.join(work.dir, 'bin/app'), '.'], {
    cwd: path.join(work.dir, 'src'),
    env: {
      PATH: process.env.PATH,
      HOME: work.dir,
      GOPROXY: 'off',
      GOTOOLCHAIN: 'local',
      GOFLAGS: '-trimpath',
      CGO_ENABLED: '0',
      GOOS: 'linux',
      GOARCH: 'amd64',
      GOCACHE: path.join(work.dir, 'gocache'),
      GOPATH: path.join(work.dir, 'gopath'),
    },
  })
  digest = sha256(await readFile(path.join(work.dir, 'bin/app')))
  await writeFile(path.join(work.dir, 'go.zip'), goExportZip())
})

after(async () => {
  await work?.cleanup()
})

const scan = (extra = {}) => runScan(goScanOptions(work.dir, { offlineDb: 'go.zip', ...extra }))

test('symbols absent from the executable: not_affected, kept in vulns.json, in OpenVEX, not failing', async () => {
  await writeSbom('bin/app', digest)
  const r = await scan({ failOn: 'any' })
  const byId = new Map(r.report.findings.map((f) => [f.id, f]))
  assert.deepEqual([...byId.keys()].sort(), ['GO-2023-2102', 'GO-2024-2687'])
  const gone = byId.get('GO-2023-2102')!.analysis!
  assert.equal(gone.state, 'not_affected')
  assert.equal(gone.justification, 'vulnerable_code_not_in_execute_path')
  assert.equal(gone.method, 'binary')
  assert.match(gone.detail, /golang\.org\/x\/net\/http2: Server\.ServeConn/)
  const there = byId.get('GO-2024-2687')!.analysis!
  assert.deepEqual(
    [there.state, there.code, there.present],
    ['affected', 'GO_REACH_SYMBOL_PRESENT', ['golang.org/x/net/http2.ConfigureServer']],
  )
  // --fail-on counts the affected finding only; the counts too
  assert.equal(r.exitCode, 1)
  assert.equal(r.report.counts.high + r.report.counts.unknown + r.report.counts.medium, 1)
  assert.match(r.text, /1 not affected/)
  assert.ok(
    !/GO-2023-2102/.test(
      r.text
        .split('\n')
        .filter((l) => l.startsWith('  '))
        .join('\n'),
    ),
  )
  // the OpenVEX document
  assert.ok(r.files.includes(WorkspaceFiles.vulnsOpenVex))
  const vex = JSON.parse(await readFile(path.join(work.dir, 'out', WorkspaceFiles.vulnsOpenVex), 'utf8'))
  assert.equal(vex['@context'], 'https://openvex.dev/ns/v0.2.0')
  assert.equal(vex.timestamp, '2023-11-14T22:13:20.000Z')
  assert.match(vex['@id'], /^urn:detbuild:openvex:sha256:[0-9a-f]{64}$/)
  const statement = (id: string) =>
    vex.statements.find((s: { vulnerability: { name: string } }) => s.vulnerability.name === id)
  assert.deepEqual(statement('GO-2023-2102').products, [
    {
      '@id': 'pkg:golang/example.com/app@v0.0.0',
      subcomponents: [{ '@id': 'pkg:golang/golang.org/x/net@v0.16.0' }],
    },
  ])
  assert.equal(statement('GO-2023-2102').status, 'not_affected')
  assert.equal(statement('GO-2023-2102').justification, 'vulnerable_code_not_in_execute_path')
  assert.equal(statement('GO-2024-2687').status, 'affected')
  // SARIF and the enriched SBOM say the same
  const sarif = JSON.parse(await readFile(path.join(work.dir, 'out', WorkspaceFiles.vulnsSarif), 'utf8'))
  const result = (id: string) => sarif.runs[0].results.find((x: { ruleId: string }) => x.ruleId === id)
  assert.equal(result('GO-2023-2102').suppressions[0].status, 'accepted')
  assert.equal(result('GO-2024-2687').suppressions, undefined)
  const enriched = JSON.parse(await readFile(path.join(work.dir, 'out', WorkspaceFiles.vulnsSbom), 'utf8'))
  const vuln = (id: string) => enriched.vulnerabilities.find((v: { id: string }) => v.id === id)
  assert.deepEqual(
    [vuln('GO-2023-2102').analysis.state, vuln('GO-2023-2102').analysis.justification],
    ['not_affected', 'code_not_reachable'],
  )
  assert.equal(vuln('GO-2024-2687').analysis, undefined)
  assert.match(statement('GO-2024-2687').action_statement, /0\.23\.0/)
})

test('the OpenVEX document is byte-identical across runs; its @id follows its content', async () => {
  await writeSbom('bin/app', digest)
  await scan()
  const first = await readFile(path.join(work.dir, 'out', WorkspaceFiles.vulnsOpenVex), 'utf8')
  await scan()
  assert.equal(await readFile(path.join(work.dir, 'out', WorkspaceFiles.vulnsOpenVex), 'utf8'), first)
  await writeSbom('bin/app', '0'.repeat(64))
  await scan()
  const other = JSON.parse(await readFile(path.join(work.dir, 'out', WorkspaceFiles.vulnsOpenVex), 'utf8'))
  assert.notEqual(other['@id'], JSON.parse(first)['@id'])
})

test('policy: a not_affected finding is excepted; honorReachability: false counts it', async () => {
  await writeSbom('bin/app', digest)
  const r = await scan()
  const sbom = JSON.parse(await readFile(path.join(work.dir, 'sbom.json'), 'utf8'))
  const inputs = {
    sbom: { file: { file: 'sbom.json', sha256: 'x' }, data: sbom },
    vulns: { file: { file: 'vulns.json', sha256: 'y' }, data: JSON.parse(JSON.stringify(r.report)) },
  }
  const rule = (honorReachability?: boolean) => {
    const result = evaluatePolicy(
      {
        version: 1,
        vulnerabilities: {
          maxSeverity: 'none',
          ...(honorReachability === undefined ? {} : { honorReachability }),
        },
      },
      inputs,
      { now: new Date('2026-01-01T00:00:00Z') },
    )
    return result.rules.find((x) => x.id === 'vulnerabilities.severity')!
  }
  const honoured = rule()
  const ids = (list: unknown) => (list as Array<{ id: string }>).map((v) => v.id).sort()
  assert.deepEqual(ids(honoured.evidence.violations), ['GO-2024-2687'])
  assert.deepEqual(ids(honoured.evidence.excepted), ['GO-2023-2102'])
  assert.deepEqual(ids(rule(false).evidence.violations), ['GO-2023-2102', 'GO-2024-2687'])
})

test('an executable that is not the one the SBOM names: every finding stays affected, with the reason', async () => {
  await writeSbom('bin/app', 'ab'.repeat(32))
  let r = await scan()
  for (const f of r.report.findings) {
    assert.equal(f.analysis?.state, 'affected')
    assert.equal(f.analysis?.code, 'GO_REACH_BINARY_DIGEST_MISMATCH')
  }
  for (const bad of ['../app', '/etc/passwd', 'bin/../../app', 'bin\\app', 'bin/missing']) {
    await writeSbom(bad, digest)
    r = await scan()
    for (const f of r.report.findings) assert.equal(f.analysis?.code, 'GO_REACH_BINARY_MISSING', bad)
  }
  // a symlink in the project to an executable outside it (with that executable's digest)
  const outside = await tempDir('detbuild-go-outside-')
  try {
    await copyFile(path.join(work.dir, 'bin/app'), path.join(outside.dir, 'app'))
    await symlink(path.join(outside.dir, 'app'), path.join(work.dir, 'bin/link'))
    await writeSbom('bin/link', digest)
    r = await scan()
    for (const f of r.report.findings) {
      assert.equal(f.analysis?.code, 'GO_REACH_BINARY_MISSING')
      assert.match(f.analysis!.detail, /leads out of the project/)
    }
  } finally {
    await outside.cleanup()
  }
  // a damaged executable whose digest the SBOM records: unreadable, affected
  const bytes = await readFile(path.join(work.dir, 'bin/app'))
  const damaged = Buffer.concat([bytes.subarray(0, 4096)])
  await writeFile(path.join(work.dir, 'bin/damaged'), damaged)
  await writeSbom('bin/damaged', sha256(damaged))
  r = await scan()
  assert.equal(r.report.findings.length, 2)
  for (const f of r.report.findings) assert.equal(f.analysis?.code, 'GO_REACH_BINARY_UNREADABLE')
  // an executable that does not hold the module version the SBOM names
  await writeSbom('bin/app', digest)
  const sbom = JSON.parse(await readFile(path.join(work.dir, 'sbom.json'), 'utf8'))
  sbom.components[0].version = 'v0.15.0'
  sbom.components[0].purl = 'pkg:golang/golang.org/x/net@v0.15.0'
  sbom.components[0]['bom-ref'] = sbom.components[0].purl
  sbom.dependencies = []
  await writeJson(path.join(work.dir, 'sbom.json'), sbom)
  r = await scan()
  for (const f of r.report.findings) assert.equal(f.analysis?.code, 'GO_REACH_BINARY_MISMATCH')
})

test('a scan without Go findings writes no OpenVEX document and removes an earlier one', async () => {
  await writeSbom('bin/app', digest)
  await scan()
  assert.ok(existsSync(path.join(work.dir, 'out', WorkspaceFiles.vulnsOpenVex)))
  await writeJson(
    path.join(work.dir, 'sbom.json'),
    makeGoSbom([{ name: 'golang.org/x/net', version: 'v0.23.0' }]),
  )
  const r = await scan()
  assert.deepEqual(r.report.findings, [])
  assert.ok(!r.files.includes(WorkspaceFiles.vulnsOpenVex))
  assert.ok(!existsSync(path.join(work.dir, 'out', WorkspaceFiles.vulnsOpenVex)))
})
