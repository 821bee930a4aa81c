/**
 * Pure: the resolved inventory's facts (spdx-facts.ts) → an SPDX 3.0.1 JSON-LD document (the compacted
 * form the official JSON schema describes: `@context` the 3.0.1 context URL, one `@graph`), deterministic.
 *
 * Hand-written: no maintained JavaScript library writes SPDX 3; the document is checked against the
 * official schema (validate-spdx.ts).
 *
 * - Every spdxId is `<document IRI>#SPDXRef-…`, the document IRI derived from the content; `created` is
 *   the CycloneDX writer's timestamp (SOURCE_DATE_EPOCH), to the second; one CreationInfo blank node.
 * - createdBy: a SoftwareAgent `detbuild`; createdUsing: the Tool `detbuild-<version>`.
 * - software_Package: name, software_packageVersion, software_packageUrl and an externalIdentifier of
 *   type packageUrl, verifiedUsing Hash (sha1/256/384/512; a Go `h1:` sum is not a hash of a download
 *   and stays an annotation), suppliedBy an Organization, software_downloadLocation,
 *   software_homePage, software_primaryPurpose.
 * - Relationships: dependsOn (one per package, completeness `complete`; `incomplete` with
 *   NoAssertionElement when the reader could not see the list; NoneElement for a package that depends on
 *   nothing), contains (nested components), hasDeclaredLicense → simplelicensing_LicenseExpression.
 * - CycloneDX properties and scope: Annotation elements (read back by src/sbom-read/index.ts).
 */
import { createHash } from 'node:crypto'
import { compareCodePoint } from '../util/sort.ts'
import {
  annotationTexts,
  documentUuid,
  SPDX3_HASH,
  type SpdxFacts,
  type SpdxPackageFacts,
  sanitizeIdPart,
  spdxIdFor,
} from './spdx-facts.ts'
import type { WrittenSpdx } from './spdx2.ts'

export const SPDX3_CONTEXT = 'https://spdx.org/rdf/3.0.1/spdx-context.jsonld'
/** The annotation on a licence expression element that names its LicenseRefs (read back by src/sbom-read/index.ts). */
export const LICENSE_NAMES_COMMENT = 'cyclonedx:license-names '

type Element = Record<string, unknown>

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16)

export function writeSpdx3(facts: SpdxFacts): WrittenSpdx {
  const root = facts.root
  const docName = `${root.name}${root.version ? `@${root.version}` : ''}`
  const base = `https://spdx.org/spdxdocs/detbuild-${sanitizeIdPart(docName)}-${documentUuid(facts, 'SPDX-3.0.1')}`
  const id = (local: string) => `${base}#${local}`
  const ci = '_:creationinfo'
  const agentId = id('SPDXRef-Agent-detbuild')
  const toolId = id(`SPDXRef-Tool-${sanitizeIdPart(`${facts.tool.name}-${facts.tool.version}`)}`)
  const elements: Element[] = []
  const add = (e: Element) => {
    elements.push(e)
    return e.spdxId as string
  }
  add({ type: 'SoftwareAgent', spdxId: agentId, creationInfo: ci, name: facts.tool.name })
  add({ type: 'Tool', spdxId: toolId, creationInfo: ci, name: `${facts.tool.name}-${facts.tool.version}` })
  const idOf = new Map<string, string>()
  for (const p of [root, ...facts.packages]) idOf.set(p.ref, id(spdxIdFor(p)))
  const orgs = new Map<string, string>()
  const licenses = new Map<string, string>()
  const relationship = (from: string, type: string, to: string[], completeness?: string) =>
    add({
      type: 'Relationship',
      spdxId: id(`SPDXRef-Relationship-${short(`${from}\u0000${type}\u0000${to.join('\u0000')}`)}`),
      creationInfo: ci,
      from,
      relationshipType: type,
      to,
      ...(completeness ? { completeness } : {}),
    })
  const pkg = (p: SpdxPackageFacts): string => {
    const pid = idOf.get(p.ref)!
    let supplier: string | undefined
    if (p.supplier) {
      supplier = orgs.get(p.supplier)
      if (!supplier) {
        supplier = add({
          type: 'Organization',
          spdxId: id(`SPDXRef-Organization-${short(p.supplier)}`),
          creationInfo: ci,
          name: p.supplier,
        })
        orgs.set(p.supplier, supplier)
      }
    }
    const hashes = p.hashes
      .filter((h) => SPDX3_HASH[h.alg] !== undefined)
      .map((h) => ({ type: 'Hash', algorithm: SPDX3_HASH[h.alg], hashValue: h.content }))
    add({
      type: 'software_Package',
      spdxId: pid,
      creationInfo: ci,
      name: p.name,
      ...(p.description ? { description: p.description } : {}),
      ...(p.purl
        ? {
            externalIdentifier: [
              { type: 'ExternalIdentifier', externalIdentifierType: 'packageUrl', identifier: p.purl },
            ],
          }
        : {}),
      ...(hashes.length > 0 ? { verifiedUsing: hashes } : {}),
      ...(supplier ? { suppliedBy: supplier } : {}),
      ...(p.download ? { software_downloadLocation: p.download } : {}),
      ...(p.homepage ? { software_homePage: p.homepage } : {}),
      software_primaryPurpose: p.type === 'application' ? 'application' : 'library',
      ...(p.purl ? { software_packageUrl: p.purl } : {}),
      ...(p.version ? { software_packageVersion: p.version } : {}),
    })
    if (p.license) {
      let lid = licenses.get(p.license)
      if (!lid) {
        lid = add({
          type: 'simplelicensing_LicenseExpression',
          spdxId: id(`SPDXRef-License-${short(p.license)}`),
          creationInfo: ci,
          ...(p.namedLicenses.length > 0
            ? {
                comment: `${LICENSE_NAMES_COMMENT}${JSON.stringify(Object.fromEntries(p.namedLicenses.map((n) => [n.id, n.name])))}`,
              }
            : {}),
          simplelicensing_licenseExpression: p.license,
        })
        licenses.set(p.license, lid)
      }
      relationship(pid, 'hasDeclaredLicense', [lid])
    }
    for (const text of annotationTexts(p))
      add({
        type: 'Annotation',
        spdxId: id(`SPDXRef-Annotation-${short(`${pid}\u0000${text}`)}`),
        creationInfo: ci,
        annotationType: 'other',
        statement: text,
        subject: pid,
      })
    return pid
  }
  const rootId = pkg(root)
  for (const p of facts.packages) pkg(p)
  for (const [from, tos] of facts.edges) {
    const fromId = idOf.get(from)
    if (fromId === undefined) continue
    const to = tos.map((t) => idOf.get(t)).filter((t): t is string => t !== undefined)
    if (facts.incomplete.has(from))
      relationship(fromId, 'dependsOn', [...to, 'NoAssertionElement'], 'incomplete')
    else relationship(fromId, 'dependsOn', to.length > 0 ? to : ['NoneElement'], 'complete')
  }
  for (const p of facts.packages)
    if (p.parent !== undefined) relationship(idOf.get(p.parent)!, 'contains', [idOf.get(p.ref)!])
  const cc0 = add({
    type: 'simplelicensing_LicenseExpression',
    spdxId: id('SPDXRef-DataLicense'),
    creationInfo: ci,
    simplelicensing_licenseExpression: 'CC0-1.0',
  })
  elements.sort((a, b) => compareCodePoint(a.spdxId as string, b.spdxId as string))
  const sbomId = id('SPDXRef-Sbom')
  const docId = id('SPDXRef-DOCUMENT')
  const contentIds = elements
    .map((e) => e.spdxId as string)
    .filter((e) => e !== agentId && e !== toolId && e !== cc0)
  const graph: Element[] = [
    {
      type: 'CreationInfo',
      '@id': ci,
      specVersion: '3.0.1',
      created: facts.created,
      createdBy: [agentId],
      createdUsing: [toolId],
    },
    {
      type: 'SpdxDocument',
      spdxId: docId,
      creationInfo: ci,
      name: docName,
      profileConformance: ['core', 'simpleLicensing', 'software'],
      rootElement: [sbomId],
      element: [sbomId, ...elements.map((e) => e.spdxId as string)].sort(compareCodePoint),
      dataLicense: cc0,
    },
    {
      type: 'software_Sbom',
      spdxId: sbomId,
      creationInfo: ci,
      profileConformance: ['core', 'simpleLicensing', 'software'],
      rootElement: [rootId],
      element: contentIds,
      software_sbomType: ['build'],
    },
    ...elements,
  ]
  const doc = { '@context': SPDX3_CONTEXT, '@graph': graph }
  return { json: `${JSON.stringify(doc, null, 2)}\n`, id: docId }
}
