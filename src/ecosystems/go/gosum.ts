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

export function parseGoSum(text: string, file = 'go.sum'): GoSum {
  const sum: GoSum = { modules: new Map(), goMods: new Map() }
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
    const key = `${path}@${goMod ? version.slice(0, -'/go.mod'.length) : version}`
    const map = goMod ? sum.goMods : sum.modules
    const seen = map.get(key)
    if (seen !== undefined && seen !== hash)
      throw new InputError(
        'GO_SUM_SYNTAX',
        `${where}: go.sum lists two different hashes for ${key}${goMod ? '/go.mod' : ''}`,
        { file },
      )
    map.set(key, hash)
  }
  return sum
}
