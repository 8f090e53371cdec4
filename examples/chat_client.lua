-- chat_client.lua - a line-based TLS client: prints every line the server
-- sends, and sends the lines given on the command line or, without them,
-- the lines typed (or piped) on standard input, as they come.
--
--   build/luahost examples/chat_client.lua HOST PORT [LINE...]
--   LUA_CPATH='build/?.so' lua5.4 examples/chat_client.lua ...   (works too)
--
-- Environment: CHAT_CAFILE (trust only this CA; by default the system
-- store, which honours SSL_CERT_FILE), CHAT_WAIT (seconds to wait for
-- replies once our input has ended, default 2: we leave earlier when as
-- many lines came back as we sent, as with an echo server).  Server lines
-- go to standard output as they are, everything else to standard error.
-- Try it against build/tls_server (a line-echo server).
local net = rawget(_G, "net") or require "sslsocket"
local S = net.SslSocket

local host, port = arg[1], math.tointeger(tonumber(arg[2] or ""))
if not (host and port) then
    io.stderr:write("usage: chat_client.lua HOST PORT [LINE...]\n")
    os.exit(2)
end
local wait = tonumber(os.getenv("CHAT_WAIT") or "2")
local cafile = os.getenv("CHAT_CAFILE")

local function note(fmt, ...) io.stderr:write(("-- " .. fmt .. "\n"):format(...)) end

-- Standard input, inside the event loop.  Plain Lua cannot read stdin
-- without blocking every socket, so a child process (bash, always there on
-- Debian) copies our stdin into a loopback TCP connection, and the loop
-- reads that like any other socket.  One connection is accepted, then the
-- listener closes.  Returns a function that stops the child.
local function stdin_lines(on_line, on_end)
    local relay = net.TcpServer.new()
    assert(relay:listen(0, "127.0.0.1"), relay.error_string)
    local child = io.popen(("exec bash -c 'echo $$; exec cat >/dev/tcp/127.0.0.1/%d'"):format(
        relay.server_port)) -- inherits our stdin; its stdout is the pipe until `exec cat`
    local pid = child:read("l")
    relay.new_connection_handler = function(srv)
        local input = srv:next_pending_connection()
        srv:close()
        input.ready_read_handler = function(x)
            while x.can_read_line do on_line(x:read_line_string()) end
        end
        input.disconnected_handler = function(x) -- cat saw end of file
            local rest = x:read_all_string()     -- a last line without "\n"
            if rest ~= "" then on_line(rest) end
            on_end()
        end
    end
    return function()
        if relay.is_listening then relay:close() end
        os.execute("kill " .. pid .. " 2>/dev/null")
        child:close()
    end
end

local configuration
if cafile then
    configuration = net.SslConfiguration.new()
    assert(configuration:add_ca_certificates(cafile) > 0, "no CA certificate in " .. cafile)
end

local socket = S.new(configuration)
local sent, received, input_done, quiet_since = 0, 0, false, nil
local outbox = "" -- lines not yet taken by the socket
local failed = false

-- Leave once our input has ended and every line was answered (or nothing
-- came for CHAT_WAIT seconds): disconnect() flushes what is queued, then
-- sends close_notify.
local function maybe_leave()
    if input_done and outbox == "" and socket.state == S.CONNECTED_STATE and socket.encrypted then
        quiet_since = quiet_since or os.time()
        if received >= sent or os.time() - quiet_since >= wait then socket:disconnect() end
    end
end

-- Lines wait in `outbox` until the socket's write queue (a few KiB) takes
-- them: write_string() accepts what fits, bytes_written_handler says when
-- there is room again.  Before the handshake, what it took is queued and
-- goes out, in order, once the session is encrypted.
local function flush()
    local n = socket:write_string(outbox)
    if n then outbox = outbox:sub(n + 1) end
end

local function send(line)
    outbox = outbox .. line:gsub("\r?\n$", "") .. "\n"
    sent = sent + 1
    flush()
end

socket.encrypted_handler = function(s)
    local cert = s.peer_certificate
    note("connected to %s port %d: %s, %s, server certificate %s", s.remote_address,
         s.remote_port, s.session_protocol, s.session_cipher, cert and cert.subject or "(none)")
end
socket.bytes_written_handler = function() flush() end
socket.ready_read_handler = function(s)
    while true do -- (what arrived stays readable after a close, too)
        local line = s:read_line_string() -- or the first part of a very long one
        if not line or line == "" then break end
        io.write(line)
        if line:sub(-1) == "\n" then received = received + 1 end
    end
    io.flush()
    quiet_since = os.time()
    maybe_leave()
end
socket.error_handler = function(s, err)
    if err ~= S.REMOTE_HOST_CLOSED_ERROR then failed = true end -- the server may end it
    note("%s", s.error_string)
end
socket.disconnected_handler = function(s)
    local rest = s:read_all_string() -- a last line without "\n"
    if rest ~= "" then io.write(rest, "\n") end
    note("disconnected")
end

socket:connect_encrypted(host, port, net.Stream.READ_WRITE_MODE)

local stop_input = function() end
if #arg > 2 then
    for i = 3, #arg do send(arg[i]) end
    input_done = true
else
    stop_input = stdin_lines(send, function() input_done = true; maybe_leave() end)
end

-- The loop, in slices of 200 ms so that the CHAT_WAIT timeout is noticed.
repeat
    local idle = net.run(200)
    maybe_leave()
    if socket.state == S.UNCONNECTED_STATE then
        stop_input() -- the server has gone: stop reading stdin
        stop_input = function() end
    end
until idle
os.exit(not failed, true)
