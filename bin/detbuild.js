#!/usr/bin/env node
// detbuild CLI: the compiled entry lives in dist/ (npm run build).
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 22)) {
  process.stderr.write(
    `detbuild: error [NODE_TOO_OLD]: Node.js >= 22.22 is required (this is ${process.version})\n`,
  )
  process.exit(2)
}
const { runCli } = await import('../dist/cli/main.js')
await runCli()
