/**
 * Pure: a `go.mod` file → its directives (module, go, toolchain, godebug, require, exclude, replace,
 * retract, tool, ignore), as Go's own reader (golang.org/x/mod/modfile) tokenizes them: `//` comments,
 * `directive (` … `)` blocks, "interpreted" and `raw` quoted strings, `// indirect` on a requirement.
 *
 * Hand-written on purpose: no maintained npm package parses go.mod (the npm registry has none that reads
 * blocks, quoted paths and replacements as modfile does), and detbuild reads it without a Go toolchain.
 * Errors follow Go's spelling, `go.mod:12: …` (GO_MOD_SYNTAX, exit 2). `strict` (the project's own go.mod)
 * rejects unknown directives and malformed versions as the go command does; a dependency's go.mod (read
 * from the module cache for the graph) is read leniently, as Go does, keeping only what the graph needs.
 */
import semver from 'semver'
import { InputError } from '../../errors.ts'

/** A module path with an optional version (`path` or `path@version` on either side of `=>`). */
export interface ModuleVersion {
  path: string
  version?: string | undefined
}

export interface GoRequire {
  path: string
  version: string
  indirect: boolean
  line: number
}

export interface GoReplace {
  old: ModuleVersion
  /** a module (with a version) or, without a version, a local directory (`./x`, `../x`, `/abs`) */
  new: ModuleVersion
  /** true when `new` is a directory on disk, not a module */
  local: boolean
  line: number
}

export interface GoRetract {
  /** `[low, high]`, or one version (low === high) */
  low: string
  high: string
  rationale: string
  line: number
}

export interface GoMod {
  module: { path: string; deprecated?: string | undefined; line: number } | undefined
  go: string | undefined
  toolchain: string | undefined
  godebug: Array<{ key: string; value: string }>
  require: GoRequire[]
  exclude: Array<ModuleVersion & { version: string; line: number }>
  replace: GoReplace[]
  retract: GoRetract[]
  tool: string[]
  ignore: string[]
}

interface Token {
  text: string
  /** true for a quoted string: never a keyword, `(` or `=>` */
  quoted: boolean
}

interface Line {
  tokens: Token[]
  /** the text of the line's `//` comment, without the slashes, trimmed */
  comment: string | undefined
  line: number
}

/** Go's `modfile` error, `go.mod:12: message`. */
function syntax(file: string, line: number, message: string): InputError {
  return new InputError('GO_MOD_SYNTAX', `${file}:${line}: ${message}`, { file })
}

const PUNCT = new Set(['(', ')', '[', ']', ','])

/** Go string unquoting for "…" (the escapes Go allows) and `…` (raw). */
function unquote(raw: string, file: string, line: number): string {
  if (raw.startsWith('`')) return raw.slice(1, -1)
  try {
    // Go's interpreted strings and JSON share the escapes go.mod files use (\" \\ \n \t \uXXXX)
    const v: unknown = JSON.parse(raw.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1'))
    if (typeof v === 'string') return v
  } catch {}
  throw syntax(file, line, `invalid quoted string ${raw}`)
}

/** Splits the file into lines of tokens; a quoted string never spans lines (as in Go). */
function lex(text: string, file: string): Line[] {
  const out: Line[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1
    const s = lines[i]!.replace(/\r$/, '')
    const tokens: Token[] = []
    let comment: string | undefined
    let p = 0
    while (p < s.length) {
      const c = s[p]!
      if (c === ' ' || c === '\t' || c === '\v' || c === '\f' || c === '\r' || c === '\uFEFF') {
        p++
        continue
      }
      if (s.startsWith('//', p)) {
        comment = s.slice(p + 2).trim()
        break
      }
      if (s.startsWith('/*', p))
        throw syntax(file, lineNo, 'mod files must use // comments, not /* */ comments')
      if (PUNCT.has(c)) {
        tokens.push({ text: c, quoted: false })
        p++
        continue
      }
      if (c === '"' || c === '`') {
        let q = p + 1
        while (q < s.length && s[q] !== c) q += c === '"' && s[q] === '\\' ? 2 : 1
        if (q >= s.length) throw syntax(file, lineNo, 'unexpected newline in string')
        tokens.push({ text: unquote(s.slice(p, q + 1), file, lineNo), quoted: true })
        p = q + 1
        continue
      }
      let q = p
      while (
        q < s.length &&
        !/[\s()[\],"`]/.test(s[q]!) &&
        !s.startsWith('//', q) &&
        !(q > p && s.startsWith('/*', q))
      )
        q++
      tokens.push({ text: s.slice(p, q), quoted: false })
      p = q
    }
    if (tokens.length > 0 || comment !== undefined) out.push({ tokens, comment, line: lineNo })
  }
  return out
}

/** A canonical module version (`v1.2.3`, `v1.2.3-pre`, `v2.0.0+incompatible`, pseudo-versions). */
export function isCanonicalVersion(v: string): boolean {
  if (!/^v\d/.test(v)) return false
  const s = v.slice(1)
  const plus = s.indexOf('+')
  if (plus !== -1 && s.slice(plus) !== '+incompatible') return false
  // semver drops build metadata (`+incompatible`) from what it returns; the rest must be written canonically
  const core = plus === -1 ? s : s.slice(0, plus)
  return semver.valid(s) === core
}

/**
 * A module path as Go's CheckPath allows it, loosely: non-empty, no spaces or control characters, no
 * leading/trailing slash, no `..` element, no backslash. (The go command rejects the rest; a path that
 * passes here but not there is still a valid purl name.)
 */
function isModulePath(p: string): boolean {
  if (p === '' || p.startsWith('/') || p.endsWith('/') || p.startsWith('-')) return false
  if (/[\s\\\u0000-\u001f\u007f"'`]/.test(p)) return false
  return p.split('/').every((e) => e !== '' && e !== '.' && e !== '..')
}

/** A `replace` right-hand side without a version is a directory when it looks like a file path (Go's rule). */
function isDirectoryPath(p: string): boolean {
  return (
    p.startsWith('./') ||
    p.startsWith('../') ||
    p === '.' ||
    p === '..' ||
    p.startsWith('/') ||
    /^[a-zA-Z]:[\\/]/.test(p) ||
    p.startsWith('.\\') ||
    p.startsWith('..\\')
  )
}

const KNOWN = new Set([
  'module',
  'go',
  'toolchain',
  'godebug',
  'require',
  'exclude',
  'replace',
  'retract',
  'tool',
  'ignore',
])

/** Parses go.mod text; `file` names it in errors (relative to the project). */
export function parseGoMod(text: string, options: { file?: string; strict?: boolean } = {}): GoMod {
  const file = options.file ?? 'go.mod'
  const strict = options.strict !== false
  const mod: GoMod = {
    module: undefined,
    go: undefined,
    toolchain: undefined,
    godebug: [],
    require: [],
    exclude: [],
    replace: [],
    retract: [],
    tool: [],
    ignore: [],
  }
  if (text.includes('\u0000')) throw syntax(file, 1, 'the file holds a NUL byte: not a go.mod file')
  const lines = lex(text, file)
  let block: { verb: string; line: number } | undefined
  // a `// Deprecated:` comment on the line(s) before or on the module line
  let pendingComments: string[] = []
  for (const l of lines) {
    const words = l.tokens
    if (words.length === 0) {
      if (l.comment !== undefined) pendingComments.push(l.comment)
      continue
    }
    if (block) {
      if (words.length === 1 && words[0]!.text === ')' && !words[0]!.quoted) {
        block = undefined
        pendingComments = []
        continue
      }
      directive(block.verb, words, l)
      continue
    }
    const verb = words[0]!
    if (verb.quoted) throw syntax(file, l.line, `unknown directive: ${verb.text}`)
    const rest = words.slice(1)
    const opens = rest.length >= 1 && rest[rest.length - 1]!.text === '(' && !rest[rest.length - 1]!.quoted
    if (opens && rest.length === 1) {
      if (!KNOWN.has(verb.text)) {
        if (strict) throw syntax(file, l.line, `unknown block type: ${verb.text}`)
      } else if (['module', 'go', 'toolchain'].includes(verb.text)) {
        throw syntax(file, l.line, `${verb.text} directive cannot be a block`)
      }
      block = { verb: KNOWN.has(verb.text) ? verb.text : '', line: l.line }
      continue
    }
    // `require ()` on one line: an empty block
    if (rest.length === 2 && rest[0]!.text === '(' && rest[1]!.text === ')') continue
    directive(verb.text, rest, l, pendingComments)
    pendingComments = []
  }
  if (block) throw syntax(file, block.line, `${block.verb || 'block'} ( is not closed by )`)
  if (strict && mod.module === undefined) throw syntax(file, 1, 'no module directive: not a Go module')
  return mod

  function version(t: Token | undefined, l: Line, what: string): string {
    if (t === undefined) throw syntax(file, l.line, `${what}: missing version`)
    if (!isCanonicalVersion(t.text)) {
      // Go itself resolves a non-canonical version (v1.2, a branch) over the network and rewrites go.mod
      throw syntax(
        file,
        l.line,
        `${what}: invalid version "${t.text}": must be a canonical semantic version such as v1.2.3 (run go mod tidy)`,
      )
    }
    return t.text
  }

  function modulePath(t: Token | undefined, l: Line, what: string): string {
    if (t === undefined || (t.text === '=>' && !t.quoted))
      throw syntax(file, l.line, `${what}: missing module path`)
    if (!isModulePath(t.text)) throw syntax(file, l.line, `${what}: invalid module path "${t.text}"`)
    return t.text
  }

  function directive(verb: string, args: Token[], l: Line, before: string[] = []): void {
    const n = args.length
    switch (verb) {
      case 'module': {
        if (mod.module) throw syntax(file, l.line, 'repeated module statement')
        if (n !== 1) throw syntax(file, l.line, 'usage: module module/path')
        const comments = [...before, ...(l.comment === undefined ? [] : [l.comment])]
        const deprecated = comments
          .map((c) => /^Deprecated:\s*(.*)$/s.exec(c)?.[1])
          .find((c) => c !== undefined)
        mod.module = { path: modulePath(args[0], l, 'module'), deprecated, line: l.line }
        return
      }
      case 'go': {
        if (mod.go !== undefined) throw syntax(file, l.line, 'repeated go statement')
        if (n !== 1) throw syntax(file, l.line, 'go directive expects exactly one argument')
        const v = args[0]!.text
        if (!/^(?:0|[1-9]\d*)(?:\.(?:0|[1-9]\d*)){1,2}(?:(?:rc|beta|alpha)[1-9]\d*)?$/.test(v)) {
          if (strict) throw syntax(file, l.line, `invalid go version '${v}': must match format 1.23.0`)
          return
        }
        mod.go = v
        return
      }
      case 'toolchain': {
        if (mod.toolchain !== undefined) throw syntax(file, l.line, 'repeated toolchain statement')
        if (n !== 1) throw syntax(file, l.line, 'toolchain directive expects exactly one argument')
        const v = args[0]!.text
        if (strict && !/^(?:default|go\d+\.\d+(?:\.\d+)?(?:(?:rc|beta|alpha)\d+)?(?:-[\w.-]+)?)$/.test(v))
          throw syntax(
            file,
            l.line,
            `invalid toolchain version '${v}': must match format go1.23.0 or default`,
          )
        mod.toolchain = v
        return
      }
      case 'godebug': {
        const kv = n === 1 ? /^([^=]+)=(.*)$/.exec(args[0]!.text) : null
        if (!kv) throw syntax(file, l.line, 'usage: godebug key=value')
        mod.godebug.push({ key: kv[1]!, value: kv[2]! })
        return
      }
      case 'require':
      case 'exclude': {
        if (n !== 2) throw syntax(file, l.line, `usage: ${verb} module/path v1.2.3`)
        const path = modulePath(args[0], l, verb)
        let v: string
        try {
          v = version(args[1], l, `${verb} ${path}`)
        } catch (e) {
          if (strict) throw e
          return
        }
        if (verb === 'require') {
          const c = l.comment
          const indirect = c !== undefined && (c === 'indirect' || c.startsWith('indirect;'))
          mod.require.push({ path, version: v, indirect, line: l.line })
        } else mod.exclude.push({ path, version: v, line: l.line })
        return
      }
      case 'replace': {
        const arrow = args.findIndex((t) => t.text === '=>' && !t.quoted)
        if (arrow !== 1 && arrow !== 2)
          throw syntax(file, l.line, 'usage: replace module/path [v1.2.3] => other/module v1.4 or local/dir')
        const left = args.slice(0, arrow)
        const right = args.slice(arrow + 1)
        const old: ModuleVersion = { path: modulePath(left[0], l, 'replace') }
        if (left.length === 2) old.version = version(left[1], l, `replace ${old.path}`)
        if (right.length === 1) {
          const target = right[0]!.text
          if (!isDirectoryPath(target)) {
            throw syntax(
              file,
              l.line,
              `replace ${old.path}: replacement module without version must be directory path (rooted or starting with ./ or ../)`,
            )
          }
          mod.replace.push({ old, new: { path: target }, local: true, line: l.line })
          return
        }
        if (right.length !== 2)
          throw syntax(file, l.line, 'usage: replace module/path [v1.2.3] => other/module v1.4 or local/dir')
        if (isDirectoryPath(right[0]!.text))
          throw syntax(file, l.line, `replace ${old.path}: replacement directory cannot have a version`)
        const target = modulePath(right[0], l, 'replace')
        mod.replace.push({
          old,
          new: { path: target, version: version(right[1], l, `replace ${target}`) },
          local: false,
          line: l.line,
        })
        return
      }
      case 'retract': {
        const rationale = l.comment ?? before.join('\n')
        const texts = args.map((t) => t.text)
        if (n === 1) {
          const v = version(args[0], l, 'retract')
          mod.retract.push({ low: v, high: v, rationale, line: l.line })
          return
        }
        if (n === 5 && texts[0] === '[' && texts[2] === ',' && texts[4] === ']') {
          mod.retract.push({
            low: version(args[1], l, 'retract'),
            high: version(args[3], l, 'retract'),
            rationale,
            line: l.line,
          })
          return
        }
        throw syntax(file, l.line, 'usage: retract v1.2.3 or retract [v1.0.0, v1.1.0]')
      }
      case 'tool':
      case 'ignore': {
        if (n !== 1) throw syntax(file, l.line, `usage: ${verb} path`)
        mod[verb].push(args[0]!.text)
        return
      }
      default:
        if (strict) throw syntax(file, l.line, `unknown directive: ${verb}`)
    }
  }
}
