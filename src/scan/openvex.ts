/**
 * Pure: `vulns.openvex.json`, an OpenVEX v0.2.0 document (https://github.com/openvex/spec) with one
 * statement per analysed finding (Go symbol-level reachability): `not_affected` with the justification
 * `vulnerable_code_not_in_execute_path` where the vulnerable code is provably not in the program,
 * `affected` (with why it could not be ruled out) otherwise. Deterministic: the timestamp is the scan
 * time (SOURCE_DATE_EPOCH), the `@id` is derived from the content, statements follow vulns.json's order.
 * `detbuild policy --vex vulns.openvex.json` reads it back (policy/exceptions.ts). Written by hand: the
 * format is a small JSON shape and the npm OpenVEX libraries pull in a document store for it.
 */
import { stableJson } from '../util/canonical-json.ts'
import { sha256Hex } from '../util/digest.ts'
import { VERSION } from '../version.ts'
import type { Finding, VulnsReport } from './types.ts'

export const OPENVEX_CONTEXT = 'https://openvex.dev/ns/v0.2.0'

interface Product {
  '@id': string
  subcomponents?: Array<{ '@id': string }>
}

export interface OpenVexStatement {
  vulnerability: { name: string; aliases?: string[] }
  products: Product[]
  status: 'not_affected' | 'affected'
  justification?: string
  impact_statement?: string
  action_statement?: string
  status_notes?: string
}

export interface OpenVexDocument {
  '@context': string
  '@id': string
  author: string
  role: string
  timestamp: string
  version: number
  tooling: string
  statements: OpenVexStatement[]
}

function toStatement(f: Finding, product: string | null): OpenVexStatement {
  const a = f.analysis!
  const products: Product[] =
    product !== null && product !== f.purl
      ? [{ '@id': product, subcomponents: [{ '@id': f.purl }] }]
      : [{ '@id': f.purl }]
  const vulnerability = { name: f.id, ...(f.aliases.length > 0 ? { aliases: f.aliases } : {}) }
  if (a.state === 'not_affected')
    return {
      vulnerability,
      products,
      status: 'not_affected',
      justification: a.justification ?? 'vulnerable_code_not_in_execute_path',
      impact_statement: a.detail,
    }
  return {
    vulnerability,
    products,
    status: 'affected',
    action_statement: f.fixed
      ? `update ${f.name} to ${f.fixed} or later`
      : `no fixed version of ${f.name} is known: remove it or mitigate`,
    status_notes: `${a.code ?? 'GO_REACH_NO_EVIDENCE'}: ${a.detail}`,
  }
}

/**
 * The OpenVEX document of a scan's analysed findings, or null when no finding was analysed (no Go
 * finding): then no file is written. `product` is the SBOM's root purl (the statements' product, each
 * finding's package a subcomponent of it); `timestamp` the scan time.
 */
export function toOpenVex(
  report: VulnsReport,
  o: { product: string | null; timestamp: string },
): OpenVexDocument | null {
  const analysed = report.findings.filter((f) => f.analysis !== undefined)
  if (analysed.length === 0) return null
  const statements = analysed.map((f) => toStatement(f, o.product))
  const tooling = `detbuild ${VERSION}`
  const id = sha256Hex(stableJson({ product: o.product, sbom: report.sbom.sha256, statements, tooling }))
  return {
    '@context': OPENVEX_CONTEXT,
    '@id': `urn:detbuild:openvex:sha256:${id}`,
    author: 'detbuild',
    role: 'tooling',
    timestamp: o.timestamp,
    version: 1,
    tooling,
    statements,
  }
}
