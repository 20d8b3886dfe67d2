/* SPDX-License-Identifier: BSD-3-Clause
 * Publishing a snapshot and waiting out its readers: control stores the new snapshot with one
 * release store, and frees what workers could still read (the previous snapshot, objects no
 * snapshot has any more) only after every running worker has passed a quiescent state. The
 * workers' side (registering, reporting once per loop) is in the worker loop (dp_loop.c).
 */
#include <rte_rcu_qsbr.h>

#include "dp_objs.h"
#include "dp_worker.h"

struct dp_snapshot *dp_publish(struct dp *dp, struct dp_snapshot *snap)
{
	return __atomic_exchange_n(&dp->snapshot, snap, __ATOMIC_ACQ_REL);
}

void dp_wait_quiescent(struct dp *dp)
{
	/* A worker may report the first grace period at the end of an iteration that loaded the
	 * snapshot before the call; the second one can only be reported by an iteration that
	 * began after the first ended, hence after the call. */
	for (int i = 0; dp->qsv != NULL && i < 2; i++) {
		uint64_t token = rte_rcu_qsbr_start(dp->qsv);

		rte_rcu_qsbr_check(dp->qsv, token, true);
	}
}
