-- helpers.lua - fixtures for the Lua tests: certificates made with the
-- openssl CLI at test time, real peers started as child processes, bounded
-- event loops, small assertions.
local H = {}

local net = rawget(_G, "net") or require "sslsocket"
H.net = net
H.embedded = rawget(_G, "iomodules") ~= nil -- running inside luahost

H.pids = {}

function H.fail(msg, level)
    error(msg, (level or 1) + 1)
end

function H.check(cond, msg)
    if not cond then error(msg or "check failed", 2) end
    return cond
end

function H.eq(got, want, what)
    if got ~= want then
        error(("%s: expected %s, got %s"):format(what or "value", tostring(want),
                                                  tostring(got)), 2)
    end
end

function H.match(s, pat, what)
    if type(s) ~= "string" or not s:find(pat) then
        local shown = tostring(s)
        if #shown > 300 then shown = shown:sub(1, 300) .. "..." end
        error(("%s: %q does not match %q"):format(what or "string", shown, pat), 2)
    end
end

-- pcall that must fail with a message matching `pat` (plain text)
function H.raises(pat, f, ...)
    local ok, err = pcall(f, ...)
    if ok then error("expected an error matching '" .. pat .. "'", 2) end
    if not tostring(err):find(pat, 1, true) then
        error(("error %q does not contain %q"):format(tostring(err), pat), 2)
    end
    return err
end

function H.sh(cmd)
    local ok, how, code = os.execute(cmd)
    return ok == true or (how == "exit" and code == 0)
end

function H.capture(cmd)
    local p = assert(io.popen(cmd, "r"))
    local out = p:read("a")
    p:close()
    return out
end

function H.read(path)
    local f = io.open(path, "rb")
    if not f then return nil end
    local s = f:read("a")
    f:close()
    return s
end

function H.write(path, data)
    local f = assert(io.open(path, "wb"))
    f:write(data)
    f:close()
end

function H.path(name)
    return H.dir .. "/" .. name
end

function H.sleep(sec)
    os.execute("sleep " .. sec)
end

-- Start `cmd` (a shell command line) in the background in the test dir,
-- output to `log`; returns its pid.  Peers die after 120 s whatever happens.
function H.spawn(cmd, log, stdin)
    local line = ("cd %s && { timeout 120 %s > %s 2>&1 < %s & } && echo $!"):format(
        H.dir, cmd, log or "/dev/null", stdin or "/dev/null")
    local pid = tonumber(H.capture(line):match("%d+"))
    assert(pid, "cannot start: " .. cmd)
    H.pids[#H.pids + 1] = pid
    return pid
end

function H.kill(pid)
    if pid then os.execute("kill " .. pid .. " 2>/dev/null") end
end

function H.alive(pid)
    return H.sh("kill -0 " .. pid .. " 2>/dev/null")
end

-- Is someone listening on TCP `port` (IPv4 or IPv6)?  Reads /proc, so it
-- does not connect (a -naccept 1 peer would take that as its connection).
function H.listening(port)
    local hex = (":%04X "):format(port)
    for _, f in ipairs({ "/proc/net/tcp", "/proc/net/tcp6" }) do
        local s = H.read(f) or ""
        for line in s:gmatch("[^\n]+") do
            local loc, st = line:match("^%s*%d+:%s+(%S+)%s+%S+%s+(%x%x)")
            if loc and st == "0A" and (loc .. " "):find(hex, 1, true) then return true end
        end
    end
    return false
end

function H.wait_listen(port, ms)
    for _ = 1, (ms or 5000) // 20 do
        if H.listening(port) then return true end
        H.sleep(0.02)
    end
    error("nothing listens on port " .. port)
end

-- A free port: listen on 0 with the binding, read it, close.
function H.free_port()
    local srv = net.TcpServer.new()
    assert(srv:listen(0, "127.0.0.1"))
    local port = srv.server_port
    srv:close()
    net.poll(0) -- deliver the state change
    return port
end

-- Run loop rounds until pred() is true; false after about `ms`.
function H.poll_until(pred, ms)
    local deadline = os.time() + (ms or 5000) // 1000 + 1
    while not pred() do
        if os.time() > deadline then return false end
        net.poll(10)
    end
    return true
end

-- Rounds until no socket is active any more (or `ms`).
function H.drain(ms)
    return H.poll_until(function() return net.active() == 0 end, ms or 3000)
end

-- Wait until file `name` (in the test dir) contains `text`; returns its content.
function H.wait_file(name, text, ms)
    for _ = 1, (ms or 5000) // 20 do
        local s = H.read(H.path(name))
        if s and s:find(text, 1, true) then return s end
        H.sleep(0.02)
    end
    return H.read(H.path(name)) or ""
end

-- Descriptors of this process, leaving out the pipe of the popen that
-- counts them: for a moment after the spawn the process holds both its ends.
function H.fd_count()
    local out = H.capture(("me=$(readlink /proc/$$/fd/1); ls -l /proc/%d/fd 2>/dev/null"
                           .. " | grep -F -e '->' | grep -c -v -F -e \"$me\""):format(H.pid()))
    return tonumber(out:match("%d+"))
end

function H.pid()
    if not H._pid then
        local stat = H.read("/proc/self/stat")
        H._pid = tonumber(stat:match("^(%d+)"))
    end
    return H._pid
end

-- A configuration trusting the test CA (and optionally more fields).
function H.client_config(fields)
    local cfg = net.SslConfiguration.new()
    assert(cfg:add_ca_certificates(H.path("ca.pem")) == 1)
    for k, v in pairs(fields or {}) do cfg[k] = v end
    return cfg
end

function H.cert(name)
    local c = net.SslCertificate.new(assert(H.read(H.path(name))))
    assert(not c.null, name .. " did not load")
    return c
end

function H.key(name, alg)
    local k = net.SslKey.new(assert(H.read(H.path(name))), alg or net.SslKey.EC)
    assert(not k.null, name .. ": " .. k.error_string)
    return k
end

function H.server_config(cert, key, alg)
    local cfg = net.SslConfiguration.new()
    cfg.local_certificate = H.cert(cert or "ec.pem")
    cfg.private_key = H.key(key or "ec.key", alg)
    return cfg
end

-- Start `openssl s_server` with `extra` arguments; returns port, pid.
function H.s_server(extra, cert, key, stdin)
    local port = H.free_port()
    local pid = H.spawn(("openssl s_server -accept 127.0.0.1:%d -cert %s -key %s %s"):format(
        port, cert or "ec.pem", key or "ec.key", extra or "-quiet -www"),
        "s_server_" .. port .. ".log", stdin)
    H.wait_listen(port)
    return port, pid
end

-- Days from 1970-01-01 to y-m-d (proleptic Gregorian).
function H.unix_time(y, m, d, hh, mm, ss)
    y = m <= 2 and y - 1 or y
    local era = (y >= 0 and y or y - 399) // 400
    local yoe = y - era * 400
    local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
    local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return (era * 146097 + doe - 719468) * 86400 + hh * 3600 + mm * 60 + ss
end

-- Certificates for every test, made once per run.
function H.setup()
    H.dir = H.capture("mktemp -d ${TMPDIR:-/tmp}/sslsocket-lua-XXXXXX"):match("%S+")
    local script = [[
set -e
openssl ecparam -name prime256v1 -genkey -noout -out ca.key
openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj '/CN=sslsocket test CA' \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -out ca.pem
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' > leaf.ext
openssl ecparam -name prime256v1 -genkey -noout -out ec.key
openssl req -new -key ec.key -subj '/CN=localhost/O=sslsocket tests' -out ec.csr
openssl x509 -req -in ec.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -sha256 \
  -extfile leaf.ext -out ec.pem
openssl pkcs8 -topk8 -nocrypt -in ec.key -out ec8.key
openssl genrsa -out rsa.key 2048
openssl req -new -key rsa.key -subj '/CN=localhost' -out rsa.csr
openssl x509 -req -in rsa.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -sha256 \
  -extfile leaf.ext -out rsa.pem
printf 'extendedKeyUsage=clientAuth\n' > client.ext
openssl ecparam -name prime256v1 -genkey -noout -out client.key
openssl req -new -key client.key -subj '/CN=test client' -out client.csr
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -sha256 \
  -extfile client.ext -out client.pem
printf 'subjectAltName=DNS:other.example\nextendedKeyUsage=serverAuth\n' > other.ext
openssl req -new -key ec.key -subj '/CN=other.example' -out other.csr
openssl x509 -req -in other.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -sha256 \
  -extfile other.ext -out other.pem
openssl req -x509 -new -key ec.key -sha256 -days 30 -subj '/CN=localhost' \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -out self.pem
openssl dsaparam -genkey -out dsa.key 1024
openssl x509 -in ec.pem -outform DER -out ec.der
printf '* OK IMAP4rev1 sslsocket test server ready\r\n' > greeting.txt
mkdir -p crldb && : > crldb/index.txt && echo 01 > crldb/crlnumber
printf '[ca]\ndefault_ca=c\n[c]\ndatabase=crldb/index.txt\ncrlnumber=crldb/crlnumber\ndefault_md=sha256\ndefault_crl_days=3650\n' > crl.cnf
openssl ca -config crl.cnf -keyfile ca.key -cert ca.pem -gencrl -out empty.crl
openssl ca -config crl.cnf -keyfile ca.key -cert ca.pem -revoke ec.pem
openssl ca -config crl.cnf -keyfile ca.key -cert ca.pem -gencrl -out revoked.crl
openssl crl -in revoked.crl -outform DER -out revoked.der.crl
]]
    H.write(H.dir .. "/mkcerts.sh", script)
    assert(H.sh("cd " .. H.dir .. " && sh mkcerts.sh > mkcerts.log 2>&1"),
           "certificate generation failed, see " .. H.dir .. "/mkcerts.log")
end

function H.cleanup()
    for _, pid in ipairs(H.pids) do H.kill(pid) end
    if H.dir and H.dir:find("sslsocket%-lua%-") and not os.getenv("SSLSOCKET_KEEP_TMP") then
        os.execute("rm -rf " .. H.dir)
    end
end

return H
