import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import {
  archiveKindOf,
  normalizeArchive,
  readArchive,
  readTarEntries,
  readZipEntries,
  toDosTime,
  writeZip,
} from '../../src/builder/archive.ts'
import { type ArchiveEntry, gzipFixed, normalizeEntries, writeTar } from '../../src/util/tar.ts'

const EPOCH = 1700000000

function entry(
  p: string,
  type: ArchiveEntry['type'],
  mode: number,
  data = '',
  extra: Partial<ArchiveEntry> = {},
): ArchiveEntry {
  return {
    path: p,
    type,
    mode,
    mtime: 1234567890 + p.length,
    uid: 1000,
    gid: 1000,
    uname: 'alice',
    gname: 'staff',
    linkpath: '',
    data: Buffer.from(data),
    ...extra,
  }
}

/** The same content, written as a careless build would: random order, umask 077 modes, owners, times. */
function messy(order: 'a' | 'b'): ArchiveEntry[] {
  const list = [
    entry('package/', 'directory', 0o700),
    entry('package/package.json', 'file', 0o600, '{"name":"x","version":"1.0.0"}\n'),
    entry('package/bin/cli.js', 'file', 0o700, '#!/usr/bin/env node\nconsole.log(1)\n'),
    entry('package/lib/index.js', 'file', 0o664, 'export const a = 1\n'),
    entry(`package/${'deep/'.repeat(30)}long-name.js`, 'file', 0o644, 'x'),
    entry('package/link.js', 'symlink', 0o777, '', { linkpath: 'lib/index.js' }),
    entry('package/ünïcödé.txt', 'file', 0o644, 'utf8 name\n'),
  ]
  if (order === 'b') {
    list.reverse()
    for (const e of list) {
      e.mode = e.type === 'file' ? e.mode | 0o044 : e.mode
      e.mtime += 99999
      e.uid = 501
      e.uname = 'bob'
    }
  }
  return list
}

test('archiveKindOf picks the normalizer by file name', () => {
  assert.equal(archiveKindOf('a-1.0.0.tgz'), 'tgz')
  assert.equal(archiveKindOf('a.TAR.GZ'), 'tgz')
  assert.equal(archiveKindOf('a.tar'), 'tar')
  assert.equal(archiveKindOf('a.zip'), 'zip')
  assert.equal(archiveKindOf('a.js'), null)
})

test('tgz normalization: different order, modes, owners and times give byte-identical output', async () => {
  const a = gzipFixed(writeTar(messy('a')))
  const b = gzipFixed(writeTar(messy('b')))
  assert.notDeepEqual(a, b)
  const na = await normalizeArchive('tgz', a, EPOCH)
  const nb = await normalizeArchive('tgz', b, EPOCH)
  assert.deepEqual(na, nb)
  // idempotent: normalizing a normalized archive changes nothing (run twice, compare bytes)
  assert.deepEqual(await normalizeArchive('tgz', na, EPOCH), na)
  // gzip header: no mtime, no name flag, OS byte 3
  assert.equal(na.readUInt32LE(4), 0)
  assert.equal(na[3], 0)
  assert.equal(na[9], 3)
  const entries = await readTarEntries(gunzipSync(na))
  assert.deepEqual(
    entries.map((e) => e.path),
    [...entries.map((e) => e.path)].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)),
  )
  for (const e of entries) {
    assert.equal(e.mtime, EPOCH)
    assert.equal(e.uid, 0)
    assert.equal(e.gid, 0)
    assert.equal(e.uname, '')
    assert.equal(e.gname, '')
  }
  const mode = (p: string) => entries.find((e) => e.path === p)?.mode
  assert.equal(mode('package/'), 0o755)
  assert.equal(mode('package/package.json'), 0o644)
  assert.equal(mode('package/bin/cli.js'), 0o755)
  assert.equal(mode('package/lib/index.js'), 0o644)
  assert.ok(entries.some((e) => e.path.endsWith('long-name.js') && e.path.length > 100))
  assert.equal(entries.find((e) => e.type === 'symlink')?.linkpath, 'lib/index.js')
})

test('normalized tar is read back by GNU tar with the same names, modes and times', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-tar-'))
  try {
    const file = path.join(dir, 'x.tar')
    writeFileSync(file, await normalizeArchive('tar', writeTar(messy('b')), EPOCH))
    const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', file], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
    })
    assert.match(listing, /-rw-r--r-- 0\/0 .* 2023-11-14 22:13:20 package\/package\.json/)
    assert.match(listing, /-rwxr-xr-x 0\/0 .* package\/bin\/cli\.js/)
    assert.match(listing, /deep\/deep\/.*long-name\.js/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('zip round trip: written zips read back, and normalization is byte-stable', async () => {
  const zipA = writeZip(messy('a').filter((e) => e.type !== 'hardlink'))
  const zipB = writeZip(messy('b'))
  assert.notDeepEqual(zipA, zipB)
  const back = readZipEntries(zipA)
  assert.equal(back.length, messy('a').length)
  assert.equal(
    back.find((e) => e.path === 'package/bin/cli.js')?.data.toString(),
    '#!/usr/bin/env node\nconsole.log(1)\n',
  )
  assert.equal(back.find((e) => e.type === 'symlink')?.linkpath, 'lib/index.js')
  const na = await normalizeArchive('zip', zipA, EPOCH)
  const nb = await normalizeArchive('zip', zipB, EPOCH)
  assert.deepEqual(na, nb)
  assert.deepEqual(await normalizeArchive('zip', na, EPOCH), na)
  const entries = await readArchive('zip', na, 'x.zip')
  assert.ok(entries.every((e) => e.mtime === Math.floor(EPOCH / 2) * 2))
  assert.equal(entries.find((e) => e.path === 'package/bin/cli.js')?.mode, 0o755)
})

test('normalized zip passes unzip -t and lists the unix modes', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-zip-'))
  try {
    const file = path.join(dir, 'x.zip')
    writeFileSync(file, await normalizeArchive('zip', writeZip(messy('b')), EPOCH))
    const out = execFileSync('unzip', ['-t', file], { encoding: 'utf8' })
    assert.match(out, /No errors detected/)
    const listing = execFileSync('unzip', ['-Z', file], { encoding: 'utf8' })
    assert.match(listing, /-rwxr-xr-x .* package\/bin\/cli\.js/)
    assert.match(listing, /-rw-r--r-- .* package\/package\.json/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a zip made by Info-ZIP is normalized to the same bytes as our own writer produces', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-zip2-'))
  try {
    writeFileSync(path.join(dir, 'b.txt'), 'bee\n'.repeat(50))
    writeFileSync(path.join(dir, 'a.txt'), 'a\n', { mode: 0o600 })
    execFileSync('zip', ['-q', '-X', 'out.zip', 'b.txt', 'a.txt'], { cwd: dir })
    const { readFileSync } = await import('node:fs')
    const normalized = await normalizeArchive('zip', readFileSync(path.join(dir, 'out.zip')), EPOCH)
    const expected = writeZip(
      normalizeEntries(
        [entry('b.txt', 'file', 0o644, 'bee\n'.repeat(50)), entry('a.txt', 'file', 0o600, 'a\n')],
        EPOCH,
      ),
    )
    assert.deepEqual(normalized, expected)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('toDosTime clamps to the zip range', () => {
  assert.deepEqual(toDosTime(0), toDosTime(Date.UTC(1980, 0, 1) / 1000))
  assert.equal(
    toDosTime(Date.UTC(2023, 10, 14, 22, 13, 20) / 1000).date,
    ((2023 - 1980) << 9) | (11 << 5) | 14,
  )
})

test('corrupt archives are refused with BUILD_ARCHIVE_INVALID', async () => {
  await assert.rejects(normalizeArchive('tgz', Buffer.from('not gzip'), EPOCH, 'x.tgz'), {
    code: 'BUILD_ARCHIVE_INVALID',
  })
  await assert.rejects(normalizeArchive('zip', Buffer.from('not a zip at all, really'), EPOCH, 'x.zip'), {
    code: 'BUILD_ARCHIVE_INVALID',
  })
})

test('normalizeArchiveFile streams through disk to the same bytes, and refuses what normalizeArchive refuses', async () => {
  const { normalizeArchiveFile } = await import('../../src/builder/archive.ts')
  const { readFileSync, mkdirSync } = await import('node:fs')
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-archive-file-'))
  try {
    let n = 0
    const viaFile = async (
      kind: 'tar' | 'tgz' | 'zip',
      bytes: Buffer,
    ): Promise<Buffer | { code: string }> => {
      n += 1
      const input = path.join(dir, `in-${n}`)
      const work = path.join(dir, `work-${n}`)
      mkdirSync(work)
      writeFileSync(input, bytes)
      try {
        await normalizeArchiveFile(kind, input, path.join(dir, `out-${n}`), EPOCH, work, `x.${kind}`)
        return readFileSync(path.join(dir, `out-${n}`))
      } catch (e) {
        return { code: String((e as { code?: string }).code) }
      }
    }
    const viaBytes = async (
      kind: 'tar' | 'tgz' | 'zip',
      bytes: Buffer,
    ): Promise<Buffer | { code: string }> => {
      try {
        return await normalizeArchive(kind, bytes, EPOCH, `x.${kind}`)
      } catch (e) {
        return { code: String((e as { code?: string }).code) }
      }
    }
    const big = entry('package/big.bin', 'file', 0o600, '')
    big.data = Buffer.alloc(3 * 1024 * 1024 + 5, 7)
    const tar = writeTar([...messy('b'), big])
    const device = Buffer.from(tar)
    device[156] = '3'.charCodeAt(0) // the first member's type flag: a character device
    device.fill(0x20, 148, 156) // its checksum, recomputed below
    let sum = 0
    for (let i = 0; i < 512; i++) sum += device[i] as number
    device.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1')
    const cases: Array<['tar' | 'tgz' | 'zip', Buffer]> = [
      ['tgz', gzipFixed(tar)],
      ['tar', tar],
      ['zip', writeZip(messy('b'))],
      ['tgz', Buffer.from('not gzip')],
      ['tgz', gzipFixed(tar).subarray(0, 200)],
      ['tar', device],
      ['tgz', gzipFixed(device)],
      ['zip', Buffer.from('not a zip at all, really')],
    ]
    for (const [i, [kind, bytes]] of cases.entries()) {
      const expected = await viaBytes(kind, bytes)
      const found = await viaFile(kind, bytes)
      assert.deepEqual(found, expected, `case ${i} (${kind})`)
    }
    assert.ok(Buffer.isBuffer(await viaBytes('tgz', gzipFixed(tar))), 'the good archives were re-packed')
    assert.deepEqual(await viaBytes('tar', device), { code: 'BUILD_ARCHIVE_INVALID' })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
