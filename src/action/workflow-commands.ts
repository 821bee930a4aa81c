/**
 * Pure: the one layer between the Action and what the runner reads. Workflow commands (`::error …::`,
 * `::group::`, `::add-mask::`), escaped as the runner unescapes them; plain log text, redacted and
 * neutralized so that no line of it is a command; and `name<<DELIMITER` blocks for GITHUB_OUTPUT that no
 * value can end early. Everything the Action prints or writes for the runner is built here.
 * https://docs.github.com/actions/reference/workflow-commands-for-github-actions
 *
 * How the runner reads stdout (actions/runner ActionCommandManager): it splits the stream into lines
 * at `\n`, `\r\n` and a lone `\r`; a line is a command when, after leading white space, it starts with
 * `::` and names a known command (case-insensitive), or when it holds the legacy `##[` anywhere.
 */
import { createHash } from 'node:crypto'
import { InternalError } from '../errors.ts'
import { redactSecrets } from '../util/redact.ts'
import { compareCodePoint } from '../util/sort.ts'

export type AnnotationLevel = 'error' | 'warning' | 'notice'

export interface Annotation {
  level: AnnotationLevel
  message: string
  title?: string
  file?: string
  line?: number
}

/** Escapes a command's message (the part after `::`): `%`, CR and LF, as the runner unescapes them. */
export function escapeData(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

/** Escapes a property value (`title=…,file=…`), where `:` and `,` are separators too. */
export function escapeProperty(value: string): string {
  return escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C')
}

/**
 * One workflow command line. Names are detbuild's own (a fixed set); property values and the message
 * are escaped and redacted, so no value ends the command, adds a property or starts another line.
 */
export function toCommand(
  name: 'error' | 'warning' | 'notice' | 'group' | 'endgroup' | 'add-mask',
  properties: Readonly<Record<string, string | number | undefined>>,
  message: string,
): string {
  const props = Object.entries(properties)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${escapeProperty(redactSecrets(String(v)))}`)
  // a secret to mask is the one value that must reach the runner as it is
  const data = name === 'add-mask' ? message : redactSecrets(message)
  return `::${name}${props.length > 0 ? ` ${props.join(',')}` : ''}::${escapeData(data)}`
}

export function toAnnotationCommand(a: Annotation): string {
  return toCommand(a.level, { file: a.file, line: a.line, title: a.title }, a.message)
}

/** Shorter values are not masked: the runner would hide every such substring of every line. */
export const MIN_MASK = 4

/**
 * `::add-mask::` lines for credential values, printed before anything else so the runner hides them
 * from every later line. A multi-line secret (a PEM key) is masked line by line: the runner masks
 * within one line. Values shorter than MIN_MASK and the PEM armour lines are left.
 */
export function toMaskCommands(secrets: Iterable<string>): string[] {
  const values = new Set<string>()
  for (const secret of secrets)
    for (const part of [secret, ...secret.split(/\r?\n|\r/)]) {
      const v = part.trim()
      if (v.length >= MIN_MASK && !/^-----(BEGIN|END) [A-Z ]+-----$/.test(v) && !/[\r\n]/.test(v))
        values.add(v)
    }
  return [...values].sort(compareCodePoint).map((v) => toCommand('add-mask', {}, v))
}

// white space .NET's String.TrimStart removes (the runner trims before looking for `::`), a superset
const LEADING_SPACE = /^[\s\u0085\u180e\u200b-\u200d\u2060\ufeff]*/
// C0/C1 controls but tab: an ESC starts a terminal sequence the log viewer interprets
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g

/**
 * Plain text for the log → lines no runner reads as a command: redacted, split where the runner (or a
 * log viewer: U+2028, U+2029, NEL) would break a line, control characters shown as U+FFFD, a leading
 * `::` written `%3A%3A`, and the legacy `##[` written `## [`.
 */
export function toLogLines(text: string): string[] {
  return redactSecrets(text)
    .split(/\r\n|[\r\n\u0085\u2028\u2029]/)
    .map((line) => {
      const safe = line.replace(CONTROL, '\ufffd').replaceAll('##[', '## [')
      const lead = LEADING_SPACE.exec(safe)![0]
      return safe.startsWith('::', lead.length) ? `${lead}%3A%3A${safe.slice(lead.length + 2)}` : safe
    })
}

/** Whether a line of text may be a value of a line-per-item output (such as `digests`). */
export function isSingleLine(value: string): boolean {
  return !/[\r\n\u0085\u2028\u2029]/.test(value)
}

/**
 * One `name<<DELIMITER` block for GITHUB_OUTPUT. The delimiter is derived from the value (no
 * randomness) and lengthened until the value does not contain it at all — so no line of the value can
 * equal it and end the block early (the runner compares whole lines, after stripping a `\r`).
 */
export function toOutputBlock(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name))
    throw new InternalError('ACTION_OUTPUT_NAME_INVALID', `invalid output name: ${name}`)
  let delimiter = `ghadelimiter_${createHash('sha256').update(value).digest('hex').slice(0, 32)}`
  while (value.includes(delimiter)) delimiter += '_'
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`
}

/** The GITHUB_OUTPUT text for `outputs`: sorted by name, every value redacted. */
export function toOutputFile(outputs: Readonly<Record<string, string>>): string {
  return Object.keys(outputs)
    .sort(compareCodePoint)
    .map((n) => toOutputBlock(n, redactSecrets(outputs[n]!)))
    .join('')
}

/** The Action's stdout, as the runner reads it: the only way anything is printed. */
export interface WorkflowStdout {
  /** plain text (may hold many lines): every line is redacted and neutralized */
  text(text: string): void
  annotate(a: Annotation): void
  group(title: string): void
  endGroup(): void
  mask(secrets: Iterable<string>): void
}

/** A WorkflowStdout over a raw writer (process.stdout in the Action, a buffer in tests). */
export function createWorkflowStdout(write: (text: string) => void): WorkflowStdout {
  const line = (l: string) => write(`${l}\n`)
  return {
    text: (text) => {
      for (const l of toLogLines(text)) line(l)
    },
    annotate: (a) => line(toAnnotationCommand(a)),
    group: (title) => line(toCommand('group', {}, title)),
    endGroup: () => line(toCommand('endgroup', {}, '')),
    mask: (secrets) => {
      for (const l of toMaskCommands(secrets)) line(l)
    },
  }
}
