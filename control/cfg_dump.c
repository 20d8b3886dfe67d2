/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: write a loaded configuration back as YAML ("show config").
 *
 * The walk follows the key table (cfg_keys.c), so every key the loader knows is written,
 * defaults included, and a key added to the table is dumped without touching this file. The
 * output is meant to be loaded again: cfg_load(dump(c)) gives a configuration whose dump is
 * the same text (tests/unit/cfg_dump_test.cc checks that on every valid fixture).
 *
 * Rules, in the loader's terms:
 * - strings are always double-quoted (so "true", "80" or "" stay strings), with YAML escapes;
 * - a value the loader could not read back is written as a comment instead of being left
 *   out silently: an unset string or address ("# gateway: not set"), an integer default
 *   outside the range a file may give ("# bytes: -1 (default)");
 * - planned keys (no field behind them) are not written;
 * - empty lists and dicts are written "[]" and "{}";
 * - a route writes "respond" only when it has one (the loader demands exactly one of service
 *   and respond, but respond's defaults are always filled in).
 * No line is blank: the control socket's framing ends an answer at the first empty line.
 *
 * Control core, or any process (no EAL).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cfg_internal.h"

#define FIELD(obj, off, type) ((const type *)((const char *)(obj) + (off)))

/* Where the next line goes: its depth, and whether it is the first line of a list element
 * (written "- " in place of the last two spaces of its indentation). */
struct dump_ctx {
	struct ctl_buf *out;
	bool dash;
};

static void indent(struct dump_ctx *d, unsigned int depth)
{
	for (unsigned int i = 0; i < depth; i++)
		ctl_buf_append(d->out, d->dash && i + 1 == depth ? "- " : "  ", 2);
	d->dash = false;
}

/* A comment does not start a list element: the element's first key still gets the dash. */
static void comment(struct dump_ctx *d, unsigned int depth, const char *key, const char *why)
{
	for (unsigned int i = 0; i < depth; i++)
		ctl_buf_append(d->out, "  ", 2);
	ctl_printf(d->out, "# %s: %s\n", key, why);
}

static void yaml_str(struct ctl_buf *out, const char *s)
{
	ctl_buf_append(out, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			ctl_printf(out, "\\%c", c);
		else if (c == '\n')
			ctl_buf_append(out, "\\n", 2);
		else if (c == '\t')
			ctl_buf_append(out, "\\t", 2);
		else if (c < 0x20 || c == 0x7f)
			ctl_printf(out, "\\x%02x", c);
		else
			ctl_buf_append(out, s, 1); /* UTF-8 passes through: the loader checked it */
	}
	ctl_buf_append(out, "\"", 1);
}

static const char *ip_str(uint32_t addr, char *buf)
{
	struct in_addr a = { .s_addr = addr };

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* Rows whose presence depends on another field than their own. */
static bool row_absent(const struct cfg_key *k, const void *obj)
{
	/* The route table's respond map: always filled with defaults, given only by some. */
	if (k->type == CFG_MAP && strcmp(k->name, "respond") == 0 &&
	    k->off == offsetof(struct dp_route_conf, respond))
		return !((const struct dp_route_conf *)obj)->has_respond;
	/* A service's health_check: defaults always filled in, on only when the file gave it. */
	if (k->type == CFG_MAP && strcmp(k->name, "health_check") == 0 &&
	    k->off == offsetof(struct dp_service_conf, health))
		return !((const struct dp_service_conf *)obj)->health.enabled;
	return false;
}

static void dump_table(struct dump_ctx *d, const struct cfg_table *t, const void *obj,
		       unsigned int depth);

static void dump_int(struct dump_ctx *d, const struct cfg_key *k, const void *obj,
		     unsigned int depth)
{
	char why[64];
	int64_t s;
	uint64_t v;

	if (k->type == CFG_U32) {
		v = *FIELD(obj, k->off, uint32_t);
	} else if (k->type == CFG_U64) {
		v = *FIELD(obj, k->off, uint64_t);
	} else {
		s = *FIELD(obj, k->off, int64_t);
		if (s < 0) {
			snprintf(why, sizeof(why), "%" PRId64 " (default)", s);
			comment(d, depth, k->name, why);
			return;
		}
		v = (uint64_t)s;
	}
	if (v < k->min || v > k->max) {
		snprintf(why, sizeof(why), "%" PRIu64 " (default)", v);
		comment(d, depth, k->name, why);
		return;
	}
	indent(d, depth);
	ctl_printf(d->out, "%s: %" PRIu64 "\n", k->name, v);
}

static void dump_scalar(struct dump_ctx *d, const struct cfg_key *k, const void *obj,
			unsigned int depth)
{
	char a[INET_ADDRSTRLEN];
	const char *s;

	switch (k->type) {
	case CFG_BOOL:
		indent(d, depth);
		ctl_printf(d->out, "%s: %s\n", k->name,
			   *FIELD(obj, k->off, bool) ? "true" : "false");
		return;
	case CFG_U32:
	case CFG_U64:
	case CFG_I64:
		dump_int(d, k, obj, depth);
		return;
	case CFG_STR:
		s = *FIELD(obj, k->off, char *);
		if (s == NULL) {
			comment(d, depth, k->name, "not set");
			return;
		}
		indent(d, depth);
		ctl_printf(d->out, "%s: ", k->name);
		yaml_str(d->out, s);
		ctl_buf_append(d->out, "\n", 1);
		return;
	case CFG_ENUM:
		for (const struct cfg_enum *e = k->enums; e->name; e++) {
			if (e->value == *FIELD(obj, k->off, uint32_t)) {
				indent(d, depth);
				ctl_printf(d->out, "%s: %s\n", k->name, e->name);
				return;
			}
		}
		comment(d, depth, k->name, "unknown value");
		return;
	case CFG_IPV4:
		if (*FIELD(obj, k->off, uint32_t) == 0) {
			comment(d, depth, k->name, "not set");
			return;
		}
		indent(d, depth);
		ctl_printf(d->out, "%s: %s\n", k->name, ip_str(*FIELD(obj, k->off, uint32_t), a));
		return;
	case CFG_PREFIX:
	case CFG_ADDRPORT:
		indent(d, depth);
		ctl_printf(d->out, "%s: %s%c%" PRIu32 "\n", k->name,
			   ip_str(*FIELD(obj, k->off, uint32_t), a),
			   k->type == CFG_PREFIX ? '/' : ':', *FIELD(obj, k->off2, uint32_t));
		return;
	default:
		return;
	}
}

/* Codes and ranges as strings ("200", "200-399"): the loader reads both. */
static void dump_status(struct dump_ctx *d, const struct cfg_key *k, const void *obj,
			unsigned int depth)
{
	const struct dp_status_range *r = FIELD(obj, k->off, struct dp_status_range);
	uint32_t n = *FIELD(obj, k->off2, uint32_t);

	indent(d, depth);
	ctl_printf(d->out, "%s: [", k->name);
	for (uint32_t i = 0; i < n; i++) {
		ctl_printf(d->out, "%s\"%u", i ? ", " : "", r[i].lo);
		if (r[i].hi != r[i].lo)
			ctl_printf(d->out, "-%u", r[i].hi);
		ctl_buf_append(d->out, "\"", 1);
	}
	ctl_buf_append(d->out, "]\n", 2);
}

/* Every name whose bits are set, in table order; "500" and the like quoted. */
static void dump_flags(struct dump_ctx *d, const struct cfg_key *k, const void *obj,
		       unsigned int depth)
{
	uint32_t v = *FIELD(obj, k->off, uint32_t);
	bool first = true;

	indent(d, depth);
	ctl_printf(d->out, "%s: [", k->name);
	for (const struct cfg_enum *e = k->enums; e->name; e++) {
		if ((v & e->value) != e->value || e->value == 0)
			continue;
		if (!first)
			ctl_buf_append(d->out, ", ", 2);
		yaml_str(d->out, e->name);
		first = false;
	}
	ctl_buf_append(d->out, "]\n", 2);
}

static void dump_key(struct dump_ctx *d, const struct cfg_key *k, const void *obj,
		     unsigned int depth)
{
	uint32_t n = 0;
	const char *arr;

	if (k->type == CFG_STRLIST || k->type == CFG_LIST || k->type == CFG_DICT)
		n = *FIELD(obj, k->off2, uint32_t);
	switch (k->type) {
	case CFG_MAP:
		indent(d, depth);
		ctl_printf(d->out, "%s:\n", k->name);
		dump_table(d, k->sub, FIELD(obj, k->off, char), depth + 1);
		return;
	case CFG_STRLIST:
		indent(d, depth);
		ctl_printf(d->out, "%s: [", k->name);
		for (uint32_t i = 0; i < n; i++) {
			const char *s = (*FIELD(obj, k->off, char **))[i];

			if (i)
				ctl_buf_append(d->out, ", ", 2);
			yaml_str(d->out, s ? s : "");
		}
		ctl_buf_append(d->out, "]\n", 2);
		return;
	case CFG_STATUS:
		dump_status(d, k, obj, depth);
		return;
	case CFG_FLAGS:
		dump_flags(d, k, obj, depth);
		return;
	case CFG_LIST:
	case CFG_DICT:
		indent(d, depth);
		if (n == 0) {
			ctl_printf(d->out, "%s: %s\n", k->name, k->type == CFG_LIST ? "[]" : "{}");
			return;
		}
		ctl_printf(d->out, "%s:\n", k->name);
		arr = *FIELD(obj, k->off, char *);
		for (uint32_t i = 0; i < n; i++) {
			const void *elem = arr + (size_t)i * k->elem_size;

			if (k->type == CFG_DICT) {
				indent(d, depth + 1);
				yaml_str(d->out, *FIELD(elem, k->sub->name_off, char *));
				ctl_buf_append(d->out, ":\n", 2);
				dump_table(d, k->sub, elem, depth + 2);
				continue;
			}
			d->dash = true;
			dump_table(d, k->sub, elem, depth + 2);
			if (d->dash) { /* an element with nothing to write */
				d->dash = false;
				for (unsigned int j = 0; j < depth + 1; j++)
					ctl_buf_append(d->out, "  ", 2);
				ctl_buf_append(d->out, "- {}\n", 5);
			}
		}
		return;
	default:
		dump_scalar(d, k, obj, depth);
	}
}

static void dump_table(struct dump_ctx *d, const struct cfg_table *t, const void *obj,
		       unsigned int depth)
{
	for (unsigned int i = 0; i < t->n_keys; i++) {
		const struct cfg_key *k = &t->keys[i];

		if ((k->flags & CFG_PLANNED) || row_absent(k, obj))
			continue;
		/* A dict element's name is its key, not a row of its own. */
		if (t->name_off != 0 && k->type == CFG_STR && k->off == t->name_off)
			continue;
		dump_key(d, k, obj, depth);
	}
}

int cfg_dump(const struct dp_conf *c, struct ctl_buf *out)
{
	struct dump_ctx d = { .out = out, .dash = false };

	if (c == NULL)
		return -EINVAL;
	dump_table(&d, &cfg_root_table, c, 0);
	return 0;
}

/* The text of top-level section key ("listeners:") in a dump, up to the next top-level key. */
/* Workers size their buffer for a request or response head at start (the largest
 * max_header_bytes then, at least the parser's default), and each request's header spans (the
 * largest max_headers then, at least the parser's default: px_req.c): a reload cannot go above
 * either. */
unsigned int cfg_diff_live(const struct dp_conf *running, const struct dp_conf *next,
			   struct cfg_errors *errs)
{
	uint32_t max = HTTP_DEFAULT_MAX_HEADER_BYTES, max_hdrs = HTTP_DEFAULT_MAX_HEADERS;
	unsigned int found = 0;

	for (uint32_t i = 0; i < running->n_listeners; i++) {
		if (running->listeners[i].limits.max_header_bytes > max)
			max = running->listeners[i].limits.max_header_bytes;
		if (running->listeners[i].limits.max_headers > max_hdrs)
			max_hdrs = running->listeners[i].limits.max_headers;
	}
	for (uint32_t i = 0; i < next->n_listeners; i++) {
		const struct dp_listener_conf *l = &next->listeners[i];

		if (l->limits.max_headers > max_hdrs) {
			cfg_error(
				errs,
				"%s: cannot raise listeners[%u].limits.max_headers (%s) to %u on "
				"reload: workers sized each request's header spans for %u at start "
				"(restart sluice)",
				next->file, i, l->name, l->limits.max_headers, max_hdrs);
			found++;
		}
		if (l->limits.max_header_bytes <= max)
			continue;
		cfg_error(errs,
			  "%s: cannot raise listeners[%u].limits.max_header_bytes (%s) to %u on "
			  "reload: "
			  "workers sized their buffers for %u at start (restart sluice)",
			  next->file, i, l->name, l->limits.max_header_bytes, max);
		found++;
	}
	return found;
}
