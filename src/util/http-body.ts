/**
 * Edge (network): reads an HTTP reply's body with a byte cap, aborting the transfer as soon as the
 * declared or the received length passes it, so a hostile server can never make the reader buffer more
 * than `max` bytes. The caller words the error (`tooLarge`) in its own domain's terms; a network error
 * while reading is thrown as it comes.
 */
export async function readCappedBody(
  res: Response,
  abort: AbortController,
  max: number,
  tooLarge: () => Error,
): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > max) {
    abort.abort()
    await res.body?.cancel().catch(() => {})
    throw tooLarge()
  }
  if (!res.body) return Buffer.alloc(0)
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > max) {
      abort.abort()
      await reader.cancel().catch(() => {})
      throw tooLarge()
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks)
}
