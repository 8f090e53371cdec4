-- common.lua - small helpers shared by the benchmark programs of
-- tests/bench/vs_luasec.sh (sslsocket.so against LuaSec): a wall clock, the
-- process's resident memory, one-line reports on stdout.  No dependency on
-- either TLS library.
local C = {}

-- Wall clock in seconds (10 ms resolution: /proc/uptime; the runs last
-- seconds).  Lua 5.4 alone has only os.time() (1 s) and os.clock() (CPU).
function C.now()
    local f = assert(io.open("/proc/uptime", "r"))
    local t = f:read("n")
    f:close()
    return t
end

-- Wall clock in seconds to the microsecond, for the start and the end of a
-- measured interval (a process start each: not for loops).  C.now()'s 10 ms
-- steps made a 0.3 s echo read 383 or 447 MB/s.
function C.clock()
    local p = assert(io.popen("date +%s.%N", "r"))
    local t = p:read("n")
    p:close()
    return t
end

-- VmRSS of this process, in bytes.
function C.rss()
    local f = assert(io.open("/proc/self/status", "r"))
    local s = f:read("a")
    f:close()
    return tonumber(s:match("VmRSS:%s*(%d+) kB")) * 1024
end

-- "mem LABEL N RSS RSS_AFTER_FULL_GC LUA_HEAP LUA_HEAP_BEFORE_GC": what this
-- process holds now (bytes).
function C.report_memory(label, n)
    local before, heap = C.rss(), collectgarbage("count")
    collectgarbage("collect")
    collectgarbage("collect")
    C.say("mem %s %d %d %d %d %d", label, n, before, C.rss(),
          math.floor(collectgarbage("count") * 1024), math.floor(heap * 1024))
end

-- The "held" report waits until the last connection has been idle for
-- IDLE_SECONDS: sslsocket.so gives an idle connection's record buffer back
-- after 1 s (set so by ss_server.lua; 10 s by default); LuaSec releases its
-- buffers at once (SSL_MODE_RELEASE_BUFFERS).  Both are measured the same
-- way.  Call C.held(n) when n connections are up; C.tick() from the loop.
C.IDLE_SECONDS = 1.5
local held_n, held_at
function C.held(n)
    held_n, held_at = n, C.now()
end
function C.tick()
    if held_at and C.now() - held_at >= C.IDLE_SECONDS then
        held_at = nil
        C.report_memory("held", held_n)
    end
end

-- One line on stdout, flushed at once (the script reads it from a file).
function C.say(fmt, ...)
    io.stdout:write(fmt:format(...), "\n")
    io.stdout:flush()
end

function C.die(fmt, ...)
    io.stderr:write(arg and arg[0] or "bench", ": ", fmt:format(...), "\n")
    os.exit(1)
end

-- Write `text` to `path` (the port file the script waits for).
function C.write_file(path, text)
    local tmp = path .. ".tmp"
    local f = assert(io.open(tmp, "w"))
    f:write(text)
    f:close()
    assert(os.rename(tmp, path))
end

-- The benchmark payload: `n` bytes of a fixed pseudo-random pattern.
function C.payload(n)
    local t, x = {}, 12345
    for i = 1, 256 do
        x = (x * 1103515245 + 12345) % 2147483648
        t[i] = string.char(x % 256)
    end
    local block = table.concat(t)
    return block:rep(n // 256 + 1):sub(1, n)
end

return C
