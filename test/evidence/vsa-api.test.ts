/**
 * The programmatic API of verification summaries (src/index.ts): verifyEvidence → toVerificationSummary →
 * writeVerificationSummary → verifyVerificationSummary, and the verdict comes only from the verification's
 * exit code: a caller cannot get a PASSED summary out of a failed or incomplete verification.
 */
import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { after, before, test } from 'node:test'
import {
  createLogger,
  ExitCode,
  isDetbuildError,
  toVerificationSummary,
  type VerifyEvidenceResult,
  verifyEvidence,
  verifyVerificationSummary,
  writeVerificationSummary,
} from '../../src/index.ts'
import { resolveSigningConfig } from '../../src/sign/index.ts'
import { ARTIFACT, EVIDENCE, makeVsaProject } from './vsa-helpers.ts'

let dir: string
const log = createLogger({ quiet: true })
const TIME = new Date('2026-01-02T03:04:05.678Z')

before(async () => {
  dir = await makeVsaProject()
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

const verify = (policy: string | undefined): Promise<VerifyEvidenceResult> =>
  verifyEvidence({
    cwd: dir,
    evidence: EVIDENCE,
    artifact: ARTIFACT,
    key: 'k.pub',
    trustedRoot: 'root.json',
    insecureIgnoreTlog: true,
    ...(policy !== undefined ? { policy } : {}),
    env: {},
    now: TIME,
    log,
  })

test('verify, summarize, sign, write and check through the API', async () => {
  const verification = await verify('pass.yaml')
  assert.equal(verification.exitCode, ExitCode.ok)
  assert.match(verification.report.policy?.sha256 ?? '', /^[0-9a-f]{64}$/)
  const statement = toVerificationSummary({
    verification,
    timeVerified: TIME,
    resourceUri: 'pkg:npm/app@1.0.0',
  })
  assert.ok(statement)
  assert.equal(statement.predicate.timeVerified, '2026-01-02T03:04:05Z', 'whole seconds, UTC')
  assert.equal(statement.predicate.resourceUri, 'pkg:npm/app@1.0.0')
  const signing = await resolveSigningConfig({ key: 'v.key', tlog: false }, { cwd: dir, env: {} })
  const written = await writeVerificationSummary(statement, `${dir}/api.intoto.json`, signing)
  assert.equal(written.bundleFile, `${dir}/api.sigstore.json`)
  const checked = await verifyVerificationSummary({
    cwd: dir,
    vsa: 'api.sigstore.json',
    artifact: ARTIFACT,
    key: 'v.pub',
    insecureIgnoreTlog: true,
    policy: 'pass.yaml',
    resourceUri: 'pkg:npm/app@1.0.0',
  })
  assert.equal(checked.exitCode, ExitCode.ok, JSON.stringify(checked.report.failure))
  assert.equal(checked.report.summary?.verificationResult, 'PASSED')
})

test('the verdict is the verification’s: FAILED for exit 1, none for exit 3 or an unverified report', async () => {
  const failed = await verify('fail.yaml')
  assert.equal(failed.exitCode, ExitCode.checkFailed)
  assert.equal(
    toVerificationSummary({ verification: failed, timeVerified: TIME })?.predicate.verificationResult,
    'FAILED',
  )
  const passed = await verify('pass.yaml')
  // a report that says verified with a failing exit code, or exit 0 with a failure, is not PASSED
  const forged = { ...passed, exitCode: ExitCode.checkFailed }
  assert.equal(
    toVerificationSummary({ verification: forged, timeVerified: TIME })?.predicate.verificationResult,
    'FAILED',
  )
  const unverified = { ...passed, report: { ...passed.report, verified: false } }
  assert.equal(toVerificationSummary({ verification: unverified, timeVerified: TIME }), null)
  const incomplete = { ...passed, exitCode: ExitCode.incomplete }
  assert.equal(toVerificationSummary({ verification: incomplete, timeVerified: TIME }), null)
  // no policy, no summary
  const nopolicy = await verify(undefined)
  assert.equal(nopolicy.exitCode, ExitCode.ok)
  assert.throws(
    () => toVerificationSummary({ verification: nopolicy, timeVerified: TIME }),
    (e: unknown) => isDetbuildError(e) && e.code === 'VSA_USAGE' && e.exitCode === 2,
  )
})
