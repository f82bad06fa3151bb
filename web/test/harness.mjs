// Shared e2e harness: Debian's Chromium via playwright-core, a static+proxy
// server (unless PALLIMAP_E2E_URL is given), and no external network.

import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServer } from './serve.mjs';

export const SHOTS = fileURLToPath(new URL('../../target/e2e/', import.meta.url));
mkdirSync(SHOTS, { recursive: true });

// 1×1 transparent PNG for every tile request.
const PNG_1x1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

export async function setup() {
  let server = null;
  let base = process.env.PALLIMAP_E2E_URL;
  if (!base) {
    server = await startServer({ port: 0 });
    base = server.url;
  }
  base = base.replace(/\/$/, '');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    base,
    browser,
    async close() {
      await browser.close();
      if (server) await server.close();
    },
  };
}

/**
 * A fresh page with external requests blocked (tiles get an empty PNG),
 * console errors collected and window.print() stubbed (it records calls).
 */
export async function newPage(env, { viewport = { width: 1280, height: 860 }, context } = {}) {
  const ctx = context || await env.browser.newContext({ viewport, locale: 'ja-JP' });
  const baseOrigin = new URL(env.base).origin;
  await ctx.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(baseOrigin) || url.startsWith('data:')) return route.continue();
    if (/\.(png|jpe?g|webp)(\?|$)/i.test(url) || /\/\d+\/\d+\/\d+/.test(url)) {
      return route.fulfill({ status: 200, contentType: 'image/png', body: PNG_1x1 });
    }
    return route.abort('blockedbyclient');
  });
  await ctx.addInitScript(() => {
    window.__printCalls = 0;
    window.print = () => { window.__printCalls += 1; };
  });
  const page = await ctx.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${decodeURI(r.url())}`); });
  return { ctx, page, errors };
}

/** Wait until the app finished loading and nothing is in flight. */
export async function settled(page, timeout = 20000) {
  await page.waitForFunction(
    () => document.body.dataset.ready === '1' && document.body.dataset.busy === '0',
    null,
    { timeout },
  );
  // Give a debounced moveend a chance, then require idle again.
  await page.waitForTimeout(150);
  await page.waitForFunction(() => document.body.dataset.busy === '0', null, { timeout });
}

/** Markers on the map: points (data-id) plus the counts in clusters. */
export async function mapCount(page) {
  return page.evaluate(() => {
    const pane = document.querySelector('#map .leaflet-marker-pane');
    const points = pane.querySelectorAll('[data-id]').length;
    let clustered = 0;
    let clusters = 0;
    for (const c of pane.querySelectorAll('[data-count]')) { clustered += Number(c.dataset.count); clusters += 1; }
    return { points, clusters, total: points + clustered };
  });
}

export async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: false });
}

// A4 at 96 dpi less the 12 mm page margins of app.css: what one sheet holds.
export const A4_PX = { width: Math.floor((210 - 24) / 25.4 * 96), height: Math.floor((297 - 24) / 25.4 * 96) };

/** The errors collected by newPage, less the HTTP statuses a test provoked on purpose. */
export function unexpected(errors, statuses = []) {
  return errors.filter((e) => !statuses.some((s) => e.includes(`HTTP ${s} `) || e.includes(`status of ${s}`)));
}

/** Sign in through the header's form and wait for the page to settle. */
export async function signIn(page, email, password) {
  await page.click('#pro-signin');
  await page.fill('#signin-email', email);
  await page.fill('#signin-password', password);
  await page.click('#signin-submit');
  await page.waitForSelector('#account-who');
  await settled(page);
}

/**
 * A request from the page itself (its session's cookie and CSRF token): the oracle a screen is
 * compared with. `body` makes it a POST.
 */
export function inPage(page, path, body) {
  return page.evaluate(async ([p, b]) => {
    const init = { headers: { Accept: 'application/json' } };
    if (b !== undefined) {
      const s = await (await fetch('/api/v1/session')).json();
      init.method = 'POST';
      init.headers['Content-Type'] = 'application/json';
      if (s.csrf) init.headers['X-CSRF-Token'] = s.csrf;
      init.body = JSON.stringify(b);
    }
    const r = await fetch(`/api/v1${p}`, init);
    return { status: r.status, body: await r.json().catch(() => null) };
  }, [path, body]);
}

/** Print the page to a PDF for real (beforeprint and afterprint run as on Ctrl+P); its page count. */
export async function pdfPages(page, path) {
  const pdf = await page.pdf({ path, preferCSSPageSize: true, printBackground: true });
  const counts = [...pdf.toString('latin1').matchAll(/\/Type\s*\/Pages\b[^>]*?\/Count\s+(\d+)|\/Count\s+(\d+)[^>]*?\/Type\s*\/Pages\b/g)].map((m) => Number(m[1] || m[2]));
  return counts.length ? Math.max(...counts) : null;
}

/**
 * Press a print button and measure what it laid out on an A4 sheet: `measure` runs in the page
 * with print media applied (window.print is the harness's stub, which must be called once);
 * `png` keeps a screenshot of the sheet, `pdf` the PDF. Returns what `measure` returned and
 * `pages`, the PDF's page count.
 */
export async function printMeasured(page, button, measure, { png, pdf } = {}) {
  const before = await page.evaluate(() => window.__printCalls);
  await page.click(button);
  await page.waitForFunction((n) => window.__printCalls === n + 1, before);
  const vp = page.viewportSize();
  await page.setViewportSize(A4_PX);
  await page.emulateMedia({ media: 'print' });
  assert.ok(await page.isHidden('#app'), 'only the print area is printed');
  const sheet = await page.evaluate(measure);
  if (png) await shot(page, png);
  const pages = await pdfPages(page, pdf);
  await page.emulateMedia({ media: 'screen' });
  await page.setViewportSize(vp);
  return { ...sheet, pages };
}
