/** Pure: URLs that may carry credentials (`https://user:token@host`), made safe to print. */

/**
 * The URL without its userinfo (`user:token@`), for messages and outputs. Works on strings that do not
 * parse as URLs too, so a malformed flag value is never echoed with its secret.
 */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw)
    if (u.username === '' && u.password === '') return raw
    u.username = ''
    u.password = ''
    return u.toString()
  } catch {
    return raw.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, '$1')
  }
}

/** Removes the userinfo of every URL in a free text (error messages of lower layers). */
export function redactUrlsIn(text: string): string {
  return text.replace(/\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#\s@]*@/g, '$1')
}
