# examples/examples.mk - the example programs, included by the Makefile;
# also usable alone: make -f examples/examples.mk test-examples
#
#   build/tls_client   command-line TLS client (like openssl s_client)
#   build/tls_server   TLS line-echo server, optional SMTP STARTTLS prologue
#   build/https_get    fetch one https:// URL, body to stdout
#   test-examples      tests/test_examples.sh: the three against openssl,
#                      gnutls-serv, curl and Python peers on loopback
#
# Debian packages for the tests: openssl gnutls-bin curl python3.

BUILD   ?= build
CC      ?= cc
EX_FLAGS = -std=c99 -D_GNU_SOURCE -Wall -Wextra -Werror -pedantic -O2
EXAMPLES = $(BUILD)/tls_client $(BUILD)/tls_server $(BUILD)/https_get

.PHONY: examples test-examples

examples: $(EXAMPLES)

$(EXAMPLES): $(BUILD)/%: examples/%.c sslsocket.h
	@mkdir -p $(@D)
	$(CC) $(EX_FLAGS) -o $@ $< -lbearssl

test-examples: $(EXAMPLES)
	@BIN=$(abspath $(BUILD)) tests/test_examples.sh
