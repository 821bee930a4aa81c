/**
 * The Go executable reader on hostile input: real fixture executables (ELF amd64 and 386, Mach-O arm64, PE,
 * the pre-1.18 pointer format) truncated, with bytes flipped in their headers, tables, build info and
 * pclntab, with huge lengths and offsets written over real ones, and random bytes around the magics.
 * Whatever the input, the reader returns a result or null, or throws an InputError with a GO_BINARY_* code
 * naming the file; never anything else. The work is bounded structurally, and asserted through the reader's
 * own counters: no single read larger than the file, at most a small multiple of the file read in all.
 * (No timing assertion.) Seeded: FUZZ_SEED replays, FUZZ_RUNS runs more.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import type { ReadStats } from '../../../src/ecosystems/go/binary/file.ts'
import { readGoExecutable } from '../../../src/ecosystems/go/binary/read.ts'
import { InputError } from '../../../src/errors.ts'
import { runs, SEED } from '../../fuzz/harness.ts'
import { GO_FIXTURES, goFixtureExecutables } from '../../helpers/go.ts'
import { tempDir } from '../../helpers/paths.ts'

const BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1')
const PCLNTAB_MAGICS = [0xfffffff1, 0xfffffff0, 0xfffffffa, 0xfffffffb]

/** The offsets worth hitting in one executable: headers, tables, the build info, the pclntab header. */
function interestingOffsets(bytes: Buffer): number[] {
  const out = new Set<number>()
  for (let i = 0; i < 512 && i < bytes.length; i += 4) out.add(i)
  if (bytes[0] === 0x7f && bytes.length > 0x40) {
    // ELF: the program and section header tables
    const is64 = bytes[4] === 2
    const shoff = is64 ? Number(bytes.readBigUInt64LE(0x28)) : bytes.readUInt32LE(0x20)
    for (let i = 0; i < 2048 && shoff + i < bytes.length; i += 4) out.add(shoff + i)
  }
  const bi = bytes.indexOf(BUILDINFO_MAGIC)
  if (bi >= 0) for (let i = 0; i < 64; i++) out.add(bi + i)
  for (let i = 0; i + 8 <= bytes.length; i += 4) {
    if (PCLNTAB_MAGICS.includes(bytes.readUInt32LE(i)) && bytes[i + 4] === 0 && bytes[i + 5] === 0) {
      for (let j = 0; j < 128; j++) out.add(i + j)
      break
    }
  }
  return [...out].filter((o) => o < bytes.length).sort((a, b) => a - b)
}

const SOURCES = [
  'bin/app-linux-amd64-stripped',
  'bin/app-linux-386-stripped',
  'bin/app-darwin-arm64-stripped',
  'bin/app-windows-amd64-stripped.exe',
  'npm/esbuild-linux-64@0.13.15/package/bin/esbuild',
]

interface Source {
  name: string
  bytes: Buffer
  offsets: number[]
}

function loadSources(): Source[] {
  const all = goFixtureExecutables()
  return SOURCES.map((name) => {
    assert.ok(all.includes(name), `${name} is a fixture`)
    const bytes = readFileSync(path.join(GO_FIXTURES, name))
    return { name, bytes, offsets: interestingOffsets(bytes) }
  })
}

type Mutation = (s: Source) => fc.Arbitrary<{ bytes: Buffer; description: string }>

const truncate: Mutation = (s) =>
  fc.oneof(fc.constantFrom(...s.offsets), fc.nat({ max: s.bytes.length - 1 })).map((n) => ({
    bytes: s.bytes.subarray(0, n),
    description: `truncated to ${n} bytes`,
  }))

const overwrite: Mutation = (s) =>
  fc
    .tuple(
      fc.constantFrom(...s.offsets),
      fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 8 }),
        fc.constantFrom(
          Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
          Uint8Array.from([0xff, 0xff, 0xff, 0x7f]),
          Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0]),
          Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
          Uint8Array.from([0, 0, 0, 0x40]),
        ),
      ),
    )
    .map(([at, patch]) => {
      const bytes = Buffer.from(s.bytes)
      Buffer.from(patch).copy(bytes, at)
      return { bytes, description: `bytes at ${at} set to ${Buffer.from(patch).toString('hex')}` }
    })

const flips: Mutation = (s) =>
  fc
    .array(fc.tuple(fc.constantFrom(...s.offsets), fc.integer({ min: 0, max: 7 })), {
      minLength: 1,
      maxLength: 12,
    })
    .map((list) => {
      const bytes = Buffer.from(s.bytes)
      for (const [at, bit] of list) bytes[at] = (bytes[at] as number) ^ (1 << bit)
      return { bytes, description: `bits flipped: ${list.map(([a, b]) => `${a}:${b}`).join(' ')}` }
    })

/** Random bytes behind a container magic, with the build-info magic and a pclntab header sprinkled in. */
const randomWithMagic: fc.Arbitrary<{ bytes: Buffer; description: string }> = fc
  .tuple(
    fc.constantFrom('7f454c46020100', '7f454c46010200', 'cffaedfe', 'feedfacf', 'cafebabe00000001', '4d5a'),
    fc.uint8Array({ minLength: 0, maxLength: 4096 }),
    fc.array(fc.nat({ max: 255 }), { maxLength: 6 }),
  )
  .map(([magic, random, spots]) => {
    const bytes = Buffer.from(random)
    const head = Buffer.from(magic, 'hex')
    head.copy(bytes, 0, 0, Math.min(head.length, bytes.length))
    for (const spot of spots) {
      const at = spot * 16
      if (at + 32 <= bytes.length) {
        BUILDINFO_MAGIC.copy(bytes, at)
        if (spot % 2) bytes.writeUInt32LE(0xfffffff1, at + 16)
      }
    }
    return { bytes, description: `random ${bytes.length} bytes after ${magic}, magics at ${spots.join(',')}` }
  })

let counter = 0
async function check(
  dir: string,
  input: { bytes: Buffer; description: string },
  symbols: boolean,
): Promise<void> {
  const file = path.join(dir, `case-${counter++}`)
  writeFileSync(file, input.bytes)
  const stats: ReadStats = { reads: 0, bytes: 0, largest: 0 }
  const display = `fuzz/case-${counter}`
  const where = `${input.description} (seed ${SEED})`
  try {
    const r = await readGoExecutable(file, { symbols, display, stats })
    if (r !== null) {
      assert.equal(typeof r.buildInfo.goVersion, 'string', where)
      assert.ok(Array.isArray(r.buildInfo.deps), where)
    }
  } catch (error) {
    if (!(error instanceof InputError)) throw new Error(`${where}: threw ${String(error)}`, { cause: error })
    assert.match(error.code, /^GO_BINARY_/, where)
    assert.ok(error.message.startsWith(`${display}: `), `${where}: ${error.message}`)
    assert.ok(!error.message.includes('\n'), where)
  }
  const size = input.bytes.length
  assert.ok(stats.largest <= size, `${where}: a ${stats.largest}-byte read from a ${size}-byte file`)
  assert.ok(stats.bytes <= 20 * size + 65536, `${where}: ${stats.bytes} bytes read from a ${size}-byte file`)
  assert.ok(stats.reads <= 2000, `${where}: ${stats.reads} reads`)
}

test('mutated real executables: a result, null or a GO_BINARY_* InputError, with bounded reads', async () => {
  const dir = tempDir('detbuild-go-fuzz-')
  for (const source of loadSources()) {
    const arb = fc.tuple(fc.oneof(truncate(source), overwrite(source), flips(source)), fc.boolean())
    await fc.assert(
      fc.asyncProperty(arb, async ([input, symbols]) => {
        await check(dir, input, symbols)
      }),
      { seed: SEED, numRuns: runs(source.bytes.length > 4_000_000 ? 15 : 40) },
    )
  }
})

test('random bytes behind the magics: null or a GO_BINARY_* InputError, bounded', async () => {
  const dir = tempDir('detbuild-go-fuzz-')
  await fc.assert(
    fc.asyncProperty(randomWithMagic, fc.boolean(), async (input, symbols) => {
      await check(dir, input, symbols)
    }),
    { seed: SEED, numRuns: runs(300) },
  )
})

/** Writes a copy of a fixture with `patch` applied and expects `code`. */
async function expectCode(
  source: Source,
  patch: (b: Buffer) => void,
  code: string,
  symbols = false,
): Promise<void> {
  const dir = tempDir('detbuild-go-lie-')
  const bytes = Buffer.from(source.bytes)
  patch(bytes)
  const file = path.join(dir, 'exe')
  writeFileSync(file, bytes)
  const stats: ReadStats = { reads: 0, bytes: 0, largest: 0 }
  await assert.rejects(
    readGoExecutable(file, { symbols, display: 'exe', stats }),
    (e: unknown) => e instanceof InputError && e.code === code && e.message.startsWith('exe: '),
  )
  assert.ok(stats.largest <= bytes.length)
}

test('each kind of lie has its code', async () => {
  const [elf, , macho, pe, old] = loadSources() as [Source, Source, Source, Source, Source]
  // a section table past the end of the file
  await expectCode(elf, (b) => b.writeBigUInt64LE(0xffffffffffffn, 0x28), 'GO_BINARY_TRUNCATED')
  // a section header size that is not ELF's
  await expectCode(elf, (b) => b.writeUInt16LE(63, 0x3a), 'GO_BINARY_MALFORMED')
  // the file cut before its section table (at the end of a Go ELF)
  await expectCode(
    { ...elf, bytes: elf.bytes.subarray(0, elf.bytes.length - 100) },
    () => {},
    'GO_BINARY_TRUNCATED',
  )
  // the inline version length: a huge varint
  const inline = (b: Buffer) => b.indexOf(BUILDINFO_MAGIC) + 32
  await expectCode(
    elf,
    (b) => Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]).copy(b, inline(b)),
    'GO_BINARY_BUILDINFO_INVALID',
  )
  // the inline modinfo length: past its section
  await expectCode(
    pe,
    (b) => {
      const at = inline(b)
      const vlen = b[at] as number
      Buffer.from([0xff, 0xff, 0x3f]).copy(b, at + 1 + vlen)
    },
    'GO_BINARY_BUILDINFO_INVALID',
  )
  // the pointer format: a version pointer to nowhere
  await expectCode(
    old,
    (b) => b.writeBigUInt64LE(0x7fff00000000n, b.indexOf(BUILDINFO_MAGIC) + 16),
    'GO_BINARY_BUILDINFO_INVALID',
  )
  // the pointer format: an absurd pointer size
  await expectCode(
    old,
    (b) => b.writeUInt8(3, b.indexOf(BUILDINFO_MAGIC) + 14),
    'GO_BINARY_BUILDINFO_INVALID',
  )
  // a module text line Go refuses
  await expectCode(
    macho,
    (b) => {
      const at = b.indexOf('\tdep\t'.slice(1), b.indexOf(BUILDINFO_MAGIC))
      b.write('dep\tx\ty\tz\tw', at, 'latin1')
    },
    'GO_BINARY_BUILDINFO_INVALID',
  )
  // the pclntab claims more functions than it holds (Go 1.20 header: nfunc is the first word)
  const pcln = (b: Buffer) => {
    for (let i = 0; i + 8 <= b.length; i += 4)
      if (b.readUInt32LE(i) === 0xfffffff1 && b[i + 4] === 0) return i
    throw new Error('no pclntab')
  }
  await expectCode(
    elf,
    (b) => b.writeBigUInt64LE(0x0fffffffffffn, pcln(b) + 8),
    'GO_BINARY_PCLNTAB_INVALID',
    true,
  )
  // and a function name offset outside it
  await expectCode(
    elf,
    (b) => b.writeBigUInt64LE(0x0fffffffn, pcln(b) + 8 + 3 * 8),
    'GO_BINARY_PCLNTAB_INVALID',
    true,
  )
})
