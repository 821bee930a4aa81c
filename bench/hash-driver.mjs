// bench/hash.ts's detbuild side: hashes one file with the compiled digestFile (`npm run --silent build` first),
// or, with `whole`, the way build did before (the file read into memory, then digestBytes).
import { readFileSync } from 'node:fs'
import { digestBytes, digestFile } from '../dist/util/digest.js'

const [mode, file] = process.argv.slice(2)
const d = mode === 'whole' ? digestBytes(readFileSync(file)) : await digestFile(file)
console.log(`${d.sha256} ${d.sha512.slice(0, 16)}… ${d.size}`)
