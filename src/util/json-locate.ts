/**
 * Pure: the offset of the first syntax error in a JSON text, for messages that name a line and column.
 * V8's own messages carry a position for some errors ("Expected ',' … at position 7") but not for others
 * ("Unexpected token ']'"), so this small recursive-descent checker finds it. It runs only on failure.
 */
const WS = new Set([0x20, 0x09, 0x0a, 0x0d])
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y

class Stop {
  readonly offset: number
  constructor(offset: number) {
    this.offset = offset
  }
}

export function firstJsonErrorOffset(text: string): number | undefined {
  let i = 0
  const fail = (at = i): never => {
    throw new Stop(at)
  }
  const ws = () => {
    while (i < text.length && WS.has(text.charCodeAt(i))) i++
  }
  const literal = (word: string) => {
    for (let k = 0; k < word.length; k++) if (text[i + k] !== word[k]) fail(i + k)
    i += word.length
  }
  const string = () => {
    i++ // opening quote
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c === 0x22) {
        i++
        return
      }
      if (c < 0x20) fail()
      if (c === 0x5c) {
        const e = text[i + 1]
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail(i + 2)
          i += 6
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2
        else fail(i + 1)
      } else i++
    }
    fail()
  }
  const value = (): void => {
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      ws()
      if (text[i] === '}') {
        i++
        return
      }
      for (;;) {
        ws()
        if (text[i] !== '"') fail()
        string()
        ws()
        if (text[i] !== ':') fail()
        i++
        value()
        ws()
        if (text[i] === ',') i++
        else if (text[i] === '}') {
          i++
          return
        } else fail()
      }
    }
    if (c === '[') {
      i++
      ws()
      if (text[i] === ']') {
        i++
        return
      }
      for (;;) {
        value()
        ws()
        if (text[i] === ',') i++
        else if (text[i] === ']') {
          i++
          return
        } else fail()
      }
    }
    if (c === '"') string()
    else if (c === 't') literal('true')
    else if (c === 'f') literal('false')
    else if (c === 'n') literal('null')
    else number()
  }
  const number = () => {
    NUMBER.lastIndex = i
    const m = NUMBER.exec(text)
    if (!m || m[0].length === 0) fail()
    i += m![0].length
  }
  try {
    value()
    ws()
    if (i < text.length) fail()
    return undefined
  } catch (e) {
    if (e instanceof Stop) return Math.min(e.offset, text.length)
    throw e
  }
}
