/** Pure: the first schema error of a CycloneDX validator's details, as one line. */
export function describeValidationError(result: unknown): string {
  // the library's validators resolve to the list of errors itself (typed as an error with `details`)
  const details = (result as { details?: unknown } | null)?.details ?? result
  if (Array.isArray(details) && details.length > 0) {
    const d = details[0] as { instancePath?: string; message?: string; params?: unknown; line?: number }
    if (d.instancePath !== undefined) {
      return `${d.instancePath || '/'}: ${d.message ?? 'invalid'}${d.params ? ` ${JSON.stringify(d.params)}` : ''}`
    }
    if (d.message) return `${d.line !== undefined ? `line ${d.line}: ` : ''}${d.message.trim()}`
  }
  return JSON.stringify(details)
}
