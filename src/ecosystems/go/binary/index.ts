/**
 * Reading Go executables without a Go toolchain: the build information the Go linker embeds (Go version,
 * main package, main module, every dependency with its `h1:` sum and `replace`, the `build` settings) and
 * the function names of the `.gopclntab` table (which survive `-s -w` stripping), from ELF, Mach-O (thin
 * and fat, 32/64-bit, arm64 included) and PE files.
 *
 * Hand-written on purpose: no npm package reads Go build info, and the ELF/Mach-O/PE parsers on the npm
 * registry (elfy, macho, pe-library) parse a whole in-memory buffer, trust the header's offsets and lengths,
 * and are not written for hostile input. Here every read goes through a file handle with a length capped by
 * the file's size and an absolute limit (see `file.ts`), so a lying header ends in an `InputError`
 * (exit 2, `GO_BINARY_*`, naming the file), never in a crash, a hang or a huge allocation.
 *
 * The algorithm is Go's own (go1.26 `src/debug/buildinfo/buildinfo.go` and `runtime/debug.ParseBuildInfo`,
 * `debug/gosym` for the pclntab); where Go says "not a Go executable" for a blob that the file nonetheless
 * claims to hold (the build-info magic is there but its lengths or pointers lie), this reader says
 * `GO_BINARY_BUILDINFO_INVALID`: a file that claims to be Go and lies is bad input, not a non-Go file.
 */
import { readGoExecutable } from './read.ts'

/** A Go module as the build info names it. */
export interface GoModule {
  path: string
  version: string
  sum?: string
  replace?: GoModule
}

/** The build information embedded in a Go executable. */
export interface GoBuildInfo {
  /** as embedded, e.g. "go1.26.10" */
  goVersion: string
  /** the main package's import path ("" when absent) */
  path: string
  /** the main module (version "(devel)" when unstamped) */
  main?: GoModule
  /** in embedded order; `replace` set from "=>" lines */
  deps: GoModule[]
  /** "build" lines: -trimpath, CGO_ENABLED, GOOS, vcs.revision ... */
  settings: Array<{ key: string; value: string }>
  /** Go ≥1.18 inline strings / older pointer format */
  format: 'inline' | 'pointer'
  container: 'elf' | 'macho' | 'pe'
}

/** How many bytes `executableFormat` wants to see (it decides on fewer when the file is shorter). */
export const EXECUTABLE_HEAD_BYTES = 8

/** Pure: quick sniff of the first bytes (ELF/Mach-O/PE magic). */
export function executableFormat(head: Uint8Array): 'elf' | 'macho' | 'pe' | null {
  if (head.length < 4) return head.length >= 2 && head[0] === 0x4d && head[1] === 0x5a ? 'pe' : null
  const [a, b, c, d] = head as unknown as [number, number, number, number]
  if (a === 0x7f && b === 0x45 && c === 0x4c && d === 0x46) return 'elf'
  if (a === 0x4d && b === 0x5a) return 'pe'
  // thin Mach-O: 0xfeedface / 0xfeedfacf in either byte order
  if (a === 0xfe && b === 0xed && c === 0xfa && (d === 0xce || d === 0xcf)) return 'macho'
  if ((a === 0xce || a === 0xcf) && b === 0xfa && c === 0xed && d === 0xfe) return 'macho'
  // fat Mach-O (0xcafebabe / 0xcafebabf, big-endian): shares its magic with Java class files, whose next
  // word is the class version (major ≥ 45); a fat header's next word is its architecture count (small)
  if (a === 0xca && b === 0xfe && c === 0xba && (d === 0xbe || d === 0xbf)) {
    if (head.length < 8) return null
    const count = ((head[4] ?? 0) << 24) | ((head[5] ?? 0) << 16) | ((head[6] ?? 0) << 8) | (head[7] ?? 0)
    return count > 0 && count < 20 ? 'macho' : null
  }
  return null
}

/** Edge: null when the file is not a Go executable; InputError (exit 2, code GO_BINARY_*) when it claims to be and lies. */
export function readGoBinary(
  file: string,
  options?: { symbols?: boolean },
): Promise<{ buildInfo: GoBuildInfo; symbols?: string[] } | null> {
  return readGoExecutable(file, options ?? {})
}
