-- wrk script for bench/bench_api.py: GET /users/{id}/recommendations for a random user per request.
-- WRK_PATHS: file with one request path per line; WRK_SEED: seed; WRK_LIMIT: stop each thread
-- after this many responses (0: only wrk's -d bounds the run). done() prints one JSON line.
local paths = {}
local limit = tonumber(os.getenv("WRK_LIMIT") or "0")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  for line in io.lines(os.getenv("WRK_PATHS")) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  math.randomseed(tonumber(os.getenv("WRK_SEED") or "0") + (id or 0))
  seen = 0
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

if limit > 0 then
  function response(status, headers, body)
    seen = seen + 1
    if seen >= limit then wrk.thread:stop() end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
