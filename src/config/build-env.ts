/**
 * Edge: the parts of the host environment a build reads — SOURCE_DATE_EPOCH, the registry, the cache
 * folder — resolved once into plain data.
 */
import os from 'node:os'
import path from 'node:path'
import { InputError } from '../errors.ts'

export interface BuildHostSettings {
  /** SOURCE_DATE_EPOCH from the environment, when set */
  sourceDateEpoch: number | undefined
  /** registry for toolchain packages (npm_config_registry, default the public registry) */
  registry: string
  /** detbuild's cache folder (toolchains, npm cache) */
  cacheDir: string
}

export const DEFAULT_REGISTRY = 'https://registry.npmjs.org/'

export function parseSourceDateEpoch(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined
  if (!/^\d{1,12}$/.test(value))
    throw new InputError(
      'BUILD_SOURCE_DATE_EPOCH_INVALID',
      `SOURCE_DATE_EPOCH must be a non-negative integer, got "${value}"`,
    )
  return Number(value)
}

/** `--cache-dir`, else $XDG_CACHE_HOME/detbuild, else ~/.cache/detbuild. */
export function resolveCacheDir(env: NodeJS.ProcessEnv, cwd: string, flag?: string): string {
  if (flag) return path.resolve(cwd, flag)
  const xdg = env.XDG_CACHE_HOME
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'detbuild')
  return path.join(env.HOME || os.homedir(), '.cache', 'detbuild')
}

export function resolveBuildHostSettings(
  env: NodeJS.ProcessEnv,
  cwd: string,
  flags: { cacheDir?: string; registry?: string } = {},
): BuildHostSettings {
  const registry = flags.registry ?? env.npm_config_registry ?? env.NPM_CONFIG_REGISTRY ?? DEFAULT_REGISTRY
  return {
    sourceDateEpoch: parseSourceDateEpoch(env.SOURCE_DATE_EPOCH),
    registry: registry.endsWith('/') ? registry : `${registry}/`,
    cacheDir: resolveCacheDir(env, cwd, flags.cacheDir),
  }
}
