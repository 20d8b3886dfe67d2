/* SPDX-License-Identifier: BSD-3-Clause
 * sluicectl: send one command line to sluice's control socket and print the answer.
 *
 * Plain libc, no DPDK. The protocol is HAProxy's Runtime API framing (INTERFACES.md): one line
 * out, answers back, each ending with an empty line, then the server closes. An answer that
 * does not end with its empty line was cut short (the appliance died or closed early) and is
 * reported as an error rather than printed as if it were complete.
 *
 * Exit status: 0 ok, 1 when an answer begins with "error: ", 2 when sluicectl could not
 * connect, timed out, got a truncated answer, or was called wrongly.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CTL_DEFAULT_SOCKET "/run/sluice/sluice.sock"
#define CTL_MAX_ANSWER (256u << 20) /* refuse to buffer more than this */

enum { EXIT_OK = 0, EXIT_ANSWER_ERROR = 1, EXIT_FAIL = 2 };

struct opts {
	const char *socket;
	bool json;
	int table; /* -1: when stdout is a terminal */
	double timeout;
};

struct answer {
	char *data;
	size_t len;
	size_t cap;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluicectl [-s SOCKET] [--json] [--table|--no-table] [--timeout SEC] "
		"COMMAND...\n"
		"\n"
		"Send COMMAND (the arguments joined with spaces; ';' separates several commands) "
		"to\n"
		"sluice's control socket and print the answer. 'sluicectl help' lists the "
		"commands.\n"
		"\n"
		"  -s, --socket SOCKET  control socket (default $SLUICE_SOCKET, else %s)\n"
		"      --json           ask for the JSON form (appends ' json' to the command)\n"
		"      --table          align CSV answers into columns (default on a terminal)\n"
		"      --no-table       print CSV answers as received\n"
		"      --timeout SEC    give up after SEC seconds (default 10)\n"
		"  -h, --help           this message\n"
		"\n"
		"Exit status: 0 ok, 1 the appliance answered an error, 2 cannot connect, timeout,\n"
		"truncated answer or wrong usage.\n",
		CTL_DEFAULT_SOCKET);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "table", no_argument, NULL, 't' },
		{ "no-table", no_argument, NULL, 'T' },
		{ "timeout", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	/* '+': stop at the first command word, so "sluicectl show stat -x" passes -x along. */
	while ((c = getopt_long(argc, argv, "+s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 't':
			o->table = 1;
			break;
		case 'T':
			o->table = 0;
			break;
		case 'w':
			errno = 0;
			o->timeout = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' || !(o->timeout > 0) ||
			    o->timeout > 86400) {
				fprintf(stderr,
					"sluicectl: --timeout wants seconds in (0, 86400]\n");
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "sluicectl: no command given\n");
		usage(stderr);
		return -1;
	}
	return optind;
}

static int append(struct answer *a, const char *p, size_t n)
{
	size_t cap;
	char *d;

	if (a->len + n + 1 > a->cap) {
		cap = a->cap ? a->cap : 4096;
		while (cap < a->len + n + 1)
			cap *= 2;
		d = realloc(a->data, cap);
		if (d == NULL)
			return -1;
		a->data = d;
		a->cap = cap;
	}
	memcpy(a->data + a->len, p, n);
	a->len += n;
	a->data[a->len] = '\0';
	return 0;
}

/* The command line: arguments joined with spaces, " json" with --json, then '\n'. */
static int build_line(int argc, char **argv, int first, bool json, struct answer *line)
{
	int i;

	for (i = first; i < argc; i++) {
		if (strpbrk(argv[i], "\n\r") != NULL) {
			fprintf(stderr, "sluicectl: a command cannot contain a newline\n");
			return -1;
		}
		if ((i > first && append(line, " ", 1) < 0) ||
		    append(line, argv[i], strlen(argv[i])) < 0)
			return -1;
	}
	if ((json && append(line, " json", 5) < 0) || append(line, "\n", 1) < 0)
		return -1;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait until fd is ready for events or the deadline passes. Returns 0, or -ETIMEDOUT. */
static int wait_fd(int fd, short events, double deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	double left;
	int rc;

	for (;;) {
		left = deadline - now_s();
		if (left <= 0)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -errno;
	}
}

/* Connect, send line, read until the server closes. Returns 0 or an exit status after
 * printing why. */
static int exchange(const struct opts *o, const struct answer *line, struct answer *ans)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double deadline = now_s() + o->timeout;
	size_t off = 0;
	char buf[65536];
	ssize_t n;
	int fd, rc;

	if (strlen(o->socket) >= sizeof(sa.sun_path)) {
		fprintf(stderr,
			"sluicectl: cannot connect to %s: path too long (is sluice running? -s to "
			"choose the socket)\n",
			o->socket);
		return EXIT_FAIL;
	}
	memcpy(sa.sun_path, o->socket, strlen(o->socket) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* A Unix connect does not wait for the server to accept; it fails at once or succeeds
	 * into the backlog, so a blocking connect cannot hang. */
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr,
			"sluicectl: cannot connect to %s: %s (is sluice running? -s to choose the "
			"socket)\n",
			o->socket, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_FAIL;
	}
	while (off < line->len) {
		rc = wait_fd(fd, POLLOUT, deadline);
		if (rc < 0)
			goto fail;
		n = send(fd, line->data + off, line->len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			rc = -errno;
			goto fail;
		}
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR); /* one line only: tell the server nothing else is coming */
	for (;;) {
		rc = wait_fd(fd, POLLIN, deadline);
		if (rc < 0)
			goto fail;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		/* ECONNRESET after the answer: the server closed with our bytes unread. What we
		 * have is judged complete or truncated like after a clean EOF. */
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			break;
		if (n < 0) {
			rc = -errno;
			goto fail;
		}
		if (ans->len + (size_t)n > CTL_MAX_ANSWER || append(ans, buf, (size_t)n) < 0) {
			fprintf(stderr, "sluicectl: answer from %s is too large\n", o->socket);
			close(fd);
			return EXIT_FAIL;
		}
	}
	close(fd);
	return 0;
fail:
	close(fd);
	if (rc == -ETIMEDOUT)
		fprintf(stderr, "sluicectl: no complete answer from %s within %g s\n", o->socket,
			o->timeout);
	else
		fprintf(stderr, "sluicectl: talking to %s: %s\n", o->socket, strerror(-rc));
	return EXIT_FAIL;
}

/* Print one CSV block (lines [p, end), each ending with '\n') with its columns aligned. HAProxy
 * ends every CSV row with ',', so trailing blanks are trimmed. */
static void print_table(const char *p, const char *end)
{
	enum { MAX_COLS = 1024 };
	size_t *widths = calloc(MAX_COLS, sizeof(*widths));
	struct answer out = { 0 };
	const char *q, *eol, *f;
	unsigned int col;
	size_t w, pad;

	if (widths == NULL) {
		fwrite(p, 1, (size_t)(end - p), stdout);
		return;
	}
	for (q = p; q < end; q = eol + 1) {
		eol = memchr(q, '\n', (size_t)(end - q));
		for (col = 0, f = q; f <= eol && col < MAX_COLS; col++, f += w + 1) {
			w = strcspn(f, ",\n");
			if (widths[col] < w)
				widths[col] = w;
		}
	}
	for (q = p; q < end; q = eol + 1) {
		eol = memchr(q, '\n', (size_t)(end - q));
		out.len = 0;
		for (col = 0, f = q; f < eol; col++, f += w + 1) {
			w = col == MAX_COLS - 1 ? (size_t)(eol - f) : strcspn(f, ",\n");
			append(&out, f, w);
			for (pad = w; pad < widths[col] + 2; pad++)
				append(&out, " ", 1);
		}
		while (out.len > 0 && out.data[out.len - 1] == ' ')
			out.len--;
		append(&out, "\n", 1);
		fwrite(out.data, 1, out.len, stdout);
	}
	free(out.data);
	free(widths);
}

/* A CSV answer: a "# " header line with at least one comma. */
static bool is_csv(const char *p)
{
	return p[0] == '#' && p[1] == ' ' && memchr(p, ',', strcspn(p, "\n")) != NULL;
}

/* Print the answers but the final empty line. Returns the exit status. */
static int print_answers(const struct answer *a, bool table)
{
	const char *p = a->data, *end = a->data + a->len - 1; /* drop the final empty line */
	const char *blk, *lines_end;
	int status = EXIT_OK;

	while (p < end) {
		/* One answer: its lines and its empty line (an empty answer is that line alone). */
		if (p[0] == '\n') {
			blk = p + 1;
		} else {
			blk = strstr(p, "\n\n");
			blk = blk ? blk + 2 : end;
			if (blk > end)
				blk = end;
		}
		if (strncmp(p, "error: ", 7) == 0)
			status = EXIT_ANSWER_ERROR;
		lines_end = blk - p >= 2 && blk[-1] == '\n' && blk[-2] == '\n' ? blk - 1 : blk;
		if (table && is_csv(p)) {
			print_table(p, lines_end);
			fwrite(lines_end, 1, (size_t)(blk - lines_end), stdout);
		} else {
			fwrite(p, 1, (size_t)(blk - p), stdout);
		}
		p = blk;
	}
	return status;
}

int main(int argc, char **argv)
{
	struct opts o = { .socket = NULL, .table = -1, .timeout = 10 };
	struct answer line = { 0 }, ans = { 0 };
	int first, rc;

	first = parse_args(argc, argv, &o);
	if (first < 0)
		return EXIT_FAIL;
	if (o.socket == NULL)
		o.socket = getenv("SLUICE_SOCKET");
	if (o.socket == NULL || o.socket[0] == '\0')
		o.socket = CTL_DEFAULT_SOCKET;
	if (o.table < 0)
		o.table = isatty(STDOUT_FILENO);
	if (build_line(argc, argv, first, o.json, &line) < 0)
		return EXIT_FAIL;
	rc = exchange(&o, &line, &ans);
	if (rc != 0)
		return rc;
	/* Complete: ends with an empty line (an answer with no text is that line alone). */
	if (ans.len == 0 || ans.data[ans.len - 1] != '\n' ||
	    (ans.len > 1 && ans.data[ans.len - 2] != '\n')) {
		if (ans.len > 0)
			fwrite(ans.data, 1, ans.len, stdout);
		fflush(stdout);
		fprintf(stderr, "sluicectl: truncated answer from %s (closed before its end)\n",
			o.socket);
		return EXIT_FAIL;
	}
	rc = print_answers(&ans, o.table);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "sluicectl: cannot write the answer: %s\n", strerror(errno));
		return EXIT_FAIL;
	}
	free(line.data);
	free(ans.data);
	return rc;
}
