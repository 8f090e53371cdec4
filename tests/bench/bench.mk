# tests/bench/bench.mk - the benchmarks (a fragment the Makefile includes with
# `include tests/bench/bench.mk`; also usable alone from the repository root:
# make -f tests/bench/bench.mk bench-smoke).
#
#   bench          full run (< 10 min on 2 cores): prints every table and
#                  writes tests/bench/results.md (regenerated each run)
#   bench-smoke    a few seconds of every benchmark, no timing asserted;
#                  its report goes to build/bench-smoke/results.md
#   bench-profile  callgrind profiles of the library's cases (valgrind)
#   bench-deps     install what the benchmarks need, if missing
#
# SSLSOCKET_H=/path/to/patched/sslsocket.h benchmarks a patched copy of the
# header (to measure a proposed change) instead of ./sslsocket.h.

CC ?= cc
BENCH_CFLAGS = -std=c99 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror
BENCH_SMALL = -DSSLSOCKET_IOBUF_SIZE=4421 -DSSLSOCKET_HALF_DUPLEX=1 -DSSLSOCKET_WRITE_BUFFER_SIZE=2048 -DSSLSOCKET_CERT_BUFFER_SIZE=0
BENCH_BIN = build/bench/bin
BENCH_DEB = gcc make libbearssl-dev openssl curl python3 nginx strace lua5.4 liblua5.4-dev \
            lua-sec lua-socket libssl-dev iproute2
SSLSOCKET_H ?= sslsocket.h
BENCH_HDR_FLAG = $(if $(filter sslsocket.h,$(SSLSOCKET_H)),,-DSSLSOCKET_BENCH_HEADER='"$(abspath $(SSLSOCKET_H))"')
BENCH_COMMON = tests/bench/bench_common.h tests/bench/ceiling_core.h $(SSLSOCKET_H)
BENCH_PROGS = $(BENCH_BIN)/ceiling $(BENCH_BIN)/library $(BENCH_BIN)/memory \
              $(BENCH_BIN)/memory_small $(BENCH_BIN)/tlsbench $(BENCH_BIN)/scale \
              $(BENCH_BIN)/osslbench $(BENCH_BIN)/delayrelay

.PHONY: bench bench-smoke bench-profile bench-deps bench-build

bench-deps:
	@missing=""; for p in $(BENCH_DEB); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

bench-build: $(BENCH_PROGS)

$(BENCH_BIN)/ceiling: tests/bench/ceiling.c $(BENCH_COMMON)
	@mkdir -p $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) -o $@ $< -lbearssl

$(BENCH_BIN)/library: tests/bench/library.c $(BENCH_COMMON)
	@mkdir -p $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) $(BENCH_HDR_FLAG) -o $@ $< -lbearssl

$(BENCH_BIN)/memory: tests/bench/memory.c $(BENCH_COMMON)
	@mkdir -p $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) $(BENCH_HDR_FLAG) -o $@ $< -lbearssl

$(BENCH_BIN)/memory_small: tests/bench/memory.c $(BENCH_COMMON)
	@mkdir -p $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) $(BENCH_HDR_FLAG) $(BENCH_SMALL) -o $@ $< -lbearssl

$(BENCH_BIN)/tlsbench: tests/bench/tlsbench.c $(BENCH_COMMON)
	@mkdir -p $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) $(BENCH_HDR_FLAG) -o $@ $< -lbearssl

$(BENCH_BIN)/scale: tests/bench/scale.c $(BENCH_COMMON)
	@mkdir -p $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) $(BENCH_HDR_FLAG) -o $@ $< -lbearssl

# OpenSSL's client for the TLS 1.3 comparison (libssl-dev, in BENCH_DEB; `make
# test` does not install it: without its headers the benchmark runs without
# the OpenSSL rows)
$(BENCH_BIN)/osslbench: tests/bench/osslbench.c tests/bench/bench_common.h
	@mkdir -p $(BENCH_BIN)
	@if echo '#include <openssl/ssl.h>' | $(CC) -E -x c - > /dev/null 2>&1; then \
	  echo "$(CC) $(BENCH_CFLAGS) -o $@ $< -lssl -lcrypto"; \
	  $(CC) $(BENCH_CFLAGS) -o $@ $< -lssl -lcrypto; \
	else echo "osslbench: no <openssl/ssl.h> (libssl-dev; make bench-deps): skipped"; fi

$(BENCH_BIN)/delayrelay: tests/bench/delayrelay.c tests/bench/bench_common.h
	@mkdir -p $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

# One run: $(1) = output directory, $(2) = --smoke or nothing.
define bench_run
	@mkdir -p $(1)
	@set -e; export BENCH_OUT=$(1) BENCH_BIN=$(BENCH_BIN); \
	echo "== 1. engine ceiling"; $(BENCH_BIN)/ceiling $(2); \
	echo "== 2. library vs ceiling"; $(BENCH_BIN)/library $(2); \
	echo "== 3. against OpenSSL"; tests/bench/vs_openssl.sh $(2); \
	echo "== 4. memory"; $(BENCH_BIN)/memory $(2); \
	echo "== 5. against LuaSec"; tests/bench/vs_luasec.sh $(2); \
	echo "== 6. scale"; $(BENCH_BIN)/scale $(2); \
	echo "== 7. system calls and allocations"; tests/bench/syscalls.sh $(2); \
	echo "== 8. TLS 1.3 client"; tests/bench/vs_tls13.sh $(2)
endef

bench: bench-deps bench-build
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory -f tests/bench/bench.mk bench-run-full; \
	tests/bench/report.sh build/bench tests/bench/results.md $$(( $$(date +%s) - start )); \
	echo "bench: wrote tests/bench/results.md"

bench-smoke: bench-build
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory -f tests/bench/bench.mk bench-run-smoke; \
	tests/bench/report.sh build/bench-smoke build/bench-smoke/results.md $$(( $$(date +%s) - start )) --smoke; \
	echo "bench-smoke: ok ($$(( $$(date +%s) - start )) s; report in build/bench-smoke/results.md)"

.PHONY: bench-run-full bench-run-smoke
bench-run-full:
	$(call bench_run,build/bench,)

bench-run-smoke:
	$(call bench_run,build/bench-smoke,--smoke)

# Where the library's time goes, per case: callgrind instruction counts of
# the measured loop only (other jobs on the machine do not disturb them), for
# the library and for the raw-BearSSL ceiling doing the same work, and the
# instructions per operation of each.  CPUID's cost (a VM exit, one
# instruction to callgrind) is invisible here: the ceiling table's engine
# setup rows measure it.  Output in build/bench/profile/.
BENCH_PROFILE_CASES = hs-ecdsa-mem resume-mem bulk-gcm-mem resume-tcp bulk-gcm-tcp
bench-profile: bench-build
	@command -v valgrind >/dev/null || { echo "bench-profile needs valgrind"; exit 1; }
	@mkdir -p build/bench/profile
	@set -e; export BENCH_OUT=build/bench; for c in $(BENCH_PROFILE_CASES); do \
	  for who in profile profile-ceiling; do \
	    out=build/bench/profile/$$c.$$who; \
	    ops=$$(valgrind -q --tool=callgrind --collect-atstart=no '--toggle-collect=profile_window*' \
	      --callgrind-out-file=$$out.out $(BENCH_BIN)/library --$$who $$c 1.0 | awk '{print $$(NF-1)}'); \
	    ir=$$(callgrind_annotate $$out.out 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $$1); print $$1}'); \
	    callgrind_annotate --inclusive=yes $$out.out 2>/dev/null | head -80 > $$out.txt; \
	    name=$$([ $$who = profile ] && echo library || echo ceiling); \
	    echo "$$c $$name: $$(awk -v i=$$ir -v o=$$ops 'BEGIN {printf "%.1f", i / o}') instructions per $$( \
	      case $$c in bulk*) echo byte;; *) echo connection;; esac)  ($$out.txt)"; \
	  done; \
	done
