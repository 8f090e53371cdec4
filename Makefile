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
DEB_BUILD = gcc make libbearssl-dev pkg-config
DEB_TEST  = openssl gnutls-bin dovecot-imapd python3 valgrind curl ca-certificates clang
DEB_ALL   = $(DEB_BUILD) $(DEB_TEST)

.PHONY: all deps test test-c test-valgrind lint clean demo bench

all: $(BUILD)/test_client

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

HDR = sslsocket.h tests/testlib.h tests/peers.h tests/drive.h

$(BUILD)/%: tests/%.c $(HDR) | $(BUILD)
	$(CC) $(WARN) -D_GNU_SOURCE $(CFLAGS) $(SAN) -o $@ $< $(LDLIBS)

$(BUILD)/vg_%: tests/%.c $(HDR) | $(BUILD)
	$(CC) $(WARN) -D_GNU_SOURCE $(CFLAGS) -o $@ $< $(LDLIBS)

C_TESTS = test_resolver test_x509 test_loaders test_memory test_client test_server test_connect
# run again, without sanitizers, under valgrind
VG_TESTS = test_memory test_resolver

test: deps lint
	@$(MAKE) --no-print-directory test-c
	@$(MAKE) --no-print-directory test-valgrind

test-c: $(addprefix $(BUILD)/,$(C_TESTS))
	@fail=0; for t in $(C_TESTS); do \
	  echo "== $$t (ASan+UBSan)"; $(BUILD)/$$t || fail=1; \
	done; exit $$fail

VALGRIND = valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=all

test-valgrind: $(addprefix $(BUILD)/vg_,$(VG_TESTS))
	@fail=0; for t in $(VG_TESTS); do \
	  echo "== $$t (valgrind)"; $(VALGRIND) $(BUILD)/vg_$$t || fail=1; \
	done; exit $$fail

# The core must never allocate: no allocating calls outside comments.
lint:
	@if gcc -fpreprocessed -dD -E -P sslsocket.h 2>/dev/null \
	   | grep -nE '\b(malloc|calloc|realloc|free|strdup|getaddrinfo|fopen|asprintf|gethostbyname|opendir)\s*\(' ; then \
	  echo "lint: sslsocket.h calls an allocating function"; exit 1; fi
	@echo "lint: ok"

clean:
	rm -rf $(BUILD)
