// The link tags' journeys on a phone, in Debian's Chromium (issue 4 "Triggers"):
//  - TRD104: staff book a video consultation with mandatory payment offline; the "request payment
//    in advance" message appears in /dev/outbox by itself; the patient, who has no account, opens
//    its link, completes the invitation and lands on the appointment's payment page.
//  - TRD89: staff set up a recall due today on the patient's profile; `invito run-due` (what cron
//    or the server's scheduler runs) sends it; the patient opens the invitation in it and lands on
//    the booking search pre-filtered to the recall's service.
// The server is started by scripts/browser-tests.sh with fresh demo data; its URL is in
// INVITO_URL and its SQLite database in INVITO_DATABASE, read here (sqlite3) only to pick
// patients and a service. INVITO_BIN names the binary (default build/invito).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

const base = process.env.INVITO_URL;
const db = process.env.INVITO_DATABASE;
const bin = process.env.INVITO_BIN || fileURLToPath(new URL('../../build/invito', import.meta.url));
const phone = { width: 360, height: 740 };
const staffLogin = ['admin@sanluca.example', 'invito-demo']; // printed by `invito demo`
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

// A patient of the demo admin's clinic with no account, not a family member, with a contact and
// no message yet (so the outbox row found below is this test's), skipping the ids in `not`.
function patientWithoutAccount(not) {
  const out = sql(`SELECT p.id, p.family_name, COALESCE(p.mobile, ''), COALESCE(p.email, '')
    FROM patients p WHERE p.org_id = (SELECT org_id FROM staff_users WHERE email = '${staffLogin[0]}')
      AND p.managed_by IS NULL AND (p.mobile IS NOT NULL OR p.email IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.patient_id = p.id AND a.pw_hash IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.patient_id = p.id)
      AND p.id NOT IN (${not.join(',') || 0})
    ORDER BY p.id LIMIT 1;`);
  assert.ok(out, 'the demo has a patient without an account and without messages');
  const [id, family, mobile, email] = out.split('\t');
  return { id, family, contact: mobile || email, channel: mobile ? 'SMS' : 'E-mail' };
}

// An active service of that clinic that patients can book online (the recall's search target).
function bookableService() {
  const out = sql(`SELECT s.id, s.name FROM services s
    WHERE s.org_id = (SELECT org_id FROM staff_users WHERE email = '${staffLogin[0]}')
      AND s.active = 1 AND s.online_booking = 1 ORDER BY s.id LIMIT 1;`);
  assert.ok(out, 'the demo clinic has a service bookable online');
  const [id, name] = out.split('\t');
  return { id, name };
}

function romeDay(daysAhead) {
  return new Date(Date.now() + daysAhead * 864e5).toLocaleDateString('sv-SE', { timeZone: 'Europe/Rome' });
}

async function staffSignIn(page) {
  await page.goto(`${base}/staff/login`);
  await page.getByLabel(/e-?mail/i).fill(staffLogin[0]);
  await page.getByLabel(/password/i).fill(staffLogin[1]);
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL(/\/staff\/patients/);
}

// The newest outbox message of `kind` to `contact`: its invitation link.
async function invitationIn(page, kind, contact) {
  await page.goto(`${base}/dev/outbox`);
  const row = page.locator('table.outbox tbody tr')
    .filter({ has: page.locator('td', { hasText: contact }) })
    .filter({ has: page.locator('td', { hasText: new RegExp(`^\\s*${kind}\\s*$`) }) })
    .first();
  await row.waitFor();
  const url = await row.locator('a[href*="/i/"]').first().getAttribute('href');
  assert.ok(url.startsWith(`${base}/i/`), `an invitation link of this portal: ${url}`);
  return url;
}

async function completeInvitation(page, url, family) {
  await page.goto(url);
  await page.getByLabel('Family name (surname)').waitFor();
  await noSidewaysScroll(page, 'the invitation page');
  const password = 'a phone password for 2026';
  await page.getByLabel('Family name (surname)').fill(family.toUpperCase());
  await page.getByLabel('New password', { exact: true }).fill(password);
  await page.getByLabel('New password again').fill(password);
  await page.getByLabel(/I accept the privacy policy/).check();
  await page.getByRole('button', { name: /activate my account/i }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/i/'));
}

test('TRD104: an offline video consultation with mandatory payment, paid through the invitation', async () => {
  const who = patientWithoutAccount([]);
  const staffCtx = await browser.newContext({ viewport: phone, locale: 'en-GB' });
  await staffCtx.addCookies([{ name: 'lang', value: 'en', url: base }]);
  const patientCtx = await browser.newContext({ viewport: phone, locale: 'en-GB' });
  await patientCtx.addCookies([{ name: 'lang', value: 'en', url: base }]);
  try {
    const staff = await staffCtx.newPage();
    await staffSignIn(staff);
    await staff.goto(`${base}/staff/appointments/new?patient=${who.id}`);
    const form = staff.locator('form.appointment-form');
    await form.getByLabel('Service').selectOption({ index: 1 });
    await form.getByLabel('Date').fill(romeDay(4));
    await form.getByLabel('Time').fill('10:10');
    await form.getByLabel('Video', { exact: true }).check();
    await form.getByLabel('Payment required').check();
    await form.getByLabel('Amount in euros').fill('35,00');
    await form.getByRole('button', { name: /book the appointment/i }).click();
    await staff.waitForURL(/\/staff\/appointments\?.*booked=\d+/);
    const booked = new URL(staff.url());
    const appt = booked.searchParams.get('booked');
    assert.equal(booked.searchParams.get('payreq'), '1', 'the payment request was queued at booking');

    // run-due (cron's view of the same work) finds nothing more to send for it
    execFileSync(bin, ['run-due'], { encoding: 'utf8' });
    assert.equal(sql(`SELECT COUNT(*) FROM messages WHERE kind = 'payment_request' AND appointment_id = ${appt};`), '1');

    const url = await invitationIn(staff, 'payment_request', who.contact);
    const patient = await patientCtx.newPage();
    await completeInvitation(patient, url, who.family);
    assert.equal(new URL(patient.url()).pathname, `/appointments/${appt}/pay`);
    await patient.getByRole('heading', { level: 1, name: 'Payment' }).waitFor();
    assert.match(await patient.getByRole('main').textContent(), /35[.,]00/);
    await noSidewaysScroll(patient, 'the payment page');
    await axeClean(patient, 'the payment page after the invitation');
  } finally {
    await staffCtx.close();
    await patientCtx.close();
  }
});

test('TRD89: a recall set up on the profile lands on the search for its service', async () => {
  const who = patientWithoutAccount([]);
  const svc = bookableService();
  const staffCtx = await browser.newContext({ viewport: phone, locale: 'en-GB' });
  await staffCtx.addCookies([{ name: 'lang', value: 'en', url: base }]);
  const patientCtx = await browser.newContext({ viewport: phone, locale: 'en-GB' });
  await patientCtx.addCookies([{ name: 'lang', value: 'en', url: base }]);
  try {
    const staff = await staffCtx.newPage();
    await staffSignIn(staff);
    await staff.goto(`${base}/staff/patients/${who.id}`);
    const box = staff.locator('#new-recall');
    await box.locator('summary').click();
    await box.getByLabel('Service').selectOption(svc.id);
    await box.getByLabel('Due date').fill(romeDay(0));
    await box.getByLabel(who.channel, { exact: true }).check();
    await noSidewaysScroll(staff, 'the profile with the recall form');
    await box.getByRole('button', { name: /save the recall/i }).click();
    await staff.waitForURL((u) => u.searchParams.get('recall') === 'created');
    assert.match(await staff.getByRole('status').first().textContent(), /Recall saved/);

    await staff.goto(`${base}/staff/recalls?state=due`);
    await staff.locator('table.recalls tbody tr', { hasText: svc.name }).first().waitFor();
    await axeClean(staff, 'the recalls list');

    // what cron runs: the due recall goes out once
    const out = execFileSync(bin, ['run-due'], { encoding: 'utf8' });
    assert.match(out, /recalls: [1-9]\d* queued/);
    const again = execFileSync(bin, ['run-due'], { encoding: 'utf8' });
    assert.match(again, /recalls: 0 queued/);

    const url = await invitationIn(staff, 'recall', who.contact);
    const patient = await patientCtx.newPage();
    await completeInvitation(patient, url, who.family);
    const landed = new URL(patient.url());
    assert.equal(landed.pathname, '/search');
    assert.equal(landed.searchParams.get('service'), svc.id);
    assert.equal(await patient.locator('select[name="service"]').inputValue(), svc.id,
      'the search is pre-filtered to the recall\'s service');
    await noSidewaysScroll(patient, 'the search page');
  } finally {
    await staffCtx.close();
    await patientCtx.close();
  }
});
