/**
 * The Go checksum database (sum.golang.org), as the go command's own client checks it: a lookup of
 * `<module>@<version>` gives the record (the database's go.sum lines for it) and a signed tree head; the
 * tree head's signature is checked against the database's verifier key (a signed note, Ed25519), and the
 * record is proven to be in that tree by recomputing the tree's root hash from the record's leaf hash and
 * hashes read from the log's tiles (RFC 6962 hashing, tiles of height 8). A proxy that serves a module
 * the database never saw, or a database reply that does not add up, is refused.
 *
 * Hand-written: no npm package reads Go's sumdb (signed notes, tlog tiles); the formats follow
 * golang.org/x/mod/sumdb (note, tlog), and the tests run Go's own sumdb server (x/mod's TestServer) as the
 * other side. What is not done: the last tree head seen is not kept between runs, so a database that shows
 * different trees to different clients (a fork) is not detected by comparing them.
 *
 * Pure core (notes, trees, records, proofs: data in, data out) with one edge, {@link lookupChecksumDatabase},
 * which fetches through an injected reader.
 */
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto'
import { CheckFailedError, IncompleteError, InputError } from '../../errors.ts'
import { withoutCredentials } from '../../util/redact.ts'
import { escapeModulePath, fetchFromProxy } from './module-proxy.ts'

/** sum.golang.org's verifier key, as the go command knows it (cmd/go/internal/modfetch/key.go). */
export const SUM_GOLANG_ORG_KEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8'

/** The checksum database to consult, from `GOSUMDB`, or null when it is off. */
export interface ChecksumDatabase {
  /** `sum.golang.org` */
  name: string
  /** the verifier key (`<name>+<hash>+<base64 key>`) */
  key: string
  /** an explicit base URL (GOSUMDB's second field), else null: through the proxy, or https://<name> */
  url: string | null
}

/**
 * GOSUMDB as the go command reads it: unset or empty is sum.golang.org; `off`; a known name; a verifier
 * key; either followed by a URL. Anything else is exit 2 (GO_SUMDB_CONFIG).
 */
export function resolveChecksumDatabase(value: string | undefined): ChecksumDatabase | null {
  const v = (value ?? '').trim()
  if (v === 'off') return null
  const fields = v === '' ? ['sum.golang.org'] : v.split(/\s+/)
  const bad = (why: string) =>
    new InputError('GO_SUMDB_CONFIG', `GOSUMDB=${JSON.stringify(value)}: ${why}`, {
      details: { key: 'GOSUMDB' },
    })
  if (fields.length > 2) throw bad('too many fields (a key and a URL at most)')
  let key = fields[0] as string
  if (key === 'sum.golang.org' || key === 'sum.golang.google.cn') {
    if (key === 'sum.golang.google.cn' && fields.length === 1) fields.push('https://sum.golang.google.cn')
    key = SUM_GOLANG_ORG_KEY
  }
  let name: string
  try {
    name = parseVerifierKey(key).name
  } catch (e) {
    throw bad((e as Error).message)
  }
  const url = fields[1] ?? null
  if (url !== null && !/^https?:\/\/[^/\s]/.test(url)) throw bad(`${url} is not an http(s) URL`)
  return { name, key, url: url?.replace(/\/+$/, '') ?? null }
}

interface VerifierKey {
  name: string
  hash: number
  publicKey: KeyObject
}

/** Parses `<name>+<8 hex digits>+<base64(0x01 ‖ 32-byte Ed25519 key)>`; the hash must match the key. */
function parseVerifierKey(vkey: string): VerifierKey {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(vkey)
  if (!m) throw new Error('not a verifier key (<name>+<hash>+<key>)')
  const [, name, hex, b64] = m as unknown as [string, string, string, string]
  const raw = Buffer.from(b64, 'base64')
  if (raw.length !== 33 || raw[0] !== 1) throw new Error('the key is not an Ed25519 note key')
  const hash = keyHash(name, raw)
  if (hash !== Number.parseInt(hex, 16)) throw new Error('the key hash does not match the key')
  const publicKey = createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw.subarray(1)]),
    format: 'der',
    type: 'spki',
  })
  return { name, hash, publicKey }
}

function keyHash(name: string, raw: Buffer): number {
  return createHash('sha256').update(`${name}\n`).update(raw).digest().readUInt32BE(0)
}

/** A signed tree head: the tree's size and root hash. */
export interface TreeHead {
  size: number
  hash: Buffer
}

/**
 * Opens a signed note (golang.org/x/mod/sumdb/note): the text, a blank line, `— <name> <base64>` lines.
 * Returns the text when the key's signature is there and valid; throws (with the reason) otherwise.
 */
export function openSignedNote(msg: Buffer, vkey: string): string {
  const key = parseVerifierKey(vkey)
  const s = msg.toString('utf8')
  if (!Buffer.from(s, 'utf8').equals(msg) || /[\u0000-\u0009\u000b-\u001f]/.test(s))
    throw new Error('the signed note is not clean UTF-8 text')
  const split = s.lastIndexOf('\n\n')
  if (split < 0) throw new Error('the signed note has no signature block')
  const text = s.slice(0, split + 1)
  const sigs = s.slice(split + 2)
  if (sigs === '' || !sigs.endsWith('\n')) throw new Error('the signed note has a malformed signature block')
  let verified = false
  let count = 0
  for (const line of sigs.slice(0, -1).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+=*)$/.exec(line)
    if (!m) throw new Error('the signed note has a malformed signature line')
    if (++count > 100) throw new Error('the signed note has too many signatures')
    const sig = Buffer.from(m[2] as string, 'base64')
    if (sig.length < 5) throw new Error('the signed note has a malformed signature line')
    if (m[1] !== key.name || sig.readUInt32BE(0) !== key.hash) continue
    if (!verify(null, Buffer.from(text, 'utf8'), key.publicKey, sig.subarray(4)))
      throw new Error(`the signature by ${key.name} is not valid`)
    verified = true
  }
  if (!verified) throw new Error(`the note is not signed by ${key.name}`)
  return text
}

/** `go.sum database tree\n<size>\n<base64 hash>\n` (later lines ignored, as Go does). */
export function parseTreeHead(text: string): TreeHead {
  const lines = text.split('\n')
  const size = Number(lines[1])
  const hash = Buffer.from(lines[2] ?? '', 'base64')
  if (
    lines[0] !== 'go.sum database tree' ||
    lines.length < 4 ||
    !/^(0|[1-9][0-9]{0,15})$/.test(lines[1] ?? '') ||
    !Number.isSafeInteger(size) ||
    hash.length !== 32 ||
    hash.toString('base64') !== lines[2]
  )
    throw new Error('the tree head is malformed')
  return { size, hash }
}

/** A lookup reply: `<id>\n<record text>\n<signed tree head>`. */
export function parseLookup(msg: Buffer): { id: number; text: string; signedTree: Buffer } {
  const nl = msg.indexOf(0x0a)
  const idText = nl < 0 ? '' : msg.subarray(0, nl).toString('latin1')
  if (!/^(0|[1-9][0-9]{0,15})$/.test(idText)) throw new Error('the lookup reply has no record id')
  const rest = msg.subarray(nl + 1)
  const end = rest.indexOf('\n\n')
  if (end < 0) throw new Error('the lookup reply has no record')
  const text = rest.subarray(0, end + 1).toString('utf8')
  if (/[\u0000-\u0009\u000b-\u001f\ufffd]/.test(text)) throw new Error('the record is not clean text')
  return { id: Number(idText), text, signedTree: rest.subarray(end + 2) }
}

const leafHash = (data: Buffer) => createHash('sha256').update(Buffer.of(0)).update(data).digest()
const nodeHash = (l: Buffer, r: Buffer) =>
  createHash('sha256').update(Buffer.of(1)).update(l).update(r).digest()

/** Reads tile data (`tile/8/<level>/<n>[.p/<width>]`) from the log; must return exactly `width` hashes. */
export type TileReader = (tilePath: string) => Promise<Buffer>

const TILE_HEIGHT = 8
const TILE_WIDTH = 1 << TILE_HEIGHT

/** A tile's path as tlog writes it: `tile/8/1/x001/x234/067.p/5`. */
export function tilePath(level: number, n: number, width: number): string {
  let rest = n
  let s = String(rest % 1000).padStart(3, '0')
  while (rest >= 1000) {
    rest = Math.floor(rest / 1000)
    s = `x${String(rest % 1000).padStart(3, '0')}/${s}`
  }
  return `tile/${TILE_HEIGHT}/${level}/${s}${width === TILE_WIDTH ? '' : `.p/${width}`}`
}

/**
 * Proves that `recordText` is record `id` of the tree `head`: recomputes the root from the record's leaf
 * hash and the hashes of the complete subtrees beside its path (read from tiles, untrusted: a wrong one
 * gives a wrong root). Throws when the root differs.
 */
export async function proveRecord(
  head: TreeHead,
  id: number,
  recordText: string,
  read: TileReader,
): Promise<void> {
  if (!(id < head.size)) throw new Error(`record ${id} is not in a tree of ${head.size} records`)
  const tiles = new Map<string, Promise<Buffer>>()
  const stored = async (level: number, index: number): Promise<Buffer> => {
    // the hash of the complete subtree (level, index): folded from the bottom row of its tile
    const tileLevel = Math.floor(level / TILE_HEIGHT)
    const r = level % TILE_HEIGHT
    const first = index * 2 ** r
    const n = Math.floor(first / TILE_WIDTH)
    const width = Math.min(
      TILE_WIDTH,
      Math.floor(head.size / 2 ** (tileLevel * TILE_HEIGHT)) - n * TILE_WIDTH,
    )
    const p = tilePath(tileLevel, n, width)
    let tile = tiles.get(p)
    if (!tile) {
      tile = read(p).then((data) => {
        if (data.length !== width * 32)
          throw new Error(`tile ${p} holds ${data.length} bytes, not ${width * 32}`)
        return data
      })
      tiles.set(p, tile)
    }
    const data = await tile
    let row: Buffer[] = []
    for (let i = first - n * TILE_WIDTH; i < first - n * TILE_WIDTH + 2 ** r; i++)
      row.push(data.subarray(i * 32, i * 32 + 32))
    while (row.length > 1) {
      const up: Buffer[] = []
      for (let i = 0; i < row.length; i += 2) up.push(nodeHash(row[i] as Buffer, row[i + 1] as Buffer))
      row = up
    }
    return row[0] as Buffer
  }
  // MTH of [lo, hi): a complete aligned subtree is stored; otherwise split at the largest power of two
  const subtree = async (lo: number, hi: number): Promise<Buffer> => {
    const size = hi - lo
    if ((size & (size - 1)) === 0 && size > 0 && size <= 2 ** 30) return stored(Math.log2(size), lo / size)
    const k = largestPowerBelow(size)
    return nodeHash(await subtree(lo, lo + k), await subtree(lo + k, hi))
  }
  const root = async (lo: number, hi: number, leaf: Buffer): Promise<Buffer> => {
    if (hi - lo === 1) return leaf
    const k = largestPowerBelow(hi - lo)
    return id < lo + k
      ? nodeHash(await root(lo, lo + k, leaf), await subtree(lo + k, hi))
      : nodeHash(await subtree(lo, lo + k), await root(lo + k, hi, leaf))
  }
  const got = await root(0, head.size, leafHash(Buffer.from(recordText, 'utf8')))
  if (!got.equals(head.hash))
    throw new Error(`record ${id} is not in the signed tree (the root hashes differ)`)
}

function largestPowerBelow(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/** What the checksum database says of one module version. */
export interface ChecksumRecord {
  /** the database's name */
  database: string
  /** `h1:` of the module zip, and of its go.mod */
  h1: string
  goModH1: string | null
  treeSize: number
  recordId: number
}

const MAX_REPLY = 1024 * 1024
const MAX_TILE = TILE_WIDTH * 32

/**
 * Edge (network): asks the checksum database about `module@version` — through the module proxy when it
 * says it supports the database (`<proxy>/sumdb/<name>/supported`), else directly — and verifies the
 * answer (signed tree head, record inclusion). Exit 3 (GO_SUMDB_UNAVAILABLE) when it cannot be asked,
 * exit 1 (GO_SUMDB_INVALID) when the answer does not verify.
 */
export async function lookupChecksumDatabase(
  db: ChecksumDatabase,
  proxy: string,
  module: string,
  version: string,
): Promise<ChecksumRecord> {
  const what = `${module}@${version}`
  const base = await databaseBase(db, proxy, what)
  const get = async (p: string, max: number) => {
    try {
      return await fetchFromProxy(`${base}/${p}`, max, `the checksum database's ${p}`)
    } catch (e) {
      const err = e as Error & { code?: string }
      throw new IncompleteError(
        'GO_SUMDB_UNAVAILABLE',
        `cannot check ${what} with the checksum database ${db.name}: ${err.message}`,
        { cause: e, details: { module: what, database: db.name } },
      )
    }
  }
  const reply = await get(`lookup/${escapeModulePath(module)}@${escapeModulePath(version)}`, MAX_REPLY)
  const invalid = (why: string) =>
    new CheckFailedError(
      'GO_SUMDB_INVALID',
      `the checksum database ${db.name} (${withoutCredentials(base)}) gave an answer for ${what} that does not verify: ${why}`,
      { details: { module: what, database: db.name } },
    )
  let parsed: ReturnType<typeof parseLookup>
  let head: TreeHead
  try {
    parsed = parseLookup(reply)
    head = parseTreeHead(openSignedNote(parsed.signedTree, db.key))
    await proveRecord(head, parsed.id, parsed.text, (p) =>
      get(p, MAX_TILE).catch((e) => {
        throw e instanceof IncompleteError ? e : invalid((e as Error).message)
      }),
    )
  } catch (e) {
    if (e instanceof IncompleteError || e instanceof CheckFailedError) throw e
    throw invalid((e as Error).message)
  }
  let h1: string | null = null
  let goModH1: string | null = null
  for (const line of parsed.text.split('\n')) {
    const f = line.split(' ')
    if (f.length !== 3 || f[0] !== module) continue
    if (f[1] === version) h1 = f[2] as string
    else if (f[1] === `${version}/go.mod`) goModH1 = f[2] as string
  }
  if (h1 === null) throw invalid(`its record has no go.sum line for ${what}`)
  return { database: db.name, h1, goModH1, treeSize: head.size, recordId: parsed.id }
}

/** Where to reach the database: GOSUMDB's URL; the proxy when it supports it; else https://<name>. */
async function databaseBase(db: ChecksumDatabase, proxy: string, what: string): Promise<string> {
  if (db.url) return db.url
  if (/^https?:\/\//.test(proxy)) {
    const through = `${proxy}/sumdb/${db.name}`
    try {
      await fetchFromProxy(`${through}/supported`, 1024, `${db.name} through the proxy`)
      return through
    } catch (e) {
      if ((e as { code?: string }).code !== 'GO_MODULE_NOT_FOUND')
        throw new IncompleteError(
          'GO_SUMDB_UNAVAILABLE',
          `cannot check ${what} with the checksum database ${db.name}: ${(e as Error).message}`,
          { cause: e, details: { module: what, database: db.name } },
        )
    }
  }
  return `https://${db.name}`
}
