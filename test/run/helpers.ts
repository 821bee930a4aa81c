import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { main } from '../../src/cli/main.ts'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const OSV_RECORDS = path.join(ROOT, 'fixtures', 'osv', 'records')
/** a fixed clock: policy evaluation time and suppression expiry */
export const NOW = new Date('2026-01-02T03:04:05Z')

export interface CliRun {
  code: number
  stdout: string
  stderr: string
  json: () => unknown
}

/** Runs the CLI in-process with a minimal environment (no CI, no tokens, no SOURCE_DATE_EPOCH). */
export async function runCli(argv: string[], cwd = ROOT, env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    cwd,
    color: false,
    now: () => NOW,
    stdout: (t) => {
      stdout += t
    },
    stderr: (t) => {
      stderr += t
    },
  })
  return { code, stdout, stderr, json: () => JSON.parse(stdout) }
}

export function tempDir(prefix = 'detbuild-run-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix))
}

/** A temporary copy of a fixture project (without any workspace it may carry). */
export function copyFixture(name: string): string {
  const dir = path.join(tempDir(), name)
  cpSync(path.join(ROOT, 'fixtures', name), dir, {
    recursive: true,
    filter: (src) => !src.split(path.sep).includes('.detbuild'),
  })
  return dir
}

export function removeAll(dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
}
