/** `run` → the scan step: RunOptions → ScanOptions → runScan → summary facts (findings, verdict). */
import path from 'node:path'
import { ExitCode } from '../../errors.ts'
import { failsThreshold, isOpen, type ScanOptions, type ScanResult } from '../../scan/index.ts'
import { plural } from '../../util/plural.ts'
import type { RunOptions } from '../options.ts'
import type { StepResult } from '../pipeline.ts'
import type { FindingFact } from '../types.ts'
import type { StepAdapter } from './carried.ts'

/** Pure: `defaults` are the scan's own (OSV URL, cache folder for this environment). */
export function toScanOptions(
  o: RunOptions,
  env: NodeJS.ProcessEnv,
  defaults: { osvUrl: string; cacheDir: string | null; sourceDateEpoch: number },
): ScanOptions {
  return {
    cwd: o.cwd,
    out: o.out,
    ...(o.scan.offlineDb ? { offlineDb: o.scan.offlineDb } : {}),
    osvUrl: o.scan.osvUrl ?? defaults.osvUrl,
    cacheDir: o.scan.cacheDir === undefined ? defaults.cacheDir : o.scan.cacheDir,
    failOn: o.scan.failOn,
    omitDev: o.scan.omitDev,
    ...(o.scan.repositoryPath !== undefined ? { repositoryPath: o.scan.repositoryPath } : {}),
    env,
    sourceDateEpoch: defaults.sourceDateEpoch,
    now: o.now,
    log: o.log,
  }
}

/** Pure. */
export function toScanStepResult(o: RunOptions, result: ScanResult): StepResult {
  const r = result.report
  const failOn = o.scan.failOn
  const findings: FindingFact[] = r.findings.map((f) => ({
    id: f.id,
    severity: f.severity,
    name: f.name,
    version: f.version,
    purl: f.purl,
    fixed: f.fixed,
    summary: f.summary,
    // not open: suppressed, or proven not affected (Go reachability, vulns.openvex.json)
    suppressed: !isOpen(f),
    dev: f.dev,
    failing: failOn !== null && failsThreshold(f, failOn),
    line: f.line,
    upgrade: f.upgrade,
  }))
  const open = findings.filter((f) => !f.suppressed).length
  const failing = findings.filter((f) => f.failing).length
  const code =
    result.exitCode === ExitCode.incomplete
      ? 'SCAN_INCOMPLETE'
      : result.exitCode === ExitCode.checkFailed
        ? 'SCAN_FINDINGS_AT_FAIL_ON'
        : undefined
  const detail =
    result.exitCode === ExitCode.incomplete
      ? `INCOMPLETE: ${plural(r.unchecked.length, 'package')} not checked`
      : `${plural(r.componentsChecked, 'package')} checked, ${plural(open, 'open finding')}${
          result.exitCode === ExitCode.checkFailed ? `, ${failing} at or above fail-on ${failOn}` : ''
        }`
  return {
    exitCode: result.exitCode,
    ...(code ? { code } : {}),
    detail,
    facts: {
      scan: {
        source: r.source.kind === 'api' ? `OSV API ${r.source.url}` : `offline export ${r.source.export}`,
        complete: r.complete,
        unchecked: r.unchecked.length,
        counts: { ...r.counts },
        open,
        suppressed: r.suppressedCount,
        failOn,
        file: r.location.file,
        findings,
      },
    },
  }
}

export const scanStep: StepAdapter = async (o, c) => {
  const scan = await import('../../scan/index.ts')
  const defaults = {
    osvUrl: scan.DefaultOsvUrl,
    cacheDir: path.join(o.context.cacheRoot, scan.OsvCacheFolder),
    sourceDateEpoch: o.context.sourceDate.epoch,
  }
  return toScanStepResult(o, await scan.runScan(toScanOptions(o, c.env, defaults)))
}
