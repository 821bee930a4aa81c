/**
 * The error-code catalogue (src/error-codes.ts), the source and docs/errors.md agree: every code used in
 * src/ is catalogued and documented with its exit code, every catalogued or documented code is used, and a
 * code thrown as `new InputError(...)` is catalogued with exit 2 (and so on for each class). The checks are
 * first proven on a fake source and a fake page that break each rule.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { ERROR_CODE_DOMAINS, ERROR_CODES, type ErrorCode } from '../../src/error-codes.ts'
import {
  CheckFailedError,
  DetbuildError,
  IncompleteError,
  InputError,
  InternalError,
  isWrappedBug,
  toDetbuildError,
} from '../../src/errors.ts'
import { cli } from '../helpers/cli.ts'
import { repoRoot, tempDir } from '../helpers/paths.ts'
import {
  type CatalogueExits,
  CODE_SHAPE,
  type CodeUse,
  extractCodeUses,
  findCatalogueProblems,
  readDocumentedCodes,
} from './extract.ts'

const DOMAINS = new Set(Object.keys(ERROR_CODE_DOMAINS))
const CATALOGUE: CatalogueExits = new Map(
  Object.entries(ERROR_CODES).map(([code, info]) => [
    code,
    'alsoExit' in info ? [info.exit, info.alsoExit] : [info.exit],
  ]),
)

/** Codes renamed for naming drift (docs/errors.md, "Renamed codes"): the old names must be gone from src/. */
const RENAMED: Record<string, ErrorCode> = {
  BUILD_CONFIG_INVALID: 'CONFIG_INVALID',
  BUILD_CONFIG_MISSING: 'CONFIG_MISSING',
  BUILD_CONFIG_EXISTS: 'CONFIG_EXISTS',
  BUILD_CONFIG_ENV_SECRET: 'CONFIG_ENV_SECRET',
  USAGE_OMIT_INVALID: 'SBOM_USAGE',
  INTERNAL_SCHEMA_MISSING: 'POLICY_SCHEMA_MISSING',
  BUILD_SOURCE_DATE_EPOCH_INVALID: 'CONFIG_SOURCE_DATE_EPOCH_INVALID',
  SCAN_SOURCE_DATE_EPOCH_INVALID: 'CONFIG_SOURCE_DATE_EPOCH_INVALID',
  RUN_BUILD_MANIFEST_INVALID: 'WORKSPACE_BUILD_INVALID',
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort()
}

function usesInSrc(): CodeUse[] {
  const src = path.join(repoRoot, 'src')
  return sourceFiles(src)
    .filter((f) => path.basename(f) !== 'error-codes.ts')
    .flatMap((f) => extractCodeUses(readFileSync(f, 'utf8'), path.relative(repoRoot, f), DOMAINS))
}

const docsPage = () => readFileSync(path.join(repoRoot, 'docs', 'errors.md'), 'utf8')

test('the checks catch each kind of drift, on a fake source and a fake page', () => {
  const fake = [
    "import { CheckFailedError, InputError } from '../errors.ts'",
    "// 'SBOM_IN_A_COMMENT' is only talk, and so is `SCAN_IN_A_DOC_COMMENT`",
    "const proxy = 'HTTP_PROXY'",
    "throw new InputError('SBOM_NOT_CATALOGUED', 'a code nobody listed')",
    "throw new CheckFailedError('NEWDOMAIN_SOME_REASON', 'a new domain is found by its class')",
    "readJsonFile(file, 'SCAN_VIA_HELPER', display)",
    "throw new InputError('SCAN_WRONG_CLASS', 'exit 2, but the catalogue says 3')",
    'const failures = [{ code: `VERIFY_IN_A_LIST` }]',
  ].join('\n')
  const uses = extractCodeUses(fake, 'fake.ts', new Set(['SBOM', 'SCAN', 'VERIFY']))
  assert.deepEqual(uses, [
    { code: 'SBOM_NOT_CATALOGUED', at: 'fake.ts:4', errorClass: 'InputError' },
    { code: 'NEWDOMAIN_SOME_REASON', at: 'fake.ts:5', errorClass: 'CheckFailedError' },
    { code: 'SCAN_VIA_HELPER', at: 'fake.ts:6' },
    { code: 'SCAN_WRONG_CLASS', at: 'fake.ts:7', errorClass: 'InputError' },
    { code: 'VERIFY_IN_A_LIST', at: 'fake.ts:8' },
  ])

  const page = [
    '| code | exit | when | what to do |',
    '|---|---|---|---|',
    '| `SCAN_VIA_HELPER` | 2 | … | … |',
    '| `SCAN_WRONG_CLASS` | 3 | … | … |',
    '| `VERIFY_IN_A_LIST` | 2 | … | … |',
    '| `SCAN_GONE` | 2 | documented, never thrown | … |',
    '',
    '## Renamed codes',
    '| `SCAN_OLD_NAME` | `SCAN_VIA_HELPER` | an old name is not a documented code |',
  ].join('\n')
  const documented = readDocumentedCodes(page)
  assert.equal(documented.mentioned.has('SCAN_OLD_NAME'), false)
  const catalogue: CatalogueExits = new Map([
    ['SCAN_VIA_HELPER', [2]],
    ['SCAN_WRONG_CLASS', [3]],
    ['VERIFY_IN_A_LIST', [1]],
    ['SCAN_UNUSED', [2]],
  ])
  assert.deepEqual(findCatalogueProblems(uses, catalogue, documented, new Set(['SBOM', 'SCAN', 'VERIFY'])), [
    'SCAN_GONE is documented in docs/errors.md but not in the catalogue (never thrown?)',
    'SCAN_UNUSED has no table row in docs/errors.md',
    'SCAN_UNUSED is in the catalogue but never used in src/',
    'SCAN_UNUSED is not documented in docs/errors.md',
    'VERIFY_IN_A_LIST: docs/errors.md says exit 2, the catalogue 1',
    'fake.ts:4: SBOM_NOT_CATALOGUED is used but not in src/error-codes.ts',
    'fake.ts:5: NEWDOMAIN_SOME_REASON is used but not in src/error-codes.ts',
    'fake.ts:7: SCAN_WRONG_CLASS is thrown as InputError (exit 2) but the catalogue says exit 3',
  ])
})

test('src/, src/error-codes.ts and docs/errors.md agree on every code', () => {
  const uses = usesInSrc()
  // a sanity floor: the extraction reads the real tree (far more than a handful of codes are thrown)
  assert.ok(new Set(uses.map((u) => u.code)).size >= 150, `only ${uses.length} uses found`)
  assert.ok(uses.filter((u) => u.errorClass !== undefined).length >= 150)
  assert.deepEqual(findCatalogueProblems(uses, CATALOGUE, readDocumentedCodes(docsPage()), DOMAINS), [])
})

test('every catalogued code has the DOMAIN_REASON shape of its domain and a one-line hint', () => {
  for (const [domain, codes] of Object.entries(ERROR_CODE_DOMAINS))
    for (const [code, info] of Object.entries(codes)) {
      assert.match(code, CODE_SHAPE)
      assert.ok(code.startsWith(`${domain}_`), `${code} is filed under ${domain}`)
      assert.ok(info.hint.length > 0 && !info.hint.includes('\n'), code)
      if (domain === 'INTERNAL') assert.equal(info.exit, 70, `${code}: INTERNAL_* codes are bugs`)
    }
  const flat = Object.values(ERROR_CODE_DOMAINS).flatMap((codes) => Object.keys(codes))
  assert.equal(flat.length, Object.keys(ERROR_CODES).length, 'a code is filed under two domains')
})

test('renamed codes are gone from src/ and listed in docs/errors.md', () => {
  const used = new Set(usesInSrc().map((u) => u.code))
  const page = docsPage()
  for (const [old, now] of Object.entries(RENAMED)) {
    assert.equal(used.has(old), false, `${old} is still used`)
    assert.ok(used.has(now), `${now} is not used`)
    assert.ok(page.includes(`| \`${old}\` | \`${now}\` |`), `docs/errors.md does not list ${old} → ${now}`)
  }
})

test('a renamed code is what the CLI prints: sbom --omit with a bad value is SBOM_USAGE, exit 2', async () => {
  const r = await cli(['sbom', '--omit', 'bogus', '--json'], { cwd: tempDir() })
  assert.equal(r.code, 2)
  assert.equal(JSON.parse(r.stdout).error.code, 'SBOM_USAGE')
  assert.match(r.stderr, /\[SBOM_USAGE\]: --omit takes dev, optional or peer, not "bogus"/)
})

test('toDetbuildError keeps a DetbuildError, lets the caller recognise a non-bug, and wraps the rest as a bug', () => {
  const input = new InputError('INPUT_UNREADABLE', 'gone')
  assert.equal(toDetbuildError(input), input)
  assert.equal(isWrappedBug(input), false)

  const stray = Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' })
  const recognised = new IncompleteError('IO_NO_SPACE', 'no space left on the device')
  assert.equal(
    toDetbuildError(stray, (e) => (e === stray ? recognised : undefined)),
    recognised,
  )
  assert.equal(isWrappedBug(recognised), false)

  const bug = new TypeError('x is undefined')
  const wrapped = toDetbuildError(bug, () => undefined)
  assert.ok(wrapped instanceof InternalError)
  assert.deepEqual(
    [wrapped.code, wrapped.exitCode, wrapped.message, wrapped.cause],
    ['INTERNAL_ERROR', 70, 'x is undefined', bug],
  )
  assert.equal(isWrappedBug(wrapped), true)
  assert.equal(toDetbuildError('a string').message, 'a string')

  // an InternalError thrown on purpose is known, not a wrapped bug
  assert.equal(isWrappedBug(new InternalError('ECOSYSTEM_DUPLICATE', 'x')), false)
  assert.equal(new CheckFailedError('VERIFY_DIGEST_MISMATCH', 'x').exitCode, 1)
  assert.ok(new InputError('SBOM_USAGE', 'x') instanceof DetbuildError)
})
