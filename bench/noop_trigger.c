/* The cheapest BEFORE ROW trigger there is: it returns NEW unchanged. bench/trigger_copy.sh times
 * COPY into a table with it, to show what any row trigger costs a COPY in PostgreSQL itself
 * (such a trigger also turns off COPY's batched multi-row inserts). */
#include "postgres.h"
#include "fmgr.h"
#include "commands/trigger.h"
PG_MODULE_MAGIC;
PG_FUNCTION_INFO_V1(noop_trigger);
Datum
noop_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "noop_trigger: not called by trigger manager");
	return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple);
}
