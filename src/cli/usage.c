/*
 * usage: the one way a command reports a usage error, so every command's
 * message has the same shape ("invito CMD: ...") and exit code (2).
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "invito %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 2;
}
