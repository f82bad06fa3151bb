// The front end under the server's Content-Security-Policy: no inline script or style is
// needed. Every `securitypolicyviolation` event and every "Refused to …" console message is
// collected while the map loads, a search runs, a detail opens, the shortlist sheet is
// printed, the coverage legend is drawn and the update page opens.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, settled } from './harness.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { if (env) await env.close(); });

/** A page that records CSP violations (before any of the page's own scripts run). */
async function watched() {
  const p = await newPage(env);
  await p.ctx.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile || ''}:${e.lineNumber || ''}`);
    });
  });
  const refused = [];
  p.page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text()); });
  return { ...p, refused };
}

async function violations(page) {
  return page.evaluate(() => window.__csp);
}

test('the server sends a policy without inline script or style', async () => {
  const r = await fetch(`${env.base}/`);
  const csp = r.headers.get('content-security-policy') || '';
  assert.match(csp, /(^|; )script-src 'self'(;|$)/, csp);
  assert.match(csp, /(^|; )style-src 'self'(;|$)/, csp);
  assert.match(csp, /frame-ancestors 'none'/, csp);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, csp);
  assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
});

test('map, search, detail, the printed shortlist and the coverage legend raise no CSP violation', async () => {
  const { ctx, page, errors, refused } = await watched();
  await page.goto(`${env.base}/`);
  await settled(page);
  // The tiles are requested from the configured tile server (the harness answers them).
  await page.waitForFunction(() => document.querySelectorAll('#map img.leaflet-tile').length > 0);
  await page.fill('#q', '緩和ケア病棟');
  await page.press('#q', 'Enter');
  await settled(page);
  assert.ok((await page.$$('#result-list > li')).length > 0, 'results are listed');
  await page.click('#result-list > li:first-child button.name');
  await page.waitForSelector('#detail:not([hidden]) #detail-name');
  await settled(page);
  // The print sheet sizes its columns (set through the CSSOM, not style attributes).
  await page.click('#result-list > li:first-child button[data-act="pin"]');
  await page.click('#tab-shortlist');
  await page.click('#print-shortlist-btn');
  const widths = await page.$$eval('#print-area col', (cols) => cols.map((c) => c.style.width));
  assert.ok(widths.length > 0 && widths.every((w) => /mm$/.test(w)), `column widths: ${widths}`);
  // The coverage legend colours its swatches the same way.
  await page.click('#tab-coverage');
  await page.waitForFunction(() => document.body.dataset.coverage === 'ready' && document.querySelectorAll('#cv-legend [data-swatch]').length > 0);
  const swatches = await page.$$eval('#cv-legend [data-swatch]', (s) => s.map((x) => x.style.backgroundColor));
  assert.ok(swatches.every((c) => c !== ''), `swatch colours: ${swatches}`);
  assert.deepEqual(await violations(page), []);
  assert.deepEqual(refused, []);
  assert.deepEqual(errors, [], `console errors: ${errors.join('\n')}`);
  await ctx.close();
});

test('the update page raises no CSP violation', async () => {
  const { ctx, page, refused } = await watched();
  // The ward's link when the run has one (the form, or "used" if an earlier test sent it);
  // otherwise the page without a token, which explains itself.
  const link = process.env.PALLIMAP_E2E_UPDATE_LINK;
  const hash = link ? new URL(link).hash : '';
  await page.goto(`${env.base}/update.html${hash}`);
  await page.waitForLoadState('networkidle');
  if (hash) await page.waitForSelector('#upd-name, #upd-error');
  assert.ok((await page.textContent('body')).trim().length > 0);
  const styled = await page.evaluate(() => document.styleSheets.length);
  assert.ok(styled > 0, 'the stylesheet loaded');
  assert.deepEqual(await violations(page), []);
  assert.deepEqual(refused, []);
  await ctx.close();
});
