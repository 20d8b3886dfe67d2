/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: the growable answer buffer and a JSON string escaper.
 *
 * Control core only: these allocate. data is always NUL-terminated when non-NULL, so an answer
 * can be handed to printf-style consumers; len never counts the terminator. When memory runs
 * out the append is dropped rather than half-written: the answer framing (one empty line at
 * the end) is added by the executor afterwards and stays intact.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

/* Make room for at least extra more bytes plus the terminator. Returns 0 or -ENOMEM. */
static int ctl_buf_reserve(struct ctl_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

void ctl_buf_append(struct ctl_buf *b, const void *data, size_t len)
{
	if (ctl_buf_reserve(b, len) < 0)
		return;
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void ctl_printf(struct ctl_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	if (ctl_buf_reserve(b, 128) < 0)
		return;
	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->data[b->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		/* Did not fit: grow to the exact size and format again. */
		if (ctl_buf_reserve(b, (size_t)n) < 0) {
			b->data[b->len] = '\0';
			return;
		}
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void ctl_buf_free(struct ctl_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when s does not start one. Overlong
 * forms, surrogates and code points above U+10FFFF are invalid (RFC 3629). */
static size_t ctl_utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void ctl_json_str(struct ctl_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	const unsigned char *run = p; /* start of bytes copied verbatim */
	size_t n;

	ctl_buf_append(b, "\"", 1);
	while (*p != '\0') {
		if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
			p++;
			continue;
		}
		if (*p >= 0x80) {
			n = ctl_utf8_len(p);
			if (n > 0) {
				p += n;
				continue;
			}
		}
		ctl_buf_append(b, run, (size_t)(p - run));
		switch (*p) {
		case '"':
			ctl_buf_append(b, "\\\"", 2);
			break;
		case '\\':
			ctl_buf_append(b, "\\\\", 2);
			break;
		case '\n':
			ctl_buf_append(b, "\\n", 2);
			break;
		case '\t':
			ctl_buf_append(b, "\\t", 2);
			break;
		case '\r':
			ctl_buf_append(b, "\\r", 2);
			break;
		default:
			if (*p < 0x20)
				ctl_printf(b, "\\u%04x", *p);
			else
				ctl_buf_append(b, "\\ufffd", 6);
			break;
		}
		p++;
		run = p;
	}
	ctl_buf_append(b, run, (size_t)(p - run));
	ctl_buf_append(b, "\"", 1);
}
