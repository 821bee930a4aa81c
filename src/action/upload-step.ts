/**
 * The Action's Dependency-Track upload: after the pipeline, when `dependency-track-url` is set, the same
 * core as `detbuild upload` sends the SBOM this run made (and a VEX from the policy exceptions, when this
 * run's policy and scan made policy.json and vulns.json). The API key comes from the job's
 * DEPENDENCY_TRACK_API_KEY variable, never from an input (inputs are echoed in logs by other tools).
 *
 * It runs when the SBOM is this run's (the sbom step passed, or was not part of the run) and the run did not
 * stop for an error: after exit 0, and after exit 1 (a check said no: the SBOM is still the build's, and
 * Dependency-Track is where it is tracked). After exit 2, 3 or 70 nothing is sent, and the line says why.
 */
import { type DetbuildError, ExitCode, toDetbuildError } from '../errors.ts'
import type { RunReport } from '../run/index.ts'
import type { Logger } from '../util/log.ts'
import type { ActionInputs } from './inputs.ts'

/** The variable the Action reads the API key from (`detbuild upload`'s default `--api-key-env`). */
export const API_KEY_ENV = 'DEPENDENCY_TRACK_API_KEY'

export interface ActionUpload {
  /** one line for the log and the job summary */
  line: string
  /** the upload failed: the error (its exit code fails the job) */
  error: DetbuildError | null
}

/** A step of this run made its file: it passed, or said no after writing it (exit 1); or it was not part of the run. */
function fresh(report: RunReport, step: string): boolean {
  const s = report.steps.find((r) => r.name === step)
  return (
    s === undefined || s.status === 'ok' || (s.status === 'failed' && s.exitCode === ExitCode.checkFailed)
  )
}

export async function uploadAfterRun(o: {
  inputs: ActionInputs
  report: RunReport
  cwd: string
  out: string
  env: Readonly<Record<string, string | undefined>>
  sourceDateEpoch: number
  log: Logger
}): Promise<ActionUpload | null> {
  const dt = o.inputs.dependencyTrack
  if (dt.url === '') return null
  if (o.report.exitCode !== ExitCode.ok && o.report.exitCode !== ExitCode.checkFailed)
    return { line: `not uploaded: the run stopped with exit ${o.report.exitCode}`, error: null }
  const sbom = o.report.steps.find((r) => r.name === 'sbom')
  if (sbom !== undefined && sbom.status !== 'ok')
    return {
      line: `not uploaded: the sbom step ${sbom.status === 'skipped' ? 'was skipped' : 'did not run'}`,
      error: null,
    }
  try {
    const { runUpload, toUploadText } = await import('../upload/index.ts')
    const parent =
      dt.parentName !== ''
        ? { name: dt.parentName, ...(dt.parentVersion !== '' ? { version: dt.parentVersion } : {}) }
        : undefined
    const result = await runUpload({
      cwd: o.cwd,
      out: o.out,
      url: dt.url,
      apiKey: o.env[API_KEY_ENV],
      apiKeyEnv: API_KEY_ENV,
      project:
        dt.project !== ''
          ? { uuid: dt.project.toLowerCase() }
          : {
              ...(dt.projectName !== '' ? { name: dt.projectName } : {}),
              ...(dt.projectVersion !== '' ? { version: dt.projectVersion } : {}),
            },
      autoCreate: dt.autoCreate,
      ...(parent ? { parent } : {}),
      // a VEX only from this run's scan and policy (a skipped step leaves an older file in place)
      vex: fresh(o.report, 'scan') && fresh(o.report, 'policy'),
      allowHttp: false,
      waitMs: 300_000,
      sourceDateEpoch: o.sourceDateEpoch,
      log: o.log,
    })
    return { line: toUploadText(result), error: null }
  } catch (e) {
    const error = toDetbuildError(e)
    return { line: `upload failed [${error.code}]: ${error.toLine()}`, error }
  }
}
