/**
 * go.sum's modules into detbuild's module cache (prefetchModules) from a loopback proxy serving the real
 * golang.org/x/sync v0.19.0: verified into Go's download-cache layout and the build's private copy; a
 * cached file changed on disk is not used (fetched again); a module whose path has upper-case letters is
 * escaped as Go escapes it; a proxy zip that does not match go.sum is never written.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { parseGoSumLines, prefetchModules } from '../../src/ecosystems/go/module-proxy.ts'
import { CheckFailedError } from '../../src/errors.ts'
import { BUILD_FIXTURES, moduleFromFixture, startGoProxy, writeModuleZip } from '../helpers/go-proxy.ts'
import { tempDir } from '../helpers/paths.ts'

const SUM = readFileSync(path.join(BUILD_FIXTURES, 'hello/go.sum'), 'utf8')

test('go.sum modules are verified into the cache and the seed; a changed cached zip is fetched again', async () => {
  const real = moduleFromFixture('golang.org/x/sync', 'v0.19.0')
  const proxy = await startGoProxy(new Map([['golang.org/x/sync@v0.19.0', real]]))
  try {
    const cache = tempDir()
    const seed = tempDir()
    const lines = parseGoSumLines(SUM, 'go.sum')
    const got = await prefetchModules(lines, cache, proxy.url, 'go.sum', seed)
    assert.equal(got.fetched, 2)
    assert.deepEqual(got.modules, [
      {
        path: 'golang.org/x/sync',
        version: 'v0.19.0',
        h1: 'h1:vV+1eWNmZ5geRlYjzm2adRgW2/mcpevXNg50YZtPCE4=',
        goModH1: 'h1:9KTHXmSnoGruLpwFjVSX0lNNA75CykiMECbovNTZqGI=',
        zipSha256: (await import('node:crypto')).createHash('sha256').update(real.zip).digest('hex'),
      },
    ])
    const rel = 'cache/download/golang.org/x/sync/@v/v0.19.0'
    for (const dir of [cache, seed]) {
      assert.deepEqual(readFileSync(path.join(dir, `${rel}.zip`)), real.zip)
      assert.deepEqual(readFileSync(path.join(dir, `${rel}.mod`)), real.mod)
    }
    assert.equal(
      readFileSync(path.join(seed, `${rel}.ziphash`), 'utf8'),
      'h1:vV+1eWNmZ5geRlYjzm2adRgW2/mcpevXNg50YZtPCE4=',
    )
    // warm: nothing fetched; then a cached zip changed on disk is refused and fetched again
    assert.equal((await prefetchModules(lines, cache, proxy.url, 'go.sum', tempDir())).fetched, 0)
    writeFileSync(
      path.join(cache, `${rel}.zip`),
      writeModuleZip(new Map([['golang.org/x/sync@v0.19.0/x.go', Buffer.from('package x')]])),
    )
    const seed2 = tempDir()
    assert.equal((await prefetchModules(lines, cache, proxy.url, 'go.sum', seed2)).fetched, 1)
    assert.deepEqual(readFileSync(path.join(seed2, `${rel}.zip`)), real.zip)
  } finally {
    await proxy.close()
  }
})

test('upper-case module paths are escaped; a zip that does not match go.sum is never written', async () => {
  const zip = writeModuleZip(
    new Map([['github.com/BurntSushi/toml@v1.0.0/a.go', Buffer.from('package toml\n')]]),
  )
  const proxy = await startGoProxy(
    new Map([
      ['github.com/BurntSushi/toml@v1.0.0', { mod: Buffer.from('module github.com/BurntSushi/toml\n'), zip }],
    ]),
  )
  try {
    const cache = tempDir()
    const lines = parseGoSumLines(
      'github.com/BurntSushi/toml v1.0.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n',
      'go.sum',
    )
    await assert.rejects(
      prefetchModules(lines, cache, proxy.url, 'go.sum', tempDir()),
      (e: unknown) =>
        e instanceof CheckFailedError &&
        e.code === 'GO_MODULE_CHECKSUM_MISMATCH' &&
        /go\.sum line 1/.test(e.message),
    )
    assert.deepEqual(proxy.requests, ['/github.com/!burnt!sushi/toml/@v/v1.0.0.zip'])
    assert.equal(
      existsSync(path.join(cache, 'cache/download/github.com/!burnt!sushi/toml/@v/v1.0.0.zip')),
      false,
    )
  } finally {
    await proxy.close()
  }
})
