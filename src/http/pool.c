/*
 * pool: a small fixed set of worker threads with a bounded queue, for work
 * that must never run on a libmicrohttpd thread (Argon2id hashing: tens of
 * milliseconds and 64 MiB each). The connection is suspended while its job
 * waits and runs, and resumed when it is done; libmicrohttpd then calls the
 * handler again. A full queue is refused at once (the handler answers 503)
 * rather than growing: the queue length is the backlog we accept to carry.
 *
 * The workers run at the lowest CPU priority (nice 19) and are named
 * "invito-hash" (top -H, /proc/PID/task/TID/comm). Why: a hash is 100+ ms of
 * CPU and memory traffic, a page a few milliseconds. At equal priority the
 * scheduler shares a core fairly between them, so a GET that wakes up behind
 * two hashes waits for their time slices. (Measured on 2 cores, the larger
 * part of the landing page's tail under hashing was not this but SQLite lock
 * waits: see bench/landing_hashing.sh.) At nice 19 (CFS weight 15 against 1024) a woken
 * HTTP thread runs at once, and the hashes still get every cycle the pages
 * leave idle: on an idle server a hash takes as long as before. Under a flood
 * of page requests the hashes slow down instead of the pages, the queue fills
 * and new hashing requests get 503 + Retry-After, which is the degradation we
 * want (pages stay up, the expensive work waits). Not SCHED_IDLE: it may be
 * starved for seconds while the pages are busy, holding its suspended
 * connection and 64 MiB; nice 19 still guarantees it a small share. Linux
 * applies nice per thread (setpriority on a thread id), which POSIX does not
 * promise; elsewhere the call fails and the workers keep the default priority.
 */
#include "http/internal.h"

#include "lib/log.h"
#include "lib/util.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

#define WORKER_NICE 19
#define WORKER_NAME "invito-hash" /* at most 15 characters (pthread_setname_np) */

struct job {
	void (*work)(void *arg);
	void *arg;
	struct MHD_Connection *conn;
};

struct http_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t *threads;
	int nthreads;
	struct job *ring;
	int cap, head, len;
	int stopping;
};

/* Lowers the calling thread's priority (see the header comment). Raising one's own nice value
 * needs no privilege; a failure only costs page latency, so it is logged and not fatal. */
static void worker_lower_priority(void)
{
	pthread_setname_np(pthread_self(), WORKER_NAME);
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), WORKER_NICE) != 0)
		log_warn("http: hashing thread keeps the default priority: %s", strerror(errno));
}

static void *worker(void *arg)
{
	struct http_pool *p = arg;
	worker_lower_priority();
	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->len == 0 && !p->stopping)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->len == 0 && p->stopping) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		struct job j = p->ring[p->head];
		p->head = (p->head + 1) % p->cap;
		p->len--;
		pthread_mutex_unlock(&p->lock);
		j.work(j.arg);
		MHD_resume_connection(j.conn);
	}
}

int http_pool_create(struct http_pool **out, int workers, int cap)
{
	if (workers < 1 || cap < 1)
		return -1;
	struct http_pool *p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->ring = xcalloc((size_t)cap, sizeof(struct job));
	p->cap = cap;
	p->threads = xcalloc((size_t)workers, sizeof(pthread_t));
	for (int i = 0; i < workers; i++) {
		if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
			log_error("http: cannot start worker thread %d", i);
			http_pool_free(p);
			return -1;
		}
		p->nthreads++;
	}
	*out = p;
	return 0;
}

void http_pool_free(struct http_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	/* Workers finish every queued job first: each one holds a suspended connection. */
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p->ring);
	free(p);
}

int http_pool_submit(struct http_pool *p, struct MHD_Connection *conn, void (*work)(void *arg),
                     void *arg)
{
	pthread_mutex_lock(&p->lock);
	if (p->stopping || p->len >= p->cap) {
		int full = !p->stopping;
		pthread_mutex_unlock(&p->lock);
		if (full)
			http_metrics_hash_refused();
		return -1;
	}
	/* Suspend before the job is visible: a worker resuming a connection that is not yet
	 * suspended would be lost, and the request would hang. */
	MHD_suspend_connection(conn);
	p->ring[(p->head + p->len) % p->cap] = (struct job){work, arg, conn};
	p->len++;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int http_pool_depth(struct http_pool *p)
{
	if (p == NULL)
		return 0;
	pthread_mutex_lock(&p->lock);
	int n = p->len;
	pthread_mutex_unlock(&p->lock);
	return n;
}

int http_blocking(struct http_req *req, void (*work)(void *arg), void *arg)
{
	struct http_ctx *ctx = req->internal;
	if (ctx == NULL || ctx->conn == NULL || work == NULL)
		return -1;
	struct http_pool *p = http_server_pool(ctx->server);
	if (p == NULL || http_pool_submit(p, ctx->conn, work, arg) < 0)
		return -1;
	ctx->suspended = 1;
	/* Give the database connection back while suspended: a suspended request must never
	 * hold one that a libmicrohttpd thread is waiting for. The server takes one again
	 * before it calls the handler back. */
	if (req->db != NULL) {
		store_release(req->db);
		req->db = NULL;
	}
	return 0;
}
