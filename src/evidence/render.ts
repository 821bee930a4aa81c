/** Terminal text for bundle, verify --evidence and inspect. Pure. */
import type { ScanSource } from '../scan/index.ts'
import { plural } from '../util/plural.ts'
import type { BundleResult } from './bundle.ts'
import type { InspectSummary } from './inspect.ts'
import type { SignerSummary } from './types.ts'
import type { EvidenceReport } from './verify.ts'

export function describeSigner(s: SignerSummary | null): string {
  if (s === null) return 'unknown'
  return s.type === 'key' ? `key ${s.keyId}` : `${s.identity} (${s.issuer})`
}

export function renderBundleText(r: BundleResult): string {
  const lines = [
    `wrote ${r.file} (${r.size} bytes, sha256 ${r.sha256})`,
    `  ${plural(r.files.length, 'file')} + manifest.json, signed by ${describeSigner(r.signer)}${r.tlog ? ', logged' : ''}`,
    `  member times: SOURCE_DATE_EPOCH ${r.sourceDateEpoch} (${new Date(r.sourceDateEpoch * 1000).toISOString()})`,
  ]
  for (const a of r.artifacts)
    lines.push(`  artifact ${a.path} sha256:${a.sha256}${a.included ? ' (included)' : ' (digest only)'}`)
  return `${lines.join('\n')}\n`
}

function describeSource(s: ScanSource): string {
  return s.kind === 'api'
    ? `OSV API ${s.url}`
    : `offline export ${s.export}${s.exportSha256 ? ` sha256:${s.exportSha256}` : ''}`
}

export function renderVerifyText(r: EvidenceReport): string {
  const lines: string[] = []
  const verdict = r.verified ? 'OK' : r.failures.length > 0 ? 'FAIL' : 'INCOMPLETE'
  lines.push(`${verdict} ${r.artifact} against ${r.evidence}`)
  const c = r.checks
  lines.push(
    `  archive ${c.archive} · signature ${c.signature} · files ${c.files} · artifact ${c.artifact} · consistency ${c.consistency} · policy ${c.policy} · rescan ${c.rescan}`,
  )
  if (r.signer)
    lines.push(`  manifest signed by ${describeSigner(r.signer)} (trusted root: ${r.trustedRoot})`)
  if (r.manifest)
    lines.push(
      `  ${plural(r.manifest.files, 'file')}, detbuild ${r.manifest.detbuildVersion}, SOURCE_DATE_EPOCH ${r.manifest.sourceDateEpoch}`,
    )
  if (r.artifactMatch?.provenanceSubject || r.artifactMatch?.buildOutput)
    lines.push(
      `  artifact ${r.artifactDigest} = provenance subject ${r.artifactMatch.provenanceSubject ?? '-'}, build output ${r.artifactMatch.buildOutput ?? '-'}`,
    )
  if (r.policy)
    lines.push(
      `  policy ${r.policy.name} (${r.policy.source}): ${r.policy.verdict.toUpperCase()} (${r.policy.counts.pass ?? 0} passed, ${r.policy.counts.warn ?? 0} warned, ${r.policy.counts.fail ?? 0} failed; vulnerabilities from ${r.policy.vulnsFrom === 'bundle' ? 'the signed evidence' : 'the signed evidence + rescan'})`,
    )
  if (r.rescan) {
    const s = r.rescan.sources
    const fresh = describeSource(s.rescan)
    const signed = s.evidence ? `${s.evidence.file} sha256:${s.evidence.sha256}` : 'no vulns.json'
    lines.push(
      `  rescan (${fresh}): ${plural(r.rescan.newFindings.length, 'new finding')} since the build${r.rescan.complete ? '' : `, INCOMPLETE (${plural(r.rescan.unchecked.length, 'package')} not checked)`}`,
    )
    lines.push(`  findings judged: ${r.rescan.findings.length} = signed evidence (${signed}) + rescan`)
    for (const f of r.rescan.findings)
      lines.push(
        `    ${f.severity.padEnd(8)} ${f.name}@${f.version}  ${f.id}${f.fixed ? `  fixed in ${f.fixed}` : '  no fix'}${f.suppressed ? '  (suppressed)' : ''}  from ${f.from.map((o) => (o === 'evidence' ? 'signed evidence' : `rescan ${fresh}`)).join(' + ')}`,
      )
  } else if (c.rescan === 'incomplete') lines.push('  rescan INCOMPLETE: OSV could not be reached')
  for (const f of r.failures) lines.push(`  [${f.code}] ${f.message}`)
  return `${lines.join('\n')}\n`
}

export function renderInspectText(s: InspectSummary): string {
  const lines: string[] = []
  lines.push(`evidence ${s.evidence} (${s.archive.size} bytes, sha256 ${s.archive.sha256})`)
  if (s.manifest)
    lines.push(
      `  manifest: ${plural(s.manifest.files, 'file')}, detbuild ${s.manifest.detbuildVersion}, source date ${s.manifest.sourceDate}`,
    )
  lines.push(
    `  contents: ${s.consistent ? 'consistent with the manifest' : plural(s.problems.length, 'problem')} (signature not checked: use verify --evidence)`,
  )
  for (const p of s.problems) lines.push(`    [${p.code}] ${p.message}`)
  lines.push(
    `  manifest signature: ${s.signature.present ? `${describeSigner(s.signature.claimedSigner)}${s.signature.tlog ? ', logged' : ''}` : 'MISSING'}`,
  )
  for (const b of s.signatures)
    lines.push(`  ${b.subject} signed (${b.kind}) by ${describeSigner(b.signer)} → ${b.file}`)
  if (s.source)
    lines.push(
      `  source: ${s.source.repo ?? 'no remote'} @ ${s.source.commit ?? 'no commit'}${s.source.dirty ? ' (dirty)' : ''}`,
    )
  if (s.artifacts.length === 0) lines.push('  artifacts: none recorded')
  for (const a of s.artifacts)
    lines.push(`  artifact ${a.path}  sha256:${a.sha256}  ${a.size} bytes${a.included ? ' (included)' : ''}`)
  if (s.reproducibility)
    lines.push(
      `  reproducible: ${s.reproducibility.checked ? (s.reproducibility.reproducible ? 'yes (checked)' : 'NO') : 'not checked'}`,
    )
  if (s.sbom)
    lines.push(
      `  SBOM: CycloneDX ${s.sbom.specVersion ?? '?'}, ${plural(s.sbom.components, 'component')}, ${plural(s.sbom.dependencies, 'dependency edge')}${s.sbom.root ? `, root ${s.sbom.root}` : ''}`,
    )
  else lines.push('  SBOM: none')
  if (s.vulnerabilities) {
    const v = s.vulnerabilities
    const by = ['critical', 'high', 'medium', 'low', 'none', 'unknown'].map((k) => `${k} ${v.counts[k] ?? 0}`)
    lines.push(
      `  findings: ${v.open} open (${by.join(', ')}), ${v.suppressed} suppressed; ${v.complete ? 'complete' : `INCOMPLETE (${v.unchecked} unchecked)`}; ${v.source}`,
    )
  } else lines.push('  findings: no scan')
  if (s.policy)
    lines.push(
      `  policy ${s.policy.name} (${s.policy.source}): ${s.policy.verdict.toUpperCase()} (${s.policy.counts.pass ?? 0} passed, ${s.policy.counts.warn ?? 0} warned, ${s.policy.counts.fail ?? 0} failed)`,
    )
  else lines.push('  policy: not evaluated')
  lines.push(`  files: ${s.files.join(', ')}`)
  return `${lines.join('\n')}\n`
}
