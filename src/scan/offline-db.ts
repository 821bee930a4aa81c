/**
 * Edge (files): loads an OSV export — a ZIP of OSV JSON records as osv.dev publishes per ecosystem,
 * or a folder of OSV JSON files — into an OsvIndex, and digests it so results can be tied to it.
 */
import { createHash } from 'node:crypto'
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { InputError } from '../errors.ts'
import { parseJson } from '../util/json-parse.ts'
import { compareCodePoint } from '../util/sort.ts'
import { OsvIndex } from './osv-index.ts'
import { isZip, readZipEntries } from './zip.ts'

export interface OfflineDb {
  index: OsvIndex
  /** file or folder name (no directories: outputs carry no absolute paths) */
  name: string
  sha256: string
}

export async function loadOfflineDb(dbPath: string, display: string): Promise<OfflineDb> {
  let info: Awaited<ReturnType<typeof stat>>
  try {
    info = await stat(dbPath)
  } catch {
    throw new InputError('SCAN_EXPORT_MISSING', 'OSV export not found', { file: display })
  }
  const index = new OsvIndex({ slim: true })
  const name = path.basename(dbPath)
  if (info.isDirectory()) {
    const files = (await listJson(dbPath)).sort(compareCodePoint)
    const digest = createHash('sha256')
    for (const rel of files) {
      const bytes = await readFile(path.join(dbPath, rel))
      digest.update(`${rel}\u0000${createHash('sha256').update(bytes).digest('hex')}\n`)
      const where = `${display}/${rel}`
      index.add(parseJson(bytes.toString('utf8'), where, 'SCAN_EXPORT_INVALID'), where)
    }
    return { index, name, sha256: digest.digest('hex') }
  }
  const bytes = await readFile(dbPath)
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  if (!isZip(bytes)) {
    throw new InputError(
      'SCAN_EXPORT_INVALID',
      'expected a ZIP of OSV records or a folder of OSV JSON files',
      {
        file: display,
      },
    )
  }
  const entries = readZipEntries(bytes, display).filter((e) => e.name.endsWith('.json'))
  // archive order is not meaningful; sorting makes "first record wins" deterministic
  entries.sort((a, b) => compareCodePoint(a.name, b.name))
  for (const e of entries) {
    const where = `${display}:${e.name}`
    index.add(parseJson(e.read().toString('utf8'), where, 'SCAN_EXPORT_INVALID'), where)
  }
  return { index, name, sha256 }
}

async function listJson(root: string, rel = ''): Promise<string[]> {
  const out: string[] = []
  for (const d of await readdir(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name
    if (d.isDirectory()) out.push(...(await listJson(root, r)))
    else if (d.isFile() && d.name.endsWith('.json')) out.push(r)
  }
  return out
}
