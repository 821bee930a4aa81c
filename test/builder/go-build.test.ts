/**
 * Go builds with a pinned toolchain: Debian's go1.26.10 served as a `golang.org/toolchain` zip and the
 * real golang.org/x/sync v0.19.0 module by a loopback module proxy. The hello-world service builds twice
 * byte-identically (`--check`), build.json and the provenance name the toolchain (with its h1: pin) and
 * the modules of go.sum; a tampered proxy zip, a changed go.sum, a changed toolchain pin fail closed; the
 * build itself cannot reach the network (GOPROXY=off, no network in the room).
 */
import assert from 'node:assert/strict'
import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { hashZip } from '../../src/ecosystems/go/dirhash.ts'
import { readBuildManifest, readProvenance } from '../../src/workspace/index.ts'
import { gitAt } from '../helpers/git.ts'
import {
  debianToolchainZip,
  GO_BIN,
  GO_VERSION,
  type GoProxy,
  type GoSumdb,
  moduleFromFixture,
  startGoProxy,
  startGoSumdb,
  TOOLCHAIN_KEY,
} from '../helpers/go-proxy.ts'
import { tempDir } from '../helpers/paths.ts'
import { COMMIT_TIME, makeProject, removeProject, runCli } from './helpers.ts'

const HELLO = '../test/fixtures/go/build/hello'
let proxy: GoProxy
let db: GoSumdb
let cache: string
let toolchainZip: Buffer

const config = (extra: Record<string, unknown> = {}) =>
  `${JSON.stringify({ toolchain: { go: GO_VERSION }, build: ['go build -o dist/hello .'], outputs: ['dist/*'], ...extra }, null, 2)}\n`

function project(extra?: Record<string, unknown>, git = false): string {
  const dir = makeProject(HELLO, { git: false })
  writeFileSync(path.join(dir, 'detbuild.config.json'), config(extra))
  if (git) {
    gitAt(dir, COMMIT_TIME, 'init', '-q')
    gitAt(dir, COMMIT_TIME, 'add', '-A')
    gitAt(dir, COMMIT_TIME, 'commit', '-qm', 'hello')
  }
  return dir
}

before(async () => {
  const built = debianToolchainZip()
  if (built.builtMs !== null) console.log(`# built the toolchain fixture zip in ${built.builtMs} ms`)
  toolchainZip = readFileSync(built.file)
  proxy = await startGoProxy(
    new Map([
      ['golang.org/x/sync@v0.19.0', moduleFromFixture('golang.org/x/sync', 'v0.19.0')],
      [TOOLCHAIN_KEY, { mod: Buffer.from('module golang.org/toolchain\n'), zip: toolchainZip }],
    ]),
  )
  db = await startGoSumdb(proxy.url)
  proxy.sumdb = { name: db.name, url: db.url }
  cache = tempDir('detbuild-go-cache-')
})
after(async () => {
  db?.close()
  await proxy?.close()
  // the unpacked toolchain is read-only (~180 MB): made writable to be removed
  if (cache) {
    execFileSync('chmod', ['-R', 'u+w', cache])
    rmSync(cache, { recursive: true, force: true })
  }
})

const env = () => ({ GOPROXY: proxy.url, GOSUMDB: db.gosumdb, SOURCE_DATE_EPOCH: '1700000000' })

test('a Go service builds twice byte-identically with the pinned toolchain; build.json and provenance name it', async () => {
  // git: true: the binary is stamped with the staged commit (-buildvcs=true)
  const dir = project({ git: true }, true)
  try {
    const out = path.join(dir, '.detbuild')
    const r = await runCli(['-C', dir, 'build', '--check', '--cache-dir', cache, '--json'], env())
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const lock = JSON.parse(readFileSync(path.join(dir, 'detbuild.lock'), 'utf8'))
    const pinned = lock.goToolchains[TOOLCHAIN_KEY]
    assert.equal(
      pinned.h1,
      hashZip(toolchainZip, (w) => assert.fail(w)),
    )
    assert.equal(
      pinned.resolved,
      `${proxy.url}/golang.org/toolchain/@v/v0.0.1-go${GO_VERSION}.linux-amd64.zip`,
    )
    const manifest = JSON.parse(readFileSync(path.join(out, 'build.json'), 'utf8'))
    assert.equal(manifest.reproducibility.reproducible, true)
    // the later steps read both documents through their schema checks
    assert.deepEqual(await readBuildManifest(out), manifest)
    assert.equal(
      (await readProvenance(out)).predicate.buildDefinition.buildType,
      'https://detbuild.dev/build-types/go/v1',
    )
    assert.deepEqual(
      { ...manifest.toolchain.go, sha256: typeof manifest.toolchain.go.sha256 },
      {
        version: GO_VERSION,
        pinned: true,
        module: TOOLCHAIN_KEY,
        h1: pinned.h1,
        sha256: 'string',
        // the first build fetched the toolchain: checked with the checksum database (Go's own server)
        checksumDatabase: db.name,
      },
    )
    assert.equal(manifest.goSum.file, 'go.sum')
    const prov = JSON.parse(readFileSync(path.join(out, 'provenance.intoto.json'), 'utf8'))
    assert.equal(prov.predicate.buildDefinition.buildType, 'https://detbuild.dev/build-types/go/v1')
    const deps = prov.predicate.buildDefinition.resolvedDependencies
    const go = deps.find((d: { name: string }) => d.name === 'go')
    assert.equal(go.uri, `pkg:golang/golang.org/toolchain@v0.0.1-go${GO_VERSION}.linux-amd64`)
    assert.equal(go.annotations.goDirhash, pinned.h1)
    const sync = deps.find((d: { name: string }) => d.name === 'golang.org/x/sync@v0.19.0')
    assert.equal(sync.uri, 'pkg:golang/golang.org/x/sync@v0.19.0')
    assert.equal(sync.annotations.goDirhash, 'h1:vV+1eWNmZ5geRlYjzm2adRgW2/mcpevXNg50YZtPCE4=')
    assert.equal(sync.annotations.goModDirhash, 'h1:9KTHXmSnoGruLpwFjVSX0lNNA75CykiMECbovNTZqGI=')
    assert.match(sync.digest.sha256, /^[0-9a-f]{64}$/)
    const fixed = prov.predicate.buildDefinition.internalParameters.environment
    assert.equal(fixed.GOPROXY, 'off')
    assert.equal(fixed.GOTOOLCHAIN, 'local')
    assert.equal(fixed.CGO_ENABLED, '0')
    assert.match(fixed.GOFLAGS, /-mod=readonly -trimpath/)
    // the artifact is the Go program, and it runs
    const artifact = path.join(out, 'artifacts', 'hello')
    assert.ok(existsSync(artifact))
    // an output the build left executable is written 0755 (a text output stays 0644): it runs as it is
    assert.equal(statSync(artifact).mode & 0o777, 0o755)
    assert.equal(execFileSync(artifact, { encoding: 'utf8' }), 'hello detbuild\n')
    const bin = artifact
    // the build info Go embedded: the staged commit, not modified, -trimpath, no cgo, the pinned Go
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim()
    const info = execFileSync(GO_BIN, ['version', '-m', bin], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: cache, GOTOOLCHAIN: 'local' },
    })
    assert.match(
      info,
      new RegExp(
        `^${bin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: go${GO_VERSION.replaceAll('.', '\\.')}$`,
        'm',
      ),
    )
    for (const line of [
      '\tdep\tgolang.org/x/sync\tv0.19.0\th1:vV+1eWNmZ5geRlYjzm2adRgW2/mcpevXNg50YZtPCE4=',
      '\tbuild\t-trimpath=true',
      '\tbuild\tCGO_ENABLED=0',
      `\tbuild\tvcs.revision=${commit}`,
      '\tbuild\tvcs.modified=false',
    ])
      assert.ok(info.includes(line), `${line} in:\n${info}`)
    // -trimpath: no host path of the build in the binary
    assert.ok(!readFileSync(bin).includes(Buffer.from(cache)), 'the cache path is not in the binary')
  } finally {
    removeProject(dir)
  }
})

test('a tampered proxy zip with a cold module cache fails closed', async () => {
  const dir = project()
  try {
    // a fresh module cache (the verified toolchain is shared: unpacking it again costs time, not coverage)
    // and a proxy that serves another zip for the module
    const cold = tempDir('detbuild-go-cold-')
    symlinkSync(path.join(cache, 'go-toolchains'), path.join(cold, 'go-toolchains'))
    const real = proxy.modules.get('golang.org/x/sync@v0.19.0')
    const tampered = moduleFromFixture('golang.org/x/sync', 'v0.19.0')
    const files = new Map([
      [`golang.org/x/sync@v0.19.0/go.mod`, tampered.mod],
      ['golang.org/x/sync@v0.19.0/evil.go', Buffer.from('package sync\n')],
    ])
    const { writeModuleZip } = await import('../helpers/go-proxy.ts')
    proxy.modules.set('golang.org/x/sync@v0.19.0', { mod: tampered.mod, zip: writeModuleZip(files) })
    try {
      const r = await runCli(['-C', dir, 'build', '--cache-dir', cold], env())
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stderr, /GO_MODULE_CHECKSUM_MISMATCH/)
      assert.match(r.stderr, /golang\.org\/x\/sync@v0\.19\.0/)
    } finally {
      proxy.modules.set('golang.org/x/sync@v0.19.0', real as NonNullable<typeof real>)
    }
  } finally {
    removeProject(dir)
  }
})

test('a changed go.sum line, and a toolchain pin the proxy does not match, fail closed', async () => {
  const dir = project()
  try {
    const sum = path.join(dir, 'go.sum')
    writeFileSync(sum, readFileSync(sum, 'utf8').replace('h1:vV+1', 'h1:wV+1'))
    // the cached zip no longer matches go.sum: fetched again, and the proxy's (real) zip does not match either
    const r = await runCli(['-C', dir, 'build', '--cache-dir', cache], env())
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /GO_MODULE_CHECKSUM_MISMATCH.*go\.sum line 1/)
  } finally {
    removeProject(dir)
  }
  const dir2 = project()
  try {
    writeFileSync(
      path.join(dir2, 'detbuild.lock'),
      `${JSON.stringify({ lockfileVersion: 1, packages: {}, goToolchains: { [TOOLCHAIN_KEY]: { h1: 'h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', resolved: 'x' } } })}\n`,
    )
    const r = await runCli(['-C', dir2, 'build', '--cache-dir', cache], env())
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /GO_TOOLCHAIN_CHECKSUM_MISMATCH/)
  } finally {
    removeProject(dir2)
  }
})

test('a warm cache fetches nothing, and the build cannot reach the network (GOPROXY=off, no network in the room)', async () => {
  const dir = project({
    build: [
      `GOPROXY=@PROBE_PROXY@ GOFLAGS=-mod=mod go get golang.org/x/sync@v0.19.0 && echo REACHED || echo OFFLINE`,
      'go env GOPROXY',
      'mkdir -p dist && go build -o dist/hello .',
    ],
  })
  try {
    writeFileSync(
      path.join(dir, 'detbuild.config.json'),
      readFileSync(path.join(dir, 'detbuild.config.json'), 'utf8').replace('@PROBE_PROXY@', proxy.url),
    )
    // the pin the first build recorded (a project whose lock is committed)
    const h1 = hashZip(toolchainZip, (w) => assert.fail(w))
    writeFileSync(
      path.join(dir, 'detbuild.lock'),
      `${JSON.stringify({ lockfileVersion: 1, packages: {}, goToolchains: { [TOOLCHAIN_KEY]: { h1, resolved: 'r' } } })}\n`,
    )
    const before = proxy.requests.length
    const r = await runCli(['-C', dir, 'build', '--cache-dir', cache], env())
    assert.equal(r.code, 0, r.stderr)
    const log = readFileSync(path.join(dir, '.detbuild', 'build.log'), 'utf8')
    assert.match(log, /connect: connection refused\n^OFFLINE$/m)
    assert.doesNotMatch(log, /^REACHED$/m)
    assert.match(log, /^off$/m)
    // the toolchain and the module were verified again from the cache (the first test of this file filled it), and
    // the go get inside the room reached nothing
    assert.deepEqual(proxy.requests.slice(before), [], 'no request reached the proxy')
  } finally {
    removeProject(dir)
  }
})

test('toolchain.go "system": the go on PATH runs in the room (its GOROOT links resolve), recorded unpinned with its digest', async () => {
  const dir = project({
    toolchain: { go: 'system' },
    build: [
      'mkdir -p dist',
      "go version > dist/version.txt && go list -f '{{.ImportPath}} {{.Standard}}' runtime >> dist/version.txt",
    ],
  })
  try {
    const hostPath = `${path.dirname(GO_BIN)}:${process.env.PATH}`
    const r = await runCli(['-C', dir, 'build', '--cache-dir', cache], { ...env(), PATH: hostPath })
    assert.equal(r.code, 0, r.stderr)
    const out = path.join(dir, '.detbuild')
    assert.equal(
      readFileSync(path.join(out, 'artifacts', 'version.txt'), 'utf8'),
      `go version go${GO_VERSION} linux/amd64\nruntime true\n`,
    )
    assert.equal(statSync(path.join(out, 'artifacts', 'version.txt')).mode & 0o777, 0o644)
    const manifest = JSON.parse(readFileSync(path.join(out, 'build.json'), 'utf8'))
    assert.deepEqual(manifest.toolchain.go, {
      version: GO_VERSION,
      pinned: false,
      module: null,
      h1: null,
      sha256: createHash('sha256').update(readFileSync(GO_BIN)).digest('hex'),
      checksumDatabase: null,
    })
    // nothing is pinned: no lock was written
    assert.equal(existsSync(path.join(dir, 'detbuild.lock')), false)
  } finally {
    removeProject(dir)
  }
})

test('a vendored module builds from vendor/ (-mod=vendor, nothing fetched); the provenance lists the vendored files; a broken vendor/modules.txt fails', async () => {
  const dir = project()
  try {
    // the real `go mod vendor` makes vendor/ (x/sync from the loopback proxy)
    const modcache = tempDir('detbuild-go-vendor-mod-')
    // asynchronously: the loopback proxy answering it runs in this process
    await promisify(execFile)(GO_BIN, ['mod', 'vendor'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: modcache,
        GOMODCACHE: modcache,
        GOPROXY: proxy.url,
        GOSUMDB: 'off',
        GOFLAGS: '-mod=mod -modcacherw',
        GOTOOLCHAIN: 'local',
        GOENV: 'off',
      },
    })
    const modulesTxt = readFileSync(path.join(dir, 'vendor/modules.txt'), 'utf8')
    assert.match(modulesTxt, /^# golang\.org\/x\/sync v0\.19\.0\n## explicit/m)
    // a change to the vendored copy is what the build compiles (the module proxy's zip is not used)
    writeFileSync(
      path.join(dir, 'vendor/golang.org/x/sync/errgroup/zz_vendored.go'),
      'package errgroup\n\nfunc init() { println("compiled from vendor") }\n',
    )
    const zip = '/golang.org/x/sync/@v/v0.19.0.zip'
    const zips = proxy.requests.filter((r) => r === zip).length
    const r = await runCli(['-C', dir, 'build', '--cache-dir', tempDir('detbuild-go-vendor-cache-')], env())
    assert.equal(r.code, 0, r.stderr)
    assert.equal(proxy.requests.filter((p) => p === zip).length, zips, 'no module was fetched')
    const out = path.join(dir, '.detbuild')
    const run = spawnSync(path.join(out, 'artifacts', 'hello'), { encoding: 'utf8' })
    assert.equal(run.stdout, 'hello detbuild\n')
    assert.equal(run.stderr, 'compiled from vendor\n')
    const manifest = JSON.parse(readFileSync(path.join(out, 'build.json'), 'utf8'))
    assert.deepEqual(manifest.goVendor, {
      file: 'vendor/modules.txt',
      sha256: createHash('sha256').update(modulesTxt).digest('hex'),
    })
    const prov = JSON.parse(readFileSync(path.join(out, 'provenance.intoto.json'), 'utf8'))
    assert.match(prov.predicate.buildDefinition.internalParameters.environment.GOFLAGS, /^-mod=vendor /)
    const sync = prov.predicate.buildDefinition.resolvedDependencies.find(
      (d: { name: string }) => d.name === 'golang.org/x/sync@v0.19.0',
    )
    // the digest of the vendored files: sha256 over "<sha256>  <path>\n" of vendor/golang.org/x/sync/errgroup/*
    const vendored = path.join(dir, 'vendor/golang.org/x/sync/errgroup')
    const list = readdirSync(vendored)
      .map(
        (f) =>
          `${createHash('sha256')
            .update(readFileSync(path.join(vendored, f)))
            .digest('hex')}  golang.org/x/sync/errgroup/${f}\n`,
      )
      .sort()
      .join('')
    assert.deepEqual(sync.annotations, {
      vendored: true,
      vendoredFilesSha256: createHash('sha256').update(list).digest('hex'),
    })
    assert.equal(sync.uri, 'pkg:golang/golang.org/x/sync@v0.19.0')
    // vendor/modules.txt that disagrees with go.mod: the go command refuses it, and so the build fails
    writeFileSync(path.join(dir, 'vendor/modules.txt'), modulesTxt.replace('v0.19.0', 'v0.18.0'))
    const inconsistent = await runCli(['-C', dir, 'build', '--cache-dir', cache], env())
    assert.equal(inconsistent.code, 1, inconsistent.stderr)
    assert.match(readFileSync(path.join(out, 'build.log'), 'utf8'), /inconsistent vendoring/)
    // a line go mod vendor never writes: exit 2, naming the line
    writeFileSync(path.join(dir, 'vendor/modules.txt'), `${modulesTxt}not a package\n`)
    const garbage = await runCli(['-C', dir, 'build', '--cache-dir', cache], env())
    assert.equal(garbage.code, 2, garbage.stderr)
    assert.match(garbage.stderr, /GO_VENDOR_INVALID.*vendor\/modules\.txt:\d+: not a package of a module/)
  } finally {
    removeProject(dir)
  }
})
