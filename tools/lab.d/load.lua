-- wrk script for the lab's load: paced and bounded requests, a new connection for each.
-- usage: wrk -t T -c C -d SECONDS -s load.lua URL -- DELAY_MS MAX_REQUESTS_PER_THREAD
-- Each connection waits DELAY_MS between its requests (so C connections make about
-- C * 1000 / DELAY_MS requests a second), and each thread stops after its share of requests.
-- "Connection: close" makes every request a new flow, so weight changes show at once.

local delay_ms = 0
local budget = 0
local done = 0

function init(args)
	delay_ms = tonumber(args[1]) or 0
	budget = tonumber(args[2]) or 0
	wrk.headers["Connection"] = "close"
end

function delay()
	return delay_ms
end

function response(status, headers, body)
	done = done + 1
	if budget > 0 and done >= budget then
		wrk.thread:stop()
	end
end
