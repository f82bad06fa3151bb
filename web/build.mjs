// Build: bundle src/app.js (+ CSS) with esbuild into dist/, copy index.html,
// and report the gzip-compressed size of what is shipped.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, readdirSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const dist = new URL('./dist/', import.meta.url).pathname;
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await esbuild.build({
  entryPoints: ['src/app.js'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  outfile: join(dist, 'app.js'),
  loader: { '.png': 'file', '.svg': 'file' },
  assetNames: 'assets/[name]-[hash]',
  legalComments: 'linked',
  logLevel: 'warning',
});
copyFileSync('src/index.html', join(dist, 'index.html'));

let raw = 0;
let gz = 0;
for (const f of ['app.js', 'app.css']) {
  const buf = readFileSync(join(dist, f));
  raw += buf.length;
  gz += gzipSync(buf, { level: 9 }).length;
}
console.log(`dist/: app.js + app.css = ${(raw / 1024).toFixed(1)} KiB raw, ${(gz / 1024).toFixed(1)} KiB gzip`);
for (const f of readdirSync(dist, { recursive: true })) {
  const p = join(dist, f);
  if (statSync(p).isFile()) console.log(`  ${f} ${statSync(p).size} B`);
}
