/**
 * Pure: GitHub Actions workflow commands and file formats. Annotations (`::error …::`), escaped as the
 * runner expects, and `name<<DELIMITER` blocks for GITHUB_OUTPUT that are safe for multi-line values.
 * https://docs.github.com/actions/reference/workflow-commands-for-github-actions
 */
import { createHash } from 'node:crypto'

export type AnnotationLevel = 'error' | 'warning' | 'notice'

export interface Annotation {
  level: AnnotationLevel
  message: string
  title?: string
  file?: string
  line?: number
}

/** Escapes a command's message (the part after `::`). */
export function escapeData(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

/** Escapes a property value (`title=…,file=…`), where `:` and `,` are separators too. */
export function escapeProperty(value: string): string {
  return escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C')
}

export function toAnnotationCommand(a: Annotation): string {
  const props: string[] = []
  if (a.file !== undefined) props.push(`file=${escapeProperty(a.file)}`)
  if (a.line !== undefined) props.push(`line=${a.line}`)
  if (a.title !== undefined) props.push(`title=${escapeProperty(a.title)}`)
  return `::${a.level}${props.length > 0 ? ` ${props.join(',')}` : ''}::${escapeData(a.message)}`
}

/**
 * One `name<<DELIMITER` block for GITHUB_OUTPUT. The delimiter is derived from the value (no
 * randomness) and lengthened until it cannot occur as a line of the value.
 */
export function toOutputBlock(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) throw new Error(`invalid output name: ${name}`)
  const lines = new Set(value.split(/\r?\n/))
  let delimiter = `ghadelimiter_${createHash('sha256').update(value).digest('hex').slice(0, 32)}`
  while (lines.has(delimiter)) delimiter += '_'
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`
}
