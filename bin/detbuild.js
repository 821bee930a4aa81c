#!/usr/bin/env node
// detbuild CLI: the bundled entry lives in dist/cli-bundle/ (npm run build: scripts/build-cli.ts).
import module from 'node:module'
import { fileURLToPath } from 'node:url'

const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 22)) {
  process.stderr.write(
    `detbuild: error [NODE_TOO_OLD]: Node.js >= 22.22 is required (this is ${process.version})\n`,
  )
  process.exit(2)
}
// V8's on-disk code cache: most of a short run is module loading (DETBUILD_NO_COMPILE_CACHE=1 turns it off)
if (!process.env.DETBUILD_NO_COMPILE_CACHE) module.enableCompileCache?.()
const bundle = new URL('../dist/cli-bundle/detbuild.js', import.meta.url)
let cli
try {
  cli = await import(bundle.href)
} catch (e) {
  // a copy that was never built: a git install with --ignore-scripts, or a clone before `npm run build`
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes(fileURLToPath(bundle))) throw e
  process.stderr.write(
    'detbuild: error [INSTALL_NOT_BUILT]: dist/cli-bundle/detbuild.js is missing: this copy of detbuild was not built (run npm run build in it, or install a release tarball)\n',
  )
  process.exit(2)
}
await cli.runCli()
