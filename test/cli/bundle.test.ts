/**
 * The CLI bundle (scripts/build-cli.ts → dist/cli-bundle/, run by bin/detbuild.js): reproducible and fresh
 * (two builds give the bytes `npm run build` wrote), complete (every worker next to the chunks, under its
 * basename) and lazy: `--version` and every command's `--help` load only the start-up chunks, no library
 * from node_modules, and neither node:crypto nor node:child_process. test/pack.test.ts runs it installed.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { buildCli, ENTRY, OUTDIR, workerEntryMap } from '../../scripts/build-cli.ts'
import { runTraced } from '../helpers/loaded-modules.ts'
import { repoRoot } from '../helpers/paths.ts'

const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }
const outdir = path.join(repoRoot, OUTDIR)
const bin = path.join(repoRoot, 'bin', 'detbuild.js')

test('two builds give the same bytes, and they are the bundle npm run build wrote', async () => {
  const [a, b] = [await buildCli(), await buildCli()]
  assert.ok(a.files.length > 1, 'an entry and chunks')
  assert.deepEqual(
    b.files.map((f) => f.name),
    a.files.map((f) => f.name),
  )
  for (const [i, f] of a.files.entries())
    assert.ok(Buffer.from(f.bytes).equals(Buffer.from(b.files[i]!.bytes)), `${f.name} differs between builds`)
  const onDisk = readdirSync(outdir).sort()
  assert.deepEqual(
    onDisk,
    a.files.map((f) => f.name),
    `${OUTDIR}/ is not what the sources build: run npm run build`,
  )
  for (const f of a.files)
    assert.ok(
      readFileSync(path.join(outdir, f.name)).equals(Buffer.from(f.bytes)),
      `${OUTDIR}/${f.name} is stale: run npm run build`,
    )
  // nothing of the machine it was built on
  for (const f of a.files)
    assert.ok(!Buffer.from(f.bytes).includes(repoRoot), `${f.name} names the build folder`)
})

test('every src/**/*-worker.ts is written next to the chunks under its basename; a clash fails the build', () => {
  const workers = (readdirSync(path.join(repoRoot, 'src'), { recursive: true }) as string[])
    .map((f) => f.split(path.sep).join('/'))
    .filter((f) => f.endsWith('-worker.ts'))
  const shipped = readdirSync(outdir)
  for (const w of workers)
    assert.ok(shipped.includes(`${path.posix.basename(w, '.ts')}.js`), `${w} is bundled`)
  assert.ok(
    shipped.every((f) => f.endsWith('.js') && !f.includes('/')),
    'one flat folder: a worker sits next to the chunks that start it',
  )
  assert.deepEqual(workerEntryMap(['src/a/x-worker.ts', 'src/b/y.ts', 'src/c/d/z-worker.ts', 'src/e/x.ts']), {
    'x-worker': 'src/a/x-worker.ts',
    'z-worker': 'src/c/d/z-worker.ts',
  })
  assert.throws(
    () => workerEntryMap(['src/a/x-worker.ts', 'src/b/x-worker.ts']),
    /two entries would be written as dist\/cli-bundle\/x-worker\.js/,
  )
})

const traced = (args: string[]) => runTraced(bin, args)
const execFileP = promisify(execFile)

test('the bundled detbuild --version is package.json version, and starts from the bundle alone', async () => {
  const { stdout, files, builtins } = await traced(['--version'])
  assert.equal(stdout.trim(), pkg.version)
  const inBundle = pathToFileURL(outdir).href
  const rest = files.filter((u) => u !== pathToFileURL(bin).href)
  assert.ok(rest.includes(`${inBundle}/${ENTRY}.js`), 'bin/detbuild.js runs the bundle')
  assert.deepEqual(
    rest.filter((u) => !u.startsWith(`${inBundle}/`)),
    [],
    'nothing outside the bundle (no dist/ per-file output, no node_modules)',
  )
  for (const heavy of ['crypto', 'child_process', 'worker_threads'])
    assert.ok(!builtins.includes(heavy), `--version loads node:${heavy}`)
})

test("every command's --help loads no more than --version: the commands' cores load only when they run", async () => {
  const startup = new Set((await traced(['--version'])).files)
  const help = await traced(['--help'])
  const commands = [...help.stdout.matchAll(/^ {2}([a-z]+)\b/gm)]
    .map((m) => m[1]!)
    .filter((c) => c !== 'help')
  assert.ok(commands.length >= 10 && commands.includes('sbom') && commands.includes('scan'), `${commands}`)
  for (const command of ['', ...commands]) {
    const r = command ? await traced([command, '--help']) : help
    assert.match(r.stdout, /Usage: detbuild/)
    assert.deepEqual(
      r.files.filter((u) => !startup.has(u)),
      [],
      `detbuild ${command} --help loads more than --version`,
    )
    for (const heavy of ['crypto', 'child_process'])
      assert.ok(!r.builtins.includes(heavy), `detbuild ${command} --help loads node:${heavy}`)
  }
})

test('a lazy chunk of a CommonJS package has only a default export: every import of one reads `.default`', () => {
  const files = readdirSync(outdir).filter((f) => f.endsWith('.js'))
  const text = new Map(files.map((f) => [f, readFileSync(path.join(outdir, f), 'utf8')]))
  const facades = files.filter((f) => /export default require_\w+\(\);?\s*$/.test(text.get(f)!))
  // ajv (the config schema) and @sigstore/tuf (the public-good trust root) are loaded this way
  assert.ok(facades.length >= 2, `CommonJS facades found: ${facades.join(', ')}`)
  const wrong: string[] = []
  for (const facade of facades) {
    const spec = `import("./${facade}")`
    for (const [file, code] of text)
      for (let at = code.indexOf(spec); at !== -1; at = code.indexOf(spec, at + 1))
        if (!code.startsWith(').default', at + spec.length))
          wrong.push(`${file}: ${code.slice(Math.max(0, at - 40), at + spec.length + 20)}`)
  }
  assert.deepEqual(wrong, [], 'a named export read from a CommonJS facade is undefined at run time')
})

test('the shipped bin runs the whole pipeline (run --demo): config, build, SBOM, scan, policy, signing, evidence, verify', async () => {
  // the tests above and the suite import src/; this drives every step's lazily loaded chunks as users run them
  const out = mkdtempSync(path.join(os.tmpdir(), 'detbuild-bundle-demo-'))
  try {
    const r = await execFileP(process.execPath, [bin, '--out', out, 'run', '--demo'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      maxBuffer: 16 * 1024 * 1024,
    }).catch((e: { code?: number; stdout?: string; stderr?: string }) => e)
    const text = `${r.stdout ?? ''}${r.stderr ?? ''}`
    assert.equal('code' in r ? r.code : 0, 0, text)
    assert.match(r.stdout ?? '', /^detbuild run: 7 steps done, exit 0$/m)
    assert.match(r.stdout ?? '', /^ {2}ok {3}verify {2}evidence verified for 1 artifact$/m)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})

test('a reader that closes the pipe early (| head, | true) ends the output quietly, with the exit code kept', async () => {
  for (const args of ['sbom --help', '--help', 'scan --help']) {
    // `true` reads nothing and exits: detbuild's writes meet a closed pipe (EPIPE)
    const r = await execFileP('bash', [
      '-c',
      `"$0" "$1" ${args} | true; echo "status=\${PIPESTATUS[0]}" >&2`,
      process.execPath,
      bin,
    ])
    assert.doesNotMatch(r.stderr, /EPIPE|Error|at /, `detbuild ${args}`)
    assert.match(r.stderr, /status=0/, `detbuild ${args}`)
  }
})
