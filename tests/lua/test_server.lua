-- test_server.lua - TcpServer scripts: a TLS echo server for Lua clients and
-- openssl s_client, STARTTLS both ways (Lua, tlspeer.py, s_client -starttls),
-- pending connections, listen errors, remote close semantics.
local H = require "helpers"
local net = H.net
local T = {}
local function test(name, f) T[#T + 1] = { name, f } end

local S = net.SslSocket

local function events(s, log)
    local function add(w) log[#log + 1] = w end
    s.state_changed_handler = function(_, st) add("S" .. st) end
    s.connected_handler = function() add("C") end
    s.error_handler = function(_, e) add("X" .. e) end
    s.disconnected_handler = function() add("D") end
    s.about_to_close_handler = function() add("A") end
    s.mode_changed_handler = function(_, m) add("M" .. m) end
    s.encrypted_handler = function() add("E") end
    return log
end

-- A TLS echo server; `on_conn(sock)` sees each accepted socket.
local function echo_server(cfg, on_conn)
    local srv = net.TcpServer.new()
    srv.ssl_configuration = cfg or H.server_config()
    assert(srv:listen(0, "127.0.0.1"))
    srv.new_connection_handler = function(server)
        local c = server:next_pending_connection()
        c.ready_read_handler = function(x) x:write_string(x:read_all_string()) end
        if on_conn then on_conn(c) end
    end
    return srv
end

test("TLS echo server: 200 concurrent SslSocket clients in the same script", function()
    local accepted, server_enc = {}, 0
    local srv = echo_server(nil, function(c)
        accepted[#accepted + 1] = c
        c.encrypted_handler = function(x)
            if x.mode == S.SSL_SERVER_MODE and x.encrypted then server_enc = server_enc + 1 end
        end
    end)
    H.eq(srv.is_listening, true, "is_listening")
    H.eq(srv.server_address, "127.0.0.1", "server_address")
    local port, N, done, failed = srv.server_port, 200, 0, {}
    local cfg = H.client_config()
    for i = 1, N do
        local c, msg, got = S.new(cfg), ("hello %d from client\n"):format(i), ""
        c.ready_read_handler = function(x)
            got = got .. x:read_all_string()
            if got == msg then x:disconnect() end
        end
        c.disconnected_handler = function() if got == msg then done = done + 1 end end
        c.error_handler = function(x, e)
            if e ~= S.REMOTE_HOST_CLOSED_ERROR then failed[#failed + 1] = x.error_string end
        end
        c:connect_encrypted("localhost", port)
        c:write_string(msg) -- queued until encrypted
    end
    H.check(H.poll_until(function() return done == N end, 40000),
            ("echoed %d of %d; errors: %s"):format(done, N, table.concat(failed, "; ")))
    H.eq(#accepted, N, "accepted")
    H.eq(server_enc, N, "server side encrypted")
    H.eq(accepted[1].peer_certificate, nil, "no client certificate")
    srv:close()
    H.eq(srv.is_listening, false, "closed")
end)

test("openssl s_client against the Lua TLS echo server", function()
    local seen = {}
    local srv = echo_server(nil, function(c)
        c.ready_read_handler = function(x)
            local data = x:read_all_string()
            seen.data = (seen.data or "") .. data
            seen.sni = x.server_name
            seen.protocol = x.session_protocol
            x:write_string("echo: " .. data)
            x:disconnect()
        end
        c.disconnected_handler = function() seen.closed = true end
    end)
    H.write(H.path("hello.txt"), "hello from s_client\n")
    local pid = H.spawn(("openssl s_client -connect 127.0.0.1:%d -CAfile ca.pem " ..
                         "-verify_return_error -servername localhost -quiet"):format(
                         srv.server_port), "s_client_echo.log", "hello.txt")
    H.check(H.poll_until(function() return seen.closed end, 10000), "s_client served")
    srv:close()
    local out = H.wait_file("s_client_echo.log", "echo: hello from s_client", 5000)
    H.match(out, "echo: hello from s_client", "s_client got the echo")
    H.kill(pid)
    H.eq(seen.data, "hello from s_client\n", "server got the line")
    H.eq(seen.sni, "localhost", "SNI")
    H.eq(seen.protocol, "TLSv1.2", "protocol")
end)

test("STARTTLS between a plaintext TcpServer and an SslSocket client", function()
    local scfg = H.server_config()
    local srv = net.TcpServer.new()
    assert(srv:listen(0, "127.0.0.1"))
    H.eq(srv.ssl_configuration, nil, "plaintext server")
    local server = { log = {} }
    srv.new_connection_handler = function(sv)
        local c = sv:next_pending_connection()
        server.sock = c
        server.mode_at_accept = c.mode
        events(c, server.log)
        c.configuration = scfg
        c:write_string("220 ready\r\n")
        c.ready_read_handler = function(x)
            while x.can_read_line do
                local line = x:read_line_string()
                if line == "STARTTLS\r\n" then
                    x:write_string("220 go ahead\r\n")
                    server.started = x:start_server_encryption()
                elseif line == "EHLO test\r\n" then
                    x:write_string(x.encrypted and "250 encrypted\r\n" or "250 plain\r\n")
                elseif line == "QUIT\r\n" then
                    x:disconnect()
                end
            end
        end
    end
    local c = S.new(H.client_config())
    local log, replies = events(c, {}), {}
    c.ready_read_handler = function(x)
        while x.can_read_line do
            local line = x:read_line_string()
            replies[#replies + 1] = line
            if line == "220 ready\r\n" then
                x:write_string("STARTTLS\r\n")
            elseif line == "220 go ahead\r\n" then
                log[#log + 1] = "start"
                replies.started = x:start_client_encryption()
            elseif line:find("^250") then
                x:write_string("QUIT\r\n")
            end
        end
    end
    c.encrypted_handler = function(x)
        log[#log + 1] = "E"
        replies.again = { x:start_client_encryption() }
        x:write_string("EHLO test\r\n")
    end
    c:connect("localhost", srv.server_port)
    H.check(H.poll_until(function() return c.state == S.UNCONNECTED_STATE end, 10000),
            "session ended: " .. table.concat(log, " "))
    H.eq(replies[1], "220 ready\r\n", "greeting")
    H.eq(replies[2], "220 go ahead\r\n", "go ahead")
    H.eq(replies[3], "250 encrypted\r\n", "EHLO answered encrypted")
    H.eq(replies.started, true, "start_client_encryption")
    H.eq(replies.again[1], false, "again when encrypted: no effect")
    H.match(replies.again[2], "already", "again message")
    H.match(table.concat(log, " "), "^S1 S2 S3 C start M1 E ", "client events")
    H.eq(c.discarded_plaintext, 0, "nothing discarded")
    H.eq(server.mode_at_accept, S.UNENCRYPTED_MODE, "accepted unencrypted")
    H.eq(server.started, true, "start_server_encryption")
    -- the accepted socket's own CONNECTED events come first, in its first round
    H.match(table.concat(server.log, " "), "^S3 C M2 E ", "server events")
    srv:close()
end)

test("STARTTLS client against tlspeer.py: injected plaintext is discarded", function()
    local pf = H.path("tlspeer.port")
    os.remove(pf)
    local pid = H.spawn(("python3 %s/tests/tlspeer.py starttls-inject %s ec.pem ec.key"):format(
        H.root, pf), "tlspeer.log")
    H.check(H.poll_until(function() return H.read(pf) ~= nil end, 5000), "tlspeer started")
    local port = tonumber(H.read(pf))
    local c = S.new(H.client_config())
    local got = {}
    c.ready_read_handler = function(x)
        if not x.encrypted then
            local line = x:read_line_string()
            got[#got + 1] = line
            if line == "OK begin\r\n" then got.started = x:start_client_encryption() end
        else
            got.tls = (got.tls or "") .. x:read_all_string()
            if got.tls:find("\n") then x:disconnect() end
        end
    end
    c:connect("127.0.0.1", port)
    c:write_string("STARTTLS\r\n")
    H.check(H.poll_until(function() return c.state == S.UNCONNECTED_STATE end, 10000), "done")
    H.eq(got[1], "OK begin\r\n", "plaintext answer")
    H.eq(got.started, true, "started")
    H.eq(c.discarded_plaintext, #"INJECTED\r\n", "injected bytes discarded")
    H.eq(got.tls, "hello over tls\r\n", "only the encrypted line was delivered")
    H.match(H.wait_file("tlspeer.log", "close_notify=", 5000), "close_notify=yes",
            "our close_notify arrived")
    H.kill(pid)
end)

test("STARTTLS server against openssl s_client -starttls smtp", function()
    local srv = net.TcpServer.new()
    assert(srv:listen(0, "127.0.0.1"))
    local scfg, seen = H.server_config(), {}
    srv.new_connection_handler = function(sv)
        local c = sv:next_pending_connection()
        c.configuration = scfg
        c:write_string("220 lua ESMTP ready\r\n")
        c.ready_read_handler = function(x)
            while x.can_read_line do
                local line = x:read_line_string()
                if not x.encrypted then
                    if line:find("^EHLO") then
                        x:write_string("250-lua.test\r\n250 STARTTLS\r\n")
                    elseif line == "STARTTLS\r\n" then
                        x:write_string("220 go ahead\r\n")
                        seen.started = x:start_server_encryption()
                    end
                else
                    seen.line = line
                    x:write_string("250 got it over " .. x.session_protocol .. "\r\n")
                    x:disconnect()
                end
            end
        end
        c.disconnected_handler = function() seen.closed = true end
    end
    H.write(H.path("smtp.txt"), "hello over tls\n")
    local pid = H.spawn(("openssl s_client -connect 127.0.0.1:%d -starttls smtp -CAfile ca.pem " ..
                         "-verify_return_error -quiet"):format(srv.server_port),
                        "s_client_smtp.log", "smtp.txt")
    H.check(H.poll_until(function() return seen.closed end, 10000), "served")
    srv:close()
    H.eq(seen.started, true, "start_server_encryption")
    H.eq(seen.line, "hello over tls\n", "line received encrypted")
    H.match(H.wait_file("s_client_smtp.log", "250 got it", 5000), "250 got it over TLSv1%.2",
            "s_client output")
    H.kill(pid)
end)

test("stream reads over a real connection", function()
    local srv = net.TcpServer.new()
    assert(srv:listen(0, "127.0.0.1"))
    local payload = "line one\nline two is longer\nrest"
    srv.new_connection_handler = function(sv)
        local c = sv:next_pending_connection()
        c:write_string(payload)
    end
    local c = net.TcpSocket.new()
    c:connect("127.0.0.1", srv.server_port)
    H.check(H.poll_until(function() return c.bytes_available == #payload end, 5000), "arrived")
    H.eq(c.can_read_line, true, "can_read_line")
    H.eq(c:peek_string(4), "line", "peek_string")
    local pb = c:peek_bytes(2)
    H.eq(#pb, 2, "peek_bytes length")
    H.eq(pb[1], string.byte("l"), "peek_bytes[1]")
    H.eq(c.bytes_available, #payload, "peek consumed nothing")
    H.eq(c:read_string(5), "line ", "read_string(5)")
    local rb = c:read_bytes(3)
    H.eq(string.char(table.unpack(rb)), "one", "read_bytes(3)")
    H.eq(c:read_line_string(), "\n", "rest of the first line")
    H.eq(c:read_line_string(4), "line", "a longer line comes in pieces of max")
    local lb = c:read_line_bytes()
    H.eq(string.char(table.unpack(lb)), " two is longer\n", "read_line_bytes")
    H.eq(c.can_read_line, false, "no complete line left")
    H.eq(c:read_line_string(), "", "no complete line: nothing")
    H.eq(c:read_line_string(10), "", "fewer than max bytes without a newline: nothing")
    H.eq(c:read_line_string(2), "re", "max bytes without a newline: a piece")
    local all = c:read_all_bytes()
    H.eq(string.char(table.unpack(all)), "st", "read_all_bytes")
    H.eq(c.bytes_available, 0, "all read")
    H.eq(c:read_string(), "", "nothing more")
    c:abort()
    srv:close()
end)

test("bulk transfer: partial writes continued from bytes_written_handler", function()
    local srv = net.TcpServer.new()
    srv.ssl_configuration = H.server_config()
    assert(srv:listen(0, "127.0.0.1"))
    local total = 1 << 20
    local got, sent, echoed = 0, 0, {}
    srv.new_connection_handler = function(sv)
        local c = sv:next_pending_connection()
        local pending = ""
        local function pump(x)
            pending = pending .. x:read_all_string()
            if #pending > 0 then
                local n = x:write_string(pending)
                if n then pending = pending:sub(n + 1) end
            end
        end
        c.ready_read_handler = pump
        c.bytes_written_handler = pump
    end
    local chunk = string.rep("0123456789abcdef", 1024) -- 16 KiB
    local c = S.new(H.client_config())
    local partial = false
    local function feed(x)
        while sent < total do
            local piece = chunk:sub(1 + sent % #chunk)
            piece = piece:sub(1, math.min(#piece, total - sent))
            local n = x:write_string(piece)
            if not n or n == 0 then break end
            if n < #piece then partial = true end
            sent = sent + n
        end
    end
    c.encrypted_handler = feed
    c.bytes_written_handler = feed
    c.ready_read_handler = function(x)
        local data = x:read_all_string()
        got = got + #data
        if #echoed < 4 then echoed[#echoed + 1] = data:sub(1, 16) end
        if got == total then x:disconnect() end
    end
    c:connect_encrypted("localhost", srv.server_port)
    H.check(H.poll_until(function() return got == total end, 30000),
            ("echoed %d of %d bytes"):format(got, total))
    H.eq(sent, total, "all sent")
    H.eq(partial, true, "the write queue accepted less than asked at times")
    H.eq(echoed[1], "0123456789abcdef", "data intact")
    H.poll_until(function() return c.state == S.UNCONNECTED_STATE end, 5000)
    srv:close()
end)

test("server session cache: the second connection resumes", function()
    local scfg = H.server_config()
    scfg.session_cache_size = 64 * 1024
    local srv = echo_server(scfg)
    local c = S.new(H.client_config())
    local resumed = {}
    c.encrypted_handler = function(x)
        resumed[#resumed + 1] = x.session_resumed
        x:disconnect()
    end
    for i = 1, 2 do
        c:connect_encrypted("localhost", srv.server_port)
        H.check(H.poll_until(function() return #resumed == i and c.state == 0 end, 5000),
                "connection " .. i)
    end
    H.eq(resumed[1], false, "first: full handshake")
    H.eq(resumed[2], true, "second: resumed from the server's cache")
    srv:close()
end)

test("client session reuse: new sockets of one configuration resume", function()
    local scfg = H.server_config()
    scfg.session_cache_size = 64 * 1024
    local srv = echo_server(scfg)
    local ccfg = H.client_config()
    H.eq(ccfg.client_session_reuse, true, "on by default")
    local resumed = {}
    local function connect_once(i)
        local c = S.new(ccfg)
        c.encrypted_handler = function(x)
            resumed[i] = { x.session_resumed, x.peer_certificate ~= nil }
            x:disconnect()
        end
        c:connect_encrypted("localhost", srv.server_port)
        H.check(H.poll_until(function() return resumed[i] and c.state == 0 end, 5000),
                "connection " .. i)
    end
    connect_once(1)
    connect_once(2)
    ccfg.client_session_reuse = false
    H.eq(ccfg.client_session_reuse, false, "turned off")
    connect_once(3)
    H.raises("SslConfiguration.client_session_reuse must be a boolean (got number)",
             function() ccfg.client_session_reuse = 1 end)
    H.eq(resumed[1][1], false, "first socket: full handshake")
    H.eq(resumed[1][2], true, "first socket: peer certificate")
    H.eq(resumed[2][1], true, "second socket: resumed")
    H.eq(resumed[2][2], false, "no certificate on a resumed handshake")
    H.eq(resumed[3][1], false, "reuse off: full handshake")
    srv:close()
end)

test("pending connections without a handler", function()
    local srv = net.TcpServer.new()
    assert(srv:listen(0, "127.0.0.1"))
    H.eq(srv.max_pending_connections, 30, "default max_pending_connections")
    srv.max_pending_connections = 2
    H.eq(srv.max_pending_connections, 2, "set")
    H.eq(srv.has_pending_connections, false, "none yet")
    local clients = {}
    for i = 1, 3 do
        clients[i] = net.TcpSocket.new()
        clients[i]:connect("127.0.0.1", srv.server_port)
    end
    H.check(H.poll_until(function()
        for _, c in ipairs(clients) do
            if c.state ~= S.CONNECTED_STATE then return false end
        end
        return true
    end, 5000), "clients connected")
    for _ = 1, 5 do net.poll(10) end
    H.eq(srv.has_pending_connections, true, "pending")
    local got = {}
    for i = 1, 3 do
        got[i] = srv:next_pending_connection()
        H.check(got[i], "connection " .. i)
        H.eq(got[i].state, S.CONNECTED_STATE, "accepted state")
        H.eq(got[i].mode, S.UNENCRYPTED_MODE, "accepted mode")
        H.eq(got[i].remote_address, "127.0.0.1", "remote address")
    end
    H.eq(srv:next_pending_connection(), nil, "no more")
    H.eq(srv.has_pending_connections, false, "drained")
    local ports = {}
    for _, c in ipairs(clients) do ports[c.local_port] = true end
    for _, g in ipairs(got) do H.check(ports[g.remote_port], "matches a client") end
    for _, c in ipairs(clients) do c:abort() end
    for _, g in ipairs(got) do g:abort() end
    srv:close()
end)

test("listen errors, IPv6 and close", function()
    local a = net.TcpServer.new()
    assert(a:listen(0, "127.0.0.1"))
    local b = net.TcpServer.new()
    local ok, msg, code = b:listen(a.server_port, "127.0.0.1")
    H.eq(ok, false, "second listen on the port")
    H.match(msg, "in use", "message")
    H.eq(code, S.ADDRESS_IN_USE_ERROR, "code")
    H.eq(b.error, S.ADDRESS_IN_USE_ERROR, "error property")
    H.match(b.error_string, "in use", "error_string property")
    H.eq(b.is_listening, false, "not listening")
    H.raises("not unconnected", function() a:listen(0, "127.0.0.1") end)
    a:close()
    H.eq(a.is_listening, false, "closed")
    local v6 = net.TcpServer.new()
    assert(v6:listen(0, "::1"))
    H.eq(v6.server_address, "::1", "v6 address")
    local got
    v6.new_connection_handler = function(sv) got = sv:next_pending_connection() end
    local c = net.TcpSocket.new()
    c:connect("::1", v6.server_port)
    H.check(H.poll_until(function() return got and c.state == S.CONNECTED_STATE end, 5000),
            "v6 connection")
    H.eq(c.remote_address, "::1", "client remote address")
    c:abort()
    got:abort()
    v6:close()
    H.match(tostring(v6), "^TcpServer %(", "tostring")
end)

-- The server writes "bye\r\n" and closes in `how`; the client must see
-- REMOTE_HOST_CLOSED while CONNECTED, then CLOSING, UNCONNECTED, DISCONNECTED,
-- and still read the bytes from inside the disconnected handler.
local function remote_close(tls, how)
    local srv = net.TcpServer.new()
    if tls then srv.ssl_configuration = H.server_config() end
    assert(srv:listen(0, "127.0.0.1"))
    srv.new_connection_handler = function(sv)
        local c = sv:next_pending_connection()
        local function bye(x)
            x:write_string("bye\r\n")
            if how == "disconnect" then x:disconnect() end
        end
        if tls then c.encrypted_handler = bye else bye(c) end
        if how == "abort" then
            c.bytes_written_handler = function(x) if x.bytes_to_write == 0 then x:abort() end end
        end
    end
    local c = tls and S.new(H.client_config()) or net.TcpSocket.new()
    local log, read_in_d = {}, nil
    local function add(w) log[#log + 1] = w end
    c.state_changed_handler = function(_, st) add("S" .. st) end
    c.error_handler = function(_, e) add("X" .. e) end
    c.disconnected_handler = function(x)
        add("D")
        read_in_d = x:read_all_string()
    end
    if tls then c:connect_encrypted("localhost", srv.server_port)
    else c:connect("localhost", srv.server_port) end
    H.check(H.poll_until(function() return read_in_d ~= nil end, 8000), "closed")
    srv:close()
    -- the error while CONNECTED: before the change to CLOSING
    H.match(table.concat(log, " "), "^S1 S2 S3 X1 S6 S0 D$", "events")
    H.eq(read_in_d, "bye\r\n", "bytes readable in the disconnected handler")
    H.eq(c.error, S.REMOTE_HOST_CLOSED_ERROR, "error")
    return c
end

test("remote close (plaintext): disconnected handler can still read", function()
    remote_close(false, "disconnect")
end)

test("remote close (TLS, close_notify): disconnected handler can still read", function()
    local c = remote_close(true, "disconnect")
    H.check(not c.error_string:find("truncat"), "orderly: " .. c.error_string)
end)

test("remote close (TLS, no close_notify) is reported as truncation", function()
    local c = remote_close(true, "abort")
    H.match(c.error_string, "truncat", "error_string")
end)

test("Lua server verifies client certificates", function()
    local scfg = H.server_config()
    scfg.peer_verify_mode = S.VERIFY_PEER
    assert(scfg:add_ca_certificates(H.path("ca.pem")) == 1)
    local conns = {} -- what the server saw, per connection
    local srv = echo_server(scfg, function(c)
        local seen = {}
        conns[#conns + 1] = seen
        c.encrypted_handler = function(x) seen.cn = x.peer_certificate.common_name end
        c.error_handler = function(_, e) seen.err = seen.err or e end
    end)
    local ccfg = H.client_config()
    ccfg.local_certificate = H.cert("client.pem")
    ccfg.private_key = H.key("client.key")
    local c = S.new(ccfg)
    c:connect_encrypted("localhost", srv.server_port)
    H.check(H.poll_until(function() return conns[1] and conns[1].cn end, 5000),
            "server saw the certificate")
    H.eq(conns[1].cn, "test client", "client certificate common name")
    c:disconnect()
    H.poll_until(function() return c.state == S.UNCONNECTED_STATE end, 3000)
    local anon = S.new(H.client_config())
    anon:connect_encrypted("localhost", srv.server_port)
    H.check(H.poll_until(function() return conns[2] and conns[2].err end, 5000), "server refused")
    H.eq(conns[2].err, S.SSL_HANDSHAKE_FAILED_ERROR, "handshake failed without a certificate")
    H.eq(conns[2].cn, nil, "never encrypted")
    H.poll_until(function() return anon.state == S.UNCONNECTED_STATE end, 3000)
    srv:close()
end)

return T
