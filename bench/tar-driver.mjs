// bench/tar.ts's detbuild side: packs a folder as detbuild does (sorted, normalized, fixed gzip header) with
// the compiled writers (`npm run --silent build` first). `stream`: members read from disk while gzip runs
// (writeArchiveFile); `memory`: every member read first, then gzipFixed(writeTar(…)) (the writer before).
import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import {
  gzipFixed,
  normalizeEntries,
  normalizeStreamEntries,
  writeArchiveFile,
  writeTar,
} from '../dist/util/tar.js'

const [mode, dir, out, level] = process.argv.slice(2)
const gzipLevel = Number(level ?? 9)
const entries = []
const walk = (rel) => {
  for (const name of readdirSync(path.join(dir, rel))) {
    const r = rel ? `${rel}/${name}` : name
    const abs = path.join(dir, r)
    const st = lstatSync(abs)
    const meta = {
      path: r,
      mode: st.mode & 0o7777,
      mtime: 0,
      uid: 0,
      gid: 0,
      uname: '',
      gname: '',
      linkpath: '',
    }
    if (st.isDirectory()) {
      entries.push({ ...meta, type: 'directory', data: Buffer.alloc(0) })
      walk(r)
    } else if (st.isFile())
      entries.push({
        ...meta,
        type: 'file',
        data: mode === 'memory' ? readFileSync(abs) : { file: abs, size: st.size },
      })
  }
}
walk('')
if (mode === 'memory') writeFileSync(out, gzipFixed(writeTar(normalizeEntries(entries, 0)), gzipLevel))
else await writeArchiveFile(normalizeStreamEntries(entries, 0), out, { gzipLevel })
