# sslsocket - build, test, demo.
#   make demo     install build deps, build, run a TLS server and the Lua client
#   make test     everything: unit, real-peer interop, sanitizers, valgrind
#   make deps     install the Debian packages the build and the tests use
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -std=c99 -Wall -Wextra -Werror -pedantic -Wshadow -Wundef -Wstrict-prototypes
SAN      = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDLIBS   = -lbearssl
BUILD    = build

# Debian packages: build deps and the real peers the tests start.
DEB_BUILD = gcc g++ make libbearssl-dev pkg-config
DEB_TEST  = openssl gnutls-bin dovecot-imapd python3 valgrind curl ca-certificates clang \
            clang-tidy cppcheck iproute2 util-linux procps \
            liblua5.4-dev lua5.4 luarocks lua-sec lua-socket strace
DEB_ALL   = $(DEB_BUILD) $(DEB_TEST)

.PHONY: all deps test test-c test-limbo test-valgrind lint clean demo bench soak

# `make` alone builds everything (the includes below define targets too)
.DEFAULT_GOAL := all

include examples/examples.mk
include lua.mk
include tests/fuzz/fuzz.mk
include demo.mk
include tests/bench/bench.mk

all: examples lua

deps:
	@missing=""; for p in $(DEB_ALL); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(BUILD):
	mkdir -p $(BUILD)

HDR = sslsocket.h tests/testlib.h tests/peers.h tests/drive.h tests/tls13_rfc8448.h

$(BUILD)/%: tests/%.c $(HDR) | $(BUILD)
	$(CC) $(WARN) -D_GNU_SOURCE $(CFLAGS) $(SAN) -o $@ $< $(LDLIBS)

$(BUILD)/vg_%: tests/%.c $(HDR) | $(BUILD)
	$(CC) $(WARN) -D_GNU_SOURCE $(CFLAGS) -o $@ $< $(LDLIBS)

# The small-memory profile (README "Memory"): one 4 KiB-record buffer.
SMALL_PROFILE = -DSSLSOCKET_IOBUF_SIZE=4421 -DSSLSOCKET_HALF_DUPLEX=1 -DSSLSOCKET_WRITE_BUFFER_SIZE=2048 -DSSLSOCKET_CERT_BUFFER_SIZE=0

$(BUILD)/test_small: tests/test_small.c $(HDR) | $(BUILD)
	$(CC) $(WARN) -D_GNU_SOURCE $(CFLAGS) $(SAN) $(SMALL_PROFILE) -o $@ $< $(LDLIBS)

C_TESTS = test_resolver test_x509 test_loaders test_memory test_security test_tls13 test_client test_server test_connect \
          test_verify test_starttls test_robust test_hostile test_resources test_small
# run again, without sanitizers, under valgrind
VG_TESTS = test_memory test_security test_resolver test_robust test_tls13
# timing-sensitive cases stay out of the (10x slower) valgrind run
VG_ARGS_test_robust = zero_alloc bad_input remote_close disconnect abort
# (keylogfile runs a setuid copy of the program: not under valgrind)
VG_ARGS_test_security = session policy cache config_swap large_leaf anchors flood revocation profile \
                        renegotiation wiped

test: deps lint
	@$(MAKE) --no-print-directory test-compile
	@$(MAKE) --no-print-directory test-c
	@echo "== fuzz corpus replay"; $(MAKE) --no-print-directory fuzz-replay
	@echo "== README code blocks"; tests/test_readme.sh
	@echo "== examples"; $(MAKE) --no-print-directory test-examples
	@echo "== Lua binding"; $(MAKE) --no-print-directory test-lua
	@echo "== Lua examples"; tests/test_lua_examples.sh
	@echo "== make demo / install"; tests/test_demo.sh
	@echo "== benchmarks (smoke: they run, no timing asserted)"; $(MAKE) --no-print-directory bench-smoke
	@echo "== soak (60 s)"; $(MAKE) --no-print-directory $(BUILD)/soak && $(BUILD)/soak 60
	@$(MAKE) --no-print-directory test-valgrind

LIMBO_CASES = $(BUILD)/limbo-cases.txt $(BUILD)/limbo-generated-cases.txt

test-c: $(addprefix $(BUILD)/,$(C_TESTS)) $(BUILD)/test_limbo $(LIMBO_CASES)
	@fail=0; for t in $(C_TESTS); do \
	  echo "== $$t (ASan+UBSan)"; $(BUILD)/$$t || fail=1; \
	done; \
	echo "== test_limbo (ASan+UBSan): x509-limbo's server cases, as published"; \
	$(BUILD)/test_limbo $(BUILD)/limbo-cases.txt tests/limbo/known.txt || fail=1; \
	echo "== test_limbo (ASan+UBSan): x509-limbo's server cases, generated here"; \
	$(BUILD)/test_limbo $(BUILD)/limbo-generated-cases.txt tests/limbo/known-generated.txt \
	  || fail=1; \
	exit $$fail

# x509-limbo (tests/limbo/README): the two suites in test_limbo's format
$(BUILD)/limbo-cases.txt: tests/limbo/limbo.json tests/limbo/cases.py | $(BUILD)
	python3 tests/limbo/cases.py tests/limbo/limbo.json > $@
$(BUILD)/limbo-generated-cases.txt: tests/limbo/limbo-generated.json tests/limbo/cases.py | $(BUILD)
	python3 tests/limbo/cases.py tests/limbo/limbo-generated.json > $@

test-limbo: $(BUILD)/test_limbo $(LIMBO_CASES)
	$(BUILD)/test_limbo $(BUILD)/limbo-cases.txt tests/limbo/known.txt -v
	$(BUILD)/test_limbo $(BUILD)/limbo-generated-cases.txt tests/limbo/known-generated.txt -v

# (test_robust defines malloc itself to count calls: let valgrind keep its own)
VALGRIND = valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=all \
           --soname-synonyms=somalloc=nouserintercepts

test-valgrind: $(addprefix $(BUILD)/vg_,$(VG_TESTS))
	@fail=0; for t in $(VG_TESTS); do \
	  args=""; [ $$t = test_robust ] && args="$(VG_ARGS_test_robust)"; \
	  [ $$t = test_security ] && args="$(VG_ARGS_test_security)"; \
	  echo "== $$t (valgrind)"; $(VALGRIND) $(BUILD)/vg_$$t $$args || fail=1; \
	done; exit $$fail

# Mixed good, slow and hostile clients against one server: RSS, descriptors
# and errors must not grow.  make test runs 60 s of it.
$(BUILD)/soak: tests/soak.c $(HDR) | $(BUILD)
	$(CC) $(WARN) -D_GNU_SOURCE $(CFLAGS) -o $@ $< $(LDLIBS)

soak: $(BUILD)/soak
	$(BUILD)/soak $${SOAK_SECONDS:-1800}

# The header as C99/C11 with gcc and clang, as C++, in two translation
# units plus an SSLSOCKET_STATIC copy; every exported symbol has the prefix.
STRICT = -Wall -Wextra -Werror -pedantic -Wshadow -Wundef -Wstrict-prototypes
test-compile: | $(BUILD)
	@set -e; for cc in gcc clang; do for std in c99 c11; do \
	  $$cc -std=$$std $(STRICT) -c tests/compile/impl.c -o $(BUILD)/impl.o; \
	  $$cc -std=$$std $(STRICT) -c tests/compile/user.c -o $(BUILD)/user.o; \
	  $$cc -std=$$std $(STRICT) -c tests/compile/static.c -o $(BUILD)/static.o; \
	  $$cc -std=$$std -c tests/compile/main.c -o $(BUILD)/main.o; \
	  $$cc -o $(BUILD)/two_tu $(BUILD)/main.o $(BUILD)/user.o $(BUILD)/impl.o $(BUILD)/static.o $(LDLIBS); \
	  printf "%s %s: " $$cc $$std; $(BUILD)/two_tu; \
	done; done
	@g++ -std=c++11 -Wall -Wextra -Werror -pedantic -o $(BUILD)/cpp tests/compile/cpp.cpp $(LDLIBS) && echo "g++ c++11: 1 passed, 0 failed"
	@bad=$$(nm $(BUILD)/impl.o | awk '$$2 ~ /^[TDBRC]$$/ {print $$3}' | grep -v '^sslsocket_' || true); \
	 if [ -n "$$bad" ]; then echo "exported symbols without the sslsocket_ prefix: $$bad"; exit 1; fi; \
	 echo "symbols: 1 passed, 0 failed"

# The core must never allocate: no allocating calls outside comments.
# Then cppcheck and clang-tidy (configuration in .clang-tidy) on the header
# and the Lua binding; any finding fails.
CPPCHECK = cppcheck --enable=warning,portability,performance --std=c99 --quiet \
           --error-exitcode=1 --inline-suppr --suppress=missingIncludeSystem \
           -D_GNU_SOURCE -D__linux__ -DLLONG_MAX=9223372036854775807LL -I. -I/usr/include/lua5.4
lint:
	@if gcc -fpreprocessed -dD -E -P sslsocket.h 2>/dev/null \
	   | grep -nE '\b(malloc|calloc|realloc|free|strdup|getaddrinfo|fopen|asprintf|gethostbyname|opendir)\s*\(' ; then \
	  echo "lint: sslsocket.h calls an allocating function"; exit 1; fi
	@$(CPPCHECK) -DSSLSOCKET_IMPLEMENTATION tests/compile/lint_impl.c
	@$(CPPCHECK) lua_sslsocket.c
	@mkdir -p $(BUILD); for f in tests/compile/lint_impl.c lua_sslsocket.c; do \
	  clang-tidy --quiet $$f -- -std=c99 -D_GNU_SOURCE -DSSLSOCKET_LUA_NO_IMPLEMENTATION \
	    -I/usr/include/lua5.4 > $(BUILD)/tidy.log 2>&1 || { cat $(BUILD)/tidy.log; exit 1; }; done
	@echo "lint: ok (no allocating calls; cppcheck and clang-tidy clean)"

clean:
	rm -rf $(BUILD)
