/**
 * Pure: a `go.sum` file → the `h1:` hash of each module version's file tree (`path version h1:…`) and of
 * its go.mod alone (`path version/go.mod h1:…`), read as the go command reads it: three fields per
 * line, blank lines allowed, anything else malformed (GO_SUM_SYNTAX, exit 2, `go.sum:12: …`).
 *
 * An `h1:` value is SHA-256 over a sorted list of "<sha256 hex>  <file name>" lines (Go's dirhash
 * Hash1), not a digest of any file detbuild has: it is recorded as what it is, never as a plain SHA-256.
 */
import { InputError } from '../../errors.ts'

export interface GoSum {
  /** `path@version` → the h1 of the module's files */
  modules: Map<string, string>
  /** `path@version` → the h1 of the module's go.mod */
  goMods: Map<string, string>
}

/** `h1:` + base64 of 32 bytes (other hash versions are kept as written: Go ignores unknown ones). */
const HASH = /^[a-z0-9]+:[A-Za-z0-9+/]+={0,2}$/
const H1 = /^h1:[A-Za-z0-9+/]{43}=$/

/** One `h1:` line of a go.sum: the module, its version, whether it is the go.mod's hash, and the line. */
export interface GoSumEntry {
  path: string
  version: string
  goMod: boolean
  h1: string
  /** 1-based */
  line: number
}

/**
 * The `h1:` lines of a go.sum in order, checked as the go command reads them (lines with another hash
 * version are kept out: Go ignores them). The one go.sum reader of the tree: the SBOM (`parseGoSum`)
 * and the build's prefetch (module-proxy.ts) both read through it.
 */
export function parseGoSumEntries(text: string, file = 'go.sum'): GoSumEntry[] {
  const out: GoSumEntry[] = []
  const seen = new Map<string, string>()
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const fields = lines[i]!.trim().split(/[ \t]+/)
    if (fields.length === 1 && fields[0] === '') continue
    const where = `${file}:${i + 1}`
    if (fields.length !== 3)
      throw new InputError(
        'GO_SUM_SYNTAX',
        `${where}: malformed go.sum: wrong number of fields ${fields.length}`,
        {
          file,
        },
      )
    const [path, version, hash] = fields as [string, string, string]
    if (!HASH.test(hash) || (hash.startsWith('h1:') && !H1.test(hash)))
      throw new InputError('GO_SUM_SYNTAX', `${where}: malformed go.sum: "${hash}" is not a module hash`, {
        file,
      })
    if (!hash.startsWith('h1:')) continue
    const goMod = version.endsWith('/go.mod')
    const bare = goMod ? version.slice(0, -'/go.mod'.length) : version
    const key = `${path}@${bare}${goMod ? '/go.mod' : ''}`
    const had = seen.get(key)
    if (had !== undefined && had !== hash)
      throw new InputError('GO_SUM_SYNTAX', `${where}: go.sum lists two different hashes for ${key}`, {
        file,
      })
    seen.set(key, hash)
    out.push({ path, version: bare, goMod, h1: hash, line: i + 1 })
  }
  return out
}

export function parseGoSum(text: string, file = 'go.sum'): GoSum {
  const sum: GoSum = { modules: new Map(), goMods: new Map() }
  for (const e of parseGoSumEntries(text, file))
    (e.goMod ? sum.goMods : sum.modules).set(`${e.path}@${e.version}`, e.h1)
  return sum
}
