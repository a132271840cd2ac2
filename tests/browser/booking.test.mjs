// Online booking on a phone, in Debian's Chromium: a demo patient opens the booking search
// pre-filtered to a service (/search?service=N, the TRD89 target) signed out, signs in, lands back
// on it, books the first free time and finds it on the home page; a parent books a time for a
// child they manage. axe finds no serious or critical violation on the home, search, booking and
// appointment pages. The server is started by scripts/browser-tests.sh with fresh demo data; its
// URL is in INVITO_URL and its SQLite database in INVITO_DATABASE, read here (sqlite3) only to
// pick the patients and the service.
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

function sql(query) {
  return execFileSync('sqlite3', ['-readonly', '-separator', '\t', db, query], { encoding: 'utf8' }).trim();
}

// An online-bookable service without mandatory payment that has free times tomorrow or later.
function bookableService(name) {
  const out = sql(`SELECT v.id FROM services v JOIN slots s ON s.service_id = v.id
    WHERE v.active = 1 AND v.online_booking = 1 AND v.payment <> 'mandatory'
      AND s.booked < s.capacity AND s.start_at > CAST(strftime('%s', 'now') AS INTEGER) + 86400
      ${name ? `AND v.name = '${name}'` : ''}
    GROUP BY v.id ORDER BY COUNT(*) DESC LIMIT 1;`);
  assert.ok(out, `the demo has free slots of an online-bookable service ${name || ''}`);
  return out;
}

// A demo account (e-mail login) that manages no family member, and one that does.
function accounts() {
  const single = sql(`SELECT a.login FROM accounts a WHERE a.pw_hash IS NOT NULL
      AND a.login LIKE '%@%'
      AND NOT EXISTS (SELECT 1 FROM patients c WHERE c.managed_by = a.patient_id)
    ORDER BY a.id LIMIT 1;`);
  const parent = sql(`SELECT a.login, c.given_name || ' ' || c.family_name FROM accounts a
      JOIN patients c ON c.managed_by = a.patient_id
    WHERE a.pw_hash IS NOT NULL AND a.login LIKE '%@%' ORDER BY a.id, c.id LIMIT 1;`);
  assert.ok(single, 'the demo has a patient account');
  assert.ok(parent, 'the demo has a parent account managing a child');
  const [parentLogin, child] = parent.split('\t');
  return { single, parentLogin, child };
}

async function signIn(page, login) {
  await page.getByLabel('E-mail or mobile number').fill(login);
  await page.getByLabel('Password').fill(demoPatientPassword);
  await page.getByRole('button', { name: /^sign in$/i }).click();
}

test('a patient books from a TRD89 link on a phone and sees it on the home page', async () => {
  const { single } = accounts();
  const service = bookableService();
  const context = await browser.newContext({ viewport: phone, locale: 'en-GB' });
  await context.addCookies([{ name: 'lang', value: 'en', url: base }]);
  const page = await context.newPage();
  try {
    // the recall's link, signed out: sign-in first, then back to the pre-filtered search
    await page.goto(`${base}/search?service=${service}`);
    assert.match(new URL(page.url()).pathname, /^\/login/);
    await signIn(page, single);
    await page.waitForURL((u) => u.pathname === '/search' && u.searchParams.get('service') === service);
    await page.getByRole('heading', { level: 1, name: 'Book an appointment' }).waitFor();
    assert.equal(await page.getByLabel('Service').inputValue(), service, 'the service is pre-selected');
    await noSidewaysScroll(page, 'the search page');
    await axeClean(page, 'the search page');

    // from three days on (past the 24 h cut-off, so the booking can still be cancelled online)
    const from = new Date(Date.now() + 3 * 86400 * 1000).toISOString().slice(0, 10);
    await page.getByLabel('From').fill(from);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL((u) => u.searchParams.get('from') === from);
    assert.equal(await page.getByLabel('Service').inputValue(), service, 'the filter keeps the service');

    // the first free time
    const first = page.locator('a.slot').first();
    await first.waitFor();
    await first.click();
    await page.waitForURL(/\/book\/\d+$/);
    await page.getByRole('heading', { level: 1, name: 'Confirm the booking' }).waitFor();
    await noSidewaysScroll(page, 'the booking page');
    await axeClean(page, 'the booking page');
    const when = (await page.locator('dl.details dd').first().textContent()).trim();
    await page.getByRole('button', { name: 'Book this time' }).click();
    await page.waitForURL(/\/appointments\/\d+\?done=booked$/);
    const id = new URL(page.url()).pathname.split('/').pop();
    assert.match(await page.getByRole('status').textContent(), /booked/i);
    assert.match(await page.getByRole('main').textContent(), new RegExp(when.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    await noSidewaysScroll(page, 'the appointment page');
    await axeClean(page, 'the appointment page');

    // home: the new appointment is listed
    await page.goto(`${base}/`);
    await page.getByRole('heading', { level: 1, name: /welcome/i }).waitFor();
    assert.equal(await page.locator(`a[href="/appointments/${id}"]`).count() > 0, true,
      'the booked appointment is on the home page');
    await noSidewaysScroll(page, 'the home page');
    await axeClean(page, 'the home page');

    // the cancel step is a confirmation page, reachable by keyboard
    await page.goto(`${base}/appointments/${id}`);
    await page.getByRole('link', { name: 'Cancel the appointment' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/appointments/${id}/cancel`);
    await page.getByRole('button', { name: 'Yes, cancel it' }).waitFor();
    await axeClean(page, 'the cancel confirmation');
  } finally {
    await context.close();
  }
});

test('a parent books for a child they manage on a phone', async () => {
  const { parentLogin, child } = accounts();
  const service = bookableService('Visita pediatrica');
  const context = await browser.newContext({ viewport: phone, locale: 'en-GB' });
  await context.addCookies([{ name: 'lang', value: 'en', url: base }]);
  const page = await context.newPage();
  try {
    await page.goto(`${base}/login`);
    await signIn(page, parentLogin);
    await page.waitForURL((u) => u.pathname === '/');
    // the child is listed among the family members, with a link to book for them
    await page.getByRole('heading', { level: 3, name: child }).waitFor();
    await axeClean(page, 'the home page with family members');

    await page.goto(`${base}/search?service=${service}`);
    await page.locator('a.slot').first().click();
    await page.waitForURL(/\/book\/\d+$/);
    await page.getByLabel('Who is the appointment for?').selectOption({ label: child });
    await axeClean(page, 'the booking page with the family select');
    await page.getByRole('button', { name: 'Book this time' }).click();
    await page.waitForURL(/\/appointments\/\d+\?done=booked$/);
    const id = new URL(page.url()).pathname.split('/').pop();
    const forWhom = page.locator('dl.details dt:has-text("For") + dd');
    assert.match((await forWhom.textContent()).trim(), new RegExp(`^${child.split(' ')[0]}\\b`));

    await page.goto(`${base}/`);
    const member = page.locator('.family-member', { has: page.getByRole('heading', { level: 3, name: child }) });
    assert.ok(await member.locator(`a[href="/appointments/${id}"]`).count() > 0,
      "the child's new appointment is listed under the child");
  } finally {
    await context.close();
  }
});
