// Staff sign-in and a patient profile in Debian's Chromium, on a phone and on a desktop.
// The server is started by scripts/browser-tests.sh with the demo data; its URL is in INVITO_URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

const base = process.env.INVITO_URL;
const viewports = {
  phone: { width: 360, height: 740 },
  desktop: { width: 1280, height: 900 },
};
let browser;

before(async () => {
  assert.ok(base, 'INVITO_URL must be set');
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
});

async function axeClean(page, what) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help}`), [], `accessibility of ${what}`);
}

for (const [name, viewport] of Object.entries(viewports)) {
  test(`staff signs in and opens a patient profile (${name})`, async () => {
    const context = await browser.newContext({ viewport, locale: 'en-GB' });
    const page = await context.newPage();
    try {
      await page.goto(`${base}/staff/patients`);
      assert.match(new URL(page.url()).pathname, /^\/staff\/login/, 'signed-out visit goes to sign-in');
      await axeClean(page, 'the sign-in page');

      await page.getByLabel(/e-?mail/i).fill('admin@sanluca.example');
      await page.getByLabel(/password/i).fill('wrong password!');
      await page.getByRole('button', { name: /sign in/i }).click();
      await page.getByRole('alert').waitFor();
      assert.equal(new URL(page.url()).pathname, '/staff/login');

      await page.getByLabel(/password/i).fill('invito-demo');
      await page.getByRole('button', { name: /sign in/i }).click();
      await page.waitForURL(/\/staff\/patients/);
      await axeClean(page, 'manage patients');

      const rows = page.locator('table tbody tr');
      assert.ok((await rows.count()) > 10, 'the list shows demo patients');
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= viewport.width + 1, `no sideways scrolling of the page (${width}px)`);

      await page.getByRole('searchbox').fill('D\u2019Amico');
      await page.getByRole('button', { name: /search/i }).click();
      const first = page.locator('table tbody tr a').first();
      const who = await first.textContent();
      assert.match(who, /amico/i, 'curly apostrophe finds D\'Amico');
      await first.click();
      await page.waitForURL(/\/staff\/patients\/\d+$/);
      await page.getByRole('heading', { level: 1 }).waitFor();
      assert.match(await page.getByRole('heading', { level: 1 }).textContent(), /amico/i);
      await axeClean(page, 'a patient profile');
    } finally {
      await context.close();
    }
  });
}

test('the language switch turns the sign-in page Italian', async () => {
  const context = await browser.newContext({ viewport: viewports.phone, locale: 'en-GB' });
  const page = await context.newPage();
  try {
    await page.goto(`${base}/staff/login`);
    await page.locator('form[action="/lang"] select, form[action="/lang"] button[value="it"]').first().waitFor();
    const select = page.locator('form[action="/lang"] select');
    if (await select.count()) {
      await select.selectOption('it');
      await page.locator('form[action="/lang"] button').click();
    } else {
      await page.locator('form[action="/lang"] button[value="it"]').click();
    }
    await page.waitForLoadState();
    assert.equal(await page.getAttribute('html', 'lang'), 'it');
    assert.match(await page.content(), /Accedi/);
  } finally {
    await context.close();
  }
});
