/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: the Unix control socket server (HAProxy Runtime API framing).
 *
 * One epoll set on the control core, nothing blocks: every socket is non-blocking and an
 * answer that the client does not read yet waits in that client's output queue. While a
 * client's answer is pending we stop reading from it, so a client that pipelines commands
 * without reading costs at most one answer of memory, and a client that stops reading is
 * closed after CTL_WRITE_TIMEOUT_MS without progress.
 *
 * Connection life (as HAProxy): outside prompt mode the first line is answered and the
 * connection closed; in prompt mode every answer is followed by "> " and the connection stays
 * until "quit", EOF or CTL_PROMPT_IDLE_MS of silence. Bytes after EOF without a final newline
 * are executed as a line, like HAProxy does.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"

#define CTL_LINE_MAX 65536	   /* longest command line, newline included */
#define CTL_MAX_CLIENTS 64	   /* more are accepted and closed at once */
#define CTL_FIRST_LINE_MS 10000	   /* non-prompt client: time to send its line */
#define CTL_PROMPT_IDLE_MS 30000   /* prompt-mode client: silence before we close */
#define CTL_WRITE_TIMEOUT_MS 10000 /* pending answer without write progress */
#define CTL_EVENTS 32

struct ctl_client {
	int fd;
	bool prompt;	   /* interactive mode */
	bool closing;	   /* close once the output queue is empty */
	bool eof;	   /* the peer shut down its sending side */
	unsigned int slot; /* index in ctl_server.clients */
	uint32_t events;   /* what epoll watches now */
	uint64_t accepted; /* monotonic ms, like the three below */
	uint64_t last_in;  /* last byte received, or last answer fully written */
	uint64_t last_out; /* answer queued, or last write progress */
	uint64_t deadline; /* after which the client is closed */
	size_t in_len;
	char *in; /* CTL_LINE_MAX bytes */
	struct ctl_buf out;
	size_t out_off; /* bytes of out already written */
};

struct ctl_server {
	int lfd;
	int epfd;
	struct ctl_env *env;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev; /* of the socket file we bound, so close unlinks only ours */
	ino_t ino;
	struct ctl_client *clients[CTL_MAX_CLIENTS];
};

static uint64_t ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- opening ---- */

/* mkdir -p of path's parent directories, each created 0700. */
static int ctl_mkdir_parents(const char *path)
{
	char dir[PATH_MAX];
	size_t i, len = strlen(path);

	if (len >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, len + 1);
	for (i = 1; i < len; i++) {
		if (dir[i] != '/')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
		dir[i] = '/';
	}
	return 0;
}

/* A socket file at sa's path: refuse when a live process answers on it, else remove it
 * (left behind by a process that died without closing). */
static int ctl_replace_stale(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", sa->sun_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "%s is already in use by a running process", sa->sun_path);
		return -EADDRINUSE;
	}
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

struct ctl_server *ctl_server_open(const char *path, struct ctl_env *env, char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctl_server *srv;
	struct stat st;
	mode_t old;
	int rc;

	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path '%s' is empty or longer than %zu bytes",
			 path ? path : "", sizeof(sa.sun_path) - 1);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->lfd = -1;
	srv->epfd = -1;
	srv->env = env;
	memcpy(srv->path, sa.sun_path, sizeof(srv->path));

	rc = ctl_mkdir_parents(path);
	if (rc < 0) {
		snprintf(err, errlen, "cannot create the directory of %s: %s", path, strerror(-rc));
		goto fail;
	}
	err[0] = '\0';
	rc = ctl_replace_stale(&sa, err, errlen);
	if (rc < 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "cannot replace %s: %s", path, strerror(-rc));
		goto fail;
	}
	srv->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->lfd < 0)
		goto fail_errno;
	/* The umask makes the file 0600 from its first instant: no window where another user
	 * could connect before the chmod below. */
	old = umask(0177);
	rc = bind(srv->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0)
		goto fail_errno;
	if (chmod(path, 0600) < 0 || stat(path, &st) < 0 || listen(srv->lfd, 64) < 0)
		goto fail_unlink;
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->epfd < 0)
		goto fail_unlink;
	ev.data.ptr = NULL; /* NULL: the listening socket */
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->lfd, &ev) < 0)
		goto fail_unlink;
	return srv;

fail_unlink:
	rc = errno;
	unlink(path);
	errno = rc;
fail_errno:
	snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
fail:
	if (srv->epfd >= 0)
		close(srv->epfd);
	if (srv->lfd >= 0)
		close(srv->lfd);
	free(srv);
	return NULL;
}

/* ---- clients ---- */

static void ctl_client_close(struct ctl_server *srv, unsigned int slot)
{
	struct ctl_client *c = srv->clients[slot];
	char scratch[4096];
	int i;

	/* Read what the peer sent after its line: closing a Unix socket with unread data makes
	 * the peer's next read fail with ECONNRESET instead of seeing a clean EOF. */
	for (i = 0; i < 16 && recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT) > 0; i++)
		;
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	ctl_buf_free(&c->out);
	free(c->in);
	free(c);
	srv->clients[slot] = NULL;
}

static void ctl_accept(struct ctl_server *srv)
{
	static const char busy[] = "error: too many control clients, try again later\n\n";
	struct epoll_event ev = { .events = EPOLLIN };
	struct ctl_client *c;
	unsigned int slot, n;
	int fd;

	for (n = 0; n < CTL_MAX_CLIENTS; n++) {
		fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or an aborted connection: nothing to do either way */
		for (slot = 0; slot < CTL_MAX_CLIENTS && srv->clients[slot] != NULL; slot++)
			;
		c = slot < CTL_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
		if (c != NULL)
			c->in = malloc(CTL_LINE_MAX);
		if (c == NULL || c->in == NULL) {
			/* Best effort: the client learns why, if its socket has room. */
			(void)!send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			free(c);
			continue;
		}
		c->fd = fd;
		c->slot = slot;
		c->events = EPOLLIN;
		c->accepted = ctl_now_ms();
		c->deadline = c->accepted + CTL_FIRST_LINE_MS;
		ev.data.ptr = c;
		if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c->in);
			free(c);
			continue;
		}
		srv->clients[slot] = c;
	}
}

/* Execute one complete line (len bytes, without its newline) and queue the answer. */
static void ctl_client_line(struct ctl_server *srv, struct ctl_client *c, char *line, size_t len)
{
	static const char nul_err[] = "error: NUL byte in command line\n\n";
	bool quit = false;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	if (memchr(line, '\0', len) != NULL)
		ctl_buf_append(&c->out, nul_err, sizeof(nul_err) - 1);
	else
		ctl_execute(srv->env, line, &c->out, &c->prompt, &quit);
	c->last_out = ctl_now_ms();
	if (quit || !c->prompt) {
		c->closing = true;
		return;
	}
	ctl_buf_append(&c->out, "> ", 2);
}

/* Write what is queued. Returns 0 when the queue is empty, -EAGAIN when the socket is full,
 * another negative errno when the client is gone. */
static int ctl_client_flush(struct ctl_client *c)
{
	ssize_t n;

	while (c->out_off < c->out.len) {
		n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
		c->out_off += (size_t)n;
		c->last_out = ctl_now_ms();
	}
	if (c->out.len > 0)
		c->last_in = ctl_now_ms(); /* a prompt client's idle time starts now */
	c->out_off = 0;
	c->out.len = 0;
	if (c->out.cap > CTL_LINE_MAX)
		ctl_buf_free(&c->out); /* do not keep a large answer's buffer per idle client */
	return 0;
}

/* Move the client as far as it can go without blocking. Returns false when it must close. */
static bool ctl_client_run(struct ctl_server *srv, struct ctl_client *c)
{
	static const char too_long[] = "error: line too long\n\n";
	char *nl;
	ssize_t n;
	int rc;

	for (;;) {
		rc = ctl_client_flush(c);
		if (rc == -EAGAIN)
			return true;
		if (rc < 0 || c->closing)
			return false;
		nl = memchr(c->in, '\n', c->in_len);
		if (nl != NULL) {
			size_t len = (size_t)(nl - c->in);

			ctl_client_line(srv, c, c->in, len);
			c->in_len -= len + 1;
			memmove(c->in, nl + 1, c->in_len);
			continue;
		}
		if (c->in_len == CTL_LINE_MAX) {
			ctl_buf_append(&c->out, too_long, sizeof(too_long) - 1);
			c->closing = true;
			continue;
		}
		if (c->eof) {
			if (c->in_len == 0)
				return false;
			ctl_client_line(srv, c, c->in, c->in_len); /* as HAProxy: run it */
			c->in_len = 0;
			c->closing = true;
			continue;
		}
		n = recv(c->fd, c->in + c->in_len, CTL_LINE_MAX - c->in_len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		if (n == 0)
			c->eof = true;
		else
			c->last_in = ctl_now_ms();
		c->in_len += (size_t)n;
	}
}

/* Watch for output room while an answer is pending, for input otherwise, and set the deadline
 * of what the client is waited for. */
static bool ctl_client_rearm(struct ctl_server *srv, struct ctl_client *c)
{
	uint32_t want = c->out_off < c->out.len ? EPOLLOUT : EPOLLIN;
	struct epoll_event ev = { .events = want, .data.ptr = c };

	if (want == EPOLLOUT)
		c->deadline = c->last_out + CTL_WRITE_TIMEOUT_MS;
	else if (c->prompt)
		c->deadline = c->last_in + CTL_PROMPT_IDLE_MS;
	else
		c->deadline = c->accepted + CTL_FIRST_LINE_MS;
	if (want == c->events)
		return true;
	c->events = want;
	return epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0;
}

void ctl_server_poll(struct ctl_server *srv, int timeout_ms)
{
	struct epoll_event evs[CTL_EVENTS];
	uint64_t now = ctl_now_ms();
	struct ctl_client *c;
	unsigned int i;
	int n, k;

	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		c = srv->clients[i];
		if (c == NULL)
			continue;
		if (c->deadline <= now)
			timeout_ms = 0;
		else if (timeout_ms < 0 || c->deadline - now < (uint64_t)timeout_ms)
			timeout_ms = (int)(c->deadline - now);
	}
	n = epoll_wait(srv->epfd, evs, CTL_EVENTS, timeout_ms);
	for (k = 0; k < n; k++) {
		c = evs[k].data.ptr;
		if (c == NULL) {
			ctl_accept(srv);
			continue;
		}
		/* Each fd appears once per batch and a client is freed only here or in the
		 * sweep below, so c is live. */
		if (!ctl_client_run(srv, c) || !ctl_client_rearm(srv, c))
			ctl_client_close(srv, c->slot);
	}
	now = ctl_now_ms();
	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		c = srv->clients[i];
		if (c != NULL && c->deadline <= now)
			ctl_client_close(srv, i);
	}
}

void ctl_server_close(struct ctl_server *srv)
{
	struct stat st;
	unsigned int i;

	if (srv == NULL)
		return;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (srv->clients[i] != NULL)
			ctl_client_close(srv, i);
	close(srv->epfd);
	close(srv->lfd);
	/* Only our own file: a second instance may have replaced a socket it found dead. */
	if (stat(srv->path, &st) == 0 && st.st_dev == srv->dev && st.st_ino == srv->ino)
		unlink(srv->path);
	free(srv);
}
