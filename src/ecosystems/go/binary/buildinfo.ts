/**
 * The build-info blob and the module text inside it, as go1.26's `debug/buildinfo.readRawBuildInfo` and
 * `runtime/debug.ParseBuildInfo` read them:
 *  - the blob starts with the 14-byte magic "\xff Go buildinf:" on a 16-byte boundary of the data start
 *    (a named section, else the first writable segment, searched in 1 MiB chunks), then a pointer size and a
 *    flags byte (bit 0 big-endian, bit 1 inline strings);
 *  - Go ≥1.18 (inline): two varint-length-prefixed strings follow the 32-byte header: version, modinfo;
 *  - older Go (pointer): the header holds two pointers to Go string headers {data pointer, length};
 *  - modinfo is framed by two 16-byte sentinels, then `path`, `mod`, `dep`, `=>` and `build` lines,
 *    tab-separated; a `build` key or value may be Go-quoted.
 */

import type { Image } from './containers.ts'
import type { BinaryFile } from './file.ts'
import { Endian } from './file.ts'
import type { GoBuildInfo, GoModule } from './index.ts'

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1')
const ALIGN = 16
const HEADER = 32
const CHUNK = 1024 * 1024
/** The longest version or modinfo string accepted (a real one is a few KiB; 10k dependencies are ~1 MiB). */
export const MAX_BUILDINFO_STRING = 16 * 1024 * 1024

/** Reads up to `size` bytes at virtual address `addr` from the mapping holding it (null: not mapped). */
async function readData(f: BinaryFile, image: Image, addr: number, size: number): Promise<Buffer | null> {
  for (const m of image.mappings) {
    if (m.addr <= addr && addr < m.addr + m.size) {
      const delta = addr - m.addr
      return f.readUpTo(m.offset + delta, Math.min(size, m.size - delta))
    }
  }
  return null
}

async function searchMagic(
  f: BinaryFile,
  image: Image,
  dataAddr: number,
  dataSize: number,
): Promise<number | null> {
  const end = dataAddr + dataSize
  if (!Number.isSafeInteger(end)) return null
  let start = Math.ceil(dataAddr / ALIGN) * ALIGN
  while (start < end) {
    const remaining = end - start
    const chunk = await readData(f, image, start, Math.min(CHUNK, remaining))
    if (chunk === null || chunk.length === 0) return null
    let from = 0
    for (;;) {
      const i = chunk.indexOf(MAGIC, from)
      if (i < 0) break
      if (i % ALIGN === 0) {
        if (remaining - i < HEADER)
          throw f.fail('GO_BINARY_BUILDINFO_INVALID', 'the Go build-info header is cut short')
        return start + i
      }
      from = Math.ceil(i / ALIGN) * ALIGN
    }
    // the magic is 16-byte aligned and chunks are multiples of 16: it never straddles two chunks
    start += Math.min(CHUNK, remaining)
  }
  return null
}

function uvarint(b: Buffer): { value: number; n: number } | null {
  let value = 0
  let scale = 1
  for (let i = 0; i < b.length && i < 10; i++) {
    const byte = b[i] as number
    value += (byte & 0x7f) * scale
    if (byte < 0x80) return Number.isSafeInteger(value) ? { value, n: i + 1 } : null
    scale *= 128
  }
  return null
}

/** The raw version and modinfo strings, or null when the file holds no build-info magic. */
export async function readRawBuildInfo(
  f: BinaryFile,
  image: Image,
): Promise<{ version: string; modinfo: string; format: 'inline' | 'pointer' } | null> {
  const ds = image.dataStart
  if (ds === null || ds.size === 0) return null
  const addr = await searchMagic(f, image, ds.addr, ds.size)
  if (addr === null) return null
  const bad = (what: string) => f.fail('GO_BINARY_BUILDINFO_INVALID', `the Go build info's ${what}`)
  const header = await readData(f, image, addr, HEADER)
  if (header === null || header.length < HEADER) throw bad('header is cut short')
  const flags = header[15] as number
  let version: string
  let modinfo: string
  let format: 'inline' | 'pointer'
  if ((flags & 0x2) === 0x2) {
    format = 'inline'
    const decode = async (at: number, what: string): Promise<{ text: string; next: number }> => {
      const prefix = await readData(f, image, at, 10)
      const v = prefix && uvarint(prefix)
      if (!v) throw bad(`${what} length is not a varint`)
      if (v.value > MAX_BUILDINFO_STRING)
        throw bad(`${what} claims ${v.value} bytes (more than ${MAX_BUILDINFO_STRING})`)
      const body = v.value === 0 ? Buffer.alloc(0) : await readData(f, image, at + v.n, v.value)
      if (body === null || body.length < v.value)
        throw bad(`${what} (${v.value} bytes) runs past its section`)
      return { text: body.toString('utf8'), next: at + v.n + v.value }
    }
    const vers = await decode(addr + HEADER, 'version')
    version = vers.text
    modinfo = (await decode(vers.next, 'module information')).text
  } else {
    format = 'pointer'
    const ptrSize = header[14]
    if (ptrSize !== 4 && ptrSize !== 8) throw bad(`pointer size ${ptrSize} is neither 4 nor 8`)
    const e = new Endian((flags & 0x1) === 0)
    const readString = async (ptr: number, what: string): Promise<string> => {
      const hdr = await readData(f, image, ptr, 2 * ptrSize)
      if (hdr === null || hdr.length < 2 * ptrSize) throw bad(`${what} string header is not in the file`)
      const data = e.uptr(hdr, 0, ptrSize)
      const length = e.uptr(hdr, ptrSize, ptrSize)
      if (length === 0) return ''
      if (length > MAX_BUILDINFO_STRING)
        throw bad(`${what} claims ${length} bytes (more than ${MAX_BUILDINFO_STRING})`)
      const body = await readData(f, image, data, length)
      if (body === null || body.length < length) throw bad(`${what} (${length} bytes) is not in the file`)
      return body.toString('utf8')
    }
    version = await readString(e.uptr(header, 16, ptrSize), 'version')
    // a modinfo pointer that leads nowhere is an empty modinfo to Go (GOPATH builds): the same here
    const modPtr = e.uptr(header, 16 + ptrSize, ptrSize)
    const modHdr = await readData(f, image, modPtr, 2 * ptrSize)
    modinfo =
      modHdr === null || modHdr.length < 2 * ptrSize ? '' : await readString(modPtr, 'module information')
  }
  if (version === '') throw bad('version is empty')
  // strip the sentinels framing the module text (cmd/go/internal/modload.infoStart and infoEnd)
  if (modinfo.length >= 33 && modinfo[modinfo.length - 17] === '\n') modinfo = modinfo.slice(16, -16)
  else modinfo = ''
  return { version, modinfo, format }
}

/** `runtime/debug.ParseBuildInfo` without the Go version line; a line it refuses is GO_BINARY_BUILDINFO_INVALID. */
export function parseModInfo(
  f: BinaryFile,
  text: string,
): Pick<GoBuildInfo, 'path' | 'main' | 'deps' | 'settings'> {
  let data = text
  let lineNum = 1
  let path = ''
  let main: GoModule | undefined
  const deps: GoModule[] = []
  const settings: Array<{ key: string; value: string }> = []
  let last: GoModule | undefined
  const bad = (problem: string) =>
    f.fail('GO_BINARY_BUILDINFO_INVALID', `the Go build info's module text, line ${lineNum}: ${problem}`)
  const moduleLine = (elem: string[]): GoModule => {
    if (elem.length !== 2 && elem.length !== 3) throw bad(`expected 2 or 3 columns; got ${elem.length}`)
    const m: GoModule = { path: elem[0] as string, version: elem[1] as string }
    if (elem.length === 3 && elem[2] !== '') m.sum = elem[2] as string
    return m
  }
  while (data.length > 0) {
    const nl = data.indexOf('\n')
    if (nl < 0) break
    const line = data.slice(0, nl)
    data = data.slice(nl + 1)
    if (line.startsWith('path\t')) path = line.slice(5)
    else if (line.startsWith('mod\t')) {
      main = moduleLine(line.slice(4).split('\t'))
      last = main
    } else if (line.startsWith('dep\t')) {
      last = moduleLine(line.slice(4).split('\t'))
      deps.push(last)
    } else if (line.startsWith('=>\t')) {
      const elem = line.slice(3).split('\t')
      if (elem.length !== 3) throw bad(`expected 3 columns for replacement; got ${elem.length}`)
      if (last === undefined) throw bad('replacement with no module on previous line')
      const r: GoModule = { path: elem[0] as string, version: elem[1] as string }
      if (elem[2] !== '') r.sum = elem[2] as string
      last.replace = r
      last = undefined
    } else if (line.startsWith('build\t')) settings.push(buildSetting(line.slice(6), bad))
    lineNum++
  }
  return { path, ...(main ? { main } : {}), deps, settings }
}

const quoteKey = (key: string) => key.length === 0 || /[= \t\r\n"`]/.test(key)
const quoteValue = (value: string) => /[ \t\r\n"`]/.test(value)

function buildSetting(kv: string, bad: (problem: string) => Error): { key: string; value: string } {
  if (kv.length < 1) throw bad("build line missing '='")
  let key: string
  let rawValue: string
  const c = kv[0]
  if (c === '=') throw bad('build line with missing key')
  if (c === '`' || c === '"') {
    const rawKey = quotedPrefix(kv)
    if (rawKey === null) throw bad('invalid quoted key in build line')
    if (kv.length === rawKey.length) throw bad("build line missing '=' after quoted key")
    if (kv[rawKey.length] !== '=')
      throw bad(`unexpected character after quoted key: ${JSON.stringify(kv[rawKey.length])}`)
    key = unquote(rawKey) as string
    rawValue = kv.slice(rawKey.length + 1)
  } else {
    const eq = kv.indexOf('=')
    if (eq < 0) throw bad("build line missing '=' after key")
    key = kv.slice(0, eq)
    rawValue = kv.slice(eq + 1)
    if (quoteKey(key)) throw bad(`unquoted key ${JSON.stringify(key)} must be quoted`)
  }
  let value = ''
  if (rawValue.length > 0) {
    if (rawValue[0] === '`' || rawValue[0] === '"') {
      const v = unquote(rawValue)
      if (v === null) throw bad('invalid quoted value in build line')
      value = v
    } else {
      value = rawValue
      if (quoteValue(value)) throw bad(`unquoted value ${JSON.stringify(value)} must be quoted`)
    }
  }
  return { key, value }
}

/** Go's `strconv.QuotedPrefix`: the quoted string at the start of `s`, or null. */
function quotedPrefix(s: string): string | null {
  const q = s[0]
  if (q === '`') {
    const end = s.indexOf('`', 1)
    return end < 0 ? null : s.slice(0, end + 1)
  }
  for (let i = 1; i < s.length; i++) {
    const c = s[i]
    if (c === '\n') return null
    if (c === '\\') i++
    else if (c === q) {
      const prefix = s.slice(0, i + 1)
      return unquote(prefix) === null ? null : prefix
    }
  }
  return null
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
}

/** Go's `strconv.Unquote` for "..." and `...` strings, or null when Go would refuse it. */
function unquote(s: string): string | null {
  if (s.length < 2) return null
  const q = s[0]
  if (s[s.length - 1] !== q) return null
  const body = s.slice(1, -1)
  if (q === '`') return body.includes('`') ? null : body.replaceAll('\r', '')
  if (q !== '"') return null
  const bytes: number[] = []
  const pushText = (t: string) => {
    for (const b of Buffer.from(t, 'utf8')) bytes.push(b)
  }
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string
    if (c === '"' || c === '\n') return null
    if (c !== '\\') {
      pushText(c)
      continue
    }
    const n = body[++i]
    if (n === undefined) return null
    const simple = SIMPLE_ESCAPES[n]
    if (simple !== undefined) pushText(simple)
    else if (n === 'x' || n === 'u' || n === 'U') {
      const len = n === 'x' ? 2 : n === 'u' ? 4 : 8
      const hex = body.slice(i + 1, i + 1 + len)
      if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) return null
      const v = Number.parseInt(hex, 16)
      i += len
      if (n === 'x') bytes.push(v)
      else {
        if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) return null
        pushText(String.fromCodePoint(v))
      }
    } else if (n >= '0' && n <= '7') {
      const oct = body.slice(i, i + 3)
      if (!/^[0-7]{3}$/.test(oct)) return null
      const v = Number.parseInt(oct, 8)
      if (v > 255) return null
      bytes.push(v)
      i += 2
    } else return null
  }
  return Buffer.from(bytes).toString('utf8')
}
