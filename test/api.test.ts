/**
 * The programmatic API: `import('detbuild')` resolves through package.json (`exports`, `main`, `types`)
 * to the compiled dist/index.js, which `npm run build` writes (setup.sh builds before the tests), and
 * its functions are the ones the CLI runs.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, test } from 'node:test'
import { makeProject, ROOT, removeProject } from './builder/helpers.ts'

/** The compiled package, typed from its source (so the typecheck does not depend on a built dist/). */
const loadApi = async () => (await import('detbuild' as string)) as typeof import('../src/index.ts')

const cleanup: string[] = []
after(() => {
  for (const p of cleanup) removeProject(p)
})

test("import('detbuild') gives the step functions, the error classes and the version", async () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  assert.ok(existsSync(path.join(ROOT, pkg.main)), `${pkg.main} (npm run build)`)
  assert.ok(existsSync(path.join(ROOT, pkg.types)), pkg.types)
  const api = await loadApi()
  for (const name of [
    'runBuild',
    'runSbom',
    'runScan',
    'runPolicy',
    'signWorkspace',
    'createEvidenceBundle',
    'verifyEvidence',
    'inspectEvidence',
    'verifyArtifact',
    'runDetbuild',
    'createLogger',
    'isDetbuildError',
  ])
    assert.equal(typeof (api as Record<string, unknown>)[name], 'function', name)
  assert.equal(api.VERSION, pkg.version)
  assert.equal(new api.InputError('INPUT_UNREADABLE', 'm').exitCode, 2)
})

test('runBuild through the API builds a project and returns its artifacts; bad input is an InputError', async () => {
  const api = await loadApi()
  const p = makeProject('unreproducible', { git: false })
  cleanup.push(p)
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: [],
      build: ['mkdir -p out && echo api > out/a.txt'],
      outputs: ['out/*.txt'],
    }),
  )
  const lines: string[] = []
  const log = api.createLogger({ write: (l: string) => lines.push(l) })
  const result = await api.runBuild({ cwd: p, out: path.join(p, '.detbuild'), hostEnv: process.env, log })
  assert.deepEqual(
    result.outputs.map((o) => o.path),
    ['artifacts/a.txt'],
  )
  assert.equal(readFileSync(path.join(p, '.detbuild', 'artifacts', 'a.txt'), 'utf8'), 'api\n')
  writeFileSync(path.join(p, 'detbuild.config.json'), '{"toolchain": 1}')
  await assert.rejects(
    api.runBuild({ cwd: p, out: path.join(p, '.detbuild'), hostEnv: process.env, log }),
    (e: unknown) => api.isDetbuildError(e) && e.code === 'CONFIG_INVALID' && e.exitCode === 2,
  )
})
