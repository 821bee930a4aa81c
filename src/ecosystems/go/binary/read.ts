/**
 * One executable: sniff, open the container, find and decode the build info, optionally the symbols.
 * See index.ts for the contract and why this is hand-written.
 */
import { open } from 'node:fs/promises'
import { InputError } from '../../../errors.ts'
import { parseModInfo, readRawBuildInfo } from './buildinfo.ts'
import { type Image, parseElf, parseMacho, parsePe } from './containers.ts'
import { BinaryFile, type ReadStats } from './file.ts'
import { EXECUTABLE_HEAD_BYTES, executableFormat, type GoBuildInfo } from './index.ts'
import { hasFunctionTable, readSymbols } from './pclntab.ts'

export interface ReadGoExecutableOptions {
  symbols?: boolean
  /** the file as messages name it (default: the path as given) */
  display?: string
  /** filled with the reader's totals (tests assert that reads stay bounded) */
  stats?: ReadStats
}

export async function readGoExecutable(
  file: string,
  options: ReadGoExecutableOptions,
): Promise<{ buildInfo: GoBuildInfo; symbols?: string[] } | null> {
  const display = options.display ?? file
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(file, 'r')
  } catch (error) {
    throw new InputError(
      'GO_BINARY_UNREADABLE',
      `${display}: cannot open it (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        file: display,
        cause: error,
      },
    )
  }
  try {
    const stat = await handle.stat()
    if (!stat.isFile())
      throw new InputError('GO_BINARY_UNREADABLE', `${display}: not a regular file`, { file: display })
    const f = new BinaryFile(handle, stat.size, display)
    try {
      return await readOpen(f, options.symbols === true)
    } finally {
      if (options.stats) Object.assign(options.stats, f.stats)
    }
  } catch (error) {
    if (error instanceof InputError) throw error
    const code = (error as NodeJS.ErrnoException).code
    throw new InputError('GO_BINARY_UNREADABLE', `${display}: cannot read it (${code ?? String(error)})`, {
      file: display,
      cause: error,
    })
  } finally {
    await handle.close()
  }
}

async function readOpen(
  f: BinaryFile,
  wantSymbols: boolean,
): Promise<{ buildInfo: GoBuildInfo; symbols?: string[] } | null> {
  const image = await openImage(f)
  if (image === null) return null
  const raw = await readRawBuildInfo(f, image)
  if (raw === null) return null
  const buildInfo: GoBuildInfo = {
    goVersion: raw.version,
    ...parseModInfo(f, raw.modinfo),
    format: raw.format,
    container: image.container,
  }
  if (!wantSymbols) return { buildInfo }
  const symbols = await readSymbols(f, image)
  return symbols === undefined ? { buildInfo } : { buildInfo, symbols }
}

/**
 * Whether an executable without build info is still a Go program: it has a Go function table (a named
 * `.gopclntab`/`__gopclntab` section, else a pclntab header that parses in its read-only data). For a file
 * `readGoBinary` returned null for; false for anything that is not an ELF, Mach-O or PE executable.
 */
export async function shipsGoFunctionTable(file: string, display: string): Promise<boolean> {
  const handle = await open(file, 'r')
  try {
    const f = new BinaryFile(handle, (await handle.stat()).size, display)
    const image = await openImage(f)
    if (image === null) return false
    return await hasFunctionTable(f, image)
  } finally {
    await handle.close()
  }
}

/** The container's layout, or null when the file is no ELF, Mach-O or PE executable. */
async function openImage(f: BinaryFile): Promise<Image | null> {
  const format = executableFormat(await f.readUpTo(0, EXECUTABLE_HEAD_BYTES))
  if (format === 'elf') return parseElf(f)
  if (format === 'macho') return parseMacho(f)
  if (format === 'pe') return parsePe(f)
  return null
}
