/*
 * demo: `invito demo [--fresh]` creates (or reuses) a database with one
 * clinic that a newcomer can click through: a customer with its portal, a
 * member practice connected to it, services with opening hours and three
 * weeks of slots, about 300 patients with realistic Italian names (fixed
 * seed: the same names every time), family members managed by a parent's
 * account, appointments past and future (offline video consultations with
 * mandatory payment among them, some paid), recalls falling due, and a staff
 * admin. Everything is written in one transaction, on SQLite or PostgreSQL
 * (so no statement may be expected to fail: a failure aborts a PostgreSQL
 * transaction). Demo passwords are fixed and public, so printing them is
 * intended; a database password never is (store_url_redact). No real address
 * or number is used (example domains, fictitious mobiles).
 */
#include "cli/cli.h"
#include "config.h"
#include "lib/arena.h"
#include "lib/names.h"
#include "lib/password.h"
#include "lib/util.h"
#include "store/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEMO_ORG        "Poliambulatorio San Luca"
#define DEMO_MEMBER     "Studio Medico Dr. Ferri"
#define DEMO_COLOUR     "#0b5e57" /* the portal's primary colour (7.6:1 under white text) */
#define DEMO_ADMIN      "admin@sanluca.example"
#define DEMO_ADMIN_PW   "invito-demo"
#define DEMO_PATIENT_PW "demo-patient-1"
#define DEMO_PATIENTS   300
#define DEMO_CHILDREN   20
#define DEMO_DAYS       21

static const char policy_text[] =
    "Informativa sul trattamento dei dati personali (art. 13 Regolamento UE 2016/679)\n\n"
    "Titolare del trattamento è Poliambulatorio San Luca S.r.l., Via Appia Nuova 123, 00183 "
    "Roma, e-mail privacy@sanluca.example. I dati personali e i dati relativi alla salute che "
    "ci fornisce tramite il portale pazienti sono trattati per gestire le sue prenotazioni, i "
    "pagamenti, i promemoria degli appuntamenti e le comunicazioni di richiamo, sulla base "
    "dell'esecuzione del rapporto di cura (art. 6.1.b e art. 9.2.h GDPR). I dati sono "
    "conservati per il tempo previsto dalla normativa sanitaria e non sono diffusi; possono "
    "essere comunicati ai professionisti e alle strutture collegate che la prendono in cura e "
    "ai fornitori che gestiscono per nostro conto il portale, gli SMS e le e-mail, nominati "
    "responsabili del trattamento. Può chiedere in ogni momento l'accesso, la rettifica, la "
    "cancellazione o la limitazione dei dati, opporsi al trattamento e proporre reclamo al "
    "Garante per la protezione dei dati personali. Responsabile della protezione dei dati: "
    "dpo@sanluca.example.\n\n"
    "Privacy notice (art. 13 EU Regulation 2016/679)\n\n"
    "The controller is Poliambulatorio San Luca S.r.l., Via Appia Nuova 123, 00183 Rome, "
    "e-mail privacy@sanluca.example. The personal and health data you give us through the "
    "patient portal are processed to manage your bookings, payments, appointment reminders "
    "and recall messages, on the basis of the care relationship (art. 6.1.b and art. 9.2.h "
    "GDPR). Data are kept for the period required by healthcare law and are never published; "
    "they may be shared with the practitioners and connected practices that treat you and with "
    "the providers that run the portal, text messages and e-mail on our behalf as processors. "
    "You may at any time ask for access, rectification, erasure or restriction, object to the "
    "processing, and lodge a complaint with the Italian data protection authority (Garante). "
    "Data protection officer: dpo@sanluca.example.";

static const char *const female[] = {
    "Maria",     "Giulia",  "Francesca", "Chiara",   "Sara",         "Martina",    "Alessandra",
    "Valentina", "Elena",   "Anna",      "Federica", "Silvia",       "Laura",      "Paola",
    "Roberta",   "Giorgia", "Beatrice",  "Aurora",   "Maria Grazia", "Anna Maria", "Zoë",
    "Noemi",     "Ilaria",  "Lucia",     "Rosa",     "Carla",        "Simona",     "Teresa",
};
static const char *const male[] = {
    "Marco",      "Giuseppe", "Luca",     "Andrea",   "Francesco", "Alessandro", "Matteo",
    "Lorenzo",    "Davide",   "Stefano",  "Paolo",    "Giovanni",  "Antonio",    "Roberto",
    "Nicolò",     "Niccolò",  "Riccardo", "Simone",   "Fabio",     "Salvatore",  "Gian Luca",
    "Pier Paolo", "Emanuele", "Tommaso",  "Vincenzo", "Mattia",    "Enrico",     "Claudio",
};
static const char *const family[] = {
    "Rossi",         "Russo",       "Ferrari",    "Esposito",  "Bianchi",    "Romano",
    "Colombo",       "Ricci",       "Marino",     "Greco",     "Bruno",      "Gallo",
    "Conti",         "De Luca",     "Mancini",    "Costa",     "Giordano",   "Rizzo",
    "Lombardi",      "Moretti",     "Barbieri",   "Fontana",   "Santoro",    "Mariani",
    "Rinaldi",       "Caruso",      "Ferrara",    "Galli",     "Martini",    "Leone",
    "Longo",         "Gentile",     "Martinelli", "Vitale",    "Lombardo",   "Serra",
    "Coppola",       "De Santis",   "D'Angelo",   "Marchetti", "Parisi",     "Villa",
    "Conte",         "Ferraro",     "Ferri",      "Fabbri",    "Bianco",     "Marini",
    "Grasso",        "Valentini",   "Messina",    "Sala",      "De Angelis", "Gatti",
    "Pellegrini",    "Palumbo",     "Sanna",      "Farina",    "Rizzi",      "Monti",
    "Cattaneo",      "Morelli",     "Amato",      "Silvestri", "Mazza",      "Testa",
    "Grassi",        "Pellegrino",  "Carbone",    "Giuliani",  "Benedetti",  "Barone",
    "D'Amico",       "Dell'Acqua",  "Lo Russo",   "Lo Presti", "Di Stefano", "Dall'Olio",
    "Rossi Bianchi", "Ferri Conti", "Nicolò",     "Sant'Elia", "Fabrizio",
};
static const char *const mobile_prefix[] = {
    "320", "324", "328", "329", "331", "333", "334", "338", "339", "340",
    "345", "347", "348", "349", "351", "366", "380", "388", "389", "392",
};
static const char *const mail_domain[] = {"example.com", "example.it", "example.net",
                                          "example.org"};

struct service_def {
	const char *name;
	int member; /* offered at the member practice */
	int duration;
	const char *kind;
	int price_cents;
	const char *payment;
	/* opening hours: weekdays bitmask (bit 0 = Monday), from, to (minutes), slot length */
	int days, from, to, slot;
};

static const struct service_def services[] = {
    {"Visita cardiologica", 0, 30, "in_person", 12000, "optional", 0x05, 540, 780, 30},
    {"Visita dermatologica", 0, 20, "in_person", 10000, "none", 0x0A, 840, 1080, 20},
    {"Televisita nutrizionale", 0, 30, "video", 6000, "mandatory", 0x1F, 1020, 1140, 30},
    {"Ecografia addome completo", 0, 30, "in_person", 9000, "optional", 0x14, 510, 750, 30},
    {"Visita pediatrica", 0, 30, "in_person", 8000, "none", 0x1F, 900, 1080, 30},
    {"Visita oculistica", 0, 20, "in_person", 9000, "none", 0x22, 540, 720, 20},
    {"Visita di medicina generale", 1, 15, "in_person", 0, "none", 0x1F, 540, 720, 15},
    {"Televisita di controllo", 1, 20, "video", 4000, "mandatory", 0x0A, 1080, 1200, 20},
};
#define N_SERVICES (sizeof(services) / sizeof(services[0]))
#define SVC_CARDIO 0
#define SVC_NUTRI  2
#define SVC_PEDI   4
#define SVC_GP     6
#define SVC_TELE_M 7

#define CMD_NAME "demo"

/* --- deterministic randomness and Europe/Rome time ---------------------- */

#define DEMO_SEED 0x5EED2026C0FFEEULL

static uint64_t rng_state = DEMO_SEED;

/* splitmix64: the same sequence on every machine. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static int rnd_below(int n)
{
	return (int)(rnd() % (uint64_t)n);
}

#define PICK(arr) ((arr)[rnd_below((int)(sizeof(arr) / sizeof((arr)[0])))])

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* 0 = Monday. */
static int weekday(int64_t days)
{
	return (int)(((days + 3) % 7 + 7) % 7);
}

/* Days of the last Sunday of month m in year y. */
static int64_t last_sunday(int y, int m)
{
	int64_t last = days_from_civil(y, m + 1, 1) - 1;
	return last - (weekday(last) + 1) % 7;
}

/* UTC offset of Europe/Rome at t: EU summer time from the last Sunday of March to the
 * last Sunday of October, 01:00 UTC. Written out so the demo needs no tz database. */
static int64_t rome_offset(int64_t t)
{
	int y, m, d;
	civil_from_days(t / 86400, &y, &m, &d);
	int64_t start = last_sunday(y, 3) * 86400 + 3600;
	int64_t end = last_sunday(y, 10) * 86400 + 3600;
	return (t >= start && t < end) ? 7200 : 3600;
}

/* UTC time of local (Rome) day `days` at `minutes` past midnight. */
static int64_t rome_time(int64_t days, int minutes)
{
	int64_t local = days * 86400 + (int64_t)minutes * 60;
	int64_t t = local - 7200;
	return rome_offset(t) == 7200 ? t : local - 3600;
}

static void date_str(int64_t days, char out[11])
{
	int y, m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

/* --- writing the data ------------------------------------------------------ */

struct demo {
	struct store_conn *c;
	struct arena *a;
	int64_t now, today; /* today: Rome local day number */
	int64_t portal, org, member, admin;
	int64_t svc[N_SERVICES];
	int64_t patients[DEMO_PATIENTS + DEMO_CHILDREN];
	int n_patients, n_adults;
	int has_account[DEMO_PATIENTS + DEMO_CHILDREN];
	char patient_hash[PASSWORD_HASH_MAX], admin_hash[PASSWORD_HASH_MAX];
	const char *parent_login, *patient_login;
	int accounts, appointments, video_unpaid, video_paid, recalls, slots;
};

#define TRY(expr)                                                                                  \
	do {                                                                                       \
		if ((rc = (expr)) < 0)                                                             \
			goto out;                                                                  \
	} while (0)

static int add_orgs(struct demo *d, const char *base_url)
{
	int rc;
	TRY(store_insert(
	    d->c, &d->portal,
	    "INSERT INTO portals (name, base_url, policy_text, policy_version, languages, "
	    "invite_ttl_days, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
	    "tttttii", "Portale Pazienti San Luca", base_url, policy_text, "2026-01", "it,en",
	    (int64_t)30, d->now));
	/* its host (from base_url: the Host header picks the portal) and colour; the policy in
	 * each language on its own (policy_text keeps both, for older readers) */
	TRY(store_portal_set_look(d->c, d->portal, base_url, DEMO_COLOUR));
	const char *en = strstr(policy_text, "Privacy notice");
	if (en != NULL) {
		char it[sizeof(policy_text)];
		size_t n = (size_t)(en - policy_text);
		while (n > 0 && policy_text[n - 1] == '\n')
			n--;
		memcpy(it, policy_text, n);
		it[n] = '\0';
		TRY(store_portal_set_policy(d->c, d->portal, NULL, "it", it, d->now));
		TRY(store_portal_set_policy(d->c, d->portal, NULL, "en", en, d->now));
	}
	TRY(store_insert(d->c, &d->org,
	                 "INSERT INTO organisations (kind, portal_id, name, phone, email, address, "
	                 "timezone, appendix_text, appendix_kinds, sender_name, created_at) VALUES "
	                 "('customer', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
	                 "itttttttti", d->portal, DEMO_ORG, "+39 06 1234 5678",
	                 "info@sanluca.example", "Via Appia Nuova 123, 00183 Roma RM",
	                 "Europe/Rome", "Gestisci le tue prenotazioni online: {{TRD92}}",
	                 "reminder,recall", "SanLuca", d->now));
	TRY(store_insert(
	    d->c, &d->member,
	    "INSERT INTO organisations (kind, portal_id, parent_id, name, phone, email, "
	    "address, timezone, sender_name, created_at) VALUES "
	    "('member', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
	    "iitttttti", d->portal, d->org, DEMO_MEMBER, "+39 06 8765 4321", "studio@ferri.example",
	    "Via Tuscolana 45, 00182 Roma RM", "Europe/Rome", "DrFerri", d->now));
	TRY(store_insert(d->c, &d->admin,
	                 "INSERT INTO staff_users (org_id, email, name, pw_hash, role, created_at) "
	                 "VALUES (?, ?, ?, ?, 'admin', ?) RETURNING id",
	                 "ittti", d->org, DEMO_ADMIN, "Laura Conti", d->admin_hash, d->now));
out:
	return rc;
}

static int add_services(struct demo *d)
{
	int rc = 0;
	for (size_t i = 0; i < N_SERVICES; i++) {
		const struct service_def *s = &services[i];
		int64_t org = s->member ? d->member : d->org;
		TRY(store_insert(
		    d->c, &d->svc[i],
		    "INSERT INTO services (org_id, name, duration_min, kind, price_cents, "
		    "payment, online_booking, active, created_at) VALUES "
		    "(?, ?, ?, ?, ?, ?, 1, 1, ?) RETURNING id",
		    "itititi", org, s->name, (int64_t)s->duration, s->kind, (int64_t)s->price_cents,
		    s->payment, d->now));
		for (int wd = 0; wd < 7; wd++) {
			if (!(s->days & (1 << wd)))
				continue;
			TRY(store_exec(
			    d->c, NULL,
			    "INSERT INTO opening_hours (org_id, service_id, weekday, "
			    "start_min, end_min, slot_min, capacity) VALUES (?, ?, ?, ?, ?, ?, 1)",
			    "iiiiii", org, d->svc[i], (int64_t)wd, (int64_t)s->from, (int64_t)s->to,
			    (int64_t)s->slot));
		}
	}
out:
	return rc;
}

static char *ascii_key(struct demo *d, const char *name)
{
	char *k = names_key(name, d->a);
	return k != NULL ? k : arena_strdup(d->a, "x");
}

static int add_account(struct demo *d, int idx, const char *login, int64_t portal)
{
	int64_t acc;
	/* DO NOTHING rather than a failed insert: on PostgreSQL an error would abort the
	 * one transaction the whole demo is written in. */
	int rc =
	    store_insert(d->c, &acc,
	                 "INSERT INTO accounts (patient_id, portal_id, login, pw_hash, created_at, "
	                 "password_changed_at) VALUES (?, ?, ?, ?, ?, ?) "
	                 "ON CONFLICT DO NOTHING RETURNING id",
	                 "iittii", d->patients[idx], portal, login, d->patient_hash,
	                 d->now - 86400 * (int64_t)(10 + idx % 200), d->now - 86400 * 5);
	if (rc == STORE_CONFLICT)
		return 0; /* the same login twice: that patient just has no account */
	if (rc < 0)
		return rc;
	rc = store_exec(d->c, NULL,
	                "INSERT INTO consents (account_id, kind, version, accepted_at) VALUES "
	                "(?, 'privacy', '2026-01', ?)",
	                "ii", acc, d->now - 86400 * (int64_t)(10 + idx % 200));
	if (rc == 0) {
		d->has_account[idx] = 1;
		d->accounts++;
	}
	return rc;
}

static int add_patients(struct demo *d)
{
	int rc = 0;
	char birth[11], ref[16], mobile[20];
	int parents[DEMO_CHILDREN];
	int n_parents = 0;

	for (int i = 0; i < DEMO_PATIENTS; i++) {
		int woman = rnd_below(2);
		const char *given = woman ? PICK(female) : PICK(male);
		const char *fam = PICK(family);
		int y = 1938 + rnd_below(67), m = 1 + rnd_below(12), day = 1 + rnd_below(28);
		snprintf(birth, sizeof(birth), "%04d-%02d-%02d", y, m, day);
		snprintf(ref, sizeof(ref), "SL%06d", i + 1);
		int no_contact = rnd_below(20) == 0;
		int has_mobile = !no_contact && rnd_below(10) != 0;
		int has_email = !no_contact && rnd_below(10) < 7;
		if (i < 40 && !no_contact)
			has_email = 1; /* the first ones may get accounts and children */
		snprintf(mobile, sizeof(mobile), "+39%s%07d", PICK(mobile_prefix),
		         rnd_below(10000000));
		char *email = has_email ? arena_printf(d->a, "%s.%s%d@%s", ascii_key(d, given),
		                                       ascii_key(d, fam), i + 1, PICK(mail_domain))
		                        : NULL;
		struct store_patient p = {
		    .org_id = d->org,
		    .given_name = (char *)given,
		    .family_name = (char *)fam,
		    .birth_date = birth,
		    .mobile = has_mobile ? mobile : NULL,
		    .email = email,
		    .lang = rnd_below(10) == 0 ? "en" : "it",
		    .external_ref = ref,
		};
		TRY(store_patient_add(d->c, &p));
		d->patients[d->n_patients++] = p.id;
		/* Accounts: one patient in eight, and the parents of the family members. */
		int parent = has_email && y < 1990 && n_parents < 12 && i % 3 == 0;
		if (parent)
			parents[n_parents++] = i;
		if (parent || (i % 8 == 5 && (has_email || has_mobile)))
			TRY(add_account(d, i, email ? email : mobile, d->portal));
		if (parent && d->has_account[i] && d->parent_login == NULL)
			d->parent_login = arena_strdup(d->a, email);
		if (!parent && d->has_account[i] && email && d->patient_login == NULL)
			d->patient_login = arena_strdup(d->a, email);
	}
	d->n_adults = d->n_patients;

	for (int k = 0; k < DEMO_CHILDREN && n_parents > 0; k++) {
		int pi = parents[k % n_parents];
		struct store_patient parent;
		TRY(store_patient_get(d->c, d->org, d->patients[pi], &parent, d->a));
		int woman = rnd_below(2);
		snprintf(birth, sizeof(birth), "%04d-%02d-%02d", 2010 + rnd_below(14),
		         1 + rnd_below(12), 1 + rnd_below(28));
		snprintf(ref, sizeof(ref), "SL%06d", DEMO_PATIENTS + k + 1);
		struct store_patient p = {
		    .org_id = d->org,
		    .given_name = (char *)(woman ? PICK(female) : PICK(male)),
		    .family_name = parent.family_name,
		    .birth_date = birth,
		    .lang = parent.lang,
		    .external_ref = ref,
		    .managed_by = parent.id,
		};
		TRY(store_patient_add(d->c, &p));
		d->patients[d->n_patients++] = p.id;
	}
out:
	return rc;
}

/* An appointment; paid appointments get a succeeded payment row as well. */
static int add_appointment(struct demo *d, int svc, int patient, int64_t slot, int64_t start,
                           const char *via, const char *status, int paid)
{
	const struct service_def *s = &services[svc];
	int64_t id, end = start + (int64_t)s->duration * 60;
	int rc;
	int64_t paid_at =
	    paid ? (start < d->now ? start - 86400 : d->now - 3600 * (1 + patient % 48)) : 0;
	TRY(store_insert(
	    d->c, &id,
	    "INSERT INTO appointments (patient_id, org_id, service_id, slot_id, start_at, "
	    "end_at, kind, booked_via, payment, amount_cents, paid_at, status, "
	    "created_by_staff, created_at, updated_at) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
	    "iiiIiitttiItIii", d->patients[patient], s->member ? d->member : d->org, d->svc[svc],
	    slot, start, end, s->kind, via, s->payment, (int64_t)s->price_cents, paid_at, status,
	    strcmp(via, "offline") == 0 ? d->admin : 0,
	    start < d->now ? start - 86400 * 7 : d->now - 86400 * (1 + patient % 10), d->now));
	if (paid)
		TRY(store_exec(
		    d->c, NULL,
		    "INSERT INTO payments (appointment_id, provider, provider_ref, state, "
		    "amount_cents, currency, created_at, updated_at) VALUES "
		    "(?, 'fake', ?, 'succeeded', ?, 'EUR', ?, ?)",
		    "itiii", id, arena_printf(d->a, "demo-pay-%lld", (long long)id),
		    (int64_t)s->price_cents, paid_at, paid_at));
	d->appointments++;
out:
	return rc;
}

static int pick_patient(struct demo *d, int svc)
{
	if (svc == SVC_PEDI && d->n_patients > d->n_adults && rnd_below(4) != 0)
		return d->n_adults + rnd_below(d->n_patients - d->n_adults);
	return rnd_below(d->n_adults);
}

/* Slots for the next DEMO_DAYS days; about a quarter are booked. */
static int add_slots(struct demo *d)
{
	int rc = 0;
	for (int64_t day = d->today; day <= d->today + DEMO_DAYS; day++) {
		int wd = weekday(day);
		for (size_t i = 0; i < N_SERVICES; i++) {
			const struct service_def *s = &services[i];
			if (!(s->days & (1 << wd)))
				continue;
			for (int m = s->from; m + s->slot <= s->to; m += s->slot) {
				int64_t start = rome_time(day, m), slot;
				if (start <= d->now)
					continue;
				int book = rnd_below(100) < 28;
				TRY(store_insert(
				    d->c, &slot,
				    "INSERT INTO slots (org_id, service_id, start_at, end_at, "
				    "capacity, booked) VALUES (?, ?, ?, ?, 1, ?) RETURNING id",
				    "iiiii", s->member ? d->member : d->org, d->svc[i], start,
				    start + (int64_t)s->slot * 60, (int64_t)book));
				d->slots++;
				if (!book)
					continue;
				int p = pick_patient(d, (int)i);
				int video_pay = strcmp(s->payment, "mandatory") == 0;
				const char *via =
				    video_pay || !d->has_account[p] || rnd_below(10) < 7 ? "offline"
				                                                         : "online";
				int paid = video_pay ? rnd_below(10) < 4 : 0;
				if (video_pay)
					paid ? d->video_paid++ : d->video_unpaid++;
				TRY(add_appointment(d, (int)i, p, slot, start, via, "booked",
				                    paid));
			}
		}
	}
out:
	return rc;
}

/* About 250 appointments over the last six months, on the services' usual hours. */
static int add_past(struct demo *d)
{
	int rc = 0;
	for (int k = 0; k < 250; k++) {
		int svc = rnd_below((int)N_SERVICES);
		const struct service_def *s = &services[svc];
		int64_t day = d->today - 1 - rnd_below(180);
		while (!(s->days & (1 << weekday(day))))
			day--;
		int slots = (s->to - s->from) / s->slot;
		int64_t start = rome_time(day, s->from + s->slot * rnd_below(slots));
		int mandatory = strcmp(s->payment, "mandatory") == 0;
		const char *status = rnd_below(10) == 0 ? "cancelled" : "done";
		const char *via = rnd_below(5) == 0 ? "import" : "offline";
		int paid = mandatory ? rnd_below(10) < 9
		                     : strcmp(s->payment, "optional") == 0 && rnd_below(2) == 0;
		TRY(add_appointment(d, svc, pick_patient(d, svc), 0, start, via, status,
		                    paid && strcmp(status, "done") == 0));
	}
out:
	return rc;
}

/* Recalls: most due within the next ten days (the scheduler sends them), a few already sent. */
static int add_recalls(struct demo *d)
{
	static const int recall_svc[] = {0, 1, 3, 5, SVC_GP};
	static const char *const channels[] = {"sms", "email", "both"};
	char due[11];
	int rc = 0;
	for (int k = 0; k < 30; k++) {
		int p = rnd_below(d->n_adults);
		int svc = PICK(recall_svc);
		const struct service_def *s = &services[svc];
		int sent = k >= 24;
		int64_t day = sent ? d->today - 20 - rnd_below(60) : d->today - 2 + rnd_below(13);
		date_str(day, due);
		TRY(store_exec(
		    d->c, NULL,
		    "INSERT INTO recalls (org_id, patient_id, service_id, due_date, channel, "
		    "sent_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		    "iiittIii", s->member ? d->member : d->org, d->patients[p], d->svc[svc], due,
		    PICK(channels), sent ? rome_time(day, 600) : 0, d->admin,
		    d->now - 86400 * 200));
		d->recalls++;
	}
out:
	return rc;
}

static int fill(struct demo *d, const char *base_url)
{
	int rc;
	rng_state = DEMO_SEED; /* the same names on every run, even twice in one process */
	TRY(add_orgs(d, base_url));
	TRY(add_services(d));
	TRY(add_patients(d));
	TRY(add_slots(d));
	TRY(add_past(d));
	TRY(add_recalls(d));
out:
	return rc;
}

/* The file behind a SQLite URL; NULL for another engine. */
static const char *sqlite_path(const char *url)
{
	if (strncmp(url, "sqlite:", 7) == 0)
		return url + 7;
	return strstr(url, "://") != NULL ? NULL : url;
}

static int remove_db(const char *path)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char f[4096];
		if ((size_t)snprintf(f, sizeof(f), "%s%s", path, suffix[i]) >= sizeof(f))
			return -1;
		if (unlink(f) < 0 && errno != ENOENT) {
			fprintf(stderr, "invito demo: cannot remove %s: %s\n", f, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void print_logins(const char *parent, const char *patient)
{
	printf("  staff sign-in:   %s / %s\n", DEMO_ADMIN, DEMO_ADMIN_PW);
	if (parent != NULL)
		printf("  patient sign-in: %s / %s (manages family members)\n", parent,
		       DEMO_PATIENT_PW);
	if (patient != NULL)
		printf("  patient sign-in: %s / %s\n", patient, DEMO_PATIENT_PW);
}

int cli_demo(int argc, char **argv, struct config *cfg)
{
	int fresh = 0, ret = 1, rc;
	struct store *st = NULL;
	struct demo d = {0};
	const char *path = sqlite_path(cfg->database);
	char redacted[1024];
	const char *name =
	    path ? path : store_url_redact(cfg->database, redacted, sizeof(redacted));

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--fresh") == 0)
			fresh = 1;
		else
			return cli_usage_error(CMD_NAME,
			                       "unknown argument %s (usage: invito demo [--fresh])",
			                       argv[i]);
	}
	if (fresh) {
		if (path == NULL) {
			fprintf(stderr, "invito demo: --fresh only works on a SQLite file\n");
			return 1;
		}
		if (remove_db(path) < 0)
			return 1;
	}
	int64_t t0 = now_ms();
	if ((rc = store_open(&st, cfg->database, 1)) < 0) {
		fprintf(stderr, "invito demo: cannot open database %s: %s\n", name,
		        store_strerror(rc));
		goto out;
	}
	d.c = store_acquire(st);
	d.a = arena_create();

	int64_t org = 0;
	rc = store_scalar(d.c, &org,
	                  "SELECT id FROM organisations WHERE kind = 'customer' AND name = ?", "t",
	                  DEMO_ORG);
	if (rc == 0) {
		printf("reusing demo database %s\n", name);
		/* Show the logins again: read them back rather than remembering them. */
		struct store_stmt *s = NULL;
		char *parent = NULL, *patient = NULL;
		if (store_query(
		        d.c, &s,
		        "SELECT a.login, EXISTS (SELECT 1 FROM patients c WHERE c.managed_by = "
		        "p.id) FROM accounts a JOIN patients p ON p.id = a.patient_id "
		        "WHERE p.org_id = ? AND a.login LIKE '%@%' ORDER BY a.id",
		        "i", org) == 0) {
			while (store_step(s) == 1 && (parent == NULL || patient == NULL)) {
				if (store_col_int(s, 1) && parent == NULL)
					parent = store_col_dup(s, 0, d.a);
				else if (!store_col_int(s, 1) && patient == NULL)
					patient = store_col_dup(s, 0, d.a);
			}
			store_done(s);
		}
		print_logins(parent, patient);
		ret = 0;
		goto out;
	} else if (rc != STORE_NOTFOUND) {
		fprintf(stderr, "invito demo: %s\n", store_strerror(rc));
		goto out;
	}

	if (password_hash(DEMO_ADMIN_PW, d.admin_hash) < 0 ||
	    password_hash(DEMO_PATIENT_PW, d.patient_hash) < 0) {
		fprintf(stderr, "invito demo: cannot hash the demo passwords\n");
		goto out;
	}
	d.now = now_utc();
	d.today = (d.now + rome_offset(d.now)) / 86400;
	if ((rc = store_begin(d.c)) < 0 || (rc = fill(&d, cfg->base_url)) < 0 ||
	    (rc = store_commit(d.c)) < 0) {
		store_rollback(d.c);
		fprintf(stderr, "invito demo: cannot write the demo data: %s\n",
		        store_strerror(rc));
		goto out;
	}
	printf("created demo database %s in %.1f s\n", name, (double)(now_ms() - t0) / 1000.0);
	printf("  %s (with %s): %d patients (%d family members), %d portal accounts, "
	       "%zu services, %d slots, %d appointments (video with payment due: %d paid, %d "
	       "unpaid), %d recalls\n",
	       DEMO_ORG, DEMO_MEMBER, d.n_patients, d.n_patients - d.n_adults, d.accounts,
	       N_SERVICES, d.slots, d.appointments, d.video_paid, d.video_unpaid, d.recalls);
	print_logins(d.parent_login, d.patient_login);
	ret = 0;
out:
	if (d.c != NULL)
		store_release(d.c);
	arena_free(d.a);
	store_free(st);
	return ret;
}
