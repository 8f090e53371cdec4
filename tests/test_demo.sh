#!/usr/bin/env bash
# test_demo.sh - `make demo`, `make install` and `make uninstall` (demo.mk),
# run the way a newcomer runs them: in a clean temporary copy of the work
# tree (the files git tracks plus new ones it does not ignore, as they are
# now; no build/ directory), so nothing already built can help.
#
#   demo          exits 0; prints the states, the mode change, TLSv1.2, the
#                 cipher, the server certificate, the echo and the server's
#                 side; leaves no process and no temporary directory behind
#   install       into a temporary PREFIX: the header, sslsocket.pc, the Lua
#                 module, the example programs; pkg-config --cflags --libs
#                 sslsocket builds a program against the installed header;
#                 lua5.4 loads the installed module
#   uninstall     removes every installed file
#   destdir       install/uninstall with DESTDIR (the .pc records PREFIX only)
#
# Output: "[ OK   ] name" or "[ FAIL ] name  why" per test, then
# "N passed, N failed"; the exit status is non-zero when anything failed.
# KEEP_FIXTURES=1 keeps the temporary directory.

set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/sslsocket-demotest-XXXXXX") || exit 1
trap '[ -n "${KEEP_FIXTURES:-}" ] && echo "fixtures kept in $T" || rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
passed=0
failed=0
ok() { echo "[ OK   ] $1"; passed=$((passed + 1)); }
bad() { echo "[ FAIL ] $1  $2"; failed=$((failed + 1)); }

# The copy: tracked and untracked-but-not-ignored files, as in the work tree.
REPO=$T/repo
mkdir -p "$REPO"
(cd "$ROOT" && git ls-files -z -co --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -xf - -C "$REPO" || { echo "cannot copy the work tree"; exit 1; }

# Until the Makefile includes demo.mk, read both (and say so).
MAKE_ARGS=()
if ! grep -qE '^[[:space:]]*-?include[[:space:]]+demo\.mk' "$REPO/Makefile"; then
    echo "note: the Makefile does not include demo.mk yet; using make -f Makefile -f demo.mk"
    MAKE_ARGS=(-f Makefile -f demo.mk)
fi
mk() { (cd "$REPO" && make --no-print-directory "${MAKE_ARGS[@]}" "$@"); }

# ---------------------------------------------------------------- demo

# missing TEXT: TEXT (an extended regex) is not in the demo's output.
missing() { ! grep -qE -- "$1" "$T/demo.out"; }

t0=$(date +%s)
timeout 600 bash -c 'cd "$1" && shift && exec make --no-print-directory "$@" demo' _ \
    "$REPO" "${MAKE_ARGS[@]}" </dev/null >"$T/demo.out" 2>&1
rc=$?
why=""
[ $rc = 0 ] || why="exit status $rc"
for want in '^== 1\. ' 'listening on 127\.0\.0\.1:[0-9]+' \
    'client\| state: HOST_LOOKUP_STATE' 'client\| state: CONNECTED_STATE' \
    'client\| mode: SSL_CLIENT_MODE' \
    'client\| encrypted: TLSv1\.2, TLS_ECDHE_ECDSA_WITH_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)' \
    'client\|   subject   O=sslsocket demo,CN=localhost' 'client\|   issuer    CN=sslsocket demo CA' \
    'client\|   names     DNS:localhost, IP:127\.0\.0\.1' 'client\| verified: yes' \
    'client\| echo: hello from sslsocket' 'client\| state: UNCONNECTED_STATE' \
    'client\| disconnected' 'server\| client 0: TLSv1\.2' 'server\| client 0: disconnected' \
    '^== done'; do
    missing "$want" && why="${why:+$why; }no line matching '$want'"
done
grep -qE 'client\| error' "$T/demo.out" && why="${why:+$why; }the client reported an error"
echo "(make demo, from a clean copy: $(($(date +%s) - t0)) s)"
if [ -z "$why" ]; then ok demo_runs; else bad demo_runs "$why; output: $(tail -n 30 "$T/demo.out" | tr '\n' '|')"; fi

# It stopped everything it started and removed its directory.
why=""
for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    case "$exe" in "$REPO"/build/*) why="${why:+$why; }still running: ${p#/proc/} $exe" ;; esac
done
dir=$(sed -n 's/^== 1\. .*, in \(.*\)$/\1/p' "$T/demo.out")
[ -n "$dir" ] || why="${why:+$why; }no temporary directory named in the output"
[ -n "$dir" ] && [ -e "$dir" ] && why="${why:+$why; }$dir is still there"
if [ -z "$why" ]; then ok demo_cleans_up; else bad demo_cleans_up "$why"; fi

# A second run works too (nothing left over that gets in the way).
if mk demo </dev/null >"$T/demo2.out" 2>&1 && grep -q 'echo: hello from sslsocket' "$T/demo2.out"; then
    ok demo_again
else
    bad demo_again "$(tail -n 20 "$T/demo2.out" | tr '\n' '|')"
fi

# ---------------------------------------------------------------- install

P=$T/prefix
FILES="include/sslsocket.h share/pkgconfig/sslsocket.pc lib/lua/5.4/sslsocket.so
       bin/tls_client bin/tls_server bin/https_get bin/luahost"
why=""
mk -j4 install PREFIX="$P" >"$T/install.out" 2>&1 || why="make install failed: $(tail -n 5 "$T/install.out" | tr '\n' '|')"
for f in $FILES; do [ -f "$P/$f" ] || why="${why:+$why; }missing $f"; done
for f in tls_client tls_server https_get luahost; do
    [ -x "$P/bin/$f" ] || why="${why:+$why; }bin/$f is not executable"
done
extra=$(cd "$P" 2>/dev/null && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')
[ "$extra" = "$(echo $FILES | tr ' ' '\n' | sort | tr '\n' ' ')" ] ||
    why="${why:+$why; }installed files: $extra"
if [ -z "$why" ]; then ok install_files; else bad install_files "$why"; fi

# pkg-config gives what a program needs; the program uses the installed header.
export PKG_CONFIG_PATH=$P/share/pkgconfig
why=""
flags=$(pkg-config --cflags --libs sslsocket 2>&1) || why="pkg-config: $flags"
flags=$(echo $flags) # pkg-config ends with a space
[ "$flags" = "-I$P/include -lbearssl" ] || why="${why:+$why; }pkg-config --cflags --libs: '$flags'"
[ "$(pkg-config --modversion sslsocket 2>&1)" = \
  "$(sed -n 's/^#define SSLSOCKET_VERSION_STRING "\(.*\)"/\1/p' "$REPO/sslsocket.h")" ] ||
    why="${why:+$why; }modversion: $(pkg-config --modversion sslsocket 2>&1)"
mkdir -p "$T/app"
cat >"$T/app/app.c" <<'EOF'
#define SSLSOCKET_IMPLEMENTATION
#include <sslsocket.h>
#include <stdio.h>

int main(void)
{
    static sslsocket s;
    sslsocket_init(&s, NULL);
    printf("sslsocket %s, state %d\n", SSLSOCKET_VERSION_STRING, (int)sslsocket_state(&s));
    return sslsocket_state(&s) == SSLSOCKET_UNCONNECTED ? 0 : 1;
}
EOF
# shellcheck disable=SC2046,SC2086 # word splitting of the flags is the point
(cd "$T/app" && cc -std=c99 -Wall -Wextra -Werror $(pkg-config --cflags sslsocket) -o app app.c \
    $(pkg-config --libs sslsocket)) >"$T/app.log" 2>&1 || why="${why:+$why; }build: $(head -c 400 "$T/app.log")"
[ -z "$why" ] && { "$T/app/app" >"$T/app.out" 2>&1 && grep -q '^sslsocket .*, state 0$' "$T/app.out" ||
    why="app: $(cat "$T/app.out")"; }
if [ -z "$why" ]; then ok pkg_config_build; else bad pkg_config_build "$why"; fi

# The installed Lua module loads from the installed path; luahost runs.
why=""
out=$(LUA_CPATH="$P/lib/lua/5.4/?.so" lua5.4 -e \
    'local net = require "sslsocket"; print(type(net.SslSocket.new), net.Stream.READ_WRITE_MODE)' 2>&1)
[ "$out" = "function	3" ] || why="lua5.4 require: $out"
printf 'print(net == iomodules.net and "luahost ok")\n' >"$T/host.lua"
out=$("$P/bin/luahost" "$T/host.lua" 2>&1)
[ "$out" = "luahost ok" ] || why="${why:+$why; }installed luahost: $out"
if [ -z "$why" ]; then ok install_lua_module; else bad install_lua_module "$why"; fi
unset PKG_CONFIG_PATH

why=""
mk uninstall PREFIX="$P" >"$T/uninstall.out" 2>&1 || why="make uninstall failed: $(tail -n 5 "$T/uninstall.out")"
left=$(find "$P" -type f 2>/dev/null | tr '\n' ' ')
[ -z "$left" ] || why="${why:+$why; }left behind: $left"
if [ -z "$why" ]; then ok uninstall; else bad uninstall "$why"; fi

# DESTDIR: staged under it, the .pc names the real PREFIX.
why=""
D=$T/stage
mk install DESTDIR="$D" PREFIX=/opt/sslsocket >"$T/destdir.out" 2>&1 || why="make install DESTDIR failed"
for f in $FILES; do [ -f "$D/opt/sslsocket/$f" ] || why="${why:+$why; }missing $f"; done
grep -qx 'prefix=/opt/sslsocket' "$D/opt/sslsocket/share/pkgconfig/sslsocket.pc" 2>/dev/null ||
    why="${why:+$why; }sslsocket.pc: $(tr '\n' '|' <"$D/opt/sslsocket/share/pkgconfig/sslsocket.pc" 2>&1)"
mk uninstall DESTDIR="$D" PREFIX=/opt/sslsocket >>"$T/destdir.out" 2>&1 || why="${why:+$why; }uninstall failed"
left=$(find "$D" -type f 2>/dev/null | tr '\n' ' ')
[ -z "$left" ] || why="${why:+$why; }left behind: $left"
if [ -z "$why" ]; then ok install_destdir; else bad install_destdir "$why"; fi

echo "($(($(date +%s) - t0)) s)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
