-- echo_server.lua - a TLS echo server: a TcpServer with an
-- ssl_configuration, so every accepted connection is an SslSocket that
-- starts server encryption at once.  Whatever a client sends comes back to
-- it; any number of clients at a time, in one thread, no blocking call.
--
--   build/luahost examples/echo_server.lua CERT KEY [PORT [ADDRESS]]
--   LUA_CPATH='build/?.so' lua5.4 examples/echo_server.lua ...   (works too)
--
--   CERT     PEM: the server certificate, then any intermediates
--   KEY      PEM: its private key, EC or RSA (SEC1, PKCS#1 or PKCS#8)
--   PORT     default 4433; 0 asks the kernel for a free one
--   ADDRESS  default 127.0.0.1; "::" is every IPv6 and IPv4 address
-- Environment: ECHO_CERT, ECHO_KEY, ECHO_PORT, ECHO_ADDRESS (arguments
-- win); ECHO_CLIENTS=N closes the server after N clients have come and
-- gone, so the script ends (for tests).
--
-- Prints "listening on ADDRESS:PORT" once it listens (flushed: a script
-- can wait for that line to learn the port), then a line per client event.
-- Try it with:  openssl s_client -connect 127.0.0.1:4433 -CAfile ca.pem
local net = rawget(_G, "net") or require "sslsocket"

local cert_file = arg[1] or os.getenv("ECHO_CERT")
local key_file = arg[2] or os.getenv("ECHO_KEY")
local port = math.tointeger(tonumber(arg[3] or os.getenv("ECHO_PORT") or "4433"))
local address = arg[4] or os.getenv("ECHO_ADDRESS") or "127.0.0.1"
local max_clients = math.tointeger(tonumber(os.getenv("ECHO_CLIENTS") or ""))
if not (cert_file and key_file and port) then
    io.stderr:write("usage: echo_server.lua CERT KEY [PORT [ADDRESS]]\n")
    os.exit(2)
end

local function slurp(path)
    local f = assert(io.open(path, "rb"))
    local s = f:read("a")
    f:close()
    return s
end

-- The server's identity: its certificate chain and key.
local configuration = net.SslConfiguration.new()
local chain = {}
for pem in slurp(cert_file):gmatch("%-%-%-%-%-BEGIN CERTIFICATE%-%-%-%-%-.-%-%-%-%-%-END CERTIFICATE%-%-%-%-%-") do
    local cert = net.SslCertificate.new(pem)
    assert(not cert.null, cert_file .. ": a certificate does not load")
    chain[#chain + 1] = cert
end
assert(#chain > 0, cert_file .. ": no certificate")
configuration.local_certificate_chain = chain
local pem = slurp(key_file)
local key = net.SslKey.new(pem, net.SslKey.EC)
if key.null then key = net.SslKey.new(pem, net.SslKey.RSA) end
assert(not key.null, key_file .. ": " .. key.error_string)
configuration.private_key = key -- checked against the certificate here

local server = net.TcpServer.new()
server.ssl_configuration = configuration
if not server:listen(port, address) then
    io.stderr:write("echo_server: ", server.error_string, "\n")
    os.exit(1)
end
-- One line per event, flushed at once: stdout may be a pipe.
local function log(fmt, ...)
    io.stdout:write(fmt:format(...), "\n")
    io.stdout:flush()
end

local shown = server.server_address:find(":") and "[%s]:%d" or "%s:%d"
log("listening on " .. shown, server.server_address, server.server_port)

local next_id, served = 1, 0

-- Echo with backpressure: take what arrived, queue it; when the write
-- queue is full, keep the rest and stop reading until bytes_written says
-- there is room again (unread data waits in the socket, then in TCP).
local function pump(client, st)
    while true do
        if #st.pending > 0 then
            local n = client:write_string(st.pending)
            if not n then return end -- the connection failed: error_handler says why
            st.pending = st.pending:sub(n + 1)
            if #st.pending > 0 then return end
        end
        local data = client:read_string(16384)
        if not data or data == "" then return end
        st.pending, st.bytes = data, st.bytes + #data
    end
end

server.new_connection_handler = function(srv)
    local client = srv:next_pending_connection()
    while client do
        local id, st = next_id, { pending = "", bytes = 0 }
        next_id = next_id + 1
        log("client %d: connected from %s port %d", id, client.remote_address,
            client.remote_port)
        client.encrypted_handler = function(c)
            log("client %d: %s, %s%s", id, c.session_protocol, c.session_cipher,
                c.server_name and (", asked for " .. c.server_name) or "")
        end
        client.ready_read_handler = function(c) pump(c, st) end
        client.bytes_written_handler = function(c) pump(c, st) end
        client.error_handler = function(c, err)
            if err ~= net.TcpSocket.REMOTE_HOST_CLOSED_ERROR then
                log("client %d: %s", id, c.error_string)
            end
        end
        client.disconnected_handler = function()
            log("client %d: disconnected after %d bytes", id, st.bytes)
            served = served + 1
            if max_clients and served >= max_clients then srv:close() end
        end
        client = srv:next_pending_connection()
    end
end

net.run()
