/*
 * bench/loadgen: an open-loop HTTP/1.1 load generator for bench/landing_hashing.sh.
 *
 * Why not wrk alone: wrk is closed-loop (each connection sends its next request
 * when the last answer arrives), so a slow answer delays the requests behind it
 * and they are never counted as late ("coordinated omission"), and a saturating
 * wrk takes every cycle the server leaves, which is not what a patient's browser
 * does. Why not curl in a loop: a fork and exec per request cost the loader more
 * CPU than the request costs the server, on the same 2 cores.
 *
 * Here each stream sends at a fixed rate on a schedule (request k at t0 + k/rate),
 * over keep-alive connections opened as needed (up to MAX_CONNS per stream).
 * A request's latency runs from its scheduled time, not from when a connection
 * was free, so a stalled server shows up in the percentiles. One thread, epoll.
 *
 *   loadgen PORT SECONDS GET_PATH GET_RATE [POST_PATH POST_RATE COOKIE CSRF]
 *
 * The optional second stream posts staff sign-ins with unknown e-mails
 * (csrf=CSRF&email=nobodyN@bench.example&password=...), each one Argon2id check
 * on the server's worker pool. Prints one line per stream:
 *   get sent=N done=N 2xx=N 503=N other=N err=N p50=MS p99=MS max=MS rate=R/s
 * and the loader's own CPU time, so it can be seen not to be the bottleneck.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 64
#define REQ_MAX   1024
#define RESP_MAX  (256 * 1024)

struct conn {
	int fd;     /* -1: closed */
	int busy;   /* a request is in flight */
	double due; /* the in-flight request's scheduled time */
	char req[REQ_MAX];
	size_t req_len, req_off;
	char *resp;
	size_t resp_len;
	struct stream *s;
};

struct stream {
	const char *name;
	int is_post;
	const char *path, *cookie, *csrf;
	double rate;
	long sent, done, ok, busy503, other, errors;
	long pending; /* scheduled but not yet sent (every connection busy) */
	double *pending_due;
	double *lat; /* milliseconds, one per answered request */
	double *at;  /* its scheduled time, seconds from the start (for LOADGEN_TRACE) */
	long nlat, cap;
	struct conn conns[MAX_CONNS];
};

static int port, epfd;
static double t_start;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (p == NULL) {
		fprintf(stderr, "loadgen: out of memory\n");
		exit(1);
	}
	return p;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->busy = 0;
	c->resp_len = 0;
}

static int conn_open(struct conn *c)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* blocking connect: on loopback it completes at once, and the socket is fresh */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(fd);
		return -1;
	}
	c->fd = fd;
	c->resp_len = 0;
	return 0;
}

/* Fills c->req with the stream's next request. */
static void build_request(struct stream *s, struct conn *c)
{
	int n;
	if (!s->is_post) {
		n = snprintf(c->req, REQ_MAX, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
		             s->path, port);
	} else {
		char body[512];
		int bl =
		    snprintf(body, sizeof(body),
		             "csrf=%s&email=nobody%ld%%40bench.example&password=not-the-password",
		             s->csrf, s->sent);
		n = snprintf(c->req, REQ_MAX,
		             "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nCookie: %s\r\n"
		             "Content-Type: application/x-www-form-urlencoded\r\n"
		             "Content-Length: %d\r\n\r\n%s",
		             s->path, port, s->cookie, bl, body);
	}
	if (n < 0 || n >= REQ_MAX) {
		fprintf(stderr, "loadgen: request too long\n");
		exit(2);
	}
	c->req_len = (size_t)n;
	c->req_off = 0;
}

static void finish(struct conn *c, int status)
{
	struct stream *s = c->s;
	s->done++;
	if (status >= 200 && status < 400)
		s->ok++;
	else if (status == 503)
		s->busy503++;
	else
		s->other++;
	if (s->nlat < s->cap) {
		s->at[s->nlat] = c->due - t_start;
		s->lat[s->nlat++] = (now_s() - c->due) * 1000.0;
	}
	c->busy = 0;
	c->resp_len = 0;
}

static void fail(struct conn *c)
{
	if (c->busy) {
		c->s->errors++;
		c->s->done++;
	}
	conn_close(c);
}

/* Sends c->req; a loopback socket buffer takes a request of REQ_MAX at once and the server
 * reads before it answers, so a short write is an error here, not a retry. */
static void conn_send(struct conn *c)
{
	while (c->req_off < c->req_len) {
		ssize_t w = write(c->fd, c->req + c->req_off, c->req_len - c->req_off);
		if (w <= 0) {
			fail(c);
			return;
		}
		c->req_off += (size_t)w;
	}
}

/* Sends the request scheduled at due on a free connection; 0, or -1 when none is free. */
static int dispatch(struct stream *s, double due)
{
	struct conn *c = NULL;
	for (int i = 0; i < MAX_CONNS && c == NULL; i++)
		if (s->conns[i].fd >= 0 && !s->conns[i].busy)
			c = &s->conns[i];
	for (int i = 0; i < MAX_CONNS && c == NULL; i++)
		if (s->conns[i].fd < 0 && conn_open(&s->conns[i]) == 0)
			c = &s->conns[i];
	if (c == NULL)
		return -1;
	build_request(s, c);
	s->sent++;
	c->busy = 1;
	c->due = due;
	conn_send(c);
	return 0;
}

/* Reads what arrived; completes the response when its headers and Content-Length body are in. */
static void conn_read(struct conn *c)
{
	/* one read per wake-up: epoll is level-triggered and calls again while data waits */
	if (c->resp_len >= RESP_MAX - 1) {
		fail(c);
		return;
	}
	ssize_t r = read(c->fd, c->resp + c->resp_len, RESP_MAX - 1 - c->resp_len);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		fail(c);
		return;
	}
	c->resp_len += (size_t)r;
	c->resp[c->resp_len] = '\0';
	char *end = strstr(c->resp, "\r\n\r\n");
	if (end == NULL)
		return;
	size_t head = (size_t)(end - c->resp) + 4;
	long clen = 0;
	int close_after = 0;
	for (char *l = strstr(c->resp, "\r\n"); l != NULL && l < end; l = strstr(l + 2, "\r\n")) {
		if (strncasecmp(l + 2, "Content-Length:", 15) == 0)
			clen = strtol(l + 17, NULL, 10);
		else if (strncasecmp(l + 2, "Connection: close", 17) == 0)
			close_after = 1;
	}
	if (c->resp_len < head + (size_t)clen)
		return;
	int status = (int)strtol(c->resp + 9, NULL, 10);
	finish(c, status);
	if (close_after)
		conn_close(c);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(const double *v, long n, double p)
{
	if (n == 0)
		return 0;
	long i = (long)(p * (double)n);
	if (i >= n)
		i = n - 1;
	return v[i];
}

static void report(struct stream *s, double secs)
{
	/* LOADGEN_TRACE=FILE: every answer's scheduled time and latency, to see when a stall was */
	const char *trace = getenv("LOADGEN_TRACE");
	FILE *f = trace != NULL ? fopen(trace, "a") : NULL;
	for (long i = 0; f != NULL && i < s->nlat; i++)
		fprintf(f, "%s %.3f %.2f\n", s->name, s->at[i], s->lat[i]);
	if (f != NULL)
		fclose(f);
	qsort(s->lat, (size_t)s->nlat, sizeof(double), cmp_double);
	printf("%s sent=%ld done=%ld 2xx=%ld 503=%ld other=%ld err=%ld unsent=%ld p50=%.2f "
	       "p99=%.2f max=%.2f rate=%.1f/s\n",
	       s->name, s->sent, s->done, s->ok, s->busy503, s->other, s->errors, s->pending,
	       pct(s->lat, s->nlat, 0.50), pct(s->lat, s->nlat, 0.99),
	       s->nlat ? s->lat[s->nlat - 1] : 0.0, (double)s->ok / secs);
}

static void stream_init(struct stream *s, const char *name, double rate, double secs)
{
	s->name = name;
	s->rate = rate;
	s->cap = (long)(rate * secs) + 16;
	s->lat = xmalloc((size_t)s->cap * sizeof(double));
	s->at = xmalloc((size_t)s->cap * sizeof(double));
	s->pending_due = xmalloc((size_t)s->cap * sizeof(double));
	for (int i = 0; i < MAX_CONNS; i++) {
		s->conns[i].fd = -1;
		s->conns[i].s = s;
		s->conns[i].resp = xmalloc(RESP_MAX);
	}
}

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 9) {
		fprintf(stderr, "usage: loadgen PORT SECONDS GET_PATH GET_RATE "
		                "[POST_PATH POST_RATE COOKIE CSRF]\n");
		return 2;
	}
	port = (int)strtol(argv[1], NULL, 10);
	double secs = strtod(argv[2], NULL);
	struct stream st[2];
	memset(st, 0, sizeof(st));
	int ns = 1;
	st[0].path = argv[3];
	stream_init(&st[0], "get", strtod(argv[4], NULL), secs);
	if (argc == 9) {
		st[1].is_post = 1;
		st[1].path = argv[5];
		st[1].cookie = argv[7];
		st[1].csrf = argv[8];
		stream_init(&st[1], "post", strtod(argv[6], NULL), secs);
		ns = 2;
	}
	epfd = epoll_create1(0);
	if (epfd < 0 || port <= 0 || secs <= 0) {
		fprintf(stderr, "loadgen: bad arguments\n");
		return 2;
	}
	double t0 = now_s() + 0.05, end = t0 + secs;
	t_start = t0;
	long next[2] = {0, 0};
	/* after the last scheduled request, wait this long for the answers still due */
	double drain = end + 30.0;
	for (;;) {
		double t = now_s();
		int inflight = 0;
		for (int k = 0; k < ns; k++) {
			struct stream *s = &st[k];
			/* newly due requests join the backlog; the backlog goes out first, oldest
			 * first, as connections free up */
			for (double due = t0 + (double)next[k] / s->rate; due <= t && due < end;
			     due = t0 + (double)next[k] / s->rate) {
				s->pending_due[s->pending++] = due;
				next[k]++;
			}
			long sent = 0;
			while (sent < s->pending && dispatch(s, s->pending_due[sent]) == 0)
				sent++;
			memmove(s->pending_due, s->pending_due + sent,
			        (size_t)(s->pending - sent) * sizeof(double));
			s->pending -= sent;
			for (int i = 0; i < MAX_CONNS; i++)
				inflight += s->conns[i].busy;
			inflight += (int)s->pending;
		}
		if ((t >= end && inflight == 0) || t >= drain)
			break;
		/* sleep until the next scheduled request (at most 1 ms: the backlog retries) */
		int timeout = 1;
		struct epoll_event evs[64];
		int n = epoll_wait(epfd, evs, 64, timeout);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->fd < 0)
				continue;
			if (!c->busy) {
				conn_close(c); /* the server closed an idle keep-alive connection */
				continue;
			}
			conn_read(c);
		}
	}
	for (int k = 0; k < ns; k++)
		report(&st[k], secs);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	             (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("loader cpu=%.2fs over %.1fs (%.0f%% of one core)\n", cpu, now_s() - t0 + 0.05,
	       100.0 * cpu / (now_s() - t0 + 0.05));
	return 0;
}
