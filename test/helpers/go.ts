/**
 * The pinned Go toolchain (scripts/interop-tools.sh) and the Go executable fixtures (scripts/go-fixtures.sh).
 * Both are made by `./scripts/setup.sh test`; a test that needs one fails loudly when it is missing, never skips.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { repoRoot } from './paths.ts'

/** The pinned `go` binary (GOROOT is found from its path). */
export const GO = path.join(repoRoot, '.tools/interop/go/usr/lib/go-1.26/bin/go')

/** The folder scripts/go-fixtures.sh fills (git-ignored). */
export const GO_FIXTURES = path.join(repoRoot, 'test/fixtures/go/.work')

/** The pinned Go, or a clear error. */
export function goBinary(): string {
  if (!existsSync(GO))
    throw new Error(`no pinned Go at ${GO}: run ./scripts/interop-tools.sh (or ./scripts/setup.sh test)`)
  return GO
}

/** Every fixture executable (paths relative to GO_FIXTURES), or a clear error when they were never made. */
export function goFixtureExecutables(): string[] {
  const manifest = path.join(GO_FIXTURES, 'manifest.txt')
  if (!existsSync(manifest))
    throw new Error(`no Go executable fixtures in ${GO_FIXTURES}: run ./scripts/go-fixtures.sh`)
  const list = readFileSync(manifest, 'utf8').split('\n').filter(Boolean)
  for (const f of list)
    if (!existsSync(path.join(GO_FIXTURES, f)))
      throw new Error(`the Go fixture ${f} is missing: run ./scripts/go-fixtures.sh`)
  return list
}

/** The environment for running the pinned Go offline on fixtures. */
export function goEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOTOOLCHAIN: 'local',
    GOPROXY: 'off',
    GOFLAGS: '',
    GOENV: 'off',
    GOTELEMETRY: 'off',
  }
}
