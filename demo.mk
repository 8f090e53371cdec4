# demo.mk - the newcomer's targets, included by the Makefile after
# examples/examples.mk and lua.mk (it uses their build rules, BUILD and the
# deps target):
#
#   demo            install missing Debian packages (the deps target), build
#                   build/tls_server and build/luahost, make a throwaway CA and
#                   server certificate, start tls_server on an ephemeral
#                   loopback port, run examples/demo.lua against it, show what
#                   both sides did, stop the server, clean up
#   install         PREFIX (default /usr/local), DESTDIR honoured:
#                     $(INCLUDEDIR)/sslsocket.h
#                     $(PKGCONFIGDIR)/sslsocket.pc     (header-only: share/pkgconfig)
#                     $(LUA_CMOD)/sslsocket.so         (lua.mk's install-lua)
#                     $(BINDIR)/tls_client tls_server https_get luahost
#   uninstall       removes exactly those files (directories stay)
#   sslsocket.pc    writes $(BUILD)/sslsocket.pc for PREFIX
#
# Then:  cc $$(pkg-config --cflags sslsocket) app.c $$(pkg-config --libs sslsocket)
# (PKG_CONFIG_PATH=$(PREFIX)/share/pkgconfig when PREFIX is not a system one).

PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(PREFIX)/share/pkgconfig
INSTALL_BINS  = tls_client tls_server https_get luahost

.PHONY: demo install uninstall sslsocket.pc FORCE

# One shell runs the whole demo, so its trap sees every process it started.
# The server's port comes from its "listening on 127.0.0.1:PORT" line, read
# through a FIFO: `read` returns when the line is there (or at EOF if the
# server died), so nothing sleeps.  --once makes the server exit when the
# client has gone; `timeout` bounds it in case the client never arrives.
demo: deps
	@$(MAKE) --no-print-directory $(BUILD)/tls_server $(BUILD)/luahost
	@dir=$$(mktemp -d "$${TMPDIR:-/tmp}/sslsocket-demo-XXXXXX") || exit 1; \
	pid=""; \
	trap 'if [ -n "$$pid" ]; then kill $$pid 2>/dev/null; wait $$pid 2>/dev/null; fi; rm -rf "$$dir"' EXIT; \
	trap 'exit 130' INT TERM HUP; \
	echo; \
	echo "== 1. a throwaway CA and a server certificate for localhost (EC P-256), in $$dir"; \
	( cd "$$dir" && \
	  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout ca.key -out ca.pem -days 1 -subj "/CN=sslsocket demo CA" \
	    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign && \
	  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout server.key -out server.csr -subj "/CN=localhost/O=sslsocket demo" && \
	  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext && \
	  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \
	    -extfile server.ext -out server.pem ) > "$$dir/openssl.log" 2>&1 \
	|| { cat "$$dir/openssl.log"; echo "demo: certificate generation failed"; exit 1; }; \
	echo "== 2. $(BUILD)/tls_server, a TLS line-echo server, on an ephemeral loopback port"; \
	mkfifo "$$dir/stdout" || exit 1; \
	timeout 60 $(BUILD)/tls_server --cert "$$dir/server.pem" --key "$$dir/server.key" \
	  --address 127.0.0.1 --port 0 --once > "$$dir/stdout" 2> "$$dir/server.log" & pid=$$!; \
	line=""; read -r line < "$$dir/stdout"; \
	case "$$line" in \
	  "listening on 127.0.0.1:"[0-9]*) port=$${line##*:}; echo "   $$line" ;; \
	  *) cat "$$dir/server.log"; echo "demo: tls_server did not start"; exit 1 ;; \
	esac; \
	echo "== 3. $(BUILD)/luahost examples/demo.lua localhost $$port ca.pem"; \
	echo "      (the seed document's SslSocket client, verifying against the demo CA)"; \
	{ timeout 30 $(BUILD)/luahost examples/demo.lua localhost "$$port" "$$dir/ca.pem" 2>&1; \
	  echo $$? > "$$dir/client.rc"; } | sed 's/^/   client| /'; \
	rc=$$(cat "$$dir/client.rc"); \
	[ "$$rc" = 0 ] || kill $$pid 2>/dev/null; \
	wait $$pid 2>/dev/null; pid=""; \
	echo "== 4. what the server saw"; \
	sed 's/^/   server| /' "$$dir/server.log"; \
	if [ "$$rc" = 0 ]; then \
	  echo "== done: the text came back over a verified TLS connection; server stopped, $$dir removed"; \
	else \
	  echo "== demo FAILED (client exit status $$rc)"; exit 1; \
	fi

sslsocket.pc: $(BUILD)/sslsocket.pc

# Regenerated every time: it records PREFIX.
$(BUILD)/sslsocket.pc: sslsocket.h FORCE
	@mkdir -p $(@D)
	@version=$$(sed -n 's/^#define SSLSOCKET_VERSION_STRING "\(.*\)"/\1/p' sslsocket.h); \
	printf '%s\n' \
	  'prefix=$(PREFIX)' \
	  'includedir=$(INCLUDEDIR)' \
	  '' \
	  'Name: sslsocket' \
	  'Description: Nonblocking, allocation-free TLS sockets on BearSSL (single header)' \
	  "Version: $$version" \
	  'Cflags: -I$${includedir}' \
	  'Libs: -lbearssl' > $@

FORCE:

install: $(BUILD)/sslsocket.pc $(addprefix $(BUILD)/,$(INSTALL_BINS)) install-lua
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(BINDIR)
	install -m 0644 sslsocket.h $(DESTDIR)$(INCLUDEDIR)/sslsocket.h
	install -m 0644 $(BUILD)/sslsocket.pc $(DESTDIR)$(PKGCONFIGDIR)/sslsocket.pc
	install -m 0755 $(addprefix $(BUILD)/,$(INSTALL_BINS)) $(DESTDIR)$(BINDIR)

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/sslsocket.h $(DESTDIR)$(PKGCONFIGDIR)/sslsocket.pc \
	  $(DESTDIR)$(LUA_CMOD)/sslsocket.so $(addprefix $(DESTDIR)$(BINDIR)/,$(INSTALL_BINS))
