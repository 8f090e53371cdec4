-- test_lifetime.lua - anchors, __gc / __close, memory under open/close
-- cycles, dropped references mid-handshake, errors inside handlers, the loop
-- functions themselves.
local H = require "helpers"
local net = H.net
local T = {}
local function test(name, f) T[#T + 1] = { name, f } end

local S = net.SslSocket
local CYCLES = tonumber(os.getenv("SSLSOCKET_LUA_CYCLES") or "") or 10000

local function count(t)
    local n = 0
    for _ in pairs(t) do n = n + 1 end
    return n
end

local function full_gc()
    collectgarbage()
    collectgarbage()
end

-- A plaintext server that closes every connection it gets.
local function closing_server()
    local srv = net.TcpServer.new()
    assert(srv:listen(0, "127.0.0.1"))
    srv.new_connection_handler = function(sv)
        local c = sv:next_pending_connection()
        if c then c:close() end
    end
    return srv
end

-- `n` connect/close cycles, `batch` at a time; every socket gets handlers
-- that capture a table, so a leaked handler would keep memory.
local function cycles(port, n, batch, weak)
    local done, started = 0, 0
    while done < n do
        local want = math.min(n, done + batch)
        while started < want do
            started = started + 1
            local s = net.TcpSocket.new()
            local ballast = { started }
            s.connected_handler = function(x) x:close() end
            s.disconnected_handler = function() done = done + 1 end
            s.error_handler = function(x)
                if x.error ~= S.REMOTE_HOST_CLOSED_ERROR then done = done + 1 end
            end
            s.ready_read_handler = function(x) x:read_all_string() return ballast end
            s:connect("127.0.0.1", port)
            if weak and started % 97 == 0 then
                weak[#weak + 1] = s
                weak[#weak + 1] = s.ready_read_handler
            end
        end
        if not H.poll_until(function() return done >= want end, 10000) then
            error(("stuck at %d of %d cycles (%d active)"):format(done, n, net.active()))
        end
    end
end

test("open/close cycles keep memory, anchors and descriptors flat", function()
    local srv = closing_server()
    local port = srv.server_port
    cycles(port, 200, 50) -- warm up: tables, the scratch list, ...
    H.poll_until(function() return net.active() == 1 end, 3000)
    full_gc()
    local mem0, fds0 = collectgarbage("count"), H.fd_count()
    local weak = setmetatable({}, { __mode = "v" })
    cycles(port, CYCLES, 50, weak)
    H.check(H.poll_until(function() return net.active() == 1 end, 5000),
            "only the server stays active: " .. net.active())
    full_gc()
    local mem1, fds1 = collectgarbage("count"), H.fd_count()
    H.check(count(weak) == 0, "sockets and handlers were collected: " .. count(weak) .. " left")
    H.check(mem1 - mem0 < 256, ("memory flat: %.0f KiB before, %.0f KiB after %d cycles"):format(
        mem0, mem1, CYCLES))
    H.eq(fds1, fds0, "descriptors")
    srv:close()
end)

test("100,000 unconnected sockets are collected", function()
    full_gc()
    local mem0 = collectgarbage("count")
    local weak = setmetatable({}, { __mode = "v" })
    local n = CYCLES * 10
    for i = 1, n do
        local s = (i % 2 == 0) and S.new() or net.TcpSocket.new()
        s.ready_read_handler = function() return s end -- a cycle through the user value
        if i % 1000 == 0 then weak[#weak + 1] = s end
    end
    full_gc()
    H.eq(count(weak), 0, "collected")
    H.check(collectgarbage("count") - mem0 < 256, "memory flat")
    H.eq(net.active(), 0, "never active")
end)

test("<close> releases the descriptor at scope exit", function()
    local port, pid = H.s_server("-quiet -www")
    local fds0 = H.fd_count()
    local during
    do
        local s <close> = net.TcpSocket.new()
        s:connect("127.0.0.1", port)
        H.check(H.poll_until(function() return s.state == S.CONNECTED_STATE end, 3000),
                "connected")
        during = H.fd_count()
        s.disconnected_handler = function() error("no handler after <close>") end
    end
    H.eq(during, fds0 + 1, "a descriptor while connected")
    H.eq(H.fd_count(), fds0, "released by __close")
    H.eq(net.active(), 0, "nothing active")
    net.poll(0) -- nothing is delivered for the closed socket
    do
        local srv <close> = net.TcpServer.new()
        assert(srv:listen(0, "127.0.0.1"))
        H.eq(H.fd_count(), fds0 + 1, "listening descriptor")
    end
    H.eq(H.fd_count(), fds0, "released by the server's __close")
    H.eq(net.active(), 0, "nothing active")
    H.kill(pid)
end)

test("dropped references mid-handshake: kept alive, then collected", function()
    local srv = net.TcpServer.new()
    srv.ssl_configuration = H.server_config()
    assert(srv:listen(0, "127.0.0.1"))
    srv.new_connection_handler = function(sv)
        local c = sv:next_pending_connection()
        c.ready_read_handler = function(x)
            collectgarbage() -- GC under load, inside handlers
            x:write_string(x:read_all_string())
        end
    end
    local cfg = H.client_config()
    local weak = setmetatable({}, { __mode = "v" })
    local done, N = 0, 20
    for i = 1, N do
        (function()
            local s = S.new(cfg)
            weak[i] = s
            s.encrypted_handler = function(x)
                collectgarbage()
                x:write_string("ping\n")
            end
            s.ready_read_handler = function(x)
                if x:read_all_string() == "ping\n" then
                    done = done + 1
                    x:disconnect()
                end
            end
            s:connect_encrypted("localhost", srv.server_port)
        end)()
    end
    full_gc()
    H.eq(count(weak), N, "active sockets survive a full collection")
    cfg = nil -- the sockets keep their configuration
    full_gc()
    H.check(H.poll_until(function() return done == N end, 15000), "all pinged: " .. done)
    H.poll_until(function() return net.active() == 1 end, 5000)
    full_gc()
    H.eq(count(weak), 0, "closed and unreferenced sockets are collected")
    srv:close()
end)

test("a configuration reloaded during a handshake", function()
    local port, pid = H.s_server("-quiet -www")
    local cfg = H.client_config()
    local s = S.new(cfg)
    local rx = ""
    s.ready_read_handler = function(x) rx = rx .. x:read_all_string() end
    s:connect_encrypted("localhost", port)
    s:write_string("GET / HTTP/1.0\r\n\r\n")
    -- force reloads into new storage while the handshake runs: the socket
    -- keeps the storage its handshake uses alive
    for _ = 1, 6 do
        net.poll(1)
        cfg.ca_certificates = { H.cert("ca.pem"), H.cert("self.pem") }
        full_gc()
    end
    cfg:use_system_ca_certificates()
    full_gc()
    H.check(H.poll_until(function() return s.state == S.UNCONNECTED_STATE end, 8000), "done")
    H.match(rx, "^HTTP/1%.0 200 ok", "reply: " .. s.error_string)
    H.kill(pid)
end)

-- A TLS echo server in this script: handshakes advance only inside
-- net.poll, so a test can act between their steps.  Accepted connections
-- go to `conns` when given.
local function tls_echo_server(scfg, conns)
    local srv = net.TcpServer.new()
    srv.ssl_configuration = scfg
    assert(srv:listen(0, "127.0.0.1"))
    srv.new_connection_handler = function(sv)
        local c = sv:next_pending_connection()
        if conns then conns[#conns + 1] = c end
        c.ready_read_handler = function(x) x:write_string(x:read_all_string()) end
    end
    return srv
end

-- Rounds until the client `s` is mid-handshake: TCP up, TLS started, not
-- encrypted yet (the server in this script has not answered).
local function until_client_handshaking(s)
    H.check(H.poll_until(function() return s.state ~= S.HOST_LOOKUP_STATE
                                           and s.state ~= S.CONNECTING_STATE end, 5000),
            "TCP connection")
    H.eq(s.state, S.CONNECTED_STATE, "state")
    H.eq(s.mode, S.SSL_CLIENT_MODE, "mode")
    H.eq(s.encrypted, false, "mid-handshake")
end

-- A client of `cfg` that sends "ping\n" once encrypted and disconnects when
-- it is echoed; returns the socket and a function giving what it read.
local function ping_client(cfg)
    local s, rx = S.new(cfg), ""
    s.encrypted_handler = function(x) x:write_string("ping\n") end
    s.ready_read_handler = function(x)
        rx = rx .. x:read_all_string()
        if rx == "ping\n" then x:disconnect() end
    end
    return s, function() return rx end
end

test("configuration replaced mid-handshake: the one in use lives until the end", function()
    local scfg = H.server_config()
    scfg.alpn_protocols = { "x-test", "http/1.1" }
    local srv = tls_echo_server(scfg)
    local weak = setmetatable({}, { __mode = "v" })
    local s, rx = ping_client(H.client_config({ alpn_protocols = { "x-test" } }))
    weak[1] = s.configuration
    s:connect_encrypted("localhost", srv.server_port)
    until_client_handshaking(s)
    local new = net.SslConfiguration.new() -- no trust anchors, no ALPN
    s.configuration = new
    H.eq(s.configuration, new, "configuration returns the one assigned")
    for _ = 1, 4 do full_gc() end
    H.check(weak[1] ~= nil, "the configuration the handshake uses is kept")
    H.check(H.poll_until(function() return s.state == S.UNCONNECTED_STATE end, 8000),
            "connection ended")
    H.eq(rx(), "ping\n", "handshake with the old configuration: " .. s.error_string)
    H.eq(s.alpn_protocol, "x-test", "ALPN from the old configuration")
    full_gc()
    H.eq(weak[1], nil, "the old configuration is collected after the connection")
    H.eq(s.configuration, new, "configuration")
    -- the next connection uses the new one: no trust anchors, so it fails
    local failed = false
    s.error_handler = function() failed = true end
    s:connect_encrypted("localhost", srv.server_port)
    H.check(H.poll_until(function() return s.state == S.UNCONNECTED_STATE end, 8000),
            "second connection ended")
    H.eq(failed, true, "verified with the new configuration")
    H.eq(rx(), "ping\n", "nothing more read")
    srv:close()
end)

test("configuration reloaded, replaced and assigned back mid-handshake", function()
    local srv = tls_echo_server(H.server_config())
    local cfg = H.client_config()
    local s, rx = ping_client(cfg)
    s:connect_encrypted("localhost", srv.server_port)
    until_client_handshaking(s)
    s.configuration = H.client_config()
    cfg.ca_certificates = { H.cert("ca.pem"), H.cert("self.pem") } -- new storage
    full_gc()
    s.configuration = cfg -- back: the handshake still has the storage it began with
    cfg.ca_certificates = { H.cert("self.pem"), H.cert("ca.pem") }
    for _ = 1, 4 do full_gc() end
    H.check(H.poll_until(function() return s.state == S.UNCONNECTED_STATE end, 8000),
            "connection ended")
    H.eq(rx(), "ping\n", "echoed: " .. s.error_string)
    H.eq(s.configuration, cfg, "configuration")
    srv:close()
end)

test("configuration reloaded before TCP is up and again mid-handshake", function()
    local srv = tls_echo_server(H.server_config())
    local cfg = H.client_config()
    local s, rx = ping_client(cfg)
    s:connect_encrypted("localhost", srv.server_port)
    H.check(s.state == S.HOST_LOOKUP_STATE or s.state == S.CONNECTING_STATE,
            "TCP not up yet: " .. s.state)
    cfg.ca_certificates = { H.cert("ca.pem") } -- the storage the handshake will use
    full_gc()
    until_client_handshaking(s)
    cfg.ca_certificates = { H.cert("ca.pem"), H.cert("self.pem") }
    for _ = 1, 4 do full_gc() end
    H.check(H.poll_until(function() return s.state == S.UNCONNECTED_STATE end, 8000),
            "connection ended")
    H.eq(rx(), "ping\n", "echoed: " .. s.error_string)
    srv:close()
end)

test("session cache dropped and resized during server handshakes", function()
    local scfg = H.server_config()
    scfg.session_cache_size = 16 * 1024
    local conns = {}
    local srv = tls_echo_server(scfg, conns)
    local ccfg = H.client_config() -- offers its last session to the same server
    local resumed = {}
    -- one connection; mid() runs once the server side began its handshake
    local function connect(i, mid)
        local s, rx = ping_client(ccfg)
        local n = #conns
        s.encrypted_handler = function(x)
            resumed[i] = x.session_resumed
            x:write_string("ping\n")
        end
        s:connect_encrypted("localhost", srv.server_port)
        H.check(H.poll_until(function() return #conns > n end, 5000), "accepted " .. i)
        local c = conns[#conns]
        H.eq(c.mode, S.SSL_SERVER_MODE, "server mode")
        H.eq(c.encrypted, false, "server mid-handshake")
        if mid then mid() end
        for _ = 1, 3 do full_gc() end
        H.check(H.poll_until(function() return s.state == S.UNCONNECTED_STATE end, 8000),
                "connection " .. i .. " ended")
        H.eq(rx(), "ping\n", "connection " .. i .. " echoed: " .. s.error_string)
    end
    connect(1, function() scfg.session_cache_size = 0 end)
    connect(2, function() scfg.session_cache_size = 32 * 1024 end)
    connect(3, function() scfg.session_cache_size = 8 * 1024 end)
    connect(4)
    connect(5, function()
        scfg.session_cache_size = 0
        scfg.session_cache_size = 16 * 1024
    end)
    H.eq(scfg.session_cache_size, 16 * 1024, "session_cache_size")
    H.eq(resumed[1], false, "first: full handshake")
    H.eq(resumed[2], false, "no cache when the first one ended: full handshake")
    H.eq(resumed[4], true, "saved after the last resize: resumed")
    H.eq(resumed[5], false, "cache replaced before the hello was read: full handshake")
    srv:close()
end)

test("errors in handlers go to net.error_handler and the loop goes on", function()
    local srv = closing_server()
    local msgs, later = {}, {}
    net.error_handler = function(m) msgs[#msgs + 1] = m end
    local a, b = net.TcpSocket.new(), net.TcpSocket.new()
    a.connected_handler = function() error("boom in a handler") end
    a.state_changed_handler = function(_, st) later[#later + 1] = st end
    b.connected_handler = function() error(setmetatable({}, { __tostring = function() return "a table error" end })) end
    b.host_found_handler = function() error({}) end
    a:connect("127.0.0.1", srv.server_port)
    b:connect("127.0.0.1", srv.server_port)
    H.check(H.poll_until(function()
        return a.state == S.UNCONNECTED_STATE and b.state == S.UNCONNECTED_STATE
    end, 5000), "both finished despite the errors")
    net.poll(0)
    H.eq(#msgs, 3, "three errors reported")
    local all = table.concat(msgs, "\n")
    H.match(all, "boom in a handler", "message")
    H.match(all, "stack traceback", "with a traceback")
    H.match(all, "a table error", "__tostring used")
    H.match(all, "%(error object is a table value%)", "plain table")
    H.eq(later[#later], S.UNCONNECTED_STATE, "a's later handlers still ran")
    -- an error inside net.error_handler itself: to stderr, the loop survives
    io.stderr:write("(the next lines on stderr are expected)\n")
    net.error_handler = function() error("the error handler fails too") end
    local c = net.TcpSocket.new()
    c.connected_handler = function() error("third") end
    c:connect("127.0.0.1", srv.server_port)
    H.check(H.poll_until(function() return c.state == S.UNCONNECTED_STATE end, 5000),
            "still running")
    net.error_handler = nil
    srv:close()
end)

test("without net.error_handler, handler errors go to stderr", function()
    if H.embedded then return "skip: needs the stand-alone interpreter" end
    local script = H.path("stderr.lua")
    H.write(script, ([[
package.cpath = %q .. "/build/?.so;" .. package.cpath
local net = require "sslsocket"
local srv = net.TcpServer.new()
assert(srv:listen(0, "127.0.0.1"))
local s = net.TcpSocket.new()
s.connected_handler = function() error("visible on stderr") end
s.disconnected_handler = function() srv:close() end
srv.new_connection_handler = function(sv) sv:next_pending_connection():close() end
s:connect("127.0.0.1", srv.server_port)
net.run(5000)
print("loop ended")
]]):format(H.root))
    local out = H.capture("lua5.4 " .. script .. " 2>&1")
    H.match(out, "sslsocket: error in handler: .*visible on stderr", "stderr")
    H.match(out, "loop ended", "the loop went on")
end)

test("net.run, net.stop, net.poll and re-entrance", function()
    H.eq(net.run(10000), true, "nothing active: returns at once")
    H.eq(net.poll(), 0, "nothing to do")
    local srv = net.TcpServer.new()
    assert(srv:listen(0, "127.0.0.1"))
    H.eq(net.active(), 1, "a listening server is active")
    H.eq(net.run(50), false, "timeout while something is active")
    local errs = {}
    net.error_handler = function(m) errs[#errs + 1] = m end
    srv.new_connection_handler = function(sv)
        local c = sv:next_pending_connection()
        c:abort()
        net.poll(0) -- not allowed here
    end
    local c = net.TcpSocket.new()
    c.connected_handler = function() net.stop() end
    c:connect("127.0.0.1", srv.server_port)
    H.eq(net.run(5000), true, "stopped by net.stop()")
    H.eq(c.state, S.CONNECTED_STATE, "stopped right after connected")
    H.poll_until(function() return #errs > 0 end, 2000)
    H.match(errs[1] or "", "cannot be called from a handler", "re-entrance refused")
    c:abort()
    srv:close()
    H.eq(net.run(5000), true, "ends when nothing is active")
    H.eq(net.active(), 0, "idle")
    net.error_handler = nil
end)

return T
