/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target: the YAML configuration loader (cfg_load), as `sluice --check` runs it.
 *
 * The input is written to a file of this process and loaded. Errors are fine; crashes, leaks
 * (LeakSanitizer, after every input) and malformed reports are not: every error line is
 * "FILE:LINE:COL: message" with LINE inside the document, or "FILE: message", and holds no
 * control character (one error per line, as --check prints them). A configuration that
 * loads must survive the round trip "show config" relies on: cfg_dump, load the dump again,
 * and the second dump is the same text; a deep copy dumps the same too, and neither a reload
 * check nor a live check finds a difference between the two.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"

#define FZ_CHECK(cond)                                                                       \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

static char path_in[64], path_dump[64];

static void cleanup(void)
{
	unlink(path_in);
	unlink(path_dump);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(path_in, sizeof(path_in), "%s/cfg_fuzz.%d.yaml", tmp ? tmp : "/tmp",
		 (int)getpid());
	snprintf(path_dump, sizeof(path_dump), "%s/cfg_fuzz.%d.dump.yaml", tmp ? tmp : "/tmp",
		 (int)getpid());
	atexit(cleanup);
	return 0;
}

static void write_file(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	FZ_CHECK(f != NULL);
	FZ_CHECK(fwrite(data, 1, size, f) == size || size == 0);
	FZ_CHECK(fclose(f) == 0);
}

/* One error line as --check prints it. */
static void check_error(const char *line, const char *path, unsigned int max_line)
{
	size_t plen = strlen(path);
	const char *p;
	char *end;
	unsigned long ln, col;

	FZ_CHECK(strncmp(line, path, plen) == 0 && line[plen] == ':');
	for (p = line; *p; p++)
		FZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
	p = line + plen + 1;
	if (*p == ' ')
		return; /* "FILE: message" */
	ln = strtoul(p, &end, 10);
	FZ_CHECK(end != p && *end == ':');
	p = end + 1;
	col = strtoul(p, &end, 10);
	FZ_CHECK(end != p && end[0] == ':' && end[1] == ' ' && end[2] != '\0');
	FZ_CHECK(ln >= 1 && ln <= max_line && col >= 1);
}

static void dump(const struct dp_conf *c, struct ctl_buf *out)
{
	memset(out, 0, sizeof(*out));
	FZ_CHECK(cfg_dump(c, out) == 0);
	FZ_CHECK(out->len > 0 && out->data[out->len - 1] == '\n');
	FZ_CHECK(strstr(out->data, "\n\n") == NULL); /* the control socket ends an answer there */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors errs = { 0 }, errs2 = { 0 };
	struct dp_conf *c, *c2, *c3;
	struct ctl_buf d1, d2, d3;
	unsigned int lines = 1, i;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n' || data[i] == '\r';
	write_file(path_in, data, size);
	c = cfg_load(path_in, &errs);
	if (c == NULL) {
		FZ_CHECK(errs.n > 0);
		for (i = 0; i < errs.n; i++)
			check_error(errs.lines[i], path_in, lines + 1);
		cfg_errors_free(&errs);
		return 0;
	}
	FZ_CHECK(errs.n == 0);

	dump(c, &d1);
	write_file(path_dump, d1.data, d1.len);
	c2 = cfg_load(path_dump, &errs2);
	if (c2 == NULL) {
		for (i = 0; i < errs2.n; i++)
			fprintf(stderr, "dump does not load again: %s\n", errs2.lines[i]);
		fprintf(stderr, "--- the dump:\n%s", d1.data);
	}
	FZ_CHECK(c2 != NULL);
	dump(c2, &d2);
	if (d1.len != d2.len || memcmp(d1.data, d2.data, d1.len) != 0)
		fprintf(stderr, "--- first dump:\n%s--- second dump:\n%s", d1.data, d2.data);
	FZ_CHECK(d1.len == d2.len && memcmp(d1.data, d2.data, d1.len) == 0);
	FZ_CHECK(cfg_diff_static(c, c2, &errs2) == 0);
	FZ_CHECK(cfg_diff_live(c, c2, &errs2) == 0);

	c3 = cfg_dup(c);
	FZ_CHECK(c3 != NULL);
	dump(c3, &d3);
	FZ_CHECK(d1.len == d3.len && memcmp(d1.data, d3.data, d1.len) == 0);

	ctl_buf_free(&d1);
	ctl_buf_free(&d2);
	ctl_buf_free(&d3);
	cfg_free(c);
	cfg_free(c2);
	cfg_free(c3);
	cfg_errors_free(&errs2);
	return 0;
}
