import { describe, expect, it } from "vitest";
import { AppError } from "../../shared/errors.ts";
import {
  codec,
  encodeChunkFrame,
  encodeExceptionFrame,
  FrameSplitter,
  unwrapInputFrame,
} from "./event-stream.ts";

const text = new TextEncoder();
const STRING = "string" as const;

function envelope(eventJson: string | undefined): Uint8Array {
  const inner =
    eventJson === undefined
      ? new Uint8Array(0)
      : codec.encode({
          headers: {
            ":event-type": { type: STRING, value: "chunk" },
            ":message-type": { type: STRING, value: "event" },
            ":content-type": { type: STRING, value: "application/json" },
          },
          body: text.encode(JSON.stringify({ bytes: Buffer.from(eventJson).toString("base64") })),
        });
  return codec.encode({
    headers: {
      ":date": { type: "timestamp", value: new Date(1_700_000_000_000) },
      ":chunk-signature": { type: "binary", value: new Uint8Array([0xab, 0xcd]) },
    },
    body: inner,
  });
}

describe("event-stream framing", () => {
  it("reassembles frames however the bytes are cut", () => {
    const stream = Buffer.concat([envelope('{"event":{"sessionEnd":{}}}'), envelope(undefined)]);
    for (const cut of [1, 7, 64, stream.length]) {
      const splitter = new FrameSplitter();
      const frames: Buffer[] = [];
      for (let at = 0; at < stream.length; at += cut)
        frames.push(...splitter.push(stream.subarray(at, at + cut)));
      expect(frames.map((frame) => unwrapInputFrame(frame).eventBytes?.toString())).toEqual([
        '{"event":{"sessionEnd":{}}}',
        undefined,
      ]);
      expect(splitter.bufferedBytes).toBe(0);
    }
  });

  it("unwraps the signing headers of an input envelope", () => {
    const unwrapped = unwrapInputFrame(envelope("{}"));
    expect(unwrapped.dateMs).toBe(1_700_000_000_000);
    expect(unwrapped.signatureHex).toBe("abcd");
  });

  it("refuses corrupt frames and impossible lengths", () => {
    const frame = Buffer.from(envelope("{}"));
    frame.writeUInt8(frame.readUInt8(frame.length - 6) ^ 0xff, frame.length - 6);
    expect(() => unwrapInputFrame(frame)).toThrow(/CRC/);
    const splitter = new FrameSplitter();
    const huge = Buffer.alloc(8);
    huge.writeUInt32BE(50 * 1024 * 1024, 0);
    expect(() => splitter.push(huge)).toThrow(AppError);
  });

  it("writes chunk and exception frames as the service does", () => {
    const chunk = codec.decode(encodeChunkFrame('{"event":{"completionStart":{}}}'));
    expect(chunk.headers[":message-type"]?.value).toBe("event");
    expect(chunk.headers[":event-type"]?.value).toBe("chunk");
    const wrapped = JSON.parse(new TextDecoder().decode(chunk.body)) as { bytes: string };
    expect(Buffer.from(wrapped.bytes, "base64").toString()).toBe('{"event":{"completionStart":{}}}');
    const exception = codec.decode(encodeExceptionFrame("modelTimeoutException", "too long"));
    expect(exception.headers[":message-type"]?.value).toBe("exception");
    expect(exception.headers[":exception-type"]?.value).toBe("modelTimeoutException");
    expect(new TextDecoder().decode(exception.body)).toBe('{"message":"too long"}');
  });
});
