/**
 * `detbuild inspect`: what an evidence archive says, for people. Pure over the archive members: the
 * signer is read from the signature bundle as it claims, not verified (that is `verify --evidence`).
 */
import type { SerializedBundle } from '@sigstore/bundle'
import { bundleCertificate, certificateIdentity } from '../sign/index.ts'
import { digestBytes } from '../util/digest.ts'
import { parseJsonText } from '../util/json-parse.ts'
import { compareCodePoint } from '../util/sort.ts'
import { WorkspaceFiles } from '../workspace/index.ts'
import { checkContents, isFailure, parseManifest } from './manifest.ts'
import {
  type EvidenceFailure,
  MANIFEST_BUNDLE,
  MANIFEST_FILE,
  type ManifestArtifact,
  type SignerSummary,
} from './types.ts'

/** What `inspectEvidence` read from an archive, unverified: its manifest, members and recorded verdicts. */
export interface InspectSummary {
  evidence: string
  archive: { size: number; sha256: string; members: number }
  manifest: { detbuildVersion: string; sourceDateEpoch: number; sourceDate: string; files: number } | null
  /** every listed file present with its hashes and nothing unlisted (the signature is not checked) */
  consistent: boolean
  problems: EvidenceFailure[]
  signature: { present: boolean; claimedSigner: SignerSummary | null; tlog: boolean }
  source: { repo: string | null; commit: string | null; dirty: boolean | null } | null
  artifacts: ManifestArtifact[]
  sbom: { specVersion: string | null; root: string | null; components: number; dependencies: number } | null
  vulnerabilities: {
    source: string
    complete: boolean
    counts: Record<string, number>
    open: number
    suppressed: number
    unchecked: number
  } | null
  policy: { name: string; source: string; verdict: string; counts: Record<string, number> } | null
  reproducibility: { checked: boolean; reproducible: boolean | null } | null
  signatures: Array<{ file: string; subject: string; kind: string; signer: SignerSummary | null }>
  files: string[]
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

function json(data: Uint8Array | undefined): Record<string, unknown> | undefined {
  if (data === undefined) return undefined
  try {
    const v = parseJsonText(Buffer.from(data).toString('utf8')) as unknown
    return isObject(v) ? v : undefined
  } catch {
    return undefined
  }
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0)

/** Who a bundle says signed it: the certificate identity, or the key hint. Not a verification. */
export function claimedSigner(bundle: unknown): SignerSummary | null {
  if (!isObject(bundle)) return null
  try {
    const cert = bundleCertificate(bundle as unknown as SerializedBundle)
    if (cert) return { type: 'keyless', ...certificateIdentity(cert) }
  } catch {
    return null
  }
  const vm = isObject(bundle.verificationMaterial) ? bundle.verificationMaterial : undefined
  const hint = vm && isObject(vm.publicKey) ? str(vm.publicKey.hint) : null
  return hint === null ? null : { type: 'key', keyId: hint }
}

function toSigner(v: unknown): SignerSummary | null {
  if (!isObject(v)) return null
  if (v.type === 'key') return { type: 'key', keyId: String(v.keyId ?? '') }
  if (v.type === 'keyless')
    return { type: 'keyless', identity: String(v.identity ?? ''), issuer: String(v.issuer ?? '') }
  return null
}

export function toInspectSummary(
  evidence: string,
  archiveBytes: Uint8Array,
  members: ReadonlyMap<string, Uint8Array>,
): InspectSummary {
  const d = digestBytes(archiveBytes)
  const manifestBytes = members.get(MANIFEST_FILE)
  const parsed = manifestBytes ? parseManifest(manifestBytes) : undefined
  const manifest = parsed && !isFailure(parsed) ? parsed : undefined
  const problems: EvidenceFailure[] = []
  if (!manifestBytes)
    problems.push({ code: 'EVIDENCE_MANIFEST_MISSING', message: 'no manifest.json', file: MANIFEST_FILE })
  else if (parsed && isFailure(parsed)) problems.push(parsed)
  if (manifest) problems.push(...checkContents(manifest, members))

  const bundle = json(members.get(MANIFEST_BUNDLE))
  const build = json(members.get(WorkspaceFiles.buildManifest))
  const sbom = json(members.get(WorkspaceFiles.sbomJson))
  const vulns = json(members.get(WorkspaceFiles.vulns))
  const policy = json(members.get(WorkspaceFiles.policy))
  const signatures = json(members.get('signatures.json'))

  const source = build && isObject(build.source) ? build.source : undefined
  const repro = build && isObject(build.reproducibility) ? build.reproducibility : undefined
  const counts = vulns && isObject(vulns.counts) ? (vulns.counts as Record<string, number>) : {}
  const findings = vulns && Array.isArray(vulns.findings) ? vulns.findings : []
  const suppressed = findings.filter((f) => isObject(f) && f.suppressed).length
  const vulnSource = vulns && isObject(vulns.source) ? vulns.source : undefined

  return {
    evidence,
    archive: { size: d.size, sha256: d.sha256, members: members.size },
    manifest: manifest
      ? {
          detbuildVersion: manifest.detbuild.version,
          sourceDateEpoch: manifest.sourceDateEpoch,
          sourceDate: new Date(manifest.sourceDateEpoch * 1000).toISOString(),
          files: manifest.files.length,
        }
      : null,
    consistent: problems.length === 0,
    problems,
    signature: {
      present: bundle !== undefined,
      claimedSigner: claimedSigner(bundle),
      tlog:
        isObject(bundle?.verificationMaterial) &&
        Array.isArray(bundle.verificationMaterial.tlogEntries) &&
        bundle.verificationMaterial.tlogEntries.length > 0,
    },
    source: source
      ? {
          repo: str(source.repo),
          commit: str(source.commit),
          dirty: typeof source.dirty === 'boolean' ? source.dirty : null,
        }
      : null,
    artifacts: manifest?.artifacts ?? [],
    sbom: sbom
      ? {
          specVersion: str(sbom.specVersion),
          root:
            isObject(sbom.metadata) && isObject(sbom.metadata.component)
              ? (str(sbom.metadata.component['bom-ref']) ?? str(sbom.metadata.component.name))
              : null,
          components: Array.isArray(sbom.components) ? sbom.components.length : 0,
          dependencies: Array.isArray(sbom.dependencies)
            ? sbom.dependencies.reduce(
                (n: number, dep: unknown) =>
                  n + (isObject(dep) && Array.isArray(dep.dependsOn) ? dep.dependsOn.length : 0),
                0,
              )
            : 0,
        }
      : null,
    vulnerabilities: vulns
      ? {
          source:
            vulnSource?.kind === 'offline'
              ? `offline export ${String(vulnSource.export ?? '')}`
              : String(vulnSource?.url ?? vulnSource?.kind ?? 'unknown'),
          complete: vulns.complete === true,
          counts,
          open: Object.values(counts).reduce((a, b) => a + num(b), 0),
          suppressed,
          unchecked: Array.isArray(vulns.unchecked) ? vulns.unchecked.length : 0,
        }
      : null,
    policy:
      policy && isObject(policy.policy)
        ? {
            name: String(policy.policy.name ?? ''),
            source: String(policy.policy.source ?? ''),
            verdict: String(policy.verdict ?? 'unknown'),
            counts: isObject(policy.counts) ? (policy.counts as Record<string, number>) : {},
          }
        : null,
    reproducibility: repro
      ? {
          checked: repro.checked === true,
          reproducible: typeof repro.reproducible === 'boolean' ? repro.reproducible : null,
        }
      : null,
    signatures: (signatures && Array.isArray(signatures.bundles) ? signatures.bundles : [])
      .filter(isObject)
      .map((b) => ({
        file: String(b.file ?? ''),
        subject: String(b.subject ?? ''),
        kind: String(b.kind ?? ''),
        signer: toSigner(b.signer),
      })),
    files: manifest ? manifest.files.map((f) => f.path) : [...members.keys()].sort(compareCodePoint),
  }
}
