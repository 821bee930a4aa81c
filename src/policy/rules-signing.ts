/**
 * Signing rules: the provenance (and the scan's attestation when one is listed) and every build output
 * signed, by allowed signers. signatures.json only
 * says which bundle to look at for which file; everything it claims (kind, digest, signer) is ignored.
 * Each bundle is verified cryptographically by the injected verifier (`detbuild verify`'s, with the trust
 * material given to the command), and signers are judged only from what verified: the certificate
 * identity and issuer, or the key. Without trust material a bundle cannot be judged: that is a violation
 * (`POLICY_SIGNING_NO_TRUST`), never a pass.
 */
import type { ErrorCode } from '../errors.ts'
import { sha256Hex } from '../util/digest.ts'
import { parseJsonText } from '../util/json-parse.ts'
import { WorkspaceFiles } from '../workspace/index.ts'
import type { RuleContext } from './context.ts'
import { isObject, type Obj, str } from './model.ts'
import { draft, notEvaluated, type RuleDraft } from './rule.ts'
import type { SignedArtifact, SignerPattern, VerifiedSigner, Violation } from './types.ts'

/** Codes of signing violations (besides the VERIFY_* codes of a bundle that does not verify). */
export const SigningViolationCodes = {
  noTrust: 'POLICY_SIGNING_NO_TRUST',
  missingBundle: 'POLICY_SIGNATURE_MISSING',
  missingSubject: 'POLICY_SIGNED_FILE_MISSING',
  otherBytes: 'POLICY_SIGNATURE_SUBJECT_MISMATCH',
  wrongKind: 'POLICY_SIGNATURE_KIND_MISMATCH',
  signerNotAllowed: 'POLICY_SIGNER_NOT_ALLOWED',
  changed: 'POLICY_SIGNED_FILE_CHANGED',
  bundleInvalid: 'VERIFY_BUNDLE_INVALID',
} as const satisfies Record<string, ErrorCode>

const NO_TRUST_HINT =
  'no trust material to verify it (give --key FILE, or --certificate-identity / --certificate-identity-regexp with --certificate-oidc-issuer, and --trusted-root)'

interface Listed {
  file: string
  subject: string
}

interface Checked {
  file: string
  signer: VerifiedSigner | null
  problems: Violation[]
}

function globMatch(glob: string, value: string): boolean {
  // every regular-expression character is escaped: only `*` is special, so a pattern cannot escape `^…$`
  const body = glob
    .split('*')
    .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${body}$`).test(value)
}

function signerMatches(pattern: SignerPattern, signer: VerifiedSigner): boolean {
  if (pattern.keyId !== undefined) return signer.type === 'key' && signer.keyId === pattern.keyId
  if (signer.type !== 'keyless') return false
  if (pattern.issuer !== undefined && !globMatch(pattern.issuer, signer.issuer)) return false
  if (pattern.identity !== undefined && !globMatch(pattern.identity, signer.identity)) return false
  return true
}

function describeSigner(s: VerifiedSigner | null): string {
  if (s === null) return 'nobody verified'
  return s.type === 'key' ? `key ${s.keyId}` : `${s.identity} (${s.issuer})`
}

/** The payload of a DSSE bundle (base64 in the JSON), or undefined when it has none. */
function dssePayload(bundle: unknown): Buffer | undefined {
  if (!isObject(bundle) || !isObject(bundle.dsseEnvelope)) return undefined
  const payload = bundle.dsseEnvelope.payload
  if (typeof payload !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(payload)) return undefined
  return Buffer.from(payload, 'base64')
}

const HEX_LENGTHS = { sha256: 64, sha384: 96, sha512: 128 } as const

/** The first subject digest of an in-toto statement, to verify the envelope against. */
function statementDigest(payload: Buffer): SignedArtifact | undefined {
  let statement: unknown
  try {
    statement = parseJsonText(payload.toString('utf8'))
  } catch {
    return undefined
  }
  const subjects = isObject(statement) && Array.isArray(statement.subject) ? statement.subject : []
  for (const s of subjects) {
    const digest = isObject(s) && isObject(s.digest) ? s.digest : {}
    for (const algorithm of ['sha256', 'sha384', 'sha512'] as const) {
      const hex = str(digest[algorithm])?.toLowerCase()
      if (hex && hex.length === HEX_LENGTHS[algorithm] && /^[0-9a-f]+$/.test(hex))
        return { kind: 'digest', algorithm, hex }
    }
  }
  return undefined
}

/**
 * Verifies one listed bundle for `subject`, whose bytes must be signed as `kind`. For a DSSE bundle the
 * envelope's payload must be the subject's exact bytes; a message bundle is verified against the subject
 * itself (its bytes, or its digest when only that is known).
 */
function checkBundle(
  ctx: RuleContext,
  b: Listed,
  kind: 'dsse' | 'message',
  signers: SignerPattern[] | undefined,
): Checked {
  const at = { subject: b.subject, bundle: b.file }
  const fail = (code: ErrorCode, message: string, extra: Obj = {}): Checked => ({
    file: b.file,
    signer: null,
    problems: [{ ...at, code, message, ...extra }],
  })
  if (!ctx.trust) return fail(SigningViolationCodes.noTrust, `${b.file} cannot be verified: ${NO_TRUST_HINT}`)
  const read = ctx.trust.read ?? ((name: string) => ctx.signedFiles?.get(name))
  const bytes = read(b.file)
  if (bytes === undefined)
    return fail(SigningViolationCodes.missingBundle, `${b.file} is listed but missing from the workspace`)
  let bundle: unknown
  try {
    bundle = parseJsonText(Buffer.from(bytes).toString('utf8'))
  } catch {
    return fail(SigningViolationCodes.bundleInvalid, `${b.file} is not JSON, not a sigstore bundle`)
  }

  let artifact: SignedArtifact
  let subjectBytes = read(b.subject)
  const subjectSha256 = subjectBytes !== undefined ? sha256Hex(subjectBytes) : (ctx.files[b.subject] ?? null)
  // only a digest in the workspace (an evidence archive without artifacts): bytes the caller holds may match
  if (subjectBytes === undefined && subjectSha256 !== null)
    subjectBytes = ctx.trust.blobs?.find((blob) => sha256Hex(blob) === subjectSha256)
  if (subjectSha256 === null)
    return fail(SigningViolationCodes.missingSubject, `${b.subject} is missing: ${b.file} cannot be checked`)
  if (kind === 'dsse') {
    const payload = dssePayload(bundle)
    if (payload === undefined)
      return isObject(bundle) && isObject(bundle.messageSignature)
        ? fail(
            SigningViolationCodes.wrongKind,
            `${b.file} is a message signature, expected a DSSE bundle over ${b.subject}`,
          )
        : fail(SigningViolationCodes.bundleInvalid, `${b.file} is not a sigstore bundle with a DSSE envelope`)
    const signed = sha256Hex(payload)
    if (signed !== subjectSha256)
      return fail(SigningViolationCodes.otherBytes, `${b.file} signs other bytes than ${b.subject}`, {
        expected: subjectSha256,
        found: signed,
      })
    const digest = statementDigest(payload)
    if (!digest)
      return fail(SigningViolationCodes.bundleInvalid, `${b.file} signs a statement without a subject digest`)
    artifact = digest
  } else {
    artifact =
      subjectBytes !== undefined
        ? { kind: 'bytes', data: subjectBytes }
        : { kind: 'digest', algorithm: 'sha256', hex: subjectSha256 }
  }

  const check = ctx.trust.verify(bundle, artifact)
  if (!check.verified || check.signer === null) {
    const f = check.failure ?? { code: SigningViolationCodes.bundleInvalid, message: 'no verified signer' }
    return fail(f.code, `${b.file} does not verify: ${f.message}`)
  }
  if (check.kind !== kind)
    return fail(
      SigningViolationCodes.wrongKind,
      `${b.file} is a ${check.kind ?? 'unknown'} bundle, expected ${kind}`,
    )
  const out: Checked = { file: b.file, signer: check.signer, problems: [] }
  if (signers && signers.length > 0 && !signers.some((s) => signerMatches(s, check.signer!)))
    out.problems.push({
      ...at,
      code: SigningViolationCodes.signerNotAllowed,
      message: `${b.file} is signed by ${describeSigner(check.signer)}, not an allowed signer`,
    })
  return out
}

const bundleEvidence = (c: Checked) => ({
  file: c.file,
  verified: c.signer !== null,
  signer: c.signer,
})

export function signingRules(ctx: RuleContext): RuleDraft[] {
  const p = ctx.policy.signing
  if (!p) return []
  const out: RuleDraft[] = []
  const prov = p.provenance
    ? draft('signing.provenance', 'The provenance attestation is signed', p.level)
    : undefined
  const arts = p.artifacts ? draft('signing.artifacts', 'Every build output is signed', p.level) : undefined
  if (prov) out.push(prov)
  if (arts) out.push(arts)
  // `required` also means the signatures must be checkable: no trust material then fails, whatever the level
  if (!ctx.trust && p.required) for (const d of out) d.level = 'fail'
  if (!ctx.signatures) {
    for (const d of out) notEvaluated(d, 'no signatures.json', p.required)
    return out
  }
  const raw = Array.isArray(ctx.signatures.data.bundles) ? ctx.signatures.data.bundles.filter(isObject) : []
  const bundles: Listed[] = raw.map((b) => ({ file: str(b.file) ?? '', subject: str(b.subject) ?? '' }))
  const forSubject = (subject: string) => bundles.filter((b) => b.subject === subject && b.file !== '')

  if (prov) {
    const subject = WorkspaceFiles.provenance
    const actual = ctx.files[subject] ?? null
    if (actual === null) notEvaluated(prov, `no ${subject}`, p.required)
    else {
      const found = forSubject(subject)
      const checked = found.map((b) => checkBundle(ctx, b, 'dsse', p.signers))
      if (found.length === 0)
        prov.violations.push({
          subject,
          code: SigningViolationCodes.missingBundle,
          message: `${subject} has no signature bundle`,
        })
      // one good bundle is enough; report the problems of all when none is good
      else if (!checked.some((c) => c.problems.length === 0))
        prov.violations.push(...checked.flatMap((c) => c.problems))
      prov.evidence = { subject, sha256: actual, bundles: checked.map(bundleEvidence) }
      prov.passSummary = checked
        .filter((c) => c.problems.length === 0)
        .map((c) => `${c.file} by ${describeSigner(c.signer)}`)
        .join(', ')
      // the scan's attestation, when signatures.json lists one (sign signs it when the scan wrote it): it
      // must verify like the provenance, by an allowed signer
      const vulns = forSubject(WorkspaceFiles.vulnsStatement).map((b) =>
        checkBundle(ctx, b, 'dsse', p.signers),
      )
      if (vulns.length > 0) {
        if (!vulns.some((c) => c.problems.length === 0))
          prov.violations.push(...vulns.flatMap((c) => c.problems))
        prov.evidence.attestations = vulns.map(bundleEvidence)
      }
    }
  }

  if (arts) {
    if (!ctx.build) notEvaluated(arts, 'no build.json', p.required)
    else {
      const outputs = Array.isArray(ctx.build.data.outputs) ? ctx.build.data.outputs.filter(isObject) : []
      const signed: Array<{ path: string; bundle: string; signer: VerifiedSigner | null }> = []
      for (const o of outputs) {
        const path = str(o.path)
        if (!path) continue
        const declared = str(o.sha256) ?? null
        const actual = ctx.files[path]
        if (actual && declared && actual !== declared)
          arts.violations.push({
            subject: path,
            code: SigningViolationCodes.changed,
            message: `${path} changed since the build`,
            expected: declared,
            found: actual,
          })
        const found = forSubject(path)
        if (found.length === 0) {
          arts.violations.push({
            subject: path,
            code: SigningViolationCodes.missingBundle,
            message: `${path} has no signature bundle`,
          })
          continue
        }
        const checked = found.map((b) => checkBundle(ctx, b, 'message', p.signers))
        const good = checked.find((c) => c.problems.length === 0)
        if (good) signed.push({ path, bundle: good.file, signer: good.signer })
        else arts.violations.push(...checked.flatMap((c) => c.problems))
      }
      arts.evidence = { outputs: outputs.length, signed }
      arts.passSummary = `${signed.length} of ${outputs.length} output${outputs.length === 1 ? '' : 's'} signed`
    }
  }
  return out
}
