# fuzz.mk - libFuzzer harnesses of tests/fuzz/ and the replay of their corpus.
# Included by the top Makefile (uses its BUILD, CC, WARN, LDLIBS when set).
#
#   make fuzz            each harness for FUZZ_SECONDS (default 60) with clang
#                        -fsanitize=fuzzer,address,undefined; new interesting
#                        inputs are added to tests/fuzz/corpus/<harness>/ and
#                        crashes land in build/fuzz/<harness>-crash-*; then the
#                        corpus is minimized (below) so that the replay stays fast
#   make fuzz-replay     every committed input through every harness, built by
#                        gcc with ASan+UBSan and no libFuzzer (part of make test)
#   make fuzz-minimize   shrink each corpus directory to the seeds plus the
#                        added inputs that bring new coverage (libFuzzer -merge=1)
#   make fuzz-seeds      remake the named seeds (tests/fuzz/gen_corpus.sh; needs
#                        openssl, gnutls-bin; keeps the inputs libFuzzer added)
# FUZZ_HARNESSES=fuzz_dns (for example) limits any of them to some harnesses.
#
# The harnesses replace getrandom() (fuzz_common.h), so every run, and every
# crash, is reproducible from the input file alone:
#   build/fuzz/fuzz_client build/fuzz/fuzz_client-crash-<sha1>
#   build/replay/fuzz_client build/fuzz/fuzz_client-crash-<sha1>   (gcc, no libFuzzer)
# FUZZ_VERBOSE=1 in the environment makes the handshake harnesses print one
# line per input (encrypted or not, lines read, problems, error string).

BUILD  ?= build
CC     ?= cc
LDLIBS ?= -lbearssl
WARN   ?= -std=c99 -Wall -Wextra -Werror -pedantic -Wshadow -Wundef -Wstrict-prototypes

FUZZ_DIR       = tests/fuzz
FUZZ_HARNESSES ?= fuzz_client fuzz_server fuzz_certs fuzz_dns fuzz_lines fuzz_tls13
FUZZ_SECONDS   ?= 60
FUZZ_CLANG     ?= clang
FUZZ_CFLAGS    ?= -g -O1
FUZZ_SAN       = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                 -fno-omit-frame-pointer
REPLAY_SAN     = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# libFuzzer options for make fuzz (one process per harness; -jobs/-workers
# can be added here on a bigger machine)
FUZZ_OPTS      ?= -timeout=10 -rss_limit_mb=2048 -max_len=20000 -print_final_stats=1
# minimizing keeps an input only for new edges, not new hit counts
FUZZ_MERGE_OPTS ?= -use_counters=0
FUZZ_DEPS      = sslsocket.h $(FUZZ_DIR)/fuzz_common.h $(FUZZ_DIR)/fuzz_keys.h tests/tls13_rfc8448.h

.PHONY: fuzz fuzz-deps fuzz-build fuzz-replay fuzz-minimize fuzz-seeds

# clang and its libFuzzer runtime (Debian 12: clang-14, libclang-rt-14-dev)
fuzz-deps:
	@SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	if ! command -v $(FUZZ_CLANG) >/dev/null 2>&1; then \
	  echo "installing: clang"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq clang; \
	fi; \
	if ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n){(void)d;(void)n;return 0;}' \
	     | $(FUZZ_CLANG) -x c -fsanitize=fuzzer -o /dev/null - >/dev/null 2>&1; then \
	  v=$$($(FUZZ_CLANG) -dumpversion | cut -d. -f1); \
	  echo "installing: libclang-rt-$$v-dev"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libclang-rt-$$v-dev; \
	fi

# (a shorter stem than the top Makefile's $(BUILD)/% rule: this one wins)
$(BUILD)/fuzz/%: $(FUZZ_DIR)/%.c $(FUZZ_DEPS) | fuzz-deps
	@mkdir -p $(BUILD)/fuzz
	$(FUZZ_CLANG) $(WARN) -D_GNU_SOURCE $(FUZZ_CFLAGS) $(FUZZ_SAN) -o $@ $< $(LDLIBS)

$(BUILD)/replay/%: $(FUZZ_DIR)/%.c $(FUZZ_DIR)/replay.c $(FUZZ_DEPS)
	@mkdir -p $(BUILD)/replay
	$(CC) $(WARN) -D_GNU_SOURCE -DFZ_EMPTY_LINE_IS_NUL_TERMINATED=1 -O0 -g $(REPLAY_SAN) -o $@ $< $(FUZZ_DIR)/replay.c $(LDLIBS)

fuzz-build: $(addprefix $(BUILD)/fuzz/,$(FUZZ_HARNESSES))

fuzz: fuzz-build
	@fail=""; for h in $(FUZZ_HARNESSES); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$h; \
	  echo "== $$h: $(FUZZ_SECONDS) s"; \
	  dict=""; [ -f $(FUZZ_DIR)/$$h.dict ] && dict="-dict=$(FUZZ_DIR)/$$h.dict"; \
	  $(BUILD)/fuzz/$$h $(FUZZ_OPTS) $$dict -max_total_time=$(FUZZ_SECONDS) \
	    -artifact_prefix=$(BUILD)/fuzz/$$h- $(FUZZ_DIR)/corpus/$$h \
	    2>$(BUILD)/fuzz/$$h.log || fail="$$fail $$h"; \
	  grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::average_exec_per_sec|ERROR|SUMMARY|invariant failed|Test unit written' \
	    $(BUILD)/fuzz/$$h.log | sed 's/^/   /'; \
	done; \
	if [ -n "$$fail" ]; then echo "fuzz: failed:$$fail (see $(BUILD)/fuzz/*.log and crash files)"; exit 1; fi; \
	echo "fuzz: no crash"
	@$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) fuzz-minimize

# The named seeds of gen_corpus.sh are always kept; of the inputs libFuzzer
# added (named by their SHA-1) only those that bring coverage the seeds and
# the others do not.
fuzz-minimize: fuzz-build
	@for h in $(FUZZ_HARNESSES); do \
	  d=$(FUZZ_DIR)/corpus/$$h; m=$(BUILD)/fuzz/min-$$h; \
	  rm -rf $$m; mkdir -p $$m; \
	  before=$$(ls $$d | wc -l); \
	  for f in $$d/*; do \
	    case $$(basename $$f) in *[!0-9a-f]*) cp $$f $$m/;; ????????????????????????????????????????) ;; *) cp $$f $$m/;; esac; \
	  done; \
	  $(BUILD)/fuzz/$$h -merge=1 $(FUZZ_MERGE_OPTS) $(FUZZ_OPTS) $$m $$d >$(BUILD)/fuzz/$$h-merge.log 2>&1 \
	    || { echo "$$h: merge failed, see $(BUILD)/fuzz/$$h-merge.log"; exit 1; }; \
	  rm -f $$d/*; cp $$m/* $$d/; \
	  echo "$$h: $$before -> $$(ls $$d | wc -l) inputs, $$(cat $$d/* | wc -c) bytes"; \
	done

fuzz-replay: $(addprefix $(BUILD)/replay/,$(FUZZ_HARNESSES))
	@echo "== fuzz corpus replay (ASan+UBSan)"; \
	pass=0; fail=0; for h in $(FUZZ_HARNESSES); do \
	  out=$$( ($(BUILD)/replay/$$h $(FUZZ_DIR)/corpus/$$h) 2>&1 ); rc=$$?; \
	  echo "$$out" | grep -v '^ok ' | sed 's/^/   /'; \
	  p=$$(echo "$$out" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' | tail -1); \
	  f=$$(echo "$$out" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' | tail -1); \
	  [ -n "$$p" ] || p=0; [ -n "$$f" ] || f=1; [ $$rc = 0 ] || [ $$f != 0 ] || f=1; \
	  pass=$$((pass + p)); fail=$$((fail + f)); \
	done; \
	echo "fuzz-replay: $$pass passed, $$fail failed"; [ $$fail = 0 ]

fuzz-seeds:
	$(FUZZ_DIR)/gen_corpus.sh
