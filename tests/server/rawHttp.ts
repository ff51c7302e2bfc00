/**
 * One HTTP request over Node's own client, with the body and headers exactly as a test gives
 * them (invalid UTF-8, an empty chunked body, a JSON content type on a DELETE): what fetch would
 * normalise away.
 */
import { request as httpRequest } from 'node:http';

/** A raw request to `base` (the service's URL); resolves with the status and the body's text. */
export function rawRequest(
  base: string,
  method: string,
  path: string,
  body: Buffer | string | undefined,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
