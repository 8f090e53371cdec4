-- demo.lua - the seed document's SslSocket client, made talkative.
--
-- `make demo` runs it against build/tls_server (a TLS line-echo server): it
-- prints every state and mode change, the negotiated session, a summary of
-- the server's certificate and the echoed text, then disconnects.
--
--   build/luahost examples/demo.lua [HOST [PORT [CAFILE [TEXT]]]]
--   LUA_CPATH='build/?.so' lua5.4 examples/demo.lua ...      (works too)
--
-- Arguments win over the environment: DEMO_HOST (default localhost),
-- DEMO_PORT (4433), DEMO_CAFILE (the CA that issued the server's
-- certificate; without it the system trust store is used), DEMO_TEXT.
-- Exits 0 when the echo came back over a verified connection.
local net = rawget(_G, "net") or require "sslsocket"      -- luahost publishes `net`;
local iomodules = rawget(_G, "iomodules") or { net = net } -- plain lua5.4 requires it

local host = arg[1] or os.getenv("DEMO_HOST") or "localhost"
local port = math.tointeger(tonumber(arg[2] or os.getenv("DEMO_PORT") or "4433"))
local cafile = arg[3] or os.getenv("DEMO_CAFILE")
local text = arg[4] or os.getenv("DEMO_TEXT") or "hello from sslsocket"
assert(port, "PORT must be a number")

-- Constant values -> names, for printing (STATE from TcpSocket, MODE from SslSocket).
local function names(class, suffix)
    local t = {}
    for _, k in ipairs({ "UNCONNECTED", "HOST_LOOKUP", "CONNECTING", "CONNECTED", "BOUND",
                         "LISTENING", "CLOSING", "UNENCRYPTED", "SSL_CLIENT", "SSL_SERVER" }) do
        local v = class[k .. suffix]
        if v then t[v] = k .. suffix end
    end
    return t
end
local STATE = names(net.TcpSocket, "_STATE")
local MODE = names(net.SslSocket, "_MODE")
local KEY = { [net.SslKey.RSA] = "RSA", [net.SslKey.DSA] = "DSA", [net.SslKey.EC] = "EC" }

local function say(fmt, ...) io.write((fmt):format(...), "\n") io.flush() end

-- Trust only the demo's CA when one is given: the server's certificate
-- must chain to it and name `host` (VERIFY_PEER is the client default).
local configuration
if cafile then
    configuration = net.SslConfiguration.new()
    assert(configuration:add_ca_certificates(cafile) > 0, "no CA certificate in " .. cafile)
end

local echoed = false

-- The seed's snippet: create, set encrypted_handler, connect_encrypted.
local socket = iomodules.net.SslSocket.new(configuration)
socket.encrypted_handler = function(s)
    say("encrypted: %s, %s", s.session_protocol, s.session_cipher)
    local cert = s.peer_certificate
    if cert then
        say("server certificate:")
        say("  subject   %s", cert.subject)
        say("  issuer    %s", cert.issuer)
        say("  names     %s", table.concat(cert.subject_alt_names, ", "))
        say("  valid     %s .. %s", os.date("!%Y-%m-%d", cert.not_before),
            os.date("!%Y-%m-%d", cert.not_after))
        say("  key       %s, %d bits", KEY[cert.public_key_algorithm] or "?", cert.public_key_bits)
        say("  sha256    %s", cert.digest)
    end
    say("verified: %s", #s.ssl_errors == 0 and "yes, chain and host name" or "NO")
end

-- The rest: show everything that happens, in order.
socket.state_changed_handler = function(_, state)
    say("state: %s", STATE[state] or state)
end
socket.mode_changed_handler = function(_, mode)
    say("mode: %s", MODE[mode] or mode)
end
socket.host_found_handler = function() say("host found: %s", host) end
socket.connected_handler = function(s)
    say("connected: %s port %d", s.remote_address, s.remote_port)
end
socket.ready_read_handler = function(s)
    while s.can_read_line do
        local line = s:read_line_string():gsub("\r?\n$", "")
        say("echo: %s", line)
        if line == text then
            echoed = true
            s:disconnect() -- flushes, sends close_notify, then closes
        end
    end
end
socket.error_handler = function(s, err)
    if err ~= net.TcpSocket.REMOTE_HOST_CLOSED_ERROR or not echoed then
        say("error: %s", s.error_string)
    end
end
socket.disconnected_handler = function() say("disconnected") end

say("connecting to %s port %d%s", host, port, cafile and (", trusting " .. cafile) or "")
socket:connect_encrypted(host, port, net.Stream.READ_WRITE_MODE)
-- Written before the handshake: queued, sent once encrypted.
socket:write_string(text .. "\n")
say("queued: %s (sent once encrypted)", text)

net.run()
os.exit(echoed and 0 or 1, true)
