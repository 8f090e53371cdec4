-- run.lua - the Lua test runner: lua5.4 tests/lua/run.lua [filter...]
-- (or build/luahost tests/lua/run.lua [filter...], where `net` is a global).
-- Every tests/lua/test_*.lua returns a list of { name, function } (a test
-- that cannot run here returns "skip: why"); a filter
-- selects tests whose "file/name" contains it.  Prints [ RUN  ] / [ OK   ] /
-- [ FAIL ] lines and the closing "N passed, N failed"; exits non-zero on
-- failure.  A test that leaves sockets active fails too (anchor leak).
local here = (arg and arg[0] or "tests/lua/run.lua"):match("^(.*)/[^/]*$") or "."
local root = here .. "/../.."
package.path = here .. "/?.lua;" .. package.path
if not rawget(_G, "net") then
    package.cpath = root .. "/build/?.so;" .. package.cpath
end

local H = require "helpers"
local net = H.net
H.root = H.capture("cd '" .. root .. "' && pwd"):match("[^\n]+") -- absolute: peers run elsewhere
H.here = here

local files = { "test_api", "test_client", "test_server", "test_lifetime", "test_host",
                "test_rock" }
local filters = {}
for i = 1, #arg do filters[#filters + 1] = arg[i] end

local function selected(id)
    if #filters == 0 then return true end
    for _, f in ipairs(filters) do
        if id:find(f, 1, true) then return true end
    end
    return false
end

H.setup()
local passed, failed, skipped = 0, 0, 0
local t0 = os.time()
for _, file in ipairs(files) do
    local tests = require(file)
    for _, t in ipairs(tests) do
        local id = file:gsub("^test_", "") .. "/" .. t[1]
        if selected(id) then
            io.write("[ RUN  ] ", id, "\n")
            io.flush()
            local ok, err = xpcall(t[2], debug.traceback)
            local skip = ok and type(err) == "string" and err:match("^skip: (.*)")
            net.error_handler = nil
            if not H.drain(ok and 3000 or 0) then
                -- a leak (or a failed test): name the sockets, then close them
                -- so the next tests start from nothing
                local left = {}
                for _, v in pairs(debug.getregistry()["sslsocket.active"]) do
                    if type(v) == "userdata" then
                        left[#left + 1] = tostring(v)
                        if tostring(v):find("^TcpServer") then v:close() else v:abort() end
                    end
                end
                H.drain(3000)
                if ok then
                    ok, err = false, ("test left %d socket(s) active: %s"):format(
                        #left, table.concat(left, ", "))
                end
            end
            if ok and skip then
                skipped = skipped + 1
                io.write("[ SKIP ] ", id, "  ", skip, "\n")
            elseif ok then
                passed = passed + 1
                io.write("[ OK   ] ", id, "\n")
            else
                failed = failed + 1
                io.write("[ FAIL ] ", id, "  ", tostring(err), "\n")
            end
            io.flush()
            collectgarbage()
        end
    end
end
H.cleanup()
io.write(("(%d s, %d skipped)\n"):format(os.time() - t0, skipped))
io.write(("%d passed, %d failed\n"):format(passed, failed))
-- `true`: close the state, so __gc runs and the sanitizer build checks leaks
os.exit(failed == 0 and 0 or 1, true)
