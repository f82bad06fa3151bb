// A tiny dev/test server: serves web/dist and proxies /api and /healthz to the
// pallimap API (PALLIMAP_API_URL, default http://127.0.0.1:8090).
// Run directly: node test/serve.mjs [port]

import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

export function startServer({ port = 0, apiUrl = process.env.PALLIMAP_API_URL || 'http://127.0.0.1:8090' } = {}) {
  const api = new URL(apiUrl);
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname.startsWith('/api/') || url.pathname === '/healthz') {
      const up = http.request({
        hostname: api.hostname,
        port: api.port || 80,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: api.host },
      }, (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      });
      up.on('error', () => {
        res.writeHead(502, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ status: 502, title: 'Bad gateway', detail: 'API unreachable' }));
      });
      req.pipe(up);
      return;
    }
    let rel = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, '');
    if (rel.endsWith('/')) rel += 'index.html';
    let file = join(DIST, rel);
    if (!file.startsWith(DIST)) { res.writeHead(403); res.end(); return; }
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
    } catch {
      file = join(DIST, 'index.html'); // SPA fallback
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('dist missing: run npm run build');
    }
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      const { port: p } = server.address();
      resolve({ server, url: `http://127.0.0.1:${p}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const s = await startServer({ port: Number(process.argv[2] || 8091) });
  console.log(`serving web/dist at ${s.url} (API: ${process.env.PALLIMAP_API_URL || 'http://127.0.0.1:8090'})`);
}
