/**
 * Golden files for what detbuild writes into the project rather than the workspace: the
 * detbuild.config.json `detbuild init` writes, made from the init fixtures with the init step's pure
 * recipe (readProjectFacts → toInitialConfig → the bytes initProject writes). The host's Node and npm
 * versions are inputs, fixed here, so the config is the same on every machine. Validated against
 * schema/config.schema.json and read back by the real config loader; made twice, byte-identical.
 */
import assert from 'node:assert/strict'
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { readProjectFacts, toInitialConfig } from '../../src/builder/init.ts'
import { loadBuildConfig } from '../../src/config/load-build-config.ts'
import { stableJson } from '../../src/util/canonical-json.ts'
import { assertGolden, assertOwnSchema, ROOT } from './golden.ts'

const NODE = '24.21.0'
const NPM = '11.6.2'
const SHAPES = ['single', 'monorepo', 'prepack-builds', 'compile-pnpm'] as const

const tmp = await mkdtemp(path.join(os.tmpdir(), 'detbuild-golden-init-'))
after(() => rm(tmp, { recursive: true, force: true }))

async function initConfig(dir: string): Promise<string> {
  return stableJson(toInitialConfig(await readProjectFacts(dir, NODE, NPM)).config)
}

for (const shape of SHAPES) {
  test(`init on fixtures/init/${shape}: detbuild.config.json`, async () => {
    const fixture = path.join(ROOT, 'fixtures', 'init', shape)
    const config = await initConfig(fixture)
    assertOwnSchema('config', config)
    // another copy in another folder gives the same bytes
    const copy = path.join(tmp, shape, 'elsewhere')
    await cp(fixture, copy, { recursive: true })
    assert.equal(await initConfig(copy), config)
    // and the loader that every build uses accepts what init wrote
    await writeFile(path.join(copy, 'detbuild.config.json'), config)
    assert.equal((await loadBuildConfig(copy)).file, 'detbuild.config.json')
    assertGolden(`project/init-${shape}.detbuild.config.json`, config)
  })
}
