/** Pure: BOM model → deterministic JSON / XML text with a content-derived serial number. */
import * as CDX from '@cyclonedx/cyclonedx-library'
import { InputError } from '../errors.ts'
import { compareCodePoint, compareEnUs } from '../util/sort.ts'
import { type SpecVersion, serialFromContent } from './spec.ts'

export function toSpec(version: SpecVersion): typeof CDX.Spec.Spec1dot6 {
  switch (version) {
    case '1.7':
      return CDX.Spec.Spec1dot7
    case '1.6':
      return CDX.Spec.Spec1dot6
    case '1.5':
      return CDX.Spec.Spec1dot5
    case '1.4':
      return CDX.Spec.Spec1dot4
  }
}

interface JsonBom {
  serialNumber?: string
  components?: JsonComponent[]
  dependencies?: Array<{ ref: string; dependsOn?: string[] }>
  [key: string]: unknown
}

/** The SBOM's `compositions` (the library's model has none): one aggregate and the refs it describes. */
export type Compositions = Array<{ aggregate: string; dependencies: string[] }>

type JsonComponent = { 'bom-ref'?: string; components?: JsonComponent[] }

function sortComponents(list: JsonComponent[] | undefined): void {
  list?.sort((a, b) => compareCodePoint(a['bom-ref'] ?? '', b['bom-ref'] ?? ''))
  for (const c of list ?? []) sortComponents(c.components)
}

/** Re-sorts the lists whose order the library leaves to a locale comparator, by code point. */
function sortByCodePoint(doc: JsonBom): void {
  sortComponents(doc.components)
  sortComponents((doc.metadata as { component?: JsonComponent } | undefined)?.component?.components)
  doc.dependencies?.sort((a, b) => compareCodePoint(a.ref, b.ref))
  for (const d of doc.dependencies ?? []) d.dependsOn?.sort(compareCodePoint)
}

export interface SerializedBom {
  json: string
  xml: string | undefined
  serialNumber: string
}

/**
 * Serializes once without a serial number, derives the serial from that content, then inserts it, so
 * that the same input always gives the same bytes and a different input a different serial.
 */
export function serializeBom(
  bom: CDX.Models.Bom,
  version: SpecVersion,
  withXml: boolean,
  compositions?: Compositions,
): SerializedBom {
  const spec = toSpec(version)
  const jsonSerializer = new CDX.Serialize.JsonSerializer(new CDX.Serialize.JSON.Normalize.Factory(spec))
  bom.serialNumber = undefined
  const unsigned = JSON.parse(
    withPinnedCollation(() => jsonSerializer.serialize(bom, { sortLists: true })),
  ) as JsonBom
  sortByCodePoint(unsigned)
  if (compositions) unsigned.compositions = compositions
  const serialNumber = serialFromContent(JSON.stringify(unsigned))
  bom.serialNumber = serialNumber
  // the same key order as the library writes: serialNumber follows version
  const doc: JsonBom = {}
  for (const [key, value] of Object.entries(unsigned)) {
    doc[key] = value
    if (key === 'version') doc.serialNumber = serialNumber
  }
  if (doc.serialNumber === undefined) doc.serialNumber = serialNumber
  const json = `${JSON.stringify(doc, null, 2)}\n`
  let xml: string | undefined
  if (withXml) {
    try {
      const xmlSerializer = new CDX.Serialize.XmlSerializer(new CDX.Serialize.XML.Normalize.Factory(spec))
      xml = withCompositionsXml(
        withPinnedCollation(() => xmlSerializer.serialize(bom, { sortLists: true, space: 2 })),
        compositions,
      )
      xml = `${xml}\n`
    } catch (e) {
      throw new InputError('SBOM_XML_UNAVAILABLE', `cannot write XML: ${(e as Error).message}`, { cause: e })
    }
  }
  return { json, xml, serialNumber }
}

/**
 * The library sorts its lists with `String#localeCompare`, i.e. in the machine's locale: under da_DK
 * "pkg:npm/aa@1" sorts after "pkg:npm/ab@1", so the same SBOM would have other bytes on another machine.
 * While it serializes (synchronously), localeCompare without explicit locales compares as en-US, the
 * order of detbuild's own writer (write-json.ts) and of every machine where LANG is C or en.
 */
function withPinnedCollation<T>(fn: () => T): T {
  const original = String.prototype.localeCompare
  String.prototype.localeCompare = function (this: string, that: string, ...rest: unknown[]) {
    return rest.length > 0 && rest[0] !== undefined
      ? original.call(this, that, ...(rest as []))
      : compareEnUs(String(this), String(that))
  } as typeof original
  try {
    return fn()
  } finally {
    String.prototype.localeCompare = original
  }
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
}
const xmlAttr = (v: string) => v.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!)

/**
 * The XML document with its `<compositions>` after `<dependencies>` (the schema's order), indented as
 * the library indents: the library's model cannot hold compositions.
 */
function withCompositionsXml(xml: string, compositions: Compositions | undefined): string {
  if (!compositions || compositions.length === 0) return xml
  const close = '\n  </dependencies>'
  const at = xml.lastIndexOf(close)
  if (at < 0) throw new Error('the XML SBOM has no dependencies element')
  const body = compositions
    .map(
      (c) =>
        `\n    <composition>\n      <aggregate>${c.aggregate}</aggregate>\n      <dependencies>${c.dependencies
          .map((ref) => `\n        <dependency ref="${xmlAttr(ref)}"/>`)
          .join('')}\n      </dependencies>\n    </composition>`,
    )
    .join('')
  const after = at + close.length
  return `${xml.slice(0, after)}\n  <compositions>${body}\n  </compositions>${xml.slice(after)}`
}
