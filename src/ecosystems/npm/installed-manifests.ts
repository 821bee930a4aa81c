/**
 * Edge (files): each installed package's own package.json, read for `sbom --from installed`.
 *
 * After `npm ci`, Arborist's loadActual takes the tree from npm's hidden lockfile
 * (`node_modules/.package-lock.json`) and never opens the packages' package.json files, so authors,
 * descriptions and links (which a lockfile entry does not carry) were missing. This reads them, as
 * hostile input: at most {@link MAX_PACKAGE_JSON_BYTES} each, never through a link that leaves the project
 * (a package.json whose real path is outside the project's real path is not read), JSON depth-checked
 * and shape-checked; a package.json that names another package or version than the tree says is not used.
 * Each package that cannot be read is a recorded gap (a warning naming the file and the problem); the
 * package keeps what the tree gave it. Nothing here throws for a package's file.
 */
import { open, realpath } from 'node:fs/promises'
import path from 'node:path'
import { parseJson } from '../../util/json-parse.ts'
import type { InventoryNode, Manifest } from '../inventory.ts'
import { assertPackageJsonShape } from './input-shapes.ts'
import { pickManifest } from './tree-node.ts'

/** The most bytes of one installed package.json read (npm's own are a few kB; the largest seen ~100 kB). */
export const MAX_PACKAGE_JSON_BYTES = 1024 * 1024

/** How many package.json files are open at once. */
const CONCURRENCY = 32

type Read = { manifest: Manifest } | { gap: string }

/** Whether `inner` is `outer` or below it (both absolute, real). */
function isInside(outer: string, inner: string): boolean {
  const rel = path.relative(outer, inner)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

async function readOne(projectReal: string, cwd: string, node: InventoryNode): Promise<Read> {
  const loc = node.location
  if (path.isAbsolute(loc) || loc.split(/[\\/]/).includes('..'))
    return { gap: 'the package is installed outside the project (a link): not read' }
  const file = path.join(cwd, loc, 'package.json')
  let real: string
  try {
    real = await realpath(file)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return { gap: code === 'ENOENT' ? 'no package.json' : `cannot read it (${code ?? 'error'})` }
  }
  if (!isInside(projectReal, real)) return { gap: 'it links outside the project: not read' }
  let text: string
  try {
    const handle = await open(real, 'r')
    try {
      const info = await handle.stat()
      if (!info.isFile()) return { gap: 'not a file' }
      if (info.size > MAX_PACKAGE_JSON_BYTES)
        return { gap: `${info.size} bytes, more than the ${MAX_PACKAGE_JSON_BYTES} read` }
      // one byte more than stat said: a file that grew since is refused without reading it all
      const buf = Buffer.allocUnsafe(info.size + 1)
      const { bytesRead } = await handle.read(buf, 0, buf.length, 0)
      if (bytesRead > info.size) return { gap: 'it grew while it was read' }
      text = buf.subarray(0, bytesRead).toString('utf8')
    } finally {
      await handle.close()
    }
  } catch (e) {
    return { gap: `cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})` }
  }
  let data: unknown
  try {
    data = parseJson(text, 'package.json', 'SBOM_PACKAGE_JSON_INVALID')
    assertPackageJsonShape(data, 'package.json')
  } catch (e) {
    return { gap: (e as Error).message.replace(/^package\.json:\s*/, '') }
  }
  const pkg = data as Record<string, unknown>
  if (pkg.name !== undefined && pkg.name !== node.name)
    return { gap: `it names ${JSON.stringify(String(pkg.name).slice(0, 80))}, not ${node.name}: not used` }
  // a folder package without a version (a workspace) is '' in the tree
  if ((pkg.version ?? '') !== node.version)
    return {
      gap: `its version ${JSON.stringify(String(pkg.version).slice(0, 40))} is not ${JSON.stringify(node.version)}: not used`,
    }
  return { manifest: pickManifest(pkg) }
}

/**
 * Replaces each installed package's manifest (but the root's, read already) with its own package.json;
 * returns one warning per package that could not be read (`node_modules/x/package.json: problem`).
 */
export async function readInstalledManifests(cwd: string, nodes: Iterable<InventoryNode>): Promise<string[]> {
  const projectReal = await realpath(cwd)
  const todo = [...nodes].filter((n) => n.kind !== 'root')
  const gaps: string[] = []
  let next = 0
  const worker = async () => {
    while (next < todo.length) {
      const node = todo[next++]!
      const read = await readOne(projectReal, cwd, node)
      if ('manifest' in read) node.manifest = read.manifest
      else
        gaps.push(
          `${node.location}/package.json: ${read.gap}; ${node.name}@${node.version} has only the tree's metadata`,
        )
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, todo.length) }, worker))
  return gaps.sort()
}
