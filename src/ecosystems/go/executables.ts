/**
 * Edge: the SBOM of Go executables themselves (`detbuild sbom --binary dist/app`), without a Go toolchain:
 * each executable's build info (binary/) becomes the inventory, with the same components, properties and
 * edges as the Go executables found inside npm packages (installed-binaries.ts): its main module → every
 * module it was built with (after `replace`) and the Go release (`stdlib`), each carrying
 * `detbuild:go:binary` (the file, relative to the project) and `detbuild:go:binary-sha256`, so that
 * `detbuild scan` can check reachability against the same bytes.
 *
 * One executable with a main module describes itself: that module is the SBOM's subject. Several (or
 * one without a main module) hang under the project folder as the subject, each main module an
 * `application` component of its own.
 */
import path from 'node:path'
import { InputError } from '../../errors.ts'
import { showControls } from '../../util/file-name.ts'
import type { Inventory, InventoryNode } from '../inventory.ts'
import { readGoExecutable } from './binary/read.ts'
import { type FoundGoBinary, fileSha256, goBinaryNodes } from './installed-binaries.ts'
import { goInventoryNode } from './read-inventory.ts'

/** Reads `files` (relative to `projectDir`, or absolute inside it) into one inventory. */
export async function readGoExecutablesInventory(
  projectDir: string,
  files: readonly string[],
): Promise<Inventory> {
  const binaries: FoundGoBinary[] = []
  const seen = new Set<string>()
  for (const file of files) {
    const full = path.resolve(projectDir, file)
    const rel = path.relative(projectDir, full)
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel))
      throw new InputError(
        'SBOM_USAGE',
        `--binary ${showControls(file)}: the executable must be inside the project folder (its path is recorded relative to it, and scan re-reads it there)`,
      )
    const display = rel.split(path.sep).join('/')
    if (seen.has(display)) continue
    seen.add(display)
    const read = await readGoExecutable(full, { display })
    if (read === null)
      throw new InputError(
        'GO_BINARY_NOT_GO',
        `${showControls(display)} is not a Go executable with build info (an ELF, Mach-O or PE file built by Go ≥ 1.13 whose build info was not removed)`,
        { file: display },
      )
    binaries.push({ path: display, sha256: await fileSha256(full), buildInfo: read.buildInfo })
  }
  binaries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  const { nested, entries } = goBinaryNodes(binaries)
  const nodes = new Map<string, InventoryNode>()
  let root: InventoryNode
  const onlyMain = binaries.length === 1 && binaries[0]!.buildInfo.main !== undefined
  if (onlyMain) {
    // the executable's main module is the subject: re-keyed as the root
    const mainKey = entries[0]!
    const main = nested.find((n) => n.key === mainKey)!
    root = { ...main, key: '', kind: 'root', location: '', application: false }
    nodes.set('', root)
    for (const n of nested) if (n.key !== mainKey) nodes.set(n.key, n)
  } else {
    const name = path.basename(path.resolve(projectDir)) || 'executables'
    root = { ...goInventoryNode('', name, '', '', 'root', []), location: '', deps: [...entries] }
    delete root.purl
    delete root.properties
    nodes.set('', root)
    for (const n of nested) nodes.set(n.key, n)
  }
  return {
    root,
    nodes,
    warnings: [],
    lockfile: undefined,
    lockfileVersion: undefined,
    source: 'installed',
    workspaces: new Map(),
  }
}
