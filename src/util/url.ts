/** Pure: URLs that may carry credentials (`https://user:token@host`), made safe to print. */

/**
 * Removes the userinfo (`user:token@`) of every URL in a text — a URL, or an error message of a lower
 * layer that quotes one. Works on text that does not parse as a URL too, so a secret is never echoed.
 * Greedy up to the authority's last `@`, as URL parsers read it (`https://u:p@ss@host` → `https://host`).
 */
export function redactUrlsIn(text: string): string {
  return text.replace(/\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#\s]*@/g, '$1')
}
