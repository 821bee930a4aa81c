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
import { parseGoSumLines, prefetchModules } from '../ecosystems/index.ts'
import { sha256Hex } from '../util/digest.ts'
import { withoutCredentials } from '../util/redact.ts'
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
}

export interface GoPrefetched {
  /** go.sum (relative to the project) and its sha256; null when the module has no go.sum (no dependencies) */
  goSum: { file: string; sha256: string } | null
  modules: GoModuleRecord[]
  /** modules fetched from the proxy now (the others were in the cache and verified again) */
  fetched: number
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
  if (!source.files.includes('go.sum')) return { goSum: null, modules: [], fetched: 0 }
  const bytes = await readFile(path.join(cwd, 'go.sum'))
  const lines = parseGoSumLines(bytes.toString('utf8'), 'go.sum')
  const got = await prefetchModules(lines, path.join(cacheDir, 'go', 'mod'), proxy, 'go.sum', seed)
  return { goSum: { file: 'go.sum', sha256: sha256Hex(bytes) }, modules: got.modules, fetched: got.fetched }
}

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
    GOFLAGS: `-mod=readonly -trimpath -modcacherw -buildvcs=${config.git ? 'true' : 'false'}`,
    CGO_ENABLED: config.env.includes('CGO_ENABLED') && input.env.CGO_ENABLED ? input.env.CGO_ENABLED : '0',
  }
  return out
}
