/**
 * Pure: symbol-level reachability of a Go vulnerability without a Go toolchain. OSV's Go records list,
 * for each affected module, the packages (`ecosystem_specific.imports[].path`) and, within them, the
 * functions and methods (`symbols`, spelled `F` or `T.M`) that hold the vulnerable code, sometimes only
 * for some targets (`goos`, `goarch`). This file compares them with what a program contains:
 *  - an executable: the function names of its `.gopclntab` (`net/http.(*Server).Serve`,
 *    `golang.org/x/net/http2.(*serverConn).serve`, `slices.Sort[go.shape.string]`, closures `F.func1`);
 *  - source: the set of packages the program's import graph reaches (imports.ts, imports-walk.ts).
 * A vulnerable symbol that is provably absent makes the finding `not_affected`; anything the comparison
 * cannot see (no symbol list, an unknown target) counts as present: the analysis only ever removes a
 * finding on proof. Hand-written: govulncheck does this in Go (golang.org/x/vuln), there is no npm library.
 */

/** One `ecosystem_specific.imports[]` entry of an OSV Go record, checked. */
export interface GoVulnImport {
  path: string
  /** `F` / `T.M`; empty: the whole package (every symbol of it counts) */
  symbols: readonly string[]
  /** the targets it applies to; empty: every one */
  goos: readonly string[]
  goarch: readonly string[]
}

/**
 * Reads a record's `ecosystem_specific` into import entries; null when it lists none or is not the
 * shape OSV documents (hostile or damaged data is never read as "no vulnerable package").
 */
export function toVulnImports(ecosystemSpecific: unknown): GoVulnImport[] | null {
  if (typeof ecosystemSpecific !== 'object' || ecosystemSpecific === null) return null
  const imports = (ecosystemSpecific as { imports?: unknown }).imports
  if (!Array.isArray(imports) || imports.length === 0) return null
  const out: GoVulnImport[] = []
  for (const raw of imports) {
    if (typeof raw !== 'object' || raw === null) return null
    const e = raw as Record<string, unknown>
    if (typeof e.path !== 'string' || e.path === '') return null
    const list = (v: unknown): string[] | null =>
      v === undefined || v === null
        ? []
        : Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== '')
          ? (v as string[])
          : null
    const symbols = list(e.symbols)
    const goos = list(e.goos)
    const goarch = list(e.goarch)
    if (symbols === null || goos === null || goarch === null) return null
    out.push({ path: e.path, symbols, goos, goarch })
  }
  return out
}

/** Removes every balanced `[...]` (generic instantiations; they may hold dots and slashes). */
function stripTypeArguments(name: string): string | null {
  let out = ''
  let depth = 0
  for (const ch of name) {
    if (ch === '[') depth++
    else if (ch === ']') {
      if (depth === 0) return null
      depth--
    } else if (depth === 0) out += ch
  }
  return depth === 0 ? out : null
}

/** `%2e` → `.`: the linker escapes the last path element's dots (`gopkg.in/yaml%2ev3.Unmarshal`). */
function unescapePath(p: string): string {
  return p.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
}

/**
 * A function name as Go's linker writes it → its package path and the symbol names that name says are
 * present, OSV's way (`T.M` for `(*T).M` and `T.M`; `F` for `F[...]`; a closure `F.func1` or a method
 * value `T.M-fm` also counts for `F` / `T.M`: its code is part of them). Null for names that are no
 * package's function (`type:.eq.…`, `go:buildid`) or that do not parse.
 */
export function splitGoSymbol(name: string): { pkg: string; symbols: string[] } | null {
  if (name.startsWith('type:') || name.startsWith('go:') || name.startsWith('type..')) return null
  const plain = stripTypeArguments(name)
  if (plain === null) return null
  const slash = plain.lastIndexOf('/')
  const dot = plain.indexOf('.', slash + 1)
  if (dot <= 0 || dot === plain.length - 1) return null
  const pkg = unescapePath(plain.slice(0, dot))
  const rest = plain
    .slice(dot + 1)
    .replace(/^\(\*?([^)]*)\)/, '$1')
    .replace(/-fm$/, '')
  const parts = rest.split('.').filter((p) => p !== '')
  if (parts.length === 0) return null
  const symbols: string[] = []
  for (let i = parts.length; i > 0; i--) symbols.push(parts.slice(0, i).join('.'))
  return { pkg, symbols }
}

/** package path → the symbol names present in it (OSV spelling), from an executable's function names. */
export type GoSymbolIndex = ReadonlyMap<string, ReadonlySet<string>>

export function toSymbolIndex(functionNames: readonly string[]): GoSymbolIndex {
  const index = new Map<string, Set<string>>()
  for (const name of functionNames) {
    const s = splitGoSymbol(name)
    if (s === null) continue
    let set = index.get(s.pkg)
    if (set === undefined) {
      set = new Set()
      index.set(s.pkg, set)
    }
    for (const sym of s.symbols) set.add(sym)
  }
  return index
}

/** What the comparison says about one finding. */
export interface ReachVerdict {
  reachable: boolean
  /** `pkg.Symbol` (or the package, for a whole-package entry) found present, sorted; empty when unreachable */
  present: string[]
  /** import entries left out because the target is another one (`goos`/`goarch`), as `path (goos …)` */
  otherTargets: string[]
}

/** The target an executable was built for (its `GOOS` / `GOARCH` build settings), when known. */
export interface GoTarget {
  goos?: string | undefined
  goarch?: string | undefined
}

function forOtherTarget(e: GoVulnImport, target: GoTarget): boolean {
  if (e.goos.length > 0 && target.goos !== undefined && !e.goos.includes(target.goos)) return true
  if (e.goarch.length > 0 && target.goarch !== undefined && !e.goarch.includes(target.goarch)) return true
  return false
}

/**
 * An executable: the vulnerable code is reachable when one of its symbols (or, for an entry without
 * symbols, any function of its package) is among the executable's functions. An entry for another
 * target (the executable's GOOS/GOARCH is known and not listed) cannot be in it.
 */
export function binaryVerdict(
  imports: readonly GoVulnImport[],
  index: GoSymbolIndex,
  target: GoTarget,
): ReachVerdict {
  const present = new Set<string>()
  const otherTargets: string[] = []
  for (const e of imports) {
    if (forOtherTarget(e, target)) {
      otherTargets.push(`${e.path} (${[...e.goos, ...e.goarch].join(', ')})`)
      continue
    }
    const have = index.get(e.path)
    if (have === undefined) continue
    if (e.symbols.length === 0) present.add(e.path)
    else for (const s of e.symbols) if (have.has(s)) present.add(`${e.path}.${s}`)
  }
  const list = [...present].sort()
  return { reachable: list.length > 0, present: list, otherTargets: [...new Set(otherTargets)].sort() }
}

/**
 * Source: the vulnerable code is reachable when its package is in the program's import graph (symbols
 * are not followed from source: an imported package counts whole). The build target is not known, so
 * `goos`/`goarch` never rule an entry out.
 */
export function sourceVerdict(imports: readonly GoVulnImport[], packages: ReadonlySet<string>): ReachVerdict {
  const present = [...new Set(imports.filter((e) => packages.has(e.path)).map((e) => e.path))].sort()
  return { reachable: present.length > 0, present, otherTargets: [] }
}
