-- wrk script of the Sluice bench (bench/lib/wrk.ts): every request is a GET of the URL's path
-- with the next API key of a file (one key per line), round-robin across all connections. The
-- requests are formatted once, in init; request() only picks the next one. done() prints one
-- line of JSON with what bench/lib/wrk.ts reads.
--
--   wrk -t1 -c50 -d10s -s bench/lib/rotateKeys.lua http://127.0.0.1:8080/api/users/users/104 -- keys.txt

local requests = {}
local count = 0
local next_index = 0

function init(args)
  for key in io.lines(args[1]) do
    count = count + 1
    requests[count] = wrk.format("GET", wrk.path, { ["x-api-key"] = key })
  end
  if count == 0 then error("no keys in " .. args[1]) end
end

function request()
  next_index = next_index % count + 1
  return requests[next_index]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"latencyUs":{"p50":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
