/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target: one control-socket line through ctl_execute, without a dataplane.
 *
 * Beyond "no crash, no leak" (ASan), it checks the framing promise operators' scripts rely
 * on: the reply is empty or ends with a newline, every answer ends with its empty line, and
 * no control character other than '\n' and '\t' ever reaches the client.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	volatile bool stop = false;
	struct ctl_env env = { .dp = NULL, .conf = NULL, .start_time = 0, .quit = &stop };
	struct ctl_buf out = { 0 };
	bool prompt = false, quit = false;
	char *line = malloc(size + 1);
	size_t i;

	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0'; /* the server answers NUL bytes itself; a line ends at the first */
	ctl_execute(&env, line, &out, &prompt, &quit);

	if (out.len > 0) {
		if (out.data[out.len - 1] != '\n' || strlen(out.data) != out.len)
			abort();
		/* An answer with text ends with "\n\n"; only an empty one (prompt) is "\n". */
		if (out.data[0] != '\n' && (out.len < 2 || out.data[out.len - 2] != '\n'))
			abort();
	}
	for (i = 0; i < out.len; i++) {
		unsigned char c = (unsigned char)out.data[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			abort();
	}
	ctl_buf_free(&out);
	free(line);
	return 0;
}
