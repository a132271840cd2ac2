// Paying a video consultation in advance on a phone, in Debian's Chromium: a demo patient with an
// unpaid mandatory payment opens its payment page (the TRD104 target) signed out, signs in, lands
// back on it, pays with the sandbox provider ("Test mode — no real payment") and sees it paid;
// then opens the profile. axe finds no serious or critical violation on the pages on the way.
// The server is started by scripts/browser-tests.sh with fresh demo data; its URL is in
// INVITO_URL and its SQLite database in INVITO_DATABASE, read here (sqlite3) only to pick the
// patient and appointment.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

const base = process.env.INVITO_URL;
const db = process.env.INVITO_DATABASE;
const phone = { width: 360, height: 740 };
const demoPatientPassword = 'demo-patient-1'; // printed by `invito demo`
let browser;

before(async () => {
  assert.ok(base, 'INVITO_URL must be set');
  assert.ok(db, 'INVITO_DATABASE must be set');
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

async function noSidewaysScroll(page, what) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= phone.width + 1, `no sideways scrolling on ${what} (${width}px)`);
}

// A demo account (e-mail login) with its own booked, unpaid, mandatory video consultation.
function unpaidVideo() {
  const sql = `SELECT a.login, ap.id FROM accounts a
    JOIN appointments ap ON ap.patient_id = a.patient_id
    WHERE a.pw_hash IS NOT NULL AND a.login LIKE '%@%' AND ap.kind = 'video'
      AND ap.payment = 'mandatory' AND ap.amount_cents > 0 AND ap.paid_at IS NULL
      AND ap.status = 'booked' AND ap.start_at > CAST(strftime('%s', 'now') AS INTEGER) + 3600
    ORDER BY ap.start_at LIMIT 1;`;
  const out = execFileSync('sqlite3', ['-readonly', '-separator', '\t', db, sql], { encoding: 'utf8' }).trim();
  assert.ok(out, 'the demo has a patient account with an unpaid mandatory video consultation');
  const [login, id] = out.split('\t');
  return { login, id };
}

test('a patient pays a video consultation with the sandbox provider on a phone', async () => {
  const { login, id } = unpaidVideo();
  const context = await browser.newContext({ viewport: phone, locale: 'en-GB' });
  await context.addCookies([{ name: 'lang', value: 'en', url: base }]);
  const page = await context.newPage();
  try {
    // the link of a payment request: signed out, it goes through sign-in and comes back
    await page.goto(`${base}/appointments/${id}/pay`);
    assert.match(new URL(page.url()).pathname, /^\/login/);
    await page.getByLabel('E-mail or mobile number').fill(login);
    await page.getByLabel('Password').fill(demoPatientPassword);
    await page.getByRole('button', { name: /^sign in$/i }).click();
    await page.waitForURL((u) => u.pathname === `/appointments/${id}/pay`);

    await page.getByRole('heading', { level: 1, name: 'Payment' }).waitFor();
    assert.match(await page.locator('#pay-state').textContent(), /Not paid yet/);
    assert.match(await page.getByRole('main').textContent(), /Test mode — no real payment/);
    await noSidewaysScroll(page, 'the payment page');
    await axeClean(page, 'the payment page');

    await page.getByRole('button', { name: /^Pay €/ }).click();
    await page.waitForURL(/\/pay\/sandbox\/sbx_/);
    await page.getByRole('heading', { level: 1, name: 'Test payment' }).waitFor();
    assert.match(await page.getByRole('main').textContent(), /Test mode — no real payment/);
    await noSidewaysScroll(page, 'the sandbox checkout');
    await axeClean(page, 'the sandbox checkout');

    await page.getByRole('button', { name: 'Complete payment' }).click();
    await page.waitForURL((u) => u.pathname === `/appointments/${id}/pay`);
    assert.match(await page.getByRole('status').first().textContent(), /This appointment is paid/);
    assert.match(await page.locator('#pay-state').textContent(), /^Paid/);
    assert.equal(await page.getByRole('button', { name: /^Pay €/ }).count(), 0, 'no Pay button once paid');
    await axeClean(page, 'the payment page once paid');

    // the profile: contacts, language, policies
    await page.goto(`${base}/account`);
    await page.getByRole('heading', { level: 1, name: 'Your profile' }).waitFor();
    assert.match(await page.locator('#current-email').textContent(), /@/);
    await page.getByRole('heading', { level: 2, name: 'Policies you accepted' }).waitFor();
    await noSidewaysScroll(page, 'the profile');
    await axeClean(page, 'the profile');
  } finally {
    await context.close();
  }
});
