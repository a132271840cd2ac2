/*
 * HTTP tests of the password-hashing worker pool (src/http/pool.c) in the
 * real server: its threads run below the HTTP threads' priority, a burst of
 * sign-ins larger than the queue is answered (200 for those hashed, 503 with
 * Retry-After for the rest) without the server stalling, and the server
 * answers normally afterwards.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One HTTP thread, one hashing thread (a queue of 16), one database connection: a request
 * that kept the connection after answering would starve the next one at once. */
static void small(struct config *cfg)
{
	cfg->threads = 1;
	cfg->workers = 1;
	cfg->db_pool = 1;
}

static void init_small(void)
{
	h_start_with(small);
}

TestSuite(pool, .init = h_start, .fini = h_stop);

/* The nice value of thread tid of this process (field 19 of its stat), or -100. */
static int thread_nice(const char *tid)
{
	char path[300], line[1024];
	snprintf(path, sizeof(path), "/proc/self/task/%s/stat", tid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -100;
	size_t n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = '\0';
	/* fields after the ")" that closes the name: state is field 3, nice field 19 */
	char *p = strrchr(line, ')');
	if (p == NULL)
		return -100;
	int field = 2;
	for (p++; *p != '\0'; p++)
		if (*p == ' ' && ++field == 19)
			return (int)strtol(p + 1, NULL, 10);
	return -100;
}

/* Counts this process's threads named name; *niced gets how many of them have nice 19 and
 * *others_niced how many threads of other names have a nice value other than 0. */
static int scan_threads(const char *name, int *niced, int *others_niced)
{
	DIR *d = opendir("/proc/self/task");
	cr_assert_not_null(d);
	int count = 0;
	*niced = *others_niced = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[300], comm[32] = "";
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) == NULL)
			comm[0] = '\0';
		fclose(f);
		comm[strcspn(comm, "\n")] = '\0';
		int nice = thread_nice(e->d_name);
		if (strcmp(comm, name) == 0) {
			count++;
			*niced += nice == 19;
		} else if (nice != 0) {
			(*others_niced)++;
		}
	}
	closedir(d);
	return count;
}

Test(pool, hashing_threads_run_below_the_http_threads)
{
	int count = 0, niced = 0, others = 0;
	/* the workers lower their own priority as they start: allow them a moment */
	for (int i = 0; i < 100; i++) {
		count = scan_threads("invito-hash", &niced, &others);
		if (count == H.cfg.workers && niced == count)
			break;
		usleep(10 * 1000);
	}
	cr_assert_eq(count, H.cfg.workers, "%d hashing threads for workers = %d", count,
	             H.cfg.workers);
	cr_assert_eq(niced, count, "%d of %d hashing threads at nice 19", niced, count);
	cr_assert_eq(others, 0, "%d other threads (HTTP, this test) changed priority", others);
	/* and a sign-in still goes through them */
	struct h_client *c = h_client();
	cr_assert_eq(h_staff_login(c, H.org[0].staff_email, H_STAFF_PASSWORD), 303);
}

/* --- a burst larger than the queue ------------------------------------------ */

#define BURST 30 /* more than the 16 queued + 1 running; the harness allows 32 clients */

TestSuite(pool_small, .init = init_small, .fini = h_stop);

Test(pool_small, a_burst_beyond_the_queue_is_answered_200_or_503_and_nothing_stalls, .timeout = 60)
{
	long status[BURST];
	int retry_after[BURST];
	h_signin_burst(BURST, status, retry_after);
	int ok = 0, busy = 0;
	for (int i = 0; i < BURST; i++) {
		/* 0 would be curl's timeout: a request the server never answered */
		cr_assert(status[i] == 200 || status[i] == 503, "sign-in %d answered %ld", i,
		          status[i]);
		if (status[i] == 503) {
			busy++;
			cr_assert(retry_after[i], "503 without Retry-After");
		} else {
			ok++;
		}
	}
	cr_assert_geq(ok, 2, "%d hashed", ok);
	cr_assert_geq(busy, 1, "a full queue answers 503 (%d of %d did)", busy, BURST);
	/* the pool drained: a real sign-in works again */
	struct h_client *c = h_client();
	cr_assert_eq(h_staff_login(c, H.org[0].staff_email, H_STAFF_PASSWORD), 303);
}
