-- test_host.lua - examples/luahost.c: the seed document's snippet, verbatim
-- (host and port aside), embedded in a C host, against openssl s_server.
local H = require "helpers"
local net = H.net
local T = {}
local function test(name, f) T[#T + 1] = { name, f } end

-- The snippet from seed/sslsocket.rst, with only host and port changed.
local SEED = [[
socket = iomodules.net.SslSocket.new()
socket.encrypted_handler = function()
    -- start talking now that encryption has begun
end
socket:connect_encrypted("localhost", %d, net.Stream.READ_WRITE_MODE)
]]

local function luahost()
    return H.root .. "/build/luahost"
end

-- Run `script` in luahost with the test CA as the system store (the
-- default configuration honours SSL_CERT_FILE); returns ok, output.
local function run_host(name, script)
    H.write(H.path(name), script)
    local out = H.capture(("SSL_CERT_FILE=%s timeout 30 %s %s 2>&1; echo \"exit=$?\""):format(
        H.path("ca.pem"), luahost(), H.path(name)))
    return out:match("exit=(%d+)%s*$") == "0", out
end

test("seed snippet verbatim: IMAPS-style greeting read in ready_read_handler", function()
    -- s_server sends its stdin (the greeting) once the client is connected
    local port, pid = H.s_server("-quiet -naccept 1", nil, nil, "greeting.txt")
    local ok, out = run_host("seed_imaps.lua", SEED:format(port) .. [[

-- the test's additions: read the greeting, then close
socket.ready_read_handler = function(s)
    if s.can_read_line then
        io.write("greeting: ", s:read_line_string())
        io.write("encrypted: ", tostring(s.encrypted), " ", s.session_protocol, "\n")
        s:disconnect()
    end
end
socket.error_handler = function(s) io.write("error: ", s.error_string, "\n") end
]])
    H.check(ok, "luahost failed: " .. out)
    H.match(out, "greeting: %* OK IMAP4rev1 sslsocket test server ready\r\n", "greeting")
    H.match(out, "encrypted: true TLSv1%.3", "encrypted (TLS 1.3 by default)")
    H.kill(pid)
end)

test("seed snippet verbatim: queued request, HTTP reply", function()
    local port, pid = H.s_server("-quiet -www")
    local ok, out = run_host("seed_http.lua", SEED:format(port) .. [[

-- written before encrypted_handler runs: queued, sent after the handshake
socket:write_string("GET / HTTP/1.0\r\n\r\n")
local reply = ""
socket.ready_read_handler = function(s) reply = reply .. s:read_all_string() end
socket.disconnected_handler = function() print(reply:match("^[^\r]*")) end
assert(rawequal(require "sslsocket", net), "require returns the published table")
assert(rawequal(iomodules.net, net), "iomodules.net is net")
]])
    H.check(ok, "luahost failed: " .. out)
    H.match(out, "HTTP/1%.0 200 ok", "reply")
    H.kill(pid)
end)

test("luahost reports script errors with a non-zero exit", function()
    local ok, out = run_host("broken.lua", "local x = nil\nx.field = 1\n")
    H.eq(ok, false, "exit status")
    H.match(out, "luahost: .*broken%.lua:2: attempt to index", "message")
    ok, out = run_host("typo.lua", [[
local s = net.SslSocket.new()
s.encrypted_handlr = function() end
]])
    H.eq(ok, false, "typo exit status")
    H.match(out, "has no field 'encrypted_handlr' %(did you mean 'encrypted_handler'%?%)", "typo")
end)

test("luahost drives the loop until nothing is active", function()
    local ok, out = run_host("loop.lua", [[
local srv = net.TcpServer.new()
assert(srv:listen(0, "127.0.0.1"))
srv.new_connection_handler = function(sv)
    local c = sv:next_pending_connection()
    c.ready_read_handler = function(x)
        io.write("server got: ", x:read_all_string(), "\n")
        x:disconnect()
        srv:close()
    end
end
local c = net.TcpSocket.new()
c.connected_handler = function(x) x:write_string("hi") end
c.disconnected_handler = function() print("client done") end
c:connect("127.0.0.1", srv.server_port)
]])
    H.check(ok, "luahost failed: " .. out)
    H.match(out, "server got: hi", "server side")
    H.match(out, "client done", "client side")
end)

return T
