/**
 * Benchmark: `detbuild build` against running the same install + build commands by hand, on the ts-lib
 * fixture (offline variant: system node, the repository's TypeScript). Prints both medians and the ratio.
 * Run: node bench/build.ts [rounds]
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { main } from '../src/cli/main.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
const rounds = Number(process.argv[2] ?? 3)

function freshProject(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-bench-'))
  cpSync(path.join(root, 'fixtures', 'ts-lib'), dir, { recursive: true })
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@example.test', ...args], {
      cwd: dir,
      stdio: 'ignore',
    })
  git('init', '-q')
  git('add', '-A')
  git('commit', '-qm', 'bench')
  return dir
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

const byHand: number[] = []
const detbuild: number[] = []
for (let i = 0; i < rounds; i++) {
  const a = freshProject()
  let t = performance.now()
  const r = spawnSync(
    '/bin/sh',
    ['-c', 'umask 022; node "$DETBUILD_TSC" -p tsconfig.json && npm pack --pack-destination dist'],
    {
      cwd: a,
      env: { ...process.env, DETBUILD_TSC: tsc },
      stdio: 'ignore',
    },
  )
  byHand.push(performance.now() - t)
  if (r.status !== 0) throw new Error('the hand build failed')
  rmSync(a, { recursive: true, force: true })

  const b = freshProject()
  t = performance.now()
  const code = await main(['build', '-C', b, '--config', 'detbuild.offline.json', '--quiet'], {
    env: { ...process.env, DETBUILD_TSC: tsc },
    cwd: b,
    stdout: () => {},
    stderr: (s) => process.stderr.write(s),
    color: false,
  })
  detbuild.push(performance.now() - t)
  if (code !== 0) throw new Error(`detbuild build exited ${code}`)
  rmSync(b, { recursive: true, force: true })
}
const hand = median(byHand)
const ours = median(detbuild)
console.log(`rounds: ${rounds}`)
console.log(`by hand (same commands):      ${hand.toFixed(0)} ms`)
console.log(`detbuild build:               ${ours.toFixed(0)} ms`)
console.log(
  `ratio: ${(ours / hand).toFixed(2)}x, overhead ${(ours - hand).toFixed(0)} ms (target: < max(10%, 1000 ms))`,
)
