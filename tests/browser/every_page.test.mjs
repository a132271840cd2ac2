// Every page, every time (issue 6): each page of pages.mjs, signed out, as a patient and as staff,
// on a phone (360x740, Italian) and a desktop (1280x900, English), in Debian's Chromium. On each:
// axe-core finds no serious or critical violation; no sideways scrolling at 360px; every form
// control has an accessible name; a field marked aria-invalid is described by a message, and
// errors are announced (role=alert or aria-live). Each phone view is saved as a PNG under
// build/screenshots/ for a person to look at. Then the invitation journey and the staff sign-in
// with the keyboard only. The server is started by scripts/browser-tests.sh with fresh demo data;
// its URL is in INVITO_URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { signIn, steps, pages } from './pages.mjs';

const base = process.env.INVITO_URL;
const shots = fileURLToPath(new URL('../../build/screenshots/', import.meta.url));
const viewports = {
  phone: { viewport: { width: 360, height: 740 }, locale: 'it-IT' },
  desktop: { viewport: { width: 1280, height: 900 }, locale: 'en-GB' },
};
const vars = { in7days: new Date(Date.now() + 7 * 864e5).toISOString().slice(0, 10) };
const sessions = {}; // role -> storage state (cookies) after signing in
let browser;

before(async () => {
  assert.ok(base, 'INVITO_URL must be set');
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
});

function subst(s) {
  return s.replace(/\{([a-z0-9_]+)\}/gi, (m, k) => {
    assert.ok(k in vars, `no value for {${k}} in ${s}`);
    return vars[k];
  });
}

async function newContext(as, view) {
  return browser.newContext({ ...view, storageState: sessions[as] });
}

// Opens p.path; with p.post, fills the form of that action (fields by name, set directly so that
// an empty or wrong value gets to the server) and submits it with its button.
async function open(page, p) {
  await page.goto(base + subst(p.path));
  if (!p.post) return;
  const action = subst(p.post);
  const fields = Object.fromEntries(Object.entries(p.fields || {}).map(([k, v]) => [k, subst(v)]));
  const form = page.locator(`form[action="${action}"]`).first();
  await form.waitFor({ state: 'attached' });
  await Promise.all([
    page.waitForNavigation(),
    form.evaluate((f, [fields, button]) => {
      for (const [name, value] of Object.entries(fields)) {
        const all = [...f.querySelectorAll(`[name="${name}"]`)];
        const els = all.filter((e) => e.tagName !== 'BUTTON'); // a button sends its own value
        if (!all.length) throw new Error(`no field ${name}`);
        for (const e of els) {
          if (e.type === 'radio' || e.type === 'checkbox') e.checked = e.value === value;
          else e.value = value;
        }
      }
      f.noValidate = true; // the server's errors are under test, not the browser's
      const b = button ? f.querySelector(button) : f.querySelector('button[type="submit"], button:not([type])');
      f.requestSubmit(b);
    }, [fields, p.button || null]),
  ]);
}

// What the page's own checks find wrong beyond axe: controls without a name, invalid fields not
// tied to a message, errors not announced.
function pageProblems() {
  const text = (id) => document.getElementById(id)?.textContent.trim() || '';
  const problems = [];
  for (const el of document.querySelectorAll('input:not([type="hidden"]), select, textarea, button')) {
    const name = (el.getAttribute('aria-labelledby') || '').split(/\s+/).map(text).join(' ').trim() ||
      el.getAttribute('aria-label')?.trim() || [...(el.labels || [])].map((l) => l.textContent.trim()).join(' ') ||
      el.getAttribute('title')?.trim() || (el.tagName === 'BUTTON' ? el.textContent.trim() : '') ||
      (['submit', 'button', 'reset'].includes(el.type) ? el.value : '');
    if (!name) problems.push(`no accessible name: ${el.outerHTML.slice(0, 120)}`);
  }
  const invalid = [...document.querySelectorAll('[aria-invalid="true"]')];
  for (const el of invalid) {
    const ids = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    if (!ids.some((id) => text(id))) problems.push(`invalid field #${el.id} is not described by a message`);
  }
  const announced = [...document.querySelectorAll('[role="alert"], [aria-live="assertive"], [aria-live="polite"]')]
    .some((e) => e.textContent.trim());
  if (invalid.length && !announced) problems.push('fields are invalid but no error is announced');
  for (const el of document.querySelectorAll('.error')) {
    if (!el.textContent.trim() || el.closest('[role="alert"]')) continue;
    if (!el.id || !document.querySelector(`[aria-describedby~="${el.id}"]`))
      problems.push(`error message neither announced nor tied to a field: ${el.textContent.trim().slice(0, 80)}`);
  }
  return { problems, invalid: invalid.length, announced };
}

test('find real ids in the demo data', async () => {
  for (const [as, s] of Object.entries(signIn)) {
    const context = await browser.newContext(viewports.desktop);
    const page = await context.newPage();
    await open(page, s);
    assert.ok(!new URL(page.url()).pathname.endsWith('/login'), `${as} signed in`);
    sessions[as] = await context.storageState();
    await context.close();
  }
  const contexts = {};
  try {
    for (const s of steps) {
      contexts[s.as] ??= await newContext(s.as, viewports.desktop);
      const page = contexts[s.as].pages()[0] || await contexts[s.as].newPage();
      await open(page, s);
      if (!s.re) continue;
      const m = new RegExp(s.re).exec(`${page.url()}\n${await page.content()}`);
      assert.ok(m, `step '${s.set}': nothing like ${s.re} on ${page.url()}`);
      vars[s.set] = m[1];
    }
  } finally {
    for (const c of Object.values(contexts)) await c.close();
  }
});

// One page on one viewport: what is wrong with it ([] if nothing); a PNG of each phone view.
async function check(context, p, n, vname, view) {
  const page = context.pages()[0] || await context.newPage();
  const what = `${vname}: ${p.as} ${p.name} (${p.path}${p.post ? ` → ${p.post}` : ''})`;
  const failures = [];
  try {
    await open(page, p);
  } catch (e) {
    return [`${what}: ${e.message.split('\n')[0]}`];
  }
  const axe = await new AxeBuilder({ page }).analyze();
  for (const v of axe.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical'))
    failures.push(`${what}: axe ${v.id}: ${v.help} (${v.nodes.map((x) => x.target.join(' ')).slice(0, 3).join(', ')})`);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  if (width > view.viewport.width + 1) failures.push(`${what}: sideways scrolling (${width}px wide)`);
  const { problems, invalid, announced } = await page.evaluate(pageProblems);
  for (const pr of problems) failures.push(`${what}: ${pr}`);
  if (p.errors && !(invalid && announced))
    failures.push(`${what}: the form's errors are not shown on its fields and announced`);
  if (vname === 'phone')
    await page.screenshot({ path: `${shots}${String(n).padStart(2, '0')}-${p.as}-${p.name}.png`, fullPage: true });
  return failures;
}

test('every page on a phone and on a desktop', async () => {
  assert.ok(sessions.staff, 'the ids were found');
  const tasks = [];
  for (const [vname, view] of Object.entries(viewports))
    pages.forEach((p, i) => tasks.push({ p, n: i + 1, vname, view }));
  const failures = [];
  // a few workers, each with its own browser contexts (a session per role and viewport)
  const worker = async () => {
    const contexts = {};
    try {
      for (let t; (t = tasks.shift());) {
        const key = `${t.p.as}/${t.vname}`;
        contexts[key] ??= await newContext(t.p.as, t.view);
        failures.push(...await check(contexts[key], t.p, t.n, t.vname, t.view));
      }
    } finally {
      for (const c of Object.values(contexts)) await c.close();
    }
  };
  await Promise.all([worker(), worker()]); // two: the machine may have only two cores
  assert.deepEqual(failures.sort(), [], `${failures.length} problems on ${pages.length} pages, two viewports`);
});

// Keyboard only: Tab (or Shift+Tab) until the element matching `selector` has focus.
async function tabTo(page, selector, { back = false, max = 40 } = {}) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  assert.fail(`Tab never reached ${selector} on ${page.url()}`);
}

test('the staff sign-in and the invitation journey with the keyboard only', async () => {
  assert.ok(sessions.staff, 'the ids were found');
  const view = viewports.phone;
  // a second invitation for the patient of pages.mjs (the first is on the every-page list)
  const staff = await newContext('staff', view);
  const context = await browser.newContext(view);
  try {
    const setup = await staff.newPage();
    await open(setup, steps.find((s) => s.post?.endsWith('/invite')));
    await setup.goto(`${base}/dev/outbox`);
    const link = new RegExp('/i/[A-Za-z0-9_-]+').exec(await setup.content())[0];
    await setup.goto(`${base}/staff/patients/${vars.patient}/edit`);
    const family = await setup.locator('#family_name').inputValue();
    assert.ok(family, 'the patient has a family name');

    const page = await context.newPage();
    // staff sign-in: Tab to each field, type, Enter
    await page.goto(`${base}/staff/login`);
    await tabTo(page, '#email');
    await page.keyboard.type(signIn.staff.fields.email);
    await tabTo(page, '#password');
    await page.keyboard.type(signIn.staff.fields.password);
    await Promise.all([page.waitForURL(/\/staff\/patients/), page.keyboard.press('Enter')]);
    // ... and sign out: Tab to the header's button, Space
    await tabTo(page, 'form[action="/staff/logout"] button');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Space')]);

    // the invitation: family name, password twice (back with Shift+Tab to fix the first), the
    // policy ticked with Space, the button pressed with Enter
    await page.goto(`${base}${link}`);
    await tabTo(page, '#family_name');
    await page.keyboard.type(family.toUpperCase());
    await tabTo(page, '#password');
    await page.keyboard.type('a keyboard password');
    await tabTo(page, '#password2');
    await page.keyboard.type('a keyboard password 2026');
    await tabTo(page, '#password', { back: true }); // focus selects the text: type it again
    await page.keyboard.type('a keyboard password 2026');
    await tabTo(page, '#consent');
    await page.keyboard.press('Space');
    assert.ok(await page.locator('#consent').isChecked(), 'Space ticks the policy box');
    await tabTo(page, 'form[method="post"] button[type="submit"]:not(.link):not(.secondary)');
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/i/')), page.keyboard.press('Enter')]);
    assert.equal(new URL(page.url()).pathname, '/');
    await page.getByRole('heading', { level: 1 }).waitFor();
    assert.ok(await page.locator('form[action="/logout"]').count(), 'the patient is signed in');
  } finally {
    await staff.close();
    await context.close();
  }
});
