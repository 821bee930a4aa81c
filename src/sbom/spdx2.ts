/**
 * Pure: the resolved inventory's facts (spdx-facts.ts) → an SPDX 2.3 JSON document, deterministic bytes.
 *
 * Hand-written: no maintained JavaScript library writes SPDX 2.3 (npm's own `npm sbom` writer is not a
 * library); the document is a plain JSON object checked against the official schema (validate-spdx.ts).
 *
 * - documentNamespace and every SPDXID are derived from the content (no random UUID); `created` is the
 *   CycloneDX writer's timestamp (SOURCE_DATE_EPOCH), to the second as SPDX requires.
 * - Packages: name, versionInfo, supplier (`Organization: …` or NOASSERTION), downloadLocation (the
 *   tarball, else NOASSERTION), checksums (SHA-1/256/384/512 only: a Go `h1:` sum is a hash of a file
 *   list, not of a download, so it stays a property annotation), licenseDeclared (NOASSERTION when
 *   unknown), licenseConcluded NOASSERTION (detbuild concludes nothing), the purl as a PACKAGE-MANAGER
 *   externalRef, primaryPackagePurpose.
 * - Relationships: DOCUMENT DESCRIBES the root, DEPENDS_ON per edge, CONTAINS for nested components
 *   (Go modules inside an npm package), DEPENDS_ON NOASSERTION for a package whose dependency list the
 *   reader could not see.
 * - CycloneDX properties and scope become annotations (`cyclonedx:property ["name","value"]`), so that
 *   `scan` and `policy` read an SPDX document back with the same facts.
 */
import { compareCodePoint } from '../util/sort.ts'
import {
  annotationTexts,
  documentUuid,
  SPDX2_CHECKSUM,
  type SpdxFacts,
  type SpdxPackageFacts,
  sanitizeIdPart,
  spdxIdFor,
} from './spdx-facts.ts'

const NOASSERTION = 'NOASSERTION'

export interface WrittenSpdx {
  json: string
  /** the document namespace (2.3) or the SpdxDocument's spdxId (3.0.1) */
  id: string
}

export function writeSpdx2(facts: SpdxFacts): WrittenSpdx {
  const creator = `Tool: ${facts.tool.name}-${facts.tool.version}`
  const idOf = new Map<string, string>()
  for (const p of [facts.root, ...facts.packages]) idOf.set(p.ref, spdxIdFor(p))
  const named = new Map<string, string>()
  const pkg = (p: SpdxPackageFacts): Record<string, unknown> => {
    for (const n of p.namedLicenses) named.set(n.id, n.name)
    const checksums = p.hashes
      .filter((h) => SPDX2_CHECKSUM[h.alg] !== undefined)
      .map((h) => ({ algorithm: SPDX2_CHECKSUM[h.alg], checksumValue: h.content }))
    const annotations = annotationTexts(p).map((comment) => ({
      annotationDate: facts.created,
      annotationType: 'OTHER',
      annotator: creator,
      comment,
    }))
    return {
      SPDXID: idOf.get(p.ref),
      name: p.name,
      versionInfo: p.version,
      supplier: p.supplier ? `Organization: ${p.supplier}` : NOASSERTION,
      downloadLocation: p.download ?? NOASSERTION,
      filesAnalyzed: false,
      homepage: p.homepage,
      checksums: checksums.length > 0 ? checksums : undefined,
      licenseConcluded: NOASSERTION,
      licenseDeclared: p.license ?? NOASSERTION,
      copyrightText: NOASSERTION,
      description: p.description,
      externalRefs: p.purl
        ? [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl }]
        : undefined,
      primaryPackagePurpose: p.type === 'application' ? 'APPLICATION' : 'LIBRARY',
      annotations: annotations.length > 0 ? annotations : undefined,
    }
  }
  const packages = [facts.root, ...facts.packages]
    .map(pkg)
    .sort((a, b) => compareCodePoint(String(a.SPDXID), String(b.SPDXID)))
  const relationships: Array<{
    spdxElementId: string
    relationshipType: string
    relatedSpdxElement: string
  }> = [
    {
      spdxElementId: 'SPDXRef-DOCUMENT',
      relationshipType: 'DESCRIBES',
      relatedSpdxElement: idOf.get(facts.root.ref)!,
    },
  ]
  for (const [from, tos] of facts.edges) {
    const fromId = idOf.get(from)
    if (fromId === undefined) continue
    for (const to of tos) {
      const toId = idOf.get(to)
      if (toId !== undefined)
        relationships.push({
          spdxElementId: fromId,
          relationshipType: 'DEPENDS_ON',
          relatedSpdxElement: toId,
        })
    }
    if (facts.incomplete.has(from))
      relationships.push({
        spdxElementId: fromId,
        relationshipType: 'DEPENDS_ON',
        relatedSpdxElement: NOASSERTION,
      })
  }
  for (const p of facts.packages)
    if (p.parent !== undefined)
      relationships.push({
        spdxElementId: idOf.get(p.parent)!,
        relationshipType: 'CONTAINS',
        relatedSpdxElement: idOf.get(p.ref)!,
      })
  relationships.sort(
    (a, b) =>
      compareCodePoint(a.spdxElementId, b.spdxElementId) ||
      compareCodePoint(a.relationshipType, b.relationshipType) ||
      compareCodePoint(a.relatedSpdxElement, b.relatedSpdxElement),
  )
  const extracted = [...named]
    .sort(([a], [b]) => compareCodePoint(a, b))
    .map(([licenseId, name]) => ({
      licenseId,
      name,
      extractedText: `The package declares the licence "${name}", which is not an SPDX licence identifier; its text was not read.`,
    }))
  const root = facts.root
  const docName = `${root.name}${root.version ? `@${root.version}` : ''}`
  const namespace = `https://spdx.org/spdxdocs/detbuild-${sanitizeIdPart(docName)}-${documentUuid(facts, 'SPDX-2.3')}`
  const doc = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: docName,
    documentNamespace: namespace,
    creationInfo: { created: facts.created, creators: [creator] },
    packages,
    relationships,
    hasExtractedLicensingInfos: extracted.length > 0 ? extracted : undefined,
  }
  return { json: `${JSON.stringify(doc, null, 2)}\n`, id: namespace }
}
