/**
 * Fuzz (the suite's harness and mutators, test/fuzz/): `verify --vsa` on hostile summaries exits 0–3 without
 * a stack trace, and accepts
 * - a mutated bundle only when the signed bytes (DSSE payload type, payload, signatures) are unchanged;
 * - a mutated statement, re-signed by the trusted verifier key, only when what a consumer relies on still
 *   holds in it: Statement v1, the VSA predicate type, detbuild's verifier id, PASSED with no FAILED level,
 *   the policy digest asked for, and the artifact's digest among the subjects.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { resolveSigningConfig, type SigningConfig, signDsse } from '../../src/sign/index.ts'
import { stableJson } from '../../src/util/canonical-json.ts'
import { sha256Hex } from '../../src/util/digest.ts'
import { breach, check, runChecked } from '../fuzz/harness.ts'
import { jsonMutation, mutateJson } from '../fuzz/mutate.ts'
import { runCli } from './helpers.ts'
import {
  ARTIFACT,
  ENV,
  EVIDENCE,
  EVIDENCE_TRUST,
  makeVsaProject,
  VSA_SIGNING,
  VSA_TRUST,
} from './vsa-helpers.ts'

let dir: string
let original: string
let statementText: string
let signing: SigningConfig
let artifactSha256: string
let policySha256: string

before(async () => {
  dir = await makeVsaProject()
  const run = await runCli(
    [
      'verify',
      ARTIFACT,
      '--evidence',
      EVIDENCE,
      ...EVIDENCE_TRUST,
      '--policy',
      'pass.yaml',
      '--write-vsa',
      'vsa.intoto.json',
      ...VSA_SIGNING,
    ],
    dir,
    ENV,
  )
  if (run.code !== 0) throw new Error(`setup: ${run.stderr}`)
  original = readFileSync(path.join(dir, 'vsa.sigstore.json'), 'utf8')
  statementText = readFileSync(path.join(dir, 'vsa.intoto.json'), 'utf8')
  signing = await resolveSigningConfig({ key: 'v.key', tlog: false }, { cwd: dir, env: {} })
  artifactSha256 = sha256Hex(readFileSync(path.join(dir, ARTIFACT)))
  policySha256 = sha256Hex(readFileSync(path.join(dir, 'pass.yaml')))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** What the signature covers, comparable; undefined when the text is not a readable bundle. */
function signedBytes(text: string): string | undefined {
  try {
    const b = JSON.parse(text) as {
      dsseEnvelope?: { payloadType?: unknown; payload?: unknown; signatures?: unknown }
    }
    const e = b?.dsseEnvelope
    const dec = (s: unknown) =>
      typeof s === 'string' ? Buffer.from(s, 'base64').toString('hex') : JSON.stringify(s)
    return JSON.stringify({
      type: JSON.stringify(e?.payloadType),
      payload: dec(e?.payload),
      sigs: Array.isArray(e?.signatures)
        ? e.signatures.map((s: { sig?: unknown } | null) => dec(s?.sig))
        : JSON.stringify(e?.signatures),
    })
  } catch {
    return undefined
  }
}

const ARGS = (file: string) => [
  '--json',
  'verify',
  ARTIFACT,
  '--vsa',
  file,
  ...VSA_TRUST,
  '--policy',
  'pass.yaml',
]

test('mutated summary bundles: exit 0–3, accepted only with the signed bytes unchanged', async () => {
  const signed = signedBytes(original)
  await check(80, jsonMutation, async (m) => {
    const mutated = mutateJson(original, m)
    writeFileSync(path.join(dir, 'fuzz.sigstore.json'), mutated.text)
    const argv = ARGS('fuzz.sigstore.json')
    const r = await runChecked(argv, dir, mutated.description)
    if (r.code === 0 && signedBytes(mutated.text) !== signed)
      breach('a summary with changed signed bytes was accepted', argv, mutated.description, r)
  })
})

/** The consumer's conditions, read from the statement with JSON.parse (as any other consumer would). */
function holds(text: string): boolean {
  try {
    const s = JSON.parse(text)
    const p = s?.predicate
    return (
      s._type === 'https://in-toto.io/Statement/v1' &&
      s.predicateType === 'https://slsa.dev/verification_summary/v1' &&
      p?.verifier?.id === 'https://detbuild.dev/verifiers/evidence/v1' &&
      p.verificationResult === 'PASSED' &&
      Array.isArray(p.verifiedLevels) &&
      !p.verifiedLevels.includes('FAILED') &&
      p.policy?.digest?.sha256 === policySha256 &&
      Array.isArray(s.subject) &&
      s.subject.some((x: { digest?: { sha256?: unknown } } | null) => x?.digest?.sha256 === artifactSha256)
    )
  } catch {
    return false
  }
}

test('mutated statements, re-signed by the verifier: accepted only when what a consumer relies on holds', async () => {
  await check(80, jsonMutation, async (m) => {
    const mutated = mutateJson(statementText, m)
    const bundle = await signDsse(Buffer.from(mutated.text), 'application/vnd.in-toto+json', signing)
    writeFileSync(path.join(dir, 'resigned.sigstore.json'), stableJson(bundle))
    const argv = ARGS('resigned.sigstore.json')
    const r = await runChecked(argv, dir, mutated.description)
    if (r.code === 0 && !holds(mutated.text))
      breach(
        'a re-signed summary that breaks a consumer condition was accepted',
        argv,
        mutated.description,
        r,
      )
  })
})
