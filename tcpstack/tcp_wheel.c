/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: per-worker hierarchical timer wheel (see tcp_wheel.h).
 *
 * Invariants, with j = the first tick whose level-0 slot has not been collected yet (cur + 1
 * between runs, the tick being processed during a cascade):
 *  - a timer due d = expire - j ticks ahead sits at level l = floor(log64(d)) (level 0 for
 *    d < 64), in slot (expire >> 6l) & 63. The first tick >= j that is a multiple of 64^l and
 *    maps to that slot is the start of expire's level-l block, so the slot is cascaded exactly
 *    when the timer becomes less than 64^l ticks away, and never earlier;
 *  - consequently a slot only ever holds timers of one block, and a level-0 slot only timers
 *    due on the very tick that collects it;
 *  - a timer further than TCP_WHEEL_SPAN ticks is placed as if due at j + SPAN - 1, i.e. in the
 *    top-level slot cascaded last; at that cascade it is placed again from its real expiry.
 * Empty slots are never visited: the next tick at which anything happens is computed from the
 * occupancy bitmaps, and the wheel jumps there.
 */
#include <limits.h>

#include "tcp_wheel.h"

#define LEVEL_SHIFT(l) ((unsigned)(l)*TCP_WHEEL_BITS)
#define SLOT_MASK (TCP_WHEEL_SLOTS - 1)
#define TICKS_MAX TCP_WHEEL_TICKS_MAX

void tcp_wheel_init_tick(struct tcp_wheel *w, uint64_t now_tsc, uint64_t tsc_per_tick,
			 uint64_t tick_us)
{
	unsigned l, s;

	w->tsc_per_tick = tsc_per_tick ? tsc_per_tick : 1;
	w->tick_us = tick_us ? tick_us : TCP_WHEEL_DEFAULT_TICK_US;
	w->now = now_tsc / w->tsc_per_tick;
	w->cur = w->now;
	w->armed = 0;
	w->due = NULL;
	for (l = 0; l < TCP_WHEEL_LEVELS; l++) {
		w->occupied[l] = 0;
		for (s = 0; s < TCP_WHEEL_SLOTS; s++)
			w->slot[l][s] = NULL;
	}
}

void tcp_wheel_init(struct tcp_wheel *w, uint64_t now_tsc, uint64_t tsc_per_tick)
{
	tcp_wheel_init_tick(w, now_tsc, tsc_per_tick, TCP_WHEEL_DEFAULT_TICK_US);
}

uint64_t tcp_wheel_now(const struct tcp_wheel *w)
{
	return w->now;
}

uint64_t tcp_wheel_ms_to_ticks_slow(const struct tcp_wheel *w, uint64_t ms)
{
	uint64_t ticks;

	if (ms > TICKS_MAX / 1000)
		return TICKS_MAX;
	ticks = (ms * 1000 + w->tick_us - 1) / w->tick_us;
	return ticks < TICKS_MAX ? ticks : TICKS_MAX;
}

static inline void list_push(struct tcp_timer **head, struct tcp_timer *t)
{
	t->next = *head;
	if (t->next != NULL)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
}

/* Move the whole list at *from to the (empty) list head *to. */
static inline void list_move(struct tcp_timer **to, struct tcp_timer **from)
{
	*to = *from;
	*from = NULL;
	if (*to != NULL)
		(*to)->pprev = to;
}

/* Unlink t from whatever list holds it. A slot head is recognised by its address, which keeps
 * the timer at three words and still clears the occupancy bit of a slot that becomes empty. */
static void timer_unlink(struct tcp_wheel *w, struct tcp_timer *t)
{
	struct tcp_timer **pprev = t->pprev;
	uintptr_t off;

	*pprev = t->next;
	if (t->next != NULL) {
		t->next->pprev = pprev;
	} else {
		off = (uintptr_t)pprev - (uintptr_t)&w->slot[0][0];
		if (off < sizeof(w->slot) && *pprev == NULL) {
			off /= sizeof(w->slot[0][0]);
			w->occupied[off / TCP_WHEEL_SLOTS] &=
				~(UINT64_C(1) << (off % TCP_WHEEL_SLOTS));
		}
	}
	t->next = NULL;
	t->pprev = NULL;
}

/* Put t (expire >= j) in the slot that is collected or cascaded when it becomes due; j is the
 * first tick not yet collected. */
static void timer_place(struct tcp_wheel *w, struct tcp_timer *t, uint64_t j)
{
	uint64_t when = t->expire;
	uint64_t delta = when - j;
	unsigned level, s;

	if (delta >= TCP_WHEEL_SPAN) {
		when = j + TCP_WHEEL_SPAN - 1;
		delta = TCP_WHEEL_SPAN - 1;
	}
	level = delta ? (63 - __builtin_clzll(delta)) / TCP_WHEEL_BITS : 0;
	s = (when >> LEVEL_SHIFT(level)) & SLOT_MASK;
	list_push(&w->slot[level][s], t);
	w->occupied[level] |= UINT64_C(1) << s;
}

/* First tick after cur at which a non-empty slot is collected (level 0) or cascaded (upper
 * levels); UINT64_MAX when the wheel is empty. */
static uint64_t wheel_next_event(const struct tcp_wheel *w)
{
	uint64_t j = w->cur + 1, best = UINT64_MAX;
	unsigned l, s, shift;
	uint64_t occ, blk, when;

	for (l = 0; l < TCP_WHEEL_LEVELS; l++) {
		occ = w->occupied[l];
		if (occ == 0)
			continue;
		shift = LEVEL_SHIFT(l);
		/* first level-l block starting at or after j, then the first occupied slot
		 * from there on, cyclically */
		blk = (j + (UINT64_C(1) << shift) - 1) >> shift;
		s = blk & SLOT_MASK;
		if (s != 0)
			occ = (occ >> s) | (occ << (TCP_WHEEL_SLOTS - s));
		when = (blk + (unsigned)__builtin_ctzll(occ)) << shift;
		if (when < best)
			best = when;
	}
	return best;
}

static void wheel_cascade(struct tcp_wheel *w, unsigned level, unsigned s, uint64_t tick)
{
	struct tcp_timer *list = w->slot[level][s];
	struct tcp_timer *t;

	w->slot[level][s] = NULL;
	w->occupied[level] &= ~(UINT64_C(1) << s);
	while (list != NULL) {
		t = list;
		list = t->next;
		timer_place(w, t, tick);
	}
}

/* Process tick `tick`: cascade every level whose block starts here (top down: timers coming
 * from above never land in a slot cascaded in the same step), then move the level-0 slot of
 * the tick to *batch, which is empty. */
static void wheel_advance(struct tcp_wheel *w, uint64_t tick, struct tcp_timer **batch)
{
	unsigned l, s;

	w->cur = tick;
	for (l = TCP_WHEEL_LEVELS - 1; l > 0; l--) {
		if (tick & ((UINT64_C(1) << LEVEL_SHIFT(l)) - 1))
			continue;
		s = (tick >> LEVEL_SHIFT(l)) & SLOT_MASK;
		if (w->occupied[l] & (UINT64_C(1) << s))
			wheel_cascade(w, l, s, tick);
	}
	s = tick & SLOT_MASK;
	if (w->occupied[0] & (UINT64_C(1) << s)) {
		list_move(batch, &w->slot[0][s]);
		w->occupied[0] &= ~(UINT64_C(1) << s);
	}
}

void tcp_wheel_arm(struct tcp_wheel *w, struct tcp_timer *t, uint64_t expire)
{
	if (tcp_timer_armed(t))
		timer_unlink(w, t);
	else
		w->armed++;
	t->expire = expire;
	/* Anything not strictly after "now" goes to the due list, so that a timer re-armed for
	 * now from inside fire() waits for the next run instead of looping in this one. */
	if (expire <= w->now)
		list_push(&w->due, t);
	else
		timer_place(w, t, w->cur + 1);
}

void tcp_wheel_cancel(struct tcp_wheel *w, struct tcp_timer *t)
{
	if (!tcp_timer_armed(t))
		return;
	timer_unlink(w, t);
	w->armed--;
}

unsigned tcp_wheel_run(struct tcp_wheel *w, uint64_t now_tsc,
		       void (*fire)(void *arg, struct tcp_timer *t), void *arg, unsigned budget)
{
	uint64_t target = now_tsc / w->tsc_per_tick;
	struct tcp_timer *batch, *t, **tailp;
	unsigned fired = 0;
	uint64_t next;

	if (target > w->now)
		w->now = target;
	/* The batch being fired is a list of its own (timers in it stay armed and cancellable);
	 * what fire() arms for now or the past goes to w->due and waits for the next run. */
	list_move(&batch, &w->due);
	for (;;) {
		while (batch != NULL) {
			if (budget != 0 && fired == budget)
				goto out;
			t = batch;
			timer_unlink(w, t);
			w->armed--;
			fire(arg, t);
			fired++;
		}
		if (w->cur >= w->now || (budget != 0 && fired == budget))
			break;
		next = wheel_next_event(w);
		if (next > w->now) {
			w->cur = w->now;
			break;
		}
		wheel_advance(w, next, &batch);
	}
out:
	if (batch != NULL) {
		/* Left over by the budget: keep them due, after what fire() armed in the past
		 * (a short list: at most what this run's callbacks armed). */
		tailp = &w->due;
		while (*tailp != NULL)
			tailp = &(*tailp)->next;
		*tailp = batch;
		batch->pprev = tailp;
	}
	return fired;
}

uint64_t tcp_wheel_next(const struct tcp_wheel *w)
{
	uint64_t next;

	if (w->due != NULL)
		return 0;
	next = wheel_next_event(w);
	if (next == UINT64_MAX)
		return UINT64_MAX;
	return next > w->now ? next - w->now : 0;
}
