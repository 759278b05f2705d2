/**
 * The event-stream message format as Bedrock's bidirectional stream uses it, for the modules that write and
 * read it by hand (event-marshaller.ts, event-signing.ts, event-unmarshaller.ts): total length, headers
 * length and a CRC32 of those 8 bytes; the headers; the body; a CRC32 of everything before it.
 */

export const PRELUDE_BYTES = 12;
export const CHECKSUM_BYTES = 4;
/** A header's value type byte for a string (2-byte length, UTF-8). */
export const STRING_HEADER_TYPE = 7;

/** A `chunk` event's body is `{"bytes":"<base64 of the event JSON>"}`: what comes before and after. */
export const CHUNK_BODY_START = Buffer.from('{"bytes":"');
export const CHUNK_BODY_END = Buffer.from('"}');

/**
 * Writes one string header (name length, name, type, value length, value) into `out` at `offset`; returns
 * the offset after it. The caller sized `out` (1 + name bytes + 3 + value bytes).
 */
export function writeStringHeader(out: Buffer, offset: number, name: string, value: string): number {
  const nameBytes = out.write(name, offset + 1);
  out[offset] = nameBytes;
  const typeAt = offset + 1 + nameBytes;
  out[typeAt] = STRING_HEADER_TYPE;
  const valueBytes = out.write(value, typeAt + 3);
  out.writeUInt16BE(valueBytes, typeAt + 1);
  return typeAt + 3 + valueBytes;
}
