-- ss_client.lua - the sslsocket.so client of tests/bench/vs_luasec.sh.
-- Connects to 127.0.0.1 and verifies the server's chain against CA and its
-- name "localhost" (peer_verify_name; also sent as SNI); TLS 1.2,
-- TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.
--
--   lua5.4 ss_client.lua PORT CA hs SECONDS [resume]
--       connect, handshake, close, again, for SECONDS; prints
--       "hs CONNECTIONS SECONDS RESUMED CPU_SECONDS".  A new SslSocket for each
--       connection (full handshakes), or with `resume` the same one again
--       (it offers the previous session: resumed if the server cached it).
--   lua5.4 ss_client.lua PORT CA bulk BYTES
--       one connection; sends BYTES to the echo server, at most WINDOW in
--       flight, and reads them back; prints "bulk BYTES SECONDS CPU_SECONDS"
--       (from the end of the handshake to the last echoed byte).
--   lua5.4 ss_client.lua PORT CA hold N [SECONDS]
--       opens N connections one after the other (handshake, one echoed
--       line each) and keeps them open (for SECONDS, default 60, or until
--       killed); N = 1 closes it and exits (the warm-up).  Prints its own
--       memory ("mem client-base", "mem client-held") and "held N".
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local C = require "common"
local net = require "sslsocket"
local S = net.SslSocket

local port, ca, mode = math.tointeger(tonumber(arg[1] or "")), arg[2], arg[3]
if not (port and ca and mode) then C.die("usage: ss_client.lua PORT CA hs|bulk|hold ...") end

local CHUNK, WINDOW = 16384, 256 * 1024

local configuration = net.SslConfiguration.new()
if configuration:add_ca_certificates(ca) ~= 1 then C.die("cannot load %s", ca) end
configuration.ciphers = { "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" }
configuration.protocol_min = "TLSv1.2"
configuration.protocol_max = "TLSv1.2"

local failure
local function on_error(s, err)
    if err ~= S.REMOTE_HOST_CLOSED_ERROR then failure = failure or s.error_string end
end

local function new_socket()
    local s = S.new(configuration)
    s.peer_verify_name = "localhost"
    s.error_handler = on_error
    return s
end

local function connect(s)
    s:connect_encrypted("127.0.0.1", port)
end

-- Run the loop until pred() holds; gives up after `secs`.
local function loop_until(pred, secs)
    local deadline, rounds = C.now() + secs, 0
    while not pred() do
        if failure then C.die("%s", failure) end
        rounds = rounds + 1 -- the clock costs 4 system calls: not every round
        if rounds % 64 == 0 and C.now() > deadline then C.die("timed out (%s)", mode) end
        net.poll(200)
    end
end

if mode == "hs" then
    local secs = tonumber(arg[4] or "3")
    local resume = arg[5] == "resume"
    local count, resumed, sock = 0, 0, nil
    local t0, c0 = C.clock(), os.clock()
    local stop = C.now() + secs
    while C.now() < stop do
        if not (resume and sock) then
            sock = new_socket()
            sock.encrypted_handler = function(s)
                count = count + 1
                if s.session_resumed then resumed = resumed + 1 end
                s:disconnect()
            end
        end
        local before = count
        connect(sock)
        loop_until(function() return count > before and sock.state == S.UNCONNECTED_STATE end, 10)
    end
    C.say("hs %d %.3f %d %.3f", count, C.clock() - t0, resumed, os.clock() - c0)

elseif mode == "bulk" then
    local total = math.tointeger(tonumber(arg[4] or ""))
    local chunk = C.payload(CHUNK)
    local sent, got, pending, t0, t1, c0, c1 = 0, 0, "", nil, nil, nil, nil
    local sock = new_socket()
    local function feed(s)
        while true do
            if pending == "" then
                if sent >= total or sent - got >= WINDOW then return end
                pending = total - sent >= CHUNK and chunk or chunk:sub(1, total - sent)
            end
            local n = s:write_string(pending)
            if not n then return end
            sent = sent + n
            pending = n < #pending and pending:sub(n + 1) or ""
            if pending ~= "" then return end
        end
    end
    sock.encrypted_handler = function(s)
        t0, c0 = C.clock(), os.clock()
        feed(s)
    end
    sock.bytes_written_handler = feed
    sock.ready_read_handler = function(s)
        local data = s:read_string()
        if not data then return end
        got = got + #data
        if got >= total and not t1 then
            t1, c1 = C.clock(), os.clock()
            s:disconnect()
        else
            feed(s)
        end
    end
    connect(sock)
    loop_until(function() return t1 ~= nil end, 120)
    loop_until(function() return sock.state == S.UNCONNECTED_STATE end, 10)
    if got ~= total then C.die("echoed %d of %d bytes", got, total) end
    C.say("bulk %d %.3f %.3f", total, t1 - t0, c1 - c0)

elseif mode == "hold" then
    local n = math.tointeger(tonumber(arg[4] or "1"))
    local keep = tonumber(arg[5] or "60")
    local held = {}
    C.report_memory("client-base", 0)
    for i = 1, n do
        local s, echoed = new_socket(), false
        s.encrypted_handler = function(x) x:write_string("hello\n") end
        s.ready_read_handler = function(x)
            if x:read_line_string() ~= "" then echoed = true end
        end
        connect(s)
        loop_until(function() return echoed end, 10)
        held[i] = s
    end
    if n == 1 then
        held[1]:disconnect()
        loop_until(function() return held[1].state == S.UNCONNECTED_STATE end, 10)
        C.say("held 1")
        os.exit(0)
    end
    C.report_memory("client-held", n)
    C.say("held %d", n)
    local stop = C.now() + keep
    while C.now() < stop do
        net.poll(500)
        if failure then C.die("%s", failure) end
    end
else
    C.die("unknown mode %s", mode)
end
