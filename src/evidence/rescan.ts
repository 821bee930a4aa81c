/**
 * Edge (temp files, network): `verify --evidence --rescan` re-checks the bundled SBOM against OSV now,
 * through the scan step's own core. The SBOM goes into a private temporary folder (0700) that is removed
 * afterwards; nothing else from the archive is written to disk. Suppressions recorded in the bundled
 * vulns.json are signed evidence and carry over to the same finding.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { countFindings } from '../scan/findings.ts'
import { runScan, type ScanOptions } from '../scan/index.ts'
import type { Finding, VulnsReport } from '../scan/types.ts'
import { stableJson } from '../util/canonical-json.ts'
import { writeFileAtomic } from '../util/fs.ts'
import type { Logger } from '../util/log.ts'
import { WorkspaceFiles } from '../workspace.ts'

export interface RescanOptions {
  /** the bundled SBOM bytes */
  sbom: Uint8Array
  /** the bundled vulns.json bytes, if any (for new findings and suppressions) */
  bundledVulns: Uint8Array | undefined
  /** an OSV export (absolute path) instead of the API */
  offlineDb?: string
  osvUrl?: string
  env: NodeJS.ProcessEnv
  now: Date
  log: Logger
  client?: ScanOptions['client']
}

export interface RescanResult {
  source: VulnsReport['source']
  complete: boolean
  unchecked: string[]
  counts: VulnsReport['counts']
  /** findings not in the bundled vulns.json (by id and package) */
  newFindings: Finding[]
  /** the fresh vulns.json (suppressions carried over), for a policy */
  vulns: Buffer
}

const keyOf = (f: { id: string; purl: string }): string => `${f.id}\u0000${f.purl}`

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
      now: o.now,
      log: o.log,
      ...(o.client ? { client: o.client } : {}),
    })
    const bundled = bundledFindings(o.bundledVulns)
    const findings = result.report.findings.map((f) => {
      const before = bundled.get(keyOf(f))
      return f.suppressed === null && before?.suppressed ? { ...f, suppressed: before.suppressed } : f
    })
    const report: VulnsReport = {
      ...result.report,
      findings,
      counts: countFindings(findings),
      suppressedCount: findings.filter((f) => f.suppressed).length,
    }
    return {
      source: report.source,
      complete: report.complete,
      unchecked: report.unchecked,
      counts: report.counts,
      newFindings: findings.filter((f) => !bundled.has(keyOf(f))),
      vulns: Buffer.from(stableJson(report)),
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function bundledFindings(bytes: Uint8Array | undefined): Map<string, Finding> {
  const out = new Map<string, Finding>()
  if (!bytes) return out
  try {
    const data = JSON.parse(Buffer.from(bytes).toString('utf8')) as { findings?: Finding[] }
    for (const f of data.findings ?? [])
      if (typeof f?.id === 'string' && typeof f.purl === 'string') out.set(keyOf(f), f)
  } catch {
    // an unreadable vulns.json has no findings to compare with: every finding is new
  }
  return out
}
