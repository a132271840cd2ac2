/*
 * tmpl: a small Mustache for the HTML pages, escaped by default.
 *
 * Every embedded .html under web/templates/ is parsed once into a tree (at the first
 * render or at tmpl_check_all, under pthread_once) and the trees are shared,
 * read-only, by all the pool threads. Text nodes point into the embedded data;
 * names and msgids live in one process-lifetime arena.
 *
 * Rendering walks the tree with a stack of views (the current section's view on
 * top); a name is looked up in each view of that stack and in the parents of
 * each, nearest first. A value is HTML-escaped unless the template uses the
 * triple braces, which are only for HTML that the code built itself: this
 * module must never be the place where request input reaches a page raw.
 */
#include "http/tmpl.h"
#include "lib/arena.h"
#include "lib/embed.h"
#include "lib/i18n.h"
#include "lib/log.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define TMPL_DIR     "web/templates/"
#define MAX_NESTING  32 /* sections inside sections in one template */
#define MAX_PARTIALS 16 /* partials inside partials while rendering */
#define ERR_LEN      256

/* --- views --------------------------------------------------------------- */

enum entry_kind { E_VALUE, E_CHILD, E_LIST };

struct entry {
	const char *key;
	size_t klen;
	enum entry_kind kind;
	const char *value;         /* E_VALUE */
	struct view *child;        /* E_CHILD */
	struct view *first, *last; /* E_LIST items, linked by next_item */
	struct entry *next;        /* insertion order */
};

struct view {
	struct arena *a;
	const struct view *parent;
	struct entry *first, *last;
	struct view *next_item; /* next item when this view is in a list */
};

struct view *view_new(struct arena *a)
{
	struct view *v = arena_alloc(a, sizeof(*v));
	v->a = a;
	return v;
}

static struct entry *find_entry(const struct view *v, const char *key, size_t klen)
{
	if (v == NULL)
		return NULL; /* tmpl_render with no view: every name is missing */
	for (struct entry *e = v->first; e; e = e->next)
		if (e->klen == klen && memcmp(e->key, key, klen) == 0)
			return e;
	return NULL;
}

/* The entry for key in v, created (as an empty value) when missing. */
static struct entry *entry_for(struct view *v, const char *key)
{
	size_t klen = strlen(key);
	struct entry *e = find_entry(v, key, klen);
	if (e != NULL)
		return e;
	e = arena_alloc(v->a, sizeof(*e));
	e->key = arena_strndup(v->a, key, klen);
	e->klen = klen;
	e->kind = E_VALUE;
	e->value = "";
	if (v->last)
		v->last->next = e;
	else
		v->first = e;
	v->last = e;
	return e;
}

static void set_value(struct view *v, const char *key, const char *owned)
{
	struct entry *e = entry_for(v, key);
	e->kind = E_VALUE;
	e->value = owned;
	e->child = e->first = e->last = NULL;
}

void view_set(struct view *v, const char *key, const char *value)
{
	set_value(v, key, value ? arena_strdup(v->a, value) : "");
}

void view_setf(struct view *v, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = arena_vprintf(v->a, fmt, ap);
	va_end(ap);
	set_value(v, key, s);
}

void view_set_int(struct view *v, const char *key, int64_t n)
{
	set_value(v, key, arena_printf(v->a, "%" PRId64, n));
}

void view_set_bool(struct view *v, const char *key, int b)
{
	set_value(v, key, b ? "1" : "");
}

struct view *view_child(struct view *v, const char *key)
{
	struct entry *e = entry_for(v, key);
	if (e->kind != E_CHILD) {
		e->kind = E_CHILD;
		e->value = NULL;
		e->first = e->last = NULL;
		e->child = view_new(v->a);
		e->child->parent = v;
	}
	return e->child;
}

struct view *view_append(struct view *v, const char *key)
{
	struct entry *e = entry_for(v, key);
	if (e->kind != E_LIST) {
		e->kind = E_LIST;
		e->value = NULL;
		e->child = e->first = e->last = NULL;
	}
	struct view *item = view_new(v->a);
	item->parent = v;
	if (e->last)
		e->last->next_item = item;
	else
		e->first = item;
	e->last = item;
	return item;
}

/* The stack of views while rendering: the innermost section's view on top. */
struct frame {
	const struct view *v;
	const struct frame *up;
};

/* Resolves a possibly dotted name: the first part through the frames and the parents of
 * their views, the rest strictly inside the children found. */
static const struct entry *resolve(const struct frame *f, const char *name, size_t len)
{
	const char *dot = memchr(name, '.', len);
	size_t seg = dot ? (size_t)(dot - name) : len;
	const struct entry *e = NULL;
	/* The render stack first (Mustache's context stack), then the parents of each view
	 * on it (a child view rendered on its own still sees what its parents hold). */
	for (const struct frame *g = f; g && e == NULL; g = g->up)
		e = find_entry(g->v, name, seg);
	for (; f && e == NULL; f = f->up)
		for (const struct view *v = f->v ? f->v->parent : NULL; v && e == NULL;
		     v = v->parent)
			e = find_entry(v, name, seg);
	while (e != NULL && dot != NULL) {
		if (e->kind != E_CHILD)
			return NULL;
		name = dot + 1;
		len -= seg + 1;
		dot = memchr(name, '.', len);
		seg = dot ? (size_t)(dot - name) : len;
		e = find_entry(e->child, name, seg);
	}
	return e;
}

const char *view_get(const struct view *v, const char *key)
{
	struct frame f = {v, NULL};
	const struct entry *e = resolve(&f, key, strlen(key));
	return e && e->kind == E_VALUE ? e->value : NULL;
}

/* A section renders when this is true; an inverted section when it is false. */
static int truthy(const struct entry *e)
{
	if (e == NULL)
		return 0;
	switch (e->kind) {
	case E_VALUE:
		return e->value[0] != '\0' && strcmp(e->value, "0") != 0;
	case E_LIST:
		return e->first != NULL;
	case E_CHILD:
		return 1;
	}
	return 0;
}

/* --- parsing ------------------------------------------------------------- */

enum node_kind { K_TEXT, K_VAR, K_RAW, K_SECTION, K_INVERTED, K_PARTIAL, K_TR };

struct tmpl;

struct node {
	enum node_kind kind;
	int line;
	const char *s; /* text, name, partial name or msgid */
	size_t len;
	struct node *body; /* sections */
	struct node *next;
	const struct tmpl *partial; /* K_PARTIAL, resolved after every template is parsed */
};

struct tmpl {
	const char *name; /* under web/templates/, e.g. "staff/patients.html" */
	struct node *root;
	int ok; /* parsed, and every partial it names exists */
};

struct parser {
	struct arena *a;
	const char *file; /* for messages */
	const char *src, *pos;
	int line;
	const char *line_pos; /* newlines counted up to here */
	char *err;
	size_t errlen;
};

static int perr(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(struct parser *p, int line, const char *fmt, ...)
{
	int n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, line);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int line_at(struct parser *p, const char *at)
{
	for (; p->line_pos < at; p->line_pos++)
		if (*p->line_pos == '\n')
			p->line++;
	return p->line;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.' || c == '/';
}

/* Trims s[0..*len) in place; 0 when what is left is a valid name. */
static int trim_name(const char **s, size_t *len)
{
	while (*len && is_space(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && is_space((*s)[*len - 1]))
		(*len)--;
	if (*len == 0 || (*s)[0] == '.' || (*s)[*len - 1] == '.')
		return -1;
	for (size_t i = 0; i < *len; i++)
		if (!name_char((*s)[i]) || ((*s)[i] == '.' && (*s)[i + 1] == '.'))
			return -1;
	return 0;
}

/* The msgid of {{_ text}}: trimmed, runs of white space (a wrapped line) made one space. */
static const char *msgid(struct arena *a, const char *s, size_t len, size_t *out_len)
{
	char *m = arena_alloc(a, len + 1);
	size_t n = 0;
	int space = 0;
	for (size_t i = 0; i < len; i++) {
		if (is_space(s[i])) {
			space = n > 0;
			continue;
		}
		if (space)
			m[n++] = ' ';
		space = 0;
		m[n++] = s[i];
	}
	m[n] = '\0';
	*out_len = n;
	return m;
}

static struct node *add(struct parser *p, struct node ***tail, enum node_kind kind, int line,
                        const char *s, size_t len)
{
	struct node *n = arena_alloc(p->a, sizeof(*n));
	n->kind = kind;
	n->line = line;
	n->s = s;
	n->len = len;
	**tail = n;
	*tail = &n->next;
	return n;
}

static const char *kind_sigil(enum node_kind k)
{
	return k == K_INVERTED ? "^" : "#";
}

/* Parses src into *out. On error: -1 and "file:line: message" in p->err. */
static int parse(struct parser *p, struct node **out)
{
	struct {
		struct node *sec;
		struct node **tail; /* where the siblings after the section go */
	} stack[MAX_NESTING];
	int depth = 0;
	struct node *root = NULL, **tail = &root;
	const char *s = p->src;

	while (*s) {
		const char *open = strstr(s, "{{");
		if (open == NULL) {
			add(p, &tail, K_TEXT, line_at(p, s), s, strlen(s));
			break;
		}
		if (open > s)
			add(p, &tail, K_TEXT, line_at(p, s), s, (size_t)(open - s));
		int line = line_at(p, open);
		const char *in, *close;
		if (open[2] == '{') {
			in = open + 3;
			close = strstr(in, "}}}");
			if (close == NULL)
				return perr(p, line, "unclosed tag {{{ (no }}})");
			s = close + 3;
			size_t len = (size_t)(close - in);
			if (trim_name(&in, &len) < 0)
				return perr(p, line, "bad name in {{{%.*s}}}",
				            (int)(close - open - 3), open + 3);
			add(p, &tail, K_RAW, line, in, len);
			continue;
		}
		in = open + 2;
		close = strstr(in, "}}");
		if (close == NULL)
			return perr(p, line, "unclosed tag {{ (no }})");
		s = close + 2;
		size_t len = (size_t)(close - in);
		char sigil = len ? in[0] : '\0';
		if (sigil == '!')
			continue; /* comment */
		if (sigil == '_' && len > 1 && is_space(in[1])) {
			size_t mlen;
			const char *m = msgid(p->a, in + 1, len - 1, &mlen);
			if (mlen == 0)
				return perr(p, line, "empty {{_ }}");
			if (strstr(m, "{{"))
				return perr(p, line, "unclosed tag before {{_ %s}}", m);
			add(p, &tail, K_TR, line, m, mlen);
			continue;
		}
		int sig =
		    sigil == '#' || sigil == '^' || sigil == '/' || sigil == '>' || sigil == '&';
		const char *name = sig ? in + 1 : in;
		size_t nlen = sig ? len - 1 : len;
		if (trim_name(&name, &nlen) < 0)
			return perr(p, line, "bad tag {{%.*s}}", (int)(len > 60 ? 60 : len), in);
		const char *nm = arena_strndup(p->a, name, nlen);
		switch (sigil) {
		case '#':
		case '^': {
			if (depth == MAX_NESTING)
				return perr(p, line, "sections nested more than %d deep",
				            MAX_NESTING);
			struct node *n =
			    add(p, &tail, sigil == '#' ? K_SECTION : K_INVERTED, line, nm, nlen);
			stack[depth].sec = n;
			stack[depth].tail = tail;
			depth++;
			tail = &n->body;
			break;
		}
		case '/': {
			if (depth == 0)
				return perr(p, line, "{{/%s}} closes no open section", nm);
			struct node *n = stack[depth - 1].sec;
			if (n->len != nlen || memcmp(n->s, nm, nlen) != 0)
				return perr(p, line, "{{/%s}} closes {{%s%s}} opened at line %d",
				            nm, kind_sigil(n->kind), n->s, n->line);
			depth--;
			tail = stack[depth].tail;
			break;
		}
		case '>':
			add(p, &tail, K_PARTIAL, line, nm, nlen);
			break;
		case '&':
			add(p, &tail, K_RAW, line, nm, nlen);
			break;
		default:
			add(p, &tail, K_VAR, line, nm, nlen);
			break;
		}
	}
	if (depth > 0) {
		struct node *n = stack[depth - 1].sec;
		return perr(p, n->line, "{{%s%s}} is never closed", kind_sigil(n->kind), n->s);
	}
	*out = root;
	return 0;
}

/* --- the parsed set -------------------------------------------------------- */

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static struct arena *tmpl_arena; /* lives as long as the process */
static struct tmpl *tmpls;
static size_t ntmpls;
static int load_errors;

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static const struct tmpl *find_tmpl(const char *name, size_t len)
{
	int ext = len >= 5 && memcmp(name + len - 5, ".html", 5) == 0;
	for (size_t i = 0; i < ntmpls; i++) {
		const char *t = tmpls[i].name;
		size_t tl = strlen(t);
		if (ext ? (tl == len && memcmp(t, name, len) == 0)
		        : (tl == len + 5 && memcmp(t, name, len) == 0 && has_suffix(t, ".html")))
			return &tmpls[i];
	}
	return NULL;
}

/* Points every {{>x}} at its template; -1 and a message on the first unknown one. */
static int resolve_partials(struct parser *p, struct node *n)
{
	for (; n; n = n->next) {
		if (n->kind == K_PARTIAL) {
			n->partial = find_tmpl(n->s, n->len);
			if (n->partial == NULL)
				return perr(p, n->line, "unknown partial {{>%s}}", n->s);
		}
		if (n->body && resolve_partials(p, n->body) < 0)
			return -1;
	}
	return 0;
}

static void load_all(void)
{
	size_t dir = strlen(TMPL_DIR);
	tmpl_arena = arena_create();
	for (size_t i = 0; i < embed_count; i++)
		if (strncmp(embed_files[i].path, TMPL_DIR, dir) == 0 &&
		    has_suffix(embed_files[i].path, ".html"))
			ntmpls++;
	tmpls = arena_alloc(tmpl_arena, (ntmpls ? ntmpls : 1) * sizeof(*tmpls));
	size_t k = 0;
	char err[ERR_LEN];
	for (size_t i = 0; i < embed_count; i++) {
		const struct embed_file *f = &embed_files[i];
		if (strncmp(f->path, TMPL_DIR, dir) != 0 || !has_suffix(f->path, ".html"))
			continue;
		struct parser p = {tmpl_arena, f->path, f->data, f->data,
		                   1,          f->data, err,     sizeof(err)};
		tmpls[k].name = f->path + dir;
		if (parse(&p, &tmpls[k].root) < 0) {
			log_error("template %s", err);
			load_errors++;
		} else {
			tmpls[k].ok = 1;
		}
		k++;
	}
	/* Partials only once every template exists. */
	for (size_t i = 0; i < ntmpls; i++) {
		char path[ERR_LEN];
		snprintf(path, sizeof(path), "%s%s", TMPL_DIR, tmpls[i].name);
		struct parser p = {tmpl_arena, path, NULL, NULL, 0, NULL, err, sizeof(err)};
		if (tmpls[i].ok && resolve_partials(&p, tmpls[i].root) < 0) {
			log_error("template %s", err);
			tmpls[i].ok = 0;
			load_errors++;
		}
	}
}

int tmpl_check_all(void)
{
	pthread_once(&load_once, load_all);
	return load_errors ? -1 : 0;
}

/* --- rendering ------------------------------------------------------------- */

struct render {
	struct buf *out;
	const char *lang;
	int depth; /* partials */
};

static int render_nodes(struct render *r, const struct node *n, const struct frame *f)
{
	for (; n; n = n->next) {
		const struct entry *e;
		switch (n->kind) {
		case K_TEXT:
			if (buf_append(r->out, n->s, n->len) < 0)
				return -1;
			break;
		case K_VAR:
		case K_RAW:
			e = resolve(f, n->s, n->len);
			if (e && e->kind == E_VALUE &&
			    (n->kind == K_VAR ? buf_html(r->out, e->value)
			                      : buf_puts(r->out, e->value)) < 0)
				return -1;
			break;
		case K_SECTION:
			e = resolve(f, n->s, n->len);
			if (!truthy(e))
				break;
			if (e->kind == E_VALUE) {
				if (render_nodes(r, n->body, f) < 0)
					return -1;
			} else if (e->kind == E_CHILD) {
				struct frame in = {e->child, f};
				if (render_nodes(r, n->body, &in) < 0)
					return -1;
			} else {
				for (const struct view *item = e->first; item;
				     item = item->next_item) {
					struct frame in = {item, f};
					if (render_nodes(r, n->body, &in) < 0)
						return -1;
				}
			}
			break;
		case K_INVERTED:
			if (!truthy(resolve(f, n->s, n->len)) && render_nodes(r, n->body, f) < 0)
				return -1;
			break;
		case K_PARTIAL:
			if (n->partial == NULL || !n->partial->ok) {
				log_error("template: partial %s is unknown or broken", n->s);
				return -1;
			}
			if (r->depth >= MAX_PARTIALS) {
				log_error("template: partials nested more than %d deep at %s",
				          MAX_PARTIALS, n->s);
				return -1;
			}
			r->depth++;
			if (render_nodes(r, n->partial->root, f) < 0)
				return -1;
			r->depth--;
			break;
		case K_TR:
			if (buf_html(r->out, i18n_tr(r->lang, n->s)) < 0)
				return -1;
			break;
		}
	}
	return 0;
}

int tmpl_render(struct buf *out, const char *name, const struct view *v, const char *lang)
{
	pthread_once(&load_once, load_all);
	const struct tmpl *t = name ? find_tmpl(name, strlen(name)) : NULL;
	if (t == NULL || !t->ok) {
		log_error("template %s: %s", name ? name : "(null)",
		          t ? "does not parse" : "unknown");
		return -1;
	}
	struct render r = {out, lang, 0};
	struct frame f = {v, NULL};
	return render_nodes(&r, t->root, &f);
}

/*
 * Test hooks (declared by tests/unit/http/tmpl.c, not part of the module's API):
 * parse a template given as a string, with partials taken from the embedded set.
 */
int tmpl_check_string(const char *name, const char *src, char *err, size_t errlen);
int tmpl_render_string(struct buf *out, const char *src, const struct view *v, const char *lang);

static int parse_string(struct arena *a, const char *name, const char *src, struct node **root,
                        char *err, size_t errlen)
{
	pthread_once(&load_once, load_all);
	struct parser p = {a, name, src, src, 1, src, err, errlen};
	if (parse(&p, root) < 0 || resolve_partials(&p, *root) < 0)
		return -1;
	return 0;
}

int tmpl_check_string(const char *name, const char *src, char *err, size_t errlen)
{
	struct arena *a = arena_create();
	struct node *root = NULL;
	int rc = parse_string(a, name, src, &root, err, errlen);
	arena_free(a);
	return rc;
}

int tmpl_render_string(struct buf *out, const char *src, const struct view *v, const char *lang)
{
	int rc = -1;
	char err[ERR_LEN];
	struct arena *a = arena_create();
	struct node *root = NULL;
	if (parse_string(a, "(string)", src, &root, err, sizeof(err)) < 0) {
		log_error("template %s", err);
		goto out;
	}
	struct render r = {out, lang, 0};
	struct frame f = {v, NULL};
	rc = render_nodes(&r, root, &f);
out:
	arena_free(a);
	return rc;
}
