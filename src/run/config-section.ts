/**
 * The `run` section of the project's detbuild.config.{json,yaml,yml} (validated by the same schema as
 * the rest of the file), from the config file the context read. No config file means no section; the
 * build step reports a missing config itself when it runs.
 */
import { assertConfigObject, type ConfigFile, describeIssue, loadConfigValidator } from '../config/index.ts'
import { InputError } from '../errors.ts'
import type { FailOn } from '../scan/index.ts'
import type { SignMode, StepName } from './steps.ts'

export interface RunSection {
  steps?: StepName[]
  policy?: string
  failOn?: FailOn
  sign?: SignMode
}

export async function readRunSection(file: ConfigFile | null): Promise<RunSection> {
  // an explicit --config that is missing was an error when the context read it, not "no config"
  if (!file) return {}
  const display = file.file
  const raw = file.document
  assertConfigObject(raw, display)
  const section = (raw as { run?: unknown }).run
  if (section === undefined) return {}
  const issues = (await loadConfigValidator())(raw).filter((i) => i.instancePath.startsWith('/run'))
  if (issues.length > 0) {
    const { key, message } = describeIssue(issues[0]!)
    throw new InputError('CONFIG_INVALID', message, { file: display, details: { key } })
  }
  return section as RunSection
}
