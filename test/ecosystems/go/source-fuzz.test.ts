/**
 * Fuzz: real go.mod and go.sum files (test/fixtures/go/source/), mutated (lines dropped, doubled or
 * swapped, characters inserted, the file cut short), through the readers and the SBOM writer: either a
 * schema-valid SBOM or one bad-input line naming `go.mod:<line>` / `go.sum:<line>` with a GO_* code and
 * exit 2, never a crash, a hang or another error.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { parseGoMod } from '../../../src/ecosystems/go/gomod.ts'
import { parseGoSum } from '../../../src/ecosystems/go/gosum.ts'
import { isDetbuildError } from '../../../src/errors.ts'
import { makeSbom } from '../../../src/sbom/index.ts'
import { validateJson } from '../../../src/sbom/validate.ts'
import { repoRoot } from '../../helpers/paths.ts'

const FIXTURES = path.join(repoRoot, 'test/fixtures/go/source')
const SEEDS = ['etcd', 'prometheus', 'go-cmd'].map((n) => ({
  mod: readFileSync(path.join(FIXTURES, n, 'go.mod'), 'utf8'),
  sum: readFileSync(path.join(FIXTURES, n, 'go.sum'), 'utf8'),
}))

const INSERTS = [
  '(',
  ')',
  '"',
  '`',
  '//',
  '=>',
  ' ',
  '\t',
  '\n',
  '\r',
  '\u0000',
  'v',
  '+incompatible',
  '[',
  ',',
  ']',
  '@',
  '\\',
  '\u00e9',
  'require',
  'replace x => ./y',
  'v1.2',
]

const mutation = fc.record({
  seed: fc.nat({ max: SEEDS.length - 1 }),
  drops: fc.array(fc.nat(), { maxLength: 3 }),
  doubles: fc.array(fc.nat(), { maxLength: 2 }),
  swaps: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 2 }),
  inserts: fc.array(fc.tuple(fc.nat(), fc.constantFrom(...INSERTS)), { maxLength: 4 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
})

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never

function mutate(text: string, m: Mutation): string {
  const lines = text.split('\n')
  for (const d of m.drops) lines.splice(d % lines.length, 1)
  for (const d of m.doubles) lines.splice(d % lines.length, 0, lines[d % lines.length] ?? '')
  for (const [a, b] of m.swaps) {
    const i = a % lines.length
    const j = b % lines.length
    ;[lines[i], lines[j]] = [lines[j]!, lines[i]!]
  }
  let out = lines.join('\n')
  for (const [at, s] of m.inserts) {
    const i = at % (out.length + 1)
    out = out.slice(0, i) + s + out.slice(i)
  }
  if (m.cut !== undefined) out = out.slice(0, m.cut % (out.length + 1))
  return out
}

function expectBadInput(e: unknown, file: 'go.mod' | 'go.sum'): void {
  assert.ok(isDetbuildError(e), `not a DetbuildError: ${(e as Error)?.stack}`)
  assert.equal(e.exitCode, 2, e.message)
  assert.match(e.code, /^GO_(MOD|SUM)_/)
  if (e.code === 'GO_MOD_SYNTAX' || e.code === 'GO_SUM_SYNTAX')
    assert.match(e.message, new RegExp(`^${file.replace('.', '\\.')}:\\d+: `))
  assert.ok(!e.message.includes('\n'), 'one line')
}

test('mutated go.mod / go.sum text: parsed, or GO_* bad input naming the line (pure readers)', () => {
  fc.assert(
    fc.property(mutation, mutation, (mm, ms) => {
      const mod = mutate(SEEDS[mm.seed]!.mod, mm)
      try {
        parseGoMod(mod)
      } catch (e) {
        expectBadInput(e, 'go.mod')
      }
      const sum = mutate(SEEDS[ms.seed]!.sum, ms)
      try {
        parseGoSum(sum)
      } catch (e) {
        expectBadInput(e, 'go.sum')
      }
    }),
    { numRuns: 2000, seed: 16 },
  )
})

test('mutated projects through the SBOM step: a schema-valid SBOM or one bad-input line', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'detbuild-go-fuzz-'))
  try {
    let written = 0
    await fc.assert(
      fc.asyncProperty(mutation, mutation, fc.boolean(), fc.boolean(), async (mm, ms, modOn, sumOn) => {
        // each file mutated or left as it is: the unchanged half keeps most runs past the readers
        const seed = SEEDS[mm.seed]!
        writeFileSync(path.join(dir, 'go.mod'), modOn ? mutate(seed.mod, mm) : seed.mod)
        writeFileSync(path.join(dir, 'go.sum'), sumOn ? mutate(seed.sum, ms) : seed.sum)
        try {
          const made = await makeSbom({
            cwd: dir,
            from: 'lockfile',
            format: 'json',
            spec: '1.6',
            omit: [],
            workspaces: [],
            validate: false,
            sourceDateEpoch: 0,
            env: {},
          })
          written++
          assert.deepEqual(await validateJson(made.serialized.json, '1.6'), { ok: true })
        } catch (e) {
          if (isDetbuildError(e) && e.code === 'SBOM_SCHEMA_INVALID') throw e
          expectBadInput(e, isDetbuildError(e) && e.code.startsWith('GO_SUM') ? 'go.sum' : 'go.mod')
        }
      }),
      { numRuns: 150, seed: 16 },
    )
    assert.ok(written > 10, `some mutations still make an SBOM (${written})`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
