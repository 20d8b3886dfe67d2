/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: per-worker hierarchical timer wheel.
 *
 * Millions of TCBs each carry a few timers (retransmission, delayed ACK, keepalive, TIME_WAIT),
 * almost all of which are cancelled or re-armed before they fire. The wheel therefore makes arm
 * and cancel O(1) on intrusive timers (no allocation), and its run step costs O(timers due +
 * occupied slots crossed), never O(connections) or O(ticks elapsed).
 *
 * Layout: TCP_WHEEL_LEVELS levels of 64 slots. Level l holds timers due between 64^l and
 * 64^(l+1) ticks ahead, in the slot of their level-l block; when the wheel enters that block the
 * slot is cascaded, i.e. its timers are re-inserted one level down. With 4 levels and a 1 ms
 * tick the wheel spans 2^24 ticks (4.6 hours); a timer further out is parked in the top level
 * and re-cascaded until it is close enough. A 64-bit occupancy bitmap per level lets a run skip
 * every empty slot, so a worker that stalled for seconds catches up in a few steps.
 *
 * Tick semantics: ticks are now_tsc / tsc_per_tick (absolute). A timer armed for tick e fires in
 * the first tcp_wheel_run() whose now_tsc has reached tick e: never before, and within one tick
 * when runs come at least once per tick. A timer armed for the current tick or the past fires in
 * the next run.
 *
 * Threading: a wheel and its timers belong to one worker; nothing here is thread-safe.
 */
#ifndef SLUICE_TCP_WHEEL_H
#define SLUICE_TCP_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TCP_WHEEL_BITS 6
#define TCP_WHEEL_SLOTS (1u << TCP_WHEEL_BITS) /* 64: one bitmap word per level */
#define TCP_WHEEL_LEVELS 4		       /* 2^24 ticks before clamping */
#define TCP_WHEEL_SPAN (UINT64_C(1) << (TCP_WHEEL_BITS * TCP_WHEEL_LEVELS))
#define TCP_WHEEL_DEFAULT_TICK_US 1000

/* Embedded in the object that owns it (a TCB). next/pprev link it into one slot list (pprev
 * points at the previous element's next, or at the list head), so unlinking needs no head.
 * pprev == NULL means not armed. expire is the absolute tick the timer is due at. */
struct tcp_timer {
	struct tcp_timer *next;
	struct tcp_timer **pprev;
	uint64_t expire; /* tick */
};

struct tcp_wheel {
	uint64_t tsc_per_tick;
	uint64_t tick_us; /* length of one tick, for tcp_wheel_ms_to_ticks() */
	uint64_t now;	  /* tick of the latest run: what callers see as "now" */
	uint64_t cur;	  /* last tick whose slot has been moved to the due list; <= now. Less than
			   * now only after a run stopped on its budget */
	uint64_t armed;	  /* timers currently armed, for metrics and leak checks */
	/* due for firing at the next run: armed in the past, or left over by a budget */
	struct tcp_timer *due;
	uint64_t occupied[TCP_WHEEL_LEVELS]; /* bit s set <=> slot[l][s] not empty */
	struct tcp_timer *slot[TCP_WHEEL_LEVELS][TCP_WHEEL_SLOTS];
};

/* Set up an empty wheel at now_tsc with a 1 ms tick: tsc_per_tick must be the TSC frequency /
 * 1000 (rte_get_tsc_hz() / 1000). Worker (or before the worker starts). */
void tcp_wheel_init(struct tcp_wheel *w, uint64_t now_tsc, uint64_t tsc_per_tick);

/* Same with a tick of tick_us microseconds (tsc_per_tick = hz * tick_us / 1e6), for callers
 * that want a coarser or finer tick; only tcp_wheel_ms_to_ticks() needs to know its length. */
void tcp_wheel_init_tick(struct tcp_wheel *w, uint64_t now_tsc, uint64_t tsc_per_tick,
			 uint64_t tick_us);

static inline void tcp_timer_init(struct tcp_timer *t)
{
	t->next = NULL;
	t->pprev = NULL;
	t->expire = 0;
}

static inline bool tcp_timer_armed(const struct tcp_timer *t)
{
	return t->pprev != NULL;
}

/* The tick of the latest run (inside a fire callback too: the run's target, not the tick being
 * caught up), which is what a caller adds a delay to. */
uint64_t tcp_wheel_now(const struct tcp_wheel *w);

/* Delays are capped so that now + ticks cannot overflow a 64-bit tick counter. */
#define TCP_WHEEL_TICKS_MAX (UINT64_C(1) << 62)

uint64_t tcp_wheel_ms_to_ticks_slow(const struct tcp_wheel *w, uint64_t ms);

/* Delay in ms -> ticks, rounded up so that a timer is never shorter than asked for by more than
 * the part of the current tick already elapsed. Saturates instead of overflowing. Inline with
 * the default 1 ms tick (every TCP and proxy timer), where it is the identity: no division on
 * each segment. */
static inline uint64_t tcp_wheel_ms_to_ticks(const struct tcp_wheel *w, uint64_t ms)
{
	if (w->tick_us == TCP_WHEEL_DEFAULT_TICK_US)
		return ms <= TCP_WHEEL_TICKS_MAX / 1000 ? ms : TCP_WHEEL_TICKS_MAX;
	return tcp_wheel_ms_to_ticks_slow(w, ms);
}

/* Arm (or re-arm) t to fire at tick `expire` (absolute; the current tick or the past -> fires on
 * the next run). t must be initialised with tcp_timer_init(). O(1). Worker only. */
void tcp_wheel_arm(struct tcp_wheel *w, struct tcp_timer *t, uint64_t expire);

/* Disarm t; no-op if it is not armed. O(1). Worker only. */
void tcp_wheel_cancel(struct tcp_wheel *w, struct tcp_timer *t);

/* Advance to now_tsc and call fire(arg, t) for every due timer, in expiry order (timers due on
 * the same tick in no particular order; timers armed in the past, or left over by the budget,
 * fire first in the next run). t is disarmed before the call; fire may re-arm t or arm/cancel
 * any timer of this wheel, including ones due in this run. At most `budget` timers fire per
 * call (0 = unlimited): the rest stay due and fire in the next call. Returns the number fired.
 * Worker only; not reentrant (fire must not call tcp_wheel_run). */
unsigned tcp_wheel_run(struct tcp_wheel *w, uint64_t now_tsc,
		       void (*fire)(void *arg, struct tcp_timer *t), void *arg, unsigned budget);

/* Ticks from now until the earliest armed timer could fire (a lower bound: a timer parked in an
 * upper level counts from the moment it is cascaded), 0 if some are due, UINT64_MAX if none is
 * armed. For idle sleeping. O(levels). */
uint64_t tcp_wheel_next(const struct tcp_wheel *w);

/* Number of armed timers (including due ones not yet fired). */
static inline uint64_t tcp_wheel_armed(const struct tcp_wheel *w)
{
	return w->armed;
}

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_TCP_WHEEL_H */
