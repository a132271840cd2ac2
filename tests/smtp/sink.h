/*
 * sink: start and read tests/smtp/sink.py, a real SMTP server (Debian's
 * python3-aiosmtpd) on 127.0.0.1, from a C test. Each sink gets a fresh
 * directory; what it accepted is read back as a JSON array (jansson), one
 * object per message (see sink.py for the fields). Test code only.
 *
 *     struct sink s;
 *     sink_start(&s, NULL);                      // or {"--reject", "bad", NULL}
 *     ... cfg.smtp_url = s.url ...
 *     json_t *got = sink_messages(&s);           // caller json_decref()s
 *     sink_stop(&s);
 */
#ifndef INVITO_TEST_SINK_H
#define INVITO_TEST_SINK_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SINK_PYTHON "/usr/bin/python3" /* Debian's, where python3-aiosmtpd is installed */

struct sink {
	pid_t pid;
	int port;
	char dir[64];
	char url[64]; /* "smtp://127.0.0.1:PORT" */
};

static inline const char *sink_script(void)
{
	const char *s = getenv("INVITO_SMTP_SINK");
	return s != NULL && *s ? s : "tests/smtp/sink.py";
}

/* Starts a sink with extra arguments (NULL-terminated list, may be NULL); waits until it
 * listens. reuse_dir: keep s->dir (a restart that appends to the same index), else new. */
static inline void sink_start_in(struct sink *s, const char *const *extra, int reuse_dir)
{
	char port_file[128];
	if (!reuse_dir) {
		snprintf(s->dir, sizeof(s->dir), "/tmp/invito-sink-XXXXXX");
		cr_assert_not_null(mkdtemp(s->dir));
	}
	snprintf(port_file, sizeof(port_file), "%s/port", s->dir);
	unlink(port_file);
	const char *argv[32] = {SINK_PYTHON, sink_script(), "--dir",
	                        s->dir,      "--port-file", port_file};
	int argc = 6;
	for (int i = 0; extra != NULL && extra[i] != NULL && argc < 31; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	s->pid = fork();
	cr_assert_neq(s->pid, -1);
	if (s->pid == 0) {
		/* never outlive the test, and never hold the runner's output pipes open */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		char log[128];
		snprintf(log, sizeof(log), "%s/sink.log", s->dir);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(SINK_PYTHON, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) { /* 10 s */
		FILE *f = fopen(port_file, "r");
		if (f != NULL) {
			int ok = fscanf(f, "%d", &s->port) == 1;
			fclose(f);
			if (ok) {
				snprintf(s->url, sizeof(s->url), "smtp://127.0.0.1:%d", s->port);
				return;
			}
		}
		int st;
		if (waitpid(s->pid, &st, WNOHANG) == s->pid)
			cr_assert_fail("the SMTP sink exited (is python3-aiosmtpd installed? "
			               "make deps)");
		usleep(50000);
	}
	cr_assert_fail("the SMTP sink did not start");
}

static inline void sink_start(struct sink *s, const char *const *extra)
{
	sink_start_in(s, extra, 0);
}

/* Stops the process only (the directory and what it received stay). */
static inline void sink_kill(struct sink *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
}

/* Stops it and removes its directory. */
static inline void sink_stop(struct sink *s)
{
	char cmd[128];
	sink_kill(s);
	if (s->dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		cr_assert_eq(system(cmd), 0);
		s->dir[0] = '\0';
	}
}

/* Everything accepted so far, in order: a JSON array the caller frees. */
static inline json_t *sink_messages(const struct sink *s)
{
	char path[128], line[1 << 16];
	snprintf(path, sizeof(path), "%s/index.jsonl", s->dir);
	json_t *all = json_array();
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return all;
	while (fgets(line, sizeof(line), f) != NULL) {
		json_t *o = json_loads(line, 0, NULL);
		if (o != NULL)
			json_array_append_new(all, o);
	}
	fclose(f);
	return all;
}

/* The string field name of message i ("" when missing or not a string). */
static inline const char *sink_str(json_t *all, size_t i, const char *name)
{
	const char *v = json_string_value(json_object_get(json_array_get(all, i), name));
	return v != NULL ? v : "";
}

/* How many distinct connections delivered the messages. */
static inline int sink_connections(json_t *all)
{
	int max = 0;
	for (size_t i = 0; i < json_array_size(all); i++) {
		int c = (int)json_integer_value(json_object_get(json_array_get(all, i), "conn"));
		max = c > max ? c : max;
	}
	return max;
}

/* A port on 127.0.0.1 where nothing listens (bound, then closed). */
static inline int sink_dead_port(void)
{
	char cmd[] = SINK_PYTHON " -c 'import socket; s=socket.socket(); "
	                         "s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])'";
	FILE *p = popen(cmd, "r");
	int port = 0;
	cr_assert_not_null(p);
	cr_assert_eq(fscanf(p, "%d", &port), 1);
	pclose(p);
	return port;
}

#endif
