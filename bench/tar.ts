/**
 * Deterministic tar+gzip of a node_modules-like tree of 10,190 files (the first 10,190 files, in code
 * point order, of this repository's node_modules, copied into os.tmpdir()): detbuild's streaming writer
 * (bench/tar-driver.mjs over dist/: sorted, normalized, fixed gzip header, at detbuild's GZIP_LEVEL)
 * against `tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - DIR | gzip -n`.
 * `--before` adds the in-memory writer (every member read, then gzipFixed(writeTar(…))); `--levels`
 * prints the time and size of detbuild's archive at each gzip level 1–9 (how GZIP_LEVEL was chosen).
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Contender, detbuildCli, goal, header, type Measure, report, sideBySide } from './lib.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const driver = path.join(root, 'bench', 'tar-driver.mjs')
const FILES = 10_190
const runs = Number(process.env.BENCH_RUNS ?? 3)

// `npm run bench` builds dist/ first; detbuildCli() fails clearly when it is missing
detbuildCli()
header('Deterministic tar+gzip: detbuild vs GNU tar | gzip -n')
const { GZIP_LEVEL } = (await import(path.join(root, 'dist', 'util', 'tar.js'))) as { GZIP_LEVEL: number }

/** Files under `dir` (relative, POSIX), in code point order, without following links. */
function listFiles(dir: string, rel = '', out: string[] = []): string[] {
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  )) {
    const r = rel ? `${rel}/${e.name}` : e.name
    if (e.isDirectory()) listFiles(dir, r, out)
    else if (e.isFile()) out.push(r)
  }
  return out
}

const work = mkdtempSync(path.join(os.tmpdir(), 'detbuild-bench-tar-'))
try {
  const tree = path.join(work, 'tree')
  const source = path.join(root, 'node_modules')
  const files = listFiles(source).slice(0, FILES)
  for (const f of files) {
    mkdirSync(path.dirname(path.join(tree, f)), { recursive: true })
    cpSync(path.join(source, f), path.join(tree, f))
  }
  const bytes = files.reduce((n, f) => n + statSync(path.join(tree, f)).size, 0)
  console.log(`tree: ${files.length} files, ${(bytes / 1024 / 1024).toFixed(0)} MiB`)
  console.log(
    `load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (${os.cpus().length} CPUs)`,
  )
  const out = (name: string) => path.join(work, name)
  const contenders: Contender[] = [
    {
      name: `detbuild writeArchiveFile (level ${GZIP_LEVEL})`,
      cmd: [process.execPath, driver, 'stream', tree, out('detbuild.tgz'), String(GZIP_LEVEL)],
      cwd: work,
    },
    {
      name: 'GNU tar --sort=name … piped to gzip -n',
      cmd: [
        'sh',
        '-c',
        'tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$0" -cf - . | gzip -n > "$1"',
        tree,
        out('gnu.tgz'),
      ],
      cwd: work,
    },
  ]
  if (process.argv.includes('--before'))
    contenders.push({
      name: `before: in memory, gzipFixed(writeTar(…)) (level ${GZIP_LEVEL})`,
      cmd: [process.execPath, driver, 'memory', tree, out('memory.tgz'), String(GZIP_LEVEL)],
      cwd: work,
    })
  const measures = sideBySide(contenders, { runs })
  report(`tar+gzip of ${files.length} files (${runs} alternating runs, medians)`, measures)
  // the goal: ≤ 1.2× GNU tar | gzip -n
  const [detbuild, gnu] = measures as [Measure, Measure]
  console.log(goal('detbuild / GNU tar | gzip -n', detbuild.wallMs / gnu.wallMs, 1.2))
  console.log(
    `sizes: detbuild ${statSync(out('detbuild.tgz')).size} bytes, GNU tar | gzip -n ${statSync(out('gnu.tgz')).size} bytes`,
  )
  if (process.argv.includes('--levels')) {
    const levels = [1, 2, 3, 4, 5, 6, 7, 8, 9].map(
      (level): Contender => ({
        name: `level ${level}`,
        cmd: [process.execPath, driver, 'stream', tree, out(`level-${level}.tgz`), String(level)],
        cwd: work,
      }),
    )
    const measured = sideBySide(levels, { runs: 1 })
    console.log('\n| gzip level | wall | size | vs level 9 size |\n|---|---:|---:|---:|')
    const size9 = statSync(out('level-9.tgz')).size
    for (const [i, m] of measured.entries()) {
      const size = statSync(out(`level-${i + 1}.tgz`)).size
      console.log(
        `| ${i + 1} | ${m.wallMs.toFixed(0)} ms | ${size} | ${((size / size9 - 1) * 100).toFixed(1)} % |`,
      )
    }
  }
  console.log(
    `load average at end: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
} finally {
  rmSync(work, { recursive: true, force: true })
}
