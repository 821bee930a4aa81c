/**
 * The three executable containers, read only as far as Go's `debug/buildinfo` and `debug/gosym` need: the
 * file-backed address ranges (ELF program headers, Mach-O segments, PE sections), where the build info
 * lives (a named section, or the first writable data segment to search), and where the pclntab lives (a
 * named section, or read-only ranges to search for its magic when sections were stripped or, in PE, never
 * named). Every table length is checked against the file before it is read (`file.ts`).
 */
import { type BinaryFile, Endian, isRange } from './file.ts'

/** A file-backed range of the program's address space. */
export interface Mapping {
  addr: number
  size: number
  offset: number
}

/** A range of the file. */
export interface FileRange {
  offset: number
  size: number
}

export interface Image {
  container: 'elf' | 'macho' | 'pe'
  little: boolean
  /** in the order Go's `DataReader` tries them */
  mappings: Mapping[]
  /** where Go looks for the build-info magic (`DataStart`), or null when there is nowhere to look */
  dataStart: { addr: number; size: number } | null
  /** the pclntab section's bytes, when a section names it */
  pclntab: FileRange | null
  /** read-only ranges to search for the pclntab magic when no section names it */
  pclntabSearch: FileRange[]
  /** whether the file names its sections (ELF with section headers, Mach-O): a Go linker names its pclntab */
  namedSections: boolean
}

/** Section headers above this count are refused (ELF's own limit without the extension is 65535). */
const MAX_SECTIONS = 65536
/** Mach-O load commands larger than this are refused (real ones are a few KiB). */
const MAX_LOAD_COMMANDS = 16 * 1024 * 1024
/** Section-name bytes read from an ELF string table (names are only compared with Go's). */
const MAX_SHSTRTAB = 1024 * 1024

/** ELF: sections for the names, program headers for the addresses. */
export async function parseElf(f: BinaryFile): Promise<Image> {
  const ident = await f.read(0, 16, 'ELF identification')
  const cls = ident[4]
  const data = ident[5]
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2))
    throw f.fail('GO_BINARY_MALFORMED', `unknown ELF class ${cls} or byte order ${data}`)
  const is64 = cls === 2
  const e = new Endian(data === 1)
  const h = await f.read(0, is64 ? 64 : 52, 'ELF header')
  const phoff = is64 ? e.u64(h, 0x20) : e.u32(h, 0x1c)
  const shoff = is64 ? e.u64(h, 0x28) : e.u32(h, 0x20)
  const at = is64 ? 0x36 : 0x2a
  const phentsize = e.u16(h, at)
  const phnum = e.u16(h, at + 2)
  const shentsize = e.u16(h, at + 4)
  let shnum = e.u16(h, at + 6)
  let shstrndx = e.u16(h, at + 8)

  const mappings: Mapping[] = []
  const loads: Array<{ flags: number; addr: number; memsz: number; offset: number; filesz: number }> = []
  if (phnum > 0) {
    const want = is64 ? 56 : 32
    if (phentsize !== want)
      throw f.fail('GO_BINARY_MALFORMED', `ELF program header size ${phentsize}, not ${want}`)
    const table = await f.read(phoff, phnum * want, 'ELF program header table')
    for (let i = 0; i < phnum; i++) {
      const o = i * want
      const type = e.u32(table, o)
      const flags = is64 ? e.u32(table, o + 4) : e.u32(table, o + 24)
      const offset = is64 ? e.u64(table, o + 8) : e.u32(table, o + 4)
      const addr = is64 ? e.u64(table, o + 16) : e.u32(table, o + 8)
      const filesz = is64 ? e.u64(table, o + 32) : e.u32(table, o + 16)
      const memsz = is64 ? e.u64(table, o + 40) : e.u32(table, o + 20)
      if (filesz > 0) mappings.push({ addr, size: filesz, offset })
      if (type === 1) loads.push({ flags, addr, memsz, offset, filesz })
    }
  }

  const sections: Array<{ name: string; type: number; addr: number; offset: number; size: number }> = []
  if (shoff > 0) {
    const want = is64 ? 64 : 40
    if (shentsize !== want)
      throw f.fail('GO_BINARY_MALFORMED', `ELF section header size ${shentsize}, not ${want}`)
    if (shnum === 0 || shstrndx === 0xffff) {
      // the extension: the real count and string-table index are in section 0
      const zero = await f.read(shoff, want, 'ELF section header 0')
      if (shnum === 0) shnum = is64 ? e.u64(zero, 32) : e.u32(zero, 20)
      if (shstrndx === 0xffff) shstrndx = e.u32(zero, is64 ? 40 : 24)
    }
    if (shnum > MAX_SECTIONS)
      throw f.fail('GO_BINARY_MALFORMED', `${shnum} ELF sections (more than ${MAX_SECTIONS})`)
    const table = await f.read(shoff, shnum * want, 'ELF section header table')
    const raw = []
    for (let i = 0; i < shnum; i++) {
      const o = i * want
      raw.push({
        nameOff: e.u32(table, o),
        type: e.u32(table, o + 4),
        addr: is64 ? e.u64(table, o + 16) : e.u32(table, o + 12),
        offset: is64 ? e.u64(table, o + 24) : e.u32(table, o + 16),
        size: is64 ? e.u64(table, o + 32) : e.u32(table, o + 20),
      })
    }
    let names: Buffer = Buffer.alloc(0)
    if (shstrndx !== 0 && shstrndx < shnum) {
      const s = raw[shstrndx] as (typeof raw)[number]
      if (!isRange(s.offset, s.size, f.size))
        throw f.fail('GO_BINARY_TRUNCATED', 'the ELF section-name table lies outside the file')
      names = await f.read(s.offset, Math.min(s.size, MAX_SHSTRTAB), 'ELF section-name table')
    }
    for (const s of raw) {
      const end = s.nameOff < names.length ? names.indexOf(0, s.nameOff) : -1
      const name = end < 0 ? '' : names.toString('latin1', s.nameOff, end)
      sections.push({ name, type: s.type, addr: s.addr, offset: s.offset, size: s.size })
    }
  }

  const buildinfo = sections.find((s) => s.name === '.go.buildinfo')
  let dataStart: Image['dataStart'] = null
  if (buildinfo) dataStart = { addr: buildinfo.addr, size: buildinfo.size }
  else {
    const PF_X = 1
    const PF_W = 2
    const data = loads.find((p) => (p.flags & (PF_X | PF_W)) === PF_W)
    if (data) dataStart = { addr: data.addr, size: data.memsz }
  }
  const SHT_NOBITS = 8
  const pcln = sections.find((s) => s.name === '.gopclntab' && s.type !== SHT_NOBITS)
  return {
    container: 'elf',
    little: e.little,
    mappings,
    dataStart,
    pclntab: pcln ? sectionRange(f, pcln, '.gopclntab') : null,
    namedSections: sections.length > 0,
    pclntabSearch: loads
      .filter((p) => (p.flags & 2) === 0)
      .map((p) => ({ offset: p.offset, size: p.filesz })),
  }
}

function sectionRange(f: BinaryFile, s: { offset: number; size: number }, name: string): FileRange {
  if (!isRange(s.offset, s.size, f.size))
    throw f.fail('GO_BINARY_TRUNCATED', `the ${name} section lies outside the file`)
  return { offset: s.offset, size: s.size }
}

const FAT_MAX_ARCHES = 20

/** Mach-O, thin or fat (the first architecture, as Go reads it). */
export async function parseMacho(f: BinaryFile): Promise<Image> {
  const head = await f.read(0, 8, 'Mach-O header')
  const magic = head.readUInt32BE(0)
  if (magic === 0xcafebabe || magic === 0xcafebabf) {
    const wide = magic === 0xcafebabf
    const count = head.readUInt32BE(4)
    if (count === 0 || count >= FAT_MAX_ARCHES)
      throw f.fail('GO_BINARY_MALFORMED', `a fat Mach-O with ${count} architectures`)
    const entry = await f.read(8, wide ? 32 : 20, 'fat Mach-O architecture table')
    const be = new Endian(false)
    const offset = wide ? be.u64(entry, 8) : be.u32(entry, 8)
    const size = wide ? be.u64(entry, 16) : be.u32(entry, 12)
    if (!isRange(offset, size, f.size) || offset < 8)
      throw f.fail('GO_BINARY_TRUNCATED', 'the fat Mach-O architecture lies outside the file')
    return parseThinMacho(f, offset)
  }
  return parseThinMacho(f, 0)
}

async function parseThinMacho(f: BinaryFile, base: number): Promise<Image> {
  const first = await f.read(base, 4, 'Mach-O header')
  let e: Endian
  let is64: boolean
  const le = first.readUInt32LE(0)
  if (le === 0xfeedface || le === 0xfeedfacf) {
    e = new Endian(true)
    is64 = le === 0xfeedfacf
  } else {
    const be = first.readUInt32BE(0)
    if (be !== 0xfeedface && be !== 0xfeedfacf) throw f.fail('GO_BINARY_MALFORMED', 'not a Mach-O header')
    e = new Endian(false)
    is64 = be === 0xfeedfacf
  }
  const headerSize = is64 ? 32 : 28
  const h = await f.read(base, headerSize, 'Mach-O header')
  const ncmds = e.u32(h, 16)
  const sizeofcmds = e.u32(h, 20)
  if (sizeofcmds > MAX_LOAD_COMMANDS)
    throw f.fail(
      'GO_BINARY_MALFORMED',
      `${sizeofcmds} bytes of Mach-O load commands (more than ${MAX_LOAD_COMMANDS})`,
    )
  const cmds = await f.read(base + headerSize, sizeofcmds, 'Mach-O load commands')
  const mappings: Mapping[] = []
  const segments: Array<{
    name: string
    addr: number
    vmsize: number
    offset: number
    filesz: number
    maxprot: number
    prot: number
  }> = []
  const sections: Array<{ name: string; addr: number; size: number; offset: number; flags: number }> = []
  let at = 0
  for (let i = 0; i < ncmds; i++) {
    if (at + 8 > cmds.length)
      throw f.fail('GO_BINARY_MALFORMED', `Mach-O load command ${i} lies outside the load commands`)
    const cmd = e.u32(cmds, at)
    const size = e.u32(cmds, at + 4)
    if (size < 8 || at + size > cmds.length)
      throw f.fail('GO_BINARY_MALFORMED', `Mach-O load command ${i} has size ${size}`)
    const LC_SEGMENT = 0x1
    const LC_SEGMENT_64 = 0x19
    if (cmd === LC_SEGMENT || cmd === LC_SEGMENT_64) {
      const wide = cmd === LC_SEGMENT_64
      const fixed = wide ? 72 : 56
      const sect = wide ? 80 : 68
      if (size < fixed) throw f.fail('GO_BINARY_MALFORMED', `Mach-O segment command ${i} is too short`)
      const c = cmds.subarray(at, at + size)
      const name = cstring(c, 8, 16)
      const seg = wide
        ? {
            name,
            addr: e.u64(c, 24),
            vmsize: e.u64(c, 32),
            offset: e.u64(c, 40),
            filesz: e.u64(c, 48),
            maxprot: e.u32(c, 56),
            prot: e.u32(c, 60),
            nsects: e.u32(c, 64),
          }
        : {
            name,
            addr: e.u32(c, 24),
            vmsize: e.u32(c, 28),
            offset: e.u32(c, 32),
            filesz: e.u32(c, 36),
            maxprot: e.u32(c, 40),
            prot: e.u32(c, 44),
            nsects: e.u32(c, 48),
          }
      if (fixed + seg.nsects * sect > size)
        throw f.fail(
          'GO_BINARY_MALFORMED',
          `Mach-O segment ${JSON.stringify(name)} claims ${seg.nsects} sections`,
        )
      segments.push({ ...seg, offset: base + seg.offset })
      if (seg.filesz > 0 && name !== '__PAGEZERO')
        mappings.push({ addr: seg.addr, size: seg.filesz, offset: base + seg.offset })
      for (let s = 0; s < seg.nsects; s++) {
        const o = fixed + s * sect
        sections.push({
          name: cstring(c, o, 16),
          addr: wide ? e.u64(c, o + 32) : e.u32(c, o + 32),
          size: wide ? e.u64(c, o + 40) : e.u32(c, o + 36),
          offset: base + e.u32(c, o + (wide ? 48 : 40)),
          flags: e.u32(c, o + (wide ? 64 : 56)),
        })
      }
    }
    at += size
  }
  const buildinfo = sections.find((s) => s.name === '__go_buildinfo')
  let dataStart: Image['dataStart'] = null
  if (buildinfo) dataStart = { addr: buildinfo.addr, size: buildinfo.size }
  else {
    const RW = 3
    const data = segments.find((s) => s.addr !== 0 && s.filesz !== 0 && s.prot === RW && s.maxprot === RW)
    if (data) dataStart = { addr: data.addr, size: data.vmsize }
  }
  const S_ZEROFILL = 1
  const pcln = sections.find((s) => s.name === '__gopclntab' && (s.flags & 0xff) !== S_ZEROFILL)
  return {
    container: 'macho',
    little: e.little,
    mappings,
    dataStart,
    pclntab: pcln ? sectionRange(f, pcln, '__gopclntab') : null,
    namedSections: sections.length > 0,
    pclntabSearch: segments
      .filter((s) => s.filesz > 0 && s.name !== '__PAGEZERO' && (s.prot & 2) === 0)
      .map((s) => ({ offset: s.offset, size: s.filesz })),
  }
}

function cstring(b: Buffer, at: number, max: number): string {
  const end = b.indexOf(0, at)
  return b.toString('latin1', at, end < 0 || end > at + max ? at + max : end)
}

/** PE: a DOS header whose `e_lfanew` does not lead to "PE\0\0" is a DOS program or no program: null. */
export async function parsePe(f: BinaryFile): Promise<Image | null> {
  if (f.size < 64) return null
  const dos = await f.read(0, 64, 'DOS header')
  const lfanew = dos.readUInt32LE(0x3c)
  if (!isRange(lfanew, 24, f.size)) return null
  const coff = await f.read(lfanew, 24, 'PE header')
  if (coff.readUInt32BE(0) !== 0x50450000) return null
  const e = new Endian(true)
  const nsections = e.u16(coff, 6)
  const optSize = e.u16(coff, 20)
  if (optSize < 2) throw f.fail('GO_BINARY_MALFORMED', 'a PE file without an optional header')
  const opt = await f.read(lfanew + 24, optSize, 'PE optional header')
  const magic = e.u16(opt, 0)
  let imageBase: number
  if (magic === 0x10b && optSize >= 32) imageBase = e.u32(opt, 28)
  else if (magic === 0x20b && optSize >= 32) imageBase = e.u64(opt, 24)
  else
    throw f.fail(
      'GO_BINARY_MALFORMED',
      `unknown PE optional header (magic 0x${magic.toString(16)}, ${optSize} bytes)`,
    )
  const table = await f.read(lfanew + 24 + optSize, nsections * 40, 'PE section table')
  const mappings: Mapping[] = []
  let dataStart: Image['dataStart'] = null
  const pclntabSearch: FileRange[] = []
  for (let i = 0; i < nsections; i++) {
    const o = i * 40
    const virtualSize = e.u32(table, o + 8)
    const va = e.u32(table, o + 12)
    const rawSize = e.u32(table, o + 16)
    const rawOffset = e.u32(table, o + 20)
    const characteristics = e.u32(table, o + 36)
    if (rawSize > 0) mappings.push({ addr: imageBase + va, size: rawSize, offset: rawOffset })
    const DATA_RW = (0x00000040 | 0x40000000 | 0x80000000) >>> 0
    const ALIGN_32 = 0x600000
    if (dataStart === null && va !== 0 && rawSize !== 0 && (characteristics & ~ALIGN_32) >>> 0 === DATA_RW)
      dataStart = { addr: imageBase + va, size: virtualSize }
    const WRITE = 0x80000000
    const CODE = 0x20
    const INITIALIZED = 0x40
    if (rawSize > 0 && (characteristics & (WRITE | CODE)) === 0 && (characteristics & INITIALIZED) !== 0)
      pclntabSearch.push({ offset: rawOffset, size: rawSize })
  }
  return {
    container: 'pe',
    little: true,
    mappings,
    dataStart,
    pclntab: null,
    pclntabSearch,
    namedSections: false,
  }
}
