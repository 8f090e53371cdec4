-- test_api.lua - constants, properties, argument errors, certificates, keys,
-- configurations and the *_async plumbing; no network peer needed.
local H = require "helpers"
local net = H.net
local T = {}
local function test(name, f) T[#T + 1] = { name, f } end

test("constants", function()
    local want = {
        Stream = { NOT_OPEN_MODE = 0, READ_ONLY_MODE = 1, WRITE_ONLY_MODE = 2,
                   READ_WRITE_MODE = 3, APPEND_MODE = 4, TRUNCATE_MODE = 8 },
        TcpSocket = { UNCONNECTED_STATE = 0, HOST_LOOKUP_STATE = 1, CONNECTING_STATE = 2,
                      CONNECTED_STATE = 3, BOUND_STATE = 4, LISTENING_STATE = 5,
                      CLOSING_STATE = 6, CONNECTION_REFUSED_ERROR = 0,
                      REMOTE_HOST_CLOSED_ERROR = 1, HOST_NOT_FOUND_ERROR = 2,
                      SOCKET_ACCESS_ERROR = 3, SOCKET_RESOURCE_ERROR = 4,
                      SOCKET_TIMEOUT_ERROR = 5, DATAGRAM_TOO_LARGE_ERROR = 6,
                      NETWORK_ERROR = 7, ADDRESS_IN_USE_ERROR = 8,
                      SOCKET_ADDRESS_NOT_AVAILABLE_ERROR = 9,
                      UNSUPPORTED_SOCKET_OPERATION_ERROR = 10,
                      UNFINISHED_SOCKET_OPERATION_ERROR = 11, SSL_HANDSHAKE_FAILED_ERROR = 13,
                      OPERATION_ERROR = 19, SSL_INTERNAL_ERROR = 20,
                      SSL_INVALID_USERDATA_ERROR = 21, TEMPORARY_ERROR = 22,
                      UNKNOWN_ERROR = -1 },
        SslSocket = { UNENCRYPTED_MODE = 0, SSL_CLIENT_MODE = 1, SSL_SERVER_MODE = 2,
                      VERIFY_NONE = 0, QUERY_PEER = 1, VERIFY_PEER = 2, AUTO_VERIFY_PEER = 3,
                      READ_WRITE_MODE = 3, CONNECTED_STATE = 3 },
        SslEncoding = { PEM = 0, DER = 1 },
        SslKey = { PUBLIC = 0, PRIVATE = 1, RSA = 0, DSA = 1, EC = 2 },
        SslConfiguration = { VERIFY_NONE = 0, QUERY_PEER = 1, VERIFY_PEER = 2,
                             AUTO_VERIFY_PEER = 3 },
    }
    for class, consts in pairs(want) do
        for k, v in pairs(consts) do
            H.eq(net[class][k], v, "net." .. class .. "." .. k)
        end
    end
    -- SslSocket implements TcpSocket: every TcpSocket constant is there too
    for k, v in pairs(want.TcpSocket) do H.eq(net.SslSocket[k], v, "net.SslSocket." .. k) end
    -- constants read through an instance as well
    local s = net.SslSocket.new()
    H.eq(s.SSL_CLIENT_MODE, 1, "socket.SSL_CLIENT_MODE")
    H.eq(s.CLOSING_STATE, 6, "socket.CLOSING_STATE")
    H.match(net._VERSION, "^sslsocket %d+%.%d+%.%d+$", "net._VERSION")
    H.raises("SslSocket.SSL_CLIENT_MODE is a constant", function() s.SSL_CLIENT_MODE = 5 end)
end)

test("fresh socket properties", function()
    local s = net.SslSocket.new()
    H.eq(s.state, net.TcpSocket.UNCONNECTED_STATE, "state")
    H.eq(s.mode, net.SslSocket.UNENCRYPTED_MODE, "mode")
    H.eq(s.encrypted, false, "encrypted")
    H.eq(s.error, net.TcpSocket.UNKNOWN_ERROR, "error")
    H.eq(s.error_string, "", "error_string")
    H.eq(s.valid, false, "valid")
    H.eq(s.is_open, false, "is_open")
    H.eq(s.open_mode, net.Stream.NOT_OPEN_MODE, "open_mode")
    H.eq(s.readable, false, "readable")
    H.eq(s.writeable, false, "writeable")
    H.eq(s.bytes_available, 0, "bytes_available")
    H.eq(s.bytes_to_write, 0, "bytes_to_write")
    H.eq(s.at_end, true, "at_end")
    H.eq(s.pos, 0, "pos")
    H.eq(s.sequential, true, "sequential")
    H.eq(s.can_read_line, false, "can_read_line")
    H.eq(s.peer_certificate, nil, "peer_certificate")
    H.eq(#s.peer_certificate_chain, 0, "#peer_certificate_chain")
    H.eq(#s.ssl_errors, 0, "#ssl_errors")
    H.eq(s.session_protocol, nil, "session_protocol")
    H.eq(s.session_cipher, nil, "session_cipher")
    H.eq(s.alpn_protocol, nil, "alpn_protocol")
    H.eq(s.session_resumed, false, "session_resumed")
    H.eq(s.peer_verify_mode, net.SslSocket.AUTO_VERIFY_PEER, "peer_verify_mode")
    H.eq(s.peer_verify_name, nil, "peer_verify_name")
    H.eq(s.local_port, 0, "local_port")
    H.eq(s.remote_port, 0, "remote_port")
    H.eq(s.local_address, nil, "local_address")
    H.eq(s.remote_address, nil, "remote_address")
    H.eq(s.discarded_plaintext, 0, "discarded_plaintext")
    H.eq(s.server_name, nil, "server_name")
    -- the default configuration: shared, with the system trust store
    local c = s.configuration
    H.check(getmetatable(c) == getmetatable(net.SslConfiguration.new()), "configuration type")
    H.check(rawequal(c, net.SslSocket.new().configuration), "default configuration shared")
    H.match(tostring(s), "^SslSocket %(UNCONNECTED", "tostring")
    H.match(tostring(net.TcpSocket.new()), "^TcpSocket %(UNCONNECTED", "tostring tcp")
    -- writable properties read back
    s.peer_verify_mode = net.SslSocket.VERIFY_NONE
    H.eq(s.peer_verify_mode, 0, "peer_verify_mode after set")
    s.peer_verify_name = "imap.example.com"
    H.eq(s.peer_verify_name, "imap.example.com", "peer_verify_name after set")
    local cfg = net.SslConfiguration.new()
    s.configuration = cfg
    H.check(rawequal(s.configuration, cfg), "configuration after set")
    s.configuration = nil
    H.check(rawequal(s.configuration, c), "configuration nil -> default")
end)

test("read-only properties raise", function()
    local ro = { "encrypted", "mode", "state", "error", "bytes_available", "bytes_to_write",
                 "at_end", "pos", "readable", "writeable", "sequential", "can_read_line",
                 "error_string", "is_open", "open_mode", "valid", "local_address",
                 "local_port", "remote_address", "remote_port", "peer_certificate",
                 "peer_certificate_chain", "ssl_errors", "session_protocol",
                 "session_cipher", "alpn_protocol", "session_resumed" }
    local s = net.SslSocket.new()
    for _, p in ipairs(ro) do
        H.raises("SslSocket." .. p .. " is read-only", function() s[p] = 1 end)
    end
    local t = net.TcpSocket.new()
    H.raises("TcpSocket.state is read-only", function() t.state = 3 end)
    local srv = net.TcpServer.new()
    for _, p in ipairs({ "is_listening", "server_port", "server_address",
                         "has_pending_connections", "error", "error_string" }) do
        H.raises("TcpServer." .. p .. " is read-only", function() srv[p] = 1 end)
    end
    local c = net.SslCertificate.new(H.read(H.path("ec.pem")))
    H.raises("SslCertificate.subject is read-only", function() c.subject = "x" end)
    local k = H.key("ec.key")
    H.raises("SslKey.algorithm is read-only", function() k.algorithm = 0 end)
    H.raises("SslConfiguration.ca_count is read-only",
             function() net.SslConfiguration.new().ca_count = 3 end)
    H.raises("SslSocket.connect is a method and cannot be assigned",
             function() s.connect = print end)
end)

test("unknown fields and handler typos raise", function()
    local s = net.SslSocket.new()
    H.raises("SslSocket has no field 'encrypted_handlr' (did you mean 'encrypted_handler'?)",
             function() s.encrypted_handlr = function() end end)
    H.raises("SslSocket has no field 'ready_read_handle'", function() return s.ready_read_handle end)
    H.raises("SslSocket has no field 'frobnicate'", function() s.frobnicate = 1 end)
    H.raises("SslSocket has no field '1'", function() return s[1] end)
    local t = net.TcpSocket.new()
    H.raises("TcpSocket has no field 'encrypted_handler' (it belongs to SslSocket)",
             function() t.encrypted_handler = function() end end)
    H.raises("TcpSocket has no field 'start_client_encryption' (it belongs to SslSocket)",
             function() t:start_client_encryption() end)
    H.raises("TcpSocket has no field 'connect_encrypted' (it belongs to SslSocket)",
             function() t:connect_encrypted("localhost", 443) end)
    H.raises("TcpSocket has no field 'start_server_encryption' (it belongs to SslSocket)",
             function() t:start_server_encryption() end)
    local srv = net.TcpServer.new()
    H.raises("TcpServer has no field 'new_conection_handler' (did you mean " ..
             "'new_connection_handler'?)", function() srv.new_conection_handler = print end)
end)

test("handlers are plain fields", function()
    local names = { "ready_read_handler", "bytes_written_handler", "about_to_close_handler",
                    "connected_handler", "disconnected_handler", "error_handler",
                    "state_changed_handler", "host_found_handler", "encrypted_handler",
                    "mode_changed_handler", "ssl_errors_handler" }
    local s = net.SslSocket.new()
    for _, n in ipairs(names) do
        local f = function() end
        H.eq(s[n], nil, n .. " initially")
        s[n] = f
        H.eq(s[n], f, n .. " after set")
        s[n] = nil
        H.eq(s[n], nil, n .. " after clear")
        H.raises("SslSocket." .. n .. " must be a function or nil (got number)",
                 function() s[n] = 42 end)
    end
    local t = net.TcpSocket.new()
    for i = 1, 8 do t[names[i]] = print end -- the Stream and TcpSocket ones
    local srv = net.TcpServer.new()
    srv.new_connection_handler = print
    srv.error_handler = print
    H.eq(srv.new_connection_handler, print, "server handler")
end)

test("argument errors name the function and argument", function()
    local s = net.SslSocket.new()
    H.raises("bad argument #1 to 'connect_encrypted' (empty host name)",
             function() s:connect_encrypted("", 443) end)
    H.raises("bad argument #2 to 'connect_encrypted' (port 0 out of range (1..65535))",
             function() s:connect_encrypted("localhost", 0) end)
    H.raises("bad argument #2 to 'connect' (port 70000 out of range",
             function() s:connect("localhost", 70000) end)
    H.raises("bad argument #3 to 'connect' (open mode must be",
             function() s:connect("localhost", 443, 0) end)
    H.raises("bad argument #1 to 'connect' (string expected, got nil)",
             function() s:connect(nil, 443) end)
    H.raises("bad argument #2 to 'connect' (number expected, got string)",
             function() s:connect("localhost", "https") end)
    H.raises("bad argument #1 to 'read_string' (size must be non-negative)",
             function() s:read_string(-1) end)
    H.raises("bad argument #1 to 'read_bytes' (size must be non-negative)",
             function() s:read_bytes(-5) end)
    H.raises("bad argument #1 to 'peek_string'", function() s:peek_string() end)
    H.raises("bad argument #1 to 'read_line_string' (line length must be at least 1)",
             function() s:read_line_string(0) end)
    H.raises("bad argument #1 to 'write_bytes' (element 2 is not a byte (0..255))",
             function() s:write_bytes({ 1, 256 }) end)
    H.raises("bad argument #1 to 'write_bytes' (element 1 is not a byte (0..255))",
             function() s:write_bytes({ 1.5 }) end)
    H.raises("bad argument #1 to 'write_string' (string expected, got table)",
             function() s:write_string({}) end)
    H.raises("bad argument #1 to 'abort' (unexpected argument)", function() s:abort(1) end)
    H.raises("bad argument #2 to 'new' (unexpected argument)",
             function() net.SslSocket.new(nil, 1) end)
    H.raises("bad argument #1 to 'bind' (port -1 out of range (0..65535))",
             function() s:bind(-1) end)
    H.raises("bad argument #1 to 'ignore_ssl_errors' (element 1 is not an SSL error code)",
             function() s:ignore_ssl_errors({ "x" }) end)
    H.raises("SslSocket expected", function() s.connect_encrypted(net.TcpSocket.new(),
                                                                   "localhost", 443) end)
    H.raises("calling 'read_string' on bad self (TcpSocket or SslSocket expected, got table)",
             function() local meth = { read_string = s.read_string }; return meth:read_string() end)
    H.raises("bad argument #1 to 'read_string' (TcpSocket or SslSocket expected, got number)",
             function() local read_string = s.read_string; return read_string(42) end)
    H.raises("SslSocket.peer_verify_mode: 7 is not a verify mode",
             function() s.peer_verify_mode = 7 end)
    H.raises("SslSocket.peer_verify_mode must be an integer (got string)",
             function() s.peer_verify_mode = "x" end)
    H.raises("SslSocket.configuration must be an SslConfiguration or nil (got table)",
             function() s.configuration = {} end)
    local srv = net.TcpServer.new()
    H.raises("bad argument #1 to 'listen' (port 65536 out of range (0..65535))",
             function() srv:listen(65536) end)
    H.raises("not an IP address", function() srv:listen(0, "localhost") end)
    H.raises("TcpServer.max_pending_connections: 0 out of range",
             function() srv.max_pending_connections = 0 end)
    H.raises("TcpServer.ssl_configuration: the configuration has no local_certificate",
             function() srv.ssl_configuration = net.SslConfiguration.new() end)
    H.raises("bad argument #1 to 'new' (string expected, got table)",
             function() net.SslCertificate.new({}) end)
    H.raises("bad argument #2 to 'new' (format must be SslEncoding.PEM or DER)",
             function() net.SslCertificate.new("x", 5) end)
    H.raises("bad argument #2 to 'new' (algorithm must be SslKey.RSA, DSA or EC)",
             function() net.SslKey.new("x", 7) end)
    H.raises("bad argument #1 to 'new' (storage size must be",
             function() net.SslConfiguration.new(10) end)
    H.raises("bad argument #1 to 'poll' (timeout must be -1 or >= 0)",
             function() net.poll(-2) end)
    -- wrong state: a connected-only operation on an unconnected socket is
    -- not an exception, the seed says "no effect"
    local ok, msg, code = s:start_client_encryption()
    H.eq(ok, false, "start_client_encryption unconnected")
    H.match(msg, "not connected", "start_client_encryption message")
    H.eq(code, 19, "OPERATION")
    H.eq(s.state, 0, "state unchanged")
    H.eq(s.error, -1, "error unchanged (no effect)")
    H.eq(s.error_string, "", "error_string unchanged")
    -- writing to an unconnected socket is a runtime failure: nil, message, code
    local n, err, code = s:write_string("x")
    H.eq(n, nil, "write unconnected")
    H.match(err, "not connected", "write message")
    H.eq(code, net.TcpSocket.OPERATION_ERROR, "write code")
end)

test("stream methods on a socket", function()
    local s = net.TcpSocket.new()
    H.eq(s:seek(10), false, "seek")
    H.eq(s:reset(), false, "reset")
    local ok, msg = s:open(net.Stream.READ_WRITE_MODE)
    H.eq(ok, false, "open")
    H.match(msg, "connect", "open message")
    H.eq(s:read_string(), "", "read_string empty")
    H.eq(s:read_all_string(), "", "read_all_string empty")
    H.eq(#s:read_bytes(), 0, "read_bytes empty")
    H.eq(#s:read_all_bytes(), 0, "read_all_bytes empty")
    H.eq(s:peek_string(10), "", "peek_string empty")
    H.eq(#s:peek_bytes(10), 0, "peek_bytes empty")
    H.eq(s:read_line_string(), "", "read_line_string empty")
    H.eq(#s:read_line_bytes(80), 0, "read_line_bytes empty")
    H.eq(s:write_string(""), 0, "write empty string")
    H.eq(s:bind(0, "127.0.0.1"), true, "bind")
    H.eq(s.state, net.TcpSocket.BOUND_STATE, "bound")
    H.eq(net.active(), 0, "a bound socket is not active")
    s:close()
    s:abort()
    H.eq(s.state, net.TcpSocket.UNCONNECTED_STATE, "unbound after abort")
end)

test("async methods report in the next round", function()
    local s = net.SslSocket.new()
    local got = {}
    s:read_string_async(10, function(stream, result, err)
        got[#got + 1] = { "read", stream, result, err }
    end)
    s:write_string_async("hello", function(stream, result, err)
        got[#got + 1] = { "write", stream, result, err }
    end)
    s:bind_async(0, function(stream, result, err) got[#got + 1] = { "bind", stream, result, err } end)
    s:peek_bytes_async(4, function(_, result) got[#got + 1] = { "peek", nil, result } end)
    s:seek_async(0, function(_, result) got[#got + 1] = { "seek", nil, result } end)
    H.eq(#got, 0, "no callback before the loop runs")
    H.raises("bad argument #2 to 'read_string_async' (function expected, got number)",
             function() s:read_string_async(10, 5) end)
    H.raises("bad argument #1 to 'read_string_async' (size must be non-negative)",
             function() s:read_string_async(-1, print) end)
    local n = net.poll(0)
    H.check(n >= 5, "poll counted the callbacks: " .. n)
    H.eq(#got, 5, "callbacks run")
    H.eq(got[1][1], "read", "order 1")
    H.check(rawequal(got[1][2], s), "stream argument")
    H.eq(got[1][3], "", "read result")
    H.eq(got[2][1], "write", "order 2")
    H.eq(got[2][3], nil, "write result")
    H.match(got[2][4], "not connected", "write error")
    H.eq(got[3][3], true, "bind result")
    H.eq(type(got[4][3]), "table", "peek_bytes result")
    H.eq(got[5][3], false, "seek result")
    -- a callback that queues another: runs in the following round
    local rounds = {}
    s:reset_async(function()
        rounds[#rounds + 1] = 1
        s:reset_async(function() rounds[#rounds + 1] = 2 end)
    end)
    net.poll(0)
    H.eq(#rounds, 1, "nested callback waits")
    net.poll(0)
    H.eq(#rounds, 2, "nested callback ran next round")
    s:abort()
end)

local function openssl_x509(file, args)
    return H.capture(("openssl x509 -in %s -noout %s"):format(H.path(file), args))
end

test("SslCertificate from PEM and DER", function()
    local pem = H.read(H.path("ec.pem"))
    local c = net.SslCertificate.new(pem)
    H.eq(c.null, false, "null")
    H.eq(c.common_name, "localhost", "common_name")
    -- RFC 2253 order (last RDN first), as openssl -nameopt RFC2253 prints it
    H.eq(c.subject, "O=sslsocket tests,CN=localhost", "subject")
    H.eq(c.subject, openssl_x509("ec.pem", "-subject -nameopt RFC2253"):match("subject=(.-)\n"),
         "subject as openssl")
    H.eq(c.issuer, "CN=sslsocket test CA", "issuer")
    local sans = c.subject_alt_names
    H.eq(#sans, 3, "#subject_alt_names")
    H.eq(sans[1], "DNS:localhost", "san 1")
    H.eq(sans[2], "IP:127.0.0.1", "san 2")
    H.eq(sans[3], "IP:::1", "san 3")
    local serial = openssl_x509("ec.pem", "-serial"):match("serial=(%x+)")
    H.eq(c.serial, serial, "serial")
    local fp = openssl_x509("ec.pem", "-fingerprint -sha256"):match("=([%x:]+)")
    H.eq(c.digest, fp:gsub(":", ""):lower(), "digest")
    local dates = openssl_x509("ec.pem", "-startdate -enddate -dateopt iso_8601")
    for which, field in pairs({ notBefore = "not_before", notAfter = "not_after" }) do
        local y, mo, d, hh, mi, ss = dates:match(which .. "=(%d+)-(%d+)-(%d+) (%d+):(%d+):(%d+)")
        H.eq(c[field], H.unix_time(tonumber(y), tonumber(mo), tonumber(d), tonumber(hh),
                                   tonumber(mi), tonumber(ss)), field)
    end
    H.eq(c.public_key_algorithm, net.SslKey.EC, "public_key_algorithm")
    H.eq(c.public_key_bits, 256, "public_key_bits")
    H.eq(c.is_ca, false, "is_ca")
    H.eq(c.version, 3, "version")
    H.eq(c.signature_algorithm, "ecdsa-with-SHA256", "signature_algorithm")
    local spki = H.capture(("openssl x509 -in %s -pubkey -noout | openssl pkey -pubin " ..
                            "-outform DER | openssl dgst -sha256 -r"):format(H.path("ec.pem")))
    H.eq(c.public_key_digest, spki:match("^(%x+)"), "public_key_digest")
    -- DER in, DER out, PEM round trip, equality
    local der = H.read(H.path("ec.der"))
    H.eq(c:to_der(), der, "to_der")
    local d = net.SslCertificate.new(der, net.SslEncoding.DER)
    H.eq(d.null, false, "DER null")
    H.check(d == c, "DER == PEM certificate")
    local back = net.SslCertificate.new(c:to_pem())
    H.check(back == c, "to_pem round trip")
    H.match(c:to_pem(), "^%-%-%-%-%-BEGIN CERTIFICATE%-%-%-%-%-\n", "to_pem header")
    local ca = H.cert("ca.pem")
    H.eq(ca.is_ca, true, "CA is_ca")
    H.check(ca ~= c, "different certificates differ")
    local rsa = H.cert("rsa.pem")
    H.eq(rsa.public_key_algorithm, net.SslKey.RSA, "rsa algorithm")
    H.eq(rsa.public_key_bits, 2048, "rsa bits")
    H.eq(tostring(c), "SslCertificate (O=sslsocket tests,CN=localhost)", "tostring")
end)

test("SslCertificate null on garbage", function()
    for _, input in ipairs({ "", "garbage", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" }) do
        local c = net.SslCertificate.new(input)
        H.eq(c.null, true, "null for " .. ("%q"):format(input))
        H.eq(c.subject, nil, "subject of null")
        local pem, why = c:to_pem()
        H.eq(pem, nil, "to_pem of null")
        H.eq(why, "null certificate", "to_pem reason")
    end
    H.eq(net.SslCertificate.new("xyz", net.SslEncoding.DER).null, true, "DER garbage")
    H.eq(net.SslCertificate.new(H.read(H.path("ec.pem")), net.SslEncoding.DER).null, true,
         "PEM given as DER")
    -- a PEM key file holds no certificate
    H.eq(net.SslCertificate.new(H.read(H.path("ec.key"))).null, true, "key is no certificate")
end)

test("SslKey", function()
    local ec = net.SslKey.new(H.read(H.path("ec.key")), net.SslKey.EC)
    H.eq(ec.null, false, "ec null")
    H.eq(ec.algorithm, net.SslKey.EC, "ec algorithm")
    H.eq(ec.type, net.SslKey.PRIVATE, "ec type")
    H.eq(ec.length, 256, "ec length")
    H.match(tostring(ec), "SslKey %(EC 256 bits%)", "tostring")
    local p8 = net.SslKey.new(H.read(H.path("ec8.key")), net.SslKey.EC, net.SslEncoding.PEM)
    H.eq(p8.null, false, "pkcs8 null")
    local rsa = net.SslKey.new(H.read(H.path("rsa.key")), net.SslKey.RSA)
    H.eq(rsa.null, false, "rsa null")
    H.eq(rsa.length, 2048, "rsa length")
    local der = H.capture("openssl pkey -in " .. H.path("ec.key") .. " -outform DER")
    local kd = net.SslKey.new(der, net.SslKey.EC, net.SslEncoding.DER)
    H.eq(kd.null, false, "DER key: " .. kd.error_string)
    local wrong = net.SslKey.new(H.read(H.path("ec.key")), net.SslKey.RSA)
    H.eq(wrong.null, true, "wrong algorithm")
    H.match(wrong.error_string, "the key is EC, not RSA", "wrong algorithm message")
    local bad = net.SslKey.new("garbage", net.SslKey.EC)
    H.eq(bad.null, true, "garbage null")
    H.match(bad.error_string, "no private key found", "garbage message")
    local pub = net.SslKey.new(H.read(H.path("ec.key")), net.SslKey.EC, net.SslEncoding.PEM,
                               net.SslKey.PUBLIC)
    H.eq(pub.null, true, "public key")
    H.match(pub.error_string, "public keys", "public key message")
    H.raises("DSA keys are not supported by BearSSL",
             function() net.SslKey.new(H.read(H.path("dsa.key")), net.SslKey.DSA) end)
    H.raises("DSA keys are not supported by BearSSL",
             function() net.SslKey.new(H.read(H.path("dsa.key")), net.SslKey.EC) end)
    H.raises("DSA keys are not supported by BearSSL",
             function() net.SslKey.new(H.read(H.path("ec.key")), net.SslKey.DSA) end)
end)

test("SslConfiguration properties", function()
    local cfg = net.SslConfiguration.new()
    H.eq(cfg.peer_verify_mode, net.SslSocket.AUTO_VERIFY_PEER, "default verify mode")
    H.eq(cfg.peer_verify_depth, 8, "default depth")
    H.eq(cfg.protocol_min, "TLSv1.2", "default protocol_min")
    H.eq(cfg.protocol_max, "TLSv1.3", "default protocol_max")
    H.eq(cfg.ca_count, 0, "no anchors")
    H.eq(#cfg.ca_certificates, 0, "no ca_certificates")
    H.eq(cfg.local_certificate, nil, "no local certificate")
    H.eq(cfg.local_certificate_chain, nil, "no chain")
    H.eq(cfg.private_key, nil, "no key")
    H.eq(cfg.ciphers, nil, "default ciphers")
    H.eq(cfg.alpn_protocols, nil, "no alpn")
    cfg.peer_verify_mode = net.SslSocket.VERIFY_PEER
    H.eq(cfg.peer_verify_mode, 2, "verify mode set")
    cfg.peer_verify_depth = 3
    H.eq(cfg.peer_verify_depth, 3, "depth set")
    H.raises("peer_verify_depth: 0 out of range", function() cfg.peer_verify_depth = 0 end)
    cfg.protocol_min = "TLSv1.0"
    H.eq(cfg.protocol_min, "TLSv1.0", "protocol_min set")
    H.eq(cfg.protocol_max, "TLSv1.3", "protocol_max kept")
    cfg.protocol_max = "TLSv1.2"
    H.eq(cfg.protocol_max, "TLSv1.2", "TLS 1.0 to 1.2")
    H.eq(cfg.protocol_min, "TLSv1.0", "protocol_min kept")
    H.raises("'SSLv3' is not one of", function() cfg.protocol_min = "SSLv3" end)
    local suites = { "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                     "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" }
    cfg.ciphers = suites
    H.eq(cfg.ciphers[2], suites[2], "ciphers read back")
    H.raises("SslConfiguration.ciphers:", function() cfg.ciphers = { "TLS_NO_SUCH_SUITE" } end)
    H.raises("SslConfiguration.ciphers[1] must be a string", function() cfg.ciphers = { 1 } end)
    cfg.alpn_protocols = { "h2", "http/1.1" }
    H.eq(cfg.alpn_protocols[1], "h2", "alpn read back")
    cfg.alpn_protocols = nil
    H.eq(cfg.alpn_protocols, nil, "alpn cleared")
    cfg.session_cache_size = 16384
    H.eq(cfg.session_cache_size, 16384, "session cache")
    H.eq(cfg.idle_release_ms, 10000, "idle release default")
    cfg.idle_release_ms = 0
    H.eq(cfg.idle_release_ms, 0, "idle release off")
    H.raises("SslConfiguration.idle_release_ms: -1 out of range",
             function() cfg.idle_release_ms = -1 end)
    H.raises("SslConfiguration.idle_release_ms must be an integer",
             function() cfg.idle_release_ms = "soon" end)
    H.eq(cfg.idle_release_ms, 0, "unchanged by the bad values")
    -- trust anchors: object, PEM string, file; read back as certificates
    local ca = H.cert("ca.pem")
    H.eq(cfg:add_ca_certificate(ca), 1, "add_ca_certificate")
    H.eq(cfg:add_ca_certificates(H.read(H.path("self.pem"))), 1, "add PEM string")
    H.eq(cfg:add_ca_certificates(H.path("rsa.pem")), 1, "add file")
    H.eq(cfg:add_ca_certificate(ca), 0, "the same anchor twice adds none")
    H.eq(cfg.ca_count, 3, "ca_count")
    local list = cfg.ca_certificates
    H.eq(#list, 4, "#ca_certificates (as given)")
    H.check(list[1] == ca, "ca_certificates[1]")
    H.check(list[2] == H.cert("self.pem"), "ca_certificates[2]")
    H.check(list[3] == H.cert("rsa.pem"), "ca_certificates[3]")
    local n, why = cfg:add_ca_certificates(H.path("no-such-file.pem"))
    H.eq(n, nil, "missing file")
    H.match(why, "no%-such%-file", "missing file message")
    H.eq(cfg.ca_count, 3, "failed add changed nothing")
    n, why = cfg:add_ca_certificates("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    H.eq(n, nil, "garbage PEM")
    H.check(#why > 0, "garbage PEM message")
    cfg.ca_certificates = { ca }
    H.eq(cfg.ca_count, 1, "ca_certificates replaced")
    cfg.ca_certificates = {}
    H.eq(cfg.ca_count, 0, "ca_certificates cleared")
    -- the settings survived the reloads
    H.eq(cfg.peer_verify_depth, 3, "depth after reload")
    H.eq(cfg.protocol_min, "TLSv1.0", "protocol_min after reload")
    -- local certificate and key: checked against each other
    cfg.local_certificate = H.cert("ec.pem")
    H.raises("does not match", function() cfg.private_key = H.key("client.key") end)
    H.eq(cfg.private_key, nil, "mismatched key not kept")
    cfg.private_key = H.key("ec.key")
    H.check(cfg.local_certificate == H.cert("ec.pem"), "local_certificate")
    H.eq(#cfg.local_certificate_chain, 1, "chain of one")
    H.raises("private key does not match the certificate", function()
        cfg.local_certificate_chain = { H.cert("rsa.pem"), H.cert("ca.pem") }
    end)
    H.eq(#cfg.local_certificate_chain, 1, "rsa chain refused for the EC key, old one kept")
    H.check(cfg.local_certificate == H.cert("ec.pem"), "old certificate kept")
    cfg.local_certificate_chain = { H.cert("ec.pem"), H.cert("ca.pem") }
    H.eq(#cfg.local_certificate_chain, 2, "chain of two")
    H.raises("SslConfiguration.private_key must be an SslKey (got string)",
             function() cfg.private_key = "key" end)
    H.raises("the key is null", function() cfg.private_key = net.SslKey.new("x", 2) end)
    -- pins
    H.eq(cfg:add_pinned_public_key(H.cert("ec.pem").public_key_digest), true, "pin")
    H.raises("bad argument #1 to 'add_pinned_public_key'",
             function() cfg:add_pinned_public_key("nonsense") end)
    H.match(tostring(cfg), "SslConfiguration %(0 CA certificates, local certificate%)",
            "tostring")
end)

test("configuration storage grows by reloading", function()
    local cfg = net.SslConfiguration.new(4096)
    local n = cfg:use_system_ca_certificates()
    H.check(n and n > 0, "system store loaded into a 4 KiB start: " .. tostring(n))
    H.eq(cfg.ca_count, n, "ca_count")
    H.eq(cfg:add_ca_certificates(H.path("ca.pem")), 1, "one more after growing")
    H.eq(cfg.ca_count, n + 1, "ca_count after")
end)

test("SslCertificate.verify: a chain checked offline, as a handshake would", function()
    local cfg = H.client_config()
    local V = net.SslCertificate.verify
    H.eq(#assert(V(H.read(H.path("ec.pem")), "localhost", cfg)), 0, "valid PEM chain")
    H.eq(#assert(V({ H.cert("ec.pem") }, "127.0.0.1", cfg)), 0, "table of SslCertificates")
    local errs = assert(V(H.cert("other.pem"), "localhost", cfg))
    H.eq(#errs, 1, "one problem")
    H.eq(errs[1].code, 4, "HOST_MISMATCH")
    H.match(errs[1].message, "host name mismatch", "message")
    errs = assert(V(H.cert("self.pem"), "localhost", cfg))
    H.eq(errs[1].code, 1, "self-signed: UNTRUSTED")
    errs = assert(V(H.cert("ec.pem"), "localhost", net.SslConfiguration.new()))
    H.eq(errs[1].code, 1, "no anchors: UNTRUSTED")
    local none, msg = V("not a certificate", "localhost", cfg)
    H.eq(none, nil, "garbage")
    H.match(msg, "sslsocket_verify_chain", "message names the function")
    H.raises("chain[1] is not an SslCertificate", function() V({ "x" }, "localhost", cfg) end)
end)

return T
