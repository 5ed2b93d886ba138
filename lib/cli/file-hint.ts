/**
 * A hint for a file that is not CSV text at all: an archive or a spreadsheet renamed `.csv`, or
 * UTF-16 without a byte order mark. The validator reports such a file as invalid (bad UTF-8, an
 * unknown header); the hint says why in words.
 */
import { open } from 'node:fs/promises';

/** Bytes enough to tell the formats apart (UTF-16 needs a few characters). */
const HEAD_BYTES = 64;

/** Formats told by their first bytes (gzip is not here: the lake reads it). */
const SIGNATURES: readonly { readonly magic: readonly number[]; readonly hint: string }[] = [
  {
    magic: [0x50, 0x4b, 0x03, 0x04],
    hint: 'this looks like a ZIP archive (xlsx files are ZIP archives): export it as CSV, or unzip it',
  },
  {
    magic: [0x42, 0x5a, 0x68],
    hint: 'this looks like a bzip2 file: decompress it, or recompress it with gzip',
  },
  {
    magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
    hint: 'this looks like an xz file: decompress it, or recompress it with gzip',
  },
  {
    magic: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
    hint: 'this looks like an old Excel (xls) or other Office file: export it as CSV',
  },
];

/** The hint for bytes that begin a file, if they look like something other than CSV text. */
export function hintFor(head: Uint8Array): string | undefined {
  const signature = SIGNATURES.find(({ magic }) => magic.every((b, i) => head[i] === b));
  if (signature) return signature.hint;
  // A BOM tells UTF-16 apart, and the validator reads it; without one, ASCII text in UTF-16 has a
  // NUL in every other byte: after each character (LE) or before it (BE).
  const pairs = Math.floor(Math.min(head.length, HEAD_BYTES) / 2);
  if (pairs < 2) return undefined;
  const nulAt = (parity: number) => {
    for (let i = 0; i < pairs; i++) {
      if (head[2 * i + parity] !== 0 || head[2 * i + 1 - parity] === 0) return false;
    }
    return true;
  };
  if (nulAt(1)) return 'this looks like UTF-16LE text without a byte order mark: save it as UTF-8';
  if (nulAt(0)) return 'this looks like UTF-16BE text without a byte order mark: save it as UTF-8';
  return undefined;
}

/** The hint for a file on disk (undefined when it looks like text, or cannot be read). */
export async function fileHint(path: string): Promise<string | undefined> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return undefined;
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(HEAD_BYTES), 0, HEAD_BYTES, 0);
    return hintFor(buffer.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}
