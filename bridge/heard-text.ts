/**
 * Which words of a reply the caller heard, pure: a reply's text comes in segments (the model's ASSISTANT
 * SPECULATIVE texts), each placed at the byte of the reply's audio where its speech starts.
 */

export interface Segment {
  text: string;
  startByte: number;
}

/**
 * The text of the audio up to `heardBytes`: whole segments played to their end, and the leading words of a
 * segment cut in the middle, in proportion to how much of its audio played.
 */
export function heardText(segments: readonly Segment[], totalBytes: number, heardBytes: number): string {
  const parts: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const endByte = segments[i + 1]?.startByte ?? totalBytes;
    if (heardBytes <= segment.startByte) break;
    const text = segment.text.trim();
    if (heardBytes >= endByte) {
      parts.push(text);
      continue;
    }
    const words = text.split(/\s+/).filter((word) => word !== "");
    const fraction = (heardBytes - segment.startByte) / Math.max(1, endByte - segment.startByte);
    const count = Math.floor(words.length * fraction);
    if (count > 0) parts.push(words.slice(0, count).join(" "));
    break;
  }
  return parts.join(" ");
}
