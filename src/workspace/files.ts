/**
 * The workspace (`.detbuild/` by default): the file names every step reads and writes, so that steps
 * compose and each can run alone. Paths are relative to the workspace folder.
 */
export const WorkspaceFiles = {
  buildManifest: 'build.json',
  provenance: 'provenance.intoto.json',
  buildLog: 'build.log',
  reproReport: 'repro-report.json',
  reproReportMd: 'repro-report.md',
  artifactsDir: 'artifacts',
  sbomJson: 'sbom.cdx.json',
  sbomXml: 'sbom.cdx.xml',
  sbomSpdx: 'sbom.spdx.json',
  sbomSpdx3: 'sbom.spdx3.jsonld',
  /** `detbuild sbom --score`: per-profile coverage of the SBOM (docs/profiles.md) */
  sbomScore: 'sbom-score.json',
  vulns: 'vulns.json',
  vulnsSarif: 'vulns.sarif',
  vulnsMarkdown: 'vulns.md',
  vulnsSbom: 'sbom.vulns.cdx.json',
  vulnsStatement: 'vulns.intoto.json',
  /** `detbuild scan`, Go findings: symbol-level reachability as an OpenVEX document */
  vulnsOpenVex: 'vulns.openvex.json',
  policy: 'policy.json',
  policyMarkdown: 'policy.md',
  signatures: 'signatures.json',
  evidence: 'evidence.tar.gz',
  /** `detbuild upload`: what was sent to Dependency-Track, and the VEX it sent */
  upload: 'upload.json',
  uploadVex: 'upload.vex.cdx.json',
  /** `detbuild report`: the self-contained HTML page a person reads (docs/report.md) */
  report: 'report.html',
} as const
