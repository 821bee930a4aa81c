/** Runs git in `cwd` with a fixed author and committer time (seconds) and no user or global config. */
import { execFileSync } from 'node:child_process'

export function gitAt(cwd: string, time: number, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], {
    cwd,
    env: {
      ...process.env,
      GIT_AUTHOR_DATE: `@${time} +0000`,
      GIT_COMMITTER_DATE: `@${time} +0000`,
      GIT_CONFIG_GLOBAL: '/dev/null',
    },
    stdio: 'ignore',
  })
}
