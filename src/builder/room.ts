/**
 * The build room, pure: the fixed layout every install and build command runs in, and the argv that
 * makes it with bubblewrap (`bwrap`) or with plain util-linux `unshare` + mounts. Inside, the staged
 * source is always /build/src, HOME /build/home, TMPDIR /build/tmp; the toolchain and the npm cache sit
 * at fixed paths; the system's /usr (and /bin, /lib*, /sbin), and only the /etc files a build needs,
 * are read-only; /proc is fresh (own PID namespace), /dev minimal, the hostname and uid fixed. Nothing
 * else of the host is there: no /tmp, /run, home folders, sockets, or other processes.
 */

/** How the room is made. */
export type RoomMechanism = 'bwrap' | 'unshare'

/** What `--check` may vary between two runs of the room. */
export interface RoomOptions {
  /** the room's hostname (own UTS namespace) */
  hostname: string
  /** the build's uid and gid inside the room */
  uid: number
  /** the build user's name in the room's /etc/passwd (HOME /build/home) */
  user: string
}

export const DEFAULT_ROOM_OPTIONS: Readonly<RoomOptions> = Object.freeze({
  hostname: 'detbuild',
  uid: 1000,
  user: 'builder',
})

/** The fixed paths inside the room. */
export const ROOM_PATHS = Object.freeze({
  src: '/build/src',
  home: '/build/home',
  tmp: '/build/tmp',
  toolchain: '/build/toolchain',
  toolchainBin: '/build/toolchain/bin',
  node: '/build/toolchain/node/bin/node',
  npm: '/build/toolchain/npm',
  npmCache: '/build/npm-cache',
  ca: '/build/ca',
})

/** Variables that name a CA file on the host, which a build allowed on the network is given. */
export const ROOM_CA_NAMES = ['NODE_EXTRA_CA_CERTS', 'npm_config_cafile'] as const

/**
 * A build allowed on the network gets the host's private CA files (NODE_EXTRA_CA_CERTS,
 * npm_config_cafile), which name host paths the room does not hold: each is mounted read-only at a fixed
 * path under /build/ca, and the variable names that path instead (no host path reaches the build).
 */
export function withRoomCaFiles(
  layout: RoomLayout,
  env: Readonly<Record<string, string>>,
): { layout: RoomLayout; env: Record<string, string> } {
  const mounts = [...layout.mounts]
  const out = { ...env }
  for (const name of ROOM_CA_NAMES) {
    const host = env[name]
    if (host === undefined || !host.startsWith('/')) continue
    const room = `${ROOM_PATHS.ca}/${name}.pem`
    mounts.push({ kind: 'ro', host, room, file: true })
    out[name] = room
  }
  return { layout: { ...layout, mounts }, env: out }
}

/** One mount of a host path into the room. */
export type RoomMount =
  | { kind: 'ro' | 'rw'; host: string; room: string; file?: boolean }
  /** a writable view whose writes land in `upper` (the run's own folder); `lower` is never changed */
  | { kind: 'overlay'; lower: string; upper: string; work: string; room: string }

export interface RoomLayout {
  mounts: RoomMount[]
  /** symlinks made in the room (merged-/usr systems: /bin -> usr/bin) */
  symlinks: Array<{ room: string; target: string }>
  /** share the host's network (config `network: allow`); otherwise only loopback */
  hostNetwork: boolean
  hostname: string
  uid: number
  cwd: string
}

/** How a top-level system path looks on the host (read at the edge). */
export interface SystemEntry {
  path: string
  kind: 'dir' | 'symlink' | 'file'
  target?: string
}

/** The top-level system folders a build may read. */
export const SYSTEM_DIRS = ['/usr', '/bin', '/lib', '/lib32', '/lib64', '/libx32', '/sbin'] as const

/**
 * The host /etc files a build needs (read-only, each only when present): the dynamic loader's cache,
 * alternatives links, name service switch, and the public CA certificates — never a whole /etc/ssl or
 * /etc/pki, whose `private` folders hold the host's keys. The user database and (network deny) hosts
 * are generated instead: the host's files name who the host's users are.
 */
export const ETC_FILES = [
  '/etc/alternatives',
  '/etc/ca-certificates',
  '/etc/ca-certificates.conf',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/nsswitch.conf',
  '/etc/pki/ca-trust',
  '/etc/pki/tls/cert.pem',
  '/etc/pki/tls/certs',
  '/etc/ssl/cert.pem',
  '/etc/ssl/certs',
  '/etc/ssl/openssl.cnf',
] as const

/** The host /etc files added when the build may use the network. */
export const ETC_NETWORK_FILES = ['/etc/hosts', '/etc/resolv.conf'] as const

export interface RoomLayoutInput {
  system: readonly SystemEntry[]
  /** host /etc paths that exist, resolved past symlinks */
  etc: ReadonlyArray<{ room: string; host: string; dir: boolean }>
  /** generated /etc files of this run (passwd, group, hosts): [room path, host path] */
  generatedEtc: ReadonlyArray<readonly [string, string]>
  src: string
  home: string
  tmp: string
  /** the room's bin folder (shims naming in-room paths), mounted at /build/toolchain/bin */
  toolchainBin: string
  /** the node binary, mounted at /build/toolchain/node/bin/node */
  nodeBin: string
  /** the npm package folder, mounted at /build/toolchain/npm */
  npmRoot: string | null
  /** the prefetched npm cache: an overlay (writes land in the run's folder) or read-only */
  npmCache: { lower: string; upper: string; work: string } | { readOnly: string } | null
  /**
   * extra read-only folders (DETBUILD_ROOM_MOUNTS), each at its own host path: an escape hatch like
   * Bazel's --sandbox_add_mount_pair, for tools the build is told about by path
   */
  extra: readonly string[]
  /**
   * a Go build's GOROOT, read-only: a pinned one at /build/toolchain/go (`room` absent), a system one at
   * its own path (`room` = host path) with the folders its top-level links lead to (`also`)
   */
  goRoot?: { host: string; room: string; also: readonly string[] } | null
  hostNetwork: boolean
  options: RoomOptions
}

/** The room's layout, in mount order (parents before children). */
export function toRoomLayout(input: RoomLayoutInput): RoomLayout {
  const mounts: RoomMount[] = []
  const symlinks: RoomLayout['symlinks'] = []
  for (const entry of input.system) {
    if (entry.kind === 'symlink' && entry.target !== undefined)
      symlinks.push({ room: entry.path, target: entry.target })
    else mounts.push({ kind: 'ro', host: entry.path, room: entry.path, file: entry.kind === 'file' })
  }
  for (const e of input.etc) mounts.push({ kind: 'ro', host: e.host, room: e.room, file: !e.dir })
  for (const [room, host] of input.generatedEtc) mounts.push({ kind: 'ro', host, room, file: true })
  mounts.push({ kind: 'ro', host: input.toolchainBin, room: ROOM_PATHS.toolchainBin })
  mounts.push({ kind: 'ro', host: input.nodeBin, room: ROOM_PATHS.node, file: true })
  if (input.npmRoot !== null) mounts.push({ kind: 'ro', host: input.npmRoot, room: ROOM_PATHS.npm })
  if (input.goRoot) {
    mounts.push({ kind: 'ro', host: input.goRoot.host, room: input.goRoot.room })
    for (const host of input.goRoot.also) mounts.push({ kind: 'ro', host, room: host })
  }
  for (const host of input.extra) mounts.push({ kind: 'ro', host, room: host })
  if (input.npmCache !== null)
    mounts.push(
      'readOnly' in input.npmCache
        ? { kind: 'ro', host: input.npmCache.readOnly, room: ROOM_PATHS.npmCache }
        : { kind: 'overlay', ...input.npmCache, room: ROOM_PATHS.npmCache },
    )
  mounts.push({ kind: 'rw', host: input.src, room: ROOM_PATHS.src })
  mounts.push({ kind: 'rw', host: input.home, room: ROOM_PATHS.home })
  mounts.push({ kind: 'rw', host: input.tmp, room: ROOM_PATHS.tmp })
  return {
    mounts,
    symlinks,
    hostNetwork: input.hostNetwork,
    hostname: input.options.hostname,
    uid: input.options.uid,
    cwd: ROOM_PATHS.src,
  }
}

/** The generated user database and hosts file of a room. */
export function toGeneratedEtc(options: RoomOptions, hostNetwork: boolean): Record<string, string> {
  const files: Record<string, string> = {
    passwd: `root:x:0:0:root:/root:/bin/sh\n${options.user}:x:${options.uid}:${options.uid}:${options.user}:${ROOM_PATHS.home}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    group: `root:x:0:\n${options.user}:x:${options.uid}:\nnogroup:x:65534:\n`,
  }
  // with the host's network the host's /etc/hosts is used (names it may need); otherwise only loopback
  if (!hostNetwork)
    files.hosts = `127.0.0.1\tlocalhost\n127.0.1.1\t${options.hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`
  return files
}

/** Checks a room option the way the kernel and /etc/passwd need it. */
export function roomOptionsProblem(options: RoomOptions): string | null {
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(options.hostname))
    return `hostname ${JSON.stringify(options.hostname)} is not a simple lower-case host name`
  if (!Number.isInteger(options.uid) || options.uid < 1 || options.uid > 60000)
    return `uid ${options.uid} is not between 1 and 60000`
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(options.user) || options.user === 'root' || options.user === 'nobody')
    return `user ${JSON.stringify(options.user)} is not a plain user name`
  return null
}

/**
 * bubblewrap's options for a layout, in order (passed through `--args <fd>`, so that the room's own
 * /proc/1/cmdline does not show host paths). The command follows them on bwrap's argv.
 */
export function toBwrapArgs(layout: RoomLayout): string[] {
  const args = [
    '--unshare-user',
    '--uid',
    String(layout.uid),
    '--gid',
    String(layout.uid),
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--hostname',
    layout.hostname,
    ...(layout.hostNetwork ? [] : ['--unshare-net']),
    // no user namespaces inside: build code gets no fresh capabilities to probe the kernel with
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
  ]
  for (const m of layout.mounts) {
    if (m.kind === 'overlay') args.push('--overlay-src', m.lower, '--overlay', m.upper, m.work, m.room)
    else args.push(m.kind === 'ro' ? '--ro-bind' : '--bind', m.host, m.room)
  }
  for (const s of layout.symlinks) args.push('--symlink', s.target, s.room)
  // the room's root (a tmpfs holding the mount points) is read-only too: a build writes only where it may
  args.push('--remount-ro', '/', '--chdir', layout.cwd)
  return args
}

/** Quotes a string for /bin/sh. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`
}

function parentOf(p: string): string {
  return p.slice(0, p.lastIndexOf('/')) || '/'
}

/**
 * The /bin/sh script that makes the same room with util-linux: it runs as root of a fresh user, mount,
 * PID, UTS, IPC (and network) namespace (`unshare -r ... --fork`), mounts a tmpfs root holding
 * read-only binds, pivots into it, drops the old root, and execs the command as `uid` in a nested user
 * namespace (no capabilities left). The exec replaces PID 1's command line, so no host path stays in it.
 */
export function toUnshareScript(
  layout: RoomLayout,
  rootMountPoint: string,
  command: readonly string[],
): string {
  const q = shellQuote
  const dirs = new Set<string>(['/proc', '/dev'])
  for (const m of layout.mounts) dirs.add(m.kind !== 'overlay' && m.file ? parentOf(m.room) : m.room)
  const lines = [
    'set -eu',
    'P0=$PATH',
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    `R=${q(rootMountPoint)}`,
    'mount -t tmpfs -o mode=0755 detbuild-room "$R"',
    // every process costs: one mkdir for all mount points, one mount per read-only bind (libmount
    // remounts it read-only). A bind of a folder from a mount with locked flags (nosuid, nodev, noexec)
    // is left bound but read-write when that remount fails: it is remounted keeping them. A bind that did
    // not happen fails the remount too (no mount point there), and so the room.
    'ro() { mount -o bind,ro "$1" "$2" 2>/dev/null || mount -o remount,bind,ro,nosuid,nodev "$2" 2>/dev/null || mount -o remount,bind,ro,nosuid,nodev,noexec "$2"; }',
    `mkdir -p ${[...dirs].map((d) => `"$R"${q(d)}`).join(' ')}`,
  ]
  for (const m of layout.mounts) {
    const target = `"$R"${q(m.room)}`
    if (m.kind === 'overlay') {
      const opts = `lowerdir=${m.lower},upperdir=${m.upper},workdir=${m.work}`
      lines.push(`mount -t overlay detbuild-overlay -o ${q(opts)} ${target}`)
      continue
    }
    if (m.file) lines.push(`: > ${target}`)
    lines.push(m.kind === 'ro' ? `ro ${q(m.host)} ${target}` : `mount --bind ${q(m.host)} ${target}`)
  }
  for (const s of layout.symlinks) lines.push(`ln -s ${q(s.target)} "$R"${q(s.room)}`)
  lines.push(
    'mount -t proc -o nosuid,nodev,noexec proc "$R/proc"',
    'mount -t tmpfs -o mode=0755,nosuid detbuild-dev "$R/dev"',
    'mkdir "$R/dev/shm"',
    'for d in null zero full random urandom tty; do : > "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done',
    'ln -s /proc/self/fd "$R/dev/fd"',
    'ln -s /proc/self/fd/0 "$R/dev/stdin"',
    'ln -s /proc/self/fd/1 "$R/dev/stdout"',
    'ln -s /proc/self/fd/2 "$R/dev/stderr"',
    'mount -t tmpfs -o mode=1777,nosuid,nodev detbuild-shm "$R/dev/shm"',
    `printf '%s' ${q(layout.hostname)} > /proc/sys/kernel/hostname`,
    // like bwrap --disable-userns: the one nested user namespace below, and no more (where the kernel
    // lets this namespace's root set its limit)
    'printf 1 > /proc/sys/user/max_user_namespaces 2>/dev/null || true',
  )
  // a fresh network namespace has loopback down: bring it up like bwrap does (no `ip`: it stays down,
  // which is stricter still)
  if (!layout.hostNetwork) lines.push('ip link set lo up 2>/dev/null || true')
  lines.push(
    'U=$(command -v unshare)',
    'cd "$R"',
    'mkdir .old-root',
    'pivot_root . .old-root',
    'umount -l /.old-root',
    'rmdir /.old-root',
    'mount -o remount,ro /',
    `cd ${q(layout.cwd)}`,
    // cd exported the host's mount point as OLDPWD: the command must not see it
    'unset OLDPWD',
    'PATH=$P0',
    `exec "$U" --user --map-user=${layout.uid} --map-group=${layout.uid} -- ${command.map(q).join(' ')}`,
  )
  return `${lines.join('\n')}\n`
}

/** The argv that starts `unshare` with the script (the script is on sh's argv until it execs). */
export function toUnshareArgv(unshare: string, layout: RoomLayout, script: string): string[] {
  return [
    unshare,
    '--user',
    '--map-root-user',
    '--mount',
    '--pid',
    '--ipc',
    '--uts',
    ...(layout.hostNetwork ? [] : ['--net']),
    '--fork',
    '--kill-child',
    '/bin/sh',
    '-c',
    script,
  ]
}
