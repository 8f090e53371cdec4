/* luahost.c - a minimal Lua 5.4 host for sslsocket scripts.

   usage: luahost script.lua [args...]

   What a program that embeds Lua does to give its scripts TLS sockets:

   1. Create a Lua state and open the standard libraries.
   2. Open the binding with luaL_requiref() so that `require "sslsocket"`
      returns the same table, and publish that table as the globals `net`
      and `iomodules.net`: scripts written against the seed document
      (`iomodules.net.SslSocket.new()`, `net.Stream.READ_WRITE_MODE`) run
      unchanged.
   3. Run the script.  It only *sets up* sockets and handlers: handlers run
      from the event loop, never from inside the calls that start things.
   4. Drive the loop: net.run() returns when the script called net.stop()
      or when no socket, server or queued callback is left.  A host with
      its own loop would call net.poll(0) from it instead (and wait on the
      descriptors itself).
   5. Close the state: every socket still open is aborted by its __gc.

   Build: cc -std=c99 -D_GNU_SOURCE -I/usr/include/lua5.4 -I. \
              -o luahost examples/luahost.c lua_sslsocket.c -llua5.4 -lbearssl
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int luaopen_sslsocket(lua_State *L);

/* Error messages with a traceback, like the stand-alone interpreter. */
static int
msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL)
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Call the function below the `nargs` arguments on top, protected, with
   a traceback; print the error.  Returns LUA_OK on success. */
static int
docall(lua_State *L, int nargs)
{
    int base = lua_gettop(L) - nargs, r;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    r = lua_pcall(L, nargs, 0, base);
    lua_remove(L, base);
    if (r != LUA_OK) {
        fprintf(stderr, "luahost: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    return r;
}

/* The global `arg` table, as lua5.4 builds it: arg[0] is the script. */
static void
set_args(lua_State *L, int argc, char **argv)
{
    int i;
    lua_createtable(L, argc - 2, 2);
    for (i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    lua_setglobal(L, "arg");
}

int
main(int argc, char **argv)
{
    lua_State *L;
    int status = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s script.lua [args...]\n", argv[0]);
        return 2;
    }
    /* A peer that resets the connection must not kill the host.  (The
       library sends with MSG_NOSIGNAL; this covers the script's own I/O.) */
    signal(SIGPIPE, SIG_IGN);

    /* 1. and 2.: the state, the libraries, the module and its globals */
    L = luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, "luahost: cannot create a Lua state\n");
        return 1;
    }
    luaL_openlibs(L);
    luaL_requiref(L, "sslsocket", luaopen_sslsocket, 0);
    lua_pushvalue(L, -1);
    lua_setglobal(L, "net");
    lua_createtable(L, 0, 1);
    lua_insert(L, -2);
    lua_setfield(L, -2, "net");
    lua_setglobal(L, "iomodules");
    set_args(L, argc, argv);

    /* 3. run the script: it sets up sockets and handlers */
    if (luaL_loadfile(L, argv[1]) != LUA_OK) {
        fprintf(stderr, "luahost: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return 1;
    }
    if (docall(L, 0) != LUA_OK)
        status = 1;

    /* 4. drive the loop until nothing is active (or net.stop()) */
    if (status == 0) {
        lua_getglobal(L, "net");
        lua_getfield(L, -1, "run");
        lua_remove(L, -2);
        if (docall(L, 0) != LUA_OK)
            status = 1;
    }

    /* 5. close: __gc aborts whatever is still open */
    lua_close(L);
    return status;
}
