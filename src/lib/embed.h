/*
 * embed: files built into the binary (migrations, HTML templates, CSS),
 * generated at build time by tools/embed.c into build/embedded.c.
 */
#ifndef INVITO_EMBED_H
#define INVITO_EMBED_H

#include <stddef.h>

struct embed_file {
	const char *path; /* relative to the repository, e.g. "web/templates/layout.html" */
	const char *data; /* NUL-terminated */
	size_t len;
};

extern const struct embed_file embed_files[];
extern const size_t embed_count;

/* NULL when there is no such file. */
const struct embed_file *embed_find(const char *path);

#endif
