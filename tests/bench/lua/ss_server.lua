-- ss_server.lua - the sslsocket.so side of tests/bench/vs_luasec.sh: a TLS
-- echo server written as examples/echo_server.lua is (a TcpServer with an
-- ssl_configuration, handlers, net.run()).
--
--   lua5.4 ss_server.lua CERT KEY PORTFILE [HOLD [CACHE]]
--
-- CACHE > 0 gives it a server-side session cache of CACHE bytes, so that
-- returning clients resume (LuaSec's servers have none: SSL_SESS_CACHE_OFF).
-- It exits after $BENCH_LIFETIME seconds (default 600) if nobody kills it.
-- Writes the port it listens on (127.0.0.1, port chosen by the kernel) to
-- PORTFILE.  Memory lines on stdout (see common.lua): "mem base" once the
-- first connection has come and gone (the warm-up), "mem held" when HOLD
-- connections are open and have each echoed something.
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local C = require "common"
local net = require "sslsocket"

local cert_file, key_file, port_file = arg[1], arg[2], arg[3]
local hold = math.tointeger(tonumber(arg[4] or "0"))
local cache = math.tointeger(tonumber(arg[5] or "0"))
if not (cert_file and key_file and port_file and hold and cache) then
    C.die("usage: ss_server.lua CERT KEY PORTFILE [HOLD [CACHE]]")
end

local function slurp(path)
    local f = assert(io.open(path, "rb"))
    local s = f:read("a")
    f:close()
    return s
end

local configuration = net.SslConfiguration.new()
configuration.local_certificate = net.SslCertificate.new(slurp(cert_file))
configuration.private_key = net.SslKey.new(slurp(key_file), net.SslKey.EC)
configuration.ciphers = { "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" }
configuration.protocol_min = "TLSv1.2"
configuration.protocol_max = "TLSv1.2"
if cache > 0 then configuration.session_cache_size = cache end
-- idle connections give their record buffer back after 1 s (10 s by
-- default); LuaSec's release theirs at once (SSL_MODE_RELEASE_BUFFERS)
configuration.idle_release_ms = 1000

local server = net.TcpServer.new()
server.ssl_configuration = configuration
if not server:listen(0, "127.0.0.1") then C.die("listen: %s", server.error_string) end
C.write_file(port_file, tostring(server.server_port))

local served, live, errors, reported = 0, 0, 0, false

-- Echo with backpressure (as examples/echo_server.lua): what does not fit
-- in the write queue waits, and reading stops until bytes_written.
local function pump(client, st)
    while true do
        if #st.pending > 0 then
            local n = client:write_string(st.pending)
            if not n then return end
            st.pending = st.pending:sub(n + 1)
            if #st.pending > 0 then return end
        end
        local data = client:read_string(16384)
        if not data or data == "" then return end
        st.pending = data
        if not st.echoed then
            st.echoed = true
            live = live + 1
            if live == hold and not reported then
                reported = true
                C.held(live)
            end
        end
    end
end

server.new_connection_handler = function(srv)
    local client = srv:next_pending_connection()
    while client do
        local st = { pending = "" }
        client.ready_read_handler = function(c) pump(c, st) end
        client.bytes_written_handler = function(c) pump(c, st) end
        client.error_handler = function(c, err)
            if err ~= net.TcpSocket.REMOTE_HOST_CLOSED_ERROR then
                errors = errors + 1
                if errors <= 5 then io.stderr:write("ss_server: ", c.error_string, "\n") end
            end
        end
        client.disconnected_handler = function()
            served = served + 1
            if st.echoed then live = live - 1 end
            if served == 1 then C.report_memory("base", 0) end
        end
        client = srv:next_pending_connection()
    end
end

local stop = C.now() + tonumber(os.getenv("BENCH_LIFETIME") or "600")
while C.now() < stop do
    net.run(250) -- back every 250 ms for the delayed memory report
    C.tick()
end
