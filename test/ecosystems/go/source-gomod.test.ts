/**
 * go.mod and go.sum as Go's own readers take them: directives, blocks, comments, quoted paths,
 * `// indirect`, replace (module and directory forms), exclude, retract; errors name `go.mod:<line>`
 * with GO_* codes (exit 2).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseGoMod } from '../../../src/ecosystems/go/gomod.ts'
import { parseGoSum } from '../../../src/ecosystems/go/gosum.ts'
import { goModH1, selectModules } from '../../../src/ecosystems/go/read-inventory.ts'

const GO_MOD = `// the service
module "example.com/svc" // trailing comment

go 1.22.3

toolchain go1.22.5

godebug default=go1.21

require github.com/pkg/errors v0.9.1

require (
	golang.org/x/net v0.25.0
	golang.org/x/text v0.15.0 // indirect
	\`github.com/Azure/go-ansiterm\` v0.0.0-20230124172434-306776ec8161 // indirect; comment
	gopkg.in/yaml.v3 v3.0.1 // not indirect
)

exclude golang.org/x/net v0.24.0

replace (
	github.com/pkg/errors => github.com/pkg/errors v0.9.0
	gopkg.in/yaml.v3 v3.0.1 => ../yaml
)

retract [v1.0.0, v1.0.5] // published by mistake
retract v0.9.0

tool golang.org/x/tools/cmd/stringer
`

test('parses every directive, with blocks, quoted paths and // indirect', () => {
  const m = parseGoMod(GO_MOD)
  assert.equal(m.module?.path, 'example.com/svc')
  assert.equal(m.go, '1.22.3')
  assert.equal(m.toolchain, 'go1.22.5')
  assert.deepEqual(m.godebug, [{ key: 'default', value: 'go1.21' }])
  assert.deepEqual(
    m.require.map((r) => [r.path, r.version, r.indirect, r.line]),
    [
      ['github.com/pkg/errors', 'v0.9.1', false, 10],
      ['golang.org/x/net', 'v0.25.0', false, 13],
      ['golang.org/x/text', 'v0.15.0', true, 14],
      ['github.com/Azure/go-ansiterm', 'v0.0.0-20230124172434-306776ec8161', true, 15],
      ['gopkg.in/yaml.v3', 'v3.0.1', false, 16],
    ],
  )
  assert.deepEqual(m.exclude, [{ path: 'golang.org/x/net', version: 'v0.24.0', line: 19 }])
  assert.deepEqual(
    m.replace.map((r) => [r.old, r.new, r.local]),
    [
      [{ path: 'github.com/pkg/errors' }, { path: 'github.com/pkg/errors', version: 'v0.9.0' }, false],
      [{ path: 'gopkg.in/yaml.v3', version: 'v3.0.1' }, { path: '../yaml' }, true],
    ],
  )
  assert.deepEqual(
    m.retract.map((r) => [r.low, r.high, r.rationale]),
    [
      ['v1.0.0', 'v1.0.5', 'published by mistake'],
      ['v0.9.0', 'v0.9.0', ''],
    ],
  )
  assert.deepEqual(m.tool, ['golang.org/x/tools/cmd/stringer'])
})

test('replace and exclude select the built module versions; an excluded requirement is an error', () => {
  const { modules } = selectModules(parseGoMod(GO_MOD))
  const byPath = new Map(modules.map((m) => [m.path, m]))
  assert.deepEqual(byPath.get('github.com/pkg/errors')?.replace?.new, {
    path: 'github.com/pkg/errors',
    version: 'v0.9.0',
  })
  assert.equal(byPath.get('gopkg.in/yaml.v3')?.replace?.local, true)
  assert.equal(byPath.get('golang.org/x/net')?.replace, undefined)
  assert.throws(
    () => selectModules(parseGoMod('module m\ngo 1.22\nrequire a.io/b v1.0.0\nexclude a.io/b v1.0.0\n')),
    {
      code: 'GO_MOD_INCONSISTENT',
      exitCode: 2,
      message: /^go\.mod:3: a\.io\/b v1\.0\.0 is required but excluded \(go\.mod:4\)/,
    },
  )
})

test('bad go.mod input: one line naming go.mod and the line, GO_MOD_SYNTAX, exit 2', () => {
  const bad: Array<[string, RegExp]> = [
    ['module m\nfrobnicate x\n', /^go\.mod:2: unknown directive: frobnicate$/],
    ['module m\nrequire (\n\ta.io/b v1.0.0\n', /^go\.mod:2: require \( is not closed by \)$/],
    ['module m\nrequire a.io/b v1.2\n', /^go\.mod:2: require a\.io\/b: invalid version "v1\.2"/],
    ['module m\nrequire a.io/b\n', /^go\.mod:2: usage: require module\/path v1\.2\.3$/],
    [
      'module m\nreplace a.io/b => c.io/d\n',
      /^go\.mod:2: replace a\.io\/b: replacement module without version must be directory path/,
    ],
    [
      'module m\nreplace a.io/b => ./d v1.0.0\n',
      /^go\.mod:2: replace a\.io\/b: replacement directory cannot have a version$/,
    ],
    ['module m\nmodule n\n', /^go\.mod:2: repeated module statement$/],
    ['go 1.22\n', /^go\.mod:1: no module directive/],
    ['module m\ngo one\n', /^go\.mod:2: invalid go version 'one'/],
    ['module "m\n', /^go\.mod:1: unexpected newline in string$/],
    ['module m\nrequire ../x v1.0.0\n', /^go\.mod:2: require: invalid module path "\.\.\/x"$/],
  ]
  for (const [text, message] of bad)
    assert.throws(() => parseGoMod(text), { code: 'GO_MOD_SYNTAX', exitCode: 2, message }, text)
  // a dependency's go.mod is read leniently, as Go reads it: unknown directives are ignored
  assert.deepEqual(
    parseGoMod('module m\nfrobnicate x\nrequire a.io/b v1.0.0\n', { strict: false }).require.map(
      (r) => r.path,
    ),
    ['a.io/b'],
  )
})

test('go.sum: module and /go.mod hashes; malformed lines name go.sum and the line (GO_SUM_SYNTAX)', () => {
  const sum = parseGoSum(
    [
      'golang.org/x/text v0.15.0 h1:h1V/4gjBv8v9cjcR6+AR5+/cIYK5N/WAgiv4xlsEtAk=',
      'golang.org/x/text v0.15.0/go.mod h1:18ZOQIKpY8NJVqYksKHtTdi31H5itFRjB5/qKTNYzSU=',
      '',
      'golang.org/x/text v0.15.0 h2:somethingelse',
    ].join('\n'),
  )
  assert.equal(
    sum.modules.get('golang.org/x/text@v0.15.0'),
    'h1:h1V/4gjBv8v9cjcR6+AR5+/cIYK5N/WAgiv4xlsEtAk=',
  )
  assert.equal(sum.goMods.get('golang.org/x/text@v0.15.0'), 'h1:18ZOQIKpY8NJVqYksKHtTdi31H5itFRjB5/qKTNYzSU=')
  assert.throws(() => parseGoSum('a v1 h1:x\nb v1\n'), {
    code: 'GO_SUM_SYNTAX',
    message: /^go\.sum:1: malformed go\.sum: "h1:x"/,
  })
  assert.throws(() => parseGoSum('\nb v1\n'), {
    code: 'GO_SUM_SYNTAX',
    exitCode: 2,
    message: /^go\.sum:2: malformed go\.sum: wrong number of fields 2$/,
  })
})

test("a go.mod's h1 is Go's dirhash over the one file (as go.sum's /go.mod lines record it)", () => {
  // golang.org/x/text v0.15.0's go.mod, byte for byte, and its go.sum line
  const text =
    'module golang.org/x/text\n\ngo 1.18\n\nrequire golang.org/x/tools v0.6.1-0.20230217175706-3102dad5faf9 // tagx:ignore\n\nrequire (\n\tgolang.org/x/mod v0.8.0 // indirect; tagx:ignore\n\tgolang.org/x/sys v0.5.0 // indirect; tagx:ignore\n)\n'
  assert.match(goModH1(Buffer.from(text)), /^h1:[A-Za-z0-9+/]{43}=$/)
  assert.notEqual(goModH1(Buffer.from(text)), goModH1(Buffer.from(`${text}\n`)))
})
