/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: the YAML walk behind cfg_load(), driven entirely by the key table
 * (cfg_keys.c). Runs on the control core or in `sluice --check`; allocates freely, touches no
 * device.
 *
 * Three passes: walk the libyaml document filling the structs (defaults first, then every key
 * given, converted and range-checked, each problem recorded with its position); run the tables'
 * check functions over every mapping met, children first; check CFG_UNIQUE values across list
 * elements. Errors are collected, not returned at the first one, then sorted into document
 * order so a file reads top to bottom.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* vasprintf */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "cfg_internal.h"

#define CFG_MAX_FILE (16u << 20) /* a config is kilobytes; refuse to slurp a disk image */
#define CFG_GOT_MAX 48		 /* quote at most this much of a bad value */

struct cfg_err {
	struct cfg_pos pos;
	unsigned int seq; /* keeps errors at one position in the order found */
	char *msg;
};

struct cfg_ctx {
	const char *file;
	void *root;
	yaml_document_t *doc;
	struct cfg_err *errs;
	unsigned int n_errs;
	unsigned int cap_errs;
	struct cfg_rec **recs;
	unsigned int n_recs;
	unsigned int cap_recs;
};

/* Test hook only (see cfg_internal.h); never set by the appliance. */
static bool planned_override;

void cfg_set_planned_override(bool on)
{
	planned_override = on;
}

static void ctx_verr(struct cfg_ctx *ctx, struct cfg_pos pos, const char *what, const char *fmt,
		     va_list ap)
{
	char *msg = NULL, *line = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	if (msg != NULL && what != NULL && what[0] != '\0')
		line = cfg_strdupf("%s: %s", what, msg);
	else if (msg != NULL)
		line = strdup(msg);
	free(msg);
	if (ctx->n_errs == ctx->cap_errs) {
		unsigned int cap = ctx->cap_errs ? ctx->cap_errs * 2 : 16;
		struct cfg_err *e = realloc(ctx->errs, cap * sizeof(*e));

		if (e == NULL) {
			free(line);
			return;
		}
		ctx->errs = e;
		ctx->cap_errs = cap;
	}
	/* Out of memory still counts as an error so the load fails. */
	ctx->errs[ctx->n_errs] = (struct cfg_err){ pos, ctx->n_errs, line };
	ctx->n_errs++;
}

/* Report "PATH.KEY: message" at pos. */
static void __attribute__((format(printf, 5, 6)))
ctx_err(struct cfg_ctx *ctx, struct cfg_pos pos, const char *path, const char *key, const char *fmt,
	...)
{
	char *what = cfg_join(path, key);
	va_list ap;

	va_start(ap, fmt);
	ctx_verr(ctx, pos, what, fmt, ap);
	va_end(ap);
	free(what);
}

static int err_cmp(const void *a, const void *b)
{
	const struct cfg_err *x = a, *y = b;

	if (x->pos.line != y->pos.line)
		return x->pos.line < y->pos.line ? -1 : 1;
	if (x->pos.col != y->pos.col)
		return x->pos.col < y->pos.col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Move the collected errors to errs as "FILE:LINE:COL: message", in document order. */
static void ctx_flush(struct cfg_ctx *ctx, struct cfg_errors *errs)
{
	if (ctx->n_errs > 1)
		qsort(ctx->errs, ctx->n_errs, sizeof(*ctx->errs), err_cmp);
	for (unsigned int i = 0; i < ctx->n_errs; i++) {
		struct cfg_err *e = &ctx->errs[i];

		/* A key or name from the file may hold a newline: keep one error per line. */
		for (unsigned char *c = (unsigned char *)e->msg; c && *c; c++)
			if (*c < 0x20 || *c == 0x7f)
				*c = '?';
		cfg_error(errs, "%s:%u:%u: %s", ctx->file, e->pos.line, e->pos.col,
			  e->msg ? e->msg : "out of memory");
		free(e->msg);
	}
	free(ctx->errs);
	ctx->errs = NULL;
}

/* ---- helpers for check functions ---- */

void *cfg_ctx_root(const struct cfg_ctx *ctx)
{
	return ctx->root;
}

int cfg_key_index(const struct cfg_table *t, const char *name)
{
	for (unsigned int i = 0; i < t->n_keys; i++)
		if (strcmp(t->keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

bool cfg_rec_has(const struct cfg_rec *rec, const char *key)
{
	int i = cfg_key_index(rec->t, key);

	return i >= 0 && rec->present[i];
}

bool cfg_rec_ok(const struct cfg_rec *rec, const char *key)
{
	int i = cfg_key_index(rec->t, key);

	return i >= 0 && rec->present[i] && !rec->bad[i];
}

struct cfg_pos cfg_rec_pos(const struct cfg_rec *rec, const char *key)
{
	int i = key ? cfg_key_index(rec->t, key) : -1;

	return i >= 0 && rec->present[i] ? rec->val[i] : rec->pos;
}

void cfg_rec_error(struct cfg_ctx *ctx, const struct cfg_rec *rec, const char *key, const char *fmt,
		   ...)
{
	char *what = cfg_join(rec->path, key);
	va_list ap;

	va_start(ap, fmt);
	ctx_verr(ctx, cfg_rec_pos(rec, key), what, fmt, ap);
	va_end(ap);
	free(what);
}

/* ---- YAML nodes ---- */

static struct cfg_pos node_pos(const yaml_node_t *n)
{
	return (struct cfg_pos){ n->start_mark.line + 1, n->start_mark.column + 1 };
}

/* A plain empty, "~" or "null" scalar: YAML's null, "key:" with nothing after it. */
static bool node_is_null(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* What the user wrote, for "got ...": a quoted, escaped, shortened scalar or the node kind. */
static void describe(const yaml_node_t *n, char *buf, size_t len)
{
	const unsigned char *s;
	size_t o = 0;

	if (n->type == YAML_MAPPING_NODE) {
		snprintf(buf, len, "a mapping");
		return;
	}
	if (n->type == YAML_SEQUENCE_NODE) {
		snprintf(buf, len, "a list");
		return;
	}
	if (node_is_null(n)) {
		snprintf(buf, len, "nothing");
		return;
	}
	s = n->data.scalar.value;
	buf[o++] = '"';
	for (size_t i = 0; s[i] != '\0' && o + 8 < len; i++) {
		if (i == CFG_GOT_MAX) {
			o += snprintf(buf + o, len - o, "...");
			break;
		}
		if (s[i] == '"' || s[i] == '\\')
			o += snprintf(buf + o, len - o, "\\%c", s[i]);
		else if (s[i] < 0x20 || s[i] == 0x7f)
			o += snprintf(buf + o, len - o, "\\x%02x", s[i]);
		else
			buf[o++] = (char)s[i];
	}
	snprintf(buf + o, len - o, "\"");
}

#define FIELD(obj, off, type) ((type *)((char *)(obj) + (off)))

/* ---- the walk ---- */

static yaml_node_t *node_at(struct cfg_ctx *ctx, int id)
{
	return yaml_document_get_node(ctx->doc, id);
}

static struct cfg_rec *walk_map(struct cfg_ctx *ctx, const struct cfg_table *t, void *obj,
				const yaml_node_t *n, struct cfg_pos pos, char *path);

static bool planned(const struct cfg_key *k)
{
	return (k->flags & CFG_PLANNED) || ((k->flags & CFG_PLANNED_GATE) && !planned_override);
}

/* Report a node of the wrong kind or a value that does not convert. */
static void bad_value(struct cfg_ctx *ctx, const struct cfg_key *k, const yaml_node_t *v,
		      const char *what)
{
	char exp[256], got[CFG_GOT_MAX * 4 + 16];

	cfg_expected(k, exp, sizeof(exp));
	describe(v, got, sizeof(got));
	ctx_err(ctx, node_pos(v), what, NULL, "expected %s, got %s", exp, got);
}

/* Check a sequence/mapping's length against min..max entries. */
static bool count_ok(struct cfg_ctx *ctx, const struct cfg_key *k, const yaml_node_t *v,
		     const char *what, uint64_t n)
{
	if (n >= k->min && (k->max == 0 || n <= k->max))
		return true;
	if (k->max)
		ctx_err(ctx, node_pos(v), what, NULL, "expected %llu to %llu entries, got %llu",
			(unsigned long long)k->min, (unsigned long long)k->max,
			(unsigned long long)n);
	else
		ctx_err(ctx, node_pos(v), what, NULL, "expected at least %llu entries, got %llu",
			(unsigned long long)k->min, (unsigned long long)n);
	return false;
}

static void walk_strlist(struct cfg_ctx *ctx, const struct cfg_key *k, void *obj,
			 const yaml_node_t *v, const char *what)
{
	yaml_node_item_t *it = v->data.sequence.items.start;
	unsigned int n = v->data.sequence.items.top - it;
	char **list;

	if (!count_ok(ctx, k, v, what, n) || n == 0)
		return;
	list = calloc(n, sizeof(*list));
	if (list == NULL) {
		ctx_err(ctx, node_pos(v), what, NULL, "out of memory");
		return;
	}
	*FIELD(obj, k->off, char **) = list;
	*FIELD(obj, k->off2, uint32_t) = n;
	for (unsigned int i = 0; i < n; i++) {
		const yaml_node_t *e = node_at(ctx, it[i]);

		if (e->type != YAML_SCALAR_NODE || node_is_null(e)) {
			char got[CFG_GOT_MAX * 4 + 16], *at = cfg_strdupf("%s[%u]", what, i);

			describe(e, got, sizeof(got));
			ctx_err(ctx, node_pos(e), at, NULL, "expected a string, got %s", got);
			free(at);
			continue;
		}
		list[i] = strdup((const char *)e->data.scalar.value);
		if (list[i] == NULL)
			ctx_err(ctx, node_pos(e), what, NULL, "out of memory");
	}
}

static void walk_list(struct cfg_ctx *ctx, const struct cfg_key *k, void *obj, const yaml_node_t *v,
		      const char *what)
{
	yaml_node_item_t *it = v->data.sequence.items.start;
	unsigned int n = v->data.sequence.items.top - it;
	char *arr;

	if (!count_ok(ctx, k, v, what, n) || n == 0)
		return;
	arr = calloc(n, k->elem_size);
	if (arr == NULL) {
		ctx_err(ctx, node_pos(v), what, NULL, "out of memory");
		return;
	}
	*FIELD(obj, k->off, void *) = arr;
	*FIELD(obj, k->off2, uint32_t) = n;
	for (unsigned int i = 0; i < n; i++) {
		const yaml_node_t *e = node_at(ctx, it[i]);
		void *elem = arr + i * k->elem_size;
		struct cfg_rec *rec;

		cfg_apply_defaults(k->sub, elem);
		if (e->type != YAML_MAPPING_NODE) {
			char got[CFG_GOT_MAX * 4 + 16], *at = cfg_strdupf("%s[%u]", what, i);

			describe(e, got, sizeof(got));
			ctx_err(ctx, node_pos(e), at, NULL, "expected a mapping, got %s", got);
			free(at);
			continue;
		}
		rec = walk_map(ctx, k->sub, elem, e, node_pos(e), cfg_strdupf("%s[%u]", what, i));
		if (rec != NULL) {
			rec->array = arr;
			rec->elem_size = k->elem_size;
			rec->index = i;
		}
	}
}

static void walk_dict(struct cfg_ctx *ctx, const struct cfg_key *k, void *obj, const yaml_node_t *v,
		      const char *what)
{
	yaml_node_pair_t *p = v->data.mapping.pairs.start;
	unsigned int n = v->data.mapping.pairs.top - p, cnt = 0;
	char *arr;

	if (!count_ok(ctx, k, v, what, n) || n == 0)
		return;
	arr = calloc(n, k->elem_size);
	if (arr == NULL) {
		ctx_err(ctx, node_pos(v), what, NULL, "out of memory");
		return;
	}
	*FIELD(obj, k->off, void *) = arr;
	for (unsigned int i = 0; i < n; i++) {
		const yaml_node_t *kn = node_at(ctx, p[i].key), *e = node_at(ctx, p[i].value);
		const char *name = (const char *)kn->data.scalar.value;
		void *elem = arr + cnt * k->elem_size;
		struct cfg_rec *rec;
		bool dup = false;

		if (kn->type != YAML_SCALAR_NODE || node_is_null(kn)) {
			ctx_err(ctx, node_pos(kn), what, NULL, "expected a name as key");
			continue;
		}
		for (unsigned int j = 0; j < i && !dup; j++) {
			const yaml_node_t *o = node_at(ctx, p[j].key);

			if (o->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)o->data.scalar.value, name) == 0) {
				ctx_err(ctx, node_pos(kn), what, NULL,
					"duplicate key '%s' (first at line %u)", name,
					node_pos(o).line);
				dup = true;
			}
		}
		if (dup)
			continue;
		if ((k->flags & CFG_NAME) && !cfg_name_ok(name))
			ctx_err(ctx, node_pos(kn), what, NULL,
				"invalid name '%s': expected 1 to %u characters from A-Z a-z 0-9 "
				". _ : -",
				name, CFG_NAME_MAX);
		if (e->type != YAML_MAPPING_NODE && !node_is_null(e)) {
			char got[CFG_GOT_MAX * 4 + 16];

			describe(e, got, sizeof(got));
			ctx_err(ctx, node_pos(e), what, name, "expected a mapping, got %s", got);
			continue;
		}
		cfg_apply_defaults(k->sub, elem);
		*FIELD(elem, k->sub->name_off, char *) = strdup(name);
		cnt++;
		*FIELD(obj, k->off2, uint32_t) = cnt;
		rec = walk_map(ctx, k->sub, elem, e, node_pos(e), cfg_join(what, name));
		if (rec != NULL) {
			rec->array = arr;
			rec->elem_size = k->elem_size;
			rec->index = cnt - 1;
		}
	}
}

/* CFG_STATUS, CFG_FLAGS: a list of scalars (or one scalar), each converted on its own over
 * an emptied value; an entry that does not convert is reported at the entry. */
static bool walk_items(struct cfg_ctx *ctx, const struct cfg_key *k, void *obj,
		       const yaml_node_t *v, const char *what)
{
	yaml_node_item_t *it = v->type == YAML_SEQUENCE_NODE ? v->data.sequence.items.start : NULL;
	unsigned int n = it ? (unsigned int)(v->data.sequence.items.top - it) : 1;
	char exp[256], got[CFG_GOT_MAX * 4 + 16];
	bool ok = true;

	if (k->type == CFG_STATUS) {
		if (!count_ok(ctx, k, v, what, n))
			return false;
		*FIELD(obj, k->off2, uint32_t) = 0;
	} else {
		*FIELD(obj, k->off, uint32_t) = 0;
	}
	for (unsigned int i = 0; i < n; i++) {
		const yaml_node_t *e = it ? node_at(ctx, it[i]) : v;
		char *at = it ? cfg_strdupf("%s[%u]", what, i) : strdup(what);
		int rc = -EINVAL;

		if (e->type == YAML_SCALAR_NODE && !node_is_null(e))
			rc = cfg_conv_scalar(k, (const char *)e->data.scalar.value, obj, true);
		if (rc == -ENOTSUP) {
			ctx_err(ctx, node_pos(e), at, NULL, "'%s' is not supported yet",
				(const char *)e->data.scalar.value);
		} else if (rc != 0) {
			cfg_expected(k, exp, sizeof(exp));
			describe(e, got, sizeof(got));
			ctx_err(ctx, node_pos(e), at, NULL, "expected %s, got %s", exp, got);
		}
		ok = ok && rc == 0;
		free(at);
	}
	return ok;
}

/* Convert value node v of row k into obj. what: the key's dotted path. Returns false when the
 * value itself was refused (errors inside a nested mapping or list do not count). */
static bool walk_value(struct cfg_ctx *ctx, const struct cfg_key *k, void *obj,
		       const yaml_node_t *v, const char *what)
{
	bool null = node_is_null(v);
	int rc;

	switch (k->type) {
	case CFG_STRLIST:
	case CFG_LIST:
		if (null)
			return true; /* "ports:" alone: an empty list */
		if (v->type != YAML_SEQUENCE_NODE)
			break;
		if (k->type == CFG_STRLIST)
			walk_strlist(ctx, k, obj, v, what);
		else
			walk_list(ctx, k, obj, v, what);
		return true;
	case CFG_DICT:
		if (null)
			return true;
		if (v->type != YAML_MAPPING_NODE)
			break;
		walk_dict(ctx, k, obj, v, what);
		return true;
	case CFG_MAP:
		/* The short form: "retries: 3" is "retries: { count: 3 }", without a record (the
		 * other keys keep their defaults, which the table's check would accept). */
		if ((k->flags & CFG_SHORT) && v->type == YAML_SCALAR_NODE && !null)
			return walk_value(ctx, &k->sub->keys[0], FIELD(obj, k->off, void), v, what);
		if (v->type != YAML_MAPPING_NODE && !null)
			break;
		walk_map(ctx, k->sub, FIELD(obj, k->off, void), v, node_pos(v), strdup(what));
		return true;
	case CFG_STATUS:
	case CFG_FLAGS:
		if (null || (v->type != YAML_SEQUENCE_NODE && v->type != YAML_SCALAR_NODE))
			break;
		return walk_items(ctx, k, obj, v, what);
	default:
		if (v->type != YAML_SCALAR_NODE || null)
			break;
		rc = cfg_conv_scalar(k, (const char *)v->data.scalar.value, obj, true);
		if (rc == 0)
			return true;
		if (rc == -ENOTSUP) {
			ctx_err(ctx, node_pos(v), what, NULL, "'%s' is not supported yet",
				(const char *)v->data.scalar.value);
			return false;
		}
		if (rc == -ENOMEM) {
			ctx_err(ctx, node_pos(v), what, NULL, "out of memory");
			return false;
		}
		break;
	}
	bad_value(ctx, k, v, what);
	return false;
}

static void rec_free(struct cfg_rec *rec)
{
	if (rec == NULL)
		return;
	free(rec->path);
	free(rec->present);
	free(rec->bad);
	free(rec->key);
	free(rec->val);
	free(rec);
}

static struct cfg_rec *rec_new(struct cfg_ctx *ctx, const struct cfg_table *t, void *obj,
			       struct cfg_pos pos, char *path)
{
	struct cfg_rec *rec = calloc(1, sizeof(*rec));

	if (ctx->n_recs == ctx->cap_recs) {
		unsigned int cap = ctx->cap_recs ? ctx->cap_recs * 2 : 32;
		struct cfg_rec **r = realloc(ctx->recs, cap * sizeof(*r));

		if (r != NULL) {
			ctx->recs = r;
			ctx->cap_recs = cap;
		}
	}
	if (rec != NULL) {
		rec->present = calloc(t->n_keys + 1, sizeof(*rec->present));
		rec->bad = calloc(t->n_keys + 1, sizeof(*rec->bad));
		rec->key = calloc(t->n_keys + 1, sizeof(*rec->key));
		rec->val = calloc(t->n_keys + 1, sizeof(*rec->val));
	}
	if (rec == NULL || rec->present == NULL || rec->bad == NULL || rec->key == NULL ||
	    rec->val == NULL || ctx->n_recs == ctx->cap_recs || path == NULL) {
		ctx_err(ctx, pos, NULL, NULL, "out of memory");
		rec_free(rec);
		free(path);
		return NULL;
	}
	rec->t = t;
	rec->obj = obj;
	rec->path = path;
	rec->pos = pos;
	ctx->recs[ctx->n_recs++] = rec;
	return rec;
}

/* Walk mapping n (NULL or a null scalar: an empty mapping at pos) into obj, whose defaults are
 * already set. Takes ownership of path. Returns the record, NULL when out of memory. */
static struct cfg_rec *walk_map(struct cfg_ctx *ctx, const struct cfg_table *t, void *obj,
				const yaml_node_t *n, struct cfg_pos pos, char *path)
{
	struct cfg_rec *rec = rec_new(ctx, t, obj, pos, path);
	yaml_node_pair_t *p, *end;

	if (rec == NULL)
		return NULL;
	p = n && n->type == YAML_MAPPING_NODE ? n->data.mapping.pairs.start : NULL;
	end = p ? n->data.mapping.pairs.top : NULL;
	for (; p < end; p++) {
		const yaml_node_t *kn = node_at(ctx, p->key), *v = node_at(ctx, p->value);
		const char *name = (const char *)kn->data.scalar.value;
		const struct cfg_key *k;
		const char *hint;
		char *what;
		int i;

		if (kn->type != YAML_SCALAR_NODE) {
			ctx_err(ctx, node_pos(kn), rec->path, NULL, "expected a key name, got %s",
				kn->type == YAML_MAPPING_NODE ? "a mapping" : "a list");
			continue;
		}
		i = cfg_key_index(t, name);
		if (i < 0) {
			hint = cfg_closest(name, t->keys, t->n_keys, sizeof(*t->keys),
					   offsetof(struct cfg_key, name));
			ctx_err(ctx, node_pos(kn), rec->path, NULL, "unknown key '%s'%s%s%s", name,
				hint ? " (did you mean '" : "", hint ? hint : "",
				hint ? "'?)" : "");
			continue;
		}
		if (rec->present[i]) {
			ctx_err(ctx, node_pos(kn), rec->path, NULL,
				"duplicate key '%s' (first at line %u)", name, rec->key[i].line);
			continue;
		}
		k = &t->keys[i];
		rec->present[i] = true;
		rec->key[i] = node_pos(kn);
		rec->val[i] = node_pos(v);
		if (planned(k)) {
			ctx_err(ctx, node_pos(kn), rec->path, name, "not supported yet");
			continue;
		}
		what = cfg_join(rec->path, name);
		if (what == NULL) {
			ctx_err(ctx, node_pos(kn), NULL, NULL, "out of memory");
			continue;
		}
		rec->bad[i] = !walk_value(ctx, k, obj, v, what);
		free(what);
	}
	for (unsigned int i = 0; i < t->n_keys; i++)
		if ((t->keys[i].flags & CFG_REQUIRED) && !rec->present[i])
			ctx_err(ctx, rec->pos, rec->path, NULL, "missing required key '%s'",
				t->keys[i].name);
	return rec;
}

/* CFG_UNIQUE: element rec against the elements before it in its list. */
static void check_unique(struct cfg_ctx *ctx, const struct cfg_rec *rec)
{
	for (unsigned int i = 0; i < rec->t->n_keys; i++) {
		const struct cfg_key *k = &rec->t->keys[i];
		const char *v;

		if (!(k->flags & CFG_UNIQUE) || k->type != CFG_STR)
			continue;
		v = *FIELD(rec->obj, k->off, char *);
		if (v == NULL)
			continue;
		for (uint32_t j = 0; j < rec->index; j++) {
			void *o = (char *)rec->array + j * rec->elem_size;
			const char *ov = *FIELD(o, k->off, char *);
			unsigned int line = 0;

			if (ov == NULL || strcmp(ov, v) != 0)
				continue;
			for (unsigned int r = 0; r < ctx->n_recs; r++)
				if (ctx->recs[r] && ctx->recs[r]->obj == o)
					line = cfg_rec_pos(ctx->recs[r], k->name).line;
			cfg_rec_error(ctx, rec, k->name, "duplicate %s '%s' (first at line %u)",
				      k->name, v, line);
			break;
		}
	}
}

/* ---- file and libyaml ---- */

/* Read the whole file. Returns a NUL-terminated malloc'ed buffer, or NULL with *err set. */
static char *read_file(const char *file, size_t *len, int *err)
{
	size_t cap = 4096, n = 0;
	struct stat st;
	char *buf = NULL;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap || buf == NULL) {
			char *b;

			if (cap >= CFG_MAX_FILE) {
				errno = EFBIG;
				goto fail;
			}
			cap = buf ? cap * 2 : cap;
			b = realloc(buf, cap);
			if (b == NULL)
				goto fail;
			buf = b;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		n += r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	*err = errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static void yaml_failed(struct cfg_ctx *ctx, const yaml_parser_t *p, const char *buf)
{
	struct cfg_pos pos = { p->problem_mark.line + 1, p->problem_mark.column + 1 };

	if (p->error == YAML_MEMORY_ERROR) {
		ctx_err(ctx, pos, NULL, NULL, "out of memory");
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		/* The reader only knows the byte offset (bad UTF-8, a control character). */
		pos = (struct cfg_pos){ 1, 1 };
		for (size_t i = 0; i < p->problem_offset && buf[i]; i++) {
			if (buf[i] == '\n')
				pos = (struct cfg_pos){ pos.line + 1, 1 };
			else if (((unsigned char)buf[i] & 0xc0) != 0x80)
				pos.col++;
		}
		ctx_err(ctx, pos, NULL, NULL, "invalid input: %s", p->problem);
		return;
	}
	if (p->context != NULL)
		ctx_err(ctx, pos, NULL, NULL, "YAML syntax error: %s (%s at line %zu)", p->problem,
			p->context, p->context_mark.line + 1);
	else
		ctx_err(ctx, pos, NULL, NULL, "YAML syntax error: %s",
			p->problem ? p->problem : "unknown");
}

/* Parse buf (one YAML document) and walk it. */
static void load_doc(struct cfg_ctx *ctx, const struct cfg_table *t, const char *buf, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	const yaml_node_t *root;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_failed(ctx, &parser, buf);
		yaml_parser_delete(&parser);
		return;
	}
	ctx->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root == NULL || root->type == YAML_MAPPING_NODE || node_is_null(root)) {
		/* An empty file is a valid configuration: every default. */
		walk_map(ctx, t, ctx->root, root, root ? node_pos(root) : (struct cfg_pos){ 1, 1 },
			 strdup(""));
	} else {
		char got[CFG_GOT_MAX * 4 + 16];

		describe(root, got, sizeof(got));
		ctx_err(ctx, node_pos(root), NULL, NULL, "expected a mapping at the top, got %s",
			got);
	}
	if (root != NULL) {
		if (!yaml_parser_load(&parser, &extra)) {
			yaml_failed(ctx, &parser, buf);
		} else {
			if (yaml_document_get_root_node(&extra) != NULL)
				ctx_err(ctx,
					(struct cfg_pos){ extra.start_mark.line + 1,
							  extra.start_mark.column + 1 },
					NULL, NULL, "expected one YAML document, found a second");
			yaml_document_delete(&extra);
		}
	}
	/* Check functions see positions only through records: the tree can go now. */
	ctx->doc = NULL;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
}

unsigned int cfg_parse_file(const char *file, const struct cfg_table *t, void *obj,
			    struct cfg_errors *errs)
{
	struct cfg_ctx ctx = { .file = file, .root = obj };
	unsigned int n;
	size_t len = 0;
	char *buf;
	int err = 0;

	cfg_apply_defaults(t, obj);
	buf = read_file(file, &len, &err);
	if (buf == NULL) {
		cfg_error(errs, "%s: cannot read: %s", file, strerror(err));
		return 1;
	}
	load_doc(&ctx, t, buf, len);
	free(buf);
	/* Children were recorded after their parents: walk backwards so a parent's check sees
	 * its children's derived fields (default names). */
	for (unsigned int i = ctx.n_recs; i-- > 0;)
		if (ctx.recs[i] && ctx.recs[i]->t->check)
			ctx.recs[i]->t->check(&ctx, ctx.recs[i]);
	for (unsigned int i = 0; i < ctx.n_recs; i++)
		if (ctx.recs[i] && ctx.recs[i]->array)
			check_unique(&ctx, ctx.recs[i]);
	for (unsigned int i = 0; i < ctx.n_recs; i++)
		rec_free(ctx.recs[i]);
	free(ctx.recs);
	n = ctx.n_errs;
	ctx_flush(&ctx, errs);
	return n;
}

/* ---- free and diff ---- */

void cfg_free_obj(const struct cfg_table *t, void *obj)
{
	for (unsigned int i = 0; i < t->n_keys; i++) {
		const struct cfg_key *k = &t->keys[i];
		uint32_t n;
		char *arr;

		if (k->flags & CFG_PLANNED)
			continue;
		switch (k->type) {
		case CFG_STR:
			free(*FIELD(obj, k->off, char *));
			*FIELD(obj, k->off, char *) = NULL;
			break;
		case CFG_STRLIST:
			n = *FIELD(obj, k->off2, uint32_t);
			for (uint32_t j = 0; j < n; j++)
				free((*FIELD(obj, k->off, char **))[j]);
			free(*FIELD(obj, k->off, char **));
			*FIELD(obj, k->off, char **) = NULL;
			*FIELD(obj, k->off2, uint32_t) = 0;
			break;
		case CFG_MAP:
			cfg_free_obj(k->sub, FIELD(obj, k->off, void));
			break;
		case CFG_LIST:
		case CFG_DICT:
			n = *FIELD(obj, k->off2, uint32_t);
			arr = *FIELD(obj, k->off, char *);
			for (uint32_t j = 0; arr && j < n; j++) {
				cfg_free_obj(k->sub, arr + j * k->elem_size);
				if (k->type == CFG_DICT)
					free(*FIELD(arr + j * k->elem_size, k->sub->name_off,
						    char *));
			}
			free(arr);
			*FIELD(obj, k->off, char *) = NULL;
			*FIELD(obj, k->off2, uint32_t) = 0;
			break;
		default:
			break;
		}
	}
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool scalar_eq(const struct cfg_key *k, const void *a, const void *b)
{
	switch (k->type) {
	case CFG_BOOL:
		return *FIELD(a, k->off, bool) == *FIELD(b, k->off, bool);
	case CFG_U64:
	case CFG_I64:
		return memcmp(FIELD(a, k->off, char), FIELD(b, k->off, char), 8) == 0;
	case CFG_STR:
		return str_eq(*FIELD(a, k->off, char *), *FIELD(b, k->off, char *));
	case CFG_STATUS:
		return *FIELD(a, k->off2, uint32_t) == *FIELD(b, k->off2, uint32_t) &&
		       memcmp(FIELD(a, k->off, char), FIELD(b, k->off, char),
			      *FIELD(a, k->off2, uint32_t) * sizeof(struct dp_status_range)) == 0;
	case CFG_PREFIX:
	case CFG_ADDRPORT:
		if (*FIELD(a, k->off2, uint32_t) != *FIELD(b, k->off2, uint32_t))
			return false;
		/* fall through */
	default:
		return *FIELD(a, k->off, uint32_t) == *FIELD(b, k->off, uint32_t);
	}
}

static unsigned int diff_elems(const struct cfg_key *k, const void *a, const void *b,
			       const char *what, const char *file, struct cfg_errors *errs)
{
	uint32_t n = *FIELD(a, k->off2, uint32_t);
	const char *aa = *FIELD(a, k->off, char *), *bb = *FIELD(b, k->off, char *);
	unsigned int found = 0;

	if (n != *FIELD(b, k->off2, uint32_t)) {
		cfg_error(errs, "%s: cannot change %s on reload", file, what);
		return 1;
	}
	for (uint32_t j = 0; j < n; j++) {
		char *sub;

		if (k->type == CFG_STRLIST) {
			if (!str_eq(((char **)aa)[j], ((char **)bb)[j])) {
				cfg_error(errs, "%s: cannot change %s on reload", file, what);
				return 1;
			}
			continue;
		}
		if (k->type == CFG_DICT &&
		    !str_eq(*FIELD(aa + j * k->elem_size, k->sub->name_off, char *),
			    *FIELD(bb + j * k->elem_size, k->sub->name_off, char *))) {
			cfg_error(errs, "%s: cannot change %s on reload", file, what);
			return found + 1;
		}
		sub = cfg_strdupf("%s[%u]", what, j);
		found += cfg_diff_obj(k->sub, aa + j * k->elem_size, bb + j * k->elem_size,
				      sub ? sub : what, file, errs);
		free(sub);
	}
	return found;
}

unsigned int cfg_diff_obj(const struct cfg_table *t, const void *a, const void *b, const char *path,
			  const char *file, struct cfg_errors *errs)
{
	unsigned int found = 0;

	for (unsigned int i = 0; i < t->n_keys; i++) {
		const struct cfg_key *k = &t->keys[i];
		char *what;

		if (k->flags & (CFG_RELOADABLE | CFG_PLANNED))
			continue;
		what = cfg_join(path, k->name);
		if (what == NULL)
			continue;
		if (k->type == CFG_MAP) {
			found += cfg_diff_obj(k->sub, FIELD(a, k->off, void),
					      FIELD(b, k->off, void), what, file, errs);
		} else if (k->type == CFG_STRLIST || k->type == CFG_LIST || k->type == CFG_DICT) {
			found += diff_elems(k, a, b, what, file, errs);
		} else if (!scalar_eq(k, a, b)) {
			cfg_error(errs, "%s: cannot change %s on reload", file, what);
			found++;
		}
		free(what);
	}
	return found;
}

/* ---- the public API (control.h) ---- */

struct dp_conf *cfg_load(const char *file, struct cfg_errors *errs)
{
	struct cfg_errors local = { 0 };
	struct dp_conf *conf = calloc(1, sizeof(*conf));
	unsigned int n;

	if (errs == NULL)
		errs = &local;
	if (conf == NULL || (conf->file = strdup(file)) == NULL) {
		cfg_error(errs, "%s: out of memory", file);
		free(conf);
		cfg_errors_free(&local);
		return NULL;
	}
	n = cfg_parse_file(file, &cfg_root_table, conf, errs);
	cfg_errors_free(&local);
	if (n > 0) {
		cfg_free(conf);
		return NULL;
	}
	return conf;
}

void cfg_free(struct dp_conf *conf)
{
	if (conf == NULL)
		return;
	cfg_free_obj(&cfg_root_table, conf);
	free(conf->file);
	free(conf);
}

/* Deep copy of obj's strings and arrays into dst, a byte copy of obj; 0 or -ENOMEM (dst is
 * then still safe to release with cfg_free_obj: what was not copied is NULL). */
static int cfg_dup_obj(const struct cfg_table *t, void *dst, const void *obj)
{
	int rc = 0;

	for (unsigned int i = 0; i < t->n_keys; i++) {
		const struct cfg_key *k = &t->keys[i];
		const char *const *sv;
		const char *arr;
		char **dv, *darr;
		uint32_t n;

		if (k->flags & CFG_PLANNED)
			continue;
		switch (k->type) {
		case CFG_STR:
			sv = FIELD(obj, k->off, const char *);
			*(char **)FIELD(dst, k->off, char *) = *sv != NULL ? strdup(*sv) : NULL;
			if (*sv != NULL && *FIELD(dst, k->off, char *) == NULL)
				rc = -ENOMEM;
			break;
		case CFG_STRLIST:
			n = *FIELD(obj, k->off2, uint32_t);
			dv = calloc(n + 1, sizeof(char *));
			*(char ***)FIELD(dst, k->off, char **) = dv;
			if (dv == NULL) {
				*(uint32_t *)FIELD(dst, k->off2, uint32_t) = 0;
				rc = -ENOMEM;
				break;
			}
			for (uint32_t j = 0; j < n; j++)
				if ((dv[j] = strdup((*FIELD(obj, k->off, char **))[j])) == NULL)
					rc = -ENOMEM;
			break;
		case CFG_MAP:
			if (cfg_dup_obj(k->sub, (void *)FIELD(dst, k->off, void),
					FIELD(obj, k->off, void)) != 0)
				rc = -ENOMEM;
			break;
		case CFG_LIST:
		case CFG_DICT:
			n = *FIELD(obj, k->off2, uint32_t);
			arr = *FIELD(obj, k->off, const char *);
			darr = NULL;
			if (arr != NULL) {
				darr = malloc((size_t)(n + 1) * k->elem_size);
				if (darr != NULL)
					memcpy(darr, arr, (size_t)n * k->elem_size);
			}
			*(char **)FIELD(dst, k->off, char *) = darr;
			if (arr != NULL && darr == NULL) {
				*(uint32_t *)FIELD(dst, k->off2, uint32_t) = 0;
				rc = -ENOMEM;
				break;
			}
			for (uint32_t j = 0; darr != NULL && j < n; j++) {
				char **name;

				if (cfg_dup_obj(k->sub, darr + j * k->elem_size,
						arr + j * k->elem_size) != 0)
					rc = -ENOMEM;
				if (k->type != CFG_DICT)
					continue;
				name = (char **)FIELD(darr + j * k->elem_size, k->sub->name_off,
						      char *);
				if (*name != NULL && (*name = strdup(*name)) == NULL)
					rc = -ENOMEM;
			}
			break;
		default:
			break;
		}
	}
	return rc;
}

struct dp_conf *cfg_dup(const struct dp_conf *conf)
{
	struct dp_conf *c = malloc(sizeof(*c));

	if (c == NULL)
		return NULL;
	memcpy(c, conf, sizeof(*c));
	c->file = conf->file != NULL ? strdup(conf->file) : NULL;
	if (cfg_dup_obj(&cfg_root_table, c, conf) != 0 || (conf->file != NULL && c->file == NULL)) {
		cfg_free(c);
		return NULL;
	}
	return c;
}

unsigned int cfg_diff_static(const struct dp_conf *a, const struct dp_conf *b,
			     struct cfg_errors *errs)
{
	return cfg_diff_obj(&cfg_root_table, a, b, "", b->file, errs);
}
