/**
 * Pure: Go's module checksums, the `h1:` values of go.sum lines and of `golang.org/toolchain` pins,
 * exactly as golang.org/x/mod/sumdb/dirhash computes them (Hash1). An `h1:` is not a digest of any
 * artifact's bytes: it is the SHA-256 of a summary that lists, sorted by name, one line
 * `<sha256 hex of the file's content>  <file name>\n` per file, written as standard base64. For a
 * module zip the names are the zip's entry names (`golang.org/x/sync@v0.19.0/errgroup/errgroup.go`);
 * for a go.mod (`<module> <version>/go.mod h1:`) the summary has one file named `go.mod`.
 *
 * Hand-written: no npm package computes Go's dirhash (the registry has none for it; "dirhash" on npm
 * and PyPI are unrelated directory hashers with other summaries). It is small, and it is checked
 * against real go.sum lines in test/builder/go-dirhash.test.ts.
 */
import { createHash } from 'node:crypto'
import { readZipEntries, readZipEntry, type ZipFail } from '../../util/zip.ts'

/** One file of a summary: its name and the SHA-256 (hex) of its content. */
export interface HashedFile {
  name: string
  sha256: string
}

const compareBytes = (a: string, b: string): number => {
  // Go sorts strings by their bytes (UTF-8), not by UTF-16 code units
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return Buffer.compare(x, y)
}

/**
 * Hash1 over already-hashed files. A name holding a newline cannot be summarised (Go refuses it too):
 * `fail` is called with why.
 */
export function hash1(files: readonly HashedFile[], fail: ZipFail): string {
  const sorted = [...files].sort((a, b) => compareBytes(a.name, b.name))
  const summary = createHash('sha256')
  for (const f of sorted) {
    if (f.name.includes('\n')) fail(`file name ${JSON.stringify(f.name)} contains a newline`)
    if (!/^[0-9a-f]{64}$/.test(f.sha256)) fail(`file ${JSON.stringify(f.name)} has no SHA-256`)
    summary.update(`${f.sha256}  ${f.name}\n`)
  }
  return `h1:${summary.digest('base64')}`
}

const sha256Hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')

/** The `h1:` of a module's go.mod file (the `<module> <version>/go.mod h1:` line of go.sum). */
export function hashGoMod(content: Uint8Array): string {
  return hash1([{ name: 'go.mod', sha256: sha256Hex(content) }], () => {
    throw new Error('unreachable')
  })
}

/**
 * The `h1:` of a module zip (Go's dirhash.HashZip): every entry, by its name in the zip, with the
 * SHA-256 of its uncompressed content (each entry's CRC-32 is checked while it is read). A damaged
 * zip calls `fail`.
 */
export function hashZip(zip: Buffer, fail: ZipFail): string {
  const entries = readZipEntries(zip, fail)
  return hash1(
    entries.map((e) => ({ name: e.name, sha256: sha256Hex(readZipEntry(zip, e, fail, { checkCrc: true })) })),
    fail,
  )
}
