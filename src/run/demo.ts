/**
 * Edge (files, key generation): the embedded default behind `detbuild run --demo` and
 * `./scripts/setup.sh demo`. The fixture project fixtures/ts-lib with its offline config (no install,
 * tsc from detbuild's own dependencies), the bundled OSV records, and a throwaway Ed25519 key made for
 * this run, so that the whole pipeline runs on a fresh machine without network.
 */
import { mkdtemp } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { InputError } from '../errors.ts'
import { generateKeyPairPem } from '../sign/index.ts'
import { exists, writeFileAtomic } from '../util/fs.ts'
import { EMPTY_TRUSTED_ROOT } from './step-runners.ts'

/** The package root: `src/run/` and `dist/run/` sit two levels below it. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url))

export const DEMO_PROJECT = 'fixtures/ts-lib'
export const DEMO_CONFIG = 'detbuild.offline.json'
export const DEMO_OSV = 'fixtures/osv/records'

export interface Demo {
  /** the fixture project (absolute) */
  cwd: string
  config: string
  offlineDb: string
  /**
   * the throwaway private key, PEM: held in memory only (never on disk, where the build — run before
   * signing — could read it)
   */
  keyPem: string
  /** the public key and the trusted root, in a temporary folder */
  publicKey: string
  trustedRoot: string
  /** environment the offline build config needs */
  env: Record<string, string>
  /** nothing to remove: the public key stays for re-verification */
  dispose(): Promise<void>
}

export async function prepareDemo(root = PACKAGE_ROOT): Promise<Demo> {
  const cwd = path.join(root, DEMO_PROJECT)
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  for (const needed of [path.join(cwd, DEMO_CONFIG), path.join(root, DEMO_OSV), tsc])
    if (!(await exists(needed)))
      throw new InputError(
        'RUN_DEMO_UNAVAILABLE',
        'the embedded demo needs a detbuild source checkout with its dev dependencies (./scripts/setup.sh demo)',
        { file: path.relative(root, needed).split(path.sep).join('/') },
      )
  const dir = await mkdtemp(path.join(os.tmpdir(), 'detbuild-demo-key-'))
  const pair = generateKeyPairPem('ed25519', undefined)
  const publicKey = path.join(dir, 'throwaway.pub')
  const trustedRoot = path.join(dir, 'trusted_root.json')
  await writeFileAtomic(publicKey, pair.publicKeyPem)
  await writeFileAtomic(trustedRoot, `${JSON.stringify(EMPTY_TRUSTED_ROOT, null, 2)}\n`)
  return {
    cwd,
    config: DEMO_CONFIG,
    offlineDb: path.join(root, DEMO_OSV),
    keyPem: pair.privateKeyPem,
    publicKey,
    trustedRoot,
    // the build room sees the typescript package read-only, at its own path
    env: { DETBUILD_TSC: tsc, DETBUILD_ROOM_MOUNTS: path.dirname(path.dirname(tsc)) },
    dispose: async () => {},
  }
}
