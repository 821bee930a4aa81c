/**
 * Hashing an artifact: detbuild's digestFile (one streamed read through sha256 and sha512) against
 * `openssl dgst -sha256` then `openssl dgst -sha512` (two reads, the floor on this CPU) and coreutils'
 * `sha256sum` then `sha512sum`, on a 1 GiB and a 3 GiB file of random bytes created in os.tmpdir()
 * (never in the repository) and removed afterwards. detbuild runs as a subprocess (bench/hash-driver.mjs
 * over dist/), so its peak RSS is measured by GNU time like the others'. `--before` adds the way build
 * hashed before (the whole file read into memory; a 3 GiB file cannot be).
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Contender, detbuildCli, goal, header, type Measure, report, sideBySide } from './lib.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const driver = path.join(root, 'bench', 'hash-driver.mjs')
const GiB = 1024 * 1024 * 1024
const before = process.argv.includes('--before')
const runs = Number(process.env.BENCH_RUNS ?? 3)

// `npm run bench` builds dist/ first; detbuildCli() fails clearly when it is missing
detbuildCli()
header('Hashing: detbuild digestFile vs openssl dgst and sha256sum/sha512sum')

/** A file of `size` pseudo-random bytes (random, so no storage layer can shortcut zeros). */
function randomFile(file: string, size: number): void {
  const block = Buffer.alloc(16 * 1024 * 1024)
  let x = 0x9e3779b9
  for (let i = 0; i < block.length; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    block.writeUInt32LE(x >>> 0, i)
  }
  const fd = openSync(file, 'w')
  try {
    for (let done = 0; done < size; done += block.length) {
      block.writeUInt32LE(done / block.length, 0) // no two blocks alike
      writeSync(fd, block, 0, Math.min(block.length, size - done))
    }
  } finally {
    closeSync(fd)
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-bench-hash-'))
try {
  console.log(
    `load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (${os.cpus().length} CPUs)`,
  )
  for (const size of [1, 3]) {
    const file = path.join(dir, `artifact-${size}g.bin`)
    randomFile(file, size * GiB)
    const contenders: Contender[] = [
      {
        name: 'detbuild digestFile (sha256+sha512, one read)',
        cmd: [process.execPath, driver, 'stream', file],
        cwd: dir,
      },
      {
        name: 'openssl dgst -sha256 + -sha512',
        cmd: ['sh', '-c', 'openssl dgst -sha256 "$0" && openssl dgst -sha512 "$0"', file],
        cwd: dir,
      },
      {
        name: 'sha256sum + sha512sum',
        cmd: ['sh', '-c', 'sha256sum "$0" && sha512sum "$0"', file],
        cwd: dir,
      },
    ]
    if (before && size === 1)
      contenders.push({
        name: 'before: whole file read, digestBytes',
        cmd: [process.execPath, driver, 'whole', file],
        cwd: dir,
      })
    const measures = sideBySide(contenders, { runs })
    report(`hash a ${size} GiB artifact (${runs} alternating runs, medians)`, measures)
    // the goals: ≤ 1.1× the two openssl runs together, ≤ 64 MiB whatever the size
    const [detbuild, openssl] = measures as [Measure, Measure]
    console.log(goal('detbuild / openssl dgst', detbuild.wallMs / openssl.wallMs, 1.1))
    console.log(
      detbuild.peakMiB === null
        ? 'peak RSS: n/a (no GNU time)'
        : goal('peak RSS', detbuild.peakMiB, 64, 'MiB'),
    )
    rmSync(file, { force: true })
  }
  console.log(
    `load average at end: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
} finally {
  rmSync(dir, { recursive: true, force: true })
}
