import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

/** What the test server does instead of serving a file faithfully. */
export interface FileServerFaults {
  /** Files served with one byte changed (at the middle of the file). */
  corrupt?: Set<string>;
  /** Files answered with HTTP 500 this many times before they are served. */
  failTimes?: Map<string, number>;
  /** Files answered with 404 although present. */
  missing?: Set<string>;
}

/** A static file server on 127.0.0.1:0 serving `root` read-only under `/prefix/`, with injectable faults and a request log. */
export interface FileServer {
  baseUrl: string;
  requests: string[];
  faults: FileServerFaults;
  close(): Promise<void>;
}

export async function startFileServer(root: string, prefix = '/files/mitdb/1.0.0/'): Promise<FileServer> {
  const requests: string[] = [];
  const faults: FileServerFaults = {};
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(url.pathname);
    if (!url.pathname.startsWith(prefix)) return void res.writeHead(404).end();
    const name = normalize(decodeURIComponent(url.pathname.slice(prefix.length)));
    const path = join(root, name);
    if (name.startsWith('..') || faults.missing?.has(name) || !existsSync(path) || !statSync(path).isFile()) return void res.writeHead(404, 'Not Found').end();
    const fails = faults.failTimes?.get(name) ?? 0;
    if (fails > 0) {
      faults.failTimes!.set(name, fails - 1);
      return void res.writeHead(500, 'Internal Server Error').end();
    }
    const size = statSync(path).size;
    res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
    if (!faults.corrupt?.has(name)) return void createReadStream(path).pipe(res);
    let offset = 0;
    const middle = size >> 1;
    createReadStream(path)
      .on('data', (chunk) => {
        const b = Buffer.from(chunk as Buffer);
        if (middle >= offset && middle < offset + b.length) b[middle - offset]! ^= 0xff;
        offset += b.length;
        res.write(b);
      })
      .on('end', () => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${prefix}`,
    requests,
    faults,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
