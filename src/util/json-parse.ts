import { InputError } from '../errors.ts'
import { firstJsonErrorOffset } from './json-locate.ts'

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1
  let lineStart = 0
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  return { line, column: offset - lineStart + 1 }
}

/**
 * How deep any input may nest. Real SBOMs, lockfiles and policies stay in the tens; a hostile file
 * nested 100k deep would otherwise overflow the stack in whatever walks it next (exit 70).
 */
export const MAX_INPUT_DEPTH = 512

/** At most this many alias expansions in a YAML input ("billion laughs"). */
export const YAML_MAX_ALIAS_COUNT = 100

/**
 * Pure: the offset of the first `[` or `{` that opens level `max + 1` of a JSON text, or -1. Iterative
 * and string-aware, so it is safe on any input and runs before JSON.parse.
 */
export function jsonDepthExceededAt(text: string, max = MAX_INPUT_DEPTH): number {
  if (text.length <= max * 2) return -1
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return -1
}

/** Pure: throws INPUT_TOO_DEEP naming `file` when `value` nests deeper than `max` (iterative walk). */
export function assertMaxDepth(value: unknown, file: string, max = MAX_INPUT_DEPTH): void {
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (v === null || typeof v !== 'object') continue
    if (depth >= max) throw tooDeep(file, max)
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1])
  }
}

function tooDeep(file: string, max: number, where = ''): InputError {
  return new InputError('INPUT_TOO_DEEP', `nested deeper than ${max} levels${where}`, {
    file,
    details: { limit: max },
  })
}

/** "an array", "a string", "null": the JSON type of a value, for messages about the wrong type. */
export function describeJsonType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  const t = typeof value
  return t === 'object' ? 'an object' : t === 'undefined' ? 'nothing' : `a ${t}`
}

/**
 * Runs a YAML parse (`parse`, called with `text`) with the input caps: too many alias expansions is
 * INPUT_YAML_ALIASES and nesting too deep (or deep enough to overflow the parser) is INPUT_TOO_DEEP,
 * both exit 2 naming `file`. Other parse errors pass through for the caller to word.
 */
export function parseYamlCapped<T>(text: string, file: string, parse: (text: string) => T): T {
  let value: T
  try {
    value = parse(text)
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    if (/excessive alias count/i.test(message))
      throw new InputError(
        'INPUT_YAML_ALIASES',
        `more than ${YAML_MAX_ALIAS_COUNT} alias expansions (a "billion laughs" document?)`,
        { file, cause: e, details: { limit: YAML_MAX_ALIAS_COUNT } },
      )
    if (e instanceof RangeError || /maximum call stack/i.test(message)) throw tooDeep(file, MAX_INPUT_DEPTH)
    throw e
  }
  assertMaxDepth(value, file)
  return value
}

/**
 * JSON.parse that names the file, line and column on failure (exit 2), after refusing a text nested
 * deeper than MAX_INPUT_DEPTH (INPUT_TOO_DEEP). `code` is the stable error code to raise for invalid
 * JSON, e.g. `SBOM_LOCKFILE_INVALID`.
 */
export function parseJson(text: string, file: string, code = 'INPUT_JSON_INVALID'): unknown {
  const deepAt = jsonDepthExceededAt(text)
  if (deepAt >= 0) {
    const { line, column } = lineColumn(text, deepAt)
    throw tooDeep(file, MAX_INPUT_DEPTH, ` at line ${line}, column ${column}`)
  }
  try {
    return JSON.parse(text)
  } catch (e) {
    const raw = e instanceof Error ? e.message : String(e)
    if (text.trim() === '') return failEmpty(file, code)
    const pos = /position (\d+)/.exec(raw)
    const offset = pos?.[1] ? Number(pos[1]) : (firstJsonErrorOffset(text) ?? text.length)
    const { line, column } = lineColumn(text, offset)
    const where = ` at line ${line}, column ${column}${offset >= text.length ? ' (unexpected end)' : ''}`
    const reason = raw
      .replace(/\s*in JSON at position \d+.*$/s, '')
      .replace(/, ".*" is not valid JSON$/s, '')
      .replace(/^JSON\.parse: /, '')
    throw new InputError(code, `invalid JSON${where}: ${reason}`, { file, cause: e })
  }
}

function failEmpty(file: string, code: string): never {
  throw new InputError(code, 'invalid JSON: the file is empty', { file })
}
