import type { ErrorCode } from '../errors.ts'
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
  const found = prescanJson(text, max)
  return found?.kind === 'deep' ? found.at : -1
}

/** What the pre-scan refuses: nesting past the cap, or a number JSON.parse would turn into ±Infinity. */
export type PrescanProblem = { kind: 'deep'; at: number } | { kind: 'overflow'; at: number; number: string }

/** The largest count of integer digits (no exponent) a finite double can have: 1.8e308 has 309. */
const MAX_PLAIN_DIGITS = 309

/**
 * Pure: one iterative, string-aware pass over a JSON text before JSON.parse. It finds the first `[` or
 * `{` that opens level `max + 1`, and the first number that overflows a double (`1e400`, `-1e400`, or
 * 400 digits): JSON.parse reads those as ±Infinity, which no JSON writer can write back, so whatever
 * serialises the value later would fail as a bug. Numbers cost almost nothing here: outside strings a
 * number needs a look only at an exponent (an `e` after a digit) or a run of more than 309 digits.
 */
export function prescanJson(text: string, max = MAX_INPUT_DEPTH): PrescanProblem | undefined {
  let depth = 0
  let inString = false
  let digits = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
      continue
    }
    if (c >= 0x30 && c <= 0x39) {
      if (++digits > MAX_PLAIN_DIGITS) {
        const found = numberAt(text, i)
        if (found.overflow) return found.overflow
        i = found.end - 1 // the whole token is checked: go on after it
        digits = 0
      }
      continue
    }
    if ((c === 0x65 || c === 0x45) && digits > 0) {
      // an exponent (`true` and `false` end in `e`, but never after a digit)
      const found = numberAt(text, i)
      if (found.overflow) return found.overflow
      i = found.end - 1
      digits = 0
      continue
    }
    // a fraction's digits count on: only the integer part matters, but a longer run is harmless
    if (c !== 0x2e) digits = 0
    if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return { kind: 'deep', at: i }
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return undefined
}

const NUMBER_CHAR = /[-+.0-9eE]/

/**
 * The number token around offset `i` (outside a string): where it ends, and the problem when it is
 * ±Infinity as a double. A token that is no number at all (`1e`, `1-2`) is left to JSON.parse to word.
 */
function numberAt(text: string, i: number): { end: number; overflow?: PrescanProblem } {
  let start = i
  while (start > 0 && NUMBER_CHAR.test(text[start - 1]!)) start--
  let end = i + 1
  while (end < text.length && NUMBER_CHAR.test(text[end]!)) end++
  const token = text.slice(start, end)
  const value = Number(token)
  if (value !== Number.POSITIVE_INFINITY && value !== Number.NEGATIVE_INFINITY) return { end }
  return { end, overflow: { kind: 'overflow', at: start, number: token } }
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
 * both exit 2 naming `file`. A value JSON cannot carry (`.inf`, `.nan`, `1e400`, and under `%YAML 1.1`
 * a `!!binary`, `!!timestamp`, `!!set` or `!!omap`) is `code`, exit 2, naming its path. Other parse
 * errors pass through for the caller to word.
 */
export function parseYamlCapped<T>(
  text: string,
  file: string,
  parse: (text: string) => T,
  code: ErrorCode,
): T {
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
  assertPlainData(value, file, code)
  return value
}

/**
 * Pure: throws INPUT_TOO_DEEP when `value` nests deeper than MAX_INPUT_DEPTH, and `code` naming the
 * JSON path of the first value that is not JSON data (a non-finite number, a Date, bytes, a Set or Map).
 * Iterative: safe on any depth.
 */
export function assertPlainData(value: unknown, file: string, code: ErrorCode): void {
  const stack: Array<[unknown, number, string]> = [[value, 0, '$']]
  while (stack.length > 0) {
    const [v, depth, at] = stack.pop()!
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue
    if (typeof v === 'number') {
      if (Number.isFinite(v)) continue
      throw new InputError(code, `${at} is ${v}, not a number JSON can carry`, {
        file,
        details: { path: at },
      })
    }
    const plain =
      Array.isArray(v) ||
      (typeof v === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(v) as object))
    if (!plain)
      throw new InputError(code, `${at} is not plain data (${describeValueKind(v)})`, {
        file,
        details: { path: at },
      })
    if (depth >= MAX_INPUT_DEPTH) throw tooDeep(file, MAX_INPUT_DEPTH)
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) stack.push([v[i], depth + 1, `${at}[${i}]`])
    else
      for (const [k, item] of Object.entries(v as object))
        stack.push([
          item,
          depth + 1,
          /^[A-Za-z_$][\w$]*$/.test(k) ? `${at}.${k}` : `${at}[${JSON.stringify(k)}]`,
        ])
  }
}

function describeValueKind(v: unknown): string {
  if (typeof v !== 'object') return `a ${typeof v}`
  const name = (v as object).constructor?.name
  return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object'
}

/**
 * JSON.parse behind parseJson's pre-scan, for readers that word their own errors (a signed payload, a
 * cache entry, a server reply, an evidence member): nesting past MAX_INPUT_DEPTH or a number beyond
 * ±1.8e308 throws a SyntaxError naming the line and column, caught like any other invalid JSON, so no
 * ±Infinity (which no JSON writer can write back) or stack-deep value gets past the reader.
 */
export function parseJsonText(text: string): unknown {
  const problem = prescanJson(text)
  if (problem) {
    const { line, column } = lineColumn(text, problem.at)
    throw new SyntaxError(
      problem.kind === 'deep'
        ? `nested deeper than ${MAX_INPUT_DEPTH} levels at line ${line}, column ${column}`
        : `the number ${shortNumber(problem.number)} at line ${line}, column ${column} is out of range (beyond ±1.8e308)`,
    )
  }
  try {
    return JSON.parse(text)
  } catch (e) {
    const at = firstJsonErrorOffset(text) ?? text.length
    const { line, column } = lineColumn(text, at)
    throw new SyntaxError(`${jsonReason(e)} at line ${line}, column ${column}`)
  }
}

/**
 * V8's JSON.parse message without the part that quotes the input ("…, "root:x:0:0:r"... is not valid
 * JSON"): an input may be a link to a file that is not ours to show (a workspace file replaced by a link
 * to /etc/shadow), and the reader's message goes to logs. The position is given as line and column instead.
 */
function jsonReason(e: unknown): string {
  const raw = e instanceof Error ? e.message : String(e)
  return raw
    .replace(/\s*in JSON at position \d+.*$/s, '')
    .replace(/,\s*".*$/s, '')
    .replace(/^JSON\.parse: /, '')
}

function shortNumber(number: string): string {
  return number.length > 40
    ? `${number.slice(0, 20)}…${number.slice(-10)} (${number.length} characters)`
    : number
}

/**
 * JSON.parse that names the file, line and column on failure (exit 2), after refusing a text nested
 * deeper than MAX_INPUT_DEPTH (INPUT_TOO_DEEP). `code` is the stable error code to raise for invalid
 * JSON, e.g. `SBOM_LOCKFILE_INVALID`.
 */
export function parseJson(text: string, file: string, code: ErrorCode = 'INPUT_JSON_INVALID'): unknown {
  const problem = prescanJson(text)
  if (problem) {
    const { line, column } = lineColumn(text, problem.at)
    if (problem.kind === 'deep') throw tooDeep(file, MAX_INPUT_DEPTH, ` at line ${line}, column ${column}`)
    throw numberTooLarge(file, code, problem.number, ` at line ${line}, column ${column}`)
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
    const reason = jsonReason(e)
    throw new InputError(code, `invalid JSON${where}: ${reason}`, { file, cause: e })
  }
}

/** A number beyond a double's range: `code` is the reader's invalid-JSON code (exit 2). */
export function numberTooLarge(file: string, code: ErrorCode, number: string, where: string): InputError {
  const shown =
    number.length > 40 ? `${number.slice(0, 20)}…${number.slice(-10)} (${number.length} characters)` : number
  return new InputError(
    code,
    `invalid JSON${where}: the number ${shown} is out of range (beyond ±1.8e308 it reads as ±Infinity)`,
    { file, details: { reason: 'number-overflow' } },
  )
}

function failEmpty(file: string, code: ErrorCode): never {
  throw new InputError(code, 'invalid JSON: the file is empty', { file })
}
