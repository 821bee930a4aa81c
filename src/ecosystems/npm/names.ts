/**
 * Pure: npm package names as npm spells them, read from SBOM components and purls (npm names are
 * case-sensitive; the npm purl type lowercased them for years).
 */

/** The package name an install path holds (`node_modules/a/node_modules/@s/b` → `@s/b`). */
export function nameFromInstallPath(installPath: string): string {
  const i = installPath.lastIndexOf('node_modules/')
  return i === -1 ? installPath : installPath.slice(i + 'node_modules/'.length)
}

/**
 * The npm name of a component as npm spells it. A purl cannot always say: the npm purl type lowercased
 * names until 2026 (and packageurl-js still does), which turns `JSONStream` into `jsonstream`, another
 * package. So the component's own `name`/`group` come first, then an install path
 * (`node_modules/JSONStream`), each only when it is the purl's package in another letter case (an npm
 * alias installs `bar` under `node_modules/foo`: the path is not the package); then the purl, decoded
 * without changing case. A lowercase name from the purl alone is not exact (`exactName: false`).
 */
export function toNpmName(
  c: { name?: string; group?: string },
  purl: string,
  installPaths: readonly string[],
  /** packageurl-js's reading of the name, for a purl the decoder here cannot read */
  fallback: string,
): { name: string; exactName: boolean } {
  const fromPurl = npmNameFromPurl(purl) ?? fallback
  const same = (n: string): boolean => n.toLowerCase() === fromPurl.toLowerCase()
  const candidates: string[] = []
  if (typeof c.name === 'string' && c.name !== '') {
    const group = typeof c.group === 'string' ? c.group : ''
    // CycloneDX puts the npm scope in `group`, with or without its `@` depending on the tool
    if (group === '') candidates.push(c.name)
    else candidates.push(`${group}/${c.name}`, `@${group}/${c.name}`)
  }
  for (const p of installPaths) candidates.push(nameFromInstallPath(p))
  const exact = candidates.find(same)
  if (exact !== undefined) return { name: exact, exactName: true }
  return { name: fromPurl, exactName: fromPurl !== fromPurl.toLowerCase() }
}

/**
 * `@scope/name` or `name` from an npm purl, percent-decoded as the purl spec says and with its letter
 * case kept (packageurl-js lowercases npm names); null when it is not an npm purl.
 */
export function npmNameFromPurl(purl: string): string | null {
  const m = /^pkg:\/*npm\/([^?#]*)/i.exec(purl)
  if (!m) return null
  const path = m[1]!.replace(/\/+$/, '')
  const slash = path.lastIndexOf('/')
  const last = path.slice(slash + 1)
  const at = last.indexOf('@')
  const rawName = at === -1 ? last : last.slice(0, at)
  const rawNamespace = slash === -1 ? '' : path.slice(0, slash)
  try {
    const name = decodeURIComponent(rawName)
    const namespace = rawNamespace
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s))
      .join('/')
    if (name === '') return null
    return namespace ? `${namespace}/${name}` : name
  } catch {
    return null
  }
}

/**
 * The purl to ask OSV about: the SBOM's (`purl`, without qualifiers), unless it lost the letter case
 * of an npm name the SBOM spells elsewhere (`pkg:npm/jsonstream` for `JSONStream`); then the purl with
 * the exact name, as the npm purl type now requires (names are case-sensitive).
 */
export function npmQueryPurl(purl: string, c: { name: string; version: string; exactName: boolean }): string {
  if (!c.exactName || npmNameFromPurl(purl) === c.name) return purl
  const slash = c.name.lastIndexOf('/')
  const encode = (s: string): string => encodeURIComponent(s)
  const path =
    slash > 0 ? `${encode(c.name.slice(0, slash))}/${encode(c.name.slice(slash + 1))}` : encode(c.name)
  return `pkg:npm/${path}@${encode(c.version)}`
}
