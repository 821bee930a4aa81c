/**
 * Entry of the GitHub Action (bundled into dist/action.js by scripts/build-action.ts). The only place in
 * the Action that touches `process`: it hands the environment to runAction and sets the exit code.
 */
import { hostEnvironment, scrubHostEnvironment } from '../config/index.ts'
import { looksLikeSecretEnvName } from '../util/secret-env.ts'
import { runAction } from './run-action.ts'

// the run reads its own copy; the process environment keeps no credential (the inputs, the key among
// them, the runner's tokens), so no program started with it inherited (git, run on the checkout) gets one
const env = hostEnvironment()
scrubHostEnvironment(looksLikeSecretEnvName)

const result = await runAction({
  env,
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(text),
  now: new Date(),
})
process.exitCode = result.exitCode
