# lua.mk - the Lua 5.4 binding (lua_sslsocket.c), included by the Makefile;
# also usable alone: make -f lua.mk test-lua
#
#   build/sslsocket.so    the module: require "sslsocket" (exports only luaopen_sslsocket)
#   build/luahost         examples/luahost.c: embeds Lua, publishes net / iomodules.net
#   build/luahost-asan    the same host, binding included, under ASan+UBSan (tests)
#   build/luahost-split   the host with sslsocket.h's implementation in its own object
#                         and the binding built with SSLSOCKET_LUA_NO_IMPLEMENTATION
#   test-lua              the Lua suite with lua5.4, then again inside luahost-asan
#   test-lua-valgrind     the lifetime tests with lua5.4 + sslsocket.so under valgrind
#   install-lua           sslsocket.so into Lua 5.4's C module path ($(LUA_CMOD))
#
# Debian packages: liblua5.4-dev lua5.4 (build, tests), luarocks (rockspec test),
# openssl (test peers), valgrind (test-lua-valgrind).

BUILD      ?= build
CC         ?= cc
CFLAGS     ?= -O2 -g
PREFIX     ?= /usr/local
LUA        ?= lua5.4
LUA_CFLAGS ?= $(shell pkg-config --cflags lua5.4 2>/dev/null || echo -I/usr/include/lua5.4)
LUA_LIBS   ?= $(shell pkg-config --libs lua5.4 2>/dev/null || echo -llua5.4)
LUA_CMOD   ?= $(PREFIX)/lib/lua/5.4
LUA_WARN    = -std=c99 -D_GNU_SOURCE -Wall -Wextra -Werror -pedantic -Wshadow -Wundef \
              -Wstrict-prototypes
LUA_SAN     = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LUA_DEPS    = lua_sslsocket.c sslsocket.h

DEB_LUA = liblua5.4-dev lua5.4 luarocks

.PHONY: lua test-lua test-lua-valgrind install-lua deps-lua

lua: $(BUILD)/sslsocket.so $(BUILD)/luahost

$(BUILD)/sslsocket.so: $(LUA_DEPS)
	@mkdir -p $(@D)
	$(CC) $(LUA_WARN) $(CFLAGS) -fPIC -shared $(LUA_CFLAGS) -o $@ lua_sslsocket.c -lbearssl

$(BUILD)/luahost: examples/luahost.c $(LUA_DEPS)
	@mkdir -p $(@D)
	$(CC) $(LUA_WARN) $(CFLAGS) $(LUA_CFLAGS) -I. -o $@ examples/luahost.c lua_sslsocket.c \
	  $(LUA_LIBS) -lbearssl

$(BUILD)/luahost-asan: examples/luahost.c $(LUA_DEPS)
	@mkdir -p $(@D)
	$(CC) $(LUA_WARN) $(CFLAGS) $(LUA_SAN) $(LUA_CFLAGS) -I. -o $@ examples/luahost.c \
	  lua_sslsocket.c $(LUA_LIBS) -lbearssl

# The opt-out: a host that compiles the implementation in another translation unit.
$(BUILD)/luahost-split: examples/luahost.c $(LUA_DEPS)
	@mkdir -p $(@D)
	printf '#define SSLSOCKET_IMPLEMENTATION\n#include "sslsocket.h"\n' | \
	  $(CC) $(LUA_WARN) $(CFLAGS) -I. -x c -c -o $(BUILD)/sslsocket_impl.o -
	$(CC) $(LUA_WARN) $(CFLAGS) $(LUA_CFLAGS) -I. -DSSLSOCKET_LUA_NO_IMPLEMENTATION -o $@ \
	  examples/luahost.c lua_sslsocket.c $(BUILD)/sslsocket_impl.o $(LUA_LIBS) -lbearssl

deps-lua:
	@missing=""; for p in $(DEB_LUA); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# The suite twice: the plain interpreter loading sslsocket.so, then embedded
# in luahost with the binding compiled under ASan+UBSan (leaks checked at exit).
test-lua: $(BUILD)/sslsocket.so $(BUILD)/luahost $(BUILD)/luahost-asan $(BUILD)/luahost-split
	@fail=0; \
	echo "== Lua tests (lua5.4 + sslsocket.so)"; \
	$(LUA) tests/lua/run.lua || fail=1; \
	echo "== Lua tests (luahost, ASan+UBSan)"; \
	ASAN_OPTIONS=detect_leaks=1 $(BUILD)/luahost-asan tests/lua/run.lua || fail=1; \
	echo "== luahost-split (SSLSOCKET_LUA_NO_IMPLEMENTATION)"; \
	printf '%s\n' 'local ok, e = pcall(net.SslCertificate.new, "x")' \
	  'assert(not ok and e:find("not available"), e)' \
	  'local s = net.SslSocket.new(); assert(s.state == 0 and s.configuration.ca_count >= 0)' \
	  'print("split build: ok")' | $(BUILD)/luahost-split /dev/stdin || fail=1; \
	exit $$fail

test-lua-valgrind: $(BUILD)/sslsocket.so
	@echo "== Lua lifetime tests (valgrind)"
	@SSLSOCKET_LUA_CYCLES=300 valgrind -q --error-exitcode=99 --leak-check=full \
	  --errors-for-leak-kinds=definite $(LUA) tests/lua/run.lua lifetime

install-lua: $(BUILD)/sslsocket.so
	install -d $(DESTDIR)$(LUA_CMOD)
	install -m 0755 $(BUILD)/sslsocket.so $(DESTDIR)$(LUA_CMOD)/sslsocket.so
