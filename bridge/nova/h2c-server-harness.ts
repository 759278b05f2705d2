/**
 * Test harness: a plain-text HTTP/2 (h2c) server on a free loopback port, for tests that drive the real
 * Bedrock client against hand-made responses (event-marshaller.test.ts, event-unmarshaller.test.ts).
 */
import http2, { type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";

export interface H2cServer {
  /** e.g. http://127.0.0.1:41234, for the client's endpoint. */
  url: string;
  close(): Promise<void>;
}

export async function startH2cServer(onStream: (stream: ServerHttp2Stream) => void): Promise<H2cServer> {
  const server = http2.createServer();
  server.on("stream", onStream);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
