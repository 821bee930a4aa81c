/** Signing rules over signatures.json: the provenance and every build output signed, by allowed signers. */
import { WorkspaceFiles } from '../workspace.ts'
import type { RuleContext } from './context.ts'
import { isObject, type Obj, str } from './model.ts'
import { draft, notEvaluated, type RuleDraft } from './rule.ts'
import type { SignerPattern, Violation } from './types.ts'

interface Bundle {
  file: string
  kind: string
  subject: string
  sha256: string | undefined
  signer: Obj
}

function globMatch(glob: string, value: string): boolean {
  const body = glob
    .split('*')
    .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${body}$`).test(value)
}

function signerMatches(pattern: SignerPattern, signer: Obj): boolean {
  if (pattern.keyId !== undefined) return signer.type === 'key' && signer.keyId === pattern.keyId
  if (signer.type !== 'keyless') return false
  if (pattern.issuer !== undefined && !globMatch(pattern.issuer, String(signer.issuer ?? ''))) return false
  if (pattern.identity !== undefined && !globMatch(pattern.identity, String(signer.identity ?? '')))
    return false
  return true
}

function describeSigner(s: Obj): string {
  return s.type === 'key'
    ? `key ${String(s.keyId ?? '?')}`
    : `${String(s.identity ?? '?')} (${String(s.issuer ?? '?')})`
}

/** Problems with one bundle for a subject whose expected sha256 is known (or null when unknown). */
function checkBundle(
  b: Bundle,
  expectedSha256: string | null,
  kind: string,
  signers: SignerPattern[] | undefined,
  files: Record<string, string | null>,
): Violation[] {
  const problems: Violation[] = []
  const at = { subject: b.subject, bundle: b.file }
  if (b.kind !== kind) problems.push({ ...at, message: `${b.file} is a ${b.kind} bundle, expected ${kind}` })
  if (!files[b.file]) problems.push({ ...at, message: `${b.file} is listed but missing from the workspace` })
  if (expectedSha256 !== null && b.sha256 !== expectedSha256)
    problems.push({
      ...at,
      message: `${b.file} signs other bytes than ${b.subject}`,
      expected: expectedSha256,
      found: b.sha256 ?? null,
    })
  if (signers && signers.length > 0 && !signers.some((s) => signerMatches(s, b.signer)))
    problems.push({
      ...at,
      message: `${b.file} is signed by ${describeSigner(b.signer)}, not an allowed signer`,
    })
  return problems
}

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
  if (!ctx.signatures) {
    for (const d of out) notEvaluated(d, 'no signatures.json', p.required)
    return out
  }
  const raw = Array.isArray(ctx.signatures.data.bundles) ? ctx.signatures.data.bundles.filter(isObject) : []
  const bundles: Bundle[] = raw.map((b) => ({
    file: str(b.file) ?? '',
    kind: str(b.kind) ?? 'unknown',
    subject: str(b.subject) ?? '',
    sha256: str(b.sha256),
    signer: isObject(b.signer) ? b.signer : {},
  }))
  const forSubject = (subject: string) => bundles.filter((b) => b.subject === subject)

  if (prov) {
    const subject = WorkspaceFiles.provenance
    const actual = ctx.files[subject] ?? null
    if (actual === null) notEvaluated(prov, `no ${subject}`, p.required)
    else {
      const found = forSubject(subject)
      if (found.length === 0) prov.violations.push({ subject, message: `${subject} has no signature bundle` })
      else {
        // one good bundle is enough; report the problems of all when none is good
        const results = found.map((b) => checkBundle(b, actual, 'dsse', p.signers, ctx.files))
        if (!results.some((r) => r.length === 0)) prov.violations.push(...results.flat())
      }
      prov.evidence = {
        subject,
        sha256: actual,
        bundles: found.map((b) => ({ file: b.file, signer: b.signer })),
      }
      prov.passSummary = found.map((b) => `${b.file} by ${describeSigner(b.signer)}`).join(', ')
    }
  }

  if (arts) {
    if (!ctx.build) notEvaluated(arts, 'no build.json', p.required)
    else {
      const outputs = Array.isArray(ctx.build.data.outputs) ? ctx.build.data.outputs.filter(isObject) : []
      const signed: Array<{ path: string; bundle: string }> = []
      for (const o of outputs) {
        const path = str(o.path)
        if (!path) continue
        const declared = str(o.sha256) ?? null
        const actual = ctx.files[path]
        if (actual && declared && actual !== declared)
          arts.violations.push({
            subject: path,
            message: `${path} changed since the build`,
            expected: declared,
            found: actual,
          })
        const found = forSubject(path)
        if (found.length === 0) {
          arts.violations.push({ subject: path, message: `${path} has no signature bundle` })
          continue
        }
        const results = found.map((b) => checkBundle(b, declared, 'message', p.signers, ctx.files))
        const good = found.find((_, i) => results[i]!.length === 0)
        if (good) signed.push({ path, bundle: good.file })
        else arts.violations.push(...results.flat())
      }
      arts.evidence = { outputs: outputs.length, signed }
      arts.passSummary = `${signed.length} of ${outputs.length} output${outputs.length === 1 ? '' : 's'} signed`
    }
  }
  return out
}
