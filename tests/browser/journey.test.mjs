// The whole invitation journey on a phone, in Debian's Chromium: a staff user bulk-invites
// patients from /staff/patients, the patient opens the link from /dev/outbox, types a wrong
// family name, then the right one with accents and case changed, sets a password, accepts the
// privacy policy and lands signed in. The server is started by scripts/browser-tests.sh with the
// demo data (transport "log"); its URL is in INVITO_URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

const base = process.env.INVITO_URL;
const phone = { width: 360, height: 740 };
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

// What a patient might type: no accents, no apostrophes, other case.
function retyped(name) {
  const plain = name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/['\u2019]/g, '');
  return plain === plain.toUpperCase() ? plain.toLowerCase() : plain.toUpperCase();
}

async function noSidewaysScroll(page, what) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= phone.width + 1, `no sideways scrolling on ${what} (${width}px)`);
}

test('staff bulk-invites, the patient accepts the invitation on a phone', async () => {
  const context = await browser.newContext({ viewport: phone, locale: 'en-GB' });
  // English pages whatever language the patient's record has (an explicit choice wins).
  await context.addCookies([{ name: 'lang', value: 'en', url: base }]);
  const page = await context.newPage();
  try {
    // --- staff: sign in, find patients never invited, invite them in bulk
    await page.goto(`${base}/staff/login`);
    await page.getByLabel(/e-?mail/i).fill('admin@sanluca.example');
    await page.getByLabel(/password/i).fill('invito-demo');
    await page.getByRole('button', { name: /sign in/i }).click();
    await page.waitForURL(/\/staff\/patients/);

    // prefer a name with an apostrophe or accents; else any patient without an account
    let rows;
    for (const q of ['amico', '']) {
      await page.goto(`${base}/staff/patients?status=none&q=${encodeURIComponent(q)}`);
      rows = page.locator('table tbody tr');
      if (await rows.count()) break;
    }
    assert.ok((await rows.count()) > 0, 'the demo has patients not yet invited');
    const row = rows.first();
    const href = await row.locator('th a').first().getAttribute('href');
    await page.goto(`${base}${href}`);
    const familyName = (await page.locator('dl.details dt:has-text("Family name") + dd').textContent()).trim();
    const mobile = (await page.locator('dl.details dt:has-text("Mobile") + dd').textContent()).trim();
    const email = (await page.locator('dl.details dt:has-text("E-mail") + dd').textContent()).trim();
    await page.goBack();

    await row.getByRole('checkbox').check();
    await page.locator('details.actions > summary').click();
    await page.getByRole('button', { name: /invite to patient portal/i }).click();
    await page.getByRole('heading', { level: 1, name: /invite to patient portal/i }).waitFor();
    await page.getByRole('button', { name: /send the invitations/i }).click();
    await page.getByRole('heading', { level: 1, name: /invitations sent/i }).waitFor();
    assert.match(await page.getByRole('status').first().textContent(), /invited:\s*1/i);

    // --- the patient: the link from /dev/outbox
    await page.goto(`${base}/dev/outbox`);
    const contact = [mobile, email].filter((s) => s && s !== '—');
    const message = page.locator('table.outbox tbody tr').filter({
      has: page.locator('td', { hasText: new RegExp(contact.map((s) => s.replace(/[+.]/g, '\\$&')).join('|')) }),
    }).first();
    const link = message.locator(`a[href*="/i/"]`).first();
    const url = await link.getAttribute('href');
    assert.ok(url.startsWith(`${base}/i/`), `an invitation link of this portal: ${url}`);

    const patient = await context.newPage();
    await page.close();
    await patient.goto(url);
    await patient.getByLabel('Family name (surname)').waitFor();
    await noSidewaysScroll(patient, 'the invitation page');
    await axeClean(patient, 'the invitation page');
    assert.ok(!(await patient.content()).includes(familyName) || familyName.length < 3,
      'nothing about the patient before the family name matches');

    // a wrong family name: the page says how many tries are left
    const password = 'my own phone password 2026';
    await patient.getByLabel('Family name (surname)').fill('Wrongname');
    await patient.getByLabel('New password', { exact: true }).fill(password);
    await patient.getByLabel('New password again').fill(password);
    await patient.getByLabel(/I accept the privacy policy/).check();
    await patient.getByRole('button', { name: /activate my account/i }).click();
    const alert = patient.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.textContent(), /Tries left before the link locks: 4/);
    const described = await patient.getByLabel('Family name (surname)').getAttribute('aria-describedby');
    assert.match(described, /family_name-error/);

    // the show-password toggle (JavaScript enhancement of the no-JS link)
    await patient.getByLabel('New password', { exact: true }).fill(password);
    await patient.getByRole('button', { name: /show password/i }).click();
    assert.equal(await patient.getByLabel('New password', { exact: true }).getAttribute('type'), 'text');
    await patient.getByRole('button', { name: /hide password/i }).click();
    assert.equal(await patient.getByLabel('New password', { exact: true }).getAttribute('type'), 'password');

    // the right family name, typed without accents or apostrophes and in another case
    await patient.getByLabel('Family name (surname)').fill(retyped(familyName));
    await patient.getByLabel('New password again').fill(password);
    await patient.getByLabel(/I accept the privacy policy/).check();
    await patient.getByRole('button', { name: /activate my account/i }).click();
    await patient.waitForURL((u) => !u.pathname.startsWith('/i/'));
    await patient.getByRole('heading', { level: 1, name: /welcome/i }).waitFor();
    assert.equal(new URL(patient.url()).pathname, '/');
    await noSidewaysScroll(patient, 'the home page');
    await axeClean(patient, 'the page the patient lands on');

    // signed in for real: the sign-in page sends home, and sign-out works
    await patient.goto(`${base}/login`);
    assert.equal(new URL(patient.url()).pathname, '/');
    await patient.getByRole('main').getByRole('button', { name: /sign out/i }).click();
    await patient.waitForURL(/\/login$/);
  } finally {
    await context.close();
  }
});
