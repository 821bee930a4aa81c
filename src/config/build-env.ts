/**
 * The parts of the host environment a build reads — the registry, the build room — resolved into plain
 * data (the source date and the cache folder are the context's: context.ts).
 */
import path from 'node:path'
import { InputError } from '../errors.ts'

export interface BuildHostSettings {
  /** registry for toolchain packages (npm_config_registry, default the public registry) */
  registry: string
  /** detbuild's cache folder (toolchains, npm cache) */
  cacheDir: string
  /** DETBUILD_ROOM: the build room's mechanism; auto picks the first that works */
  room: RoomChoice
  /** DETBUILD_ROOM_MOUNTS: host folders mounted read-only, at the same path, into the build room */
  roomMounts: string[]
}

export const ROOM_CHOICES = ['auto', 'bwrap', 'unshare', 'none'] as const
export type RoomChoice = (typeof ROOM_CHOICES)[number]

/** DETBUILD_ROOM: unset or empty is auto. */
export function parseRoomChoice(value: string | undefined): RoomChoice {
  if (value === undefined || value === '') return 'auto'
  if ((ROOM_CHOICES as readonly string[]).includes(value)) return value as RoomChoice
  throw new InputError(
    'BUILD_ROOM_INVALID',
    `DETBUILD_ROOM must be one of ${ROOM_CHOICES.join(', ')}, got ${JSON.stringify(value)}`,
  )
}

/** Where the room's own layout is: an extra mount may not sit on or under these. */
export const ROOM_RESERVED = [
  '/build',
  '/usr',
  '/bin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/sbin',
  '/etc',
  '/proc',
  '/dev',
]

/**
 * DETBUILD_ROOM_MOUNTS: absolute folders separated by ":", each mounted read-only at its own path in
 * the build room (never one of the room's own paths).
 */
export function parseRoomMounts(value: string | undefined): string[] {
  if (value === undefined || value === '') return []
  const out = new Set<string>()
  for (const item of value.split(':')) {
    const p = path.posix.normalize(item).replace(/(.)\/$/, '$1')
    const reserved = ROOM_RESERVED.find((r) => p === r || p.startsWith(`${r}/`))
    if (!path.posix.isAbsolute(item) || p === '/' || /[\n\0]/.test(p) || reserved !== undefined)
      throw new InputError(
        'BUILD_ROOM_INVALID',
        `DETBUILD_ROOM_MOUNTS: ${JSON.stringify(item)} is not an absolute folder outside the room's own paths (/, ${ROOM_RESERVED.join(', ')})`,
      )
    out.add(p)
  }
  return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

export const DEFAULT_REGISTRY = 'https://registry.npmjs.org/'

/** The build's host settings: `cacheRoot` is the context's (context.ts), the rest from `env`. */
export function resolveBuildHostSettings(
  env: NodeJS.ProcessEnv,
  cacheRoot: string,
  flags: { registry?: string } = {},
): BuildHostSettings {
  const registry = flags.registry ?? env.npm_config_registry ?? env.NPM_CONFIG_REGISTRY ?? DEFAULT_REGISTRY
  return {
    registry: registry.endsWith('/') ? registry : `${registry}/`,
    cacheDir: cacheRoot,
    room: parseRoomChoice(env.DETBUILD_ROOM),
    roomMounts: parseRoomMounts(env.DETBUILD_ROOM_MOUNTS),
  }
}
