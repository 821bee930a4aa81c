/**
 * Pure: a CycloneDX XML document (1.4–1.7) in the CycloneDX JSON shape scan and policy read. The caller has
 * already checked the text against the official XSD of its version (sbom/validate.ts `validateXml`), so
 * the structure is the schema's; this only maps elements and attributes to their JSON names, and reads
 * what scan, policy and report use: metadata (timestamp, lifecycles, tools, authors, component, supplier,
 * manufacturer, properties), components (nested ones too) with their identity, hashes, licences,
 * supplier, external references and properties, `dependencies` and `compositions`. Vulnerabilities,
 * services, formulation and the like are not read (scan makes its own findings).
 *
 * The XML is parsed with xmlbuilder2 (already a dependency, through the CycloneDX library's XML writer);
 * a DOCTYPE or an entity declaration is refused before parsing (no entity expansion of any kind), and
 * the XSD check before it refuses malformed XML, which xmlbuilder2's parser alone would read leniently.
 */
import { create } from 'xmlbuilder2'

type Obj = Record<string, unknown>

/** The minimal DOM surface of xmlbuilder2's nodes that this reads. */
interface El {
  nodeType: number
  localName: string | null
  namespaceURI: string | null
  childNodes: ArrayLike<El>
  textContent: string | null
  getAttribute(name: string): string | null
}

const CDX_NS = /^http:\/\/cyclonedx\.org\/schema\/bom\/(1\.[4-7])$/

/** The spec version a CycloneDX XML document declares (its root `bom` element's namespace), or null. */
export function cycloneDxXmlVersion(text: string): string | null {
  const m = /<bom\b[^>]*?\sxmlns="(http:\/\/cyclonedx\.org\/schema\/bom\/1\.[0-9]+)"/.exec(
    text.slice(0, 8192),
  )
  const v = m ? CDX_NS.exec(m[1] as string) : null
  return v ? (v[1] as string) : null
}

/** A DOCTYPE or an entity declaration: never parsed. */
export function hasDoctype(text: string): boolean {
  return /<!DOCTYPE|<!ENTITY/i.test(text)
}

/** Converts the (XSD-checked) XML text; throws with a short reason when the root is not a CycloneDX bom. */
export function cycloneDxXmlToJson(text: string): Obj {
  const root = create(text).root().node as unknown as El
  const ns = root.namespaceURI ?? ''
  const version = CDX_NS.exec(ns)?.[1]
  if (root.localName !== 'bom' || !version) throw new Error('the root element is not a CycloneDX 1.4–1.7 bom')
  const kids = (el: El | undefined, name: string): El[] =>
    el
      ? Array.from(el.childNodes).filter(
          (n) => n.nodeType === 1 && n.localName === name && n.namespaceURI === ns,
        )
      : []
  const kid = (el: El | undefined, name: string): El | undefined => kids(el, name)[0]
  const text_ = (el: El | undefined, name: string): string | undefined => {
    const k = kid(el, name)
    return k ? (k.textContent ?? '') : undefined
  }
  const attr = (el: El, name: string): string | undefined => el.getAttribute(name) ?? undefined
  const list = <T>(items: T[]): T[] | undefined => (items.length > 0 ? items : undefined)
  const under = (el: El | undefined, wrapper: string, item: string): El[] => kids(kid(el, wrapper), item)

  const hashes = (el: El) =>
    list(
      under(el, 'hashes', 'hash').map((h) => ({
        alg: attr(h, 'alg'),
        content: (h.textContent ?? '').trim(),
      })),
    )
  const properties = (el: El | undefined) =>
    list(
      under(el, 'properties', 'property').map((p) => ({ name: attr(p, 'name'), value: p.textContent ?? '' })),
    )
  const contact = (c: El) => ({ name: text_(c, 'name'), email: text_(c, 'email'), phone: text_(c, 'phone') })
  const org = (el: El | undefined) =>
    el
      ? {
          name: text_(el, 'name'),
          url: list(kids(el, 'url').map((u) => u.textContent ?? '')),
          contact: list(kids(el, 'contact').map(contact)),
        }
      : undefined
  const licenses = (el: El) => {
    const wrapper = kid(el, 'licenses')
    if (!wrapper) return undefined
    const out: Obj[] = []
    for (const c of Array.from(wrapper.childNodes)) {
      if (c.nodeType !== 1 || c.namespaceURI !== ns) continue
      if (c.localName === 'expression') out.push({ expression: (c.textContent ?? '').trim() })
      else if (c.localName === 'license')
        out.push({ license: { id: text_(c, 'id'), name: text_(c, 'name'), url: text_(c, 'url') } })
    }
    return list(out)
  }
  const references = (el: El) =>
    list(
      under(el, 'externalReferences', 'reference').map((r) => ({
        type: attr(r, 'type'),
        url: text_(r, 'url'),
        comment: text_(r, 'comment'),
        hashes: hashes(r),
      })),
    )
  const component = (el: El, depth: number): Obj => {
    if (depth > 64) throw new Error('components are nested deeper than 64 levels')
    return {
      type: attr(el, 'type'),
      'bom-ref': attr(el, 'bom-ref'),
      supplier: org(kid(el, 'supplier')),
      manufacturer: org(kid(el, 'manufacturer')),
      authors: list(under(el, 'authors', 'author').map(contact)),
      author: text_(el, 'author'),
      publisher: text_(el, 'publisher'),
      group: text_(el, 'group'),
      name: text_(el, 'name'),
      version: text_(el, 'version'),
      description: text_(el, 'description'),
      scope: text_(el, 'scope'),
      hashes: hashes(el),
      licenses: licenses(el),
      copyright: text_(el, 'copyright'),
      cpe: text_(el, 'cpe'),
      purl: text_(el, 'purl'),
      externalReferences: references(el),
      properties: properties(el),
      components: list(under(el, 'components', 'component').map((c) => component(c, depth + 1))),
    }
  }
  const metadata = kid(root, 'metadata')
  const tools = kid(metadata, 'tools')
  const toolComponents = under(tools, 'components', 'component')
  const legacyTools = kids(tools, 'tool')
  const metaComponent = kid(metadata, 'component')
  const doc: Obj = {
    $schema: `http://cyclonedx.org/schema/bom-${version}.schema.json`,
    bomFormat: 'CycloneDX',
    specVersion: version,
    serialNumber: attr(root, 'serialNumber'),
    version: Number(attr(root, 'version') ?? '1'),
    metadata: metadata
      ? {
          timestamp: text_(metadata, 'timestamp'),
          lifecycles: list(
            under(metadata, 'lifecycles', 'lifecycle').map((l) => ({
              phase: text_(l, 'phase'),
              name: text_(l, 'name'),
            })),
          ),
          tools:
            toolComponents.length > 0
              ? { components: toolComponents.map((c) => component(c, 0)) }
              : list(
                  legacyTools.map((t) => ({
                    vendor: text_(t, 'vendor'),
                    name: text_(t, 'name'),
                    version: text_(t, 'version'),
                  })),
                ),
          authors: list(under(metadata, 'authors', 'author').map(contact)),
          component: metaComponent ? component(metaComponent, 0) : undefined,
          manufacturer: org(kid(metadata, 'manufacturer')),
          manufacture: org(kid(metadata, 'manufacture')),
          supplier: org(kid(metadata, 'supplier')),
          properties: properties(metadata),
        }
      : undefined,
    components: list(under(root, 'components', 'component').map((c) => component(c, 0))),
    dependencies: list(
      under(root, 'dependencies', 'dependency').map((d) => ({
        ref: attr(d, 'ref'),
        dependsOn: list(kids(d, 'dependency').map((x) => attr(x, 'ref') ?? '')),
      })),
    ),
    compositions: list(
      under(root, 'compositions', 'composition').map((c) => ({
        aggregate: text_(c, 'aggregate'),
        assemblies: list(under(c, 'assemblies', 'assembly').map((a) => attr(a, 'ref') ?? '')),
        dependencies: list(under(c, 'dependencies', 'dependency').map((a) => attr(a, 'ref') ?? '')),
      })),
    ),
  }
  return dropUndefined(doc) as Obj
}

/** JSON has no undefined: members without a value are left out, as the JSON writer leaves them out. */
function dropUndefined(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropUndefined)
  if (v !== null && typeof v === 'object') {
    const out: Obj = {}
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = dropUndefined(x)
    return out
  }
  return v
}
