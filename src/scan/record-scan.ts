/**
 * Pure: a fast, conservative look at the raw bytes of one OSV record, so that a large export can be
 * matched without `JSON.parse` of every record. It validates the JSON syntax completely, checks the
 * types of the fields in `RecordShape` (osv-schema.ts, the same shape `assertOsvRecord` checks), and
 * reads only what the offline loader needs from a record it will not keep: `id`, `modified`, whether
 * it is `withdrawn`, and every `affected[].package` ecosystem and name.
 *
 * It answers `null` ("parse it fully") whenever it is not certain that `JSON.parse` followed by
 * `assertOsvRecord` would accept the record and yield exactly these values: invalid or unusual JSON
 * (escaped keys, duplicate keys of the shape, deep nesting…), a field of the wrong type, a record
 * `assertOsvRecord` would refuse, and so on. The full parse then decides, with the same errors as before.
 * A record is therefore never dropped because of a shortcut taken here.
 */
import { Capture, type Field, RecordShape, type Shape } from './osv-schema.ts'

export interface RecordSummary {
  id: string
  modified: string
  withdrawn: boolean
  /** `affected[].package.name` values, in order (may repeat) */
  names: string[]
  /** `affected[].package.ecosystem` values, pairing with `names` */
  ecosystems: string[]
}

/** Thrown inside the scanner when it is not certain; `scanRecord` turns it into null. */
const UNSURE = new Error('not certain')
const unsure = (): never => {
  throw UNSURE
}

// byte values
const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
const COMMA = 0x2c
const LBRACE = 0x7b
const RBRACE = 0x7d
const LBRACKET = 0x5b
const RBRACKET = 0x5d

/** Nesting deeper than this is left to JSON.parse (no recursion limits to worry about here). */
const MAX_DEPTH = 64

/**
 * Summarises one record from its bytes (UTF-8 JSON), or returns null when the record must be parsed
 * fully to be judged. Never throws.
 */
export function scanRecord(bytes: Buffer): RecordSummary | null {
  try {
    return new Scanner(bytes).record()
  } catch {
    // UNSURE, or anything unexpected: either way only "not certain"
    return null
  }
}

class Scanner {
  /** the bytes as a plain Uint8Array: element reads on Buffer (a subclass) are slower */
  private readonly b: Uint8Array
  private readonly buf: Buffer
  private readonly n: number
  private p = 0
  /** start, end (exclusive) and escape flag of the last string read */
  private s = 0
  private e = 0
  private escaped = false
  // what the record's shape captures (see osv-schema.ts)
  private id: string | null = null
  private modified: string | null = null
  private withdrawn = false
  private readonly names: string[] = []
  private readonly ecosystems: string[] = []
  private pkgName: string | null = null
  private pkgEcosystem: string | null = null

  constructor(buf: Buffer) {
    this.buf = buf
    this.b = new Uint8Array(buf.buffer, buf.byteOffset, buf.length)
    this.n = buf.length
  }

  record(): RecordSummary {
    this.ws()
    this.typed(RecordShape, 1)
    this.ws()
    if (this.p !== this.n) unsure()
    if (this.id === null || this.modified === null) unsure()
    return {
      id: this.id!,
      modified: this.modified!,
      withdrawn: this.withdrawn,
      names: this.names,
      ecosystems: this.ecosystems,
    }
  }

  /** A value that must have `shape`; anything else (or anything unusual) is UNSURE. */
  private typed(shape: Shape, depth: number): void {
    const b = this.b
    const c = b[this.p]
    switch (shape.kind) {
      case 'string':
        if (c !== QUOTE) unsure()
        this.string()
        if (shape.nonEmpty && this.e === this.s) unsure()
        if (shape.capture !== Capture.none) this.capture(shape.capture)
        return
      case 'object':
        if (c !== LBRACE) unsure()
        this.value(depth)
        return
      case 'array':
        if (c !== LBRACKET || depth > MAX_DEPTH) unsure()
        this.p++
        this.ws()
        if (b[this.p] === RBRACKET) {
          this.p++
          return
        }
        for (;;) {
          this.typed(shape.of, depth + 1)
          this.ws()
          if (this.more(RBRACKET)) continue
          return
        }
      case 'fields': {
        if (c !== LBRACE || depth > MAX_DEPTH) unsure()
        this.p++
        this.ws()
        if (shape.isPackage) {
          this.pkgName = null
          this.pkgEcosystem = null
        }
        let seen = 0
        if (b[this.p] === RBRACE) this.p++
        else {
          for (;;) {
            this.key()
            const field = this.field(shape.list)
            if (field === undefined) this.value(depth + 1)
            else {
              // JSON.parse keeps the last duplicate; simpler to leave such records to it
              if (seen & field.bit) unsure()
              seen |= field.bit
              this.typed(field.shape, depth + 1)
            }
            this.ws()
            if (this.more(RBRACE)) continue
            break
          }
        }
        if ((shape.required & seen) !== shape.required) unsure()
        if (shape.isPackage) {
          this.names.push(this.pkgName!)
          this.ecosystems.push(this.pkgEcosystem!)
        }
        return
      }
    }
  }

  private capture(what: Capture): void {
    switch (what) {
      case Capture.id:
        this.id = this.text()
        return
      case Capture.modified:
        this.modified = this.text()
        return
      case Capture.withdrawn:
        // a string is truthy when not empty
        this.withdrawn = this.e > this.s
        return
      case Capture.name:
        this.pkgName = this.text()
        return
      case Capture.ecosystem:
        this.pkgEcosystem = this.text()
        return
    }
  }

  /** After a member or element: a comma means more follow (true), `closer` ends the list (false). */
  private more(closer: number): boolean {
    const d = this.b[this.p++]
    if (d === COMMA) {
      this.ws()
      return true
    }
    if (d === closer) return false
    return unsure()
  }

  /** Reads `"key"` (left in `s`…`e`) and the colon after it; leaves `p` on the value's first byte. */
  private key(): void {
    if (this.b[this.p] !== QUOTE) unsure()
    this.string()
    // an escaped key could spell a known one: not worth decoding
    if (this.escaped) unsure()
    this.ws()
    if (this.b[this.p] !== COLON) unsure()
    this.p++
    this.ws()
  }

  /** The field whose name is the last key read (by length, then bytes: no string is built). */
  private field(list: readonly Field[]): Field | undefined {
    const b = this.b
    const s = this.s
    const len = this.e - s
    for (const f of list) {
      const w = f.bytes
      if (w.length !== len) continue
      let i = 0
      while (i < len && b[s + i] === w[i]) i++
      if (i === len) return f
    }
    return undefined
  }

  /** Any JSON value, validated. */
  private value(depth: number): void {
    const b = this.b
    const c = b[this.p]
    if (c === QUOTE) {
      this.string()
      return
    }
    if (c === LBRACE || c === LBRACKET) {
      if (depth > MAX_DEPTH) unsure()
      const close = c === LBRACE ? RBRACE : RBRACKET
      this.p++
      this.ws()
      if (b[this.p] === close) {
        this.p++
        return
      }
      for (;;) {
        if (close === RBRACE) {
          if (b[this.p] !== QUOTE) unsure()
          this.string()
          this.ws()
          if (b[this.p] !== COLON) unsure()
          this.p++
          this.ws()
        }
        this.value(depth + 1)
        this.ws()
        if (this.more(close)) continue
        return
      }
    }
    if (c === 0x74) this.literal('true')
    else if (c === 0x66) this.literal('false')
    else if (c === 0x6e) this.literal('null')
    else this.number()
  }

  private literal(word: string): void {
    for (let i = 0; i < word.length; i++) if (this.b[this.p + i] !== word.charCodeAt(i)) unsure()
    this.p += word.length
  }

  /**
   * `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`, and unsure of a number beyond ±1.8e308: the full parse
   * refuses those (JSON.parse would read ±Infinity), so a record holding one is never summarised here.
   * Only a number with an exponent or more than 309 integer digits can be out of range: others cost nothing.
   */
  private number(): void {
    const b = this.b
    const start = this.p
    if (b[this.p] === 0x2d) this.p++
    const first = b[this.p]
    if (first === 0x30) this.p++
    else if (first !== undefined && first >= 0x31 && first <= 0x39) this.digits()
    else unsure()
    const integerDigits = this.p - start
    if (b[this.p] === 0x2e) {
      this.p++
      this.digits()
    }
    const e = b[this.p]
    if (e === 0x65 || e === 0x45) {
      this.p++
      const sign = b[this.p]
      if (sign === 0x2b || sign === 0x2d) this.p++
      this.digits()
      if (!Number.isFinite(Number(Buffer.from(b.subarray(start, this.p)).toString('latin1')))) unsure()
    } else if (integerDigits > 309) unsure()
  }

  /** One or more decimal digits. */
  private digits(): void {
    const b = this.b
    const start = this.p
    for (;;) {
      const c = b[this.p]
      if (c === undefined || c < 0x30 || c > 0x39) break
      this.p++
    }
    if (this.p === start) unsure()
  }

  /** A string starting at `p` (on its quote); sets `s`, `e`, `escaped` and moves past the closing quote. */
  private string(): void {
    const b = this.b
    let q = this.p + 1
    this.s = q
    let escaped = false
    for (;;) {
      // plain bytes in one tight loop; past the end reads undefined, which stops it too
      let c = b[q]!
      while (c >= 0x20 && c !== QUOTE && c !== BACKSLASH) c = b[++q]!
      if (c === QUOTE) break
      // a control character, or the end of the input
      if (c !== BACKSLASH) unsure()
      escaped = true
      const x = b[q + 1]
      if (x === 0x75) {
        for (let i = 2; i < 6; i++) if (!isHex(b[q + i])) unsure()
        q += 6
        continue
      }
      // \" \\ \/ \b \f \n \r \t
      if (
        x !== QUOTE &&
        x !== BACKSLASH &&
        x !== 0x2f &&
        x !== 0x62 &&
        x !== 0x66 &&
        x !== 0x6e &&
        x !== 0x72 &&
        x !== 0x74
      )
        unsure()
      q += 2
    }
    this.e = q
    this.escaped = escaped
    this.p = q + 1
  }

  /** The decoded value of the last string read. */
  private text(): string {
    if (!this.escaped) return this.buf.toString('utf8', this.s, this.e)
    return JSON.parse(this.buf.toString('utf8', this.s - 1, this.e + 1)) as string
  }

  private ws(): void {
    const b = this.b
    for (;;) {
      const c = b[this.p]
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.p++
      else return
    }
  }
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66))
}
