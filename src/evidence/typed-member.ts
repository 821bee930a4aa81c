/** Pure: an archive member read through its workspace parser, without throwing. */

/**
 * A member as its schema types it (the readers' own check); null when it is there but not what its
 * schema says — the consistency check reports that as EVIDENCE_FILE_INVALID — and undefined when absent.
 */
export function typedMember<T>(
  parseMember: (bytes: Uint8Array) => T,
  data: Uint8Array | undefined,
): T | null | undefined {
  if (data === undefined) return undefined
  try {
    return parseMember(data)
  } catch {
    return null
  }
}
