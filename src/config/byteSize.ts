/** Sizes in config are strings with a unit — "512b", "16kb", "10mb", "1gb" (powers of 1024) — never bare numbers, never zero. */
export const BYTE_SIZE_PATTERN = /^([1-9]\d*)(b|kb|mb|gb)$/;

const UNIT_BYTES = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 } as const;

/** Bytes in a size string; throws on anything that does not match BYTE_SIZE_PATTERN. */
export function parseByteSize(text: string): number {
  const match = BYTE_SIZE_PATTERN.exec(text);
  if (match === null) throw new Error(`not a size: ${JSON.stringify(text)}`);
  return Number(match[1]) * UNIT_BYTES[match[2] as keyof typeof UNIT_BYTES];
}
