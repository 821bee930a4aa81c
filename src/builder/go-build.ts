/**
 * A Go build (`toolchain.go`): go.sum's modules prefetched and verified into detbuild's module cache
 * (no module code runs: detbuild fetches and hashes, the go command is not run for it), a private copy
 * of them seeded into each run's own module cache, and the environment every command gets: no module
 * proxy (`GOPROXY=off`), `GOFLAGS=-mod=readonly -trimpath -buildvcs=…`, `CGO_ENABLED=0` unless the config
 * lets the host's value through, `GOTOOLCHAIN=local`, GOPATH, GOMODCACHE and GOCACHE under the run's HOME.
 */
import { cp, mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import type { BuildConfig } from '../config/index.ts'
import { modulePathProblem, parseGoSumLines, prefetchModules, versionProblem } from '../ecosystems/index.ts'
import { InputError } from '../errors.ts'
import { sha256Hex } from '../util/digest.ts'
import { withoutCredentials } from '../util/redact.ts'
import { compareCodePoint } from '../util/sort.ts'
import type { SourceInfo } from './stage.ts'

/** Where a pinned GOROOT is in the build room (read-only). */
export const ROOM_GOROOT = '/build/toolchain/go'

/** The Go variables detbuild sets for a Go build (recorded in build.json's fixed environment). */
export const GO_ENV_NAMES = [
  'CGO_ENABLED',
  'GOCACHE',
  'GOENV',
  'GOFLAGS',
  'GOMODCACHE',
  'GOPATH',
  'GOPROXY',
  'GOSUMDB',
  'GOTOOLCHAIN',
] as const

/** One module of go.sum, as the provenance lists it. */
export interface GoModuleRecord {
  path: string
  version: string
  h1?: string
  goModH1?: string
  zipSha256?: string
  /**
   * a vendored module (vendor/modules.txt): the sha256 of the list `<sha256>  <file>` of its vendored
   * files (Go's dirhash format over vendor/<package>/* of each of its packages), which is what the build
   * compiled; go.sum's h1: covers the whole module, which vendoring prunes, so it cannot be checked
   */
  vendoredFilesSha256?: string
  /** `=> <path> <version>` or `=> <directory>` of a vendored module replaced in go.mod */
  replacedBy?: string
}

export interface GoPrefetched {
  /** go.sum (relative to the project) and its sha256; null when the module has no go.sum (no dependencies) */
  goSum: { file: string; sha256: string } | null
  /** vendor/modules.txt and its sha256 when the module is vendored (the build runs with -mod=vendor) */
  vendor: { file: string; sha256: string } | null
  modules: GoModuleRecord[]
  /** modules fetched from the proxy now (the others were in the cache and verified again) */
  fetched: number
}

/** One module of vendor/modules.txt: `# path version [=> replacement]`, then its packages. */
export interface VendoredModule {
  path: string
  version: string
  replacedBy: string | null
  packages: string[]
}

/**
 * Pure: vendor/modules.txt as `go mod vendor` writes it (`# <module> <version>`, `# <module> <version> =>
 * <path> <version>`, `# <module> => <dir>`, `## explicit[; go 1.x]` markers, then one package per line).
 * Anything else is exit 2 GO_VENDOR_INVALID naming the line.
 */
export function parseVendorModules(text: string, file: string): VendoredModule[] {
  const out: VendoredModule[] = []
  const lines = text.split('\n')
  for (const [i, raw] of lines.entries()) {
    const line = raw.trimEnd()
    const bad = (why: string) =>
      new InputError('GO_VENDOR_INVALID', `${file}:${i + 1}: ${why}`, { file, details: { line: i + 1 } })
    if (line === '' || line.startsWith('## ')) continue
    if (line.startsWith('# ')) {
      const [left, right] = line.slice(2).split(' => ') as [string, string | undefined]
      const f = left.trim().split(/\s+/)
      if (f.length > 2 || f[0] === '' || (right !== undefined && right.trim() === ''))
        throw bad(`not a module line: ${JSON.stringify(line.slice(0, 200))}`)
      const [mod, version] = f as [string, string | undefined]
      if (modulePathProblem(mod)) throw bad(`${JSON.stringify(mod)}: ${modulePathProblem(mod)}`)
      if (version === undefined && right === undefined) throw bad(`${mod} has no version`)
      if (version !== undefined && versionProblem(version))
        throw bad(`${mod} ${version}: ${versionProblem(version)}`)
      out.push({ path: mod, version: version ?? '', replacedBy: right?.trim() ?? null, packages: [] })
      continue
    }
    const current = out.at(-1)
    if (
      !current ||
      line.startsWith('#') ||
      /\s/.test(line) ||
      line.split('/').some((s) => s === '' || s === '.' || s === '..')
    )
      throw bad(`not a package of a module: ${JSON.stringify(line.slice(0, 200))}`)
    current.packages.push(line)
  }
  return out
}

/**
 * The vendored modules as the provenance lists them, each with the digest of its vendored files (read
 * from the project's staged files); a module line with no version (a directory replacement) keeps ''.
 */
async function vendoredRecords(
  cwd: string,
  files: readonly string[],
  text: string,
): Promise<GoModuleRecord[]> {
  const modules = parseVendorModules(text, 'vendor/modules.txt')
  const byDir = new Map<string, string[]>()
  for (const f of files) {
    if (!f.startsWith('vendor/')) continue
    const dir = f.slice(0, f.lastIndexOf('/'))
    const list = byDir.get(dir) ?? []
    list.push(f)
    byDir.set(dir, list)
  }
  const out: GoModuleRecord[] = []
  for (const m of modules) {
    const lines: string[] = []
    for (const pkg of [...m.packages].sort(compareCodePoint))
      for (const f of byDir.get(`vendor/${pkg}`) ?? [])
        lines.push(
          `${sha256Hex(await readFile(path.join(cwd, ...f.split('/'))))}  ${f.slice('vendor/'.length)}\n`,
        )
    out.push({
      path: m.path,
      version: m.version,
      ...(m.packages.length > 0
        ? { vendoredFilesSha256: sha256Hex(lines.sort(compareCodePoint).join('')) }
        : {}),
      ...(m.replacedBy ? { replacedBy: m.replacedBy } : {}),
    })
  }
  return out
}

/**
 * go.sum's modules, verified into `<cacheDir>/go/mod` and copied (the verified bytes) into `seed`.
 * A go.mod without go.sum has no dependency to fetch.
 */
export async function prefetchGoModules(
  source: SourceInfo,
  cwd: string,
  cacheDir: string,
  seed: string,
  proxy: string,
): Promise<GoPrefetched> {
  await mkdir(seed, { recursive: true })
  const sum = source.files.includes('go.sum') ? await readFile(path.join(cwd, 'go.sum')) : null
  const goSum = sum ? { file: 'go.sum', sha256: sha256Hex(sum) } : null
  // a vendored module builds from vendor/ (-mod=vendor, as the go command does by default): nothing to fetch
  if (source.files.includes(VENDOR_MODULES)) {
    const text = await readFile(path.join(cwd, 'vendor', 'modules.txt'))
    const modules = await vendoredRecords(cwd, source.files, text.toString('utf8'))
    return { goSum, vendor: { file: VENDOR_MODULES, sha256: sha256Hex(text) }, modules, fetched: 0 }
  }
  if (!sum) return { goSum: null, vendor: null, modules: [], fetched: 0 }
  const lines = parseGoSumLines(sum.toString('utf8'), 'go.sum')
  const got = await prefetchModules(lines, path.join(cacheDir, 'go', 'mod'), proxy, 'go.sum', seed)
  return { goSum, vendor: null, modules: got.modules, fetched: got.fetched }
}

const VENDOR_MODULES = 'vendor/modules.txt'

/** A run's own module cache: a copy of the verified modules under its HOME (`$HOME/go/pkg/mod`). */
export async function seedRunModCache(seed: string, home: string): Promise<void> {
  const target = path.join(home, 'go', 'pkg', 'mod')
  await mkdir(target, { recursive: true })
  await cp(seed, target, { recursive: true })
}

/**
 * The Go environment of every command. `home` is the HOME the commands see (the room's, or the run's
 * host folder when unsealed). `CGO_ENABLED` is 0 unless the config's `env` lets the host's value
 * through; the module and toolchain settings are always detbuild's (a name in `env` does not change them).
 */
export function toGoEnv(input: {
  home: string
  config: BuildConfig
  env: Readonly<Record<string, string>>
  /** the module proxy for a build allowed on the network; null: GOPROXY=off */
  proxy: string | null
  /** vendor/modules.txt is staged: the build compiles vendor/ (-mod=vendor) */
  vendored?: boolean
}): Record<string, string> {
  const { home, config } = input
  const gopath = `${home}/go`
  const out: Record<string, string> = {
    GOPATH: gopath,
    GOMODCACHE: `${gopath}/pkg/mod`,
    GOCACHE: `${home}/.cache/go-build`,
    // no go env file of the host or of HOME changes a setting
    GOENV: 'off',
    GOTOOLCHAIN: 'local',
    // online, a proxy URL's credentials reach build code only when the config passes GOPROXY on purpose
    GOPROXY:
      input.proxy === null
        ? 'off'
        : config.secretEnv.includes('GOPROXY')
          ? input.proxy
          : withoutCredentials(input.proxy),
    // go.sum is the authority: every module the build needs is in it (-mod=readonly refuses a missing
    // line), so the checksum database has nothing to add, and it cannot be reached anyway
    GOSUMDB: 'off',
    // -modcacherw: the run's module cache can be removed after the build (Go makes it read-only)
    GOFLAGS: `-mod=${input.vendored ? 'vendor' : 'readonly'} -trimpath -modcacherw -buildvcs=${config.git ? 'true' : 'false'}`,
    CGO_ENABLED: config.env.includes('CGO_ENABLED') && input.env.CGO_ENABLED ? input.env.CGO_ENABLED : '0',
  }
  return out
}
