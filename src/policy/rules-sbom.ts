/** SBOM quality: the NTIA minimum elements and the share of components with hashes. */

import { plural } from '../util/plural.ts'
import type { RuleContext } from './context.ts'
import { type ComponentView, isObject, type Obj, str } from './model.ts'
import { draft, type RuleDraft } from './rule.ts'
import { NTIA_ELEMENTS, type NtiaElement } from './types.ts'

const TITLES: Record<NtiaElement, string> = {
  supplier: 'NTIA: every component names its supplier',
  name: 'NTIA: every component has a name',
  version: 'NTIA: every component has a version',
  identifier: 'NTIA: every component has a unique identifier (purl, CPE or SWID)',
  dependencies: 'NTIA: dependency relationships are recorded',
  author: 'NTIA: the SBOM names its author',
  timestamp: 'NTIA: the SBOM has a timestamp',
}

/**
 * A Go module's go.sum `h1:` (the property `detbuild:go:h1`: SHA-256 over the sorted list of the module's
 * files and their SHA-256, Go's dirhash) pins the module's whole content, and the go command checks it on
 * every download: it counts as a strong hash for this rule, although it is not a digest of any one file
 * (which is why the SBOM records it as a property, not in `hashes`).
 */
function hasGoH1(c: { raw: Record<string, unknown> }): boolean {
  const props = Array.isArray(c.raw.properties) ? c.raw.properties.filter(isObject) : []
  return props.some(
    (p) =>
      p.name === 'detbuild:go:h1' && typeof p.value === 'string' && /^h1:[A-Za-z0-9+/]{43}=$/.test(p.value),
  )
}

const STRONG_HASHES = new Set([
  'SHA-256',
  'SHA-384',
  'SHA-512',
  'SHA3-256',
  'SHA3-384',
  'SHA3-512',
  'BLAKE2b-256',
  'BLAKE2b-384',
  'BLAKE2b-512',
  'BLAKE3',
])

const named = (v: unknown): string | undefined => (isObject(v) ? (str(v.name) ?? str(v.email)) : undefined)

/** Supplier, else manufacturer, publisher or author: the field that named it. */
function supplierOf(c: Obj): { value: string; field: string } | undefined {
  const candidates: Array<[string, string | undefined]> = [
    ['supplier', named(c.supplier)],
    ['manufacturer', named(c.manufacturer)],
    ['publisher', str(c.publisher)],
    ['author', str(c.author)],
    ['authors', Array.isArray(c.authors) ? c.authors.map(named).find((x) => x !== undefined) : undefined],
  ]
  for (const [field, value] of candidates) if (value !== undefined) return { value, field }
  return undefined
}

/** Whether detbuild's SBOM writer recorded that it found no supplier (property `detbuild:supplier` = `unknown`). */
function markedUnknownSupplier(c: Obj): boolean {
  return (
    Array.isArray(c.properties) &&
    c.properties.some((p) => isObject(p) && p.name === 'detbuild:supplier' && p.value === 'unknown')
  )
}

function authorOf(metadata: Obj): { value: string; field: string } | undefined {
  const authors = Array.isArray(metadata.authors) ? metadata.authors.map(named).find((x) => x) : undefined
  if (authors) return { value: authors, field: 'metadata.authors' }
  for (const field of ['manufacturer', 'manufacture', 'supplier'] as const) {
    const v = named(metadata[field])
    if (v) return { value: v, field: `metadata.${field}` }
  }
  // CycloneDX 1.5+: tools.components[]; 1.4: tools[]. A tool is the author of machine-generated SBOM data.
  const tools = metadata.tools
  const list = Array.isArray(tools)
    ? tools
    : isObject(tools) && Array.isArray(tools.components)
      ? tools.components
      : []
  const tool = list.filter(isObject).find((t) => str(t.name))
  if (tool)
    return { value: `${tool.name}${str(tool.version) ? `@${tool.version}` : ''}`, field: 'metadata.tools' }
  return undefined
}

function identifierOf(c: Obj): string | undefined {
  if (str(c.purl)) return 'purl'
  if (str(c.cpe)) return 'cpe'
  if (isObject(c.swid) && str(c.swid.tagId)) return 'swid'
  return undefined
}

export function sbomRules(ctx: RuleContext): RuleDraft[] {
  const p = ctx.policy.sbom
  if (!p) return []
  const out: RuleDraft[] = []
  const { sbom } = ctx
  const all: ComponentView[] = sbom.root ? [sbom.root, ...sbom.components] : sbom.components
  const metadata = isObject(sbom.raw.metadata) ? sbom.raw.metadata : {}
  const subject = (c: ComponentView) => (c.purl ? { purl: c.purl } : { component: c.label })
  const count = `${all.length} component${all.length === 1 ? '' : 's'} checked`

  if (p.ntia) {
    const elements = p.ntia.elements ?? [...NTIA_ELEMENTS]
    for (const element of NTIA_ELEMENTS) {
      if (!elements.includes(element)) continue
      const d = draft(`sbom.ntia.${element}`, TITLES[element], p.ntia.level, count)
      switch (element) {
        case 'supplier': {
          const fields: Record<string, number> = {}
          let markedUnknown = 0
          for (const c of all) {
            const s = supplierOf(c.raw)
            if (s) fields[s.field] = (fields[s.field] ?? 0) + 1
            else if (markedUnknownSupplier(c.raw)) {
              markedUnknown++
              d.violations.push({
                ...subject(c),
                message: `${c.label} names no supplier (marked unknown in the SBOM; detbuild sbom --supplier registry may find it)`,
              })
            } else d.violations.push({ ...subject(c), message: `${c.label} names no supplier` })
          }
          d.evidence = { checked: all.length, foundIn: fields, markedUnknown }
          break
        }
        case 'name':
          for (const c of all)
            if (!c.name) d.violations.push({ ...subject(c), message: `${c.label} has no name` })
          d.evidence = { checked: all.length }
          break
        case 'version':
          for (const c of all)
            if (!c.version) d.violations.push({ ...subject(c), message: `${c.label} has no version` })
          d.evidence = { checked: all.length }
          break
        case 'identifier':
          for (const c of all)
            if (!identifierOf(c.raw))
              d.violations.push({ ...subject(c), message: `${c.label} has no purl, CPE or SWID` })
          d.evidence = { checked: all.length }
          break
        case 'dependencies': {
          const deps = sbom.dependencies
          if (!deps) {
            d.violations.push({ message: 'the SBOM has no dependencies section' })
          } else {
            const mentioned = new Set<string>()
            for (const e of deps) {
              mentioned.add(e.ref)
              for (const r of e.dependsOn) mentioned.add(r)
            }
            if (sbom.root && !deps.some((e) => e.ref === sbom.root!.bomRef))
              d.violations.push({
                ...subject(sbom.root),
                message: 'the root component has no dependencies entry',
              })
            for (const c of sbom.components)
              if (!c.bomRef || !mentioned.has(c.bomRef))
                d.violations.push({ ...subject(c), message: `${c.label} is in no dependency relationship` })
          }
          d.passSummary = `${sbom.dependencies?.length ?? 0} dependency entries`
          d.evidence = { entries: sbom.dependencies?.length ?? 0 }
          break
        }
        case 'author': {
          const a = authorOf(metadata)
          if (a) d.evidence = { author: a.value, field: a.field }
          else d.violations.push({ message: 'metadata names no author, manufacturer, supplier or tool' })
          d.passSummary = a ? `${a.value} (${a.field})` : ''
          break
        }
        case 'timestamp': {
          const t = str(metadata.timestamp)
          if (!t) d.violations.push({ message: 'metadata.timestamp is missing' })
          else if (Number.isNaN(Date.parse(t)))
            d.violations.push({ message: `metadata.timestamp is not a date: ${t}` })
          d.passSummary = t ?? ''
          d.evidence = { timestamp: t ?? null }
          break
        }
      }
      out.push(d)
    }
  }

  if (p.hashes) {
    const minShare = p.hashes.minShare ?? 1
    const strongOnly = p.hashes.strongOnly === true
    const d = draft(
      'sbom.hashes',
      `At least ${Math.round(minShare * 100)}% of components carry a hash`,
      p.hashes.level,
    )
    const without: string[] = []
    let withHash = 0
    for (const c of sbom.components) {
      const hashes = Array.isArray(c.raw.hashes) ? c.raw.hashes.filter(isObject) : []
      const ok =
        hashes.some((h) => str(h.content) && (!strongOnly || STRONG_HASHES.has(String(h.alg)))) || hasGoH1(c)
      if (ok) withHash++
      else without.push(c.label)
    }
    const total = sbom.components.length
    const share = total === 0 ? 1 : withHash / total
    const pct = (x: number) => `${(Math.floor(x * 1000) / 10).toFixed(1)}%`
    if (share < minShare)
      d.violations.push({
        message: `${withHash} of ${plural(total, 'component')} (${pct(share)}) carry a${strongOnly ? ' strong' : ''} hash, below ${pct(minShare)}`,
        withoutHash: without,
      })
    d.passSummary = `${withHash} of ${plural(total, 'component')} (${pct(share)}) carry a${strongOnly ? ' strong' : ''} hash`
    d.evidence = {
      total,
      withHash,
      share: Math.round(share * 10000) / 10000,
      minShare,
      strongOnly,
      withoutHash: without,
    }
    out.push(d)
  }
  return out
}
