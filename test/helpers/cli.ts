/** Runs the detbuild CLI in-process (src/, no build needed) and captures its output. */
import { main } from '../../src/cli/main.ts'

/** Every top-level command: test/cli/cli.test.ts checks `--help` lists each, and the other CLI tests iterate it. */
export const COMMANDS = [
  'init',
  'lock',
  'build',
  'sbom',
  'scan',
  'policy',
  'sign',
  'verify',
  'bundle',
  'upload',
  'inspect',
  'keygen',
  'trust',
  'run',
]

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

export async function cli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  const code = await main(args, {
    cwd: options.cwd ?? process.cwd(),
    env: { SOURCE_DATE_EPOCH: '1700000000', ...options.env },
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
