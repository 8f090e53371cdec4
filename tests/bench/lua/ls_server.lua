-- ls_server.lua - the LuaSec side of tests/bench/vs_luasec.sh: the same TLS
-- echo server as ss_server.lua on LuaSec + LuaSocket, written the usual way
-- for many clients in one thread: non-blocking sockets (timeout 0), one
-- socket.select() loop, dohandshake() resumed on "wantread"/"wantwrite",
-- and the same backpressure (stop reading while an echo waits to be sent).
--
--   lua5.4 ls_server.lua CERT KEY PORTFILE [HOLD]
--
-- Same PORTFILE, "mem" lines and $BENCH_LIFETIME as ss_server.lua.
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local C = require "common"
local socket = require "socket"
local ssl = require "ssl"

local cert_file, key_file, port_file = arg[1], arg[2], arg[3]
local hold = math.tointeger(tonumber(arg[4] or "0"))
if not (cert_file and key_file and port_file and hold) then
    C.die("usage: ls_server.lua CERT KEY PORTFILE [HOLD]")
end

-- One context for every connection (ssl.wrap with a table would make one each).
local context = assert(ssl.newcontext({
    mode = "server",
    protocol = "tlsv1_2",
    certificate = cert_file,
    key = key_file,
    ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256",
    options = "all",
}))

local server = assert(socket.bind("127.0.0.1", 0, 128))
server:settimeout(0)
C.write_file(port_file, tostring(select(2, server:getsockname())))

-- A list for socket.select with O(1) insert and remove.
local function newset()
    local list, index = {}, {}
    local set = { list = list }
    function set.insert(v)
        if not index[v] then
            list[#list + 1] = v
            index[v] = #list
        end
    end
    function set.remove(v)
        local i = index[v]
        if i then
            local last = list[#list]
            list[i], index[last] = last, i
            list[#list], index[v] = nil, nil
        end
    end
    return set
end

local recvt, sendt = newset(), newset()
local state = {} -- connection -> { hs = handshake done, pending = echo not yet sent }
local served, live, errors, reported = 0, 0, 0, false

local function fail(c, why)
    -- a peer that closes TCP without close_notify (a killed client): not an error
    if tostring(why):find("unexpected eof", 1, true) then return end
    errors = errors + 1
    if errors <= 5 then io.stderr:write("ls_server: ", tostring(why), "\n") end
end

local function close(c)
    local st = state[c]
    state[c] = nil
    recvt.remove(c)
    sendt.remove(c)
    c:close()
    served = served + 1
    if st.echoed then live = live - 1 end
    if served == 1 then C.report_memory("base", 0) end
end

local function want(c, what) -- wait for readable ("wantread") or writable
    if what == "wantwrite" then
        recvt.remove(c)
        sendt.insert(c)
    else
        sendt.remove(c)
        recvt.insert(c)
    end
end

local function pump(c, st)
    while true do
        if #st.pending > 0 then
            local i, err, j = c:send(st.pending)
            local n = i or j or 0
            st.pending = st.pending:sub(n + 1)
            if #st.pending > 0 then
                if err == "wantwrite" or err == "wantread" or err == "timeout" then
                    return want(c, err == "wantread" and err or "wantwrite")
                end
                if err ~= "closed" then fail(c, err) end
                return close(c)
            end
            want(c, "wantread")
        end
        local data, err, partial = c:receive(16384)
        data = data or partial or ""
        if #data > 0 then
            st.pending = data
            if not st.echoed then
                st.echoed = true
                live = live + 1
                if live == hold and not reported then
                    reported = true
                    C.held(live)
                end
            end
        elseif err == "wantread" or err == "timeout" or err == "wantwrite" then
            return want(c, err)
        else
            if err ~= "closed" then fail(c, err) end
            return close(c)
        end
    end
end

local function handshake(c, st)
    local ok, err = c:dohandshake()
    if ok then
        st.hs = true
        return pump(c, st)
    elseif err == "wantread" or err == "wantwrite" then
        return want(c, err)
    end
    fail(c, err)
    close(c)
end

local function accept()
    local tcp = server:accept()
    while tcp do
        local c, err = ssl.wrap(tcp, context)
        if c then
            c:settimeout(0)
            local st = { pending = "" }
            state[c] = st
            handshake(c, st)
        else
            fail(tcp, err)
            tcp:close()
        end
        tcp = server:accept()
    end
end

local function ready(c)
    if c == server then return accept() end
    local st = state[c]
    if not st then return end -- closed earlier in this round
    if st.hs then pump(c, st) else handshake(c, st) end
end

recvt.insert(server)
local stop = C.now() + tonumber(os.getenv("BENCH_LIFETIME") or "600")
while C.now() < stop do
    local r, w = socket.select(recvt.list, sendt.list, 0.25)
    for _, c in ipairs(r) do ready(c) end
    for _, c in ipairs(w) do ready(c) end
    C.tick()
end
