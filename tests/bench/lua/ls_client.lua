-- ls_client.lua - the LuaSec client of tests/bench/vs_luasec.sh, the same
-- modes and output lines as ss_client.lua.  Verifies the chain (verify =
-- "peer", CA file) and, since LuaSec does not check names, that the leaf's
-- subjectAltName has DNS "localhost", as a careful LuaSec user must.
--
--   lua5.4 ls_client.lua PORT CA hs SECONDS
--   lua5.4 ls_client.lua PORT CA bulk BYTES
--   lua5.4 ls_client.lua PORT CA hold N [SECONDS]
-- (no `resume`: LuaSec has no API to offer a saved session.)
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local C = require "common"
local socket = require "socket"
local ssl = require "ssl"

local port, ca, mode = math.tointeger(tonumber(arg[1] or "")), arg[2], arg[3]
if not (port and ca and mode) then C.die("usage: ls_client.lua PORT CA hs|bulk|hold ...") end

local CHUNK, WINDOW = 16384, 256 * 1024

local context = assert(ssl.newcontext({
    mode = "client",
    protocol = "tlsv1_2",
    verify = "peer",
    cafile = ca,
    ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256",
    options = "all",
}))

local function name_ok(conn, name)
    local cert = conn:getpeercertificate()
    local san = cert and cert:extensions()["2.5.29.17"]
    for _, dns in ipairs(san and san.dNSName or {}) do
        if dns == name then return true end
    end
    return false
end

-- A verified TLS connection to 127.0.0.1:port (SNI and name: localhost), blocking.
local function connect()
    local tcp = socket.tcp()
    tcp:settimeout(10)
    local ok, err = tcp:connect("127.0.0.1", port)
    if not ok then C.die("connect: %s", err) end
    local conn = assert(ssl.wrap(tcp, context))
    conn:settimeout(10)
    conn:sni("localhost")
    ok, err = conn:dohandshake()
    if not ok then C.die("handshake: %s", tostring(err)) end
    if not name_ok(conn, "localhost") then C.die("the certificate is not for localhost") end
    return conn
end

if mode == "hs" then
    local secs = tonumber(arg[4] or "3")
    local count, t0, c0 = 0, C.clock(), os.clock()
    local stop = C.now() + secs
    while C.now() < stop do
        connect():close()
        count = count + 1
    end
    C.say("hs %d %.3f 0 %.3f", count, C.clock() - t0, os.clock() - c0)

elseif mode == "bulk" then
    local total = math.tointeger(tonumber(arg[4] or ""))
    local chunk = C.payload(CHUNK)
    local conn = connect()
    conn:settimeout(0)
    local sent, got, pending = 0, 0, ""
    local t0, c0 = C.clock(), os.clock()
    local deadline = C.now() + 120
    while got < total do
        local moved = false
        -- send while the window allows
        while pending ~= "" or (sent < total and sent - got < WINDOW) do
            if pending == "" then
                pending = total - sent >= CHUNK and chunk or chunk:sub(1, total - sent)
            end
            local i, err, j = conn:send(pending)
            local n = i or j or 0
            sent, moved = sent + n, moved or n > 0
            pending = n < #pending and pending:sub(n + 1) or ""
            if pending ~= "" then
                if err ~= "wantwrite" and err ~= "wantread" and err ~= "timeout" then
                    C.die("send: %s", tostring(err))
                end
                break
            end
        end
        -- read what has come back
        local data, err, partial = conn:receive(CHUNK)
        data = data or partial or ""
        got, moved = got + #data, moved or #data > 0
        if err and err ~= "wantread" and err ~= "wantwrite" and err ~= "timeout" then
            C.die("receive: %s after %d bytes", tostring(err), got)
        end
        if not moved then
            if C.now() > deadline then C.die("timed out after %d bytes", got) end
            local w = (pending ~= "" or (sent < total and sent - got < WINDOW)) and { conn } or nil
            socket.select({ conn }, w, 1)
        end
    end
    local t1, c1 = C.clock(), os.clock()
    conn:close()
    C.say("bulk %d %.3f %.3f", total, t1 - t0, c1 - c0)

elseif mode == "hold" then
    local n = math.tointeger(tonumber(arg[4] or "1"))
    local keep = tonumber(arg[5] or "60")
    local held = {}
    C.report_memory("client-base", 0)
    for i = 1, n do
        local conn = connect()
        assert(conn:send("hello\n"))
        local line, err = conn:receive("*l")
        if line ~= "hello" then C.die("echo: %s", tostring(err)) end
        held[i] = conn
    end
    if n == 1 then
        held[1]:close()
        C.say("held 1")
        os.exit(0)
    end
    C.report_memory("client-held", n)
    C.say("held %d", n)
    socket.sleep(keep)
else
    C.die("unknown mode %s", mode)
end
