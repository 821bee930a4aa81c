/**
 * Edge (network, files): what the npm registry says about package versions (author, the account that
 * published them, description, links, licence) for `sbom --supplier registry`, fetched with pacote
 * (`manifest(name@version)`, full metadata: the corgi document has no author or publisher) and kept
 * on disk under `<cache root>/registry-metadata/`.
 *
 * The registry is the user's: `npm_config_registry`, else the project's `.npmrc`, else `~/.npmrc`
 * (`registry=`, `@scope:registry=`, `//host/path/:_authToken=`, `${VAR}` expanded from the environment
 * the step sees), else registry.npmjs.org. A token goes only into pacote's options: outputs record the
 * registry URL without credentials.
 *
 * What a registry sends and what the cache holds are hostile. A reply is used only when it is the
 * version asked for and its integrity is the lockfile's (pacote refuses a mismatch, EINTEGRITY; this file
 * checks again); fields are shape-checked and a field longer than {@link MAX_FIELD} characters of JSON
 * is dropped. A cache entry is named by a hash of (registry, name, version), never by what a server sent,
 * carries the sha256 of its facts, is sealed (util/cache-seal.ts: an HMAC under a key kept outside the
 * cache, so facts someone else wrote into the folder are not used), and is checked again on every read
 * (seal, format, registry, name, version, digest, shape, canonical form); anything that does not hold is
 * ignored (fetched again, or a gap offline). pacote's own HTTP cache lives in a temporary folder for the
 * run only: a packument planted in a cache folder never answers. Once cached, a version's facts are not
 * fetched again: a published version's metadata does not change, and the same cache gives the same SBOM
 * (its digest is recorded in the SBOM).
 *
 * Gaps (a version the registry does not have, a refused reply, a cold cache offline) leave that
 * version's supplier unknown and are listed; a registry that cannot be asked at all (network, 5xx,
 * 429, 401/403) is SBOM_REGISTRY_UNAVAILABLE (exit 3): that run could not look.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import ssri from 'ssri'
import { IncompleteError } from '../../errors.ts'
import { type CacheSeal, openCacheSeal } from '../../util/cache-seal.ts'
import { canonicalJson } from '../../util/canonical-json.ts'
import { sha256Hex } from '../../util/digest.ts'
import { writeFileAtomic } from '../../util/fs.ts'
import { redactSecrets } from '../../util/redact.ts'
import type {
  RegistryMetadata,
  RegistryMetadataOptions,
  RegistryPackage,
  RegistryPackageFacts,
} from '../ecosystem.ts'
import type { Manifest } from '../inventory.ts'
import { assertPackageJsonShape } from './input-shapes.ts'

const DEFAULT_REGISTRY = 'https://registry.npmjs.org/'
const FORMAT = 'detbuild-npm-registry-metadata/2'
/** The most characters of JSON one manifest field may take (a description of megabytes is dropped). */
const MAX_FIELD = 16 * 1024
/** Requests in flight at once. */
const CONCURRENCY = 8
/** The largest cache entry read. */
const MAX_ENTRY_BYTES = 256 * 1024
const FIELDS = ['description', 'license', 'licenses', 'author', 'repository', 'homepage', 'bugs'] as const

type Env = RegistryMetadataOptions['env']

/** The registry settings npm would use for this project. */
export interface NpmRegistryConfig {
  /** the default registry, with a trailing slash */
  registry: string
  /** `@scope` → registry URL */
  scopes: Record<string, string>
  /** pacote / npm-registry-fetch options: `//host/path/:_authToken` and the like */
  auth: Record<string, string>
}

/** `${VAR}` references expanded from `env`; undefined when one is not set (the setting is then left out). */
function expand(value: string, env: Env): string | undefined {
  let missing = false
  const out = value.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
    const v = env[name]
    if (v === undefined) missing = true
    return v ?? ''
  })
  return missing ? undefined : out
}

const AUTH_KEY = /^(\/\/[^\s]+):(_authToken|_auth|username|_password)$/

/**
 * Pure: npm's registry settings from `.npmrc` texts (the project's first, then the user's) and the
 * environment (`npm_config_*` wins, as in npm). Only registry, scoped registry and auth settings are read.
 */
export function toNpmRegistryConfig(npmrcs: ReadonlyArray<string | null>, env: Env): NpmRegistryConfig {
  const settings = new Map<string, string>()
  // the lowest precedence first: later files and the environment overwrite
  for (const text of [...npmrcs].reverse()) {
    if (text === null) continue
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim()
      if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
      const eq = line.indexOf('=')
      if (eq < 0) continue
      const key = line.slice(0, eq).trim()
      let value = line.slice(eq + 1).trim()
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
      const expanded = expand(value, env)
      if (expanded !== undefined) settings.set(key, expanded)
    }
  }
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue
    const m = /^npm_config_(.+)$/i.exec(name)
    if (!m) continue
    const key = m[1]!
    if (key.toLowerCase() === 'registry') settings.set('registry', value)
    else if (AUTH_KEY.test(key) || /^@[^:]+:registry$/.test(key)) settings.set(key, value)
  }
  const withSlash = (u: string) => (u.endsWith('/') ? u : `${u}/`)
  const isHttp = (u: string) => /^https?:\/\//i.test(u)
  const registry = settings.get('registry')
  const out: NpmRegistryConfig = {
    registry: registry && isHttp(registry) ? withSlash(registry) : DEFAULT_REGISTRY,
    scopes: {},
    auth: {},
  }
  for (const [key, value] of settings) {
    const scope = /^(@[^:]+):registry$/.exec(key)
    if (scope && isHttp(value)) out.scopes[scope[1]!] = withSlash(value)
    else if (AUTH_KEY.test(key)) out.auth[key] = value
  }
  return out
}

/** A registry URL without credentials, for files and messages. */
export function publicRegistryUrl(url: string): string {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    u.search = ''
    return u.toString()
  } catch {
    return redactSecrets(url)
  }
}

/** The registry a package is fetched from (its scope's, else the default). */
function registryFor(config: NpmRegistryConfig, name: string): string {
  const scope = name.startsWith('@') ? name.slice(0, name.indexOf('/')) : ''
  return config.scopes[scope] ?? config.registry
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** The facts as cached and recorded: canonical JSON, the same bytes for the same data. */
interface CheckedFacts {
  facts: RegistryPackageFacts
  /** canonical JSON of {name, version, integrity, publisher, manifest} */
  text: string
}

/**
 * Pure: a registry manifest (or a cache entry's facts) reduced to what an SBOM uses and checked; a
 * reason when it cannot be used for `want`.
 */
export function toCheckedFacts(raw: unknown, want: RegistryPackage): CheckedFacts | { refused: string } {
  if (!isObject(raw)) return { refused: 'not a JSON object' }
  if (raw.name !== want.name || raw.version !== want.version)
    return {
      refused: `it describes ${JSON.stringify(String(raw.name).slice(0, 80))}@${JSON.stringify(String(raw.version).slice(0, 40))}`,
    }
  const source = isObject(raw.manifest) ? raw.manifest : raw
  const manifest: Record<string, unknown> = {}
  for (const f of FIELDS) {
    const v = source[f]
    if (v === undefined || v === null) continue
    if (JSON.stringify(v).length > MAX_FIELD) continue
    manifest[f] = v
  }
  try {
    assertPackageJsonShape(manifest, 'registry metadata')
  } catch (e) {
    return { refused: (e as Error).message }
  }
  for (const f of FIELDS) {
    const v = manifest[f]
    if (v === undefined) continue
    const ok =
      f === 'licenses'
        ? Array.isArray(v)
        : f === 'author'
          ? typeof v === 'string' || (isObject(v) && typeof v.name === 'string')
          : f === 'description' || f === 'license' || f === 'homepage'
            ? typeof v === 'string'
            : typeof v === 'string' || isObject(v)
    if (!ok) return { refused: `${f} has the wrong type (${Array.isArray(v) ? 'array' : typeof v})` }
  }
  let integrity: string | undefined
  const dist = isObject(raw.dist) ? raw.dist : undefined
  const given = typeof raw.integrity === 'string' ? raw.integrity : dist?.integrity
  if (typeof given === 'string') integrity = given
  else if (typeof dist?.shasum === 'string' && /^[0-9a-f]{40}$/i.test(dist.shasum))
    integrity = ssri.fromHex(dist.shasum, 'sha1').toString()
  if (want.integrity) {
    if (integrity === undefined) return { refused: 'it has no integrity to compare with the lockfile' }
    const mine = ssri.parse(want.integrity)
    const theirs = ssri.parse(integrity)
    if (!mine || !theirs || !mine.match(theirs))
      return { refused: "its integrity is not the lockfile's (another tarball)" }
  }
  const user = raw._npmUser ?? raw.publisher
  const publisher = isObject(user) ? user.name : user
  const facts: RegistryPackageFacts = {
    manifest: manifest as Manifest,
    ...(typeof publisher === 'string' && publisher.trim() && publisher.length <= 214
      ? { publisher: publisher.trim() }
      : {}),
  }
  const text = canonicalJson({
    name: want.name,
    version: want.version,
    ...(integrity === undefined ? {} : { integrity }),
    ...(facts.publisher === undefined ? {} : { publisher: facts.publisher }),
    manifest,
  })
  return { facts, text }
}

interface CacheEntry {
  format: typeof FORMAT
  registry: string
  name: string
  version: string
  /** sha256 of `facts` (UTF-8) */
  sha256: string
  /** canonical JSON of the checked facts */
  facts: string
}

function entryFile(dir: string, registry: string, p: RegistryPackage): string {
  return path.join(dir, `${sha256Hex(`${registry}\u0000${p.name}\u0000${p.version}`)}.json`)
}

async function readEntry(
  dir: string,
  registry: string,
  p: RegistryPackage,
  seal: CacheSeal,
): Promise<CheckedFacts | 'absent' | 'refused'> {
  let text: string
  try {
    const bytes = await readFile(entryFile(dir, registry, p))
    if (bytes.length > MAX_ENTRY_BYTES) return 'refused'
    text = bytes.toString('utf8')
  } catch {
    return 'absent'
  }
  try {
    const body = seal.unwrap(text)
    if (body === null) return 'refused'
    const e = JSON.parse(body) as Partial<CacheEntry>
    if (e.format !== FORMAT || e.registry !== registry || e.name !== p.name || e.version !== p.version)
      return 'refused'
    if (typeof e.facts !== 'string' || e.sha256 !== sha256Hex(e.facts)) return 'refused'
    const checked = toCheckedFacts(JSON.parse(e.facts), p)
    if ('refused' in checked || checked.text !== e.facts) return 'refused'
    return checked
  } catch {
    return 'refused'
  }
}

async function writeEntry(
  dir: string,
  registry: string,
  p: RegistryPackage,
  checked: CheckedFacts,
  seal: CacheSeal,
) {
  const entry: CacheEntry = {
    format: FORMAT,
    registry,
    name: p.name,
    version: p.version,
    sha256: sha256Hex(checked.text),
    facts: checked.text,
  }
  // a cache that cannot be written costs a fetch next time, nothing else
  await writeFileAtomic(entryFile(dir, registry, p), seal.wrap(JSON.stringify(entry))).catch(() => {})
}

/** Error codes and statuses that mean the registry could not be asked (rather than a reply about the package). */
function unavailable(e: NodeJS.ErrnoException & { statusCode?: number; type?: string }): boolean {
  const status = e.statusCode
  if (status === 401 || status === 403 || status === 429 || (status !== undefined && status >= 500))
    return true
  if (e.type === 'system' || e.type === 'request-timeout' || e.type === 'body-timeout') return true
  return /^(ECONN|ETIMEDOUT|ENOTFOUND|EAI_|EHOST|ENET|EPIPE|ERR_SOCKET|ECONNRESET|UNABLE_TO|CERT_|DEPTH_ZERO|SELF_SIGNED)/.test(
    e.code ?? '',
  )
}

async function readNpmrc(file: string): Promise<string | null> {
  try {
    const text = await readFile(file, 'utf8')
    return text.length > MAX_ENTRY_BYTES ? null : text
  } catch {
    return null
  }
}

/** The registry metadata of `packages` (sorted, unique): see the file's comment. */
export async function readNpmRegistryMetadata(
  packages: readonly RegistryPackage[],
  options: RegistryMetadataOptions,
): Promise<RegistryMetadata> {
  const { env } = options
  const config = toNpmRegistryConfig(
    [
      await readNpmrc(path.join(options.projectDir, '.npmrc')),
      env.HOME ? await readNpmrc(path.join(env.HOME, '.npmrc')) : null,
    ],
    env,
  )
  const dir = options.cacheDir
  const seal = await openCacheSeal(env)
  /** pacote's HTTP cache, made when the first fetch needs it and removed at the end */
  let httpCache: Promise<string> | undefined
  const httpCacheDir = (): Promise<string> => {
    httpCache ??= mkdtemp(path.join(os.tmpdir(), 'detbuild-registry-'))
    return httpCache
  }
  const results: Array<CheckedFacts | { gap: string }> = new Array(packages.length)
  let fetched = 0
  let cached = 0
  let failure: { error: Error; registry: string } | undefined
  const packumentCache = new Map()
  let pacote: typeof import('pacote') | undefined
  const proxy = env.npm_config_https_proxy ?? env.HTTPS_PROXY ?? env.https_proxy ?? env.npm_config_proxy
  const noProxy = env.npm_config_noproxy ?? env.NO_PROXY ?? env.no_proxy

  const one = async (i: number) => {
    const p = packages[i]!
    const registryUrl = registryFor(config, p.name)
    const registry = publicRegistryUrl(registryUrl)
    const hit = await readEntry(dir, registry, p, seal)
    if (hit !== 'absent' && hit !== 'refused') {
      cached++
      results[i] = hit
      return
    }
    if (options.offline) {
      results[i] = {
        gap: `${p.name}@${p.version}: ${hit === 'refused' ? 'the cached registry metadata is damaged' : 'no cached registry metadata'} (offline)`,
      }
      return
    }
    if (failure) return
    pacote ??= (await import('pacote')).default as unknown as typeof import('pacote')
    let manifest: unknown
    try {
      manifest = await pacote.manifest(`${p.name}@${p.version}`, {
        ...config.auth,
        registry: config.registry,
        ...Object.fromEntries(Object.entries(config.scopes).map(([s, u]) => [`${s}:registry`, u])),
        fullMetadata: true,
        packumentCache,
        cache: await httpCacheDir(),
        preferOnline: false,
        timeout: 30_000,
        retry: { retries: 1, minTimeout: 200, maxTimeout: 1000 },
        ...(p.integrity ? { integrity: p.integrity } : {}),
        ...(proxy ? { proxy } : {}),
        ...(noProxy ? { noProxy } : {}),
      } as never)
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { statusCode?: number; type?: string }
      if (unavailable(err)) {
        failure ??= { error: err, registry }
        return
      }
      const why =
        err.statusCode === 404 || err.code === 'E404' || err.code === 'E410'
          ? 'not in the registry'
          : err.code === 'ETARGET'
            ? 'the registry has no such version'
            : err.code === 'EINTEGRITY'
              ? "refused: the registry's integrity is not the lockfile's"
              : `refused: ${redactSecrets(err.message).slice(0, 200)}`
      results[i] = { gap: `${p.name}@${p.version}: ${why} (${registry})` }
      return
    }
    const checked = toCheckedFacts(manifest, p)
    if ('refused' in checked) {
      results[i] = { gap: `${p.name}@${p.version}: the registry's metadata is refused: ${checked.refused}` }
      return
    }
    fetched++
    results[i] = checked
    await writeEntry(dir, registry, p, checked, seal)
  }

  let next = 0
  const worker = async () => {
    while (next < packages.length) await one(next++)
  }
  try {
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, packages.length) }, worker))
  } finally {
    await httpCache?.then(
      (d) => rm(d, { recursive: true, force: true }),
      () => {},
    )
  }
  if (failure) {
    const e = failure.error as NodeJS.ErrnoException & { statusCode?: number }
    const what = e.statusCode ? `HTTP ${e.statusCode}` : (e.code ?? 'error')
    throw new IncompleteError(
      'SBOM_REGISTRY_UNAVAILABLE',
      `--supplier registry: cannot ask ${failure.registry} (${what}: ${redactSecrets(e.message).slice(0, 200)})`,
      { cause: e },
    )
  }
  const byPackage = new Map<string, RegistryPackageFacts>()
  const gaps: string[] = []
  const used: Array<[string, string]> = []
  packages.forEach((p, i) => {
    const r = results[i]!
    if ('gap' in r) gaps.push(r.gap)
    else {
      byPackage.set(`${p.name}@${p.version}`, r.facts)
      used.push([`${p.name}@${p.version}`, sha256Hex(r.text)])
    }
  })
  return {
    registry: publicRegistryUrl(config.registry),
    byPackage,
    digest: sha256Hex(canonicalJson(used)),
    fetched,
    cached,
    gaps,
  }
}
