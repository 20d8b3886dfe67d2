/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: a worker's timer wheel run skipped when it would fire nothing.
 *
 * The loop runs the probe executor's wheel and the proxy wheel once per iteration, and almost
 * every iteration finds nothing due on either. tcp_wheel_run() then still computes the next
 * event from the occupancy bitmaps of every level (wheel_next_event) only to move cur and now
 * to the new tick. dp_wheel_quiet() tells that case from the fields of struct tcp_wheel in a
 * few instructions and leaves the wheel exactly as that run would (now and cur at the tick),
 * so nothing fires later, and nothing that reads the wheel afterwards (tcp_wheel_now(), an
 * arm) sees a difference. When it cannot tell, it says so and the caller runs the wheel.
 */
#ifndef SLUICE_DP_WHEEL_H
#define SLUICE_DP_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp_wheel.h"

/* True when tcp_wheel_run(wh, now_tsc, ..) would fire nothing, and then the wheel is left as
 * that run leaves it; false when it might fire or cascade something (the caller runs it).
 * Quiet for sure: nothing on the due list, the last run not stopped by its budget (cur ==
 * now), and either the tick has not moved, or it moved within the same 64-tick block (so no
 * upper level is cascaded: those start at multiples of 64) over level-0 slots that are all
 * empty (a level-0 slot only holds timers due on the tick that collects it). */
static inline bool dp_wheel_quiet(struct tcp_wheel *wh, uint64_t now_tsc)
{
	const uint64_t target = now_tsc / wh->tsc_per_tick;
	unsigned int lo, hi;
	uint64_t slots;

	if (wh->due != NULL || wh->cur != wh->now)
		return false;
	if (target <= wh->now)
		return true; /* the run changes nothing */
	if ((target ^ wh->cur) >> TCP_WHEEL_BITS)
		return false; /* a block boundary: maybe a cascade */
	lo = (unsigned int)(wh->cur & (TCP_WHEEL_SLOTS - 1));
	hi = (unsigned int)(target & (TCP_WHEEL_SLOTS - 1));
	/* slots lo+1 .. hi (lo < hi: same block, target > cur) */
	slots = ((UINT64_C(2) << hi) - 1) ^ ((UINT64_C(2) << lo) - 1);
	if (wh->occupied[0] & slots)
		return false;
	wh->now = target;
	wh->cur = target;
	return true;
}

#endif /* SLUICE_DP_WHEEL_H */
