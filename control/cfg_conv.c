/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: the configuration loader's scalar conversion and messages, split out of
 * cfg_load.c (which keeps the YAML walk): text to typed fields along a table row, defaults,
 * the "expected ..." phrase of a row, did-you-mean, and the cfg_errors list of control.h.
 * Knows nothing of libyaml. Control core or `sluice --check` only; allocates freely.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* vasprintf */
#endif
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_internal.h"

/* ---- errors ---- */

void cfg_error(struct cfg_errors *errs, const char *fmt, ...)
{
	va_list ap;
	char *line;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	if (line == NULL)
		return;
	if (errs->n == errs->cap) {
		unsigned int cap = errs->cap ? errs->cap * 2 : 16;
		char **l = realloc(errs->lines, cap * sizeof(*l));

		if (l == NULL) {
			free(line);
			return;
		}
		errs->lines = l;
		errs->cap = cap;
	}
	errs->lines[errs->n++] = line;
}

void cfg_errors_free(struct cfg_errors *errs)
{
	for (unsigned int i = 0; i < errs->n; i++)
		free(errs->lines[i]);
	free(errs->lines);
	errs->lines = NULL;
	errs->n = errs->cap = 0;
}

char *cfg_strdupf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* "a.b" from path and key, either of which may be empty. */
char *cfg_join(const char *path, const char *key)
{
	if (path == NULL)
		path = "";
	if (key == NULL || key[0] == '\0')
		return strdup(path);
	if (path[0] == '\0')
		return strdup(key);
	return cfg_strdupf("%s.%s", path, key);
}

/* Optimal string alignment distance (a swap of two neighbours costs one), ignoring case. */
static unsigned int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned int d[CFG_NAME_MAX + 2][CFG_NAME_MAX + 2];

	if (la > CFG_NAME_MAX || lb > CFG_NAME_MAX)
		return ~0u;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			unsigned int cost = tolower((unsigned char)a[i - 1]) !=
					    tolower((unsigned char)b[j - 1]);
			unsigned int v = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

const char *cfg_closest(const char *word, const void *base, unsigned int n, size_t stride,
			size_t name_off)
{
	/* Two edits catch most typos; on short words that would suggest nearly anything. */
	unsigned int limit = strlen(word) <= 4 ? 1 : 2, best_d = ~0u;
	const char *best = NULL;

	for (unsigned int i = 0; i < n; i++) {
		const char *name = *(char *const *)((const char *)base + i * stride + name_off);
		unsigned int d;

		if (name == NULL)
			continue;
		d = edit_distance(word, name);
		if (d <= limit && d < strlen(name) && d < best_d) {
			best = name;
			best_d = d;
		}
	}
	return best;
}

/* ---- scalars ---- */

/* The phrase after "expected " for a row. */
void cfg_expected(const struct cfg_key *k, char *buf, size_t len)
{
	uint64_t tmax = k->type == CFG_U32   ? UINT32_MAX
			: k->type == CFG_I64 ? INT64_MAX
					     : UINT64_MAX;
	size_t o;

	switch (k->type) {
	case CFG_BOOL:
		snprintf(buf, len, "true or false");
		break;
	case CFG_U32:
	case CFG_U64:
	case CFG_I64:
		if (k->max >= tmax && k->min == 0)
			snprintf(buf, len, "a non-negative integer");
		else if (k->max >= tmax)
			snprintf(buf, len, "an integer of at least %llu",
				 (unsigned long long)k->min);
		else
			snprintf(buf, len, "an integer from %llu to %llu",
				 (unsigned long long)k->min, (unsigned long long)k->max);
		break;
	case CFG_STR:
		if (k->flags & CFG_NAME)
			snprintf(buf, len, "a name of 1 to %u characters from A-Z a-z 0-9 . _ : -",
				 CFG_NAME_MAX);
		else if (k->max)
			snprintf(buf, len, "a string of %llu to %llu characters",
				 (unsigned long long)k->min, (unsigned long long)k->max);
		else if (k->min)
			snprintf(buf, len, "a non-empty string");
		else
			snprintf(buf, len, "a string");
		break;
	case CFG_ENUM:
		o = snprintf(buf, len, "one of");
		for (const struct cfg_enum *e = k->enums; e->name && o < len; e++)
			if (!e->planned)
				o += snprintf(buf + o, len - o, "%s %s", e == k->enums ? "" : ",",
					      e->name);
		break;
	case CFG_IPV4:
		snprintf(buf, len, "an IPv4 address A.B.C.D");
		break;
	case CFG_PREFIX:
		snprintf(buf, len,
			 "an IPv4 address and prefix length A.B.C.D/N, N from %llu to %llu",
			 (unsigned long long)k->min, (unsigned long long)k->max);
		break;
	case CFG_ADDRPORT:
		snprintf(buf, len, "an IPv4 address and port A.B.C.D:PORT, PORT from 1 to 65535");
		break;
	case CFG_STRLIST:
		snprintf(buf, len, "a list of strings");
		break;
	case CFG_MAP:
		o = snprintf(buf, len, "a mapping");
		if ((k->flags & CFG_SHORT) && o + 5 < len) {
			o += snprintf(buf + o, len - o, " or ");
			cfg_expected(&k->sub->keys[0], buf + o, len - o);
		}
		break;
	case CFG_LIST:
		snprintf(buf, len, "a list of mappings");
		break;
	case CFG_DICT:
		snprintf(buf, len, "a mapping of names to mappings");
		break;
	case CFG_STATUS:
		snprintf(buf, len,
			 "a status code or a range LO-HI of codes from 100 to 599 (\"200\", "
			 "\"200-399\")");
		break;
	case CFG_FLAGS:
		o = snprintf(buf, len, "one of");
		for (const struct cfg_enum *e = k->enums; e->name && o < len; e++)
			if (!e->planned)
				o += snprintf(buf + o, len - o, "%s %s", e == k->enums ? "" : ",",
					      e->name);
		break;
	}
}

/* Decimal digits only: no sign, no 0x, no 1e3, no spaces. */
static int parse_u64(const char *s, uint64_t *v)
{
	uint64_t r = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (r > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		r = r * 10 + (uint64_t)(*s - '0');
	}
	*v = r;
	return 0;
}

bool cfg_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CFG_NAME_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") == n;
}

static int parse_ipv4(const char *s, uint32_t *addr)
{
	struct in_addr a;

	/* glibc's inet_pton takes exactly four decimal octets, no leading zeros. */
	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*addr = a.s_addr;
	return 0;
}

/* "A.B.C.D" SEP "N": the address and the number, N within lo..hi. */
static int parse_addr_num(const char *s, char sep, uint32_t *addr, uint32_t *num, uint64_t lo,
			  uint64_t hi)
{
	const char *p = strrchr(s, sep);
	char ip[INET_ADDRSTRLEN];
	uint64_t v;

	if (p == NULL || (size_t)(p - s) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, p - s);
	ip[p - s] = '\0';
	if (parse_ipv4(ip, addr) < 0 || parse_u64(p + 1, &v) < 0)
		return -EINVAL;
	if (v < lo || v > hi)
		return -ERANGE;
	*num = (uint32_t)v;
	return 0;
}

#define FIELD(obj, off, type) ((type *)((char *)(obj) + (off)))

/* "CODE" or "LO-HI", each 100..599, LO <= HI. */
static int parse_status(const char *s, struct dp_status_range *r)
{
	const char *dash = strchr(s, '-');
	char lo[8];
	uint64_t a, b;

	if (dash == NULL) {
		if (parse_u64(s, &a) < 0)
			return -EINVAL;
		b = a;
	} else {
		if ((size_t)(dash - s) >= sizeof(lo))
			return -EINVAL;
		memcpy(lo, s, dash - s);
		lo[dash - s] = '\0';
		if (parse_u64(lo, &a) < 0 || parse_u64(dash + 1, &b) < 0)
			return -EINVAL;
	}
	if (a < 100 || a > 599 || b < 100 || b > 599 || a > b)
		return -ERANGE;
	r->lo = (uint16_t)a;
	r->hi = (uint16_t)b;
	return 0;
}

/* Convert text into k's field(s) of obj. check is false for the table's own defaults, which
 * may sit outside the range a user may write (bytes: -1). Returns 0, -EINVAL, -ERANGE, or
 * -ENOTSUP for a planned enum value. */
int cfg_conv_scalar(const struct cfg_key *k, const char *s, void *obj, bool check)
{
	uint64_t v = 0;
	size_t n;
	char *dup;

	switch (k->type) {
	case CFG_BOOL:
		if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
			*FIELD(obj, k->off, bool) = true;
		else if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
			 strcmp(s, "FALSE") == 0)
			*FIELD(obj, k->off, bool) = false;
		else
			return -EINVAL;
		return 0;
	case CFG_U32:
	case CFG_U64:
	case CFG_I64:
		if (!check && k->type == CFG_I64 && s[0] == '-') {
			*FIELD(obj, k->off, int64_t) = strtoll(s, NULL, 10);
			return 0;
		}
		if (parse_u64(s, &v) < 0)
			return -EINVAL;
		if (check && (v < k->min || v > k->max))
			return -ERANGE;
		if (k->type == CFG_U32 && v > UINT32_MAX)
			return -ERANGE;
		if (k->type == CFG_I64 && v > INT64_MAX)
			return -ERANGE;
		if (k->type == CFG_U32)
			*FIELD(obj, k->off, uint32_t) = (uint32_t)v;
		else if (k->type == CFG_U64)
			*FIELD(obj, k->off, uint64_t) = v;
		else
			*FIELD(obj, k->off, int64_t) = (int64_t)v;
		return 0;
	case CFG_STR:
		n = strlen(s);
		if (check && (k->flags & CFG_NAME) && !cfg_name_ok(s))
			return -EINVAL;
		if (check && (n < k->min || (k->max && n > k->max)))
			return -ERANGE;
		dup = strdup(s);
		if (dup == NULL)
			return -ENOMEM;
		free(*FIELD(obj, k->off, char *));
		*FIELD(obj, k->off, char *) = dup;
		return 0;
	case CFG_ENUM:
		for (const struct cfg_enum *e = k->enums; e->name; e++) {
			if (strcmp(e->name, s) != 0)
				continue;
			if (check && e->planned)
				return -ENOTSUP;
			*FIELD(obj, k->off, uint32_t) = e->value;
			return 0;
		}
		return -EINVAL;
	case CFG_IPV4:
		return parse_ipv4(s, FIELD(obj, k->off, uint32_t));
	case CFG_PREFIX:
		return parse_addr_num(s, '/', FIELD(obj, k->off, uint32_t),
				      FIELD(obj, k->off2, uint32_t), k->min, k->max);
	case CFG_ADDRPORT:
		return parse_addr_num(s, ':', FIELD(obj, k->off, uint32_t),
				      FIELD(obj, k->off2, uint32_t), 1, 65535);
	case CFG_STATUS: /* one entry, appended */
		n = *FIELD(obj, k->off2, uint32_t);
		if (n >= k->max)
			return -E2BIG;
		if (parse_status(s, &FIELD(obj, k->off, struct dp_status_range)[n]) < 0)
			return -EINVAL;
		*FIELD(obj, k->off2, uint32_t) = (uint32_t)n + 1;
		return 0;
	case CFG_FLAGS: /* one name, ORed in */
		for (const struct cfg_enum *e = k->enums; e->name; e++) {
			if (strcmp(e->name, s) != 0)
				continue;
			if (check && e->planned)
				return -ENOTSUP;
			*FIELD(obj, k->off, uint32_t) |= e->value;
			return 0;
		}
		return -EINVAL;
	default:
		return -EINVAL;
	}
}

/* CFG_STATUS, CFG_FLAGS: the comma-separated default, entry by entry, over an empty value. */
static void cfg_default_list(const struct cfg_key *k, void *obj)
{
	char item[64];

	if (k->type == CFG_STATUS)
		*FIELD(obj, k->off2, uint32_t) = 0;
	else
		*FIELD(obj, k->off, uint32_t) = 0;
	for (const char *s = k->def; s != NULL && *s != '\0';) {
		size_t n = strcspn(s, ",");

		if (n < sizeof(item)) {
			memcpy(item, s, n);
			item[n] = '\0';
			cfg_conv_scalar(k, item, obj, false);
		}
		s += n + (s[n] == ',');
	}
}

void cfg_apply_defaults(const struct cfg_table *t, void *obj)
{
	for (unsigned int i = 0; i < t->n_keys; i++) {
		const struct cfg_key *k = &t->keys[i];

		if (k->flags & CFG_PLANNED)
			continue; /* no field behind it */
		if (k->type == CFG_MAP)
			cfg_apply_defaults(k->sub, FIELD(obj, k->off, void));
		else if (k->type == CFG_STATUS || k->type == CFG_FLAGS)
			cfg_default_list(k, obj);
		else if (k->def != NULL)
			cfg_conv_scalar(k, k->def, obj, false);
	}
}
