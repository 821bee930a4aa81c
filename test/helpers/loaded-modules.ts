/** Runs a node program with a hook that records every module it loads: files (URLs) and node's own modules. */
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { tempDir } from './paths.ts'

export interface Loaded {
  stdout: string
  /** file: URLs of every module loaded, in load order */
  files: string[]
  /** node's own modules (`crypto`, `internal/…`) */
  builtins: string[]
}

const HOOK = [
  "import module from 'node:module'",
  "import { writeFileSync } from 'node:fs'",
  'const files = new Set()',
  'module.registerHooks({ load(url, context, next) { files.add(url); return next(url, context) } })',
  "process.on('exit', () => writeFileSync(process.env.DETBUILD_TEST_LOADED, JSON.stringify({",
  "  files: [...files].filter((u) => u.startsWith('file:')),",
  "  builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)),",
  '})))',
  '',
].join('\n')

export async function runTraced(
  script: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Loaded> {
  const dir = tempDir('detbuild-loaded-')
  const hook = path.join(dir, 'hook.mjs')
  const log = path.join(dir, 'loaded.json')
  writeFileSync(hook, HOOK)
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', pathToFileURL(hook).href, script, ...args],
    { cwd: options.cwd, env: { ...(options.env ?? process.env), DETBUILD_TEST_LOADED: log } },
  )
  return { stdout, ...(JSON.parse(readFileSync(log, 'utf8')) as Omit<Loaded, 'stdout'>) }
}
