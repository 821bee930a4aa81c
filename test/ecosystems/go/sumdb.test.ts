/**
 * The Go checksum database client (src/ecosystems/go/sumdb.ts): real sum.golang.org replies verify with
 * sum.golang.org's key (and fail when a byte changes); against Go's own sumdb server (x/mod/sumdb, making
 * records from a loopback module proxy with Go's dirhash), every record of trees from 1 to 300 records is
 * proven (full and partial tiles, two tile levels) and its h1: equals detbuild's own dirhash of the zip;
 * a lying proxy (changed record, tile, signature, a database of another key) is refused (exit 1,
 * GO_SUMDB_INVALID) and an unreachable database is incomplete (exit 3, GO_SUMDB_UNAVAILABLE).
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { hashZip } from '../../../src/ecosystems/go/dirhash.ts'
import {
  lookupChecksumDatabase,
  openSignedNote,
  parseLookup,
  parseTreeHead,
  resolveChecksumDatabase,
  SUM_GOLANG_ORG_KEY,
  tilePath,
} from '../../../src/ecosystems/go/sumdb.ts'
import { CheckFailedError, IncompleteError, InputError } from '../../../src/errors.ts'
import {
  type GoProxy,
  type GoSumdb,
  startGoProxy,
  startGoSumdb,
  writeModuleZip,
} from '../../helpers/go-proxy.ts'
import { repoRoot } from '../../helpers/paths.ts'

const REAL = path.join(repoRoot, 'test/fixtures/go/sumdb')
const COUNT = 300
const mod = (i: number) => `example.com/Mod${i}`
let proxy: GoProxy
let db: GoSumdb
let other: GoSumdb

before(async () => {
  const modules = new Map()
  for (let i = 0; i < COUNT; i++) {
    const key = `${mod(i)}@v1.0.${i}`
    modules.set(key, {
      mod: Buffer.from(`module ${mod(i)}\n`),
      zip: writeModuleZip(
        new Map([
          [`${key}/go.mod`, Buffer.from(`module ${mod(i)}\n`)],
          [`${key}/m.go`, Buffer.from(`package m\n\nconst N = ${i}\n`)],
        ]),
      ),
    })
  }
  proxy = await startGoProxy(modules)
  db = await startGoSumdb(proxy.url)
  other = await startGoSumdb(proxy.url, db.name)
  proxy.sumdb = { name: db.name, url: db.url }
})
after(async () => {
  db?.close()
  other?.close()
  await proxy?.close()
})

test('real sum.golang.org replies: the signed tree heads verify with the real key, a changed byte does not', () => {
  const files = readdirSync(REAL).filter((f) => f.startsWith('lookup-'))
  assert.equal(files.length, 3)
  for (const f of files) {
    const reply = readFileSync(path.join(REAL, f))
    const parsed = parseLookup(reply)
    const head = parseTreeHead(openSignedNote(parsed.signedTree, SUM_GOLANG_ORG_KEY))
    assert.ok(parsed.id < head.size, f)
    const [m, v] = f
      .replace(/^lookup-/, '')
      .replace(/\.txt$/, '')
      .replace(/_/g, '/')
      .split('@') as [string, string]
    assert.match(parsed.text, new RegExp(`^${m.replaceAll('.', '\\.')} ${v.replaceAll('.', '\\.')} h1:`), f)
    // one more record in the tree: the signature no longer covers the text
    const forged = Buffer.from(
      parsed.signedTree.toString().replace(`\n${head.size}\n`, `\n${head.size + 1}\n`),
    )
    assert.throws(
      () => openSignedNote(forged, SUM_GOLANG_ORG_KEY),
      /signature by sum\.golang\.org is not valid/,
    )
    // the same note checked against another database's key: not signed by it
    assert.throws(() => openSignedNote(parsed.signedTree, db.key), /not signed by sum\.test\.detbuild\.dev/)
  }
})

test("every record of trees of 1…300 records is proven from Go's server's tiles, and its h1: is detbuild's dirhash", async () => {
  const database = resolveChecksumDatabase(db.gosumdb)
  assert.ok(database)
  for (let i = 0; i < COUNT; i++) {
    const rec = await lookupChecksumDatabase(database, proxy.url, mod(i), `v1.0.${i}`)
    assert.equal(rec.recordId, i)
    assert.equal(rec.treeSize, i + 1)
    const zip = proxy.modules.get(`${mod(i)}@v1.0.${i}`)?.zip as Buffer
    assert.equal(
      rec.h1,
      hashZip(zip, (why) => assert.fail(why)),
    )
    assert.match(rec.goModH1 ?? '', /^h1:/)
  }
  // old records in the full tree: level-0 full and partial tiles, a level-1 tile
  for (const i of [0, 1, 127, 255, 256, 298]) {
    const rec = await lookupChecksumDatabase(database, proxy.url, mod(i), `v1.0.${i}`)
    assert.equal(rec.treeSize, COUNT)
    assert.equal(rec.recordId, i)
  }
  const tiles = proxy.requests.filter((r) => r.includes('/tile/'))
  assert.ok(tiles.includes(`/sumdb/${db.name}/tile/8/0/000`))
  assert.ok(tiles.includes(`/sumdb/${db.name}/tile/8/0/001.p/44`))
  assert.ok(tiles.some((t) => t.startsWith(`/sumdb/${db.name}/tile/8/1/000.p/1`)))
  // straight to the database's URL (GOSUMDB "<key> <url>"), not through the proxy
  const direct = resolveChecksumDatabase(`${db.key} ${db.url}`)
  assert.ok(direct)
  assert.equal((await lookupChecksumDatabase(direct, 'off', mod(7), 'v1.0.7')).recordId, 7)
})

test('a lying proxy is refused: a changed record, tile or signature, a database of another key', async () => {
  const database = resolveChecksumDatabase(db.gosumdb)
  assert.ok(database)
  const refused = async (filter: (p: string, b: Buffer) => Buffer, why: RegExp) => {
    proxy.sumdb = { name: db.name, url: db.url, filter }
    try {
      await assert.rejects(lookupChecksumDatabase(database, proxy.url, mod(200), 'v1.0.200'), (e) => {
        assert.ok(e instanceof CheckFailedError, String(e))
        assert.equal(e.code, 'GO_SUMDB_INVALID')
        assert.match(e.message, why)
        return true
      })
    } finally {
      proxy.sumdb = { name: db.name, url: db.url }
    }
  }
  const zip = proxy.modules.get(`${mod(201)}@v1.0.201`)?.zip as Buffer
  const otherH1 = hashZip(zip, (w) => assert.fail(w))
  await refused(
    (p, b) =>
      p.startsWith('lookup/') ? Buffer.from(b.toString().replace(/ h1:[^\n]+\n/, ` ${otherH1}\n`)) : b,
    /record 200 is not in the signed tree/,
  )
  await refused((p, b) => {
    if (!p.startsWith('tile/8/0/000')) return b
    const c = Buffer.from(b)
    c[32 * 201] = (c[32 * 201] as number) ^ 1
    return c
  }, /not in the signed tree/)
  await refused(
    (p, b) => (p.startsWith('tile/8/0/000') ? b.subarray(0, b.length - 32) : b),
    /holds \d+ bytes/,
  )
  // a flipped bit in the Ed25519 signature (the key hash kept)
  const flipSignature = (b: Buffer) =>
    Buffer.from(
      b.toString().replace(/(\u2014 \S+ )(\S+)\n$/, (_, head: string, b64: string) => {
        const sig = Buffer.from(b64, 'base64')
        sig[10] = (sig[10] as number) ^ 1
        return `${head}${sig.toString('base64')}\n`
      }),
    )
  await refused(
    (p, b) => (p.startsWith('lookup/') ? flipSignature(b) : b),
    /signature by sum\.test\.detbuild\.dev is not valid/,
  )
  // the answer of another database under the same name (another key): not signed by the configured key
  const real = await fetch(`${other.url}/lookup/example.com/!mod3@v1.0.3`).then(async (r) =>
    Buffer.from(await r.arrayBuffer()),
  )
  await refused((p, b) => (p.startsWith('lookup/') ? real : b), /not signed by sum\.test\.detbuild\.dev/)
})

test('a database that cannot be asked is incomplete (exit 3), never a pass', async () => {
  const database = resolveChecksumDatabase(db.gosumdb)
  assert.ok(database)
  // the proxy does not serve it and the direct URL is unreachable: a closed loopback port
  const closed = resolveChecksumDatabase(`${db.key} http://127.0.0.1:9`)
  assert.ok(closed)
  await assert.rejects(lookupChecksumDatabase(closed, proxy.url, mod(1), 'v1.0.1'), (e) => {
    assert.ok(e instanceof IncompleteError)
    assert.equal(e.code, 'GO_SUMDB_UNAVAILABLE')
    return true
  })
  // the database has no such module (404 for a lookup): it cannot vouch for it
  await assert.rejects(lookupChecksumDatabase(database, proxy.url, 'example.com/absent', 'v1.0.0'), (e) => {
    assert.ok(e instanceof IncompleteError)
    assert.equal(e.code, 'GO_SUMDB_UNAVAILABLE')
    return true
  })
})

test('GOSUMDB is read as the go command reads it; a bad value is exit 2 GO_SUMDB_CONFIG', () => {
  assert.deepEqual(resolveChecksumDatabase(undefined), {
    name: 'sum.golang.org',
    key: SUM_GOLANG_ORG_KEY,
    url: null,
  })
  assert.deepEqual(resolveChecksumDatabase(''), resolveChecksumDatabase('sum.golang.org'))
  assert.equal(resolveChecksumDatabase('off'), null)
  assert.deepEqual(resolveChecksumDatabase('sum.golang.google.cn'), {
    name: 'sum.golang.org',
    key: SUM_GOLANG_ORG_KEY,
    url: 'https://sum.golang.google.cn',
  })
  for (const bad of [
    'sum.example.com',
    'sum.golang.org+033de0af+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8',
    `${SUM_GOLANG_ORG_KEY} ftp://x`,
    `${SUM_GOLANG_ORG_KEY} https://x extra`,
  ])
    assert.throws(
      () => resolveChecksumDatabase(bad),
      (e) => e instanceof InputError && e.code === 'GO_SUMDB_CONFIG',
      bad,
    )
  assert.equal(tilePath(0, 1234067, 256), 'tile/8/0/x001/x234/067')
  assert.equal(tilePath(2, 5, 17), 'tile/8/2/005.p/17')
})
