#!/usr/bin/env node
// detbuild CLI: the bundled entry lives in dist/cli-bundle/ (npm run build: scripts/build-cli.ts).
import module from 'node:module'

const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 22)) {
  process.stderr.write(
    `detbuild: error [NODE_TOO_OLD]: Node.js >= 22.22 is required (this is ${process.version})\n`,
  )
  process.exit(2)
}
// V8's on-disk code cache: most of a short run is module loading (DETBUILD_NO_COMPILE_CACHE=1 turns it off)
if (!process.env.DETBUILD_NO_COMPILE_CACHE) module.enableCompileCache?.()
const { runCli } = await import('../dist/cli-bundle/detbuild.js')
await runCli()
