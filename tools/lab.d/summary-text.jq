# summary.json as the demo prints it.
def s: if . == null then "-" else (. * 10 | round / 10 | tostring) + " s" end;
def pct: map(tostring + "%") | join(" -> ");
def outcome: {complete: "completed", rolled_back: "rolled back"}[.] // .;
"  act 1: v2 \(.act1.result | outcome) (\(.act1.weights | pct)) in \(.act1.seconds | s)",
"  act 2: v3 \(.act2.result | outcome) at \(.act2.weights | last // 0)%, " +
	"\(.act2.fault_to_rollback_s | s) after it began to fail" +
	(if .act2.by == "checks" then ", by the check \(.act2.failed_checks | join(", "))"
	 elif .act2.by == "breaker" then ", by the local breaker" else "" end),
"         reason: \(.act2.reason // "-")",
"  load:  \(.load.requests) requests through the VIP; \(.load.non_2xx) answered 503 " +
	"(v3's injected failures), \(.load.socket_errors) connection errors"
