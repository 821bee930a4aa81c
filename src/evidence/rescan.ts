/**
 * Edge (temp files, network): `verify --evidence --rescan` re-checks the bundled SBOM against OSV now,
 * through the scan step's own core. The SBOM goes into a private temporary folder (0700) that is removed
 * afterwards; nothing else from the archive is written to disk.
 *
 * A rescan only ever ADDS to the signed findings: an empty export, an unrelated export or an OSV that
 * answers nothing must not make a signed critical finding disappear. The findings a gate judges are the
 * union of the signed vulns.json and the fresh scan (see {@link unionFindings}); each one says where it
 * came from.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Finding, ScanSource, VulnsReport } from '../scan/index.ts'
import { countFindings, runScan, type ScanOptions, sortFindings } from '../scan/index.ts'
import { stableJson } from '../util/canonical-json.ts'
import { writeFileAtomic } from '../util/fs.ts'
import type { Logger } from '../util/log.ts'
import { WorkspaceFiles } from '../workspace/index.ts'

export interface RescanOptions {
  /** the bundled SBOM bytes */
  sbom: Uint8Array
  /** the bundled vulns.json, already validated (see workspace-schemas.ts), with its sha256 */
  bundledVulns: { report: VulnsReport; sha256: string } | undefined
  /** an OSV export (absolute path) instead of the API */
  offlineDb?: string
  osvUrl?: string
  env: NodeJS.ProcessEnv
  /** the rescan's scan time (seconds): the caller's source date */
  sourceDateEpoch: number
  now: Date
  log: Logger
  client?: ScanOptions['client']
}

/** Where a finding of the verdict came from: the signed vulns.json, the fresh scan, or both. */
export type FindingOrigin = 'evidence' | 'rescan'

export interface OriginFinding {
  id: string
  aliases: string[]
  purl: string
  name: string
  version: string
  severity: Finding['severity']
  fixed: string | null
  suppressed: boolean
  from: FindingOrigin[]
}

export interface RescanResult {
  /** the fresh scan's source (API URL, or offline export path and sha256) */
  source: ScanSource
  /** both sources of the union: the signed vulns.json (null when the evidence has none) and the rescan */
  sources: { evidence: { file: string; sha256: string } | null; rescan: ScanSource }
  complete: boolean
  unchecked: string[]
  /** severity counts of the union */
  counts: VulnsReport['counts']
  /** findings of the rescan that are not in the signed vulns.json */
  newFindings: Finding[]
  /** every finding of the union, with its origin */
  findings: OriginFinding[]
  /** the union as a vulns.json document, for a policy */
  vulns: Buffer
}

/** Package identity of a finding: the purl without qualifiers or subpath (it carries the version). */
const packageOf = (f: Pick<Finding, 'purl' | 'name' | 'version'>): string =>
  f.purl ? (f.purl.split(/[?#]/)[0] ?? f.purl) : `${f.name}@${f.version}`

const idsOf = (f: Pick<Finding, 'id' | 'aliases' | 'records'>): Set<string> =>
  new Set([f.id, ...(f.aliases ?? []), ...(f.records ?? [])])

/** Two findings are the same when package and version are equal and their id/alias sets intersect. */
export function sameFinding(a: Finding, b: Finding): boolean {
  if (packageOf(a) !== packageOf(b)) return false
  const ids = idsOf(a)
  for (const id of idsOf(b)) if (ids.has(id)) return true
  return false
}

/**
 * The union of the signed findings and a fresh scan's. Pure. Every signed finding stays as signed (with
 * its suppression); a fresh finding that is the same as a signed one only marks it as seen again; the
 * others are added.
 */
export function unionFindings(
  signed: readonly Finding[],
  fresh: readonly Finding[],
): { findings: Finding[]; origins: Map<Finding, FindingOrigin[]>; added: Finding[] } {
  const origins = new Map<Finding, FindingOrigin[]>()
  for (const s of signed) origins.set(s, ['evidence'])
  const added: Finding[] = []
  for (const f of fresh) {
    const match = signed.find((s) => sameFinding(s, f))
    if (match) origins.set(match, ['evidence', 'rescan'])
    else {
      added.push(f)
      origins.set(f, ['rescan'])
    }
  }
  return { findings: sortFindings([...signed, ...added]), origins, added: sortFindings([...added]) }
}

export async function rescan(o: RescanOptions): Promise<RescanResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'detbuild-rescan-'))
  try {
    const sbomFile = path.join(dir, WorkspaceFiles.sbomJson)
    await writeFileAtomic(sbomFile, o.sbom, 0o600)
    const result = await runScan({
      cwd: dir,
      out: path.join(dir, 'out'),
      sbom: sbomFile,
      ...(o.offlineDb !== undefined ? { offlineDb: o.offlineDb } : {}),
      ...(o.osvUrl !== undefined ? { osvUrl: o.osvUrl } : {}),
      // a rescan asks OSV now: a cached record could be the one that changed
      cacheDir: null,
      failOn: null,
      omitDev: false,
      ignoreFiles: [],
      env: o.env,
      sourceDateEpoch: o.sourceDateEpoch,
      now: o.now,
      log: o.log,
      ...(o.client ? { client: o.client } : {}),
    })
    const signed = o.bundledVulns?.report.findings ?? []
    const { findings, origins, added } = unionFindings(signed, result.report.findings)
    const report: VulnsReport = {
      ...result.report,
      findings,
      counts: countFindings(findings),
      suppressedCount: findings.filter((f) => f.suppressed).length,
    }
    return {
      source: result.report.source,
      sources: {
        evidence: o.bundledVulns ? { file: WorkspaceFiles.vulns, sha256: o.bundledVulns.sha256 } : null,
        rescan: result.report.source,
      },
      complete: report.complete,
      unchecked: report.unchecked,
      counts: report.counts,
      newFindings: added,
      findings: findings.map((f) => ({
        id: f.id,
        aliases: f.aliases,
        purl: f.purl,
        name: f.name,
        version: f.version,
        severity: f.severity,
        fixed: f.fixed,
        suppressed: f.suppressed !== null,
        from: origins.get(f) ?? ['evidence'],
      })),
      vulns: Buffer.from(stableJson(report)),
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
