import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { main } from '../../src/cli/main.ts'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
/**
 * The environment that lets a build run this repository's tsc: DETBUILD_TSC names it, and the
 * typescript package is mounted read-only into the build room at the same path (DETBUILD_ROOM_MOUNTS).
 */
export const TSC_ENV: Readonly<Record<string, string>> = Object.freeze({
  DETBUILD_TSC: TSC,
  DETBUILD_ROOM_MOUNTS: path.dirname(path.dirname(TSC)),
})
export const COMMIT_TIME = 1700000000

/** A temporary copy of a fixture, optionally committed to a fresh git repository with a fixed time. */
export function makeProject(fixture: string, options: { git?: boolean; remote?: string } = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-test-'))
  const project = path.join(dir, 'project')
  // what a developer's own runs leave in the fixture (the demo's .detbuild/) is not part of it
  cpSync(path.join(ROOT, 'fixtures', fixture), project, {
    recursive: true,
    filter: (src) => !/[/\\](\.detbuild|node_modules)([/\\]|$)/.test(src),
  })
  if (options.git !== false) {
    const env = {
      ...process.env,
      GIT_AUTHOR_DATE: `@${COMMIT_TIME} +0000`,
      GIT_COMMITTER_DATE: `@${COMMIT_TIME} +0000`,
      GIT_CONFIG_GLOBAL: '/dev/null',
    }
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], {
        cwd: project,
        env,
        stdio: 'ignore',
      })
    git('init', '-q')
    git('add', '-A')
    git('commit', '-qm', 'fixture')
    if (options.remote) git('remote', 'add', 'origin', options.remote)
  }
  return project
}

export function removeProject(project: string): void {
  rmSync(path.dirname(project), { recursive: true, force: true })
}

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** Runs the CLI in-process with an explicit environment (no SOURCE_DATE_EPOCH unless given). */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const base: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME }
  const code = await main(argv, {
    env: { ...base, ...env },
    cwd: ROOT,
    stdout: (t) => {
      stdout += t
    },
    stderr: (t) => {
      stderr += t
    },
    color: false,
  })
  return { code, stdout, stderr }
}
