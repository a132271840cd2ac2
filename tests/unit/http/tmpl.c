/*
 * Tests for http/tmpl.c: escaping, sections, lookups through parent views,
 * partials, syntax errors with their line, and every shipped template.
 */
#include "http/tmpl.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/i18n.h"

#include <criterion/criterion.h>
#include <string.h>

/* Test hooks of tmpl.c (not in tmpl.h: pages only render embedded templates). */
int tmpl_check_string(const char *name, const char *src, char *err, size_t errlen);
int tmpl_render_string(struct buf *out, const char *src, const struct view *v, const char *lang);

static struct arena *a;
static struct buf out;

static void setup(void)
{
	a = arena_create();
	buf_init(&out, 0);
}

static void teardown(void)
{
	buf_free(&out);
	arena_free(a);
}

TestSuite(tmpl, .init = setup, .fini = teardown);

/* Renders src with v and returns the text (valid until the next call). */
static const char *render(const char *src, const struct view *v)
{
	buf_reset(&out);
	cr_assert_eq(tmpl_render_string(&out, src, v, "en"), 0, "render failed: %s", src);
	return out.data ? out.data : "";
}

Test(tmpl, escapes_values)
{
	struct view *v = view_new(a);
	view_set(v, "x", "<b>\"Tom\" & 'Jerry'</b>");
	cr_expect_str_eq(render("[{{x}}]", v),
	                 "[&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;]");
	cr_expect_str_eq(render("[{{ x }}]", v),
	                 "[&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;]");
}

Test(tmpl, raw_values)
{
	struct view *v = view_new(a);
	view_set(v, "x", "<b>bold</b> & more");
	cr_expect_str_eq(render("{{{x}}}", v), "<b>bold</b> & more");
	cr_expect_str_eq(render("{{& x}}", v), "<b>bold</b> & more");
}

Test(tmpl, missing_and_typed_values)
{
	struct view *v = view_new(a);
	view_set(v, "null", NULL);
	view_set_int(v, "n", -42);
	view_setf(v, "f", "%s-%d", "a", 7);
	view_set_bool(v, "yes", 1);
	view_set_bool(v, "no", 0);
	cr_expect_str_eq(render("[{{missing}}][{{null}}][{{n}}][{{f}}][{{yes}}][{{no}}]", v),
	                 "[][][-42][a-7][1][]");
	cr_expect_str_eq(view_get(v, "n"), "-42");
	cr_expect_null(view_get(v, "missing"));
}

Test(tmpl, set_replaces_and_keeps_order)
{
	struct view *v = view_new(a);
	view_set(v, "x", "one");
	view_set(v, "x", "two");
	cr_expect_str_eq(render("{{x}}", v), "two");
}

Test(tmpl, comments_vanish)
{
	struct view *v = view_new(a);
	cr_expect_str_eq(render("a{{! a comment }}b", v), "ab");
}

Test(tmpl, section_over_list)
{
	struct view *v = view_new(a);
	const char *names[] = {"Anna", "Bruno", "<Carla>"};
	for (int i = 0; i < 3; i++) {
		struct view *item = view_append(v, "people");
		view_set(item, "name", names[i]);
		view_set_int(item, "i", i);
	}
	cr_expect_str_eq(render("{{#people}}<li>{{i}}:{{name}}</li>{{/people}}", v),
	                 "<li>0:Anna</li><li>1:Bruno</li><li>2:&lt;Carla&gt;</li>");
	cr_expect_str_eq(render("{{^people}}none{{/people}}", v), "");
}

Test(tmpl, empty_list_and_inverted)
{
	struct view *v = view_new(a);
	cr_expect_str_eq(render("[{{#people}}x{{/people}}][{{^people}}none{{/people}}]", v),
	                 "[][none]");
}

Test(tmpl, section_over_child)
{
	struct view *v = view_new(a);
	struct view *p = view_child(v, "patient");
	view_set(p, "name", "Nicolò");
	cr_expect_eq(view_child(v, "patient"), p, "view_child returns the same child");
	cr_expect_str_eq(
	    render("{{#patient}}<p>{{name}}</p>{{/patient}}{{^patient}}no{{/patient}}", v),
	    "<p>Nicolò</p>");
	cr_expect_str_eq(render("{{patient.name}}", v), "Nicolò");
	cr_expect_str_eq(view_get(v, "patient.name"), "Nicolò");
	cr_expect_str_eq(render("[{{patient.missing}}][{{nothing.name}}]", v), "[][]");
}

Test(tmpl, section_over_values)
{
	struct view *v = view_new(a);
	view_set(v, "full", "x");
	view_set(v, "empty", "");
	view_set(v, "zero", "0");
	view_set_bool(v, "t", 1);
	view_set_bool(v, "f", 0);
	const char *src = "{{#full}}A{{/full}}{{#empty}}B{{/empty}}{{#zero}}C{{/zero}}"
	                  "{{#t}}D{{/t}}{{#f}}E{{/f}}{{#missing}}F{{/missing}}|"
	                  "{{^full}}a{{/full}}{{^empty}}b{{/empty}}{{^zero}}c{{/zero}}"
	                  "{{^t}}d{{/t}}{{^f}}e{{/f}}{{^missing}}f{{/missing}}";
	cr_expect_str_eq(render(src, v), "AD|bcef");
	/* Inside a value section the view stays the same. */
	cr_expect_str_eq(render("{{#full}}{{full}}{{/full}}", v), "x");
}

Test(tmpl, nested_sections)
{
	struct view *v = view_new(a);
	for (int i = 0; i < 2; i++) {
		struct view *g = view_append(v, "groups");
		view_setf(g, "g", "G%d", i);
		for (int k = 0; k < 2; k++)
			view_setf(view_append(g, "items"), "x", "%d%d", i, k);
	}
	cr_expect_str_eq(render("{{#groups}}{{g}}({{#items}}{{x}}{{g}},{{/items}}){{/groups}}", v),
	                 "G0(00G0,01G0,)G1(10G1,11G1,)");
}

Test(tmpl, parent_lookup)
{
	struct view *v = view_new(a);
	view_set(v, "csrf", "tok");
	view_set(v, "name", "outer");
	struct view *row = view_append(v, "rows");
	view_set(row, "name", "inner");
	struct view *c = view_child(row, "more");
	view_set(c, "deep", "d");
	cr_expect_str_eq(
	    render(
	        "{{#rows}}{{name}}/{{csrf}}{{#more}}/{{deep}}/{{name}}/{{csrf}}{{/more}}{{/rows}}",
	        v),
	    "inner/tok/d/inner/tok");
	/* A child rendered on its own still sees its parents. */
	cr_expect_str_eq(render("{{deep}} {{name}} {{csrf}}", c), "d inner tok");
	cr_expect_str_eq(view_get(c, "csrf"), "tok");
	/* Dotted names resolve their first part through the parents. */
	cr_expect_str_eq(render("{{more.deep}}", c), "d");
	cr_expect_str_eq(render("{{#rows}}{{more.deep}}{{/rows}}", v), "d");
}

Test(tmpl, section_looks_through_the_render_stack)
{
	/* {{#items}} lives on the root, but inside {{#patient}} the patient's keys win. */
	struct view *v = view_new(a);
	view_set(v, "label", "root");
	view_append(v, "items");
	struct view *p = view_child(v, "patient");
	view_set(p, "label", "patient");
	cr_expect_str_eq(render("{{#patient}}{{#items}}{{label}}{{/items}}{{/patient}}", v),
	                 "patient");
}

Test(tmpl, translations_are_escaped)
{
	i18n_init(INVITO_LOCALEDIR);
	struct view *v = view_new(a);
	buf_reset(&out);
	cr_assert_eq(
	    tmpl_render_string(&out, "<b>{{_ Sign in}}</b>|{{_  Sign\n     in  }}", v, "it"), 0);
	cr_expect_str_eq(out.data, "<b>Accedi</b>|Accedi");
	buf_reset(&out);
	cr_assert_eq(tmpl_render_string(&out, "{{_ Sign in}}", v, "en"), 0);
	cr_expect_str_eq(out.data, "Sign in");
	/* Unknown msgids come back as they are, escaped like any text. */
	buf_reset(&out);
	cr_assert_eq(tmpl_render_string(&out, "{{_ Not <a> msgid & such}}", v, "it"), 0);
	cr_expect_str_eq(out.data, "Not &lt;a&gt; msgid &amp; such");
	/* {{_x}} without a space is a plain name. */
	view_set(v, "_x", "var");
	cr_expect_str_eq(render("{{_x}}", v), "var");
}

Test(tmpl, partials)
{
	struct view *v = view_new(a);
	view_set(v, "status", "404");
	view_set(v, "title", "Not <here>");
	const char *s = render("<div>{{>error.html}}</div>", v);
	cr_expect(strstr(s, "<div><section") != NULL, "%s", s);
	cr_expect(strstr(s, "Not &lt;here&gt;") != NULL, "%s", s);
	cr_expect(strstr(s, "404") != NULL, "%s", s);
	/* The .html may be left out. */
	cr_expect_str_eq(render("{{>error}}", v), render("{{>error.html}}", v));
}

Test(tmpl, render_embedded)
{
	struct view *v = view_new(a);
	view_set(v, "status", "404");
	view_set(v, "title", "Page not found");
	view_set(v, "message", "No such <page>");
	cr_assert_eq(tmpl_render(&out, "error.html", v, "it"), 0);
	cr_expect(strstr(out.data, "No such &lt;page&gt;") != NULL, "%s", out.data);
	cr_expect_eq(tmpl_render(&out, "no/such.html", v, "it"), -1);
	/* No view at all: every name is missing, nothing crashes. */
	buf_reset(&out);
	cr_expect_eq(tmpl_render(&out, "error.html", NULL, "en"), 0);
	cr_expect(strstr(out.data, "Go to the home page") != NULL);
}

Test(tmpl, layout_renders)
{
	i18n_init(INVITO_LOCALEDIR);
	struct view *v = view_new(a);
	view_set(v, "lang", "it");
	view_set(v, "csrf", "c\"srf");
	view_set(v, "title", "Pazienti");
	view_set(v, "content", "<h1>Hello</h1>");
	view_set_bool(v, "staff_signed_in", 1);
	view_set(v, "staff_name", "Anna <Rossi>");
	view_set(v, "back", "/staff/patients?q=a&b");
	cr_assert_eq(tmpl_render(&out, "layout.html", v, "it"), 0);
	const char *s = out.data;
	cr_expect(strstr(s, "<html lang=\"it\">") != NULL);
	cr_expect(strstr(s, "<main id=\"main\"") != NULL);
	cr_expect(strstr(s, "<h1>Hello</h1>") != NULL);
	cr_expect(strstr(s, "Anna &lt;Rossi&gt;") != NULL);
	cr_expect(strstr(s, "value=\"c&quot;srf\"") != NULL);
	cr_expect(strstr(s, "value=\"/staff/patients?q=a&amp;b\"") != NULL);
	cr_expect(strstr(s, "action=\"/staff/logout\"") != NULL);
	cr_expect(strstr(s, "Vai al contenuto principale") != NULL);
	cr_expect(strstr(s, "<script") == NULL && strstr(s, "style=") == NULL);

	buf_reset(&out);
	view_set_bool(v, "staff_signed_in", 0);
	cr_assert_eq(tmpl_render(&out, "layout.html", v, "en"), 0);
	cr_expect(strstr(out.data, "/staff/logout") == NULL);
	cr_expect(strstr(out.data, "Skip to main content") != NULL);
}

/* Expects src to fail with a message that contains want. */
static void expect_error(const char *src, const char *want)
{
	char err[256] = "";
	cr_expect_eq(tmpl_check_string("t.html", src, err, sizeof(err)), -1, "accepted: %s", src);
	cr_expect(strstr(err, want) != NULL, "error for %s is \"%s\", wanted \"%s\"", src, err,
	          want);
}

Test(tmpl, syntax_errors_name_the_line)
{
	expect_error("a\nb\n{{#x}}\nc", "t.html:3: {{#x}} is never closed");
	expect_error("{{#x}}\n{{^y}}\n{{/x}}", "t.html:3: {{/x}} closes {{^y}} opened at line 2");
	expect_error("\n\n\n{{/x}}", "t.html:4: {{/x}} closes no open section");
	expect_error("ok\n{{name", "t.html:2: unclosed tag");
	expect_error("ok\n\n{{{name}}", "t.html:3: unclosed tag {{{");
	expect_error("{{#a}\n{{/a}}", "t.html:1: bad tag");
	expect_error("\n{{}}", "t.html:2: bad tag");
	expect_error("{{a b}}", "bad tag");
	expect_error("{{.x}}", "bad tag");
	expect_error("{{_   }}", "t.html:1: empty {{_ }}");
	expect_error("x\n{{>no/such/partial}}", "t.html:2: unknown partial {{>no/such/partial}}");

	char err[256];
	cr_expect_eq(
	    tmpl_check_string("t.html", "{{#a}}{{b.c}}{{/a}}{{>layout}}", err, sizeof(err)), 0);
}

Test(tmpl, every_shipped_template_parses)
{
	cr_expect_eq(tmpl_check_all(), 0, "see the log for file:line");
}
