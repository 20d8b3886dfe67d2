/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: the access log (control.access_log), one line per request.
 *
 * Workers never touch files: each queues fixed-size records (dataplane/proxy/px_obs.h) on its own
 * single-producer/single-consumer ring; the control loop drains every ring on each tick
 * (10 ms while the log is on), writes the lines through one stdio buffer and flushes it once
 * per tick. Format (docs/observability.md, "Access log"), fields separated by one space:
 *
 *   TIME CLIENT LISTENER ROUTE METHOD HOST TARGET STATUS SERVICE/ENDPOINT BYTES_IN BYTES_OUT
 *   T_HEADER T_CONNECT T_FIRST_BYTE T_TOTAL END
 *
 * "-" stands for a field that does not apply. Text fields are the request's bytes with any
 * byte outside '!'..'~' and '\' written \xHH, cut at PX_ALOG_HOST / PX_ALOG_TARGET bytes.
 *
 * SIGHUP (and a reload) reopens the file: logrotate moves it away, then signals. Control only.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <rte_cycles.h>

#include "control.h"
#include "px_obs.h"

#define MET_ALOG_MAX_PER_POLL 16384 /* lines per worker and tick: bounds the control loop */
#define MET_ALOG_BUF (1 << 16)

struct met_alog {
	const struct dp *dp;
	FILE *f; /* NULL: off (records are still drained, and dropped) */
	char *path;
	uint64_t lines;
	/* wall clock and TSC read together at each poll: a record's TSC becomes a time */
	struct timespec ref_wall;
	uint64_t ref_tsc;
};

static FILE *alog_fopen(const char *path, char *err, size_t errlen)
{
	/* 0640: client addresses and request targets are not for every local user */
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	FILE *f;

	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	f = fdopen(fd, "a");
	if (f == NULL) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	setvbuf(f, NULL, _IOFBF, MET_ALOG_BUF);
	return f;
}

struct met_alog *met_alog_open(const struct dp *dp, const char *path, char *err, size_t errlen)
{
	struct met_alog *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->dp = dp;
	if (path != NULL && path[0] != '\0') {
		a->f = alog_fopen(path, err, errlen);
		a->path = strdup(path);
		if (a->f == NULL || a->path == NULL) {
			if (a->f != NULL)
				fclose(a->f);
			free(a->path);
			free(a);
			return NULL;
		}
	}
	return a;
}

int met_alog_reopen(struct met_alog *a, const char *path)
{
	char err[PATH_MAX + 64];
	char *copy;
	FILE *f;

	if (a == NULL)
		return 0;
	if (a->f != NULL)
		fflush(a->f);
	if (path == NULL || path[0] == '\0') {
		if (a->f != NULL)
			fclose(a->f);
		a->f = NULL;
		free(a->path);
		a->path = NULL;
		return 0;
	}
	f = alog_fopen(path, err, sizeof(err));
	copy = strdup(path);
	if (f == NULL || copy == NULL) {
		/* keep writing where we were: a rotated file is better than no log */
		MET_LOG(ERR, "sluice: control.access_log %s%s", f == NULL ? "" : path,
			f == NULL ? err : ": out of memory");
		if (f != NULL)
			fclose(f);
		free(copy);
		return -EIO;
	}
	if (a->f != NULL)
		fclose(a->f);
	free(a->path);
	a->f = f;
	a->path = copy;
	return 0;
}

bool met_alog_active(const struct met_alog *a)
{
	return a != NULL && a->f != NULL;
}

/* Text field: '-' when empty, bytes outside '!'..'~' and backslash as \xHH. */
static void alog_text(FILE *f, const char *s, unsigned int len)
{
	if (len == 0) {
		fputc('-', f);
		return;
	}
	for (unsigned int i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < '!' || c > '~' || c == '\\')
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

static void alog_ms(FILE *f, uint32_t us)
{
	if (us == PX_ALOG_NONE)
		fputs(" -", f);
	else
		fprintf(f, " %" PRIu32 ".%03" PRIu32, us / 1000, us % 1000);
}

static void alog_line(const struct px_alog_rec *r, void *arg)
{
	struct met_alog *a = arg;
	char when[40], ip[INET_ADDRSTRLEN];
	struct in_addr in = { .s_addr = r->client_ip };
	uint64_t ago_ns;
	struct timespec ts = a->ref_wall;
	struct tm tm;
	FILE *f = a->f;

	if (f == NULL)
		return;
	ago_ns = a->ref_tsc > r->tsc
			 ? (uint64_t)((double)(a->ref_tsc - r->tsc) * 1e9 / (double)a->dp->hz)
			 : 0;
	ts.tv_sec -= (time_t)(ago_ns / 1000000000u);
	ago_ns %= 1000000000u;
	if ((uint64_t)ts.tv_nsec < ago_ns) {
		ts.tv_sec--;
		ts.tv_nsec += 1000000000;
	}
	ts.tv_nsec -= (long)ago_ns;
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	inet_ntop(AF_INET, &in, ip, sizeof(ip));
	fprintf(f, "%s.%03ldZ %s:%u ", when, ts.tv_nsec / 1000000, ip, r->client_port);
	fputs(r->listener, f);
	if (r->route >= 0)
		fprintf(f, " %" PRId32 " ", r->route);
	else
		fputs(" - ", f);
	alog_text(f, r->method, r->method_len);
	fputc(' ', f);
	alog_text(f, r->host, r->host_len);
	fputc(' ', f);
	alog_text(f, r->target, r->target_len);
	if (r->status != 0)
		fprintf(f, " %u ", r->status);
	else
		fputs(" - ", f);
	if (strcmp(r->svc, "-") == 0)
		fputc('-', f);
	else
		fprintf(f, "%s/%s", r->svc, r->ep);
	fprintf(f, " %" PRIu64 " %" PRIu64, r->bytes_in, r->bytes_out);
	for (unsigned int i = 0; i < 4; i++)
		alog_ms(f, r->t_us[i]);
	fputs(r->aborted ? " abort\n" : " done\n", f);
	a->lines++;
}

void met_alog_poll(struct met_alog *a)
{
	if (a == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &a->ref_wall);
	a->ref_tsc = rte_rdtsc();
	for (unsigned int i = 0; i < a->dp->n_workers && i < DP_MAX_WORKERS; i++)
		if (a->dp->workers[i] != NULL)
			px_obs_alog_drain(a->dp->workers[i], alog_line, a, MET_ALOG_MAX_PER_POLL);
	if (a->f != NULL)
		fflush(a->f);
}

void met_alog_close(struct met_alog *a)
{
	if (a == NULL)
		return;
	if (a->f != NULL)
		fclose(a->f);
	free(a->path);
	free(a);
}
