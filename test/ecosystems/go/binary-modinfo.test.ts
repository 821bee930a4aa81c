/**
 * The module-text parser against Go's own `runtime/debug.ParseBuildInfo` (the `parsebi` oracle that
 * scripts/go-fixtures.sh builds with the pinned Go): seeded random texts made of `path`, `mod`, `dep`, `=>`
 * and `build` lines, with tabs, quotes, backslash escapes, `=`, spaces and junk in every column, must be
 * accepted with the same result or refused by both (ours: GO_BINARY_BUILDINFO_INVALID naming the line).
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { parseModInfo } from '../../../src/ecosystems/go/binary/buildinfo.ts'
import type { BinaryFile } from '../../../src/ecosystems/go/binary/file.ts'
import type { GoModule } from '../../../src/ecosystems/go/binary/index.ts'
import { InputError } from '../../../src/errors.ts'
import { runs, SEED } from '../../fuzz/harness.ts'
import { GO_FIXTURES } from '../../helpers/go.ts'

const ORACLE = path.join(GO_FIXTURES, 'parsebi')

interface GoJsonModule {
  Path?: string
  Version?: string
  Sum?: string
  Replace?: GoJsonModule
}
interface GoJsonInfo {
  Path?: string
  Main?: GoJsonModule
  Deps?: GoJsonModule[]
  Settings?: Array<{ Key?: string; Value?: string }>
}

function oracle(texts: string[]): Array<{ ok: boolean; info?: GoJsonInfo }> {
  if (!existsSync(ORACLE))
    throw new Error(`no ParseBuildInfo oracle at ${ORACLE}: run ./scripts/go-fixtures.sh`)
  return JSON.parse(
    execFileSync(ORACLE, { input: JSON.stringify(texts), encoding: 'utf8', maxBuffer: 64 << 20 }),
  )
}

const fromGo = (m: GoJsonModule): GoModule => ({
  path: m.Path ?? '',
  version: m.Version ?? '',
  ...(m.Sum ? { sum: m.Sum } : {}),
  ...(m.Replace ? { replace: fromGo(m.Replace) } : {}),
})
const empty = (m: GoModule | undefined) =>
  m === undefined || (m.path === '' && m.version === '' && !m.sum && !m.replace)

/** Go's answer in our shape (a main module with nothing in it is no main module, in both). */
function normalizeGo(info: GoJsonInfo) {
  const main = info.Main ? fromGo(info.Main) : undefined
  return {
    path: info.Path ?? '',
    main: empty(main) ? undefined : main,
    deps: (info.Deps ?? []).map(fromGo),
    settings: (info.Settings ?? []).map((s) => ({ key: s.Key ?? '', value: s.Value ?? '' })),
  }
}

const fakeFile = {
  fail: (code: string, message: string) =>
    new InputError(code as 'GO_BINARY_BUILDINFO_INVALID', `exe: ${message}`),
} as unknown as BinaryFile

function ours(
  text: string,
): { ok: true; value: ReturnType<typeof normalizeGo> } | { ok: false; error: unknown } {
  try {
    const r = parseModInfo(fakeFile, text)
    return {
      ok: true,
      value: { path: r.path, main: empty(r.main) ? undefined : r.main, deps: r.deps, settings: r.settings },
    }
  } catch (error) {
    return { ok: false, error }
  }
}

// the pieces columns are made of: ordinary text and everything the grammar treats specially
const piece = fc.constantFrom(
  'example.com/m',
  'v1.2.3',
  '(devel)',
  'h1:abc=',
  './local',
  'x',
  '',
  ' ',
  '=',
  '"',
  '`',
  '\\',
  '\\n',
  '\\x41',
  '\\xff',
  '\\u00e9',
  '\\U0001F600',
  '\\377',
  '\\400',
  "\\'",
  '\\q',
  '\r',
  'é',
  '"a b"',
  '`raw`',
  '"\\t"',
  '-ldflags',
  'CGO_ENABLED',
)
const word = fc.array(piece, { maxLength: 4 }).map((p) => p.join(''))
const columns = fc.array(word, { minLength: 0, maxLength: 4 }).map((c) => c.join('\t'))
const line = fc.oneof(
  columns.map((c) => `path\t${c}`),
  columns.map((c) => `mod\t${c}`),
  columns.map((c) => `dep\t${c}`),
  columns.map((c) => `=>\t${c}`),
  fc.tuple(word, word).map(([k, v]) => `build\t${k}=${v}`),
  word.map((w) => `build\t${w}`),
  columns,
)
const text = fc
  .tuple(fc.array(line, { maxLength: 8 }), fc.boolean())
  .map(([lines, end]) => lines.join('\n') + (end ? '\n' : ''))

test('the module-text parser agrees with Go runtime/debug.ParseBuildInfo on random texts', () => {
  const texts = fc.sample(text, { seed: SEED, numRuns: runs(2000) })
  // a few by hand: real-looking text, quoting, a replacement of the main module, a last line without \n
  texts.push(
    'path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\ta\tv1\th1:x=\n=>\tb\tv2\th1:y=\nbuild\t-ldflags="-s -w"\nbuild\tCGO_ENABLED=0\n',
    'mod\tm\tv1\n=>\t./x\t\t\n',
    'build\t"a=b"=`c d`\nbuild\t`k`="\\u00e9\\x41"\npath\tno-newline',
  )
  const expected = oracle(texts)
  let accepted = 0
  for (const [i, t] of texts.entries()) {
    const go = expected[i] as { ok: boolean; info?: GoJsonInfo }
    const got = ours(t)
    const where = `text ${JSON.stringify(t)} (seed ${SEED})`
    if (go.ok) {
      assert.ok(got.ok, `${where}: Go accepts it, we refused: ${got.ok ? '' : String(got.error)}`)
      assert.deepEqual(got.value, normalizeGo(go.info ?? {}), where)
      accepted++
    } else {
      assert.ok(!got.ok, `${where}: Go refuses it, we accepted`)
      assert.ok(got.error instanceof InputError && got.error.code === 'GO_BINARY_BUILDINFO_INVALID', where)
      assert.match(String((got.error as Error).message), /line \d+: /, where)
    }
  }
  // both kinds are exercised
  assert.ok(
    accepted > texts.length / 10 && accepted < texts.length - texts.length / 10,
    `${accepted} of ${texts.length} accepted`,
  )
})
