-- smtp_starttls.lua - SMTP with STARTTLS (RFC 3207): connect in plaintext,
-- EHLO, STARTTLS, start_client_encryption(), EHLO again over TLS, QUIT.
-- Prints the dialogue ("S:" server, "C:" client) and the TLS session.
--
--   build/luahost examples/smtp_starttls.lua [HOST [PORT]]
--   LUA_CPATH='build/?.so' lua5.4 examples/smtp_starttls.lua ...   (works too)
--
-- Arguments win over the environment: SMTP_HOST (localhost), SMTP_PORT
-- (587), SMTP_HELO (the name we give in EHLO, default "localhost"),
-- SMTP_CAFILE (trust only this CA; by default the system store, which
-- honours SSL_CERT_FILE).  Try: build/tls_server --starttls (it speaks
-- just enough SMTP to get to TLS, then echoes lines, so the second EHLO
-- and QUIT come back as echoes there).  Exits 0 when the session got
-- encrypted and ended with QUIT.
local net = rawget(_G, "net") or require "sslsocket"
local S = net.SslSocket

local host = arg[1] or os.getenv("SMTP_HOST") or "localhost"
local port = math.tointeger(tonumber(arg[2] or os.getenv("SMTP_PORT") or "587"))
local helo = os.getenv("SMTP_HELO") or "localhost"
local cafile = os.getenv("SMTP_CAFILE")
assert(port, "PORT must be a number")

local configuration
if cafile then
    configuration = net.SslConfiguration.new()
    assert(configuration:add_ca_certificates(cafile) > 0, "no CA certificate in " .. cafile)
end

local socket = S.new(configuration)
local phase = "greeting" -- which reply we wait for
local reply = {}         -- lines of the reply being read
local failure, finished = nil, false

local function send(s, line)
    print("C: " .. line)
    s:write_string(line .. "\r\n")
end

local function fail(s, why)
    failure = failure or why
    io.stderr:write("smtp_starttls: ", why, "\n")
    if s.encrypted then send(s, "QUIT") end
    s:disconnect()
end

-- A complete reply: its code (nil when the line is not SMTP) and lines.
local function on_reply(s, code, lines)
    if phase == "greeting" then
        if code ~= 220 then return fail(s, "no 220 greeting") end
        send(s, "EHLO " .. helo)
        phase = "ehlo"
    elseif phase == "ehlo" then
        if code ~= 250 then return fail(s, "EHLO refused") end
        local offered = false
        for _, l in ipairs(lines) do
            if l:upper():find("^250[- ]STARTTLS%s*$") then offered = true end
        end
        if not offered then return fail(s, "the server does not offer STARTTLS") end
        send(s, "STARTTLS")
        phase = "starttls"
    elseif phase == "starttls" then
        if code ~= 220 then return fail(s, "STARTTLS refused: " .. lines[#lines]) end
        -- In the same breath as reading "220": the handshake starts now.
        -- Anything the server sent behind the 220 (in plaintext, so anyone
        -- on the path could have put it there) is thrown away.
        s:start_client_encryption()
        phase = "handshake"
    elseif phase == "ehlo2" then
        if code == nil then
            print("   (not an SMTP reply: this server echoes lines after STARTTLS)")
        elseif code ~= 250 then
            return fail(s, "EHLO over TLS refused")
        end
        send(s, "QUIT")
        phase = "quit"
    elseif phase == "quit" then
        finished = true
        s:disconnect() -- flushes, sends close_notify
    end
end

-- Lines -> replies.  "250-..." continues a reply, "250 ..." ends it; a
-- line without a code is taken as a reply of its own.
local function on_line(s, line)
    print("S: " .. line)
    local code, sep = line:match("^(%d%d%d)([ -]?)")
    reply[#reply + 1] = line
    if sep == "-" then return end
    local lines = reply
    reply = {}
    on_reply(s, tonumber(code), lines)
end

socket.ready_read_handler = function(s)
    -- stop at the phase change to TLS (the rest of the buffer is gone) or
    -- at a failure; go on if the socket closed: what arrived stays readable
    while phase ~= "handshake" and not failure do
        local line = s:read_line_string()
        if not line or line == "" then break end
        on_line(s, (line:gsub("\r?\n$", "")))
    end
end
socket.connected_handler = function(s)
    print(("-- connected to %s port %d, plaintext"):format(s.remote_address, s.remote_port))
end
socket.encrypted_handler = function(s)
    local cert = s.peer_certificate
    print(("-- encrypted: %s, %s, server certificate %s"):format(
        s.session_protocol, s.session_cipher, cert and cert.subject or "(none)"))
    if s.discarded_plaintext > 0 then
        print(("-- %d bytes received after the 220 were discarded"):format(s.discarded_plaintext))
    end
    phase = "ehlo2"
    send(s, "EHLO " .. helo) -- RFC 3207: forget what we knew, ask again
end
socket.error_handler = function(s, err)
    if not (finished and err == S.REMOTE_HOST_CLOSED_ERROR) then
        failure = failure or s.error_string
        io.stderr:write("smtp_starttls: ", s.error_string, "\n")
    end
end
socket.disconnected_handler = function() print("-- disconnected") end

socket:connect(host, port, net.Stream.READ_WRITE_MODE)
net.run()
os.exit(finished and failure == nil, true)
