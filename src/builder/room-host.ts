/**
 * Edge: what the build room needs from the host — which system folders exist (and which are merged-/usr
 * symlinks), which /etc files, the run's generated /etc files and mount points — and the probe that
 * starts one trivial room to learn which mechanism works here. Nothing is cached on disk.
 */
import { chmod, lstat, mkdir, readFile, readlink, realpath, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { BuildConfig, RoomChoice } from '../config/index.ts'
import { IncompleteError, InternalError } from '../errors.ts'
import type { Isolation } from './manifest.ts'
import {
  DEFAULT_ROOM_OPTIONS,
  ETC_FILES,
  ETC_NETWORK_FILES,
  ROOM_PATHS,
  type RoomLayout,
  type RoomLayoutInput,
  type RoomMechanism,
  type RoomOptions,
  roomOptionsProblem,
  SYSTEM_DIRS,
  type SystemEntry,
  toGeneratedEtc,
  toRoomLayout,
} from './room.ts'
import { findOnPath, probeUnshare, runShell } from './run.ts'

/** Where the room's tools are looked up: fixed, never the caller's PATH. */
const TOOL_PATH = '/usr/bin:/bin:/usr/sbin:/sbin'

/** A mechanism that started a room here. */
export interface RoomRunner {
  mechanism: RoomMechanism
  /** absolute path of bwrap or unshare */
  bin: string
  /** the npm cache is an overlay (writes land in the run's folder); otherwise it is read-only */
  overlay: boolean
}

/** How one command runs in the room (handed to `runShell`). */
export interface RoomCommand {
  runner: RoomRunner
  layout: RoomLayout
  /** an empty host folder the unshare script mounts the room's root on */
  rootMountPoint: string
}

/** The top-level system folders as they are on this host. */
export async function inspectSystem(): Promise<SystemEntry[]> {
  const out: SystemEntry[] = []
  for (const p of SYSTEM_DIRS) {
    try {
      const st = await lstat(p)
      if (st.isSymbolicLink()) {
        const target = await readlink(p)
        // only a merged-/usr link (to a folder the room has) is kept as a link; others are resolved
        if (!target.startsWith('/') || target.startsWith('/usr/'))
          out.push({ path: p, kind: 'symlink', target })
        else out.push({ path: p, kind: 'dir' })
      } else if (st.isDirectory()) out.push({ path: p, kind: 'dir' })
    } catch {}
  }
  return out
}

/** The host /etc files a build needs that exist here, each resolved past symlinks. */
export async function inspectEtc(hostNetwork: boolean): Promise<RoomLayoutInput['etc'][number][]> {
  const out: RoomLayoutInput['etc'][number][] = []
  for (const p of [...ETC_FILES, ...(hostNetwork ? ETC_NETWORK_FILES : [])]) {
    try {
      const real = await realpath(p)
      // /etc/resolv.conf is often a link into /run: the file it names is bound, never /run itself
      const st = await lstat(real)
      if (st.isFile() || st.isDirectory()) out.push({ room: p, host: real, dir: st.isDirectory() })
    } catch {}
  }
  return out
}

/** Writes the run's generated /etc files and makes its mount points; returns their layout parts. */
export async function prepareRoomFolders(
  runRoot: string,
  options: RoomOptions,
  hostNetwork: boolean,
  npmCache: string | null,
  overlay: boolean,
): Promise<{
  generatedEtc: Array<[string, string]>
  rootMountPoint: string
  npmCache: RoomLayoutInput['npmCache']
}> {
  // the options are detbuild's own (defaults, or --check's variations): a bad one is a bug here
  const problem = roomOptionsProblem(options)
  if (problem !== null) throw new InternalError('BUILD_ROOM_OPTIONS_INVALID', problem)
  const etcDir = path.join(runRoot, 'room-etc')
  const rootMountPoint = path.join(runRoot, 'room-root')
  await Promise.all([mkdir(etcDir, { recursive: true }), mkdir(rootMountPoint, { recursive: true })])
  const generatedEtc: Array<[string, string]> = []
  for (const [name, text] of Object.entries(toGeneratedEtc(options, hostNetwork))) {
    const file = path.join(etcDir, name)
    await writeFile(file, text)
    await chmod(file, 0o644)
    generatedEtc.push([`/etc/${name}`, file])
  }
  let cache: RoomLayoutInput['npmCache'] = null
  if (npmCache !== null) {
    await mkdir(npmCache, { recursive: true })
    // overlayfs takes its folders in a comma- and colon-separated option string
    if (overlay && !/[,:\n]/.test(npmCache) && !/[,:\n]/.test(runRoot)) {
      const upper = path.join(runRoot, 'npm-cache-upper')
      const work = path.join(runRoot, 'npm-cache-work')
      await Promise.all([mkdir(upper), mkdir(work)])
      cache = { lower: npmCache, upper, work }
    } else cache = { readOnly: npmCache }
  }
  return { generatedEtc, rootMountPoint, npmCache: cache }
}

/**
 * The room's bin folder: `node` links to the mounted binary, `npm` and `npx` are shims naming the
 * mounted npm package; all by in-room paths, so nothing on PATH names a host folder.
 */
export async function writeRoomBin(dir: string, npm: boolean): Promise<void> {
  await mkdir(dir, { recursive: true })
  await symlink(ROOM_PATHS.node, path.join(dir, 'node'))
  if (!npm) return
  for (const [name, script] of [
    ['npm', 'npm-cli.js'],
    ['npx', 'npx-cli.js'],
  ] as const) {
    const shim = path.join(dir, name)
    await writeFile(shim, `#!/bin/sh\nexec ${ROOM_PATHS.node} ${ROOM_PATHS.npm}/bin/${script} "$@"\n`)
    await chmod(shim, 0o755)
  }
}

async function bwrapHasOverlay(bin: string): Promise<boolean> {
  let help = ''
  await runShell(`${bin} --help`, {
    cwd: '/',
    env: { PATH: TOOL_PATH },
    umask: 0o022,
    unshare: null,
    room: null,
    onOutput: (chunk) => {
      help += chunk
    },
  })
  return help.includes('--overlay-src')
}

/**
 * Starts one trivial room with `mechanism` (with an npm cache overlay when the mechanism can) and
 * checks that it held: the command ran as the room's uid, under its hostname, and wrote where it may.
 * Returns the runner, or why the room could not be made.
 */
export async function probeRoom(
  mechanism: RoomMechanism,
  dir: string,
  hostNetwork: boolean,
  options: RoomOptions,
): Promise<RoomRunner | { why: string }> {
  if (process.platform !== 'linux') return { why: 'the build room needs Linux namespaces' }
  const bin = await findOnPath(mechanism, TOOL_PATH)
  if (!bin) return { why: `${mechanism} is not installed` }
  const overlays = mechanism === 'unshare' || (await bwrapHasOverlay(bin)) ? [true, false] : [false]
  let last = ''
  for (const overlay of overlays) {
    const root = path.join(dir, `${mechanism}-${overlay ? 'overlay' : 'plain'}`)
    const [src, home, tmp, bindir, cache] = ['src', 'home', 'tmp', 'bin', 'cache'].map((n) =>
      path.join(root, n),
    ) as [string, string, string, string, string]
    await Promise.all([src, home, tmp, bindir, cache].map((d) => mkdir(d, { recursive: true })))
    const folders = await prepareRoomFolders(root, options, hostNetwork, cache, overlay)
    const layout = toRoomLayout({
      system: await inspectSystem(),
      etc: await inspectEtc(hostNetwork),
      generatedEtc: folders.generatedEtc,
      src,
      home,
      tmp,
      toolchainBin: bindir,
      nodeBin: '/bin/sh',
      npmRoot: null,
      npmCache: folders.npmCache,
      extra: [],
      hostNetwork,
      options,
    })
    let output = ''
    const code = await runShell(
      `printf '%s %s %s' "$(id -u)" "$(cat /proc/sys/kernel/hostname)" "$(ls /proc | grep -c '^[0-9]')" > ${ROOM_PATHS.src}/probe && : > ${ROOM_PATHS.npmCache}/w`,
      {
        cwd: src,
        env: { PATH: '/usr/bin:/bin' },
        umask: 0o022,
        unshare: null,
        room: { runner: { mechanism, bin, overlay }, layout, rootMountPoint: folders.rootMountPoint },
        onOutput: (chunk) => {
          output += chunk
        },
      },
    ).catch((e: Error) => {
      output += e.message
      return 1
    })
    const wrote = await readFile(path.join(src, 'probe'), 'utf8').catch(() => '')
    // overlay: the write reached the run's layer; read-only: it had to fail
    if (code === 0 && overlay && wrote.startsWith(`${options.uid} ${options.hostname} `))
      return { mechanism, bin, overlay }
    if (code !== 0 && !overlay && wrote.startsWith(`${options.uid} ${options.hostname} `))
      return { mechanism, bin, overlay }
    last = output.trim().split('\n').filter(Boolean).pop() ?? `exit ${code}`
  }
  return { why: `${mechanism}: ${last}` }
}

/** What the build knows about its isolation once the probe ran. */
export interface IsolationProbe {
  isolation: Isolation
  /** the sealed room's mechanism, or null */
  runner: RoomRunner | null
  /** absolute path of `unshare` when only the network is isolated (the room could not be made) */
  unshare: string | null
}

/** The probes `resolveIsolation` runs (tests replace them to play a host without user namespaces). */
export interface IsolationProbes {
  room: typeof probeRoom
  /** `unshare` when a network namespace alone can be made, else null */
  networkOnly: () => Promise<string | null>
}

const HOST_PROBES: IsolationProbes = {
  room: probeRoom,
  networkOnly: async () =>
    process.platform === 'linux' && (await probeUnshare(TOOL_PATH)) ? findOnPath('unshare', TOOL_PATH) : null,
}

const READ_ONLY_CACHE_NOTE =
  'cannot overlay the npm cache (bubblewrap < 0.9): it is read-only, so npm commands that write to their cache (npm pack, npx) fail'

function sealed(network: BuildConfig['network'], runner: RoomRunner): IsolationProbe {
  return {
    isolation: {
      requested: network,
      network: network === 'allow' ? 'allowed' : 'none',
      mechanism: runner.mechanism,
      sealed: true,
      pidNamespace: true,
      extraMounts: [],
      note: runner.overlay ? null : `${runner.mechanism} ${READ_ONLY_CACHE_NOTE}`,
    },
    runner,
    unshare: null,
  }
}

/**
 * Picks the build room's mechanism by starting one trivial room (every build: nothing is cached on
 * disk): bwrap, then unshare; when neither holds, a network namespace alone, then nothing — each
 * weaker outcome with a note. A forced mechanism (DETBUILD_ROOM) that cannot be made is an error
 * (BUILD_ROOM_UNAVAILABLE, exit 3), never a silent downgrade.
 */
export async function resolveIsolation(
  network: BuildConfig['network'],
  choice: RoomChoice,
  probeDir: string,
  probes: IsolationProbes = HOST_PROBES,
): Promise<IsolationProbe> {
  const hostNetwork = network === 'allow'
  const tried: RoomMechanism[] = choice === 'auto' ? ['bwrap', 'unshare'] : choice === 'none' ? [] : [choice]
  const whyNot: string[] = []
  let readOnlyCache: RoomRunner | null = null
  for (const mechanism of tried) {
    const got = await probes.room(mechanism, probeDir, hostNetwork, DEFAULT_ROOM_OPTIONS)
    if ('why' in got) whyNot.push(got.why)
    // a room whose npm cache cannot be an overlay is kept for last: npm pack and npx write their cache
    else if (!got.overlay && mechanism !== tried.at(-1)) readOnlyCache ??= got
    else return sealed(network, got)
  }
  if (readOnlyCache) return sealed(network, readOnlyCache)
  if (choice === 'bwrap' || choice === 'unshare')
    throw new IncompleteError(
      'BUILD_ROOM_UNAVAILABLE',
      `DETBUILD_ROOM=${choice}, but the build room cannot be made with it here (${whyNot.join('; ')})`,
      { details: { mechanism: choice } },
    )
  const why =
    choice === 'none'
      ? 'DETBUILD_ROOM=none'
      : `no sealed room could be made (${whyNot.join('; ')}; user namespaces unavailable or restricted?)`
  const unshare = choice === 'auto' && !hostNetwork ? await probes.networkOnly() : null
  const base = { requested: network, sealed: false, pidNamespace: false, extraMounts: [] }
  if (unshare !== null)
    return {
      isolation: {
        ...base,
        network: 'none',
        mechanism: 'unshare-net',
        note: `${why}: the commands run UNSEALED on the host's filesystem, only without network`,
      },
      runner: null,
      unshare,
    }
  return {
    isolation: {
      ...base,
      network: hostNetwork ? 'allowed' : 'best-effort',
      mechanism: 'none',
      note: `${why}: the commands run UNSEALED on the host${hostNetwork ? '' : ' (npm runs --offline, but the network is reachable)'}`,
    },
    runner: null,
    unshare: null,
  }
}
