// The --check report (compare.ts) and the clock/CPU preload (clock-shift.ts), without a build: unified
// diffs equal to diff(1)'s, minified lines cut around the first difference, tar/zip entries compared one
// by one, hostile names shown not obeyed, a bounded report, and repro-report.md and .json against golden files
// (rewrite them with DETBUILD_UPDATE_GOLDEN=1 and review the change like code; see docs/testing.md).
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { writeZip } from '../../src/builder/archive.ts'
import {
  CHECK_CLOCK_SHIFT_S,
  describeShift,
  toPreloadLocation,
  toPreloadSource,
  withPreload,
} from '../../src/builder/clock-shift.ts'
import {
  compareOutputs,
  REPORT_LIMITS,
  type ReproReport,
  toReportMarkdown,
  toVerdict,
  unifiedDiff,
} from '../../src/builder/compare.ts'
import { stableJson } from '../../src/util/canonical-json.ts'
import { type ArchiveEntry, gzipFixed, writeTar } from '../../src/util/tar.ts'
import { assertGolden, assertMarkdown, assertOwnSchema } from '../golden/golden.ts'

const tmp = mkdtempSync(path.join(os.tmpdir(), 'detbuild-report-test-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

/** diff(1)'s unified diff of two texts, with the same labels. */
function gnuDiff(a: string, b: string, name: string): string {
  const fa = path.join(tmp, 'a')
  const fb = path.join(tmp, 'b')
  writeFileSync(fa, a)
  writeFileSync(fb, b)
  const r = spawnSync('diff', ['-u', '--label', `first/${name}`, '--label', `second/${name}`, fa, fb], {
    encoding: 'utf8',
  })
  assert.equal(r.status, 1, r.stderr)
  return r.stdout.replace(/\n$/, '')
}

test('unified diffs are the ones diff(1) writes: hunk headers, context, no newline at end of file', () => {
  const lines = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`)
  const cases: Array<[string, string]> = [
    [lines.join('\n'), lines.map((l, i) => (i === 0 ? 'first changed' : l)).join('\n')],
    [`${lines.join('\n')}\n`, `${lines.map((l, i) => (i === 19 || i === 21 ? `${l}!` : l)).join('\n')}\n`],
    [`${lines.join('\n')}\n`, `${[...lines.slice(0, 10), 'inserted', ...lines.slice(10)].join('\n')}\n`],
    [`${lines.join('\n')}\n`, `${[...lines.slice(0, 5), ...lines.slice(30)].join('\n')}\n`],
    ['a\nb\n', 'a\nb'],
    ['', 'new\n'],
    [`${lines.join('\n')}\n`, `${lines.map((l, i) => (i % 9 === 0 ? 'x' : l)).join('\n')}\n`],
  ]
  for (const [a, b] of cases)
    assert.equal(unifiedDiff(a, b, { labels: ['first/f', 'second/f'] }), gnuDiff(a, b, 'f'))
})

test('a minified line is cut around its first difference; long diffs are cut to a line count', () => {
  const a = `${'x'.repeat(50_000)}BUILT_AT=2026${'y'.repeat(50_000)}\n`
  const b = `${'x'.repeat(50_000)}BUILT_AT=2027${'y'.repeat(50_000)}\n`
  const diff = unifiedDiff(a, b, { labels: ['first/app.min.js', 'second/app.min.js'] })
  const [, , hunk, minus, plus] = diff.split('\n')
  assert.equal(hunk, '@@ -1 +1 @@')
  for (const [line, year] of [
    [minus, '2026'],
    [plus, '2027'],
  ] as const) {
    assert.ok(line !== undefined && line.length < REPORT_LIMITS.lineWidth + 60, `${line?.length}`)
    assert.match(line, new RegExp(`^[-+]…\\[\\d+ chars\\] x+BUILT_AT=${year}y+ …\\[\\d+ chars\\]$`))
  }
  // the same without a final newline ("\ No newline at end of file" sits between the pair)
  const noEol = unifiedDiff(a.trimEnd(), b.trimEnd()).split('\n')
  assert.ok(noEol.every((l) => l.length < REPORT_LIMITS.lineWidth + 60))
  assert.ok(noEol.some((l) => l.includes('BUILT_AT=2026')) && noEol.some((l) => l.includes('BUILT_AT=2027')))
  // large texts that differ everywhere fall back to their first differing line (bounded work)
  const big = Array.from({ length: 100_000 }, (_, i) => `line ${i}`)
  const fallback = unifiedDiff(big.join('\n'), big.map((l, i) => (i % 20 === 3 ? `${l}!` : l)).join('\n'))
  assert.deepEqual(fallback.split('\n').slice(2), [
    '@@ -4 +4 @@ (too many differences to diff: the first differing line only)',
    '-line 3',
    '+line 3!',
  ])
  const many = Array.from({ length: 500 }, (_, i) => `${i}`).join('\n')
  const changed = Array.from({ length: 500 }, (_, i) => `${i}'`).join('\n')
  const cut = unifiedDiff(many, changed).split('\n')
  assert.equal(cut.length, REPORT_LIMITS.diffLines + 1)
  assert.match(cut.at(-1) ?? '', /^… \(\d+ more lines\)$/)
})

const entry = (p: string, data: string, mode = 0o644, type: ArchiveEntry['type'] = 'file'): ArchiveEntry => ({
  path: p,
  type,
  mode,
  mtime: 315532800,
  uid: 0,
  gid: 0,
  uname: '',
  gname: '',
  linkpath: '',
  data: Buffer.from(data),
})

function fixtureOutputs(): [Map<string, Uint8Array>, Map<string, Uint8Array>] {
  const first = new Map<string, Uint8Array>()
  const second = new Map<string, Uint8Array>()
  first.set(
    'pkg.tgz',
    gzipFixed(
      writeTar([
        entry('package/bin.js', '#!/usr/bin/env node\n', 0o755),
        entry(
          'package/dist/info.js',
          "export const builtAt = '2026-11-30T10:00:00.000Z'\nexport const name = 'x'\n",
        ),
        entry('package/gone.txt', 'removed later\n'),
        entry('package/logo.png', '\u0000PNG-one'),
        entry('package/package.json', '{"name":"x"}\n'),
      ]),
    ),
  )
  second.set(
    'pkg.tgz',
    gzipFixed(
      writeTar([
        entry('package/bin.js', '#!/usr/bin/env node\n', 0o644),
        entry(
          'package/dist/info.js',
          "export const builtAt = '2028-01-04T13:07:13.000Z'\nexport const name = 'x'\n",
        ),
        entry('package/logo.png', '\u0000PNG-two!'),
        entry('package/new`name\n.txt', 'added\n'),
        entry('package/package.json', '{"name":"x"}\n'),
      ]),
    ),
  )
  first.set('site.zip', writeZip([entry('index.html', '<p>1 CPU</p>\n')]))
  second.set('site.zip', writeZip([entry('index.html', '<p>2 CPUs</p>\n')]))
  first.set('same.txt', Buffer.from('same\n'))
  second.set('same.txt', Buffer.from('same\n'))
  first.set('stamp.txt', Buffer.from('built 2026\n```\nnot a fence end\n'))
  second.set('stamp.txt', Buffer.from('built 2028\n```\nnot a fence end\n'))
  first.set('broken.tgz', Buffer.from('not a gzip'))
  second.set('broken.tgz', Buffer.from('not a gzip either'))
  first.set('only-first.txt', Buffer.from('x'))
  return [first, second]
}

test('tar and zip outputs are compared entry by entry; repro-report.md matches its golden file', async () => {
  const [first, second] = fixtureOutputs()
  const outputs = await compareOutputs(first, second)
  const tgz = outputs.find((o) => o.name === 'pkg.tgz')
  assert.deepEqual(
    tgz?.entries?.map((e) => [e.path, e.change]),
    [
      ['package/bin.js', 'metadata'],
      ['package/dist/info.js', 'bytes'],
      ['package/gone.txt', 'only-in-first'],
      ['package/logo.png', 'bytes'],
      ['package/new`name\n.txt', 'only-in-second'],
    ],
  )
  const [bin, info, , logo] = tgz?.entries ?? []
  assert.deepEqual(bin?.fields, [{ field: 'mode', first: '0755', second: '0644' }])
  assert.match(info?.diff ?? '', /^@@ -1,2 \+1,2 @@$/m)
  assert.deepEqual(logo?.size, { first: 8, second: 9 })
  assert.equal(logo?.diff, undefined, 'binary entries get digests, not diffs')
  assert.match(logo?.sha256?.first ?? '', /^[0-9a-f]{64}$/)
  assert.deepEqual(
    outputs.find((o) => o.name === 'site.zip')?.entries?.map((e) => [e.path, e.change]),
    [['index.html', 'bytes']],
  )
  assert.match(
    outputs.find((o) => o.name === 'broken.tgz')?.note ?? '',
    /^the entries could not be compared: /,
  )
  const variations = [
    { name: 'umask', applied: true, first: '022', second: '077' },
    {
      name: 'clock (other processes)',
      applied: false,
      first: 'real time',
      second: '+400 d',
      note: 'faketime is not on PATH',
    },
  ]
  const report: ReproReport = {
    schemaVersion: 1,
    reproducible: false,
    verdict: toVerdict(false, variations, outputs),
    variations,
    fixed: [{ name: 'TZ', value: 'UTC', why: 'not in the config’s env allowlist: the same in every build' }],
    outputs,
  }
  const md = toReportMarkdown(report)
  // a hostile entry name stays on its line and inside its code span; a fence in the content does not end the block
  assert.ok(md.includes('- `` package/new`name\\u000a.txt ``: only-in-second'), md)
  assert.ok(md.includes('````diff\n--- first/stamp.txt'), md)
  // the golden files live with the others (test/golden/files/repro-report/), schema-checked like them
  const json = stableJson(report)
  assertOwnSchema('repro-report', json)
  assertMarkdown(md)
  assertGolden('repro-report/hostile.md', md)
  assertGolden('repro-report/hostile.json', json)
})

test('the report is bounded: entries listed and diff text are capped, with a marker', async () => {
  const entries = (v: string) =>
    writeTar(
      Array.from({ length: 600 }, (_, i) =>
        entry(`f${String(i).padStart(4, '0')}.js`, `${'a\n'.repeat(300)}${v}\n`),
      ),
    )
  const outputs = await compareOutputs(
    new Map([['big.tar', entries('1')]]),
    new Map([['big.tar', entries('2')]]),
  )
  const big = outputs[0]
  assert.equal(big?.entries?.length, REPORT_LIMITS.entries)
  assert.equal(big?.entriesOmitted, 600 - REPORT_LIMITS.entries)
  const diffChars = (big?.entries ?? []).reduce((n, e) => n + (e.diff?.length ?? 0), 0)
  assert.ok(diffChars <= REPORT_LIMITS.totalDiffChars + 100, `${diffChars}`)
  const md = toReportMarkdown({
    schemaVersion: 1,
    reproducible: false,
    verdict: 'x',
    variations: [],
    fixed: [],
    outputs,
  })
  assert.match(md, /- … 400 more differing entries \(truncated: the report lists at most 200\)/)
  assert.ok(md.length < 2 * REPORT_LIMITS.totalDiffChars, `${md.length}`)
  // with a small budget, later diffs are left out and say why
  const tight = await compareOutputs(
    new Map([['big.tar', entries('1')]]),
    new Map([['big.tar', entries('2')]]),
    {
      ...REPORT_LIMITS,
      totalDiffChars: 2000,
    },
  )
  const withDiff = tight[0]?.entries?.filter((e) => e.diff !== undefined).length ?? 0
  assert.ok(withDiff >= 1 && withDiff < 100, `${withDiff}`)
  assert.equal(tight[0]?.entries?.at(-1)?.diffOmitted, 'the report size limit was reached')
})

test('the verdict counts the variations that took effect and names the others', () => {
  const v = (name: string, applied: boolean) => ({ name, applied, first: '', second: '' })
  assert.equal(toVerdict(true, [v('umask', true), v('clock', true)], []), 'reproducible under 2 variations')
  assert.equal(
    toVerdict(true, [v('umask', true), v('hostname', false), v('uid', false)], []),
    'reproducible under 1 variation; not varied: hostname, uid',
  )
  assert.equal(
    toVerdict(
      false,
      [v('umask', true)],
      [
        { name: 'a.tgz', status: 'differs' },
        { name: 'b.txt', status: 'identical' },
      ],
    ),
    'NOT reproducible under 1 variation: a.tgz differ',
  )
  assert.equal(describeShift(CHECK_CLOCK_SHIFT_S), '+400 d 3 h 7 min 13 s')
  assert.equal(describeShift(-90), '-1 min 30 s')
})

/** Runs node with the preload (in a HOME folder whose path has a space) and returns what it printed. */
function runWithPreload(
  plan: Parameters<typeof toPreloadSource>[0],
  script: string,
  wrap: string[] = [],
): string {
  const home = path.join(tmp, 'home with space')
  mkdirSync(home, { recursive: true })
  const where = toPreloadLocation(home, { HOME: home })
  writeFileSync(where.file, toPreloadSource(plan))
  const env = withPreload(
    { HOME: home, PATH: process.env.PATH ?? '', NODE_OPTIONS: '--no-warnings' },
    where.shown,
  )
  assert.match(
    env.NODE_OPTIONS ?? '',
    /^--no-warnings --require="[^"]+home with space\/\.detbuild-preload\.cjs"$/,
  )
  return execFileSync(
    wrap[0] ?? process.execPath,
    [...wrap.slice(1), ...(wrap.length ? [process.execPath] : []), '--input-type=module', '-e', script],
    {
      env,
      encoding: 'utf8',
    },
  )
}

test('the preload shifts Date, Date(), Intl and performance.timeOrigin consistently, and the CPU count', () => {
  const before = Date.now()
  const out = JSON.parse(
    runWithPreload(
      { offsetS: CHECK_CLOCK_SHIFT_S, cpus: 3 },
      `import os, { cpus, availableParallelism } from 'node:os'
       import { execFileSync } from 'node:child_process'
       import { execFile } from 'node:child_process'
       const child = execFileSync(process.execPath, ['-p', 'Date.now()'], { encoding: 'utf8' })
       // a child started with an environment of its own, as cross-env or a tool with env: { PATH } does
       const own = execFileSync(process.execPath, ['-p', 'Date.now()'], { encoding: 'utf8', env: { PATH: '' } })
       const replaced = await new Promise((ok, no) => execFile(process.execPath, ['-p', 'Date.now()'],
         { env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=256' } }, (e, out) => (e ? no(e) : ok(out))))
       console.log(JSON.stringify({
         now: Date.now(), created: new Date().getTime(), str: Date(), perf: performance.timeOrigin + performance.now(),
         year: new Intl.DateTimeFormat('en', { year: 'numeric', timeZone: 'UTC' }).format(),
         epoch: new Date(0).toISOString(), isDate: new Date() instanceof Date, sub: new (class extends Date {})().getTime(),
         cpus: cpus().length, osCpus: os.cpus().length, par: availableParallelism(), hc: navigator.hardwareConcurrency,
         child: Number(child), own: Number(own), replaced: Number(replaced),
       }))`,
    ),
  )
  const shift = CHECK_CLOCK_SHIFT_S * 1000
  const near = (ms: number, what: string) =>
    assert.ok(Math.abs(ms - (before + shift)) < 60_000, `${what}: ${ms - before} ms, not ${shift}`)
  near(out.now, 'Date.now()')
  near(out.created, 'new Date()')
  near(Date.parse(out.str), 'Date()')
  near(out.perf, 'performance.timeOrigin + performance.now()')
  near(out.sub, 'a Date subclass')
  near(out.child, 'a child node process (NODE_OPTIONS is inherited)')
  near(out.own, 'a child node process started with an environment of its own')
  near(out.replaced, 'a child node process whose NODE_OPTIONS was replaced (cross-env)')
  assert.equal(out.year, String(new Date(before + shift).getUTCFullYear()))
  assert.equal(out.epoch, '1970-01-01T00:00:00.000Z', 'dates given a time are left alone')
  assert.equal(out.isDate, true)
  assert.deepEqual([out.cpus, out.osCpus, out.par, out.hc], [3, 3, 3, 3])
})

test('under libfaketime the preload leaves the clock to it (no double shift); npm still runs', () => {
  const faketime = execFileSync('sh', ['-c', 'command -v faketime'], { encoding: 'utf8' }).trim()
  const before = Date.now()
  const now = Number(
    runWithPreload({ offsetS: CHECK_CLOCK_SHIFT_S, cpus: null }, 'console.log(Date.now())', [
      faketime,
      '-f',
      '+100d',
    ]),
  )
  assert.ok(Math.abs(now - (before + 100 * 86400_000)) < 60_000, `${(now - before) / 86400_000} days`)
  const npm = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim()
  const home = path.join(tmp, 'npm-home')
  mkdirSync(home, { recursive: true })
  const where = toPreloadLocation(home, { HOME: home })
  writeFileSync(where.file, toPreloadSource({ offsetS: -CHECK_CLOCK_SHIFT_S, cpus: 1 }))
  const version = execFileSync(npm, ['--version'], {
    env: withPreload({ HOME: home, PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` }, where.shown),
    encoding: 'utf8',
  })
  assert.match(version.trim(), /^\d+\.\d+\.\d+$/)
})
