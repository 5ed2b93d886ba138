/** Whether bytes begin with gzip's magic number (1f 8b): gzip is told by content, not by name. */
export function startsWithGzipMagic(bytes: ArrayLike<number>): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}
