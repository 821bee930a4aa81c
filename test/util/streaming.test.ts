/**
 * Streaming hashing and archive writing: the digests equal coreutils', the streamed .tar.gz equals the
 * in-memory writer's bytes, and — a contract — memory stays bounded whatever the file's size: a 3 GiB
 * sparse file (no disk used) is hashed, and a large member archived, in a child process that reports its
 * peak RSS, compared with a child that loads the same module and does nothing large.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { digestBytes, digestFile } from '../../src/util/digest.ts'
import {
  type ArchiveEntry,
  GZIP_LEVEL,
  gzipFixed,
  normalizeEntries,
  type StreamEntry,
  writeArchiveFile,
  writeTar,
} from '../../src/util/tar.ts'
import { tempDir } from '../helpers/paths.ts'

const DIGEST_MODULE = fileURLToPath(new URL('../../src/util/digest.ts', import.meta.url))
const TAR_MODULE = fileURLToPath(new URL('../../src/util/tar.ts', import.meta.url))
const MiB = 1024 * 1024

/** Runs `body` (an ES module's text) in a fresh node; it prints JSON, with its peak RSS in `peakKiB`. */
function child(body: string): Record<string, unknown> {
  const script = `${body}\nconsole.log(JSON.stringify({ ...result, peakKiB: process.resourceUsage().maxRSS }))`
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').at(-1) as string) as Record<string, unknown>
}

test('digestFile: one read gives what sha256sum and sha512sum say, for empty, odd-sized and multi-chunk files', async () => {
  const dir = tempDir('digest-file')
  for (const size of [0, 1, 2 * MiB - 1, 2 * MiB, 5 * MiB + 3]) {
    const file = path.join(dir, `f${size}`)
    writeFileSync(file, randomBytes(size))
    const d = await digestFile(file)
    assert.equal(d.size, size)
    assert.equal(d.sha256, execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0])
    assert.equal(d.sha512, execFileSync('sha512sum', [file], { encoding: 'utf8' }).split(' ')[0])
    assert.deepEqual(d, digestBytes(readFileSync(file)))
  }
})

test('digestFile: a 3 GiB file (larger than a Buffer can hold) is hashed in bounded memory', () => {
  const dir = mkdtempIn()
  const big = path.join(dir, 'big.bin')
  writeFileSync(big, '')
  truncateSync(big, 3 * 1024 * MiB) // sparse: no disk is used
  const small = path.join(dir, 'small.bin')
  writeFileSync(small, 'x')
  try {
    const run = (file: string) =>
      child(
        `const { digestFile } = await import(${JSON.stringify(DIGEST_MODULE)})\nconst result = await digestFile(${JSON.stringify(file)})`,
      )
    const baseline = run(small)
    const large = run(big)
    // every byte was read (the digests themselves are checked against coreutils on smaller files above)
    assert.equal(large.size, 3 * 1024 * MiB)
    const grewMiB = ((large.peakKiB as number) - (baseline.peakKiB as number)) / 1024
    assert.ok(grewMiB <= 64, `hashing 3 GiB took ${grewMiB.toFixed(1)} MiB more than hashing 1 byte`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

function mkdtempIn(): string {
  const dir = path.join(tmpdir(), `detbuild-stream-${process.pid}-${Date.now()}`)
  mkdirSync(dir, { recursive: true })
  return dir
}

function entry(
  p: string,
  type: ArchiveEntry['type'],
  data = Buffer.alloc(0),
  extra: Partial<ArchiveEntry> = {},
) {
  return {
    path: p,
    type,
    mode: 0o644,
    mtime: 1,
    uid: 5,
    gid: 6,
    uname: 'u',
    gname: 'g',
    linkpath: '',
    data,
    ...extra,
  }
}

test('writeArchiveFile: byte-identical to gzipFixed(writeTar(…)) at every level, data from disk or memory', async () => {
  const dir = tempDir('stream-archive')
  const longName = `${'deep/'.repeat(30)}file.txt`
  const entries = normalizeEntries(
    [
      entry('package/b.js', 'file', randomBytes(3 * MiB + 17)),
      entry('package/a.txt', 'file', Buffer.from('hello\n'), { mode: 0o755 }),
      entry('package/empty', 'file'),
      entry('package/dir', 'directory'),
      entry('package/link', 'symlink', Buffer.alloc(0), { linkpath: 'a.txt' }),
      entry(`package/${longName}`, 'file', Buffer.from('long')),
      entry('package/zeros', 'file', Buffer.alloc(2 * MiB)),
    ],
    1_700_000_000,
  )
  // every file member's data goes to disk; the streamed writer reads it back from there
  const streamed: StreamEntry[] = entries.map((e, i) => {
    if (e.type !== 'file' || i % 2 === 0) return e
    const file = path.join(dir, `member-${i}`)
    writeFileSync(file, e.data)
    return { ...e, data: { file, size: e.data.length } }
  })
  for (const level of [1, 6, GZIP_LEVEL]) {
    const out = path.join(dir, `out-${level}.tgz`)
    await writeArchiveFile(streamed, out, { gzipLevel: level })
    assert.ok(readFileSync(out).equals(gzipFixed(writeTar(entries), level)), `level ${level}`)
  }
  const tar = path.join(dir, 'out.tar')
  await writeArchiveFile(streamed, tar, { gzipLevel: null })
  assert.ok(readFileSync(tar).equals(writeTar(entries)))
})

test('writeArchiveFile: a member that is not the size its header says fails, and leaves no file', async () => {
  const dir = tempDir('stream-archive-size')
  const file = path.join(dir, 'm')
  writeFileSync(file, 'abc')
  const out = path.join(dir, 'out.tgz')
  const e: StreamEntry = { ...entry('m', 'file'), data: { file, size: 2 } }
  await assert.rejects(writeArchiveFile([e], out, { gzipLevel: 9 }), /changed size/)
  await assert.rejects(
    writeArchiveFile([{ ...e, data: { file, size: 4 } }], out, { gzipLevel: 9 }),
    /changed size/,
  )
  assert.deepEqual((await import('node:fs')).readdirSync(dir).sort(), ['m'])
})

test('writeArchiveFile: a 1 GiB member is archived and gzip-ed in bounded memory', () => {
  const dir = mkdtempIn()
  const big = path.join(dir, 'big.bin')
  writeFileSync(big, '')
  truncateSync(big, 1024 * MiB)
  try {
    const run = (size: number) =>
      child(
        `const { writeArchiveFile } = await import(${JSON.stringify(TAR_MODULE)})
const { statSync } = await import('node:fs')
const out = ${JSON.stringify(path.join(dir, 'out'))} + ${size} + '.tgz'
const e = { path: 'big.bin', type: 'file', mode: 0o644, mtime: 0, uid: 0, gid: 0, uname: '', gname: '', linkpath: '' }
await writeArchiveFile([{ ...e, data: ${size} ? { file: ${JSON.stringify(big)}, size: ${size} } : Buffer.from('x') }], out, { gzipLevel: 1 })
const result = { size: statSync(out).size }`,
      )
    const baseline = run(0)
    const large = run(1024 * MiB)
    assert.ok((large.size as number) > 1000, 'the archive was written')
    const grewMiB = ((large.peakKiB as number) - (baseline.peakKiB as number)) / 1024
    assert.ok(grewMiB <= 64, `archiving 1 GiB took ${grewMiB.toFixed(1)} MiB more than archiving 1 byte`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
