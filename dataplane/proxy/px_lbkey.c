/* SPDX-License-Identifier: BSD-3-Clause
 * sluice proxy: the balancer pick of a request, with what some algorithms need beyond the
 * balancer's own state: the time (slow start) and the hash of the request's key (maglev's
 * hash_key: the client's address, a header's value or a cookie's value).
 *
 * A request without the header or cookie is hashed on its client address instead, so it
 * still sticks to one endpoint per client. Only the first header of that name counts; a
 * cookie is looked for in every Cookie header, first occurrence wins. Worker only.
 */
#include <string.h>
#include <strings.h>

#include "px_impl.h"

#define PX_LBKEY_SEED 0x736c756963652d6bull /* "sluice-k": fixed, alike on every appliance */

/* The value of cookie name (len bytes) in one Cookie header value v (vlen bytes): "a=1; b=2"
 * (RFC 6265 section 4.2.1); NULL when it is not there. */
static const uint8_t *cookie_find(const uint8_t *v, uint32_t vlen, const char *name, uint32_t len,
				  uint32_t *out_len)
{
	uint32_t i = 0;

	while (i < vlen) {
		uint32_t start, end;

		while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ';'))
			i++;
		start = i;
		while (i < vlen && v[i] != ';')
			i++;
		end = i;
		if (end - start > len && v[start + len] == '=' &&
		    memcmp(v + start, name, len) == 0) {
			*out_len = end - start - len - 1;
			while (*out_len > 0 && (v[start + len + 1 + *out_len - 1] == ' '))
				(*out_len)--;
			return v + start + len + 1;
		}
	}
	return NULL;
}

/* hash of the key sc->hash_key names, in the head at base parsed as m. */
static uint64_t px_lb_key(struct px_session *s, const struct dp_service_conf *sc,
			  const uint8_t *base, const struct http_msg *m)
{
	const char *name = sc->hash_key != NULL ? sc->hash_key + sc->hash_name_off : NULL;
	uint32_t len = sc->hash_name_len;
	struct tcp_tuple t;

	for (uint32_t i = 0;
	     sc->hash_kind != DP_HASH_CLIENT_IP && m->headers != NULL && i < m->n_headers; i++) {
		const struct http_header *hd = &m->headers[i];
		const uint8_t *v = base + hd->value.off, *c;
		uint32_t clen;

		if (sc->hash_kind == DP_HASH_HEADER) {
			if (hd->name.len == len &&
			    strncasecmp((const char *)base + hd->name.off, name, len) == 0)
				return lb_hash64(v, hd->value.len, PX_LBKEY_SEED);
			continue;
		}
		if (hd->name.len == 6 &&
		    strncasecmp((const char *)base + hd->name.off, "cookie", 6) == 0 &&
		    (c = cookie_find(v, hd->value.len, name, len, &clen)) != NULL)
			return lb_hash64(c, clen, PX_LBKEY_SEED);
	}
	tcp_conn_tuple(s->conn, &t);
	return lb_hash64(&t.raddr, sizeof(t.raddr), PX_LBKEY_SEED); /* network order */
}

int px_lb_pick(struct dp_worker *w, struct px_session *s, uint32_t svc, const uint8_t *base,
	       const struct http_msg *m)
{
	const struct dp_snapshot *snap = w->px.snap;
	const struct dp_service_conf *sc = &snap->conf->services[svc];
	struct lb_state *lb = snap->svcs[svc].lb[w->id];

	if (lb->slow_start_ms != 0)
		lb->now_ms = dp_clock_ms(w->dp);
	if (sc->balance == DP_BALANCE_MAGLEV)
		return lb_pick_hash(lb, px_lb_key(s, sc, base, m));
	return lb_pick(lb);
}
