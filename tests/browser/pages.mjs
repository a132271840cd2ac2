// Every patient and staff page of invito, as data, for two runners: every_page.test.mjs (axe-core,
// layout and form checks in Chromium) and tests/html/run.sh (the Nu HTML Checker on curl's copy,
// which reads this list through `node pages.mjs`). Derived by hand from src/http/routes.c: when a
// route is added there, add its page here.
//
// A path may hold {vars}. `steps` find them in the demo data by navigating as a user would: each
// step opens `path` as `as` ('anon', 'patient' or 'staff'); with `post`, submits the form of the
// page whose action is `post` with `fields`; with `re`, takes the first group of the regular
// expression (a POSIX ERE too: the shell runner uses grep -E) from the URL and HTML it ended on.
// A page with `post` is the page that submitting that form shows (an empty or wrong form: the
// validation errors); `to` is where the form posts when a button's formaction differs from the
// form's action, `button` the CSS selector of that button. `errors: true` means the page must show
// field errors (aria-invalid fields tied to an announced message).
//
// The demo data (`invito demo`, fixed seed) and its public sign-ins:
export const signIn = {
  patient: { path: '/login', post: '/login',
    fields: { login: 'roberto.bianchi1@example.com', password: 'demo-patient-1' } },
  staff: { path: '/staff/login', post: '/staff/login',
    fields: { email: 'admin@sanluca.example', password: 'invito-demo' } },
};

// {in7days} is given by the runner: a date a week ahead (YYYY-MM-DD), where appointments can still
// be changed online.
export const steps = [
  // a patient without an account (not one the journey test picks), invited twice from the profile;
  // the second invitation is revoked (the "no longer valid" page)
  { as: 'staff', path: '/staff/patients?status=none&q=rossi', re: 'href="/staff/patients/([0-9]+)"', set: 'patient' },
  { as: 'staff', path: '/staff/patients/{patient}', post: '/staff/patients/{patient}/invite', fields: { channel: 'both' } },
  { as: 'staff', path: '/dev/outbox', re: '/i/([A-Za-z0-9_-]+)', set: 'invite' },
  { as: 'staff', path: '/staff/patients/{patient}', post: '/staff/patients/{patient}/invite', fields: { channel: 'both' } },
  { as: 'staff', path: '/dev/outbox', re: '/i/([A-Za-z0-9_-]+)', set: 'revoked' },
  { as: 'staff', path: '/staff/patients/{patient}', re: '/staff/patients/[0-9]+/invitations/([0-9]+)/revoke', set: 'inv' },
  { as: 'staff', path: '/staff/patients/{patient}', post: '/staff/patients/{patient}/invitations/{inv}/revoke' },
  // a patient with an account: a password reset link
  { as: 'staff', path: '/staff/patients?status=active', re: 'href="/staff/patients/([0-9]+)"', set: 'member' },
  { as: 'staff', path: '/staff/patients/{member}', post: '/staff/patients/{member}/reset', fields: { channel: 'both' } },
  { as: 'staff', path: '/dev/outbox', re: '/r/([A-Za-z0-9_-]+)', set: 'reset' },
  // services, their opening hours, a message template
  { as: 'staff', path: '/staff/services', re: 'href="/staff/services/([0-9]+)"', set: 'service' },
  { as: 'staff', path: '/staff/services/{service}', re: '/staff/services/[0-9]+/places/([0-9]+)', set: 'place' },
  { as: 'staff', path: '/staff/templates', re: 'href="/staff/templates/([a-z_]+/[a-z]+/[a-z]+)"', set: 'tmpl' },
  // the patient books a video consultation with payment in advance and starts paying it
  { as: 'patient', path: '/search', re: 'value="([0-9]+)">Televisita nutrizionale', set: 'video' },
  { as: 'patient', path: '/search?service={video}', re: '/book/([0-9]+)', set: 'vslot' },
  { as: 'patient', path: '/book/{vslot}', re: '<option value="([0-9]+)" selected', set: 'self' },
  { as: 'patient', path: '/book/{vslot}', post: '/book/{vslot}', fields: { patient: '{self}' }, re: '/appointments/([0-9]+)/pay', set: 'vappt' },
  { as: 'patient', path: '/appointments/{vappt}/pay', post: '/appointments/{vappt}/pay', re: '/pay/sandbox/([A-Za-z0-9_]+)', set: 'ref' },
  // ... and an in-person visit a week ahead (it can be moved or cancelled online); then a free time
  { as: 'patient', path: '/search', re: 'value="([0-9]+)">Visita oculistica', set: 'visit' },
  { as: 'patient', path: '/search?service={visit}&from={in7days}', re: '/book/([0-9]+)', set: 'slot' },
  { as: 'patient', path: '/book/{slot}', post: '/book/{slot}', fields: { patient: '{self}' }, re: '/appointments/([0-9]+)', set: 'appt' },
  { as: 'patient', path: '/search?service={visit}&from={in7days}', re: '/book/([0-9]+)', set: 'free' },
  { as: 'patient', path: '/', re: '/search\\?for=([0-9]+)', set: 'child' },
];

const unknownToken = 'AAAAAAAAAAAAAAAAAAAAAA';

export const pages = [
  // signed out
  { name: 'landing', as: 'anon', path: '/' },
  { name: 'login', as: 'anon', path: '/login' },
  { name: 'login-error', as: 'anon', path: '/login', post: '/login',
    fields: { login: 'nobody@example.com', password: 'not the password' }, errors: true },
  { name: 'forgot', as: 'anon', path: '/forgot' },
  { name: 'forgot-error', as: 'anon', path: '/forgot', post: '/forgot', fields: {} },
  { name: 'forgot-sent', as: 'anon', path: '/forgot', post: '/forgot', fields: { login: 'nobody@example.com' } },
  { name: 'signup', as: 'anon', path: '/signup' },
  { name: 'signup-error', as: 'anon', path: '/signup', post: '/signup', fields: {}, errors: true },
  { name: 'staff-login', as: 'anon', path: '/staff/login' },
  { name: 'staff-login-error', as: 'anon', path: '/staff/login', post: '/staff/login',
    fields: { email: 'nobody@example.com', password: 'not the password' }, errors: true },
  { name: 'invitation', as: 'anon', path: '/i/{invite}' },
  { name: 'invitation-error', as: 'anon', path: '/i/{invite}', post: '/i/{invite}', fields: {}, errors: true },
  { name: 'invitation-revoked', as: 'anon', path: '/i/{revoked}' },
  { name: 'invitation-unknown', as: 'anon', path: `/i/${unknownToken}` },
  { name: 'reset', as: 'anon', path: '/r/{reset}' },
  { name: 'reset-error', as: 'anon', path: '/r/{reset}', post: '/r/{reset}', fields: {}, errors: true },
  { name: 'reset-unknown', as: 'anon', path: `/r/${unknownToken}` },
  { name: 'confirm-unknown', as: 'anon', path: `/account/confirm/${unknownToken}` },
  { name: 'not-found', as: 'anon', path: '/no/such/page' },
  { name: 'not-allowed', as: 'anon', path: '/logout' },

  // the patient (who manages family members)
  { name: 'home', as: 'patient', path: '/' },
  { name: 'appointment', as: 'patient', path: '/appointments/{appt}' },
  { name: 'appointment-booked', as: 'patient', path: '/appointments/{appt}?done=booked' },
  { name: 'appointment-cancel', as: 'patient', path: '/appointments/{appt}/cancel' },
  { name: 'appointment-reschedule', as: 'patient', path: '/appointments/{appt}/reschedule' },
  { name: 'appointment-video', as: 'patient', path: '/appointments/{vappt}' },
  { name: 'pay', as: 'patient', path: '/appointments/{vappt}/pay' },
  { name: 'pay-sandbox', as: 'patient', path: '/pay/sandbox/{ref}' },
  { name: 'search', as: 'patient', path: '/search' },
  { name: 'search-service', as: 'patient', path: '/search?service={visit}' },
  { name: 'search-family', as: 'patient', path: '/search?for={child}' },
  { name: 'book', as: 'patient', path: '/book/{free}' },
  { name: 'book-taken', as: 'patient', path: '/book/{slot}' },
  { name: 'account', as: 'patient', path: '/account' },
  { name: 'account-error', as: 'patient', path: '/account', post: '/account/contact',
    fields: { email: 'not an address', mobile: '12' }, errors: true },
  { name: 'patient-not-found', as: 'patient', path: '/appointments/999999' },

  // staff
  { name: 'patients', as: 'staff', path: '/staff/patients' },
  { name: 'patients-search', as: 'staff', path: '/staff/patients?q=rossi&status=none' },
  { name: 'patients-family', as: 'staff', path: '/staff/patients?status=family' },
  { name: 'portal', as: 'staff', path: '/staff/portal' },
  { name: 'patient', as: 'staff', path: '/staff/patients/{patient}' },
  { name: 'patient-invited', as: 'staff', path: '/staff/patients/{patient}?result=invited-both' },
  { name: 'patient-member', as: 'staff', path: '/staff/patients/{member}' },
  { name: 'patient-new', as: 'staff', path: '/staff/patients/new' },
  { name: 'patient-new-error', as: 'staff', path: '/staff/patients/new', post: '/staff/patients/new',
    fields: {}, errors: true },
  { name: 'patient-edit', as: 'staff', path: '/staff/patients/{patient}/edit' },
  { name: 'patient-edit-error', as: 'staff', path: '/staff/patients/{patient}/edit',
    post: '/staff/patients/{patient}/edit', fields: { given_name: '', family_name: '' }, errors: true },
  { name: 'recall-error', as: 'staff', path: '/staff/patients/{patient}',
    post: '/staff/patients/{patient}/recalls', fields: { service: '', due_date: '' }, errors: true },
  { name: 'invite-confirm', as: 'staff', path: '/staff/patients?status=none&q=rossi',
    post: '/staff/patients/actions', fields: { scope: 'filter', action: 'invite' },
    button: 'button[value="invite"]' },
  { name: 'services', as: 'staff', path: '/staff/services' },
  { name: 'service', as: 'staff', path: '/staff/services/{service}' },
  { name: 'service-new', as: 'staff', path: '/staff/services/new' },
  { name: 'service-new-error', as: 'staff', path: '/staff/services/new', post: '/staff/services/new',
    fields: { name: '', duration: '' }, errors: true },
  { name: 'service-edit', as: 'staff', path: '/staff/services/{service}/edit' },
  { name: 'service-hours', as: 'staff', path: '/staff/services/{service}/places/{place}' },
  { name: 'service-generate-error', as: 'staff', path: '/staff/services/{service}/places/{place}',
    post: '/staff/services/{service}/places/{place}/generate', fields: { weeks: '0' }, errors: true },
  { name: 'appointments', as: 'staff', path: '/staff/appointments' },
  { name: 'appointments-day', as: 'staff', path: '/staff/appointments?day={in7days}&place=1' },
  { name: 'appointment-new', as: 'staff', path: '/staff/appointments/new' },
  { name: 'appointment-new-search', as: 'staff', path: '/staff/appointments/new?q=rossi' },
  { name: 'appointment-new-patient', as: 'staff', path: '/staff/appointments/new?patient={patient}' },
  { name: 'appointment-new-error', as: 'staff', path: '/staff/appointments/new?patient={patient}',
    post: '/staff/appointments/new', fields: { service: '', place: '', date: '', time: '' }, errors: true },
  { name: 'recalls', as: 'staff', path: '/staff/recalls' },
  { name: 'recalls-due', as: 'staff', path: '/staff/recalls?state=due' },
  { name: 'recall-new', as: 'staff', path: '/staff/recalls/new?q=rossi' },
  { name: 'templates', as: 'staff', path: '/staff/templates' },
  { name: 'template', as: 'staff', path: '/staff/templates/{tmpl}' },
  { name: 'template-error', as: 'staff', path: '/staff/templates/{tmpl}', post: '/staff/templates/{tmpl}',
    fields: { body: '' }, errors: true },
  { name: 'template-preview', as: 'staff', path: '/staff/templates/{tmpl}', post: '/staff/templates/{tmpl}',
    to: '/staff/templates/{tmpl}/preview', button: 'button[formaction$="/preview"]',
    fields: { body: 'Buongiorno, ecco il suo link.', patient: '{member}' } },
  { name: 'messages', as: 'staff', path: '/staff/messages' },
  { name: 'messages-sent', as: 'staff', path: '/staff/messages?state=sent' },
  { name: 'activity', as: 'staff', path: '/staff/activity' },
  { name: 'activity-invitations', as: 'staff', path: '/staff/activity?group=invitations' },
  { name: 'outbox', as: 'staff', path: '/dev/outbox' },
  { name: 'settings', as: 'staff', path: '/staff/settings' },
  { name: 'settings-error', as: 'staff', path: '/staff/settings', post: '/staff/settings/organisation',
    fields: { name: '', sender_name: 'Studio San Luca' }, errors: true },
  { name: 'settings-times', as: 'staff', path: '/staff/settings/times' },
  { name: 'settings-times-error', as: 'staff', path: '/staff/settings/times', post: '/staff/settings/times',
    fields: { reminder_hours: '2 days' }, errors: true },
  { name: 'staff-not-found', as: 'staff', path: '/staff/patients/999999' },
];

// `node pages.mjs` prints steps and pages for the shell runner, one a line, fields separated by
// '|': kind|name|as|path|post|to|fields (URL-encoded, {vars} kept)|re|set.
function line(kind, p) {
  const enc = (s) => encodeURIComponent(s).replace(/%7B/g, '{').replace(/%7D/g, '}');
  const fields = Object.entries(p.fields || {}).map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
  const cols = [kind, p.name || p.set || '', p.as, p.path, p.post || '', p.to || p.post || '', fields,
    p.re || '', p.set || ''];
  for (const c of cols) if (c.includes('|')) throw new Error(`'|' in ${c}`);
  return cols.join('|');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [as, s] of Object.entries(signIn)) console.log(line('signin', { ...s, as }));
  for (const s of steps) console.log(line('step', s));
  for (const p of pages) console.log(line('page', p));
}
