/**
 * Start-up: `detbuild --version` (the bundled CLI loads only its start-up chunks) against a bare
 * `node -e 0` (the floor: Node's own start-up) and `npm --version` (the npm on PATH, as bench/sbom.ts
 * runs `npm sbom`), as whole processes alternating run by run. The 1-package SBOM in bench/sbom.ts is the
 * other start-up figure. Writes nothing: each runs in os.tmpdir(). BENCH_RUNS sets the runs (default 10).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { detbuildCli, header, report, roundsNote, runsFromEnv, sideBySide } from './lib.ts'

const runs = runsFromEnv(10)
const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-bench-startup-'))
try {
  header('Start-up: detbuild --version')
  const measures = sideBySide(
    [
      { name: 'detbuild --version', cmd: [...detbuildCli(), '--version'], cwd: dir },
      { name: 'node -e 0 (the floor)', cmd: [process.execPath, '-e', '0'], cwd: dir },
      { name: 'npm --version', cmd: ['npm', '--version'], cwd: dir },
    ],
    { runs },
  )
  report(`Start-up (${roundsNote(runs)})`, measures)
  const [detbuild, node] = measures
  console.log(
    `detbuild --version above node's own start-up: ${Math.round(detbuild!.wallMs - node!.wallMs)} ms`,
  )
} finally {
  rmSync(dir, { recursive: true, force: true })
}
