/*
 * comms/tags: the tag table, the message kinds, and the template parser,
 * validator and renderer (see tags.h). The tag table is the one place that
 * says which tag exists and where it has a value: validation, the staff
 * page's help and the renderer all read it.
 * It must never log a template's or a message's text.
 */
#include "comms/tags.h"

#include "lib/buf.h"
#include "lib/i18n.h"
#include "lib/util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K(k)   (1u << (k))
#define K_ALL  ((1u << COMMS_NKINDS) - 1)
#define K_APPT (K(COMMS_REMINDER) | K(COMMS_CONFIRMATION) | K(COMMS_PAYMENT_REQUEST))

static const struct comms_tag_def tags[COMMS_NTAGS] = {
    [COMMS_TAG_PATIENT_GIVEN_NAME] = {"PATIENT_GIVEN_NAME", K_ALL, 1, 0,
                                      N_("The patient's given name."), "Giulia"},
    [COMMS_TAG_PATIENT_FAMILY_NAME] = {"PATIENT_FAMILY_NAME", K_ALL, 1, 0,
                                       N_("The patient's family name."), "D'Amico"},
    [COMMS_TAG_ORG_NAME] = {"ORG_NAME", K_ALL, 1, 0, N_("Your organisation's name."),
                            "Studio Medico Roma"},
    [COMMS_TAG_ORG_PHONE] = {"ORG_PHONE", K_ALL, 1, 0, N_("Your organisation's phone number."),
                             "+39 06 1234567"},
    [COMMS_TAG_APPOINTMENT_DATE] = {"APPOINTMENT_DATE", K_APPT, 0, 0,
                                    N_("The appointment's date, in the patient's language."),
                                    "martedì 14 ottobre 2025"},
    [COMMS_TAG_APPOINTMENT_TIME] = {"APPOINTMENT_TIME", K_APPT, 0, 0,
                                    N_("The appointment's time, in the place's time zone."),
                                    "09:30"},
    [COMMS_TAG_APPOINTMENT_PLACE] = {"APPOINTMENT_PLACE", K_APPT, 0, 0,
                                     N_("Where the appointment takes place (your organisation "
                                        "or a member practice)."),
                                     "Poliambulatorio Nord"},
    [COMMS_TAG_SERVICE_NAME] = {"SERVICE_NAME", K_APPT | K(COMMS_RECALL), 0, 0,
                                N_("The service booked, or the service of the recall."),
                                "Visita cardiologica"},
    [COMMS_TAG_AMOUNT] = {"AMOUNT", K_APPT, 0, 0, N_("The amount to pay for the appointment."),
                          "80,00 €"},
    [COMMS_TAG_RECALL_DUE_DATE] = {"RECALL_DUE_DATE", K(COMMS_RECALL), 0, 0,
                                   N_("When the patient should come back."), "15 giugno 2026"},
    [COMMS_TAG_EXPIRY_DAYS] = {"EXPIRY_DAYS", K(COMMS_INVITATION), 0, 0,
                               N_("How many days the invitation link stays valid."), "30"},
    [COMMS_TAG_RESET_LINK] = {"RESET_LINK", K(COMMS_RESET), 0, 1,
                              N_("The link to choose a new password."),
                              "https://portal.example/r/AAAAAAAAAAAAAAAAAAAAAA"},
    [COMMS_TAG_TRD92] = {"TRD92", K(COMMS_INVITATION), 1, 1,
                         N_("Invitation link to the patient portal (invitations and the "
                            "appendix)."),
                         "https://portal.example/i/AAAAAAAAAAAAAAAAAAAAAA"},
    [COMMS_TAG_TRD104] = {"TRD104", K(COMMS_PAYMENT_REQUEST), 0, 1,
                          N_("Link to pay the appointment; an invitation for a patient "
                             "without an account."),
                          "https://portal.example/i/AAAAAAAAAAAAAAAAAAAAAA"},
    [COMMS_TAG_TRD89] = {"TRD89", K(COMMS_RECALL), 0, 1,
                         N_("Link to book the recall's service; an invitation for a patient "
                            "without an account."),
                         "https://portal.example/i/AAAAAAAAAAAAAAAAAAAAAA"},
};

static const struct {
	const char *name, *label;
	int appendix;
} kinds[COMMS_NKINDS] = {
    [COMMS_INVITATION] = {"invitation", N_("Invitation to the patient portal"), 0},
    [COMMS_RESET] = {"reset", N_("Password reset"), 0},
    [COMMS_PASSWORD_CHANGED] = {"password_changed", N_("Password changed"), 0},
    [COMMS_REMINDER] = {"reminder", N_("Appointment reminder"), 1},
    [COMMS_CONFIRMATION] = {"confirmation", N_("Appointment confirmation"), 1},
    [COMMS_RECALL] = {"recall", N_("Recall"), 1},
    [COMMS_PAYMENT_REQUEST] = {"payment_request", N_("Request payment in advance"), 1},
};

const char *comms_kind_name(int kind)
{
	return kind >= 0 && kind < COMMS_NKINDS ? kinds[kind].name : NULL;
}

int comms_kind_parse(const char *s)
{
	for (int i = 0; s != NULL && i < COMMS_NKINDS; i++)
		if (strcmp(kinds[i].name, s) == 0)
			return i;
	return -1;
}

const char *comms_kind_label(int kind)
{
	return kind >= 0 && kind < COMMS_NKINDS ? kinds[kind].label : "";
}

int comms_kind_takes_appendix(int kind)
{
	return kind >= 0 && kind < COMMS_NKINDS && kinds[kind].appendix;
}

const struct comms_tag_def *comms_tag_table(int *n)
{
	if (n != NULL)
		*n = COMMS_NTAGS;
	return tags;
}

int comms_tag_find(const char *name, size_t len)
{
	for (int i = 0; i < COMMS_NTAGS; i++)
		if (strlen(tags[i].name) == len && memcmp(tags[i].name, name, len) == 0)
			return i;
	return -1;
}

/* --- errors ------------------------------------------------------------------ */

static const struct {
	int code;
	const char *msg; /* with_tag: "%s" then line, column; else line, column */
	int with_tag;
} errors[] = {
    {COMMS_TPL_UNKNOWN_TAG, N_("Unknown tag {{%s}} at line %d, column %d."), 1},
    {COMMS_TPL_UNBALANCED,
     N_("Unbalanced braces at line %d, column %d: write a tag as {{NAME}} on one line."), 0},
    {COMMS_TPL_NO_CONTEXT,
     N_("The tag {{%s}} at line %d, column %d cannot be used in this message."), 1},
    {COMMS_TPL_TOO_LONG, N_("The text is too long (line %d, column %d)."), 0},
    {COMMS_TPL_BAD_TEXT, N_("The text holds a character that cannot be sent (line %d, column %d)."),
     0},
    {COMMS_TPL_EMPTY, N_("Write the text of the message (line %d, column %d)."), 0},
};

const char *comms_tpl_strerror(int code)
{
	for (size_t i = 0; i < ARRAY_LEN(errors); i++)
		if (errors[i].code == code)
			return errors[i].msg;
	return "";
}

void comms_tpl_error_text(const struct comms_tpl_error *e, const char *lang, char *out, size_t size)
{
	for (size_t i = 0; i < ARRAY_LEN(errors); i++) {
		if (errors[i].code != e->code)
			continue;
		const char *fmt = i18n_tr(lang, errors[i].msg);
		if (errors[i].with_tag)
			snprintf(out, size, fmt, e->tag, e->line, e->col);
		else
			snprintf(out, size, fmt, e->line, e->col);
		return;
	}
	if (size > 0)
		out[0] = '\0';
}

/* --- parsing ------------------------------------------------------------------ */

/* Bytes of the UTF-8 sequence at s (1..4), or 0 when it is malformed. */
static int utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (n == 0 || (n == 2 && s[0] >= 0xe0))
		return 0;
	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

struct parser {
	const char *text;
	size_t len;
	struct comms_tpl_error *err;
	struct comms_piece *piece; /* NULL: check only */
	int n, cap;
	unsigned tags;
};

/* Fills err for the byte offset at (line and column computed from the text). */
static int fail(struct parser *p, int code, size_t at, const char *tag, size_t tag_len)
{
	if (p->err == NULL)
		return code;
	int line = 1, col = 1;
	for (size_t i = 0; i < at && i < p->len; i++) {
		unsigned char ch = (unsigned char)p->text[i];
		if (ch == '\n') {
			line++;
			col = 1;
		} else if ((ch & 0xc0) != 0x80) {
			col++;
		}
	}
	p->err->code = code;
	p->err->line = line;
	p->err->col = col;
	p->err->tag[0] = '\0';
	if (tag != NULL) {
		size_t n = tag_len < sizeof(p->err->tag) - 1 ? tag_len : sizeof(p->err->tag) - 1;
		while (n > 0 && (((unsigned char)tag[n] & 0xc0) == 0x80))
			n--; /* never cut a character in two */
		memcpy(p->err->tag, tag, n);
		p->err->tag[n] = '\0';
	}
	return code;
}

static void add_piece(struct parser *p, int tag, size_t off, size_t len)
{
	if (p->piece == NULL && tag < 0)
		return;
	if (tag >= 0)
		p->tags |= 1u << tag;
	if (p->piece == NULL)
		return;
	if (tag < 0 && p->n > 0 && p->piece[p->n - 1].tag < 0 &&
	    p->piece[p->n - 1].off + p->piece[p->n - 1].len == off) {
		p->piece[p->n - 1].len += (uint32_t)len; /* merge adjacent literal runs */
		return;
	}
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->piece = xrealloc(p->piece, (size_t)p->cap * sizeof(*p->piece));
	}
	p->piece[p->n++] = (struct comms_piece){(uint32_t)off, (uint32_t)len, tag};
}

static int name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* Where tag may be used: 0, or COMMS_TPL_NO_CONTEXT. */
static int in_context(int tag, int kind, enum comms_part part)
{
	const struct comms_tag_def *d = &tags[tag];
	if (part == COMMS_PART_APPENDIX)
		return d->appendix ? 0 : COMMS_TPL_NO_CONTEXT;
	if (part == COMMS_PART_SUBJECT && d->link)
		return COMMS_TPL_NO_CONTEXT;
	return d->kinds & K(kind) ? 0 : COMMS_TPL_NO_CONTEXT;
}

static int parse(struct parser *p, int kind, enum comms_part part)
{
	const char *t = p->text;
	size_t i = 0, lit = 0;
	int visible = 0;
	if (kind < 0 || kind >= COMMS_NKINDS)
		return fail(p, COMMS_TPL_NO_CONTEXT, 0, NULL, 0);
	if (p->len > COMMS_TPL_MAX)
		return fail(p, COMMS_TPL_TOO_LONG, COMMS_TPL_MAX, NULL, 0);
	while (i < p->len) {
		unsigned char ch = (unsigned char)t[i];
		if (ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t')
			return fail(p, COMMS_TPL_BAD_TEXT, i, NULL, 0);
		if (ch == 0x7f)
			return fail(p, COMMS_TPL_BAD_TEXT, i, NULL, 0);
		if (ch >= 0x80) {
			int n = utf8_len((const unsigned char *)t + i);
			if (n == 0 || i + (size_t)n > p->len)
				return fail(p, COMMS_TPL_BAD_TEXT, i, NULL, 0);
			i += (size_t)n;
			visible = 1;
			continue;
		}
		if (ch == '}' && t[i + 1] == '}')
			return fail(p, COMMS_TPL_UNBALANCED, i, NULL, 0);
		if (ch != '{' || t[i + 1] != '{') {
			visible |= ch != ' ' && ch != '\n' && ch != '\r' && ch != '\t';
			i++;
			continue;
		}
		/* "{{" NAME "}}", spaces allowed inside the braces, all on one line */
		size_t open = i, s = i + 2;
		while (s < p->len && t[s] == ' ')
			s++;
		size_t e = s;
		while (e < p->len && name_char(t[e]))
			e++;
		size_t c = e;
		while (c < p->len && t[c] == ' ')
			c++;
		if (c + 1 >= p->len || t[c] != '}' || t[c + 1] != '}') {
			/* {{NAME followed by something else: a name with odd characters is named */
			size_t end = c;
			while (end < p->len && t[end] != '\n' &&
			       !(t[end] == '}' && t[end + 1] == '}') &&
			       !(t[end] == '{' && end > open + 1))
				end++;
			if (end + 1 < p->len && t[end] == '}' && t[end + 1] == '}' && end > s)
				return fail(p, COMMS_TPL_UNKNOWN_TAG, open, t + s, end - s);
			return fail(p, COMMS_TPL_UNBALANCED, open, NULL, 0);
		}
		if (e == s)
			return fail(p, COMMS_TPL_UNKNOWN_TAG, open, "", 0);
		int tag = comms_tag_find(t + s, e - s);
		if (tag < 0)
			return fail(p, COMMS_TPL_UNKNOWN_TAG, open, t + s, e - s);
		int rc = in_context(tag, kind, part);
		if (rc != 0)
			return fail(p, rc, open, t + s, e - s);
		add_piece(p, -1, lit, open - lit);
		add_piece(p, tag, 0, 0);
		visible = 1;
		i = lit = c + 2;
	}
	add_piece(p, -1, lit, p->len - lit);
	if (!visible)
		return fail(p, COMMS_TPL_EMPTY, 0, NULL, 0);
	return 0;
}

int comms_tpl_parse(const char *text, int kind, enum comms_part part, struct comms_tpl *out,
                    struct comms_tpl_error *err)
{
	memset(out, 0, sizeof(*out));
	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (text == NULL)
		text = "";
	struct parser p = {.text = text, .len = strlen(text), .err = err};
	p.cap = 16;
	p.piece = xmalloc((size_t)p.cap * sizeof(*p.piece));
	int rc = parse(&p, kind, part);
	if (rc != 0) {
		free(p.piece);
		return rc;
	}
	out->text = xstrdup(text);
	out->piece = p.piece;
	out->n = p.n;
	out->tags = p.tags;
	return 0;
}

int comms_tpl_check(const char *text, int kind, enum comms_part part, struct comms_tpl_error *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
	struct parser p = {.text = text != NULL ? text : "", .err = err};
	p.len = strlen(p.text);
	return parse(&p, kind, part);
}

void comms_tpl_free(struct comms_tpl *t)
{
	if (t == NULL)
		return;
	free(t->text);
	free(t->piece);
	memset(t, 0, sizeof(*t));
}

/* --- rendering ---------------------------------------------------------------- */

/* Makes room for n more bytes (and the NUL) in one step, within b's cap. */
static int reserve(struct buf *b, size_t n)
{
	if (b->max == 0)
		b->max = BUF_DEFAULT_MAX;
	if (n > b->max - b->len) {
		b->overflow = 1;
		return -1;
	}
	if (b->len + n + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
	return 0;
}

int comms_tpl_render(const struct comms_tpl *t, const struct comms_value *v, struct buf *out)
{
	const struct comms_piece *pc = t->piece;
	size_t total = 0;
	for (int i = 0; i < t->n; i++)
		total += pc[i].tag < 0 ? pc[i].len : v[pc[i].tag].s != NULL ? v[pc[i].tag].n : 0;
	if (reserve(out, total) != 0)
		return -1;
	char *w = out->data + out->len;
	for (int i = 0; i < t->n; i++) {
		const char *s;
		size_t n;
		if (pc[i].tag < 0) {
			s = t->text + pc[i].off;
			n = pc[i].len;
		} else {
			s = v[pc[i].tag].s;
			n = s != NULL ? v[pc[i].tag].n : 0;
		}
		if (n > 0)
			memcpy(w, s, n);
		w += n;
	}
	out->len += total;
	out->data[out->len] = '\0';
	return 0;
}
