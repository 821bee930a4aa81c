/**
 * Pure: the SBOM output formats (`detbuild sbom --format`), their file names, and how a list of
 * `--format` values (repeatable, comma-separated; the older `json`, `xml`, `both` kept) becomes what
 * runSbom writes.
 */
import { InputError } from '../errors.ts'
import type { SpdxVersion } from './validate-spdx.ts'

export const OUTPUT_FORMATS = ['cyclonedx-json', 'cyclonedx-xml', 'spdx-json', 'spdx3-jsonld'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

/** What each older `--format` value means. */
const ALIASES: Record<string, readonly OutputFormat[]> = {
  json: ['cyclonedx-json'],
  xml: ['cyclonedx-xml'],
  both: ['cyclonedx-json', 'cyclonedx-xml'],
}

/** The CycloneDX encodings to write (`none`: only SPDX was asked for). */
export type CycloneDxFormat = 'json' | 'xml' | 'both' | 'none'

export interface FormatPlan {
  cyclonedx: CycloneDxFormat
  spdx: SpdxVersion[]
}

/** `--format` values → the plan; an unknown value is a usage error naming it. */
export function parseFormats(values: readonly string[]): FormatPlan {
  const chosen = new Set<OutputFormat>()
  for (const v of values
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter(Boolean)) {
    const known =
      (Object.hasOwn(ALIASES, v) ? ALIASES[v] : undefined) ??
      ((OUTPUT_FORMATS as readonly string[]).includes(v) ? [v as OutputFormat] : undefined)
    if (!known)
      throw new InputError(
        'FORMAT_USAGE',
        `--format takes ${OUTPUT_FORMATS.join(', ')} (or json, xml, both), not "${v}"`,
      )
    for (const f of known) chosen.add(f)
  }
  if (chosen.size === 0) chosen.add('cyclonedx-json')
  const json = chosen.has('cyclonedx-json')
  const xml = chosen.has('cyclonedx-xml')
  return {
    cyclonedx: json && xml ? 'both' : json ? 'json' : xml ? 'xml' : 'none',
    spdx: [
      ...(chosen.has('spdx-json') ? (['2.3'] as const) : []),
      ...(chosen.has('spdx3-jsonld') ? (['3.0.1'] as const) : []),
    ],
  }
}
