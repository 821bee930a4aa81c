/** User identity regexps are anchored as a whole: escapes from `^(?:…)$` are rejected (exit 2), everywhere. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readInputs } from '../../src/action/inputs.ts'
import { isDetbuildError } from '../../src/errors.ts'
import {
  anchoredRegExpProblem,
  checkAnchoredRegExp,
  IDENTITY_REGEXP_INVALID,
  toAnchoredRegExp,
} from '../../src/verify/identity-regexp.ts'
import { resolvePolicy } from '../../src/verify/options.ts'

/** Patterns that would escape the anchoring or do not parse alone (a JS string each). */
export const ESCAPES = [
  'a)|(.*', // the example: ^(?:a)|(.*)$ matches anything
  'a\\\\)', // an escaped backslash, then an unbalanced )
  '(?:x))(',
  '(?<=a)|(.*', // an unterminated group after a lookbehind
  'x)(?<=(.*',
  '.*)|(?<=x',
  '(?=a)a)|(b',
  ')|(',
  '\\', // a trailing backslash would escape the wrapper's )
  '[', // an open class would swallow the wrapper's )$
  'a{2,', // an incomplete quantifier
  '',
]

/** Patterns that stay anchored, each with a string it must match whole and one it must not. */
const ANCHORED: Array<[string, string, string]> = [
  ['a\\)', 'a)', 'a)x'],
  ['[)]', ')', 'x)'],
  ['https://github\\.com/acme/.*', 'https://github.com/acme/r', 'evil https://github.com/acme/r'],
  ['a|b', 'b', 'ab'],
  ['(a)\\1', 'aa', 'aaa'],
  ['(?<=a)b|a', 'a', 'ab'],
  ['[\\]]x', ']x', ']xx'],
]

test('escapes from the anchoring and patterns invalid alone are rejected', () => {
  for (const p of ESCAPES) {
    assert.ok(anchoredRegExpProblem(p) !== undefined, JSON.stringify(p))
    assert.throws(() => toAnchoredRegExp(p), SyntaxError, JSON.stringify(p))
    assert.throws(
      () => checkAnchoredRegExp(p, '--certificate-identity-regexp'),
      (e: unknown) => isDetbuildError(e) && e.code === IDENTITY_REGEXP_INVALID && e.exitCode === 2,
      JSON.stringify(p),
    )
  }
  // the escape the issue describes really would match anything without the check
  assert.ok(/^(?:a)|(.*)$/u.test('anyone@evil.example'))
})

test('accepted patterns match the whole string only', () => {
  for (const [p, yes, no] of ANCHORED) {
    assert.equal(anchoredRegExpProblem(p), undefined, p)
    assert.equal(toAnchoredRegExp(p).test(yes), true, `${p} ~ ${yes}`)
    assert.equal(toAnchoredRegExp(p).test(no), false, `${p} !~ ${no}`)
  }
})

test('verify flags: an escaping --certificate-identity-regexp is exit 2 with the code', () => {
  for (const p of ESCAPES)
    assert.throws(
      () => resolvePolicy({ certificateIdentityRegexp: p, certificateOidcIssuer: 'https://issuer' }),
      (e: unknown) => isDetbuildError(e) && e.code === IDENTITY_REGEXP_INVALID && e.exitCode === 2,
      JSON.stringify(p),
    )
  assert.equal(
    resolvePolicy({ certificateIdentityRegexp: 'a\\)', certificateOidcIssuer: 'https://issuer' }).mode,
    'keyless',
  )
})

test('Action input certificate-identity-regexp: escapes are rejected while reading the inputs', () => {
  for (const p of ESCAPES.filter((x) => x.trim() !== '')) {
    assert.throws(
      () => readInputs({ 'INPUT_CERTIFICATE-IDENTITY-REGEXP': p }),
      (e: unknown) =>
        isDetbuildError(e) &&
        e.code === IDENTITY_REGEXP_INVALID &&
        e.exitCode === 2 &&
        e.message.includes('certificate-identity-regexp'),
      JSON.stringify(p),
    )
  }
  assert.equal(
    readInputs({ 'INPUT_CERTIFICATE-IDENTITY-REGEXP': 'https://github\\.com/.+' }).trust
      .certificateIdentityRegexp,
    'https://github\\.com/.+',
  )
})

test('CLI: verify, policy and run reject an escaping regexp with exit 2 and the code', async () => {
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises')
  const os = await import('node:os')
  const path = await import('node:path')
  const { runCli } = await import('../helpers/sigstore-mock-server.ts')
  const dir = await mkdtemp(path.join(os.tmpdir(), 'detbuild-regexp-'))
  try {
    await writeFile(path.join(dir, 'b.json'), '{}')
    const identity = (re: string) => [
      '--certificate-identity-regexp',
      re,
      '--certificate-oidc-issuer',
      'https://i',
    ]
    for (const re of ESCAPES.filter((x) => x !== '')) {
      for (const argv of [
        ['verify', `sha256:${'a'.repeat(64)}`, '--bundle', 'b.json', ...identity(re)],
        ['policy', ...identity(re)],
        ['run', '--steps', 'sbom', ...identity(re)],
      ]) {
        const r = await runCli(['--json', ...argv], dir)
        assert.equal(r.code, 2, `${argv[0]} ${JSON.stringify(re)}`)
        assert.equal(
          (r.json() as { error: { code: string } }).error.code,
          IDENTITY_REGEXP_INVALID,
          `${argv[0]} ${JSON.stringify(re)}`,
        )
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('the issuer regexp: escapes are exit 2 in the verify flags, the Action input and verify/policy/run', async () => {
  for (const p of ESCAPES) {
    assert.throws(
      () => resolvePolicy({ certificateIdentity: 'https://id', certificateOidcIssuerRegexp: p }),
      (e: unknown) => isDetbuildError(e) && e.code === IDENTITY_REGEXP_INVALID && e.exitCode === 2,
      JSON.stringify(p),
    )
    if (p.trim() !== '')
      assert.throws(
        () => readInputs({ 'INPUT_CERTIFICATE-OIDC-ISSUER-REGEXP': p }),
        (e: unknown) =>
          isDetbuildError(e) &&
          e.code === IDENTITY_REGEXP_INVALID &&
          e.message.includes('certificate-oidc-issuer-regexp'),
        JSON.stringify(p),
      )
  }
  assert.deepEqual(
    resolvePolicy({
      certificateIdentity: 'https://id',
      certificateOidcIssuerRegexp: 'https://(a|b)\\.example',
    }),
    { mode: 'keyless', identity: 'https://id', issuerRegexp: 'https://(a|b)\\.example' },
  )
  assert.equal(
    readInputs({
      'INPUT_CERTIFICATE-OIDC-ISSUER-REGEXP': 'https://token\\.actions\\.githubusercontent\\.com',
    }).trust.certificateOidcIssuerRegexp,
    'https://token\\.actions\\.githubusercontent\\.com',
  )
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises')
  const os = await import('node:os')
  const path = await import('node:path')
  const { runCli } = await import('../helpers/sigstore-mock-server.ts')
  const dir = await mkdtemp(path.join(os.tmpdir(), 'detbuild-regexp-'))
  try {
    await writeFile(path.join(dir, 'b.json'), '{}')
    const who = ['--certificate-identity', 'https://id', '--certificate-oidc-issuer-regexp', 'a)|(.*']
    for (const argv of [
      ['verify', `sha256:${'a'.repeat(64)}`, '--bundle', 'b.json', ...who],
      ['policy', ...who],
      ['run', '--steps', 'sbom', ...who],
    ]) {
      const r = await runCli(['--json', ...argv], dir)
      assert.equal(r.code, 2, argv[0])
      assert.equal((r.json() as { error: { code: string } }).error.code, IDENTITY_REGEXP_INVALID, argv[0])
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
