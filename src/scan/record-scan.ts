/**
 * Pure: a fast, conservative look at the raw bytes of one OSV record, so that a large export can be
 * matched without `JSON.parse` of every record. It validates the JSON syntax completely and reads only
 * what the offline loader needs from a record it will not keep: `id`, `modified`, whether it is
 * `withdrawn`, and every `affected[].package.name`.
 *
 * It answers `null` ("parse it fully") whenever it is not certain that `JSON.parse` followed by
 * `assertOsvRecord` would accept the record and yield exactly these values: invalid or unusual JSON
 * (escaped keys, duplicate keys it relies on, non-string `withdrawn`, deep nesting…), a record
 * `assertOsvRecord` would refuse, and so on. The full parse then decides, with the same errors as before.
 * A record is therefore never dropped because of a shortcut taken here.
 */

export interface RecordSummary {
  id: string
  modified: string
  withdrawn: boolean
  /** `affected[].package.name` values that are strings, in order (may repeat) */
  names: string[]
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

// keys the scanner recognises (by their unescaped bytes)
const K_OTHER = 0
const K_ID = 1
const K_MODIFIED = 2
const K_WITHDRAWN = 3
const K_AFFECTED = 4
const K_ALIASES = 5
const K_PACKAGE = 6
const K_NAME = 7
const K_RANGES = 8
const K_EVENTS = 9
const bytesOf = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0))
const ID = bytesOf('id')
const MODIFIED = bytesOf('modified')
const WITHDRAWN = bytesOf('withdrawn')
const AFFECTED = bytesOf('affected')
const ALIASES = bytesOf('aliases')
const PACKAGE = bytesOf('package')
const NAME = bytesOf('name')
const RANGES = bytesOf('ranges')
const EVENTS = bytesOf('events')

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

  constructor(buf: Buffer) {
    this.buf = buf
    this.b = new Uint8Array(buf.buffer, buf.byteOffset, buf.length)
    this.n = buf.length
  }

  record(): RecordSummary {
    const b = this.b
    this.ws()
    if (b[this.p] !== LBRACE) unsure()
    this.p++
    let id: string | null = null
    let modified: string | null = null
    let withdrawn = false
    const names: string[] = []
    let seen = 0
    this.ws()
    if (b[this.p] === RBRACE) unsure() // no id: assertOsvRecord refuses it
    for (;;) {
      const key = this.key()
      if (key !== K_OTHER) {
        // JSON.parse keeps the last duplicate; simpler to leave such records to it
        if (seen & (1 << key)) unsure()
        seen |= 1 << key
      }
      const c = b[this.p]
      switch (key) {
        case K_ID:
          if (c !== QUOTE) unsure()
          this.string()
          if (this.e === this.s) unsure()
          id = this.text()
          break
        case K_MODIFIED:
          if (c !== QUOTE) unsure()
          this.string()
          modified = this.text()
          break
        case K_WITHDRAWN:
          // a string is truthy when not empty; other types are left to JSON.parse
          if (c !== QUOTE) unsure()
          this.string()
          withdrawn = this.e > this.s
          break
        case K_AFFECTED:
          if (c !== LBRACKET) unsure()
          this.affected(names)
          break
        case K_ALIASES:
          if (c !== LBRACKET) unsure()
          this.value(1)
          break
        default:
          this.value(1)
      }
      this.ws()
      if (this.more(RBRACE)) continue
      break
    }
    this.ws()
    if (this.p !== this.n) unsure()
    if (id === null || modified === null) unsure()
    return { id: id!, modified: modified!, withdrawn, names }
  }

  /** `affected`: an array whose elements are objects; `ranges` arrays of objects with `events` arrays. */
  private affected(names: string[]): void {
    const b = this.b
    this.p++
    this.ws()
    if (b[this.p] === RBRACKET) {
      this.p++
      return
    }
    for (;;) {
      if (b[this.p] !== LBRACE) unsure()
      this.p++
      this.ws()
      if (b[this.p] === RBRACE) this.p++
      else {
        let seen = 0
        for (;;) {
          const key = this.key()
          if (key === K_PACKAGE || key === K_RANGES) {
            if (seen & (1 << key)) unsure()
            seen |= 1 << key
          }
          const c = b[this.p]
          if (key === K_PACKAGE && c === LBRACE) this.pkg(names)
          else if (key === K_RANGES) {
            if (c !== LBRACKET) unsure()
            this.ranges()
          } else this.value(3)
          this.ws()
          if (this.more(RBRACE)) continue
          break
        }
      }
      this.ws()
      if (this.more(RBRACKET)) continue
      return
    }
  }

  /** `affected[].package`: records every string `name` (all of them when repeated: a superset is safe). */
  private pkg(names: string[]): void {
    const b = this.b
    this.p++
    this.ws()
    if (b[this.p] === RBRACE) {
      this.p++
      return
    }
    for (;;) {
      const key = this.key()
      if (key === K_NAME && b[this.p] === QUOTE) {
        this.string()
        names.push(this.text())
      } else this.value(4)
      this.ws()
      if (this.more(RBRACE)) continue
      return
    }
  }

  /** `affected[].ranges`: each element an object holding an `events` array. */
  private ranges(): void {
    const b = this.b
    this.p++
    this.ws()
    if (b[this.p] === RBRACKET) {
      this.p++
      return
    }
    for (;;) {
      if (b[this.p] !== LBRACE) unsure()
      this.p++
      this.ws()
      let events = false
      if (b[this.p] !== RBRACE) {
        for (;;) {
          const key = this.key()
          if (key === K_EVENTS) {
            if (events || b[this.p] !== LBRACKET) unsure()
            events = true
          }
          this.value(5)
          this.ws()
          if (this.more(RBRACE)) continue
          break
        }
      } else this.p++
      if (!events) unsure()
      this.ws()
      if (this.more(RBRACKET)) continue
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

  /** Reads `"key"` and the colon after it; leaves `p` on the value's first byte. */
  private key(): number {
    if (this.b[this.p] !== QUOTE) unsure()
    this.string()
    // an escaped key could spell a known one: not worth decoding
    if (this.escaped) unsure()
    const k = this.keyCode()
    this.ws()
    if (this.b[this.p] !== COLON) unsure()
    this.p++
    this.ws()
    return k
  }

  private keyCode(): number {
    // by length first: most keys are none of these and cost one comparison
    switch (this.e - this.s) {
      case 2:
        return this.is(ID) ? K_ID : K_OTHER
      case 4:
        return this.is(NAME) ? K_NAME : K_OTHER
      case 6:
        return this.is(RANGES) ? K_RANGES : this.is(EVENTS) ? K_EVENTS : K_OTHER
      case 7:
        return this.is(ALIASES) ? K_ALIASES : this.is(PACKAGE) ? K_PACKAGE : K_OTHER
      case 8:
        return this.is(MODIFIED) ? K_MODIFIED : this.is(AFFECTED) ? K_AFFECTED : K_OTHER
      case 9:
        return this.is(WITHDRAWN) ? K_WITHDRAWN : K_OTHER
      default:
        return K_OTHER
    }
  }

  /** Whether the last string read is exactly `word` (same length checked by the caller). */
  private is(word: Uint8Array): boolean {
    const b = this.b
    const s = this.s
    for (let i = 0; i < word.length; i++) if (b[s + i] !== word[i]) return false
    return true
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

  /** `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?` */
  private number(): void {
    const b = this.b
    if (b[this.p] === 0x2d) this.p++
    const first = b[this.p]
    if (first === 0x30) this.p++
    else if (first !== undefined && first >= 0x31 && first <= 0x39) this.digits()
    else unsure()
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
    }
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
