/**
 * Go in the scan step: which OSV package names a Go component is matched under (`stdlib` is also
 * matched as `toolchain`), the purl the OSV API is asked about, and symbol-level reachability of each
 * Go finding (ecosystems/go/reachability.ts) against the evidence the project offers: the executable
 * the SBOM read the component from (`detbuild:go:binary`, trusted only when its sha256 is the SBOM's
 * `detbuild:go:binary-sha256`), else the project's Go source (imports-walk.ts). A finding is
 * `not_affected` only on proof; every finding that cannot be analysed stays affected, with the reason.
 */
import { createReadStream } from 'node:fs'
import { readFile, realpath } from 'node:fs/promises'
import path from 'node:path'
import { PackageURL } from 'packageurl-js'
import {
  baseEcosystem,
  binaryVerdict,
  type GoSymbolIndex,
  type GoTarget,
  type GoVulnImport,
  goModModulePath,
  goSemver,
  type ImportWalk,
  sourceVerdict,
  toSymbolIndex,
  toVulnImports,
  type VersionOrder,
  walkImports,
} from '../ecosystems/index.ts'
import { plural } from '../util/plural.ts'
import type { RecordMatch } from './osv-index.ts'
import { matchAffected } from './range-match.ts'
import type { FindingAnalysis, GoFacts, GoReachCode, ScanComponent } from './types.ts'

export const GO_ECOSYSTEM = 'Go'

/** What H2's reader returns (ecosystems/go/binary, contract 1), the part used here. */
export interface GoBinaryRead {
  buildInfo: {
    goVersion: string
    deps: ReadonlyArray<{ path: string; version: string; replace?: { path: string; version: string } }>
    settings: ReadonlyArray<{ key: string; value: string }>
  }
  symbols?: string[]
}

/** Reads a Go executable (null: not one; throws on a damaged one). */
export type GoBinaryReader = (file: string, options: { symbols: true }) => Promise<GoBinaryRead | null>

export const isGoStdlib = (c: Pick<ScanComponent, 'ecosystem' | 'name'>): boolean =>
  c.ecosystem === GO_ECOSYSTEM && c.name === 'stdlib'

/** The OSV package names a component is matched under: the Go release is both `stdlib` and `toolchain`. */
export function matchNames(c: Pick<ScanComponent, 'ecosystem' | 'name'>): string[] {
  return isGoStdlib(c) ? ['stdlib', 'toolchain'] : [c.name]
}

/**
 * The purl the OSV API is asked about for a Go package name at a version: the version as OSV's Go
 * records write it (no `v`; a Go release as semver, `go1.21rc2` → `1.21.0-rc.2`).
 */
export function goQueryPurl(name: string, version: string): string {
  const v = goSemver(version) ?? version
  const slash = name.lastIndexOf('/')
  const purl =
    slash === -1
      ? new PackageURL('golang', undefined, name, v, undefined, undefined)
      : new PackageURL('golang', name.slice(0, slash), name.slice(slash + 1), v, undefined, undefined)
  return purl.toString()
}

/** The Go release a `stdlib` component stands for, spelled `go1.x.y` (GOROOT's VERSION), or null. */
export function goRelease(version: string): string | null {
  if (/^go\d/.test(version)) return version
  return /^\d+\.\d+/.test(version) ? `go${version.replace(/\.0-0$/, '')}` : null
}

type Imports = { imports: GoVulnImport[] } | { code: GoReachCode; detail: string }

/**
 * The vulnerable packages and symbols of a finding's records for this component. Only the Go
 * vulnerability database's own records (`GO-`) list them; every GO- entry covering the version must
 * list them, else the finding cannot be analysed. `toolchain` entries affect the build, not the program.
 */
export function vulnerableImports(
  records: readonly RecordMatch[],
  c: Pick<ScanComponent, 'ecosystem' | 'name' | 'version'>,
  order: VersionOrder,
): Imports {
  const names = matchNames(c)
  const imports: GoVulnImport[] = []
  let covered = 0
  for (const { record } of records) {
    if (!record.id.startsWith('GO-')) continue
    for (const entry of record.affected ?? []) {
      const pkg = entry.package
      if (!pkg || baseEcosystem(pkg.ecosystem) !== GO_ECOSYSTEM || !names.includes(pkg.name)) continue
      if (!matchAffected(entry, c.version, order).affected) continue
      covered++
      if (pkg.name === 'toolchain')
        return {
          code: 'GO_REACH_TOOLCHAIN',
          detail: `${record.id} affects the Go toolchain (the build), not code in the program`,
        }
      const list = toVulnImports(entry.ecosystem_specific)
      if (list === null)
        return {
          code: 'GO_REACH_NO_SYMBOLS',
          detail: `${record.id} lists no vulnerable packages for ${pkg.name}`,
        }
      imports.push(...list)
    }
  }
  if (covered === 0)
    return {
      code: 'GO_REACH_NO_SYMBOLS',
      detail: 'no Go vulnerability database (GO-) record lists the vulnerable packages of this finding',
    }
  return { imports }
}

/** What a component's code can be compared with. */
export type GoEvidence =
  | {
      kind: 'binary'
      file: string
      index: GoSymbolIndex
      functions: number
      target: GoTarget
      buildInfo: GoBinaryRead['buildInfo']
    }
  | { kind: 'source'; walk: ImportWalk }
  | { kind: 'none'; code: GoReachCode; detail: string }

/** Pure: a Go finding's analysis from its records and the component's evidence. */
export function analyseGoFinding(
  records: readonly RecordMatch[],
  c: Pick<ScanComponent, 'ecosystem' | 'name' | 'version'>,
  order: VersionOrder,
  evidence: GoEvidence,
): FindingAnalysis {
  const method = evidence.kind === 'none' ? 'none' : evidence.kind
  const vuln = vulnerableImports(records, c, order)
  if ('code' in vuln) return { state: 'affected', method, code: vuln.code, detail: vuln.detail }
  if (evidence.kind === 'none')
    return { state: 'affected', method, code: evidence.code, detail: evidence.detail }
  const wanted = describe(vuln.imports)
  if (evidence.kind === 'binary') {
    const v = binaryVerdict(vuln.imports, evidence.index, evidence.target)
    if (v.reachable)
      return {
        state: 'affected',
        method,
        code: 'GO_REACH_SYMBOL_PRESENT',
        detail: `${evidence.file} contains ${list(v.present)}`,
        present: v.present,
      }
    const other = v.otherTargets.length > 0 ? `; for another target only: ${list(v.otherTargets)}` : ''
    return {
      state: 'not_affected',
      justification: 'vulnerable_code_not_in_execute_path',
      method,
      detail: `none of the vulnerable symbols (${wanted}) is among the ${plural(evidence.functions, 'function')} of ${evidence.file}${other}`,
    }
  }
  const v = sourceVerdict(vuln.imports, evidence.walk.packages)
  if (v.reachable)
    return {
      state: 'affected',
      method,
      code: 'GO_REACH_PACKAGE_IMPORTED',
      detail: `the program imports ${list(v.present)} (symbols are not followed from source)`,
      present: v.present,
    }
  if (evidence.walk.missing.length > 0)
    return {
      state: 'affected',
      method,
      code: 'GO_REACH_SOURCE_INCOMPLETE',
      detail: `the import graph could not be read in full (${list(evidence.walk.missing, 3)}), so ${wanted} cannot be ruled out`,
    }
  return {
    state: 'not_affected',
    justification: 'vulnerable_code_not_in_execute_path',
    method,
    detail: `no package of the program's import graph (${plural(evidence.walk.packages.size, 'package')}) is a vulnerable one (${wanted})`,
  }
}

function list(items: readonly string[], max = 5): string {
  const shown = items.slice(0, max).join(', ')
  return items.length > max ? `${shown} and ${items.length - max} more` : shown
}

function describe(imports: readonly GoVulnImport[]): string {
  const parts = [
    ...new Set(imports.map((e) => (e.symbols.length === 0 ? e.path : `${e.path}: ${list(e.symbols, 3)}`))),
  ]
  return list(parts.sort(), 3)
}

/** The options the evidence is read with. */
export interface GoEvidenceOptions {
  cwd: string
  env: Readonly<Record<string, string | undefined>>
  reader: GoBinaryReader
}

/**
 * Edge (files): the evidence for each Go component that has findings. An executable is read once
 * however many components name it; the source walk runs once, when a component needs it.
 */
export async function loadGoEvidence(
  components: readonly ScanComponent[],
  all: readonly ScanComponent[],
  o: GoEvidenceOptions,
): Promise<Map<ScanComponent, GoEvidence>> {
  const out = new Map<ScanComponent, GoEvidence>()
  const binaries = new Map<string, Promise<GoEvidence>>()
  let source: Promise<GoEvidence> | null = null
  for (const c of components) {
    const go = c.go ?? {}
    if (go.binary !== undefined) {
      const key = `${go.binary}\u0000${go.binarySha256 ?? ''}\u0000${(go.binaries ?? []).join('\u0000')}`
      let p = binaries.get(key)
      if (p === undefined) {
        p = binaryEvidence(go, o)
        binaries.set(key, p)
      }
      const e = await p
      out.set(c, e.kind === 'binary' ? (moduleMismatch(c, e, go) ?? e) : e)
      continue
    }
    source ??= sourceEvidence(all, o)
    out.set(c, await source)
  }
  return out
}

/** The executable must hold the component at its version (else the SBOM and the file disagree). */
function moduleMismatch(
  c: ScanComponent,
  e: GoEvidence & { kind: 'binary' },
  go: GoFacts,
): GoEvidence | null {
  const info = e.buildInfo
  if (isGoStdlib(c)) {
    const want = go.version ?? goRelease(c.version)
    return want === info.goVersion
      ? null
      : {
          kind: 'none',
          code: 'GO_REACH_BINARY_MISMATCH',
          detail: `${e.file} was built with ${info.goVersion}, the SBOM says ${want ?? c.version}`,
        }
  }
  const held = info.deps.some((d) => {
    const m = d.replace ?? d
    return (d.path === c.name && d.version === c.version) || (m.path === c.name && m.version === c.version)
  })
  return held
    ? null
    : {
        kind: 'none',
        code: 'GO_REACH_BINARY_MISMATCH',
        detail: `${e.file} does not hold ${c.name}@${c.version}`,
      }
}

function unsafeRelative(p: string): boolean {
  return (
    p === '' ||
    p.includes('\0') ||
    p.includes('\\') ||
    p.startsWith('/') ||
    /^[A-Za-z]:/.test(p) ||
    p.split('/').some((s) => s === '..' || s === '')
  )
}

/** Names longer than this are no function names (they bound the text kept from one run of bytes). */
const MAX_NAME = 2048
/** At most this many distinct strings are kept from one executable. */
const MAX_STRINGS = 4_000_000

/**
 * One read of the file: its sha256, and every NUL-terminated run of printable ASCII with a `.` in it.
 * The function-name table (.gopclntab's funcnametab) stores every function's name that way, the names
 * of functions inlined into others included, which the function table alone does not list (a function
 * inlined at every call site has no entry of its own). Any such string counts as present: strings that
 * are no function names can only make more findings affected, never fewer.
 */
async function readExecutable(file: string): Promise<{ sha256: string; strings: Set<string> }> {
  const { createHash } = await import('node:crypto')
  const hash = createHash('sha256')
  const strings = new Set<string>()
  let carry: Buffer = Buffer.alloc(0)
  const take = (b: Buffer, start: number, end: number): void => {
    const n = end - start
    if (n < 3 || n > MAX_NAME || strings.size >= MAX_STRINGS) return
    let dot = false
    for (let i = start; i < end; i++) {
      const c = b[i]!
      if (c < 0x20 || c > 0x7e) return
      if (c === 0x2e) dot = true
    }
    if (dot) strings.add(b.toString('latin1', start, end))
  }
  for await (const raw of createReadStream(file)) {
    const chunk = raw as Buffer
    hash.update(chunk)
    const b = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk
    let start = 0
    for (let nul = b.indexOf(0, start); nul !== -1; nul = b.indexOf(0, start)) {
      take(b, start, nul)
      start = nul + 1
    }
    // a run that goes on past this chunk: kept while it could still be a name
    carry = b.length - start <= MAX_NAME ? Buffer.from(b.subarray(start)) : Buffer.alloc(0)
  }
  return { sha256: hash.digest('hex'), strings }
}

async function binaryEvidence(go: GoFacts, o: GoEvidenceOptions): Promise<GoEvidence> {
  const rel = go.binary!
  const shown = JSON.stringify(rel)
  const none = (code: GoReachCode, detail: string): GoEvidence => ({ kind: 'none', code, detail })
  if (go.binaries !== undefined)
    return none(
      'GO_REACH_BINARY_MISMATCH',
      `the component was read from ${go.binaries.length} executables (${go.binaries.map((b) => JSON.stringify(b)).join(', ')}): the functions of one cannot speak for the others`,
    )
  if (unsafeRelative(rel))
    return none('GO_REACH_BINARY_MISSING', `executable ${shown} is not a path inside the project`)
  if (go.binarySha256 === undefined || !/^[0-9a-f]{64}$/.test(go.binarySha256))
    return none('GO_REACH_BINARY_DIGEST_MISMATCH', `the SBOM records no sha256 for executable ${shown}`)
  let file: string
  try {
    const root = await realpath(o.cwd)
    file = await realpath(path.join(o.cwd, rel))
    if (path.relative(root, file).startsWith('..') || path.isAbsolute(path.relative(root, file)))
      return none('GO_REACH_BINARY_MISSING', `executable ${shown} leads out of the project`)
  } catch {
    return none('GO_REACH_BINARY_MISSING', `executable ${shown} is not in the project`)
  }
  let digest: string
  let strings: Set<string>
  try {
    ;({ sha256: digest, strings } = await readExecutable(file))
  } catch (e) {
    return none('GO_REACH_BINARY_MISSING', `executable ${shown} cannot be read: ${(e as Error).message}`)
  }
  if (digest !== go.binarySha256)
    return none(
      'GO_REACH_BINARY_DIGEST_MISMATCH',
      `executable ${shown} has sha256 ${digest}, the SBOM says ${go.binarySha256}`,
    )
  let read: GoBinaryRead | null
  try {
    read = await o.reader(file, { symbols: true })
  } catch (e) {
    return none('GO_REACH_BINARY_UNREADABLE', `executable ${shown}: ${(e as Error).message.split('\n')[0]}`)
  }
  if (read === null) return none('GO_REACH_BINARY_UNREADABLE', `${shown} is not a Go executable`)
  const symbols = read.symbols ?? []
  if (symbols.length === 0)
    return none('GO_REACH_BINARY_UNREADABLE', `executable ${shown} has no function names (.gopclntab)`)
  // the function table's names, and every name the name table holds (inlined functions too)
  const index = toSymbolIndex([...symbols, ...strings])
  const setting = (k: string) => read.buildInfo.settings.find((s) => s.key === k)?.value
  return {
    kind: 'binary',
    file: rel,
    index,
    functions: symbols.length,
    target: { goos: setting('GOOS'), goarch: setting('GOARCH') },
    buildInfo: read.buildInfo,
  }
}

async function sourceEvidence(all: readonly ScanComponent[], o: GoEvidenceOptions): Promise<GoEvidence> {
  let goMod: string
  try {
    goMod = await readFile(path.join(o.cwd, 'go.mod'), 'utf8')
  } catch {
    return {
      kind: 'none',
      code: 'GO_REACH_NO_EVIDENCE',
      detail: 'neither an executable (detbuild:go:binary) nor the project source (go.mod) to compare with',
    }
  }
  const mainModule = goModModulePath(goMod)
  if (mainModule === null)
    return { kind: 'none', code: 'GO_REACH_NO_EVIDENCE', detail: 'go.mod names no module' }
  const source = all.filter((c) => c.ecosystem === GO_ECOSYSTEM && c.go?.binary === undefined)
  const stdlib = source.find((c) => isGoStdlib(c))
  const walk = await walkImports({
    projectDir: o.cwd,
    mainModule,
    modules: source
      .filter((c) => !isGoStdlib(c) && c.name !== mainModule)
      .map((c) => ({ path: c.name, version: c.version })),
    goVersion: stdlib ? (stdlib.go?.version ?? goRelease(stdlib.version)) : null,
    env: o.env,
  })
  return { kind: 'source', walk }
}
