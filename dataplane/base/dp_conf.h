/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: the loaded configuration, as plain immutable data.
 *
 * control/ fills these structs from YAML (cfg_load) and never changes one after it has been
 * published; workers read them through the snapshot pointer (dp_snapshot.h). Addresses are
 * in network byte order, ports in host order. Strings and arrays are heap-allocated by the
 * loader and released by cfg_free().
 */
#ifndef SLUICE_DP_CONF_H
#define SLUICE_DP_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_health.h"

struct dp_port_conf {
	char *name;
	char *device; /* vdev spec ("net_af_packet0,iface=x") or PCI address */
	uint32_t addr;
	uint32_t prefix_len;
	uint32_t gateway; /* 0: none */
	uint32_t mtu;
};

struct dp_dataplane_conf {
	char **eal; /* extra EAL arguments */
	uint32_t n_eal;
	uint32_t workers;
	uint32_t mbufs;
	uint32_t max_connections; /* per worker */
	uint32_t idle_sleep_us;
	struct dp_port_conf *ports;
	uint32_t n_ports;
};

struct dp_respond_conf {
	uint32_t status;
	char *body;	    /* NULL when bytes is used */
	char *content_type; /* default "text/plain" */
	int64_t bytes;	    /* -1: use body */
};

/* routes[].rate_limit.per */
enum dp_rl_per {
	DP_RL_ROUTE = 0,
	DP_RL_CLIENT_IP,
	DP_RL_HEADER,
};

/* routes[].rate_limit: off when requests_per_second is 0 (the key absent) */
struct dp_rate_limit_conf {
	uint32_t requests_per_second;
	uint32_t burst;
	char *per;	   /* as written: route | client_ip | header:NAME (NAME at per + 7) */
	uint32_t per_kind; /* enum dp_rl_per */
};

struct dp_route_conf {
	char *match_host;	 /* NULL: any host */
	char *match_path_prefix; /* NULL: "/" */
	char *service;		 /* NULL when respond is used */
	int32_t service_idx;	 /* index into dp_conf.services, -1 for respond */
	bool has_respond;
	struct dp_respond_conf respond;
	struct dp_rate_limit_conf rate_limit;
};

struct dp_limits_conf {
	uint32_t max_connections;
	uint32_t header_timeout_ms;
	uint32_t idle_timeout_ms;
	uint32_t max_header_bytes;
	uint32_t max_headers;
	uint64_t max_body_bytes;	     /* 0: unlimited */
	uint32_t max_connections_per_client; /* appliance-wide per source address; 0: off */
};

struct dp_listener_conf {
	char *name;
	uint32_t port;
	uint32_t addr; /* 0: every port address */
	struct dp_limits_conf limits;
	struct dp_route_conf *routes;
	uint32_t n_routes;
};

enum dp_balance {
	DP_BALANCE_ROUND_ROBIN = 0,
	DP_BALANCE_WEIGHTED_ROUND_ROBIN,
	DP_BALANCE_LEAST_CONNECTIONS,
	DP_BALANCE_RANDOM_TWO,
	DP_BALANCE_MAGLEV,
};

/* services.X.hash_key: what maglev hashes (dp_service_conf.hash_kind). */
enum dp_hash_key {
	DP_HASH_CLIENT_IP = 0,
	DP_HASH_HEADER,
	DP_HASH_COOKIE,
};

struct dp_endpoint_conf {
	char *name; /* defaults to "A.B.C.D:PORT" */
	uint32_t addr;
	uint32_t port;
	uint32_t weight;
};

/* Bytes of DP_PROBE_REQ_MAX kept for everything of an HTTP probe request but its path and
 * Host value ("GET ", " HTTP/1.1\r\nHost: ", "\r\nConnection: close\r\n\r\n" and room for a
 * User-Agent): the loader refuses a path and host longer together than DP_PROBE_REQ_MAX minus
 * this, host "" counting as the 21 of "255.255.255.255:65535". */
#define DP_PROBE_REQ_OVERHEAD 128

/* services.X.health_check (INTERFACES.md); enabled false when the key is absent. */
struct dp_health_conf {
	bool enabled;
	uint32_t type; /* enum dp_check_type */
	char *path;    /* http: request target, default "/" */
	char *host;    /* http: Host; "" = the endpoint's address */
	struct dp_status_range expect[DP_PROBE_EXPECT_MAX]; /* default one range 200-399 */
	uint32_t n_expect;
	char *expect_body; /* "" = any */
	uint32_t interval_ms, fast_interval_ms, down_interval_ms, timeout_ms;
	uint32_t rise, fall;
	uint32_t port; /* 0 = the endpoint's */
};

/* services.X.outlier_detection: on with these defaults when absent. */
struct dp_outlier_conf {
	uint32_t consecutive_5xx;	      /* 0 disables */
	uint32_t consecutive_gateway_failure; /* 0 disables */
	uint32_t base_ejection_ms;
	uint32_t max_ejection_ms;
	uint32_t max_ejection_percent;
};

/* services.X.retries.on, as bits */
enum dp_retry_on {
	DP_RETRY_CONNECT_FAILURE = 1u << 0,
	DP_RETRY_EMPTY_RESPONSE = 1u << 1,
	DP_RETRY_RESET = 1u << 2,
	DP_RETRY_RESPONSE_TIMEOUT = 1u << 3,
	DP_RETRY_500 = 1u << 4,
	DP_RETRY_502 = 1u << 5,
	DP_RETRY_503 = 1u << 6,
	DP_RETRY_504 = 1u << 7,
};

/* services.X.retries */
struct dp_retry_conf {
	uint32_t count;		   /* retries after the first try, default 2 */
	uint32_t on;		   /* enum dp_retry_on bits; default connect-failure|empty|reset */
	uint32_t budget_percent;   /* retries in flight at most this share of active (min 3) */
	uint64_t max_body_bytes;   /* a request body above it is not held for a retry */
	char **idempotent_methods; /* beyond GET HEAD OPTIONS TRACE PUT DELETE */
	uint32_t n_idempotent_methods;
};

/* services.X.circuit_breaker: appliance-wide limits (0 = no limit) and the breaker */
struct dp_breaker_conf {
	uint32_t max_connections;      /* upstream connections per endpoint */
	uint32_t max_requests;	       /* requests in flight to the service */
	uint32_t max_pending;	       /* requests waiting for a slot */
	uint32_t queue_timeout_ms;     /* a waiting request gets 503 after this */
	uint32_t consecutive_failures; /* 0 = no breaker */
	uint32_t open_ms;
};

struct dp_service_conf {
	char *name;
	uint32_t balance; /* enum dp_balance */
	struct dp_endpoint_conf *endpoints;
	uint32_t n_endpoints;
	uint32_t pool_max_idle_per_endpoint;
	uint32_t pool_idle_timeout_ms;
	uint32_t connect_ms;
	uint32_t response_ms;
	uint32_t per_try_ms; /* 0: none */
	struct dp_health_conf health;
	struct dp_outlier_conf outlier;
	uint32_t panic_threshold_percent; /* default 50; 0 = off */
	struct dp_retry_conf retries;
	/* balancing: hash_key as written (NULL: not given, client_ip), and parsed: the header or
	 * cookie name is hash_name_len bytes at hash_key + hash_name_off (an offset, not a
	 * pointer, so that cfg_dup's copy stays right) */
	char *hash_key;
	uint32_t hash_kind; /* enum dp_hash_key */
	uint32_t hash_name_off;
	uint32_t hash_name_len;
	uint32_t slow_start_ms; /* 0: off */
	struct dp_breaker_conf breaker;
};

enum dp_log_level {
	DP_LOG_EMERG = 1, /* the values of RTE_LOG_* */
	DP_LOG_ALERT,
	DP_LOG_CRIT,
	DP_LOG_ERR,
	DP_LOG_WARNING,
	DP_LOG_NOTICE,
	DP_LOG_INFO,
	DP_LOG_DEBUG,
};

struct dp_control_conf {
	char *socket;	    /* default /run/sluice/sluice.sock */
	char *metrics;	    /* "127.0.0.1:9190"; "" disables */
	uint32_t log_level; /* enum dp_log_level */
	char *access_log;   /* "" = off */
};

struct dp_conf {
	char *file; /* path it was loaded from */
	struct dp_dataplane_conf dataplane;
	struct dp_listener_conf *listeners;
	uint32_t n_listeners;
	struct dp_service_conf *services;
	uint32_t n_services;
	struct dp_control_conf control;
};

#endif /* SLUICE_DP_CONF_H */
