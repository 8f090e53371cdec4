-- imaps_client.lua - the seed document's example, fleshed out: an IMAP
-- client over implicit TLS (IMAPS, port 993).  It reads the greeting, logs
-- in, selects INBOX and logs out, printing the dialogue ("S:" server,
-- "C:" client; the password is not shown).
--
--   build/luahost examples/imaps_client.lua [HOST [PORT [USER]]]
--   LUA_CPATH='build/?.so' lua5.4 examples/imaps_client.lua ...   (works too)
--
-- Arguments win over the environment: IMAP_HOST, IMAP_PORT (993),
-- IMAP_USER, IMAP_PASSWORD (environment only: a command line is visible to
-- every user of the machine), IMAP_CAFILE (trust only this CA; by default
-- the system store, which honours SSL_CERT_FILE).  Without a user it only
-- asks for CAPABILITY and logs out.  Exits 0 when every command got OK.
local net = rawget(_G, "net") or require "sslsocket"      -- luahost publishes `net`;
local iomodules = rawget(_G, "iomodules") or { net = net } -- plain lua5.4 requires it

local host = arg[1] or os.getenv("IMAP_HOST") or "localhost"
local port = math.tointeger(tonumber(arg[2] or os.getenv("IMAP_PORT") or "993"))
local user = arg[3] or os.getenv("IMAP_USER")
local password = os.getenv("IMAP_PASSWORD") or ""
local cafile = os.getenv("IMAP_CAFILE")
assert(port, "PORT must be a number")

-- An IMAP quoted string (RFC 3501): backslash and double quote escaped.
local function quote(s)
    return '"' .. s:gsub('[\\"]', "\\%0") .. '"'
end

-- The conversation: each command is sent once the previous one's tagged
-- reply came back.  `shown` is what we print instead of the real line.
local commands = {}
if user then
    commands[#commands + 1] = { line = "LOGIN " .. quote(user) .. " " .. quote(password),
                                shown = "LOGIN " .. quote(user) .. " ****" }
    commands[#commands + 1] = { line = "SELECT INBOX" }
else
    commands[#commands + 1] = { line = "CAPABILITY" }
end
commands[#commands + 1] = { line = "LOGOUT" }

local configuration
if cafile then
    configuration = net.SslConfiguration.new()
    assert(configuration:add_ca_certificates(cafile) > 0, "no CA certificate in " .. cafile)
end

local next_command, tags, failures, greeted, done = 1, 0, 0, false, false

local function send_next(s)
    local c = commands[next_command]
    tags = tags + 1
    c.tag = ("a%d"):format(tags)
    next_command = next_command + 1
    print("C: " .. c.tag .. " " .. (c.shown or c.line))
    s:write_string(c.tag .. " " .. c.line .. "\r\n")
end

-- One line from the server: the greeting, untagged data ("* ..."), or the
-- tagged reply that completes the command in flight.
local function on_line(s, line)
    print("S: " .. line)
    if not greeted then
        greeted = true
        if line:find("^%* OK") or line:find("^%* PREAUTH") then
            send_next(s)
        else
            failures = failures + 1 -- "* BYE": the server does not want us
            s:disconnect()
        end
        return
    end
    local c = commands[next_command - 1]
    local status = line:match("^" .. c.tag .. " (%u+)")
    if not status then return end -- untagged data, or a continuation
    if status ~= "OK" then failures = failures + 1 end
    if c.line == "LOGOUT" then
        done = true
        s:disconnect() -- the server closes too; whoever is first
    elseif status ~= "OK" and next_command <= #commands - 1 then
        next_command = #commands -- skip to LOGOUT
        send_next(s)
    else
        send_next(s)
    end
end

-- The seed's snippet, then the handlers that do the work.
socket = iomodules.net.SslSocket.new(configuration)
socket.encrypted_handler = function(s)
    -- start talking now that encryption has begun: IMAPS servers speak
    -- first, so there is nothing to send until the greeting arrives
    io.stderr:write(("connected to %s port %d: %s, %s, certificate %s\n"):format(
        host, port, s.session_protocol, s.session_cipher,
        s.peer_certificate and s.peer_certificate.subject or "(none)"))
end
socket.ready_read_handler = function(s)
    -- Read even if the socket has closed meanwhile (the server may send its
    -- last reply and close at once): what arrived stays readable.
    while true do
        -- a complete line, or the first part of one longer than the buffer
        local line = s:read_line_string()
        if not line or line == "" then break end
        on_line(s, (line:gsub("\r?\n$", "")))
    end
end
socket.error_handler = function(s, err)
    if not (done and err == net.TcpSocket.REMOTE_HOST_CLOSED_ERROR) then
        failures = failures + 1
        io.stderr:write("imaps_client: ", s.error_string, "\n")
    end
end
socket:connect_encrypted(host, port, net.Stream.READ_WRITE_MODE)

net.run()
os.exit(done and failures == 0, true)
