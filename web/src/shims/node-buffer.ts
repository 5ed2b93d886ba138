/**
 * `node:buffer` for the browser bundle of the validator core: the `buffer` package's Buffer (a
 * Uint8Array subclass with Node's methods) and `isUtf8` by a fatal TextDecoder, which accepts and
 * refuses exactly the byte sequences the WHATWG UTF-8 decoder does, as Node's simdutf check does
 * (overlongs, surrogates and code points above U+10FFFF refused). esbuild aliases `node:buffer` to
 * this file and injects its Buffer for the core's global `Buffer` (lib/console/web-build.ts).
 */
import { Buffer } from 'buffer';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Whether the bytes are well-formed UTF-8 (Node's `buffer.isUtf8`). */
export function isUtf8(input: ArrayBufferView | ArrayBuffer): boolean {
  const bytes =
    input instanceof ArrayBuffer
      ? new Uint8Array(input)
      : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  // ASCII is the common case and needs no decoding: a plain loop is several times faster than a
  // throwaway string of the whole chunk.
  let i = 0;
  const n = bytes.length;
  while (i < n && bytes[i]! < 0x80) i++;
  if (i === n) return true;
  try {
    decoder.decode(bytes.subarray(i));
    return true;
  } catch {
    return false;
  }
}

export { Buffer };
