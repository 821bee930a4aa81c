// Minimal typings for the two SPDX packages the policy step uses (they ship none).
declare module 'spdx-expression-parse' {
  export interface SpdxLicense {
    license: string
    plus?: true
    exception?: string
  }
  export interface SpdxConjunction {
    left: SpdxNode
    conjunction: 'and' | 'or'
    right: SpdxNode
  }
  export type SpdxNode = SpdxLicense | SpdxConjunction
  export default function parse(expression: string): SpdxNode
}

declare module 'spdx-satisfies' {
  export default function satisfies(expression: string, approved: string[]): boolean
}
