/** Edge: the one place that turns SOURCE_DATE_EPOCH (or the git HEAD commit time) into a date. */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { InputError } from '../errors.ts'

/** Used when neither SOURCE_DATE_EPOCH nor a git commit is available: 1980-01-01T00:00:00Z (as zip's epoch). */
export const FALLBACK_EPOCH = 315532800

export interface SourceDate {
  epoch: number
  from: 'SOURCE_DATE_EPOCH' | 'git' | 'fallback'
}

export function parseSourceDateEpoch(value: string): number {
  if (!/^\d{1,12}$/.test(value.trim())) {
    throw new InputError(
      'CONFIG_SOURCE_DATE_EPOCH_INVALID',
      `SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, got "${value}"`,
    )
  }
  return Number(value.trim())
}

/** SOURCE_DATE_EPOCH if set, else the time of the last commit touching `cwd`, else the fallback. */
export async function resolveSourceDate(cwd: string, env: NodeJS.ProcessEnv): Promise<SourceDate> {
  const raw = env.SOURCE_DATE_EPOCH
  if (raw !== undefined && raw !== '') return { epoch: parseSourceDateEpoch(raw), from: 'SOURCE_DATE_EPOCH' }
  try {
    const { stdout } = await promisify(execFile)('git', ['log', '-1', '--format=%ct', '--', '.'], {
      cwd,
      env: { ...env, GIT_TERMINAL_PROMPT: '0' },
      timeout: 10_000,
    })
    const t = stdout.trim()
    if (/^\d+$/.test(t)) return { epoch: Number(t), from: 'git' }
  } catch {
    // not a git repository, no commits or no git: fall through
  }
  return { epoch: FALLBACK_EPOCH, from: 'fallback' }
}
