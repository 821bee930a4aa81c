/**
 * Pure: the import paths of one Go source file, without a Go toolchain: the `package` clause and the
 * `import` declarations that follow it (Go requires them at the top, before any other declaration).
 * Comments, single or grouped imports, named / dot / blank imports and raw or interpreted string literals
 * are read as the Go specification writes them; the scan stops at the first other declaration.
 * Hand-written: go/parser is Go's own, and no maintained npm library parses Go (tree-sitter-go would bring
 * a native build for a few dozen lines of lexing).
 */

export type GoImportsResult = { imports: string[] } | { error: string }

/** The file's import paths, sorted and unique (`"C"`, cgo, included), or why the file cannot be read. */
export function parseGoImports(text: string): GoImportsResult {
  let i = 0
  const n = text.length
  const fail = (why: string): GoImportsResult => {
    const line = text.slice(0, Math.min(i, n)).split('\n').length
    return { error: `line ${line}: ${why}` }
  }
  /** skips white space and comments; false when a block comment does not end */
  const skip = (): boolean => {
    while (i < n) {
      const c = text[i]!
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ';' || c === '\uFEFF') i++
      else if (text.startsWith('//', i)) {
        const end = text.indexOf('\n', i)
        i = end === -1 ? n : end + 1
      } else if (text.startsWith('/*', i)) {
        const end = text.indexOf('*/', i + 2)
        if (end === -1) return false
        i = end + 2
      } else break
    }
    return true
  }
  const word = (): string => {
    const m = /^[\p{L}_][\p{L}\p{Nd}_]*/u.exec(text.slice(i, i + 256))
    if (!m) return ''
    i += m[0].length
    return m[0]
  }
  const literal = (): string | null => {
    const q = text[i]
    if (q === '`') {
      const end = text.indexOf('`', i + 1)
      if (end === -1) return null
      const s = text.slice(i + 1, end)
      i = end + 1
      return s
    }
    if (q !== '"') return null
    let out = ''
    let j = i + 1
    while (j < n) {
      const c = text[j]!
      if (c === '"') {
        i = j + 1
        return out
      }
      if (c === '\n') return null
      if (c === '\\') {
        const e = text[j + 1]
        const simple: Record<string, string> = { '\\': '\\', '"': '"', n: '\n', t: '\t' }
        if (e !== undefined && e in simple) {
          out += simple[e]
          j += 2
          continue
        }
        const hex = /^(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))/.exec(
          text.slice(j + 1, j + 11),
        )
        if (!hex) return null
        out += String.fromCodePoint(Number.parseInt(hex[1] ?? hex[2] ?? hex[3]!, 16))
        j += 1 + hex[0].length
        continue
      }
      out += c
      j++
    }
    return null
  }
  /** one ImportSpec: [name | . | _] "path" */
  const spec = (): string | null => {
    if (text[i] === '.' || text[i] === '_') {
      i++
      if (!skip()) return null
    } else if (text[i] !== '"' && text[i] !== '`') {
      if (word() === '') return null
      if (!skip()) return null
    }
    return literal()
  }

  if (!skip()) return fail('unterminated comment')
  if (word() !== 'package') return fail('no package clause')
  if (!skip()) return fail('unterminated comment')
  if (word() === '') return fail('no package name')
  const found = new Set<string>()
  for (;;) {
    if (!skip()) return fail('unterminated comment')
    const start = i
    if (word() !== 'import') {
      i = start
      break
    }
    if (!skip()) return fail('unterminated comment')
    if (text[i] === '(') {
      i++
      for (;;) {
        if (!skip()) return fail('unterminated comment')
        if (i >= n) return fail('unterminated import block')
        if (text[i] === ')') {
          i++
          break
        }
        const p = spec()
        if (p === null) return fail('malformed import')
        found.add(p)
      }
    } else {
      const p = spec()
      if (p === null) return fail('malformed import')
      found.add(p)
    }
  }
  for (const p of found)
    if (p === '' || /[\s\\\0]/.test(p)) return fail(`invalid import path ${JSON.stringify(p)}`)
  return { imports: [...found].sort() }
}
