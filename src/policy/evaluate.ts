/**
 * The evaluator: a pure function from a policy and its inputs to a result. No file system, no clock
 * (`now` is given), so `detbuild run` and the evidence step can call it on data they already hold.
 */
import { canonicalJson } from '../util/canonical-json.ts'
import { sha256Hex } from '../util/digest.ts'
import type { RuleContext } from './context.ts'
import { ExceptionBook, fromPolicy, fromVex, type VexNote, vexTarget } from './exceptions.ts'
import { toManifest, toSbomView, toVulnsView } from './model.ts'
import { finalize, type RuleDraft } from './rule.ts'
import { buildRules } from './rules-build.ts'
import { licenseRules } from './rules-licenses.ts'
import { packageRules } from './rules-packages.ts'
import { profileRules, profileScores } from './rules-profiles.ts'
import { sbomRules } from './rules-sbom.ts'
import { signingRules } from './rules-signing.ts'
import { vulnerabilityRules } from './rules-vulnerabilities.ts'
import { coverageSummary } from './score.ts'
import type {
  ExceptionReport,
  Policy,
  PolicyInputs,
  PolicyResult,
  PolicySource,
  RuleResult,
  RuleStatus,
  SignatureTrust,
} from './types.ts'

export interface EvaluateOptions {
  now: Date
  /** where the policy came from; defaults to `inline` with the digest of its canonical JSON */
  source?: PolicySource
  /**
   * how the signing rules verify bundles (the caller's trust material); without it every bundle is a
   * `POLICY_SIGNING_NO_TRUST` violation, never trusted on signatures.json's word
   */
  trust?: SignatureTrust
}

/** Evaluates every rule the policy enables; rule order follows the policy language, not the file. */
export function evaluatePolicy(policy: Policy, inputs: PolicyInputs, options: EvaluateOptions): PolicyResult {
  const sbom = toSbomView(inputs.sbom.data, inputs.sbom.file)
  const exceptions = fromPolicy(policy)
  const vexNotes: VexNote[] = []
  const target = vexTarget(sbom)
  for (const vex of inputs.vex ?? []) {
    const v = fromVex(vex.data, vex.file, target)
    exceptions.push(...v.exceptions)
    vexNotes.push(...v.notes)
  }
  const book = new ExceptionBook(exceptions, policy, options.now)
  const ctx: RuleContext = {
    policy,
    sbom,
    vulns: inputs.vulns ? toVulnsView(inputs.vulns.data, inputs.vulns.file) : undefined,
    build: inputs.build
      ? { file: inputs.build.file, data: toManifest(inputs.build.data, inputs.build.file) }
      : undefined,
    signatures: inputs.signatures
      ? { file: inputs.signatures.file, data: toManifest(inputs.signatures.data, inputs.signatures.file) }
      : undefined,
    files: inputs.workspaceFiles ?? {},
    signedFiles: inputs.signedFiles,
    trust: options.trust,
    book,
    now: options.now,
  }
  const scores = profileScores(ctx)
  const drafts: RuleDraft[] = [
    ...vulnerabilityRules(ctx),
    ...licenseRules(ctx),
    ...packageRules(ctx),
    ...sbomRules(ctx),
    ...profileRules(ctx, scores),
    ...buildRules(ctx),
    ...signingRules(ctx),
  ]
  const rules: RuleResult[] = drafts.map((d) => finalize(d, book))
  const report = book.report()
  if (report.length > 0) {
    const stale = report.filter((e) => e.status !== 'active')
    rules.push({
      id: 'exceptions.current',
      title: 'Exceptions are in force (not expired, valid)',
      status: stale.length > 0 ? 'warn' : 'pass',
      summary:
        stale.length > 0
          ? `${stale.length} exception${stale.length === 1 ? ' is' : 's are'} not in force: ${stale.map((e) => `${e.ref} ${e.note ?? e.status}`).join('; ')}`
          : `${report.length} exception${report.length === 1 ? '' : 's'} in force`,
      evidence: { notInForce: stale.map((e) => ({ ref: e.ref, status: e.status, note: e.note ?? null })) },
    })
  }
  if ((inputs.vex ?? []).length > 0) rules.push(vexRule(vexNotes, report))
  const counts: Record<RuleStatus, number> = { pass: 0, fail: 0, warn: 0 }
  for (const r of rules) counts[r.status]++
  const verdict: RuleStatus = counts.fail > 0 ? 'fail' : counts.warn > 0 ? 'warn' : 'pass'
  return {
    schemaVersion: 1,
    policy: options.source ?? {
      name: policy.name ?? 'policy',
      source: 'inline',
      sha256: sha256Hex(canonicalJson(policy)),
    },
    evaluatedAt: options.now.toISOString(),
    verdict,
    counts,
    inputs: {
      sbom: inputs.sbom.file,
      vulns: inputs.vulns?.file ?? null,
      build: inputs.build?.file ?? null,
      signatures: inputs.signatures?.file ?? null,
      vex: (inputs.vex ?? []).map((v) => v.file),
    },
    rules,
    exceptions: report,
    ...(scores.length > 0 ? { coverage: scores.map(coverageSummary) } : {}),
  }
}

/**
 * `exceptions.vex`: every VEX statement was usable and applied to a finding. Statements set aside
 * (see fromVex) and statements that matched nothing are warnings: a VEX document that silently does
 * nothing is a mistake someone should see.
 */
function vexRule(notes: VexNote[], report: ExceptionReport[]): RuleResult {
  const all = [...notes]
  for (const e of report)
    if (e.origin !== 'policy' && e.status === 'active' && e.used === 0)
      all.push({ ref: e.ref, message: 'matches no finding' })
  const statements = report.filter((e) => e.origin !== 'policy').length
  return {
    id: 'exceptions.vex',
    title: 'VEX statements apply to this SBOM and its findings',
    status: all.length > 0 ? 'warn' : 'pass',
    summary:
      all.length > 0
        ? `${all.length} VEX note${all.length === 1 ? '' : 's'}: ${all.map((n) => `${n.ref} ${n.message}`).join('; ')}`
        : `${statements} VEX statement${statements === 1 ? '' : 's'} applied`,
    evidence: { notes: all },
  }
}
