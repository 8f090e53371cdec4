-- test_rock.lua - the rockspec: `luarocks make` in a clean copy builds and
-- installs the module offline (BearSSL found as an external dependency),
-- and the plain lua5.4 interpreter can require it from that tree.
local H = require "helpers"
local T = {}
local function test(name, f) T[#T + 1] = { name, f } end

test("luarocks make builds and installs the module", function()
    if H.embedded then return "skip: built once, by the lua5.4 run" end
    if not H.sh("command -v luarocks > /dev/null") then
        error("luarocks is not installed (apt-get install luarocks)")
    end
    local src, tree = H.path("rock/src"), H.path("rock/tree")
    assert(H.sh(("mkdir -p %s && cd %s && cp sslsocket.h lua_sslsocket.c " ..
                 "sslsocket-scm-1.rockspec LICENSE %s/"):format(src, H.root, src)))
    local out = H.capture(("cd %s && luarocks --lua-version 5.4 --tree %s make " ..
                           "sslsocket-scm-1.rockspec 2>&1; echo \"exit=$?\""):format(src, tree))
    H.match(out, "exit=0%s*$", "luarocks make: " .. out)
    H.match(out, "sslsocket scm%-1 is now installed", "installed")
    local script = H.path("rock/use.lua")
    H.write(script, [[
package.cpath = arg[1] .. "/lib/lua/5.4/?.so;" .. package.cpath
local net = require "sslsocket"
local where = package.searchpath("sslsocket", package.cpath)
local srv = net.TcpServer.new()
assert(srv:listen(0, "127.0.0.1"))
local got
srv.new_connection_handler = function(sv)
    sv:next_pending_connection().ready_read_handler = function(x)
        got = x:read_all_string()
        x:disconnect()
        srv:close()
    end
end
local c = net.TcpSocket.new()
c.connected_handler = function(x) x:write_string("over the rock") end
c:connect("127.0.0.1", srv.server_port)
net.run(5000)
print(net._VERSION, where, got)
]])
    local res = H.capture(("lua5.4 %s %s 2>&1"):format(script, tree))
    H.match(res, "^sslsocket %d+%.%d+%.%d+", "required: " .. res)
    H.match(res, tree:gsub("%p", "%%%0") .. "/lib/lua/5%.4/sslsocket%.so", "from the tree")
    H.match(res, "over the rock", "it works")
end)

return T
