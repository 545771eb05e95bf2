# The demo's outcome from canaryd's event log (slurped: an array of events). Arguments: $t0 (the
# demo's start, epoch seconds), $fault (seconds after $t0 the canary began to fail), and wrk's
# tally ($reqs, $non2xx, $sockerr).
def t: .time_ms / 1000 - $t0;
def weight: .weight | tonumber;
def act(ds):
	(ds | map(select(.action == "complete" or .action == "rollback")) | first) as $last |
	{result: (if $last == null then "unfinished"
		  elif $last.action == "complete" then "complete" else "rolled_back" end),
	 started_s: (ds[0] | t), ended_s: ($last | if . then t else null end),
	 weights: ([ds[] | select(.action == "start" or .action == "advance") | weight]),
	 reason: ($last.reason // null)};

[.[] | .decision + {checks}] | unique_by(.time_ms, .action) | sort_by(.time_ms) |
(map(.action == "start") | indices(true)) as $starts |
if ($starts | length) < 2 then error("the event log has \($starts | length) starts, not 2")
else . end |
act(.[$starts[0]:$starts[1]]) as $a1 |
act(.[$starts[1]:]) as $a2 |
(.[$starts[1]:] | map(select(.action == "rollback")) | first) as $rb |
{
	act1: ($a1 + {seconds: (if $a1.ended_s then $a1.ended_s - $a1.started_s else null end)}),
	act2: ($a2 + {
		fault_s: $fault,
		fault_to_rollback_s: (if $a2.ended_s and $fault then $a2.ended_s - $fault else null end),
		failed_checks: [($rb.checks // [])[] | select(.outcome == "fail") | .name],
		by: (if $rb == null then null elif ($rb.reason | startswith("breaker")) then "breaker"
		     else "checks" end)}),
	load: {requests: $reqs, non_2xx: $non2xx, socket_errors: $sockerr}
}
