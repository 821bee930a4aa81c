/**
 * The build room holds against hostile build code, with both mechanisms (bubblewrap and util-linux
 * unshare): host secrets (the project's parent folder, the caller's HOME, /tmp), a unix socket and a
 * loopback server of the host, other processes' environments (a canary in detbuild's own), writes into
 * the toolchain, the system and the npm cache; HOME, TMPDIR and the working folder are fixed paths, so
 * two checkouts at different host paths build the same bytes. The unsealed fallback says so and records it.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { makeProject, ROOT, removeProject, runCli } from './helpers.ts'

const cleanup: string[] = []
after(() => {
  for (const p of cleanup) removeProject(p)
})

const CANARY = `detbuild-room-canary-${process.pid}`
const MAIN = path.join(ROOT, 'src', 'cli', 'main.ts')

/**
 * Runs the CLI in a child process whose own environment holds the canary (an in-process run could not
 * show whether detbuild's /proc/<pid>/environ leaks into the room).
 */
function runCliProcess(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  const script = `const { main } = await import(${JSON.stringify(MAIN)})
let out = ''
process.exitCode = await main(process.argv.slice(1), { cwd: process.cwd(), env: process.env, stdout: (t) => { out += t }, stderr: (t) => { out += t }, color: false })
process.stderr.write(out)`
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, '--', ...argv], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      out += d
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? 1, out }))
  })
}

interface Host {
  base: string
  home: string
  cache: string
  parentSecret: string
  homeSecret: string
  tmpSecret: string
  socket: string
  port: number
  servers: Server[]
}

let host: Host

before(async () => {
  const scratch = makeProject('unreproducible', { git: false })
  cleanup.push(scratch)
  const base = path.dirname(scratch)
  const home = path.join(base, 'caller-home')
  mkdirSync(home)
  const cache = path.join(base, 'cache')
  const parentSecret = path.join(base, 'parent-secret.txt')
  const homeSecret = path.join(home, '.npmrc')
  const tmpSecret = path.join(base, 'tmp-secret.txt')
  writeFileSync(parentSecret, 'PARENT-SECRET\n')
  writeFileSync(homeSecret, '//registry.example.test/:_authToken=HOME-SECRET\n')
  // the room has no /tmp of the host: this file sits in the host's temp folder, like the run's own
  writeFileSync(tmpSecret, 'TMP-SECRET\n')
  const socket = path.join(base, 'agent.sock')
  const listen = (server: Server, arg: string | number) =>
    new Promise<void>((resolve) => server.listen(arg as never, '127.0.0.1' as never, () => resolve()))
  const unix = createServer((c) => c.end('SOCKET-SECRET\n'))
  await new Promise<void>((resolve) => unix.listen(socket, () => resolve()))
  const tcp = createServer((c) => c.end('TCP-SECRET\n'))
  await listen(tcp, 0)
  const port = (tcp.address() as { port: number }).port
  host = { base, home, cache, parentSecret, homeSecret, tmpSecret, socket, port, servers: [unix, tcp] }
})

after(() => {
  for (const s of host?.servers ?? []) s.close()
})

/** The hostile build: each attempt writes "name: REACHED" or "name: denied" into out/attempts.txt. */
function hostileProject(network: 'deny' | 'allow' = 'deny'): string {
  const p = makeProject('unreproducible', { git: false })
  cleanup.push(p)
  const connect = (target: string) =>
    `node -e "const s = require('node:net').connect(${target}); s.setTimeout(3000, () => process.exit(2)); s.on('data', (d) => { process.stdout.write(d); process.exit(0) }); s.on('error', () => process.exit(1))"`
  const attempts: Array<[string, string]> = [
    ['parent-secret', `cat '${host.parentSecret}'`],
    ['home-secret', `cat '${host.homeSecret}'`],
    ['tmp-secret', `cat '${host.tmpSecret}'`],
    ['host-root-home', 'ls /root'],
    ['host-home', 'ls /home'],
    ['host-tmp', 'ls /tmp'],
    ['host-run', 'ls /run'],
    ['unix-socket', connect(JSON.stringify(host.socket).replaceAll('"', "'"))],
    ['loopback-server', connect(`${host.port}, '127.0.0.1'`)],
    ['write-npm', '( : > /build/toolchain/npm/evil )'],
    ['write-npm-cli', '( : >> /build/toolchain/npm/bin/npm-cli.js )'],
    ['write-node', '( : >> /build/toolchain/node/bin/node )'],
    ['write-bin', '( : > /build/toolchain/bin/evil )'],
    ['write-usr', '( : > /usr/evil )'],
    ['write-etc', '( : > /etc/evil )'],
    ['write-root', '( : > /evil )'],
    ['etc-shadow', 'cat /etc/shadow'],
    ['etc-ssl-private', 'ls /etc/ssl/private'],
    ['nested-userns', 'unshare -r true'],
    ['mount-tmpfs', 'mount -t tmpfs x /build/tmp'],
    ['remount-rw', 'mount -o remount,rw /build/toolchain/bin'],
  ]
  const lines = [
    'mkdir -p out',
    ...attempts.map(
      ([name, cmd]) =>
        `if ${cmd} >> out/seen.txt 2>/dev/null; then echo "${name}: REACHED"; else echo "${name}: denied"; fi >> out/attempts.txt`,
    ),
    // writes into the npm cache land in the run's own layer (or fail): the host's cache never changes
    '( : > /build/npm-cache/evil ) 2>/dev/null; mkdir -p /build/npm-cache/_cacache/evil 2>/dev/null; true',
    // every process the room can see, with its environment and command line
    "for f in /proc/[0-9]*; do tr '\\0' ' ' < $f/environ; echo; tr '\\0' ' ' < $f/cmdline; echo; done > out/proc.txt 2>/dev/null; true",
    'ls /proc | grep -c "^[0-9]" > out/pids.txt',
    'printf "%s\\n" "$HOME" "$TMPDIR" "$PWD" "$(pwd -P)" "$(cat /proc/sys/kernel/hostname)" "$(id -u)" "$(id -un)" > out/where.txt',
    'touch out/seen.txt',
  ]
  writeFileSync(path.join(p, 'hostile.sh'), `${lines.join('\n')}\n`)
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: [],
      build: ['sh hostile.sh'],
      outputs: ['out/*.txt'],
      network,
    }),
  )
  return p
}

const listCache = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).sort() : []

for (const mechanism of ['bwrap', 'unshare'] as const) {
  test(`${mechanism}: hostile build code reaches no host secret, socket, server, process or cache`, async () => {
    const p = hostileProject()
    // the cache holds something the build could try to change
    mkdirSync(path.join(host.cache, 'npm', '_cacache'), { recursive: true })
    writeFileSync(path.join(host.cache, 'npm', '_cacache', 'keep'), 'cached')
    const cacheBefore = listCache(path.join(host.cache, 'npm'))
    const run = await runCliProcess(['build', '-C', p, '--cache-dir', host.cache, '--json'], {
      HOME: host.home,
      DETBUILD_ROOM: mechanism,
      DETBUILD_ROOM_CANARY: CANARY,
    })
    assert.equal(run.code, 0, `${run.out}${readFileSync(path.join(p, '.detbuild', 'build.log'), 'utf8')}`)
    const art = (f: string) => readFileSync(path.join(p, '.detbuild', 'artifacts', f), 'utf8')
    const attempts = art('attempts.txt').trim().split('\n')
    assert.equal(attempts.length, 21)
    for (const line of attempts) assert.match(line, /: denied$/, line)
    assert.equal(art('seen.txt').match(/SECRET/g), null, art('seen.txt'))
    const procs = art('proc.txt')
    assert.ok(procs.includes('SOURCE_DATE_EPOCH='), 'the room saw its own environment')
    assert.ok(!procs.includes(CANARY), 'no environment of detbuild or its parents')
    assert.ok(!procs.includes(host.base), 'no host path on any command line or environment')
    assert.doesNotMatch(procs, /\/tmp\/detbuild-/, 'no host temp path (the run folders live there)')
    // own PID namespace: a handful of the room's own processes, not the host's
    assert.ok(Number(art('pids.txt').trim()) < 10, art('pids.txt'))
    assert.deepEqual(art('where.txt').trim().split('\n'), [
      '/build/home',
      '/build/tmp',
      '/build/src',
      '/build/src',
      'detbuild',
      '1000',
      'builder',
    ])
    assert.deepEqual(listCache(path.join(host.cache, 'npm')), cacheBefore, 'the host npm cache is unchanged')
    assert.equal(readFileSync(path.join(host.cache, 'npm', '_cacache', 'keep'), 'utf8'), 'cached')
    const isolation = JSON.parse(readFileSync(path.join(p, '.detbuild', 'build.json'), 'utf8')).isolation
    assert.equal(isolation.mechanism, mechanism)
    assert.equal(isolation.sealed, true)
    assert.equal(isolation.pidNamespace, true)
    assert.equal(isolation.network, 'none')
    const provenance = JSON.parse(readFileSync(path.join(p, '.detbuild', 'provenance.intoto.json'), 'utf8'))
    assert.deepEqual(provenance.predicate.buildDefinition.internalParameters.isolation, isolation)
  })

  test(`${mechanism}: HOME, TMPDIR and the working folder are fixed: two checkouts at different paths build the same bytes`, async () => {
    const digests: string[] = []
    for (const depth of ['a', 'a/much/deeper/checkout']) {
      const p = makeProject('unreproducible', { git: false })
      cleanup.push(p)
      const moved = path.join(path.dirname(p), depth, 'project')
      mkdirSync(path.dirname(moved), { recursive: true })
      const { renameSync } = await import('node:fs')
      renameSync(p, moved)
      writeFileSync(
        path.join(moved, 'detbuild.config.json'),
        JSON.stringify({
          toolchain: { node: 'system' },
          install: [],
          build: [
            'mkdir -p out && printf "%s %s %s %s\\n" "$HOME" "$TMPDIR" "$PWD" "$npm_config_cache" > out/paths.txt',
            `node -e "require('fs').writeFileSync('out/node.txt', [process.cwd(), require('os').homedir(), require('os').tmpdir(), require('os').hostname(), process.execPath].join(' '))"`,
          ],
          outputs: ['out/*.txt'],
        }),
      )
      const run = await runCli(['build', '-C', moved, '--cache-dir', host.cache], {
        DETBUILD_ROOM: mechanism,
      })
      assert.equal(run.code, 0, run.stderr)
      const paths = readFileSync(path.join(moved, '.detbuild', 'artifacts', 'paths.txt'), 'utf8')
      assert.equal(paths, '/build/home /build/tmp /build/src /build/npm-cache\n')
      const node = readFileSync(path.join(moved, '.detbuild', 'artifacts', 'node.txt'), 'utf8')
      assert.equal(node, '/build/src /build/home /build/tmp detbuild /build/toolchain/node/bin/node')
      digests.push(createHash('sha256').update(paths).update(node).digest('hex'))
    }
    assert.equal(digests[0], digests[1])
  })
}

for (const mechanism of ['bwrap', 'unshare'] as const)
  test(`${mechanism}, network: allow: the host's network, but the filesystem is sealed just the same`, async () => {
    const p = hostileProject('allow')
    const run = await runCli(['build', '-C', p, '--cache-dir', host.cache], {
      HOME: host.home,
      DETBUILD_ROOM: mechanism,
    })
    assert.equal(run.code, 0, run.stderr)
    const art = (f: string) => readFileSync(path.join(p, '.detbuild', 'artifacts', f), 'utf8')
    const attempts = new Map(
      art('attempts.txt')
        .trim()
        .split('\n')
        .map((l) => l.split(': ') as [string, string]),
    )
    // the loopback server of the host answers: this is the host's network namespace
    assert.equal(attempts.get('loopback-server'), 'REACHED')
    assert.match(art('seen.txt'), /TCP-SECRET/)
    for (const [name, result] of attempts)
      if (name !== 'loopback-server') assert.equal(result, 'denied', name)
    const isolation = JSON.parse(readFileSync(path.join(p, '.detbuild', 'build.json'), 'utf8')).isolation
    assert.equal(isolation.network, 'allowed')
    assert.equal(isolation.sealed, true)
    assert.equal(isolation.mechanism, mechanism)
  })

for (const mechanism of ['bwrap', 'unshare'] as const)
  test(`${mechanism}, network: allow: the host's private CA files reach the build read-only at fixed paths`, async () => {
    const p = makeProject('unreproducible', { git: false })
    cleanup.push(p)
    writeFileSync(
      path.join(p, 'detbuild.config.json'),
      JSON.stringify({
        toolchain: { node: 'system' },
        install: [],
        network: 'allow',
        build: [
          'mkdir -p out && printf "%s %s\\n" "$NODE_EXTRA_CA_CERTS" "$npm_config_cafile" > out/ca-paths.txt',
          'cat "$NODE_EXTRA_CA_CERTS" > out/ca.txt',
          '(echo x >> "$NODE_EXTRA_CA_CERTS" && echo written || echo denied) > out/ca-write.txt',
        ],
        outputs: ['out/*.txt'],
      }),
    )
    const ca = path.join(ROOT, 'fixtures', 'tls', 'ca.pem')
    const run = await runCli(['build', '-C', p, '--cache-dir', host.cache], {
      DETBUILD_ROOM: mechanism,
      NODE_EXTRA_CA_CERTS: ca,
      npm_config_cafile: ca,
    })
    assert.equal(run.code, 0, run.stderr)
    const art = (f: string) => readFileSync(path.join(p, '.detbuild', 'artifacts', f), 'utf8')
    assert.equal(art('ca-paths.txt'), '/build/ca/NODE_EXTRA_CA_CERTS.pem /build/ca/npm_config_cafile.pem\n')
    assert.equal(art('ca.txt'), readFileSync(ca, 'utf8'))
    assert.equal(art('ca-write.txt'), 'denied\n')
    const env = JSON.parse(readFileSync(path.join(p, '.detbuild', 'build.json'), 'utf8')).env
    assert.ok(env.includes('NODE_EXTRA_CA_CERTS') && env.includes('npm_config_cafile'), env.join(', '))
  })

test('DETBUILD_ROOM=none: one warning, and build.json records an unsealed build', async () => {
  const p = makeProject('unreproducible', { git: false })
  cleanup.push(p)
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: [],
      build: ['mkdir -p out && ls / > out/root.txt'],
      outputs: ['out/*.txt'],
    }),
  )
  const run = await runCli(['build', '-C', p], { DETBUILD_ROOM: 'none' })
  assert.equal(run.code, 0, run.stderr)
  const warnings = run.stderr.split('\n').filter((l) => l.includes('build room:'))
  assert.equal(warnings.length, 1, run.stderr)
  assert.match(warnings[0] as string, /UNSEALED/)
  const isolation = JSON.parse(readFileSync(path.join(p, '.detbuild', 'build.json'), 'utf8')).isolation
  assert.deepEqual(isolation, {
    requested: 'deny',
    network: 'best-effort',
    mechanism: 'none',
    sealed: false,
    pidNamespace: false,
    extraMounts: [],
    note: 'DETBUILD_ROOM=none: the commands run UNSEALED on the host (npm runs --offline, but the network is reachable)',
  })
  // unsealed, the host's root is what the build sees (the room would show only its own few folders)
  const root = readFileSync(path.join(p, '.detbuild', 'artifacts', 'root.txt'), 'utf8')
  assert.ok(root.split('\n').includes('tmp'), root)
})

test('DETBUILD_ROOM with an unknown value → exit 2 BUILD_ROOM_INVALID; a bad mount → exit 2', async () => {
  const p = makeProject('unreproducible', { git: false })
  cleanup.push(p)
  const unknown = await runCli(['build', '-C', p, '--json'], { DETBUILD_ROOM: 'docker' })
  assert.equal(unknown.code, 2)
  assert.equal(JSON.parse(unknown.stdout).error.code, 'BUILD_ROOM_INVALID')
  // a mount may not be relative, the root, or on one of the room's own paths
  for (const bad of ['relative/dir', '/', '/usr/lib', '/build/src', '/etc', '/tmp:/proc/1']) {
    const run = await runCli(['build', '-C', p, '--json'], { DETBUILD_ROOM_MOUNTS: bad })
    assert.equal(run.code, 2, bad)
    assert.equal(JSON.parse(run.stdout).error.code, 'BUILD_ROOM_INVALID', bad)
  }
  const missing = await runCli(['build', '-C', p, '--json'], {
    DETBUILD_ROOM_MOUNTS: path.join(path.dirname(p), 'no-such-folder'),
  })
  assert.equal(missing.code, 2)
  assert.equal(JSON.parse(missing.stdout).error.code, 'BUILD_ROOM_INVALID')
})
