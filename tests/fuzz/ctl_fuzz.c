/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target: one control-socket line through ctl_execute, run twice: without a
 * dataplane, and with live state: a fake dataplane of two workers (no EAL, no ports, no
 * RCU: publishing waits for nothing) running configs/proxy-example.yaml with a snapshot
 * built from it, so set/enable/disable/add/del server, reload and the show commands work on
 * real listener, service and endpoint objects. After each input the fake dataplane is put
 * back to its start-up configuration.
 *
 * Beyond "no crash, no leak" (ASan, LeakSanitizer, UBSan), it checks the framing promise
 * operators' scripts rely on: the reply is empty or ends with a newline, every answer ends
 * with its empty line, and no control character other than '\n' and '\t' ever reaches the
 * client.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "dp_worker.h"

#ifndef SLUICE_SRC_DIR
#define SLUICE_SRC_DIR "."
#endif

static struct {
	struct dp dp;
	struct dp_worker *workers[2];
	const struct dp_conf *startup;
} live;

static void check_reply(const struct ctl_buf *out)
{
	size_t i;

	if (out->len > 0) {
		if (out->data[out->len - 1] != '\n' || strlen(out->data) != out->len)
			abort();
		/* An answer with text ends with "\n\n"; only an empty one (prompt) is "\n". */
		if (out->data[0] != '\n' && (out->len < 2 || out->data[out->len - 2] != '\n'))
			abort();
	}
	for (i = 0; i < out->len; i++) {
		unsigned char c = (unsigned char)out->data[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			abort();
	}
}

static void run(struct ctl_env *env, const char *line)
{
	struct ctl_buf out = { 0 };
	bool prompt = false, quit = false;

	ctl_execute(env, line, &out, &prompt, &quit);
	check_reply(&out);
	ctl_buf_free(&out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct cfg_errors errs = { 0 };
	struct dp_conf *conf = cfg_load(SLUICE_SRC_DIR "/configs/proxy-example.yaml", &errs);

	(void)argc;
	(void)argv;
	rte_log_set_global_level(RTE_LOG_ERR); /* "reloaded ..." on every reload otherwise */
	if (conf == NULL) {
		fprintf(stderr, "ctl_fuzz: %s\n", errs.n ? errs.lines[0] : "cannot load config");
		exit(1);
	}
	for (unsigned int i = 0; i < 2; i++) {
		live.workers[i] = calloc(1, sizeof(*live.workers[i]));
		if (live.workers[i] == NULL)
			exit(1);
		live.workers[i]->id = (uint16_t)i;
		live.workers[i]->dp = &live.dp;
		live.dp.workers[i] = live.workers[i];
	}
	live.dp.n_workers = 2;
	live.dp.conf = conf;
	live.startup = conf;
	live.dp.snapshot = dp_snapshot_new(&live.dp, conf, NULL, 1);
	if (live.dp.snapshot == NULL)
		exit(1);
	return 0;
}

/* A reload may name any file; the fuzzer must not make it read a device that blocks. */
static bool harmless(const char *line)
{
	return strstr(line, "/dev") == NULL && strstr(line, "/proc") == NULL &&
	       strstr(line, "/sys") == NULL && strstr(line, "/run") == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool stop = false;
	struct ctl_env env = { .dp = NULL, .conf = NULL, .start_time = 0, .quit = &stop };
	char *line = malloc(size + 1);

	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0'; /* the server answers NUL bytes itself; a line ends at the first */
	run(&env, line);

	if (harmless(line)) {
		env.dp = &live.dp;
		env.conf = live.dp.snapshot->conf;
		env.start_time = 1700000000;
		run(&env, line);
		/* back to the start-up configuration: live weights, states, added servers go */
		ctl_snapshot_publish(&env, ctl_snapshot_build(&env, live.startup, false));
	}
	free(line);
	return 0;
}
