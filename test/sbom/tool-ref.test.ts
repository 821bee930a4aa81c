/**
 * detbuild's own entry in metadata.tools has the bom-ref `pkg:npm/detbuild@<version>` — unless the project
 * is detbuild itself or has that package in its lockfile: then one bom-ref would name two elements and
 * the document would be invalid (the XML schema's identity constraint refused it), so it becomes
 * `<purl>#tool`, in both writers.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { runSbom } from '../../src/sbom/index.ts'
import { silentLogger } from '../../src/util/log.ts'
import { VERSION } from '../../src/version.ts'

function project(name: string, deps: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-toolref-'))
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name, version: VERSION, dependencies: deps }),
  )
  const packages: Record<string, unknown> = { '': { name, version: VERSION, dependencies: deps } }
  for (const [dep, v] of Object.entries(deps))
    packages[`node_modules/${dep}`] = {
      version: v,
      resolved: `https://registry.npmjs.org/${dep}/-/${dep}-${v}.tgz`,
      integrity: `sha512-${Buffer.alloc(64, 1).toString('base64')}`,
      license: 'Apache-2.0',
    }
  writeFileSync(
    path.join(dir, 'package-lock.json'),
    JSON.stringify({ name, version: VERSION, lockfileVersion: 3, requires: true, packages }),
  )
  return dir
}

const sbom = async (dir: string) => {
  const out = path.join(dir, '.detbuild')
  await runSbom({
    cwd: dir,
    out,
    from: 'lockfile',
    format: 'both',
    spec: '1.6',
    omit: [],
    workspaces: [],
    validate: true,
    sourceDateEpoch: 1700000000,
    log: silentLogger,
  })
  return {
    json: JSON.parse(readFileSync(path.join(out, 'sbom.cdx.json'), 'utf8')),
    xml: readFileSync(path.join(out, 'sbom.cdx.xml'), 'utf8'),
  }
}

test('the tool bom-ref steps aside for the project or a component with the same purl; JSON and XML agree and validate', async () => {
  const purl = `pkg:npm/detbuild@${VERSION}`
  for (const [name, deps] of [
    ['detbuild', {}],
    ['app', { detbuild: VERSION }],
  ] as const) {
    const { json, xml } = await sbom(project(name, deps))
    assert.equal(json.metadata.tools.components[0]['bom-ref'], `${purl}#tool`, name)
    assert.match(xml, new RegExp(`bom-ref="${purl.replace(/[.]/g, '\\.')}#tool"`), name)
  }
  const { json } = await sbom(project('app', { other: '1.0.0' }))
  assert.equal(json.metadata.tools.components[0]['bom-ref'], purl)
})

test('the SBOM bytes do not depend on the machine locale: da_DK (where "aa" sorts after "z") writes what C.UTF-8 writes', () => {
  // package names and a licence whose locale order differs in Danish
  const dir = project('app', { aab: '1.0.0', abc: '1.0.0', zz: '1.0.0' })
  const script = (spec: string) =>
    `const { makeSbom } = await import(${JSON.stringify(new URL('../../src/sbom/index.ts', import.meta.url).href)});` +
    `const m = await makeSbom({ cwd: ${JSON.stringify(dir)}, from: 'lockfile', format: 'both', spec: '${spec}', omit: [], workspaces: [], validate: false, sourceDateEpoch: 1700000000, env: {} });` +
    `const { createHash } = await import('node:crypto');` +
    `process.stdout.write(createHash('sha256').update(m.serialized.json).update(m.serialized.xml).digest('hex'))`
  for (const spec of ['1.4', '1.6', '1.7']) {
    const run = (locale: string) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', script(spec)], {
        env: { PATH: process.env.PATH, LANG: locale, LC_ALL: locale },
        encoding: 'utf8',
      })
    const c = run('C.UTF-8')
    const da = run('da_DK.UTF-8')
    assert.match(c.stdout, /^[0-9a-f]{64}$/, c.stderr)
    assert.equal(da.stdout, c.stdout, `CycloneDX ${spec}: ${da.stderr}`)
  }
})
