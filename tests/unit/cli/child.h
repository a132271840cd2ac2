/*
 * child: runs one `invito` subcommand in a child process on the store
 * fixture's database (fx_url), as the binary would: settings from INVITO_*
 * variables only, the `log` transport, warnings and worse on stderr, stdout
 * discarded. Test code only; include after ../store/fixture.h.
 */
#ifndef INVITO_TEST_CLI_CHILD_H
#define INVITO_TEST_CLI_CHILD_H

#include "cli/cli.h"
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

typedef int (*cli_child_fn)(int argc, char **argv, struct config *cfg);

/* Starts cmd with argv (NULL-terminated, argv[0] the command's name) and the extra
 * variable name=value when name is not NULL; returns the child's pid. */
static inline pid_t cli_child_start(cli_child_fn cmd, char **argv, const char *name,
                                    const char *value)
{
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		setenv("INVITO_DATABASE", fx_url, 1);
		setenv("INVITO_TRANSPORT", "log", 1);
		setenv("INVITO_LOG_LEVEL", "warn", 1);
		if (name != NULL)
			setenv(name, value, 1);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		struct config cfg;
		if (config_load(&cfg, "/dev/null") < 0)
			_exit(2);
		int argc = 0;
		while (argv[argc] != NULL)
			argc++;
		_exit(cmd(argc, argv, &cfg));
	}
	return pid;
}

#endif
