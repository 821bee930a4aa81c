/** Runs the detbuild CLI in-process (src/, no build needed) and captures its output. */
import { main } from '../../src/cli/main.ts'

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
