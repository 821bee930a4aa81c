/**
 * The pure parts of Go reachability: Go's symbol spelling against OSV's, the comparison with an
 * executable's function names and with a source import graph, the import parser, hostile
 * `ecosystem_specific` shapes, and a finding's analysis from real GO- records.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseGoImports } from '../../src/ecosystems/go/imports.ts'
import { escapeModulePath, goModModulePath } from '../../src/ecosystems/go/imports-walk.ts'
import {
  binaryVerdict,
  sourceVerdict,
  splitGoSymbol,
  toSymbolIndex,
  toVulnImports,
} from '../../src/ecosystems/go/reachability.ts'
import { goVersionOrder } from '../../src/ecosystems/go/version-order.ts'
import { analyseGoFinding, type GoEvidence, vulnerableImports } from '../../src/scan/go-reach.ts'
import type { RecordMatch } from '../../src/scan/osv-index.ts'
import { goRecords } from './go-helpers.ts'

const record = (id: string) => goRecords().find((r) => r.id === id)!
const match = (id: string): RecordMatch => ({ record: record(id), fixed: [], unparsable: false })

test("Go's symbol spelling → OSV's: methods, pointer receivers, generics, closures, escaped paths", () => {
  assert.deepEqual(splitGoSymbol('net/http.(*Server).Serve'), {
    pkg: 'net/http',
    symbols: ['Server.Serve', 'Server'],
  })
  assert.deepEqual(splitGoSymbol('net/http.Header.Get'), {
    pkg: 'net/http',
    symbols: ['Header.Get', 'Header'],
  })
  assert.deepEqual(splitGoSymbol('golang.org/x/net/html.Parse'), {
    pkg: 'golang.org/x/net/html',
    symbols: ['Parse'],
  })
  assert.deepEqual(splitGoSymbol('slices.Sort[go.shape.string]'), { pkg: 'slices', symbols: ['Sort'] })
  assert.deepEqual(splitGoSymbol('example.com/m/p.(*List[go.shape.struct { net/http.x int }]).Push'), {
    pkg: 'example.com/m/p',
    symbols: ['List.Push', 'List'],
  })
  assert.deepEqual(splitGoSymbol('net/http.(*http2serverConn).serve.func1'), {
    pkg: 'net/http',
    symbols: ['http2serverConn.serve.func1', 'http2serverConn.serve', 'http2serverConn'],
  })
  assert.deepEqual(splitGoSymbol('net/http.(*Server).Serve-fm'), {
    pkg: 'net/http',
    symbols: ['Server.Serve', 'Server'],
  })
  assert.deepEqual(splitGoSymbol('gopkg.in/yaml%2ev3.Unmarshal'), {
    pkg: 'gopkg.in/yaml.v3',
    symbols: ['Unmarshal'],
  })
  assert.equal(splitGoSymbol('type:.eq.net/http.Header'), null)
  assert.equal(splitGoSymbol('go:buildid'), null)
  assert.equal(splitGoSymbol('broken[name'), null)
  assert.equal(splitGoSymbol('nodot'), null)
})

test('an executable: present symbols make a finding reachable; absent ones, or another GOOS, do not', () => {
  const imports = toVulnImports(record('GO-2023-2102').affected![0]!.ecosystem_specific)!
  const server = toSymbolIndex(['main.main', 'net/http.(*Server).Serve', 'net/http.ListenAndServe'])
  const client = toSymbolIndex(['main.main', 'net/http.(*Client).Do', 'net/http.Get'])
  assert.deepEqual(binaryVerdict(imports, server, {}), {
    reachable: true,
    present: ['net/http.ListenAndServe', 'net/http.Server.Serve'],
    otherTargets: [],
  })
  assert.deepEqual(binaryVerdict(imports, client, {}).reachable, false)
  // GO-2023-2185: path/filepath on windows only
  const windowsOnly = toVulnImports(record('GO-2023-2185').affected![0]!.ecosystem_specific)!
  const uses = toSymbolIndex(['main.main', 'path/filepath.Clean', 'path/filepath.Join'])
  assert.equal(binaryVerdict(windowsOnly, uses, { goos: 'linux' }).reachable, false)
  assert.deepEqual(binaryVerdict(windowsOnly, uses, { goos: 'linux' }).otherTargets, [
    'internal/safefilepath (windows)',
    'path/filepath (windows)',
  ])
  assert.equal(binaryVerdict(windowsOnly, uses, { goos: 'windows' }).reachable, true)
  assert.equal(binaryVerdict(windowsOnly, uses, {}).reachable, true, 'an unknown target counts as any')
  // an entry without symbols: any function of the package counts
  const whole = [{ path: 'cmd/go', symbols: [], goos: [], goarch: [] }]
  assert.equal(binaryVerdict(whole, toSymbolIndex(['cmd/go.main']), {}).reachable, true)
  assert.equal(binaryVerdict(whole, toSymbolIndex(['main.main']), {}).reachable, false)
})

test('source: an imported vulnerable package is reachable, whatever the symbols', () => {
  const imports = toVulnImports(record('GO-2023-2102').affected![1]!.ecosystem_specific)!
  assert.equal(sourceVerdict(imports, new Set(['golang.org/x/net/html'])).reachable, false)
  assert.deepEqual(sourceVerdict(imports, new Set(['golang.org/x/net/http2'])).present, [
    'golang.org/x/net/http2',
  ])
})

test('hostile or missing ecosystem_specific is never read as "nothing vulnerable"', () => {
  for (const bad of [
    undefined,
    null,
    {},
    { imports: [] },
    { imports: 'net/http' },
    { imports: [null] },
    { imports: [{ symbols: ['F'] }] },
    { imports: [{ path: 'p', symbols: 'F' }] },
    { imports: [{ path: 'p', symbols: [1] }] },
    { imports: [{ path: 'p', goos: 'linux' }] },
  ])
    assert.equal(toVulnImports(bad), null, JSON.stringify(bad))
  assert.deepEqual(toVulnImports({ imports: [{ path: 'p' }] }), [
    { path: 'p', symbols: [], goos: [], goarch: [] },
  ])
})

test('the import parser: grouped, named, dot, blank and raw imports; comments; stops at the first declaration', () => {
  const src = `// Copyright
/* block
   comment */
package main // trailing

import "fmt"
import (
	"net/http" // comment
	h2 "golang.org/x/net/http2"
	. "strings"
	_ "embed"
	\`os\`
	/* inline */ "C"
)
import x "example.com/M/v2"

func main() { _ = "import \\"not/this\\"" }
import "never/reached"
`
  assert.deepEqual(parseGoImports(src), {
    imports: ['C', 'embed', 'example.com/M/v2', 'fmt', 'golang.org/x/net/http2', 'net/http', 'os', 'strings'],
  })
  assert.deepEqual(parseGoImports('package p\n'), { imports: [] })
  assert.deepEqual(parseGoImports('package p; import "a"; import "b"'), { imports: ['a', 'b'] })
  assert.deepEqual(parseGoImports('package p\nimport "\\x61b"\n'), { imports: ['ab'] })
  assert.ok('error' in parseGoImports('import "a"'))
  assert.ok('error' in parseGoImports('package p\nimport ( "a"'))
  assert.ok('error' in parseGoImports('package p\n/* open'))
  assert.ok('error' in parseGoImports('package p\nimport "a\nb"'))
  assert.ok('error' in parseGoImports('package p\nimport ""'))
  assert.ok('error' in parseGoImports('package p\nimport "a b"'))
})

test('go.mod module line and module-cache escaping', () => {
  assert.equal(goModModulePath('// c\nmodule example.com/App // x\n\ngo 1.21\n'), 'example.com/App')
  assert.equal(goModModulePath('module "example.com/q"\n'), 'example.com/q')
  assert.equal(goModModulePath('go 1.21\n'), null)
  assert.equal(
    escapeModulePath('github.com/RobotsAndPencils/go-saml'),
    'github.com/!robots!and!pencils/go-saml',
  )
})

const binary = (names: string[], goos?: string): GoEvidence => ({
  kind: 'binary',
  file: 'bin/app',
  index: toSymbolIndex(names),
  functions: names.length,
  target: { goos },
  buildInfo: { goVersion: 'go1.20.4', deps: [], settings: [] },
})
const stdlib = { ecosystem: 'Go', name: 'stdlib', version: 'go1.20.4' }

test('a finding: not_affected only on proof, affected with the reason otherwise', () => {
  const gone = analyseGoFinding(
    [match('GO-2024-2598')],
    stdlib,
    goVersionOrder,
    binary(['main.main', 'fmt.Println']),
  )
  assert.equal(gone.state, 'not_affected')
  assert.equal(gone.justification, 'vulnerable_code_not_in_execute_path')
  assert.match(gone.detail, /crypto\/x509: Certificate\.Verify, Certificate\.buildChains/)
  const there = analyseGoFinding(
    [match('GO-2024-2598')],
    stdlib,
    goVersionOrder,
    binary(['main.main', 'crypto/x509.(*Certificate).Verify']),
  )
  assert.deepEqual(
    [there.state, there.code, there.present],
    ['affected', 'GO_REACH_SYMBOL_PRESENT', ['crypto/x509.Certificate.Verify']],
  )
  // the toolchain affects the build: never ruled out by the program's code
  const tool = analyseGoFinding([match('GO-2023-1841')], stdlib, goVersionOrder, binary(['main.main']))
  assert.deepEqual([tool.state, tool.code], ['affected', 'GO_REACH_TOOLCHAIN'])
  // the GHSA record alone lists no symbols; with the GO- record it is analysed by the GO- record's list
  const xnet = { ecosystem: 'Go', name: 'golang.org/x/net', version: 'v0.16.0' }
  const ghsa = analyseGoFinding([match('GHSA-4374-p667-p6c8')], xnet, goVersionOrder, binary(['main.main']))
  assert.deepEqual([ghsa.state, ghsa.code], ['affected', 'GO_REACH_NO_SYMBOLS'])
  const both = analyseGoFinding(
    [match('GHSA-4374-p667-p6c8'), match('GO-2023-2102')],
    xnet,
    goVersionOrder,
    binary(['main.main', 'golang.org/x/net/html.Parse']),
  )
  assert.equal(both.state, 'not_affected')
  // no evidence, or an incomplete import graph: affected, with the reason
  const none = analyseGoFinding([match('GO-2024-2598')], stdlib, goVersionOrder, {
    kind: 'none',
    code: 'GO_REACH_BINARY_DIGEST_MISMATCH',
    detail: 'x',
  })
  assert.deepEqual([none.state, none.code], ['affected', 'GO_REACH_BINARY_DIGEST_MISMATCH'])
  const open = analyseGoFinding([match('GO-2024-2598')], stdlib, goVersionOrder, {
    kind: 'source',
    walk: { packages: new Set(['example.com/app']), missing: ['fmt: GOROOT is not set'] },
  })
  assert.deepEqual([open.state, open.code], ['affected', 'GO_REACH_SOURCE_INCOMPLETE'])
  const closed = analyseGoFinding([match('GO-2024-2598')], stdlib, goVersionOrder, {
    kind: 'source',
    walk: { packages: new Set(['example.com/app', 'fmt']), missing: [] },
  })
  assert.equal(closed.state, 'not_affected')
})

test('only the entries that cover the version count: GO-2023-2185 has two ranges with other symbol lists', () => {
  const first = vulnerableImports([match('GO-2023-2185')], { ...stdlib, version: 'go1.21.3' }, goVersionOrder)
  const second = vulnerableImports(
    [match('GO-2023-2185')],
    { ...stdlib, version: 'go1.21.4' },
    goVersionOrder,
  )
  assert.ok('imports' in first && 'imports' in second)
  assert.deepEqual(
    first.imports.map((e) => e.path),
    ['path/filepath', 'internal/safefilepath'],
  )
  assert.deepEqual(
    second.imports.map((e) => e.path),
    ['path/filepath'],
  )
})
