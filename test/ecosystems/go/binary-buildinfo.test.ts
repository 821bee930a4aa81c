/**
 * The Go executable reader against the pinned Go's own `go version -m -json` and `go tool nm` on every
 * fixture executable (scripts/go-fixtures.sh: built ones for five GOOS/GOARCH, stripped and not, and real
 * esbuild executables from npm packages, one of them pre-1.18), plus the edges: not an executable, an
 * executable that is not Go, a fat Mach-O made from a thin one.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import {
  executableFormat,
  type GoBuildInfo,
  type GoModule,
  readGoBinary,
} from '../../../src/ecosystems/go/binary/index.ts'
import { InputError } from '../../../src/errors.ts'
import { GO_FIXTURES, goBinary, goEnv, goFixtureExecutables } from '../../helpers/go.ts'
import { tempDir } from '../../helpers/paths.ts'

interface JsonModule {
  Path: string
  Version: string
  Sum?: string
  Replace?: JsonModule
}

function fromGo(m: JsonModule): GoModule {
  return {
    path: m.Path,
    version: m.Version ?? '',
    ...(m.Sum ? { sum: m.Sum } : {}),
    ...(m.Replace ? { replace: fromGo(m.Replace) } : {}),
  }
}

/** What `go version -m -json` says, in the reader's shape (without format and container). */
function goVersionM(file: string): Omit<GoBuildInfo, 'format' | 'container'> {
  const out = execFileSync(goBinary(), ['version', '-m', '-json', file], { env: goEnv(), encoding: 'utf8' })
  const j = JSON.parse(out) as {
    GoVersion: string
    Path?: string
    Main?: JsonModule
    Deps?: JsonModule[]
    Settings?: Array<{ Key: string; Value: string }>
  }
  return {
    goVersion: j.GoVersion,
    path: j.Path ?? '',
    ...(j.Main?.Path ? { main: fromGo(j.Main) } : {}),
    deps: (j.Deps ?? []).map(fromGo),
    settings: (j.Settings ?? []).map((s) => ({ key: s.Key, value: s.Value })),
  }
}

const fixtures = goFixtureExecutables()

test('there are fixtures of every container, both formats, stripped and not', () => {
  assert.ok(fixtures.length >= 17, fixtures.join(' '))
  for (const part of [
    'linux-amd64',
    'linux-arm64',
    'linux-386',
    'darwin-arm64',
    'windows-amd64',
    'stripped',
    'vcs',
  ])
    assert.ok(
      fixtures.some((f) => f.includes(part)),
      part,
    )
  assert.ok(fixtures.some((f) => f.includes('esbuild-linux-64@0.13.15')))
})

for (const fixture of fixtures) {
  test(`build info of ${fixture} equals go version -m`, async () => {
    const file = path.join(GO_FIXTURES, fixture)
    const read = await readGoBinary(file)
    assert.ok(read, 'read as a Go executable')
    const { format, container, ...rest } = read.buildInfo
    assert.deepEqual(rest, goVersionM(file))
    const head = readFileSync(file).subarray(0, 8)
    assert.equal(container, executableFormat(head))
    // Go 1.18 moved to inline strings
    const minor = Number(/^go1\.(\d+)/.exec(read.buildInfo.goVersion)?.[1])
    assert.equal(format, minor >= 18 ? 'inline' : 'pointer')
  })
}

test('the built fixtures carry what the issue asks for: replace lines, h1 sums, build settings, vcs', async () => {
  const vcs = await readGoBinary(path.join(GO_FIXTURES, 'bin/app-vcs'))
  assert.ok(vcs)
  const info = vcs.buildInfo
  assert.equal(info.path, 'example.com/app')
  assert.match(info.main?.version ?? '', /^v0\.0\.0-20240102030405-[0-9a-f]{12}$/)
  const byPath = new Map(info.deps.map((d) => [d.path, d]))
  assert.match(byPath.get('example.com/greet')?.sum ?? '', /^h1:[A-Za-z0-9+/]{43}=$/)
  assert.equal(byPath.get('example.com/color')?.replace?.path, 'example.com/colour')
  assert.deepEqual(byPath.get('example.com/local')?.replace, { path: './local', version: '(devel)' })
  const settings = new Map(info.settings.map((s) => [s.key, s.value]))
  assert.equal(settings.get('-trimpath'), 'true')
  assert.equal(settings.get('CGO_ENABLED'), '0')
  assert.equal(settings.get('vcs.time'), '2024-01-02T03:04:05Z')
  assert.equal(settings.get('vcs.modified'), 'false')
  assert.match(settings.get('vcs.revision') ?? '', /^[0-9a-f]{40}$/)
  // a quoted value (-ldflags="-s -w") is unquoted as Go does
  const plain = await readGoBinary(path.join(GO_FIXTURES, 'bin/app-linux-amd64-no-trimpath'))
  assert.equal(plain?.buildInfo.settings.find((s) => s.key === '-ldflags')?.value, '-s -w')
})

/** `go tool nm`'s function names (T/t symbols) of an unstripped executable. */
function nmFunctions(file: string): Set<string> {
  const out = execFileSync(goBinary(), ['tool', 'nm', file], {
    env: goEnv(),
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  })
  const names = new Set<string>()
  for (const line of out.split('\n')) {
    const m = /^\s*[0-9a-f]*\s+\d*\s*([Tt])\s+(.+)$/.exec(line)
    // nm marks assembly (ABI0) functions with a suffix the pclntab does not have
    if (m) names.add((m[2] as string).replace(/\.abi0$/, ''))
  }
  return names
}

for (const [unstripped, stripped] of [
  ['bin/app-linux-amd64', 'bin/app-linux-amd64-stripped'],
  ['bin/app-darwin-arm64', 'bin/app-darwin-arm64-stripped'],
  ['bin/app-windows-amd64.exe', 'bin/app-windows-amd64-stripped.exe'],
  ['bin/app-linux-386', 'bin/app-linux-386-stripped'],
] as const) {
  test(`symbols of ${unstripped} are go tool nm's functions, and survive -s -w`, async () => {
    const full = await readGoBinary(path.join(GO_FIXTURES, unstripped), { symbols: true })
    const bare = await readGoBinary(path.join(GO_FIXTURES, stripped), { symbols: true })
    assert.ok(full?.symbols && bare?.symbols)
    assert.deepEqual(bare.symbols, full.symbols, 'stripping keeps the pclntab')
    assert.deepEqual(full.symbols, [...full.symbols].sort(), 'sorted')
    assert.equal(new Set(full.symbols).size, full.symbols.length, 'unique')
    for (const name of [
      'main.main',
      'example.com/greet.Hello',
      'example.com/color.Paint',
      'example.com/local.Name',
      'runtime.main',
    ])
      assert.ok(full.symbols.includes(name), name)
    assert.ok(!full.symbols.includes('example.com/greet.Unused'), 'dead code is not in the table')
    const nm = nmFunctions(path.join(GO_FIXTURES, unstripped))
    const ours = new Set(full.symbols)
    // the symbol table writes the pclntab's '·' as '.', and Mach-O prefixes C-style names with '_'
    const listed = (n: string) => nm.has(n) || nm.has(n.replaceAll('·', '.')) || nm.has(`_${n}`)
    const missing = [...ours].filter((n) => !listed(n))
    assert.deepEqual(missing, [], 'every pclntab name is a function go tool nm lists')
    const extra = [...nm].filter((n) => !ours.has(n) && !n.includes('.'))
    assert.ok(
      nm.size - ours.size < 50,
      `nm lists ${nm.size} functions, the pclntab ${ours.size}: ${extra.slice(0, 5)}`,
    )
  })
}

test('symbols of the real esbuild executables: Go 1.16 pclntab (pre-1.18), Mach-O, PE', async () => {
  for (const f of [
    'npm/esbuild-linux-64@0.13.15/package/bin/esbuild',
    'npm/@esbuild+linux-x64@0.19.12/package/bin/esbuild',
    'npm/@esbuild+darwin-arm64@0.25.0/package/bin/esbuild',
    'npm/@esbuild+win32-x64@0.25.0/package/esbuild.exe',
  ]) {
    const r = await readGoBinary(path.join(GO_FIXTURES, f), { symbols: true })
    assert.ok(r?.symbols, f)
    assert.ok(r.symbols.includes('main.main'), f)
    assert.ok(
      r.symbols.some((s) => s.startsWith('github.com/evanw/esbuild/internal/js_parser.')),
      f,
    )
    assert.ok(r.symbols.length > 5000, `${f}: ${r.symbols.length}`)
  }
  // esbuild's executables are stripped: go tool nm has nothing to compare with (that is the point)
  assert.throws(() => nmFunctions(path.join(GO_FIXTURES, 'npm/esbuild-linux-64@0.13.15/package/bin/esbuild')))
})

test('a fat Mach-O is read through its first architecture', async () => {
  const thin = readFileSync(path.join(GO_FIXTURES, 'bin/app-darwin-arm64'))
  const offset = 0x4000
  const fat = Buffer.alloc(offset + thin.length)
  fat.writeUInt32BE(0xcafebabe, 0)
  fat.writeUInt32BE(1, 4)
  fat.writeUInt32BE(0x0100000c, 8) // CPU_TYPE_ARM64
  fat.writeUInt32BE(0, 12)
  fat.writeUInt32BE(offset, 16)
  fat.writeUInt32BE(thin.length, 20)
  fat.writeUInt32BE(14, 24)
  thin.copy(fat, offset)
  const dir = tempDir()
  writeFileSync(path.join(dir, 'fat'), fat)
  const a = await readGoBinary(path.join(dir, 'fat'), { symbols: true })
  const b = await readGoBinary(path.join(GO_FIXTURES, 'bin/app-darwin-arm64'), { symbols: true })
  assert.deepEqual(a, b)
})

test('files that are not Go executables are null; a missing file is GO_BINARY_UNREADABLE', async () => {
  const dir = tempDir()
  writeFileSync(path.join(dir, 'text'), 'hello, world\n')
  writeFileSync(path.join(dir, 'empty'), '')
  writeFileSync(path.join(dir, 'dos'), Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200)]))
  // a Java class file shares the fat Mach-O magic
  writeFileSync(path.join(dir, 'Main.class'), Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52, 0, 0]))
  copyFileSync('/bin/sh', path.join(dir, 'sh'))
  for (const f of ['text', 'empty', 'dos', 'Main.class', 'sh'])
    assert.equal(await readGoBinary(path.join(dir, f)), null, f)
  await assert.rejects(
    readGoBinary(path.join(dir, 'absent')),
    (e: unknown) => e instanceof InputError && e.code === 'GO_BINARY_UNREADABLE',
  )
  await assert.rejects(
    readGoBinary(dir),
    (e: unknown) => e instanceof InputError && e.code === 'GO_BINARY_UNREADABLE',
  )
})

test('executableFormat sniffs the magic of each container', () => {
  const b = (...x: number[]) => Uint8Array.from(x)
  assert.equal(executableFormat(b(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0)), 'elf')
  assert.equal(executableFormat(b(0xcf, 0xfa, 0xed, 0xfe, 0x0c, 0, 0, 1)), 'macho')
  assert.equal(executableFormat(b(0xfe, 0xed, 0xfa, 0xce, 0, 0, 0, 7)), 'macho')
  assert.equal(executableFormat(b(0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2)), 'macho')
  assert.equal(executableFormat(b(0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52)), null, 'a Java class')
  assert.equal(executableFormat(b(0x4d, 0x5a, 0x90, 0)), 'pe')
  assert.equal(executableFormat(b(0x23, 0x21, 0x2f, 0x62)), null, '#!/b')
  assert.equal(executableFormat(b(0x7f, 0x45)), null)
  assert.equal(executableFormat(b()), null)
})
