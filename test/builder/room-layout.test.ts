/**
 * The build room's pure parts: the layout, bubblewrap's options and the unshare script; and the choice
 * of mechanism on hosts where the room cannot be made (probes played by the test).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  DEFAULT_ROOM_OPTIONS,
  roomOptionsProblem,
  shellQuote,
  toBwrapArgs,
  toGeneratedEtc,
  toRoomLayout,
  toUnshareArgv,
  toUnshareScript,
} from '../../src/builder/room.ts'
import { type IsolationProbes, resolveIsolation } from '../../src/builder/room-host.ts'
import { parseRoomChoice, parseRoomMounts } from '../../src/config/build-env.ts'
import { DetbuildError } from '../../src/errors.ts'

function layout(hostNetwork: boolean, options = DEFAULT_ROOM_OPTIONS) {
  return toRoomLayout({
    system: [
      { path: '/usr', kind: 'dir' },
      { path: '/bin', kind: 'symlink', target: 'usr/bin' },
    ],
    etc: [
      { room: '/etc/ssl/certs', host: '/etc/ssl/certs', dir: true },
      { room: '/etc/nsswitch.conf', host: '/etc/nsswitch.conf', dir: false },
    ],
    generatedEtc: [['/etc/passwd', '/run-root/room-etc/passwd']],
    src: '/host tmp/run/src',
    home: '/host tmp/run/home',
    tmp: '/host tmp/run/tmp',
    toolchainBin: '/host tmp/room-bin',
    nodeBin: '/opt/node/bin/node',
    npmRoot: '/opt/node/lib/node_modules/npm',
    npmCache: { lower: '/cache/npm', upper: '/host tmp/run/up', work: '/host tmp/run/work' },
    extra: ['/opt/tools'],
    hostNetwork,
    options,
  })
}

test('the layout: system read-only, toolchain read-only at fixed paths, the cache an overlay, the run folders writable', () => {
  const l = layout(false)
  const byRoom = new Map(l.mounts.map((m) => [m.room, m]))
  assert.deepEqual(byRoom.get('/usr'), { kind: 'ro', host: '/usr', room: '/usr', file: false })
  assert.deepEqual(l.symlinks, [{ room: '/bin', target: 'usr/bin' }])
  assert.equal(byRoom.get('/etc/passwd')?.kind, 'ro')
  assert.equal(byRoom.get('/etc/ssl/certs')?.kind, 'ro')
  assert.equal(byRoom.get('/etc/nsswitch.conf')?.kind, 'ro')
  assert.ok(!l.mounts.some((m) => m.room === '/etc/ssl' || m.room.includes('private')))
  assert.equal(byRoom.get('/build/toolchain/bin')?.kind, 'ro')
  assert.deepEqual(byRoom.get('/build/toolchain/node/bin/node'), {
    kind: 'ro',
    host: '/opt/node/bin/node',
    room: '/build/toolchain/node/bin/node',
    file: true,
  })
  assert.equal(byRoom.get('/build/toolchain/npm')?.kind, 'ro')
  assert.equal(byRoom.get('/opt/tools')?.kind, 'ro')
  assert.equal(byRoom.get('/build/npm-cache')?.kind, 'overlay')
  for (const p of ['/build/src', '/build/home', '/build/tmp']) assert.equal(byRoom.get(p)?.kind, 'rw', p)
  // only the run's own folders are writable
  assert.deepEqual(
    l.mounts.filter((m) => m.kind === 'rw').map((m) => m.room),
    ['/build/src', '/build/home', '/build/tmp'],
  )
  assert.equal(l.cwd, '/build/src')
  assert.equal(l.hostNetwork, false)
})

test('bwrap options: every namespace, the fixed uid and hostname, no network unless allowed, a read-only root', () => {
  const args = toBwrapArgs(layout(false, { hostname: 'other-host', uid: 4242, user: 'builder' }))
  const joined = args.join(' ')
  for (const flag of [
    '--unshare-user',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-net',
    '--disable-userns',
  ])
    assert.ok(args.includes(flag), flag)
  assert.match(joined, /--uid 4242 --gid 4242/)
  assert.match(joined, /--hostname other-host/)
  assert.match(joined, /--proc \/proc --dev \/dev/)
  assert.match(joined, /--ro-bind \/usr \/usr/)
  assert.match(joined, /--bind \/host tmp\/run\/src \/build\/src/)
  assert.match(
    joined,
    /--overlay-src \/cache\/npm --overlay \/host tmp\/run\/up \/host tmp\/run\/work \/build\/npm-cache/,
  )
  assert.deepEqual(args.slice(-4), ['--remount-ro', '/', '--chdir', '/build/src'])
  assert.ok(!toBwrapArgs(layout(true)).includes('--unshare-net'), 'network: allow shares the host network')
})

test('the unshare script: quoted paths, read-only remounts, pivot_root, and the command exec-ed as the room uid', () => {
  const l = layout(false, { hostname: 'h1', uid: 1234, user: 'builder' })
  const script = toUnshareScript(l, "/run's root", ['/bin/sh', '-c', "echo 'hi'"])
  assert.match(script, /^R='\/run'\\''s root'$/m)
  assert.match(script, /^ro '\/usr' "\$R"'\/usr'$/m)
  assert.match(script, /^mount --bind '\/host tmp\/run\/src' "\$R"'\/build\/src'$/m)
  assert.doesNotMatch(script, /^ro '\/host tmp\/run\/src'/m)
  assert.match(script, /lowerdir=\/cache\/npm,upperdir=\/host tmp\/run\/up,workdir=\/host tmp\/run\/work/)
  assert.match(script, /^mount -t proc /m)
  assert.match(script, /^printf '%s' 'h1' > \/proc\/sys\/kernel\/hostname$/m)
  assert.match(script, /^ip link set lo up/m)
  assert.match(script, /^printf 1 > \/proc\/sys\/user\/max_user_namespaces/m)
  assert.match(script, /^pivot_root \. \.old-root\numount -l \/\.old-root$/m)
  assert.match(script, /^unset OLDPWD$/m)
  assert.match(
    script,
    /^exec "\$U" --user --map-user=1234 --map-group=1234 -- '\/bin\/sh' '-c' 'echo '\\''hi'\\'''$/m,
  )
  const argv = toUnshareArgv('/usr/bin/unshare', l, script)
  assert.deepEqual(argv.slice(0, 11), [
    '/usr/bin/unshare',
    '--user',
    '--map-root-user',
    '--mount',
    '--pid',
    '--ipc',
    '--uts',
    '--net',
    '--fork',
    '--kill-child',
    '/bin/sh',
  ])
  assert.ok(!toUnshareArgv('/usr/bin/unshare', layout(true), script).includes('--net'))
  assert.equal(shellQuote("a'b"), "'a'\\''b'")
})

test('generated /etc: a builder user with HOME /build/home; hosts names the room only without host network', () => {
  const etc = toGeneratedEtc({ hostname: 'box', uid: 2000, user: 'builder' }, false)
  assert.match(etc.passwd as string, /^builder:x:2000:2000:builder:\/build\/home:\/bin\/sh$/m)
  assert.match(etc.group as string, /^builder:x:2000:$/m)
  assert.match(etc.hosts as string, /^127\.0\.1\.1\tbox$/m)
  assert.equal(toGeneratedEtc({ hostname: 'box', uid: 2000, user: 'builder' }, true).hosts, undefined)
  // --check's second run names its user otherwise
  assert.match(
    toGeneratedEtc({ hostname: 'box', uid: 2345, user: 'checker' }, false).passwd as string,
    /^checker:x:2345:2345:checker:\/build\/home:\/bin\/sh$/m,
  )
  assert.equal(roomOptionsProblem(DEFAULT_ROOM_OPTIONS), null)
  assert.match(roomOptionsProblem({ hostname: 'Bad Name', uid: 1, user: 'builder' }) as string, /hostname/)
  assert.match(roomOptionsProblem({ hostname: 'ok', uid: 0, user: 'builder' }) as string, /uid 0/)
  assert.match(roomOptionsProblem({ hostname: 'ok', uid: 5, user: 'root' }) as string, /user "root"/)
  assert.match(roomOptionsProblem({ hostname: 'ok', uid: 5, user: 'a b' }) as string, /user/)
})

test('DETBUILD_ROOM and DETBUILD_ROOM_MOUNTS are parsed at the edge', () => {
  assert.equal(parseRoomChoice(undefined), 'auto')
  assert.equal(parseRoomChoice(''), 'auto')
  assert.equal(parseRoomChoice('unshare'), 'unshare')
  assert.throws(() => parseRoomChoice('firejail'), { code: 'BUILD_ROOM_INVALID', exitCode: 2 })
  assert.deepEqual(parseRoomMounts('/opt/b/:/opt/a:/opt/b'), ['/opt/a', '/opt/b'])
  for (const bad of ['x', '/', '/usr', '/etc/ssl', '/build', '/dev/x', '/opt/a\n'])
    assert.throws(() => parseRoomMounts(bad), { code: 'BUILD_ROOM_INVALID' }, bad)
})

const failing =
  (why: Record<string, string>, overlay = true): IsolationProbes['room'] =>
  async (mechanism) =>
    why[mechanism] ? { why: why[mechanism] as string } : { mechanism, bin: `/usr/bin/${mechanism}`, overlay }

test('resolveIsolation: bwrap first; unshare when bwrap fails; a read-only-cache bwrap only as the last room', async () => {
  const both = await resolveIsolation('deny', 'auto', '/x', {
    room: failing({}),
    networkOnly: async () => null,
  })
  assert.equal(both.runner?.mechanism, 'bwrap')
  assert.deepEqual(both.isolation, {
    requested: 'deny',
    network: 'none',
    mechanism: 'bwrap',
    sealed: true,
    pidNamespace: true,
    extraMounts: [],
    note: null,
  })
  const noBwrap = await resolveIsolation('allow', 'auto', '/x', {
    room: failing({ bwrap: 'bwrap is not installed' }),
    networkOnly: async () => null,
  })
  assert.equal(noBwrap.isolation.mechanism, 'unshare')
  assert.equal(noBwrap.isolation.network, 'allowed')
  // bubblewrap 0.8 (no overlay) and unshare works: unshare, whose cache is writable
  const oldBwrap = await resolveIsolation('deny', 'auto', '/x', {
    room: async (m) => ({ mechanism: m, bin: m, overlay: m === 'unshare' }),
    networkOnly: async () => null,
  })
  assert.equal(oldBwrap.isolation.mechanism, 'unshare')
  // bubblewrap 0.8 and no unshare: bwrap, with the read-only cache said in the note
  const onlyOld = await resolveIsolation('deny', 'auto', '/x', {
    room: async (m) => (m === 'bwrap' ? { mechanism: m, bin: m, overlay: false } : { why: 'no' }),
    networkOnly: async () => null,
  })
  assert.equal(onlyOld.isolation.mechanism, 'bwrap')
  assert.equal(onlyOld.isolation.sealed, true)
  assert.match(onlyOld.isolation.note as string, /read-only/)
})

test('resolveIsolation: no user namespaces → unsealed, recorded and said; a forced mechanism that fails → exit 3', async () => {
  const restricted = failing({
    bwrap: 'bwrap: setting up uid map: Permission denied',
    unshare: 'unshare: write failed /proc/self/uid_map: Operation not permitted',
  })
  const none = await resolveIsolation('deny', 'auto', '/x', {
    room: restricted,
    networkOnly: async () => null,
  })
  assert.equal(none.runner, null)
  assert.deepEqual(
    { ...none.isolation, note: null },
    {
      requested: 'deny',
      network: 'best-effort',
      mechanism: 'none',
      sealed: false,
      pidNamespace: false,
      extraMounts: [],
      note: null,
    },
  )
  assert.match(none.isolation.note as string, /setting up uid map: Permission denied/)
  assert.match(none.isolation.note as string, /UNSEALED/)
  // a network namespace alone still works (the room's mounts do not): network none, unsealed
  const netOnly = await resolveIsolation('deny', 'auto', '/x', {
    room: restricted,
    networkOnly: async () => '/usr/bin/unshare',
  })
  assert.equal(netOnly.unshare, '/usr/bin/unshare')
  assert.equal(netOnly.isolation.mechanism, 'unshare-net')
  assert.equal(netOnly.isolation.network, 'none')
  assert.equal(netOnly.isolation.sealed, false)
  for (const forced of ['bwrap', 'unshare'] as const) {
    const err = await resolveIsolation('deny', forced, '/x', {
      room: restricted,
      networkOnly: async () => '/usr/bin/unshare',
    }).then(
      () => null,
      (e: unknown) => e,
    )
    assert.ok(err instanceof DetbuildError)
    assert.equal(err.code, 'BUILD_ROOM_UNAVAILABLE')
    assert.equal(err.exitCode, 3)
  }
  const off = await resolveIsolation('allow', 'none', '/x', {
    room: restricted,
    networkOnly: async () => null,
  })
  assert.equal(off.isolation.mechanism, 'none')
  assert.equal(off.isolation.network, 'allowed')
  assert.match(off.isolation.note as string, /^DETBUILD_ROOM=none: /)
})
