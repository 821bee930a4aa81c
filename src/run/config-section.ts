/**
 * Edge: the `run` section of the project's detbuild.config.{json,yaml,yml} (validated by the same
 * schema as the rest of the file). No config file means no section; the build step reports a missing
 * config itself when it runs.
 */
import path from 'node:path'
import { describeIssue } from '../config/build-config.ts'
import {
  assertConfigObject,
  CONFIG_FILES,
  loadConfigValidator,
  parseConfigText,
} from '../config/load-build-config.ts'
import { InputError } from '../errors.ts'
import type { FailOn } from '../scan/fail-on.ts'
import { exists, readTextFile, toPosixRelative } from '../util/fs.ts'
import type { SignMode, StepName } from './steps.ts'

export interface RunSection {
  steps?: StepName[]
  policy?: string
  failOn?: FailOn
  sign?: SignMode
}

export async function readRunSection(cwd: string, explicit?: string): Promise<RunSection> {
  let abs: string | undefined
  if (explicit) abs = path.resolve(cwd, explicit)
  else
    for (const name of CONFIG_FILES)
      if (await exists(path.join(cwd, name))) {
        abs = path.join(cwd, name)
        break
      }
  // an explicit --config that is missing is an error, not "no config"
  if (!abs) return {}
  const display = toPosixRelative(cwd, abs)
  const raw = parseConfigText(await readTextFile(abs, 'BUILD_CONFIG_MISSING', display, 'config'), display)
  assertConfigObject(raw, display)
  const section = (raw as { run?: unknown }).run
  if (section === undefined) return {}
  const issues = (await loadConfigValidator())(raw).filter((i) => i.instancePath.startsWith('/run'))
  if (issues.length > 0) {
    const { key, message } = describeIssue(issues[0]!)
    throw new InputError('BUILD_CONFIG_INVALID', message, { file: display, details: { key } })
  }
  return section as RunSection
}
