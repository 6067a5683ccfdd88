-- wrk script: each connection sends DEPTH requests (the first script argument, default 16)
-- in one write, for benches/ab_cpu.sh with PIPELINE set.
local depth = 16
function init(args)
    depth = tonumber(args[1]) or 16
    local one = wrk.format()
    req = string.rep(one, depth)
end
function request()
    return req
end
