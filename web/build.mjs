// Build: bundle src/app.js and the update-link page's src/update.js (+ their CSS) with esbuild
// into dist/, copy the HTML pages, and report the gzip-compressed size of what is shipped.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, readdirSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const dist = new URL('./dist/', import.meta.url).pathname;
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await esbuild.build({
  entryPoints: { app: 'src/app.js', update: 'src/update.js' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  outdir: dist,
  loader: { '.png': 'file', '.svg': 'file' },
  assetNames: 'assets/[name]-[hash]',
  legalComments: 'linked',
  logLevel: 'warning',
});
copyFileSync('src/index.html', join(dist, 'index.html'));
copyFileSync('src/update.html', join(dist, 'update.html'));

for (const page of ['app', 'update']) {
  let raw = 0;
  let gz = 0;
  for (const f of [`${page}.js`, `${page}.css`]) {
    const buf = readFileSync(join(dist, f));
    raw += buf.length;
    gz += gzipSync(buf, { level: 9 }).length;
  }
  console.log(`dist/: ${page}.js + ${page}.css = ${(raw / 1024).toFixed(1)} KiB raw, ${(gz / 1024).toFixed(1)} KiB gzip`);
}
for (const f of readdirSync(dist, { recursive: true })) {
  const p = join(dist, f);
  if (statSync(p).isFile()) console.log(`  ${f} ${statSync(p).size} B`);
}
