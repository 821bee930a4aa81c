/**
 * Function names from the pclntab, the table the Go runtime itself needs for stack traces and so keeps in
 * stripped (`-s -w`) binaries. Layout as go1.26's `debug/gosym` reads it: an 8-byte header (magic, two
 * zero bytes, pc quantum, pointer size), then, by magic:
 *  - Go 1.20 (0xfffffff1) and 1.18 (0xfffffff0): nfunc, nfile, textStart, then the offsets of funcnametab,
 *    cutab, filetab, pctab and funcdata (= functab), each pointer-sized; functab entries are two uint32
 *    (entry offset, func offset); a _func begins with a uint32 entry offset, then the int32 name offset;
 *  - Go 1.16 (0xfffffffa): nfunc, nfile, then funcnametab, cutab, filetab, pctab, funcdata offsets; functab
 *    entries are two pointers; a _func begins with a pointer-sized entry, then the name offset;
 *  - Go 1.2 (0xfffffffb): nfunc, then functab at 8+ptrSize; offsets are from the table's start.
 * Names are NUL-terminated. Every offset is checked against the table; finding the end of each name is one
 * sweep over the names in offset order, so hostile offsets cannot make the work quadratic.
 * When no section names the table (PE; ELF or Mach-O without section headers), read-only ranges are
 * searched for a header that parses.
 */

import type { FileRange, Image } from './containers.ts'
import { type BinaryFile, Endian, MAX_READ } from './file.ts'

const GO12 = 0xfffffffb
const GO116 = 0xfffffffa
const GO118 = 0xfffffff0
const GO120 = 0xfffffff1
const MAGICS = new Set([GO12, GO116, GO118, GO120])
const SEARCH_CHUNK = 4 * 1024 * 1024

/** Why a table does not parse, or null when it does; `names` gets its sorted unique names. */
function parse(data: Buffer, out: { names?: string[] }): string | null {
  if (data.length < 16) return 'is shorter than its header'
  const quantum = data[6]
  const ptr = data[7]
  if (
    data[4] !== 0 ||
    data[5] !== 0 ||
    (quantum !== 1 && quantum !== 2 && quantum !== 4) ||
    (ptr !== 4 && ptr !== 8)
  )
    return 'has a bad header'
  let e: Endian
  let magic: number
  if (MAGICS.has(data.readUInt32LE(0))) {
    e = new Endian(true)
    magic = data.readUInt32LE(0)
  } else if (MAGICS.has(data.readUInt32BE(0))) {
    e = new Endian(false)
    magic = data.readUInt32BE(0)
  } else return 'has an unknown magic'
  const word = (n: number): number =>
    8 + (n + 1) * ptr <= data.length ? e.uptr(data, 8 + n * ptr, ptr) : Number.POSITIVE_INFINITY
  let nfunc: number
  let names: number
  let funcdata: number
  let functab: number
  let field: 4 | 8
  let nameField: number
  if (magic === GO118 || magic === GO120) {
    nfunc = word(0)
    names = word(3)
    funcdata = word(7)
    functab = funcdata
    field = 4
    nameField = 4
  } else if (magic === GO116) {
    nfunc = word(0)
    names = word(2)
    funcdata = word(6)
    functab = funcdata
    field = ptr
    nameField = ptr
  } else {
    nfunc = word(0)
    names = 0
    funcdata = 0
    functab = 8 + ptr
    field = ptr
    nameField = ptr
  }
  if (!(names < data.length) || !(funcdata < data.length)) return 'has offsets outside the table'
  if (!(nfunc <= (data.length - functab) / field)) return `claims ${nfunc} functions`
  if (functab + (2 * nfunc + 1) * field > data.length) return `claims ${nfunc} functions`
  // the name offset of every function
  const offsets = new Float64Array(nfunc)
  for (let i = 0; i < nfunc; i++) {
    const funcOff = e.uptr(data, functab + (2 * i + 1) * field, field)
    const at = funcdata + funcOff + nameField
    if (!(at + 4 <= data.length)) return `names function ${i} outside the table`
    const nameOff = e.u32(data, at)
    if (nameOff >= 0x80000000 || names + nameOff >= data.length)
      return `gives function ${i} a name outside the table`
    offsets[i] = names + nameOff
  }
  offsets.sort()
  const seen = new Set<string>()
  let nul = -1
  // names never overlap in a real table: the bytes of all names together fit in the table (this bounds
  // the text made from hostile offsets that all point into one long name)
  let total = 0
  for (let i = 0; i < nfunc; i++) {
    const start = offsets[i] as number
    if (i > 0 && start === offsets[i - 1]) continue
    if (nul < start) nul = data.indexOf(0, start)
    if (nul < 0) return 'has a function name without its end'
    total += nul - start
    if (total > data.length) return 'has function names that overlap'
    seen.add(data.toString('utf8', start, nul))
  }
  out.names = [...seen].sort()
  return null
}

/** Candidate headers tried at most (each costs a read of the rest of its range). */
const MAX_CANDIDATES = 16

/** The magics as they appear in the file, in either byte order. */
const MAGIC_BYTES = [...MAGICS].flatMap((m) => {
  const le = Buffer.alloc(4)
  le.writeUInt32LE(m)
  const be = Buffer.alloc(4)
  be.writeUInt32BE(m)
  return [le, be]
})

async function search(f: BinaryFile, ranges: FileRange[]): Promise<Buffer | null> {
  let candidates = 0
  for (const r of ranges) {
    const end = Math.min(r.offset + r.size, f.size)
    for (let at = r.offset; at < end; at += SEARCH_CHUNK) {
      const chunk = await f.readUpTo(at, Math.min(SEARCH_CHUNK + 8, end - at))
      // every 4-aligned offset holding a magic followed by the two zero bytes, in file order
      const hits: number[] = []
      for (const magic of MAGIC_BYTES)
        for (let i = chunk.indexOf(magic); i >= 0 && i < SEARCH_CHUNK; i = chunk.indexOf(magic, i + 1))
          if (i % 4 === 0 && chunk[i + 4] === 0 && chunk[i + 5] === 0) hits.push(i)
      hits.sort((a, b) => a - b)
      for (const i of hits) {
        if (++candidates > MAX_CANDIDATES) return null
        const size = Math.min(end - (at + i), MAX_READ)
        const table = await f.readUpTo(at + i, size)
        if (parse(table, {}) === null) return table
      }
    }
  }
  return null
}

/**
 * The function names, sorted and unique; undefined when the file has no pclntab to be found (the caller
 * must then treat the symbols as unknown, never as absent). A named table that does not parse is
 * GO_BINARY_PCLNTAB_INVALID.
 */
export async function readSymbols(f: BinaryFile, image: Image): Promise<string[] | undefined> {
  const table = await findTable(f, image)
  if (table === null) return undefined
  const out: { names?: string[] } = {}
  const problem = parse(table, out)
  if (problem !== null)
    throw f.fail('GO_BINARY_PCLNTAB_INVALID', `the Go function table (pclntab) ${problem}`)
  return out.names
}

async function findTable(f: BinaryFile, image: Image): Promise<Buffer | null> {
  if (image.pclntab) return f.read(image.pclntab.offset, image.pclntab.size, 'pclntab')
  return search(f, image.pclntabSearch)
}

/**
 * Cheap: whether the executable has a Go function table. A named section is checked by its 8-byte header
 * only; ELF and Mach-O files with section names but no pclntab section are not Go programs (the Go linker
 * always names it), so only PE files and files without section headers are searched.
 */
export async function hasFunctionTable(f: BinaryFile, image: Image): Promise<boolean> {
  if (image.pclntab) {
    if (image.pclntab.size < 16) return false
    const head = await f.read(image.pclntab.offset, 8, 'pclntab header')
    return (
      (MAGICS.has(head.readUInt32LE(0)) || MAGICS.has(head.readUInt32BE(0))) && head[4] === 0 && head[5] === 0
    )
  }
  if (image.namedSections) return false
  return (await search(f, image.pclntabSearch)) !== null
}
