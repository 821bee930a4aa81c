/** Test helpers for the scan area: SBOM builder, ZIP writer, temp workspaces. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { crc32, deflateRawSync } from 'node:zlib'

export const repoRoot = path.resolve(import.meta.dirname, '../..')
export const recordsDir = path.join(repoRoot, 'fixtures/osv/records')
export const generatedDir = path.join(repoRoot, 'fixtures/osv/generated')
export const vulnerableApp = path.join(repoRoot, 'fixtures/vulnerable-app')
export const vulnerableAppSbom = path.join(repoRoot, 'test/scan/fixtures/vulnerable-app.cdx.json')

export interface Pkg {
  name: string
  version: string
  dev?: boolean
  deps?: string[]
  path?: string
  purl?: string | null
}

const purlOf = (name: string, version: string): string =>
  name.startsWith('@') ? `pkg:npm/%40${name.slice(1)}@${version}` : `pkg:npm/${name}@${version}`

/** A CycloneDX 1.6 SBOM following the detbuild contract; `rootDeps` are `name@version` keys. */
export function makeSbom(pkgs: Pkg[], rootDeps: string[]): Record<string, unknown> {
  const ref = (key: string): string => {
    const p = pkgs.find((x) => `${x.name}@${x.version}` === key)
    if (!p) throw new Error(`unknown ${key}`)
    return p.purl ?? purlOf(p.name, p.version)
  }
  const rootRef = 'pkg:npm/test-app@1.0.0'
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    metadata: {
      component: {
        type: 'application',
        'bom-ref': rootRef,
        name: 'test-app',
        version: '1.0.0',
        purl: rootRef,
      },
    },
    components: pkgs.map((p) => {
      const purl = p.purl === null ? undefined : (p.purl ?? purlOf(p.name, p.version))
      const slash = p.name.lastIndexOf('/')
      return {
        type: 'library',
        'bom-ref': purl ?? `${p.name}@${p.version}`,
        ...(slash > 0 ? { group: p.name.slice(0, slash), name: p.name.slice(slash + 1) } : { name: p.name }),
        version: p.version,
        scope: p.dev ? 'excluded' : 'required',
        ...(purl ? { purl } : {}),
        properties: [
          ...(p.dev ? [{ name: 'cdx:npm:package:development', value: 'true' }] : []),
          { name: 'cdx:npm:package:path', value: p.path ?? `node_modules/${p.name}` },
        ],
      }
    }),
    dependencies: [
      { ref: rootRef, dependsOn: rootDeps.map(ref) },
      ...pkgs
        .filter((p) => p.purl !== null)
        .map((p) => ({ ref: ref(`${p.name}@${p.version}`), dependsOn: (p.deps ?? []).map(ref) })),
    ],
  }
}

export async function tempDir(
  prefix = 'detbuild-scan-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`)
}

/** Writes an SBOM of `pkgs`, every one a direct dependency of the root. */
export async function writeDirectSbom(file: string, pkgs: Pkg[]): Promise<void> {
  await writeJson(
    file,
    makeSbom(
      pkgs,
      pkgs.map((p) => `${p.name}@${p.version}`),
    ),
  )
}

/**
 * A minimal ZIP writer (deflate), the way osv.dev publishes `all.zip`; `stored` writes an entry
 * uncompressed, `crc` writes a (wrong) CRC-32 and `size` a (wrong) size into the central directory,
 * `flags` its general purpose flags. `zip64` writes every entry's sizes and offset in a ZIP64 extra
 * field and ends with a ZIP64 directory, as streaming writers do; it is used anyway from 65,535 entries.
 */
export function makeZip(
  entries: Array<{
    name: string
    data: Buffer | string
    stored?: boolean
    crc?: number
    size?: number
    flags?: number
  }>,
  options: { zip64?: boolean } = {},
): Buffer {
  const zip64 = options.zip64 === true
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data)
    const comp = e.stored ? data : deflateRawSync(data)
    const method = e.stored ? 0 : 8
    const name = Buffer.from(e.name)
    const crc = crc32(data)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(method, 8)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(comp.length, 18)
    local.writeUInt32LE(data.length, 22)
    local.writeUInt16LE(name.length, 26)
    locals.push(local, name, comp)
    const extra = Buffer.alloc(zip64 ? 28 : 0)
    if (zip64) {
      extra.writeUInt16LE(0x0001, 0)
      extra.writeUInt16LE(24, 2)
      extra.writeBigUInt64LE(BigInt(e.size ?? data.length), 4)
      extra.writeBigUInt64LE(BigInt(comp.length), 12)
      extra.writeBigUInt64LE(BigInt(offset), 20)
    }
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(20, 4)
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(e.flags ?? 0, 8)
    central.writeUInt16LE(method, 10)
    central.writeUInt32LE(e.crc ?? crc, 16)
    central.writeUInt32LE(zip64 ? 0xffffffff : comp.length, 20)
    central.writeUInt32LE(zip64 ? 0xffffffff : (e.size ?? data.length), 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt16LE(extra.length, 30)
    central.writeUInt32LE(zip64 ? 0xffffffff : offset, 42)
    centrals.push(central, name, extra)
    offset += 30 + name.length + comp.length
  }
  const cd = Buffer.concat(centrals)
  const count = entries.length
  const eocd = Buffer.alloc(22)
  eocd.writeUInt32LE(0x06054b50, 0)
  eocd.writeUInt16LE(Math.min(count, 0xffff), 8)
  eocd.writeUInt16LE(Math.min(count, 0xffff), 10)
  eocd.writeUInt32LE(cd.length, 12)
  eocd.writeUInt32LE(offset, 16)
  if (count < 0xffff && !zip64) return Buffer.concat([...locals, cd, eocd])
  // ZIP64 end of central directory + locator when there are 65,535 entries or more
  const z64 = Buffer.alloc(56)
  z64.writeUInt32LE(0x06064b50, 0)
  z64.writeBigUInt64LE(44n, 4)
  z64.writeUInt16LE(45, 12)
  z64.writeUInt16LE(45, 14)
  z64.writeBigUInt64LE(BigInt(count), 24)
  z64.writeBigUInt64LE(BigInt(count), 32)
  z64.writeBigUInt64LE(BigInt(cd.length), 40)
  z64.writeBigUInt64LE(BigInt(offset), 48)
  const loc = Buffer.alloc(20)
  loc.writeUInt32LE(0x07064b50, 0)
  loc.writeBigUInt64LE(BigInt(offset + cd.length), 8)
  loc.writeUInt32LE(1, 16)
  eocd.writeUInt16LE(0xffff, 8)
  eocd.writeUInt16LE(0xffff, 10)
  eocd.writeUInt32LE(0xffffffff, 16)
  return Buffer.concat([...locals, cd, z64, loc, eocd])
}
