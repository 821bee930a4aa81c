/**
 * Bounded reads from a possibly huge, possibly hostile executable: every read names its offset and length,
 * both checked against the file's size and an absolute cap before a buffer is allocated, and every byte
 * read is counted (the fuzz tests assert the totals). Numbers taken from the file are 64-bit: they are read
 * as bigint and turned into a JS number only when exact (else `Infinity`, which every range check refuses).
 */
import type { FileHandle } from 'node:fs/promises'
import { InputError } from '../../../errors.ts'

/** The largest single read: a table or section longer than this is refused (a real pclntab is tens of MiB). */
export const MAX_READ = 256 * 1024 * 1024

/** What a reader did, for the tests: how many reads, how many bytes in all, the largest single read. */
export interface ReadStats {
  reads: number
  bytes: number
  largest: number
}

export class BinaryFile {
  readonly stats: ReadStats = { reads: 0, bytes: 0, largest: 0 }

  private readonly handle: FileHandle
  /** the file's size in bytes */
  readonly size: number
  /** the file as messages name it */
  readonly display: string

  constructor(handle: FileHandle, size: number, display: string) {
    this.handle = handle
    this.size = size
    this.display = display
  }

  /** An InputError about this file. */
  fail(
    code:
      | 'GO_BINARY_MALFORMED'
      | 'GO_BINARY_TRUNCATED'
      | 'GO_BINARY_BUILDINFO_INVALID'
      | 'GO_BINARY_PCLNTAB_INVALID',
    message: string,
  ): InputError {
    return new InputError(code, `${this.display}: ${message}`, { file: this.display })
  }

  /** Exactly `length` bytes at `offset`; a range outside the file is GO_BINARY_TRUNCATED. */
  async read(offset: number, length: number, what: string): Promise<Buffer> {
    if (!isRange(offset, length, this.size))
      throw new InputError(
        'GO_BINARY_TRUNCATED',
        `${this.display}: the ${what} (${length} bytes at offset ${offset}) lies outside the file (${this.size} bytes)`,
        { file: this.display },
      )
    if (length > MAX_READ)
      throw new InputError(
        'GO_BINARY_TOO_LARGE',
        `${this.display}: the ${what} is ${length} bytes, more than the ${MAX_READ}-byte limit`,
        { file: this.display },
      )
    return this.readRaw(offset, length)
  }

  /** Up to `length` bytes at `offset`, fewer at the end of the file, none past it. */
  async readUpTo(offset: number, length: number): Promise<Buffer> {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= this.size || !(length > 0))
      return Buffer.alloc(0)
    const n = Math.min(length, this.size - offset, MAX_READ)
    return this.readRaw(offset, n)
  }

  private async readRaw(offset: number, length: number): Promise<Buffer> {
    const buffer = Buffer.alloc(length)
    let done = 0
    while (done < length) {
      const { bytesRead } = await this.handle.read(buffer, done, length - done, offset + done)
      if (bytesRead === 0) break
      done += bytesRead
    }
    this.stats.reads++
    this.stats.bytes += done
    if (done > this.stats.largest) this.stats.largest = done
    if (done < length)
      throw new InputError(
        'GO_BINARY_TRUNCATED',
        `${this.display}: the file ended while reading it (changed meanwhile?)`,
        {
          file: this.display,
        },
      )
    return buffer
  }
}

/** Whether [offset, offset+length) is a range of whole bytes inside a file of `size` bytes. */
export function isRange(offset: number, length: number, size: number): boolean {
  return (
    Number.isSafeInteger(offset) &&
    Number.isSafeInteger(length) &&
    offset >= 0 &&
    length >= 0 &&
    offset + length <= size
  )
}

/** Reads the unsigned integers of one byte order; 64-bit values beyond 2^53 come back as Infinity. */
export class Endian {
  readonly little: boolean

  constructor(little: boolean) {
    this.little = little
  }

  u16(b: Buffer, at: number): number {
    return this.little ? b.readUInt16LE(at) : b.readUInt16BE(at)
  }

  u32(b: Buffer, at: number): number {
    return this.little ? b.readUInt32LE(at) : b.readUInt32BE(at)
  }

  u64(b: Buffer, at: number): number {
    const v = this.little ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at)
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Number.POSITIVE_INFINITY
  }

  /** A pointer-sized unsigned integer (4 or 8 bytes). */
  uptr(b: Buffer, at: number, size: 4 | 8): number {
    return size === 8 ? this.u64(b, at) : this.u32(b, at)
  }
}
