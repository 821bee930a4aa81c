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

/** Whether a shape holds a captured value (`skimRecord` reads those members and skips the others). */
function captures(shape: Shape): boolean {
  let known = CAPTURES.get(shape)
  if (known === undefined) {
    known =
      shape.kind === 'string'
        ? shape.capture !== Capture.none
        : shape.kind === 'array'
          ? captures(shape.of)
          : shape.kind === 'fields'
            ? shape.list.some((f) => captures(f.shape))
            : false
    CAPTURES.set(shape, known)
  }
  return known
}
const CAPTURES = new Map<Shape, boolean>()

/** Nesting deeper than this is left to JSON.parse (no recursion limits to worry about here). */
const MAX_DEPTH = 64

/**
 * Summarises one record from its bytes (UTF-8 JSON), or returns null when the record must be parsed
 * fully to be judged. Never throws.
 */
export function scanRecord(bytes: Buffer): RecordSummary | null {
  try {
    return new Scanner(bytes, false).record()
  } catch {
    // UNSURE, or anything unexpected: either way only "not certain"
    return null
  }
}

/**
 * The same summary as `scanRecord`, read more quickly and NOT a validation: the contents of strings
 * that are not captured are skipped without being checked (a control character or a bad escape in
 * `details` goes unnoticed), everything else is read as `scanRecord` reads it. On a record
 * `JSON.parse` and `assertOsvRecord` accept, the answer is exactly theirs; on others it may be an
 * answer, or null. Only for records that name no package of interest (`nameTokens`), whose contents
 * the scan does not use: their id, date, withdrawal and ecosystems still count.
 */
export function skimRecord(bytes: Buffer): RecordSummary | null {
  try {
    return new Scanner(bytes, true).skim()
  } catch {
    return null
  }
}

const NAME_KEY = Buffer.from('"name"')
const UNICODE_ESCAPE = Buffer.from('\\u')

/**
 * The value of every `"name"` member anywhere in the record (package names, and others such as
 * `credits[].name`), from the raw bytes — or null when the record must be inspected in full: it holds
 * a `\u` escape anywhere (a key or a name could be spelled with one), or a `"name"` member whose value
 * is not a plain string (one with a backslash: `\/` writes a scope's slash).
 *
 * Without `\u`, a member named `name` can only be written `"name"`, and a plain string's value is its
 * bytes: so a record for which this answers a list names, in `affected[].package.name`, only names
 * in the list (it may hold more: other members, strings that merely look like members). Any JSON
 * text, valid or not, gets an answer that is either null or such a superset.
 */
export function nameTokens(b: Buffer): string[] | null {
  if (b.indexOf(UNICODE_ESCAPE) >= 0) return null
  const out: string[] = []
  let from = 0
  for (;;) {
    const at = b.indexOf(NAME_KEY, from)
    if (at < 0) return out
    // the next match may start on this one's closing quote (`"name"name"`): look from there
    from = at + NAME_KEY.length - 1
    let p = at + NAME_KEY.length
    while (isSpace(b[p])) p++
    // a string that is not a member name (a value, or the end of another string)
    if (b[p] !== COLON) continue
    p++
    while (isSpace(b[p])) p++
    if (b[p] !== QUOTE) return null
    const end = b.indexOf(QUOTE, p + 1)
    if (end < 0) return null
    for (let i = p + 1; i < end; i++) if (b[i] === BACKSLASH) return null
    out.push(b.toString('utf8', p + 1, end))
  }
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
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
  /** skim: string contents that are not captured are skipped unchecked (see `skimRecord`) */
  private readonly lenient: boolean

  constructor(buf: Buffer, lenient: boolean) {
    this.lenient = lenient
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

  /**
   * `skimRecord`: the record's top-level members, reading only those the summary needs (`id`,
   * `modified`, `withdrawn`, `affected[].package`) as `record` does and skipping the others by their
   * brackets.
   */
  skim(): RecordSummary {
    const b = this.b
    this.ws()
    if (b[this.p] !== LBRACE) unsure()
    this.p++
    this.ws()
    let seen = 0
    if (b[this.p] === RBRACE) this.p++
    else
      for (;;) {
        this.key()
        const field = this.field(RecordShape.list)
        if (field === undefined) this.skipValue()
        else {
          if (seen & field.bit) unsure()
          seen |= field.bit
          if (captures(field.shape)) this.typed(field.shape, 2)
          else this.skipValue()
        }
        this.ws()
        if (this.more(RBRACE)) continue
        break
      }
    if ((RecordShape.required & seen) !== RecordShape.required) unsure()
    this.ws()
    if (this.p !== this.n || this.id === null || this.id === '' || this.modified === null) unsure()
    return {
      id: this.id!,
      modified: this.modified!,
      withdrawn: this.withdrawn,
      names: this.names,
      ecosystems: this.ecosystems,
    }
  }

  /**
   * Skim only: moves past any value starting at `p` by counting brackets outside strings, without
   * checking it; a number or literal ends at the next comma or closing bracket.
   */
  private skipValue(): void {
    const b = this.b
    let depth = 0
    let p = this.p
    for (;;) {
      const c = b[p]
      if (c === QUOTE) {
        this.p = p
        this.skipString()
        if (depth === 0) return
        p = this.p
        continue
      }
      if (c === LBRACE || c === LBRACKET) depth++
      else if (c === RBRACE || c === RBRACKET) {
        if (depth === 0) break
        if (--depth === 0) {
          p++
          break
        }
      } else if (c === COMMA) {
        if (depth === 0) break
      } else if (c === undefined) unsure()
      p++
    }
    this.p = p
  }

  /** A value that must have `shape`; anything else (or anything unusual) is UNSURE. */
  private typed(shape: Shape, depth: number): void {
    const b = this.b
    const c = b[this.p]
    switch (shape.kind) {
      case 'string':
        if (c !== QUOTE) unsure()
        if (this.lenient && shape.capture === Capture.none && !shape.nonEmpty) {
          this.skipString()
          return
        }
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
              // a skim reads only what holds a captured value (`ranges`, `versions`… are skipped)
              if (this.lenient && !captures(field.shape)) this.skipValue()
              else this.typed(field.shape, depth + 1)
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
      if (this.lenient) this.skipString()
      else this.string()
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

  /**
   * Skim only: moves past a string starting at `p` (on its quote) without checking its contents. The
   * closing quote is the first one not escaped, that is not after an odd run of backslashes.
   */
  private skipString(): void {
    const b = this.b
    let q = this.p + 1
    // short strings (most keys and values) in this loop, long ones by the native search
    for (let i = 0; i < 16; i++, q++) {
      const c = b[q]
      if (c === QUOTE) {
        this.p = q + 1
        return
      }
      if (c === BACKSLASH || c === undefined) break
    }
    for (;;) {
      const end = this.buf.indexOf(QUOTE, q)
      if (end < 0) unsure()
      let back = end - 1
      while (b[back] === BACKSLASH) back--
      if ((end - 1 - back) % 2 === 0) {
        this.p = end + 1
        return
      }
      q = end + 1
    }
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
