import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import ssri from 'ssri'

export interface Digests {
  sha256: string
  sha512: string
  /** SRI string holding the sha512 digest */
  integrity: string
  size: number
}

/** sha256 and sha512 of bytes in one pass. */
export function digestBytes(data: Uint8Array | string): Digests {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data
  const s256 = createHash('sha256').update(bytes).digest()
  const s512 = createHash('sha512').update(bytes).digest()
  return {
    sha256: s256.toString('hex'),
    sha512: s512.toString('hex'),
    integrity: ssri.fromHex(s512.toString('hex'), 'sha512').toString(),
    size: bytes.byteLength,
  }
}

/**
 * Bytes read per call by {@link digestFile}: measured on 1 GiB (bench/hash.ts), 1 MiB and 4 MiB reads hash
 * at the same speed and 64 KiB reads are a few % slower; two 2 MiB buffers are the whole memory cost.
 */
const READ_CHUNK = 2 * 1024 * 1024

/**
 * sha256 and sha512 of a file in ONE read, streamed through both hashes: memory stays at two read buffers
 * whatever the file's size (an artifact may be larger than memory, or than the 2 GiB a Buffer can hold).
 * The buffers take turns: the next read runs (on libuv's thread pool) while this thread hashes the last.
 * Both digests stay in this thread: a worker for the sha256 made 1 GiB 0.66× `openssl dgst` instead of
 * 0.9–1.08×, but a worker thread is 19 MiB more of resident memory (docs/performance.md).
 */
export async function digestFile(file: string): Promise<Digests> {
  const s256 = createHash('sha256')
  const s512 = createHash('sha512')
  const buffers = [Buffer.allocUnsafeSlow(READ_CHUNK), Buffer.allocUnsafeSlow(READ_CHUNK)]
  let size = 0
  const handle = await open(file, 'r')
  try {
    let turn = 0
    let reading = handle.read(buffers[0]!, 0, READ_CHUNK, null)
    for (;;) {
      const { bytesRead } = await reading
      if (bytesRead === 0) break
      // update() copies nothing and keeps no reference: this buffer is read into again two reads on
      const chunk = buffers[turn]!.subarray(0, bytesRead)
      turn = 1 - turn
      reading = handle.read(buffers[turn]!, 0, READ_CHUNK, null)
      s256.update(chunk)
      s512.update(chunk)
      size += bytesRead
    }
  } finally {
    await handle.close()
  }
  const hex512 = s512.digest('hex')
  return {
    sha256: s256.digest('hex'),
    sha512: hex512,
    integrity: ssri.fromHex(hex512, 'sha512').toString(),
    size,
  }
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/**
 * Converts an SRI string's hashes to hex, per algorithm (first value wins). A string ssri reads no hash
 * from gives an empty map: the caller decides whether a missing hash is a problem.
 */
export function sriToHex(integrity: string): Map<string, string> {
  const out = new Map<string, string>()
  const parsed = ssri.parse(integrity, { single: false }) as ssri.Integrity | null
  if (parsed === null) return out
  for (const [algorithm, hashes] of Object.entries(parsed)) {
    const first = (hashes as ssri.Hash[])[0]
    if (first && !out.has(algorithm)) out.set(algorithm, first.hexDigest())
  }
  return out
}
