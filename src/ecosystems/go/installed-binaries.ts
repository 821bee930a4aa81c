/**
 * Go executables inside installed npm packages (esbuild's `@esbuild/<platform>` packages, and any other
 * package that ships a Go program): found in each installed package's folder, read with the Go executable
 * reader (binary/), and added to the npm inventory as components nested in the package that ships them,
 * with the edge package → the executable's main module → its modules and the Go release (`stdlib`).
 *
 * What is looked at, and what it costs: every installed package folder under node_modules (not its own
 * nested node_modules: those are packages of their own; symlinks are not followed), and of its files only
 * those that could be a Go executable: a regular file of at least MIN_EXECUTABLE_BYTES (the smallest Go
 * program with build info is about 1 MiB) whose extension is not a known text or data one. Those files'
 * first bytes are sniffed (`executableFormat`); only ELF, Mach-O and PE files are opened as executables.
 * A file that claims to be a Go executable and lies stops the SBOM (exit 2, GO_BINARY_*, naming it).
 *
 * A Go executable without build info (newer esbuild releases strip it) cannot say which modules it holds:
 * its package's dependency list is marked incomplete (the SBOM's compositions say so) with a warning,
 * never presented as "no Go modules".
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, open, readdir } from 'node:fs/promises'
import path from 'node:path'
import { showControls } from '../../util/file-name.ts'
import type { Inventory, InventoryNode } from '../inventory.ts'
import { EXECUTABLE_HEAD_BYTES, executableFormat, type GoBuildInfo, type GoModule } from './binary/index.ts'
import { READ_FLAGS, readGoExecutable, shipsGoFunctionTable } from './binary/read.ts'
import { goModulePurl, stdlibPurl } from './purl.ts'
import { GO_KEY_PREFIX, GO_PROPERTY, goInventoryNode } from './read-inventory.ts'

/** Files smaller than this are not sniffed (no Go program with build info is this small). */
export const MIN_EXECUTABLE_BYTES = 256 * 1024

/** Extensions of files that are never executables (lower case, with the dot). */
const NOT_EXECUTABLE = new Set(
  '.js .mjs .cjs .ts .mts .cts .jsx .tsx .map .json .md .markdown .txt .css .scss .less .html .htm .xml .xsd .svg .png .jpg .jpeg .gif .webp .ico .woff .woff2 .ttf .otf .eot .wasm .c .h .cc .cpp .hpp .o .a .py .rb .go .rs .java .lock .yml .yaml .toml .csv .tsv .gz .tgz .zip .br .flow .d.ts'.split(
    ' ',
  ),
)

/** Properties of a component read from an executable (contract 2 of the Go work). */
export const GO_BINARY_PROPERTY = {
  binary: 'detbuild:go:binary',
  binarySha256: 'detbuild:go:binary-sha256',
  buildPrefix: 'detbuild:go:build:',
  mainPackage: 'detbuild:go:main-package',
} as const

/** One Go executable found in a package. */
export interface FoundGoBinary {
  /** relative to the project, forward slashes */
  path: string
  sha256: string
  buildInfo: GoBuildInfo
}

type Property = { name: string; value: string }

function goNode(
  key: string,
  name: string,
  version: string,
  purl: string,
  properties: Property[],
): InventoryNode {
  return goInventoryNode(key, name, version, purl, 'registry', properties)
}

/**
 * Pure: the nested nodes of the Go executables one package ships, and the keys the package depends on
 * (each executable's main module; its modules and `stdlib` when it names no main module). Keys are
 * `go:<executable>#<module path>` (unique per executable); properties are sorted by name.
 */
export function goBinaryNodes(binaries: readonly FoundGoBinary[]): {
  nested: InventoryNode[]
  entries: string[]
} {
  const nested: InventoryNode[] = []
  const entries: string[] = []
  for (const b of binaries) {
    const info = b.buildInfo
    const where: Property[] = [
      { name: GO_BINARY_PROPERTY.binary, value: b.path },
      { name: GO_BINARY_PROPERTY.binarySha256, value: b.sha256 },
    ]
    const keyOf = (p: string) => `${GO_KEY_PREFIX}${b.path}#${p}`
    const moduleNode = (m: GoModule, extra: Property[]): InventoryNode => {
      const props = [...where, ...extra]
      const r = m.replace
      let n: InventoryNode
      if (r && isLocalPath(r.path)) {
        props.push({ name: GO_PROPERTY.replaceDir, value: r.path })
        props.push({ name: GO_PROPERTY.replaces, value: `${m.path}@${m.version}` })
        n = goNode(keyOf(m.path), m.path, '', goModulePurl(m.path, undefined), props)
        n.kind = 'directory'
      } else {
        const target = r ?? m
        if (r) props.push({ name: GO_PROPERTY.replaces, value: `${m.path}@${m.version}` })
        const sum = r ? r.sum : m.sum
        if (sum) props.push({ name: GO_PROPERTY.h1, value: sum })
        const version = known(target.version)
        n = goNode(
          keyOf(m.path),
          target.path,
          version,
          goModulePurl(target.path, version || undefined),
          props,
        )
      }
      n.properties = sortProps(n.properties ?? [])
      return n
    }
    const stdlib = goNode(
      `${keyOf('')}#stdlib`, // no module path holds '#': never a module's key
      'stdlib',
      info.goVersion,
      stdlibPurl(info.goVersion),
      sortProps([...where, { name: GO_PROPERTY.version, value: info.goVersion }]),
    )
    const deps = info.deps.map((d) => moduleNode(d, []))
    const inner = [...deps.map((d) => d.key), stdlib.key]
    if (info.main) {
      const settings = info.settings.map((s) => ({
        name: `${GO_BINARY_PROPERTY.buildPrefix}${s.key}`,
        value: s.value,
      }))
      const mainProps: Property[] = [...settings]
      if (info.path) mainProps.push({ name: GO_BINARY_PROPERTY.mainPackage, value: info.path })
      if (info.main.version === '(devel)' || info.main.version === '')
        mainProps.push({ name: GO_PROPERTY.mainVersionSource, value: 'unknown' })
      const main = moduleNode(info.main, mainProps)
      main.deps = inner
      main.application = true
      nested.push(main)
      entries.push(main.key)
    } else entries.push(...inner)
    nested.push(...deps, stdlib)
  }
  return { nested, entries }
}

/** "(devel)" is Go's "no version": written as no version (the purl has none), never as a version. */
const known = (version: string) => (version === '(devel)' ? '' : version)
const isLocalPath = (p: string) =>
  p.startsWith('./') || p.startsWith('../') || p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p)
const sortProps = (props: Property[]) =>
  props.sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0,
  )

/** The files of a package folder worth sniffing, sorted; nested node_modules and symlinks are skipped. */
async function candidates(root: string, rel: string, out: string[]): Promise<void> {
  let entries: import('node:fs').Dirent[]
  try {
    entries = await readdir(path.join(root, rel), { withFileTypes: true })
  } catch {
    return
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const e of entries) {
    const child = rel === '' ? e.name : `${rel}/${e.name}`
    if (e.isDirectory()) {
      if (e.name !== 'node_modules') await candidates(root, child, out)
    } else if (e.isFile()) {
      const lower = e.name.toLowerCase()
      const dot = lower.lastIndexOf('.')
      if (dot > 0 && (NOT_EXECUTABLE.has(lower.slice(dot)) || lower.endsWith('.d.ts'))) continue
      out.push(child)
    }
  }
}

async function sniff(file: string): Promise<boolean> {
  const st = await lstat(file)
  if (!st.isFile() || st.size < MIN_EXECUTABLE_BYTES) return false
  const handle = await open(file, READ_FLAGS)
  try {
    const head = Buffer.alloc(EXECUTABLE_HEAD_BYTES)
    const { bytesRead } = await handle.read(head, 0, head.length, 0)
    return executableFormat(head.subarray(0, bytesRead)) !== null
  } finally {
    await handle.close()
  }
}

export async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** Whether a node is an installed npm package (not the project, a workspace or a linked folder). */
const isInstalledPackage = (n: InventoryNode) =>
  n.ecosystem === undefined &&
  n.kind !== 'root' &&
  n.kind !== 'workspace' &&
  (n.location.startsWith('node_modules/') || n.location.includes('/node_modules/'))

/**
 * Edge: finds the Go executables of every installed package of an npm inventory (read from
 * `projectDir`) and nests their modules in the package's node. Changes the inventory in place.
 */
export async function addInstalledGoBinaries(
  projectDir: string,
  inventory: Inventory,
): Promise<{ found: number; sniffed: number }> {
  let found = 0
  let sniffed = 0
  const incomplete = new Set(inventory.incompleteDeps ?? [])
  const keys = [...inventory.nodes.keys()].sort()
  for (const key of keys) {
    const node = inventory.nodes.get(key) as InventoryNode
    if (!isInstalledPackage(node)) continue
    const files: string[] = []
    await candidates(path.join(projectDir, node.location), '', files)
    const binaries: FoundGoBinary[] = []
    for (const rel of files) {
      const file = path.join(projectDir, node.location, rel)
      if (!(await sniff(file))) continue
      sniffed++
      const display = `${node.location}/${rel}`
      const read = await readGoExecutable(file, { display })
      if (read === null) {
        if (await shipsGoFunctionTable(file, display)) {
          inventory.warnings.push(
            `${showControls(display)} is a Go executable without build info: the Go modules it holds are unknown (the SBOM marks ${showControls(`${node.name}@${node.version}`)}'s dependencies incomplete)`,
          )
          incomplete.add(node.key)
        }
        continue
      }
      binaries.push({ path: display, sha256: await fileSha256(file), buildInfo: read.buildInfo })
    }
    if (binaries.length === 0) continue
    found += binaries.length
    const { nested, entries } = goBinaryNodes(binaries)
    node.nested = [...(node.nested ?? []), ...nested]
    node.deps = [...node.deps, ...entries]
  }
  if (incomplete.size > 0) inventory.incompleteDeps = [...incomplete].sort()
  return { found, sniffed }
}
