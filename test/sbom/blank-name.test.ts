/** A lockfile entry whose key gives a package no name (`packages[" "]`) is bad input, not a crash. */
import assert from 'node:assert/strict'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { cli } from '../helpers/cli.ts'
import { fixture, tempDir } from '../helpers/paths.ts'

test('sbom: a lockfile package without a name a purl can carry is exit 2 SBOM_LOCKFILE_INVALID naming it', async () => {
  const dir = tempDir()
  cpSync(fixture('small-app'), dir, { recursive: true })
  const lock = JSON.parse(readFileSync(path.join(dir, 'package-lock.json'), 'utf8'))
  const [key] = Object.keys(lock.packages).filter((k) => k.startsWith('node_modules/'))
  const packages: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(lock.packages)) packages[k === key ? ' ' : k] = v
  lock.packages = packages
  writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify(lock))
  const r = await cli(['--json', 'sbom', '--no-validate', '--out', tempDir()], { cwd: dir })
  assert.equal(r.code, 2, r.stdout)
  const error = JSON.parse(r.stdout).error
  assert.equal(error.code, 'SBOM_LOCKFILE_INVALID')
  assert.equal(error.file, 'package-lock.json')
  assert.equal(error.details.path, '$.packages[" "]')
})
