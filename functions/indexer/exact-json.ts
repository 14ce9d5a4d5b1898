/**
 * JSON with exact numbers. `JSON.parse` turns 2^53 + 1 into 2^53; a compute node's integers
 * are Python ints of any size, so the indexer parses a notification with this parser, which
 * keeps every number as its source text ({@link JsonNumber}), and writes JSON back with the
 * same digits. Strings, arrays and objects are as `JSON.parse` makes them (key order kept).
 */

/** A JSON number, as written in the source. */
export class JsonNumber {
  constructor(readonly text: string) {}
  /** The integer it denotes, or undefined for a fraction or exponent form that is not one. */
  toBigInt(): bigint | undefined {
    return /^-?\d+$/.test(this.text) ? BigInt(this.text) : undefined;
  }
}

export type ExactJson = null | boolean | string | JsonNumber | ExactJson[] | { [key: string]: ExactJson };

export class ExactJsonError extends Error {
  override readonly name = 'ExactJsonError';
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

export function parseExactJson(text: string): ExactJson {
  let i = 0;
  const fail = (what: string): never => {
    throw new ExactJsonError(`invalid JSON at offset ${i}: ${what}`);
  };
  const skip = () => {
    WHITESPACE.lastIndex = i;
    WHITESPACE.exec(text);
    i = WHITESPACE.lastIndex;
  };
  const string = (): string => {
    // Find the closing quote, then let JSON.parse decode the escapes.
    const start = i;
    i++;
    for (;;) {
      const c = text.charCodeAt(i);
      if (Number.isNaN(c)) fail('unterminated string');
      if (c === 0x5c) i += 2;
      else if (c === 0x22) break;
      else i++;
    }
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('bad string');
    }
  };
  const value = (depth: number): ExactJson => {
    if (depth > 64) fail('nested too deeply');
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: { [key: string]: ExactJson } = {};
      skip();
      if (text[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        skip();
        if (text[i] !== '"') fail('expected a key');
        const key = string();
        skip();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        Object.defineProperty(out, key, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
        skip();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return out;
        } else fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const out: ExactJson[] = [];
      skip();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value(depth + 1));
        skip();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return out;
        } else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null) return fail('unexpected character');
    i = NUMBER.lastIndex;
    return new JsonNumber(m[0]);
  };
  const result = value(0);
  skip();
  if (i !== text.length) fail('trailing characters');
  return result;
}

/** Compact JSON text, numbers written with their exact digits. */
export function stringifyExactJson(value: ExactJson): string {
  if (value === null) return 'null';
  if (value instanceof JsonNumber) return value.text;
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return '[' + value.map(stringifyExactJson).join(',') + ']';
  return '{' + Object.entries(value).map(([k, v]) => JSON.stringify(k) + ':' + stringifyExactJson(v)).join(',') + '}';
}
