-- sslsocket-scm-1.rockspec - builds lua_sslsocket.c (which compiles
-- sslsocket.h's implementation into the module) against the system BearSSL.
--   luarocks make                     (from a checkout; no network needed)
--   luarocks --local make             (into ~/.luarocks)
-- Debian 12: apt-get install luarocks liblua5.4-dev libbearssl-dev
rockspec_format = "3.0"
package = "sslsocket"
version = "scm-1"
source = {
   -- placeholder until the project has a public repository; `luarocks make`
   -- builds from the current directory and never fetches it
   url = "git+https://example.invalid/sslsocket.git",
}
description = {
   summary = "Nonblocking, allocation-free TLS sockets (BearSSL) for Lua 5.4",
   detailed = [[
      The net.* object family (Stream, TcpSocket, SslSocket, TcpServer,
      SslConfiguration, SslCertificate, SslKey) over sslsocket.h, a
      single-header C library on BearSSL: polled, never blocks, Qt-style
      states and handlers, STARTTLS, servers, certificate verification.
   ]],
   license = "MIT",
}
dependencies = {
   "lua >= 5.4, < 5.5",
}
external_dependencies = {
   BEARSSL = {
      header = "bearssl.h",
      library = "bearssl",
   },
}
build = {
   type = "builtin",
   modules = {
      sslsocket = {
         sources = { "lua_sslsocket.c" },
         defines = { "_GNU_SOURCE" },
         incdirs = { "$(BEARSSL_INCDIR)", "." },
         libdirs = { "$(BEARSSL_LIBDIR)" },
         libraries = { "bearssl" },
      },
   },
}
