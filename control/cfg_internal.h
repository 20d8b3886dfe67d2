/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: the table-driven configuration loader, types shared by cfg_keys.c (the table),
 * cfg_load.c (the YAML walk) and cfg_conv.c (scalar conversion and messages). Included by
 * nothing outside control/ except its unit test.
 *
 * One row per key. A row names the key, its type, where its value lives in the containing
 * struct, its default and its bounds; nested maps, lists and dicts point at a sub-table. Adding a
 * key is adding a struct field and a row: the walk, the defaults, the errors, cfg_free and
 * cfg_diff_static all follow the table. Rules that span several keys live in small check
 * functions attached to a table.
 */
#ifndef SLUICE_CFG_INTERNAL_H
#define SLUICE_CFG_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control.h"

#ifdef __cplusplus
extern "C" {
#endif

enum cfg_type {
	CFG_BOOL,     /* bool at off: true | false */
	CFG_U32,      /* uint32_t at off, min..max */
	CFG_U64,      /* uint64_t at off, min..max */
	CFG_I64,      /* int64_t at off, min..max (YAML gives >= 0; a default may be negative) */
	CFG_STR,      /* char * at off; min..max characters (max 0: no limit) */
	CFG_ENUM,     /* uint32_t at off: the value of the matching enums[] entry */
	CFG_IPV4,     /* uint32_t at off: A.B.C.D, network order */
	CFG_PREFIX,   /* A.B.C.D/N: uint32_t address at off, uint32_t N (min..max) at off2 */
	CFG_ADDRPORT, /* A.B.C.D:PORT: uint32_t address at off, uint32_t port (1..65535) at off2 */
	CFG_STRLIST, /* list of strings: char ** at off, uint32_t count at off2; min..max entries */
	CFG_MAP,     /* nested mapping: a struct embedded at off, described by sub */
	CFG_LIST,    /* list of mappings: array of elem_size at off, uint32_t count at off2 */
	CFG_DICT,    /* NAME: {mapping}: like CFG_LIST; NAME is stored at sub->name_off */
	CFG_STATUS,  /* list of HTTP status codes or "LO-HI" ranges (100..599): struct
		      * dp_status_range array at off, uint32_t count at off2; 1..max entries; a
		      * lone scalar is a list of one; def: comma-separated ("200-399") */
	CFG_FLAGS,   /* list of enums[] names: their values ORed into the uint32_t at off; a lone
		      * scalar is a list of one; def: comma-separated names */
};

/* Row flags. */
#define CFG_REQUIRED (1u << 0)	   /* no default: missing is an error at the parent mapping */
#define CFG_RELOADABLE (1u << 1)   /* a reload may change it (cfg_diff_static skips it) */
#define CFG_PLANNED (1u << 2)	   /* known but "not supported yet": present is an error */
#define CFG_PLANNED_GATE (1u << 3) /* like CFG_PLANNED unless cfg_set_planned_override(true) */
#define CFG_NAME (1u << 4)   /* a name: [A-Za-z0-9._:-]{1,CFG_NAME_MAX}; on a DICT: its keys */
#define CFG_UNIQUE (1u << 5) /* in a list element: no two elements share the value */
#define CFG_SHORT \
	(1u << 6) /* on a CFG_MAP: a scalar is the value of sub's first key, every
			      * other key keeps its default ("retries: 3") */

#define CFG_NAME_MAX 63

struct cfg_enum {
	const char *name;
	uint32_t value;
	bool planned; /* accepted by name, rejected with "not supported yet" */
};

struct cfg_table;

struct cfg_key {
	const char *name;
	enum cfg_type type;
	unsigned int flags;
	size_t off;
	size_t off2;	 /* CFG_PREFIX, CFG_ADDRPORT: second field; lists and dicts: the count */
	const char *def; /* default as YAML text ("1", "info", "1.2.3.4:80"); NULL: zero/NULL */
	uint64_t min;	 /* integers: range; CFG_PREFIX: prefix length; CFG_STR: length; */
	uint64_t max;	 /* lists and dicts: entries. max 0 on a string or list: no limit */
	const struct cfg_enum *enums; /* CFG_ENUM, CFG_FLAGS: ends with a NULL name */
	const struct cfg_table *sub;  /* CFG_MAP, CFG_LIST, CFG_DICT */
	size_t elem_size;	      /* CFG_LIST, CFG_DICT */
};

/* A position in the file, 1-based (libyaml's marks are 0-based). */
struct cfg_pos {
	unsigned int line;
	unsigned int col;
};

/* One mapping the walk filled: what check functions see. */
struct cfg_rec {
	const struct cfg_table *t;
	void *obj;	     /* the struct the mapping filled */
	char *path;	     /* "dataplane.ports[1]", "services.api", "" for the root */
	struct cfg_pos pos;  /* the mapping itself: where a missing key is reported */
	void *array;	     /* list/dict element: the array it lives in, else NULL */
	size_t elem_size;    /* list/dict element: the array's stride */
	uint32_t index;	     /* list/dict element: its index */
	bool *present;	     /* per row of t: the key was given */
	bool *bad;	     /* per row of t: given, but its value was refused */
	struct cfg_pos *key; /* per row of t: where the key was (valid when present) */
	struct cfg_pos *val; /* per row of t: where its value was (valid when present) */
};

struct cfg_ctx;

/* Cross-field rules of one table, run after the whole file was walked (so every other part of
 * the configuration is filled in), children before their parents. May fill derived fields
 * (default names, indexes). Reports with cfg_rec_error(). Runs for every mapping the file gives
 * (not for a nested map the file leaves out, whose defaults are valid by construction). */
typedef void (*cfg_check_fn)(struct cfg_ctx *ctx, const struct cfg_rec *rec);

struct cfg_table {
	const struct cfg_key *keys;
	unsigned int n_keys;
	size_t name_off;    /* element of a CFG_DICT: offset of the char * that gets the NAME */
	cfg_check_fn check; /* NULL: none */
};

/* The table of struct dp_conf (cfg_keys.c). */
extern const struct cfg_table cfg_root_table;

/* Walk FILE into obj (zeroed by the caller) along table t: defaults, conversion, checks.
 * Every error is appended to errs in document order. Returns the number of errors; obj is
 * filled (and must be released with cfg_free_obj) either way. */
unsigned int cfg_parse_file(const char *file, const struct cfg_table *t, void *obj,
			    struct cfg_errors *errs);

/* Release everything the loader allocated inside obj (not obj itself). */
void cfg_free_obj(const struct cfg_table *t, void *obj);

/* Append "FILE: cannot change PATH on reload" for every non-reloadable key that differs
 * between a and b. Returns how many. */
unsigned int cfg_diff_obj(const struct cfg_table *t, const void *a, const void *b, const char *path,
			  const char *file, struct cfg_errors *errs);

/* For check functions. */
void *cfg_ctx_root(const struct cfg_ctx *ctx);
int cfg_key_index(const struct cfg_table *t, const char *name);
/* The key was given (cfg_rec_has), and its value was accepted (cfg_rec_ok): a check must not
 * judge a field whose value was already refused (it holds its default). */
bool cfg_rec_has(const struct cfg_rec *rec, const char *key);
bool cfg_rec_ok(const struct cfg_rec *rec, const char *key);
/* Where key's value was, or the mapping when the key was not given. */
struct cfg_pos cfg_rec_pos(const struct cfg_rec *rec, const char *key);
/* Report "PATH.KEY: message" at key's value (at the mapping when absent; key NULL: the
 * mapping, "PATH: message"). */
void cfg_rec_error(struct cfg_ctx *ctx, const struct cfg_rec *rec, const char *key, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));
/* The closest of n names (each a char * at name_off in elements stride bytes apart) to word,
 * when close enough to be a likely typo; NULL otherwise. */
const char *cfg_closest(const char *word, const void *base, unsigned int n, size_t stride,
			size_t name_off);
/* malloc'ed printf; aborts nothing: NULL when out of memory. */
char *cfg_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cfg_conv.c, for the walk in cfg_load.c. */
/* "a.b" from path and key, either of which may be empty; malloc'ed, NULL when out of memory. */
char *cfg_join(const char *path, const char *key);
/* s is a valid CFG_NAME: [A-Za-z0-9._:-]{1,CFG_NAME_MAX}. */
bool cfg_name_ok(const char *s);
/* The phrase after "expected " for row k ("an integer from 1 to 64"), into buf. */
void cfg_expected(const struct cfg_key *k, char *buf, size_t len);
/* Convert text s into k's field(s) of obj. check is false for the table's own defaults, which
 * may sit outside the range a user may write (bytes: -1). Returns 0, -EINVAL, -ERANGE, -ENOMEM,
 * or -ENOTSUP for a planned enum value. */
int cfg_conv_scalar(const struct cfg_key *k, const char *s, void *obj, bool check);
/* Set every default of table t in obj, nested maps included (not list or dict elements). */
void cfg_apply_defaults(const struct cfg_table *t, void *obj);

/* Test hook: true lets CFG_PLANNED_GATE keys through (listeners and services until the proxy
 * work lands). Not for production code. */
void cfg_set_planned_override(bool on);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_CFG_INTERNAL_H */
