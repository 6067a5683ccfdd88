-- pipeline.lua: wrk script for HTTP/1.1 pipelining. Every write carries DEPTH complete requests
-- back to back; wrk counts each response, so req/s is per request, and latency is per batch.
--
--   wrk -t1 -c100 -d10s --latency -s benches/pipeline.lua http://127.0.0.1:8080/-/plaintext -- 16
--
-- DEPTH (the first argument after `--`) defaults to 16. Each request uses wrk's method, path and
-- -H headers (wrk.format() with no arguments).

local batch

function init(args)
  local depth = tonumber(args[1]) or 16
  if depth < 1 then depth = 1 end
  local one = wrk.format()
  batch = string.rep(one, depth)
end

function request()
  return batch
end
