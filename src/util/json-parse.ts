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
 * JSON.parse that names the file, line and column on failure (exit 2).
 * `code` is the stable error code to raise, e.g. `SBOM_LOCKFILE_INVALID`.
 */
export function parseJson(text: string, file: string, code = 'INPUT_JSON_INVALID'): unknown {
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
