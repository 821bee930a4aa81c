/**
 * Entry of the GitHub Action (bundled into dist/action.js by scripts/build-action.ts). The only place in
 * the Action that touches `process`: it hands the environment to runAction and sets the exit code.
 */
import { runAction } from './run-action.ts'

const result = await runAction({
  env: process.env,
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(text),
  now: new Date(),
})
process.exitCode = result.exitCode
