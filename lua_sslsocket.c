/* lua_sslsocket.c - v0.1.0 - Lua 5.4 binding for sslsocket.h
   See end of file for license information.

   >>about
   =======
   `require "sslsocket"` returns the table called `net` in the SPEC: the
   object family Stream / TcpSocket / SslSocket / TcpServer /
   SslConfiguration / SslCertificate / SslKey / SslEncoding, and the loop
   functions net.poll / net.run / net.stop.  Every method is a thin layer:
   check the arguments, make one sslsocket_* call, push the results.  The
   semantics (states, events, errors) are those documented at the top of
   sslsocket.h; this file only maps them to Lua.

   Build (Debian 12):
       cc -std=c99 -D_GNU_SOURCE -fPIC -shared -I/usr/include/lua5.4 \
          -o sslsocket.so lua_sslsocket.c -lbearssl

   By default this file compiles the implementation of sslsocket.h into
   itself with SSLSOCKET_STATIC, so sslsocket.so exports nothing but
   luaopen_sslsocket.  A host that already compiles the implementation in
   another translation unit defines SSLSOCKET_LUA_NO_IMPLEMENTATION; then
   SslCertificate.new and SslKey.new are unavailable (they use the
   library's certificate and key decoders, which are private to the
   implementation unit).

   >>memory
   ========
   Lua's allocator is the only allocator: the C `sslsocket` (~61 KiB) lives
   inside the socket's full userdata; a configuration holds its
   sslsocket_config and a separate storage userdata for certificates and
   keys (grown by reloading when a load runs out of space); a certificate
   keeps its DER, a key its encoded bytes and a small arena.  Per-object
   Lua values (handlers, the configuration in use) are in the userdata's
   user-value table and die with it.  Secrets are zeroed when collected:
   a configuration by sslsocket_config_wipe(), a storage and a key by
   their own __gc.

   >>lifetime
   ==========
   A socket that is not UNCONNECTED (or BOUND), or that still has events to
   deliver, holds exactly one reference in the registry table of active
   sockets, taken and released by lss_sync_anchor() after every call that
   can change the state and after every dispatch.  So connecting sockets
   stay alive when the script drops them, and closed ones are collected.
   __gc and __close are the same idempotent function: abort, drop queued
   events, release the anchor.
   An SslSocket's user value references what its C socket uses: the
   configuration (a new one assigned during a TLS connection is deferred
   by sslsocket_set_config; the old one stays in "config_in_use" until
   sslsocket_get_config() reports the switch, seen by lss_sync_anchor),
   and the storage that configuration had when the handshake began
   ("storage", taken by lss_capture_storage before every call that can
   start a handshake, kept while the connection is up), so a configuration
   replaced or rebuilt meanwhile frees nothing the engine points into.

   >>loop
   ======
   Handlers run only inside net.poll() / net.run(): one round waits with
   sslsocket_wait() over the active sockets, polls each one, and calls the
   handler of every event returned by sslsocket_next_event(), in order,
   with lua_pcall and a traceback.  An error goes to net.error_handler(msg)
   if set, else to stderr, and the loop goes on.  Then the callbacks queued
   by *_async methods run.  Handlers may not call net.poll/net.run.

   >>notes
   =======
   - Handlers receive the value of their event (new state, mode, error,
     bytes); properties read inside a handler show the socket as it is after
     the whole poll (events are delivered after sslsocket_poll() returns).
   - about_to_close_handler runs just before state_changed_handler(CLOSING).
   - m_async(..., cb) runs m at once (argument errors raise there) and hands
     (stream, first result, error message) to cb in the next round.
   - read_line_*([max]) follows sslsocket_read_line(): a complete line of at
     most max bytes (default SSLSOCKET_READ_BUFFER_SIZE), else the first max
     bytes of a longer one, else "".
   - The default configuration (SslSocket.new() without one) is one shared
     SslConfiguration per Lua state with the system trust store; changing
     it changes it for every socket that uses it.
   - Accepted connections are SslSockets (UNENCRYPTED until
     start_server_encryption(), or at once with ssl_configuration).
   - A configuration records every change in its user value and replays
     them into new storage when a load runs out of space (it doubles) or
     when ca_certificates / the local certificate are replaced.  Files and
     directories are read again at replay.

   >>extensions (beyond SPEC section 5)
   =============
   net.run([timeout_ms]) -> true (stopped/idle) | false (timeout);
   net.active(); SslSocket.new([configuration]); TcpSocket:bind(port [,
   address]); SslSocket:ignore_ssl_errors([codes]); SslSocket.server_name,
   .discarded_plaintext, .truncated (the peer closed TCP without
   close_notify: what was read may be cut short);
   SslConfiguration.new([storage_size]), .ca_count, .session_cache_size,
   .client_session_reuse (boolean, default true: see
   sslsocket_config_set_client_sessions), .idle_release_ms (default 10000,
   0 never: sslsocket_config_set_idle_release);
   SslCertificate.public_key_bits, .public_key_digest (SPKI SHA-256, for
   add_pinned_public_key), .is_ca, .version, .signature_algorithm;
   SslKey.length, .error_string.

   >>errors
   ========
   Programming mistakes (wrong types, bad arguments, calls in a state where
   they can never work) raise Lua errors naming the function.  Network and
   TLS failures never raise: methods return nil/false plus the message and
   the error code, and the socket's error / error_string / error_handler /
   ssl_errors_handler report them.
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>

#ifndef SSLSOCKET_LUA_NO_IMPLEMENTATION
#define SSLSOCKET_STATIC
#define SSLSOCKET_IMPLEMENTATION
#define LSS_HAVE_DECODERS 1
#else
#define LSS_HAVE_DECODERS 0
#endif
#include "sslsocket.h"

#if LUA_VERSION_NUM < 504
#error "lua_sslsocket.c needs Lua 5.4"
#endif

/* ==== >>names: metatables and registry keys ============================ */

#define LSS_TCPSOCKET "sslsocket.TcpSocket"
#define LSS_SSLSOCKET "sslsocket.SslSocket"
#define LSS_TCPSERVER "sslsocket.TcpServer"
#define LSS_CONFIG    "sslsocket.SslConfiguration"
#define LSS_CERT      "sslsocket.SslCertificate"
#define LSS_KEY       "sslsocket.SslKey"
#define LSS_STORAGE   "sslsocket.storage" /* a configuration's storage (__gc wipes) */

#define LSS_REG_ACTIVE  "sslsocket.active"   /* ref table: one entry per active socket */
#define LSS_REG_ASYNC   "sslsocket.async"    /* queued *_async callbacks */
#define LSS_REG_LOOP    "sslsocket.loop"     /* lss_loop userdata */
#define LSS_REG_MODULE  "sslsocket.module"   /* the net table (error_handler) */
#define LSS_REG_DEFCFG  "sslsocket.default"  /* the shared default configuration */
#define LSS_REG_NAMES   "sslsocket.names"    /* member name -> class, for hints */

#define LSS_CFG_STORAGE_DEFAULT ((lua_Integer)64 * 1024)
#define LSS_CFG_STORAGE_MAX     ((size_t)256 * 1024 * 1024)
#define LSS_MAX_PENDING_DEFAULT 30

enum { LSS_TCP = 1, LSS_SSL = 2, LSS_SERVER = 3 };

/* A TcpSocket, SslSocket or TcpServer (its listening socket). */
typedef struct lss_sock {
    int kind;        /* LSS_TCP, LSS_SSL, LSS_SERVER */
    int anchor;      /* ref in the active table, LUA_NOREF when inactive */
    int max_pending; /* servers: accepted connections kept for the script */
    int deferred;    /* SslSocket: uv.config_in_use holds the one C still uses */
    const sslsocket_config *cfg; /* SslSocket: the assigned one (uv.configuration) */
    sslsocket s;
} lss_sock;

/* An SslConfiguration.  Its user value holds the storage userdata and the
   record of every change, replayed when the storage is rebuilt. */
typedef struct lss_config {
    size_t storage_size;
    int cert_applied; /* a certificate chain + key is loaded */
    sslsocket_config c;
} lss_config;

/* An SslCertificate: the summary, and the DER when known (a peer
   certificate has only the summary: sslsocket.h does not keep its DER). */
typedef struct lss_cert {
    sslsocket_cert_info info;
    int null;
    size_t der_len;
    unsigned char der[];
} lss_cert;

/* An SslKey: encoded bytes as given, then a small arena for the decoded
   key (it proves the key loads; the configuration loads it again). */
typedef struct lss_key {
    int null, algorithm, type, bits;
    size_t enc_len, arena_len;
#if LSS_HAVE_DECODERS
    sslsocket__key key;
    sslsocket__arena arena;
#endif
    char error[SSLSOCKET_ERROR_STRING_SIZE];
    unsigned char data[];
} lss_key;

/* Loop state, one per lua_State (in the registry). */
typedef struct lss_loop {
    int in_round;
    int stop;
    size_t cap;       /* sockets the scratch userdata (user value 1) holds */
} lss_loop;

/* One active socket during a round: where its descriptors are in the
   pollfd array, and its timeout when the round began. */
typedef struct lss_slot {
    lss_sock *ls;
    int anchor;       /* its key in the active table */
    int first, nfd;
    int timeout;      /* sslsocket_timeout_ms(), -1 none */
} lss_slot;

static const char *const lss_versions[] = { "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3", NULL };
static const unsigned lss_version_values[] = { SSLSOCKET_TLS10, SSLSOCKET_TLS11,
                                               SSLSOCKET_TLS12, SSLSOCKET_TLS13 };
/* The C configuration's default range (sslsocket_config_init) */
#define LSS_VMIN SSLSOCKET_TLS12
#define LSS_VMAX SSLSOCKET_TLS13

/* ==== >>helpers ========================================================= */

static lss_sock *
lss_tosock(lua_State *L, int i)
{
    lss_sock *ls = (lss_sock *)luaL_testudata(L, i, LSS_SSLSOCKET);
    if (ls == NULL)
        ls = (lss_sock *)luaL_testudata(L, i, LSS_TCPSOCKET);
    return ls;
}

/* Any stream socket (TcpSocket or SslSocket). */
static lss_sock *
lss_checksock(lua_State *L, int i)
{
    lss_sock *ls = lss_tosock(L, i);
    if (ls == NULL)
        luaL_typeerror(L, i, "TcpSocket or SslSocket");
    return ls;
}

#define lss_checkssl(L, i)    ((lss_sock *)luaL_checkudata(L, i, LSS_SSLSOCKET))
#define lss_checkserver(L, i) ((lss_sock *)luaL_checkudata(L, i, LSS_TCPSERVER))
#define lss_checkcfg(L, i)    ((lss_config *)luaL_checkudata(L, i, LSS_CONFIG))
#define lss_checkcert(L, i)   ((lss_cert *)luaL_checkudata(L, i, LSS_CERT))
#define lss_checkkey(L, i)    ((lss_key *)luaL_checkudata(L, i, LSS_KEY))

/* Reject surplus arguments (luaposix checknargs). */
static void
lss_checknargs(lua_State *L, int max)
{
    if (lua_gettop(L) > max)
        luaL_argerror(L, max + 1, "unexpected argument");
}

/* A non-negative size argument; `dflt` (-1: none) when absent. */
/* The value (index 3) assigned to property `prop`, as an integer. */
static lua_Integer
lss_prop_integer(lua_State *L, const char *prop)
{
    int ok;
    lua_Integer v = lua_tointegerx(L, 3, &ok);
    if (!ok)
        luaL_error(L, "%s must be an integer (got %s)", prop, luaL_typename(L, 3));
    return v;
}

static lua_Integer
lss_optsize(lua_State *L, int i, lua_Integer dflt)
{
    lua_Integer n;
    if (lua_isnoneornil(L, i))
        return dflt;
    n = luaL_checkinteger(L, i);
    luaL_argcheck(L, n >= 0, i, "size must be non-negative");
    return n;
}

static unsigned
lss_checkport(lua_State *L, int i, lua_Integer lo)
{
    lua_Integer p = luaL_checkinteger(L, i);
    if (p < lo || p > 65535)
        luaL_argerror(L, i, lua_pushfstring(L, "port %I out of range (%I..65535)", p, lo));
    return (unsigned)p;
}

/* Network/TLS failure: nil, message, code (never raises). */
static int
lss_pushfail(lua_State *L, const sslsocket *s)
{
    lua_pushnil(L);
    lua_pushstring(L, sslsocket_error_string(s));
    lua_pushinteger(L, sslsocket_error(s));
    return 3;
}

/* A -1 from the library: a misuse (SSLSOCKET_ERR_OPERATION, e.g. the wrong
   state) raises; anything else is a runtime failure returned as
   false, message, code. */
static int
lss_failure(lua_State *L, const sslsocket *s)
{
    if (sslsocket_error(s) == SSLSOCKET_ERR_OPERATION)
        return luaL_error(L, "%s", sslsocket_error_string(s));
    lua_pushboolean(L, 0);
    lua_pushstring(L, sslsocket_error_string(s));
    lua_pushinteger(L, sslsocket_error(s));
    return 3;
}

static void
lss_pushstr_or_nil(lua_State *L, const char *s)
{
    if (s != NULL && *s)
        lua_pushstring(L, s);
    else
        lua_pushnil(L);
}

static void
lss_pushhex(lua_State *L, const unsigned char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    luaL_Buffer b;
    char *o = luaL_buffinitsize(L, &b, 2 * n);
    size_t i;
    for (i = 0; i < n; i++) {
        o[2 * i] = hex[p[i] >> 4];
        o[2 * i + 1] = hex[p[i] & 15];
    }
    luaL_pushresultsize(&b, 2 * n);
}

/* Push a table of byte values. */
static void
lss_pushbytes(lua_State *L, const char *p, size_t n)
{
    size_t i;
    lua_createtable(L, (int)(n < 0x7fffffff ? n : 0), 0);
    for (i = 0; i < n; i++) {
        lua_pushinteger(L, (unsigned char)p[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

/* Turn the string on top into a table of bytes. */
static int
lss_string_to_bytes(lua_State *L)
{
    size_t n;
    const char *p;
    if (lua_type(L, -1) != LUA_TSTRING)
        return lua_gettop(L) > 0;
    p = lua_tolstring(L, -1, &n);
    lss_pushbytes(L, p, n);
    lua_remove(L, -2);
    return 1;
}

/* Push the user-value table of the userdata at `i`. */
static int
lss_uv(lua_State *L, int i)
{
    lua_getiuservalue(L, i, 1);
    return lua_absindex(L, -1);
}

/* Zero `n` bytes with a store the compiler cannot drop. */
static void *(*const volatile lss_memset)(void *, int, size_t) = memset;

static void
lss_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        lss_memset(p, 0, n);
}

static int64_t
lss_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ==== >>anchor: keeping active sockets alive ============================ */

/* Active: connected or on the way there or listening, or events still to
   deliver (for an UNCONNECTED socket sslsocket_timeout_ms() is 0 exactly
   when events are queued). */
static int
lss_is_active(const lss_sock *ls)
{
    int st = sslsocket_state(&ls->s);
    if (st != SSLSOCKET_UNCONNECTED && st != SSLSOCKET_BOUND)
        return 1;
    return sslsocket_timeout_ms(&ls->s) == 0;
}

/* A TLS connection is up: the engine points into the configuration it
   started with and its storage (the rule of sslsocket_set_config). */
static int
lss_tls_up(const sslsocket *s)
{
    int st = sslsocket_state(s);
    return (st == SSLSOCKET_CONNECTED || st == SSLSOCKET_CLOSING)
           && sslsocket_mode(s) != SSLSOCKET_UNENCRYPTED;
}

/* Follow what the C socket of the SslSocket at `idx` uses: once that is
   the assigned configuration (the connection that deferred it ended),
   release uv.config_in_use; and, when `capture` or on that switch, with
   no TLS connection up, keep the storage the configuration in use has
   now.  A handshake started after that capture uses that storage, so a
   later rebuild frees nothing it points into; a connection that is up
   keeps the storage it started with. */
static void
lss_sync_config(lua_State *L, int idx, lss_sock *ls, int capture)
{
    int uv, switched = ls->deferred && sslsocket_get_config(&ls->s) == ls->cfg;
    capture = (capture || switched) && ls->kind == LSS_SSL && !lss_tls_up(&ls->s);
    if (!switched && !capture)
        return;
    uv = lss_uv(L, idx);
    if (switched) {
        ls->deferred = 0;
        lua_pushnil(L);
        lua_setfield(L, uv, "config_in_use");
    }
    if (capture) {
        lua_getfield(L, uv, ls->deferred ? "config_in_use" : "configuration");
        lua_getiuservalue(L, -1, 1);
        lua_getfield(L, -1, "storage");
        lua_setfield(L, uv, "storage");
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
}

/* Before every call that can start a handshake. */
static void
lss_capture_storage(lua_State *L, int idx, lss_sock *ls)
{
    lss_sync_config(L, idx, ls, 1);
}

/* Take or release the one anchor of the socket at `idx`; follow a
   configuration switch. */
static void
lss_sync_anchor(lua_State *L, int idx, lss_sock *ls)
{
    int active;
    idx = lua_absindex(L, idx);
    lss_sync_config(L, idx, ls, 0);
    active = lss_is_active(ls);
    if (active == (ls->anchor != LUA_NOREF))
        return;
    lua_getfield(L, LUA_REGISTRYINDEX, LSS_REG_ACTIVE);
    if (active) {
        lua_pushvalue(L, idx);
        ls->anchor = luaL_ref(L, -2);
    } else {
        luaL_unref(L, -1, ls->anchor);
        ls->anchor = LUA_NOREF;
    }
    lua_pop(L, 1);
}

/* Abort, drop queued events, release the anchor (idempotent). */
static void
lss_sock_release(lua_State *L, int idx, lss_sock *ls)
{
    unsigned type;
    int value;
    sslsocket_abort(&ls->s);
    sslsocket_poll(&ls->s);
    while (sslsocket_next_event(&ls->s, &type, &value))
        ;
    lss_sync_anchor(L, idx, ls);
}

/* ==== >>pem: certificate decoding (PEM -> DER, base64 out) ============== */

typedef struct lss_pem_out {
    unsigned char *buf;
    size_t len, cap;
    int overflow;
} lss_pem_out;

static void
lss_pem_sink(void *ctx, const void *src, size_t len)
{
    lss_pem_out *o = (lss_pem_out *)ctx;
    if (o->len + len > o->cap) {
        o->overflow = 1;
        return;
    }
    memcpy(o->buf + o->len, src, len);
    o->len += len;
}

/* Next PEM object of data[*pos..]: 1 (name, DER in out), 0 at the end, -1
   when malformed.  `out->cap` >= len is always enough (base64 shrinks). */
static int
lss_pem_next(br_pem_decoder_context *pc, const char *data, size_t len, size_t *pos,
             int *final_nl, lss_pem_out *out, char *name, size_t namelen)
{
    int in_obj = 0;
    for (;;) {
        if (*pos < len) {
            *pos += br_pem_decoder_push(pc, data + *pos, len - *pos);
        } else if (!*final_nl) {
            *final_nl = 1; /* the decoder needs the last line terminated */
            br_pem_decoder_push(pc, "\n", 1);
        } else {
            return 0;
        }
        switch (br_pem_decoder_event(pc)) {
        case BR_PEM_BEGIN_OBJ:
            snprintf(name, namelen, "%s", br_pem_decoder_name(pc));
            out->len = 0;
            out->overflow = 0;
            br_pem_decoder_setdest(pc, lss_pem_sink, out);
            in_obj = 1;
            break;
        case BR_PEM_END_OBJ:
            if (in_obj)
                return out->overflow ? -1 : 1;
            break;
        case BR_PEM_ERROR:
            return -1;
        default:
            break;
        }
    }
}

static int
lss_pem_is_cert(const char *name)
{
    return strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0
           || strcmp(name, "TRUSTED CERTIFICATE") == 0;
}

static int
lss_looks_pem(const char *p, size_t n)
{
    size_t i;
    for (i = 0; i + 10 <= n; i++)
        if (p[i] == '-' && memcmp(p + i, "-----BEGIN", 10) == 0)
            return 1;
    return 0;
}

/* Append the PEM text of a DER certificate to `b`. */
static void
lss_add_pem(luaL_Buffer *b, const unsigned char *der, size_t len)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, col = 0;
    luaL_addstring(b, "-----BEGIN CERTIFICATE-----\n");
    for (i = 0; i < len; i += 3) {
        unsigned v = (unsigned)der[i] << 16;
        char q[4];
        if (i + 1 < len)
            v |= (unsigned)der[i + 1] << 8;
        if (i + 2 < len)
            v |= der[i + 2];
        q[0] = b64[(v >> 18) & 63];
        q[1] = b64[(v >> 12) & 63];
        q[2] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        q[3] = i + 2 < len ? b64[v & 63] : '=';
        luaL_addlstring(b, q, 4);
        if ((col += 4) == 64) {
            luaL_addchar(b, '\n');
            col = 0;
        }
    }
    if (col)
        luaL_addchar(b, '\n');
    luaL_addstring(b, "-----END CERTIFICATE-----\n");
}

/* ==== >>certificate: net.SslCertificate ================================= */

/* New SslCertificate from DER (len 0: an empty shell for a summary). */
static lss_cert *
lss_cert_push(lua_State *L, const unsigned char *der, size_t len)
{
    lss_cert *c = (lss_cert *)lua_newuserdatauv(L, sizeof(lss_cert) + len, 0);
    memset(c, 0, sizeof *c);
    c->null = 1;
    c->der_len = len;
    if (len)
        memcpy(c->der, der, len);
    luaL_setmetatable(L, LSS_CERT);
#if LSS_HAVE_DECODERS
    if (len && sslsocket__cert_parse(der, len, &c->info) == 0)
        c->null = 0;
#endif
    return c;
}

/* Push a list of SslCertificates for every certificate in PEM `data`. */
static int
lss_push_pem_certs(lua_State *L, const char *data, size_t len)
{
    br_pem_decoder_context pc;
    lss_pem_out out;
    size_t pos = 0;
    int fin = 0, r, n = 0;
    char name[128];
    out.buf = (unsigned char *)lua_newuserdatauv(L, len + 1, 0);
    out.cap = len + 1;
    lua_newtable(L);
    br_pem_decoder_init(&pc);
    while ((r = lss_pem_next(&pc, data, len, &pos, &fin, &out, name, sizeof name)) == 1) {
        if (lss_pem_is_cert(name)) {
            lss_cert_push(L, out.buf, out.len);
            lua_rawseti(L, -2, ++n);
        }
    }
    lua_remove(L, -2);
    return r;
}

/***
Parse a certificate.
@function SslCertificate.new
@tparam string encoded PEM (first CERTIFICATE block) or DER
@tparam[opt=PEM] int format net.SslEncoding.PEM or DER
@treturn SslCertificate (check `null`)
*/
static int
cert_new(lua_State *L)
{
    size_t len;
    const char *data = luaL_checklstring(L, 1, &len);
    lua_Integer fmt = luaL_optinteger(L, 2, 0);
    lss_checknargs(L, 2);
    luaL_argcheck(L, fmt == 0 || fmt == 1, 2, "format must be SslEncoding.PEM or DER");
#if !LSS_HAVE_DECODERS
    (void)data;
    return luaL_error(L, "SslCertificate.new: not available (compiled with "
                         "SSLSOCKET_LUA_NO_IMPLEMENTATION)");
#else
    if (fmt == 1) {
        lss_cert_push(L, (const unsigned char *)data, len);
        return 1;
    }
    lss_push_pem_certs(L, data, len);
    if (lua_rawgeti(L, -1, 1) == LUA_TNIL) {
        lua_pop(L, 2);
        lss_cert_push(L, NULL, 0); /* null certificate */
    }
    return 1;
#endif
}

static int cert_null(lua_State *L) { lua_pushboolean(L, lss_checkcert(L, 1)->null); return 1; }

#define LSS_CERT_STR(fn, field)                                   \
    static int fn(lua_State *L)                                   \
    {                                                             \
        lss_cert *c = lss_checkcert(L, 1);                        \
        if (c->null)                                              \
            lua_pushnil(L);                                       \
        else                                                      \
            lua_pushstring(L, c->info.field);                     \
        return 1;                                                 \
    }
LSS_CERT_STR(cert_subject, subject)
LSS_CERT_STR(cert_issuer, issuer)
LSS_CERT_STR(cert_common_name, common_name)
LSS_CERT_STR(cert_serial, serial)
LSS_CERT_STR(cert_sig_alg, sig_alg)

/* "DNS:a, IP:1.2.3.4" -> { "DNS:a", "IP:1.2.3.4" } */
static int
cert_sans(lua_State *L)
{
    lss_cert *c = lss_checkcert(L, 1);
    const char *p = c->info.subject_alt_names;
    int n = 0;
    lua_newtable(L);
    while (*p) {
        const char *e = strstr(p, ", ");
        size_t len = e ? (size_t)(e - p) : strlen(p);
        lua_pushlstring(L, p, len);
        lua_rawseti(L, -2, ++n);
        p += len;
        if (*p)
            p += 2;
    }
    return 1;
}

#define LSS_CERT_INT(fn, expr)                                    \
    static int fn(lua_State *L)                                   \
    {                                                             \
        lss_cert *c = lss_checkcert(L, 1);                        \
        if (c->null)                                              \
            lua_pushnil(L);                                       \
        else                                                      \
            lua_pushinteger(L, (lua_Integer)(expr));              \
        return 1;                                                 \
    }
LSS_CERT_INT(cert_not_before, c->info.not_before)
LSS_CERT_INT(cert_not_after, c->info.not_after)
LSS_CERT_INT(cert_key_bits, c->info.key_bits)
LSS_CERT_INT(cert_version, c->info.version)
/* SslKey algorithm numbers: RSA 0, EC 2; -1 unknown */
LSS_CERT_INT(cert_key_alg, c->info.key_type == BR_KEYTYPE_RSA ? 0
                           : c->info.key_type == BR_KEYTYPE_EC ? 2 : -1)

static int
cert_is_ca(lua_State *L)
{
    lua_pushboolean(L, lss_checkcert(L, 1)->info.is_ca);
    return 1;
}

static int
cert_digest(lua_State *L)
{
    lss_cert *c = lss_checkcert(L, 1);
    if (c->null)
        lua_pushnil(L);
    else
        lss_pushhex(L, c->info.sha256, sizeof c->info.sha256);
    return 1;
}

static int
cert_key_digest(lua_State *L)
{
    lss_cert *c = lss_checkcert(L, 1);
    if (c->null)
        lua_pushnil(L);
    else
        lss_pushhex(L, c->info.spki_sha256, sizeof c->info.spki_sha256);
    return 1;
}

/***
Encode the certificate.
@function SslCertificate:to_pem / SslCertificate:to_der
@treturn string, or nil and a message when the DER is not known (null or
peer certificates whose DER the socket did not keep)
*/
static int
cert_to_pem(lua_State *L)
{
    lss_cert *c = lss_checkcert(L, 1);
    luaL_Buffer b;
    lss_checknargs(L, 1);
    if (c->null || c->der_len == 0) {
        lua_pushnil(L);
        lua_pushstring(L, c->null ? "null certificate" : "the DER of this peer certificate "
                                                         "was not kept");
        return 2;
    }
    luaL_buffinit(L, &b);
    lss_add_pem(&b, c->der, c->der_len);
    luaL_pushresult(&b);
    return 1;
}

static int
cert_to_der(lua_State *L)
{
    lss_cert *c = lss_checkcert(L, 1);
    lss_checknargs(L, 1);
    if (c->null || c->der_len == 0)
        return cert_to_pem(L);
    lua_pushlstring(L, (const char *)c->der, c->der_len);
    return 1;
}

static int
cert_eq(lua_State *L)
{
    lss_cert *a = lss_checkcert(L, 1), *b = lss_checkcert(L, 2);
    lua_pushboolean(L, !a->null && !b->null
                           && memcmp(a->info.sha256, b->info.sha256, 32) == 0);
    return 1;
}

static int
cert_tostring(lua_State *L)
{
    lss_cert *c = lss_checkcert(L, 1);
    if (c->null)
        lua_pushstring(L, "SslCertificate (null)");
    else
        lua_pushfstring(L, "SslCertificate (%s)", c->info.subject);
    return 1;
}

/* ==== >>key: net.SslKey ================================================= */

#if LSS_HAVE_DECODERS
/* Decode the key in k->data with the library's loader; DSA raises. */
static void
lss_key_load(lua_State *L, lss_key *k, int fmt)
{
    const char *data = (const char *)k->data;
    if (k->type == 0) {
        snprintf(k->error, sizeof k->error, "SslKey.new: public keys cannot be loaded "
                 "(only private keys are supported)");
        return;
    }
    if (fmt == 1 && lss_looks_pem(data, k->enc_len)) {
        snprintf(k->error, sizeof k->error, "SslKey.new: the data is PEM, not DER");
        return;
    }
    sslsocket__arena_init(&k->arena, k->data + k->enc_len, k->arena_len);
    if (sslsocket__load_key_mem(&k->arena, data, k->enc_len, "SslKey.new", &k->key, k->error,
                                sizeof k->error) < 0) {
        if (strstr(k->error, "DSA") != NULL || k->algorithm == 1)
            luaL_error(L, "%s", k->error);
        return;
    }
    if (k->algorithm == 1)
        luaL_error(L, "SslKey.new: DSA keys are not supported by BearSSL (use an RSA or EC key)");
    if ((k->algorithm == 0) != (k->key.type == BR_KEYTYPE_RSA)) {
        snprintf(k->error, sizeof k->error, "SslKey.new: the key is %s, not %s",
                 k->key.type == BR_KEYTYPE_RSA ? "RSA" : "EC", k->algorithm == 0 ? "RSA" : "EC");
        return;
    }
    k->null = 0;
    k->bits = k->key.type == BR_KEYTYPE_RSA ? (int)k->key.rsa.n_bitlen
              : k->key.ec.curve == BR_EC_secp384r1 ? 384
              : k->key.ec.curve == BR_EC_secp521r1 ? 521
              : k->key.ec.curve == BR_EC_curve25519 ? 255 : 256;
}
#endif

/***
Load a private key (RSA or EC; PEM or DER; PKCS#1, SEC1, PKCS#8).
@function SslKey.new
@tparam string encoded
@tparam int algorithm SslKey.RSA or SslKey.EC (DSA raises: BearSSL has no DSA)
@tparam[opt=PEM] int format
@tparam[opt=PRIVATE] int type only PRIVATE keys load
@treturn SslKey (check `null` and `error_string`)
*/
static int
key_new(lua_State *L)
{
    size_t len;
    const char *data = luaL_checklstring(L, 1, &len);
    lua_Integer alg = luaL_checkinteger(L, 2);
    lua_Integer fmt = luaL_optinteger(L, 3, 0), type = luaL_optinteger(L, 4, 1);
    lss_key *k;
    lss_checknargs(L, 4);
    luaL_argcheck(L, alg >= 0 && alg <= 2, 2, "algorithm must be SslKey.RSA, DSA or EC");
    luaL_argcheck(L, fmt == 0 || fmt == 1, 3, "format must be SslEncoding.PEM or DER");
    luaL_argcheck(L, type == 0 || type == 1, 4, "type must be SslKey.PUBLIC or PRIVATE");
#if !LSS_HAVE_DECODERS
    (void)data;
    (void)k;
    return luaL_error(L, "SslKey.new: not available (compiled with "
                         "SSLSOCKET_LUA_NO_IMPLEMENTATION)");
#else
    k = (lss_key *)lua_newuserdatauv(L, sizeof(lss_key) + 2 * len + 64, 0);
    memset(k, 0, sizeof *k);
    k->null = 1;
    k->algorithm = (int)alg;
    k->type = (int)type;
    k->enc_len = len;
    k->arena_len = len + 64; /* decoded components never exceed the encoding */
    memcpy(k->data, data, len);
    luaL_setmetatable(L, LSS_KEY);
    lss_key_load(L, k, (int)fmt);
    return 1;
#endif
}

static int key_null(lua_State *L) { lua_pushboolean(L, lss_checkkey(L, 1)->null); return 1; }
static int key_type(lua_State *L) { lua_pushinteger(L, lss_checkkey(L, 1)->type); return 1; }
static int key_alg(lua_State *L) { lua_pushinteger(L, lss_checkkey(L, 1)->algorithm); return 1; }
static int key_bits(lua_State *L) { lua_pushinteger(L, lss_checkkey(L, 1)->bits); return 1; }

static int
key_error_string(lua_State *L)
{
    lua_pushstring(L, lss_checkkey(L, 1)->error);
    return 1;
}

/* Wipe the key material. */
static int
key_gc(lua_State *L)
{
    lss_key *k = lss_checkkey(L, 1);
    lss_wipe(k->data, k->enc_len + k->arena_len);
    k->enc_len = k->arena_len = 0;
    k->null = 1;
    return 0;
}

static int
key_tostring(lua_State *L)
{
    lss_key *k = lss_checkkey(L, 1);
    static const char *const algs[] = { "RSA", "DSA", "EC" };
    if (k->null)
        lua_pushstring(L, "SslKey (null)");
    else
        lua_pushfstring(L, "SslKey (%s %d bits)", algs[k->algorithm], k->bits);
    return 1;
}

/* ==== >>config: net.SslConfiguration ==================================== */

/* The storage is full (a bigger one and a reload may help).  sslsocket.h
   reports it as SSL_INVALID_USERDATA with this sentence; SOCKET_RESOURCE
   once the proposed distinct code is in. */
static int
lss_cfg_oom(const lss_config *cfg)
{
    return sslsocket_config_error(&cfg->c) == SSLSOCKET_ERR_SOCKET_RESOURCE
           || strstr(sslsocket_config_error_string(&cfg->c), "out of space") != NULL;
}

/* Concatenated PEM of the chain list at `chain` (on top of the stack). */
static void
lss_push_chain_pem(lua_State *L, int chain)
{
    luaL_Buffer b;
    lua_Integer i, n = luaL_len(L, chain);
    luaL_buffinit(L, &b);
    for (i = 1; i <= n; i++) {
        lss_cert *c;
        lua_rawgeti(L, chain, i);
        c = (lss_cert *)lua_touserdata(L, -1);
        lua_pop(L, 1);
        lss_add_pem(&b, c->der, c->der_len);
    }
    luaL_pushresult(&b);
}

/* Load the recorded chain + key, if both are set: 0, or -1 (cfg error). */
static int
lss_cfg_apply_cert(lua_State *L, int uv, lss_config *cfg)
{
    int r = 0;
    lss_key *k;
    lua_getfield(L, uv, "chain");
    lua_getfield(L, uv, "key");
    if (!lua_isnil(L, -2) && !lua_isnil(L, -1)) {
        size_t n;
        const char *pem;
        k = (lss_key *)lua_touserdata(L, -1);
        lss_push_chain_pem(L, lua_absindex(L, -2));
        pem = lua_tolstring(L, -1, &n);
        r = sslsocket_config_set_certificate_mem(&cfg->c, pem, n, k->data, k->enc_len);
        cfg->cert_applied = r == 0;
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    return r;
}

/* Add one recorded CA source ({k=kind, v=value} at `e`): anchors added or -1. */
static int
lss_cfg_apply_ca(lua_State *L, int e, lss_config *cfg)
{
    const char *kind, *v;
    size_t before = sslsocket_config_ca_count(&cfg->c), n = 0;
    int r;
    lua_getfield(L, e, "k");
    lua_getfield(L, e, "v");
    kind = lua_tostring(L, -2);
    if (strcmp(kind, "cert") == 0) {
        lss_cert *c = (lss_cert *)lua_touserdata(L, -1);
        r = sslsocket_config_add_ca_mem(&cfg->c, c->der, c->der_len);
    } else if (strcmp(kind, "system") == 0) {
        r = sslsocket_config_use_system_ca(&cfg->c);
    } else {
        v = lua_tolstring(L, -1, &n);
        r = strcmp(kind, "pem") == 0 ? sslsocket_config_add_ca_mem(&cfg->c, v, n)
            : strcmp(kind, "dir") == 0 ? sslsocket_config_add_ca_dir(&cfg->c, v)
            : sslsocket_config_add_ca_file(&cfg->c, v);
    }
    lua_pop(L, 2);
    return r < 0 ? -1 : (int)(sslsocket_config_ca_count(&cfg->c) - before);
}

/* Load one recorded CRL source (a string: PEM/DER, or a path): the number
   of CRLs added, or -1. */
static int
lss_cfg_apply_crl(lua_State *L, int e, lss_config *cfg)
{
    size_t n;
    const char *v = lua_tolstring(L, e, &n);
    if (lss_looks_pem(v, n) || (unsigned char)v[0] == 0x30)
        return sslsocket_config_add_crl_mem(&cfg->c, v, n);
    return sslsocket_config_add_crl_file(&cfg->c, v);
}

/* Everything recorded in the user value, in a fixed order. */
static int
lss_intfield(lua_State *L, int t, const char *name, int dflt)
{
    lua_Integer v;
    lua_getfield(L, t, name);
    v = luaL_optinteger(L, -1, dflt);
    lua_pop(L, 1);
    return (int)v;
}

static int
lss_cfg_replay(lua_State *L, int uv, lss_config *cfg)
{
    lua_Integer i, n;
    unsigned vmin, vmax;
    int r = 0;
    cfg->cert_applied = 0;
    lua_getfield(L, uv, "ca");
    n = luaL_len(L, -1);
    for (i = 1; i <= n && r >= 0; i++) {
        lua_rawgeti(L, -1, i);
        r = lss_cfg_apply_ca(L, lua_absindex(L, -1), cfg);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_getfield(L, uv, "crls");
    n = luaL_len(L, -1);
    for (i = 1; i <= n && r >= 0; i++) {
        lua_rawgeti(L, -1, i);
        r = lss_cfg_apply_crl(L, lua_absindex(L, -1), cfg);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (r < 0 || lss_cfg_apply_cert(L, uv, cfg) < 0)
        return -1;
    r = 0;
    sslsocket_config_set_client_sessions(&cfg->c, !lss_intfield(L, uv, "no_client_sessions", 0));
    sslsocket_config_set_idle_release(&cfg->c, lss_intfield(L, uv, "idle_release_ms", 10000));
    if (sslsocket_config_set_peer_verify_mode(&cfg->c, lss_intfield(L, uv, "verify_mode", 3)) < 0
        || sslsocket_config_set_peer_verify_depth(&cfg->c,
                                                  lss_intfield(L, uv, "verify_depth", 8)) < 0)
        return -1;
    vmin = (unsigned)lss_intfield(L, uv, "vmin", 0);
    vmax = (unsigned)lss_intfield(L, uv, "vmax", 0);
    /* (only a range that was set: the default one serves TLS 1.2) */
    if ((vmin || vmax) && sslsocket_config_set_versions(&cfg->c, vmin ? vmin : LSS_VMIN,
                                                        vmax ? vmax : LSS_VMAX) < 0)
        return -1;
    lua_getfield(L, uv, "ciphers_str");
    if (lua_isstring(L, -1))
        r = sslsocket_config_set_ciphers(&cfg->c, lua_tostring(L, -1));
    lua_pop(L, 1);
    lua_getfield(L, uv, "alpn_str");
    if (r == 0 && lua_isstring(L, -1))
        r = sslsocket_config_set_alpn(&cfg->c, lua_tostring(L, -1));
    lua_pop(L, 1);
    lua_getfield(L, uv, "pins");
    n = luaL_len(L, -1);
    for (i = 1; i <= n && r == 0; i++) {
        lua_rawgeti(L, -1, i);
        r = sslsocket_config_add_pin(&cfg->c, lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_getfield(L, uv, "session_cache");
    if (r == 0 && !lua_isnil(L, -1))
        r = sslsocket_config_set_session_cache(&cfg->c, lua_touserdata(L, -1),
                                               lua_rawlen(L, -1));
    lua_pop(L, 1);
    return r < 0 ? -1 : 0;
}

/* Push new storage for a configuration (certificates, anchors, keys): it
   is wiped when collected, that is when neither its configuration nor a
   socket whose handshake uses it references it any more. */
static void *
lss_storage_push(lua_State *L, size_t size)
{
    void *p = lua_newuserdatauv(L, size, 0);
    luaL_setmetatable(L, LSS_STORAGE);
    return p;
}

static int
storage_gc(lua_State *L)
{
    lss_wipe(lua_touserdata(L, 1), lua_rawlen(L, 1));
    return 0;
}

/* Reload the whole configuration into fresh storage of at least `size`
   bytes, doubling while a load runs out of space.  The storage in use is
   always the one referenced by the user value (even after a failure, so
   the config never points into collected memory); sockets whose TLS
   connection is up keep their older storage alive (see
   lss_capture_storage). */
static int
lss_cfg_rebuild(lua_State *L, int idx, size_t size)
{
    lss_config *cfg = (lss_config *)lua_touserdata(L, idx);
    int uv = lss_uv(L, idx), r;
    for (;;) {
        sslsocket_config_init(&cfg->c, lss_storage_push(L, size), size);
        lua_setfield(L, uv, "storage");
        cfg->storage_size = size;
        r = lss_cfg_replay(L, uv, cfg);
        if (r == 0 || !lss_cfg_oom(cfg) || size >= LSS_CFG_STORAGE_MAX)
            break;
        size *= 2;
    }
    lua_pop(L, 1);
    return r;
}

/* After the record in the user value changed (old value of `field` at
   `old`): rebuild; when that fails, restore the field, rebuild again and
   raise with the reason. */
static void
lss_cfg_commit(lua_State *L, int idx, const char *field, int old, const char *what)
{
    lss_config *cfg = (lss_config *)lua_touserdata(L, idx);
    int uv;
    if (lss_cfg_rebuild(L, idx, cfg->storage_size) == 0)
        return;
    lua_pushstring(L, sslsocket_config_error_string(&cfg->c));
    uv = lss_uv(L, idx);
    lua_pushvalue(L, old);
    lua_setfield(L, uv, field);
    lua_pop(L, 1);
    lss_cfg_rebuild(L, idx, cfg->storage_size);
    luaL_error(L, "%s: %s", what, lua_tostring(L, -1));
}

static lss_config *
lss_cfg_push_new(lua_State *L, size_t size)
{
    lss_config *cfg = (lss_config *)lua_newuserdatauv(L, sizeof(lss_config), 1);
    sslsocket_config_init(&cfg->c, NULL, 0);
    cfg->storage_size = size;
    cfg->cert_applied = 0;
    luaL_setmetatable(L, LSS_CONFIG);
    lua_createtable(L, 0, 8);
    lua_newtable(L);
    lua_setfield(L, -2, "ca");
    lua_newtable(L);
    lua_setfield(L, -2, "pins");
    lua_newtable(L);
    lua_setfield(L, -2, "crls");
    lss_storage_push(L, size);
    lua_setfield(L, -2, "storage");
    lua_setiuservalue(L, -2, 1);
    lua_getiuservalue(L, -1, 1);
    lua_getfield(L, -1, "storage");
    sslsocket_config_init(&cfg->c, lua_touserdata(L, -1), size);
    lua_pop(L, 2);
    return cfg;
}

/***
Create a configuration with secure defaults (AUTO_VERIFY_PEER, TLS 1.2,
ECDHE + AEAD) and no trust anchors.
@function SslConfiguration.new
@tparam[opt=65536] int storage_size initial certificate storage; it grows
*/
static int
cfg_new(lua_State *L)
{
    lua_Integer size = lss_optsize(L, 1, LSS_CFG_STORAGE_DEFAULT);
    lss_checknargs(L, 1);
    luaL_argcheck(L, size >= 1024 && (size_t)size <= LSS_CFG_STORAGE_MAX, 1,
                  "storage size must be 1024 .. 256 MiB");
    lss_cfg_push_new(L, (size_t)size);
    return 1;
}

/* Push the shared default configuration (system CA store, loaded once). */
static int lss_cfg_add_ca(lua_State *L, int idx, const char *kind, int v);

static lss_config *
lss_default_config(lua_State *L)
{
    lss_config *cfg;
    int top;
    if (lua_getfield(L, LUA_REGISTRYINDEX, LSS_REG_DEFCFG) == LUA_TUSERDATA)
        return (lss_config *)lua_touserdata(L, -1);
    lua_pop(L, 1);
    cfg = lss_cfg_push_new(L, (size_t)128 * 1024);
    top = lua_gettop(L);
    lss_cfg_add_ca(L, top, "system", 0); /* no store found: no anchors */
    lua_settop(L, top);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, LSS_REG_DEFCFG);
    return cfg;
}

/* Record a CA source {k=kind, v=value at `v` (0: none)} and load it:
   pushes the number of anchors added, or nil, message, code. */
static int
lss_cfg_add_ca(lua_State *L, int idx, const char *kind, int v)
{
    lss_config *cfg = (lss_config *)lua_touserdata(L, idx);
    size_t before = sslsocket_config_ca_count(&cfg->c);
    int uv = lss_uv(L, idx), ca, e, n, code;
    lua_Integer pos;
    lua_getfield(L, uv, "ca");
    ca = lua_absindex(L, -1);
    pos = luaL_len(L, ca) + 1;
    lua_createtable(L, 0, 2);
    e = lua_absindex(L, -1);
    lua_pushstring(L, kind);
    lua_setfield(L, e, "k");
    if (v) {
        lua_pushvalue(L, v);
        lua_setfield(L, e, "v");
    }
    lua_pushvalue(L, e);
    lua_rawseti(L, ca, pos);
    n = lss_cfg_apply_ca(L, e, cfg);
    if (n < 0 && lss_cfg_oom(cfg) && lss_cfg_rebuild(L, idx, cfg->storage_size * 2) == 0)
        n = (int)(sslsocket_config_ca_count(&cfg->c) - before); /* reloaded with it */
    if (n >= 0) {
        lua_pushinteger(L, n);
        return 1;
    }
    /* failed: forget the source; reload if part of it was loaded */
    code = sslsocket_config_error(&cfg->c);
    lua_pushnil(L);
    lua_pushstring(L, sslsocket_config_error_string(&cfg->c));
    lua_pushinteger(L, code);
    lua_pushnil(L);
    lua_rawseti(L, ca, pos);
    if (sslsocket_config_ca_count(&cfg->c) != before)
        lss_cfg_rebuild(L, idx, cfg->storage_size);
    return 3;
}

/***
Trust one CA certificate.
@function SslConfiguration:add_ca_certificate
@tparam SslCertificate cert
@treturn int anchors added, or nil, message, code
*/
static int
cfg_add_ca_certificate(lua_State *L)
{
    lss_cert *c;
    lss_checkcfg(L, 1);
    c = lss_checkcert(L, 2);
    lss_checknargs(L, 2);
    luaL_argcheck(L, !c->null && c->der_len > 0, 2, "certificate is null or has no DER");
    return lss_cfg_add_ca(L, 1, "cert", 2);
}

/***
Trust the certificates of a PEM string, a file or a directory of PEM files.
@function SslConfiguration:add_ca_certificates
@tparam string pem_or_path
@treturn int anchors added, or nil, message, code
*/
static int
cfg_add_ca_certificates(lua_State *L)
{
    size_t len;
    const char *s;
    struct stat st;
    lss_checkcfg(L, 1);
    s = luaL_checklstring(L, 2, &len);
    lss_checknargs(L, 2);
    luaL_argcheck(L, len > 0, 2, "empty PEM string or path");
    if (lss_looks_pem(s, len))
        return lss_cfg_add_ca(L, 1, "pem", 2);
    if (stat(s, &st) == 0 && S_ISDIR(st.st_mode))
        return lss_cfg_add_ca(L, 1, "dir", 2);
    return lss_cfg_add_ca(L, 1, "file", 2);
}

/***
Trust the system store (SSL_CERT_FILE, SSL_CERT_DIR, then the usual bundles).
@function SslConfiguration:use_system_ca_certificates
@treturn int anchors added, or nil, message, code
*/
static int
cfg_use_system(lua_State *L)
{
    lss_checkcfg(L, 1);
    lss_checknargs(L, 1);
    return lss_cfg_add_ca(L, 1, "system", 0);
}

/***
Pin a peer public key (64 hex digits of the SHA-256 of its SPKI, or
"sha256/BASE64").
@function SslConfiguration:add_pinned_public_key
@treturn true (a malformed pin raises)
*/
static int
cfg_add_pin(lua_State *L)
{
    lss_config *cfg = lss_checkcfg(L, 1);
    const char *pin = luaL_checkstring(L, 2);
    int uv;
    lss_checknargs(L, 2);
    if (sslsocket_config_add_pin(&cfg->c, pin) < 0)
        return luaL_argerror(L, 2, sslsocket_config_error_string(&cfg->c));
    uv = lss_uv(L, 1);
    lua_getfield(L, uv, "pins");
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, luaL_len(L, -2) + 1);
    lua_pushboolean(L, 1);
    return 1;
}

/***
Add certificate revocation lists: a PEM string of "X509 CRL" blocks, one
DER CRL, or a file.  A peer certificate that a CRL of its issuer lists
fails with problem 24 (revoked).
@function SslConfiguration:add_crl
@tparam string crl_or_path
@treturn int CRLs added, or nil, message, code
*/
static int
cfg_add_crl(lua_State *L)
{
    lss_config *cfg = lss_checkcfg(L, 1);
    size_t len, before = cfg->c.n_crls;
    int uv, r, code;
    lua_Integer pos;
    luaL_checklstring(L, 2, &len);
    lss_checknargs(L, 2);
    luaL_argcheck(L, len > 0, 2, "empty CRL string or path");
    uv = lss_uv(L, 1);
    lua_getfield(L, uv, "crls");
    pos = luaL_len(L, -1) + 1;
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, pos);
    r = lss_cfg_apply_crl(L, 2, cfg);
    if (r < 0 && lss_cfg_oom(cfg) && lss_cfg_rebuild(L, 1, cfg->storage_size * 2) == 0)
        r = (int)(cfg->c.n_crls - before); /* reloaded with it */
    if (r >= 0) {
        lua_pushinteger(L, r);
        return 1;
    }
    /* refused: forget it (a CRL loads whole or not at all) */
    code = sslsocket_config_error(&cfg->c);
    lua_pushnil(L);
    lua_pushstring(L, sslsocket_config_error_string(&cfg->c));
    lua_pushinteger(L, code);
    lua_getfield(L, uv, "crls");
    lua_pushnil(L);
    lua_rawseti(L, -2, pos);
    lua_pop(L, 1);
    return 3;
}

static int
lss_cfg_getfield(lua_State *L, const char *field)
{
    lss_checkcfg(L, 1);
    lua_getiuservalue(L, 1, 1);
    lua_getfield(L, -1, field);
    return 1;
}

static int
cfg_get_verify_mode(lua_State *L)
{
    lss_cfg_getfield(L, "verify_mode");
    if (lua_isnil(L, -1))
        lua_pushinteger(L, SSLSOCKET_AUTO_VERIFY_PEER);
    return 1;
}

static int
cfg_set_verify_mode(lua_State *L)
{
    lss_config *cfg = lss_checkcfg(L, 1);
    lua_Integer m = lss_prop_integer(L, "SslConfiguration.peer_verify_mode");
    if (m < 0 || m > 3 || sslsocket_config_set_peer_verify_mode(&cfg->c, (int)m) < 0)
        return luaL_error(L, "SslConfiguration.peer_verify_mode: %I is not a verify mode "
                             "(VERIFY_NONE 0 .. AUTO_VERIFY_PEER 3)", m);
    lua_getiuservalue(L, 1, 1);
    lua_pushinteger(L, m);
    lua_setfield(L, -2, "verify_mode");
    return 0;
}

static int
cfg_get_verify_depth(lua_State *L)
{
    lss_cfg_getfield(L, "verify_depth");
    if (lua_isnil(L, -1))
        lua_pushinteger(L, 8);
    return 1;
}

static int
cfg_set_verify_depth(lua_State *L)
{
    lss_config *cfg = lss_checkcfg(L, 1);
    lua_Integer d = lss_prop_integer(L, "SslConfiguration.peer_verify_depth");
    if (d < 1 || d > 16 || sslsocket_config_set_peer_verify_depth(&cfg->c, (int)d) < 0)
        return luaL_error(L, "SslConfiguration.peer_verify_depth: %I out of range (1..16)", d);
    lua_getiuservalue(L, 1, 1);
    lua_pushinteger(L, d);
    lua_setfield(L, -2, "verify_depth");
    return 0;
}

/* Client session reuse (on by default): new client sockets of this
   configuration resume the last verified session for the same peer. */
static int
cfg_get_client_sessions(lua_State *L)
{
    lss_cfg_getfield(L, "no_client_sessions");
    lua_pushboolean(L, lua_tointeger(L, -1) == 0);
    return 1;
}

static int
cfg_set_client_sessions(lua_State *L)
{
    lss_config *cfg = lss_checkcfg(L, 1);
    int on;
    if (!lua_isboolean(L, 3))
        return luaL_error(L, "SslConfiguration.client_session_reuse must be a boolean (got %s)",
                          luaL_typename(L, 3));
    on = lua_toboolean(L, 3);
    sslsocket_config_set_client_sessions(&cfg->c, on);
    lua_getiuservalue(L, 1, 1);
    lua_pushinteger(L, !on);
    lua_setfield(L, -2, "no_client_sessions");
    return 0;
}

/* Idle buffer release after this many milliseconds (0 never). */
static int
cfg_get_idle_release(lua_State *L)
{
    lss_cfg_getfield(L, "idle_release_ms");
    if (lua_isnil(L, -1))
        lua_pushinteger(L, 10000);
    return 1;
}

static int
cfg_set_idle_release(lua_State *L)
{
    lss_config *cfg = lss_checkcfg(L, 1);
    lua_Integer ms = lss_prop_integer(L, "SslConfiguration.idle_release_ms");
    if (ms < 0 || ms > 0x7fffffff || sslsocket_config_set_idle_release(&cfg->c, (int)ms) < 0)
        return luaL_error(L, "SslConfiguration.idle_release_ms: %I out of range (0..2147483647)",
                          ms);
    lua_getiuservalue(L, 1, 1);
    lua_pushinteger(L, ms);
    lua_setfield(L, -2, "idle_release_ms");
    return 0;
}

static int
lss_cfg_get_version(lua_State *L, const char *field, unsigned dflt)
{
    lua_Integer v;
    int i;
    lss_cfg_getfield(L, field);
    v = luaL_optinteger(L, -1, dflt);
    for (i = 0; lss_versions[i]; i++)
        if (lss_version_values[i] == (unsigned)v)
            lua_pushstring(L, lss_versions[i]);
    return 1;
}

static int cfg_get_vmin(lua_State *L) { return lss_cfg_get_version(L, "vmin", LSS_VMIN); }
static int cfg_get_vmax(lua_State *L) { return lss_cfg_get_version(L, "vmax", LSS_VMAX); }

static int
lss_cfg_set_version(lua_State *L, int is_min)
{
    lss_config *cfg = lss_checkcfg(L, 1);
    const char *name = lua_tostring(L, 3);
    unsigned v = 0, lo, hi;
    int uv, i;
    for (i = 0; name && lua_type(L, 3) == LUA_TSTRING && lss_versions[i]; i++)
        if (strcmp(name, lss_versions[i]) == 0)
            v = lss_version_values[i];
    if (v == 0)
        return luaL_error(L, "SslConfiguration.protocol_%s: '%s' is not one of TLSv1.0, "
                             "TLSv1.1, TLSv1.2, TLSv1.3 (BearSSL has no SSL 3)",
                          is_min ? "min" : "max", luaL_tolstring(L, 3, NULL));
    uv = lss_uv(L, 1);
    lua_getfield(L, uv, "vmin");
    lua_getfield(L, uv, "vmax");
    lo = is_min ? v : (unsigned)luaL_optinteger(L, -2, LSS_VMIN);
    hi = is_min ? (unsigned)luaL_optinteger(L, -1, LSS_VMAX) : v;
    if (lo > hi) /* moving one end past the other moves both, as Qt does */
        lo = hi = v;
    if (sslsocket_config_set_versions(&cfg->c, lo, hi) < 0)
        return luaL_error(L, "SslConfiguration.protocol_%s: %s", is_min ? "min" : "max",
                          sslsocket_config_error_string(&cfg->c));
    lua_pushinteger(L, lo);
    lua_setfield(L, uv, "vmin");
    lua_pushinteger(L, hi);
    lua_setfield(L, uv, "vmax");
    return 0;
}

static int cfg_set_vmin(lua_State *L) { return lss_cfg_set_version(L, 1); }
static int cfg_set_vmax(lua_State *L) { return lss_cfg_set_version(L, 0); }

/* Join a list of strings at index 3 with `sep`; nil -> NULL (default). */
static const char *
lss_join_list(lua_State *L, const char *prop, const char *sep)
{
    luaL_Buffer b;
    lua_Integer i, n;
    if (lua_isnil(L, 3))
        return NULL;
    if (!lua_istable(L, 3))
        luaL_error(L, "%s must be a list of strings or nil (got %s)", prop, luaL_typename(L, 3));
    n = luaL_len(L, 3);
    luaL_buffinit(L, &b);
    for (i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addstring(&b, sep); /* before the push: buffer use stays balanced */
        if (lua_rawgeti(L, 3, i) != LUA_TSTRING)
            luaL_error(L, "%s[%I] must be a string (got %s)", prop, i, luaL_typename(L, -1));
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    return lua_tostring(L, -1);
}

static int cfg_get_ciphers(lua_State *L) { return lss_cfg_getfield(L, "ciphers"); }
static int cfg_get_alpn(lua_State *L) { return lss_cfg_getfield(L, "alpn"); }

static int
cfg_set_ciphers(lua_State *L)
{
    lss_config *cfg = lss_checkcfg(L, 1);
    const char *s = lss_join_list(L, "SslConfiguration.ciphers", ":");
    int uv;
    if (sslsocket_config_set_ciphers(&cfg->c, s ? s : "DEFAULT") < 0)
        return luaL_error(L, "SslConfiguration.ciphers: %s",
                          sslsocket_config_error_string(&cfg->c));
    uv = lss_uv(L, 1);
    lua_pushvalue(L, 3);
    lua_setfield(L, uv, "ciphers");
    if (s)
        lua_pushstring(L, s);
    else
        lua_pushnil(L);
    lua_setfield(L, uv, "ciphers_str");
    return 0;
}

static int
cfg_set_alpn(lua_State *L)
{
    lss_config *cfg = lss_checkcfg(L, 1);
    const char *s = lss_join_list(L, "SslConfiguration.alpn_protocols", ",");
    int uv;
    if (sslsocket_config_set_alpn(&cfg->c, s) < 0)
        return luaL_error(L, "SslConfiguration.alpn_protocols: %s",
                          sslsocket_config_error_string(&cfg->c));
    uv = lss_uv(L, 1);
    lua_pushvalue(L, 3);
    lua_setfield(L, uv, "alpn");
    if (s)
        lua_pushstring(L, s);
    else
        lua_pushnil(L);
    lua_setfield(L, uv, "alpn_str");
    return 0;
}

static int
cfg_get_chain(lua_State *L)
{
    lua_Integer i, n;
    lss_cfg_getfield(L, "chain");
    if (lua_isnil(L, -1))
        return 1;
    n = luaL_len(L, -1);
    lua_createtable(L, (int)n, 0); /* a copy: the record is not the script's */
    for (i = 1; i <= n; i++) {
        lua_rawgeti(L, -2, i);
        lua_rawseti(L, -2, i);
    }
    return 1;
}

static int
cfg_get_local_cert(lua_State *L)
{
    lss_cfg_getfield(L, "chain");
    if (!lua_isnil(L, -1))
        lua_rawgeti(L, -1, 1);
    return 1;
}

static int cfg_get_key(lua_State *L) { return lss_cfg_getfield(L, "key"); }

/* Record a new chain list (at the top) and reload. */
static void
lss_cfg_set_chain(lua_State *L, const char *what)
{
    int uv = lss_uv(L, 1), chain = lua_absindex(L, -2);
    lua_getfield(L, uv, "chain");
    lua_pushvalue(L, chain);
    lua_setfield(L, uv, "chain");
    lss_cfg_commit(L, 1, "chain", lua_absindex(L, -1), what);
}

static void
lss_check_local_cert(lua_State *L, int i, const char *what)
{
    lss_cert *c = (lss_cert *)luaL_testudata(L, i, LSS_CERT);
    if (c == NULL) {
        luaL_error(L, "%s must be an SslCertificate (got %s)", what, luaL_typename(L, i));
        return; /* not reached: luaL_error does not return */
    }
    if (c->null || c->der_len == 0)
        luaL_error(L, "%s: the certificate is null or has no DER", what);
}

static int
cfg_set_local_cert(lua_State *L)
{
    lss_checkcfg(L, 1);
    if (lua_isnil(L, 3)) {
        lua_pushnil(L);
    } else {
        lss_check_local_cert(L, 3, "SslConfiguration.local_certificate");
        lua_createtable(L, 1, 0);
        lua_pushvalue(L, 3);
        lua_rawseti(L, -2, 1);
    }
    lss_cfg_set_chain(L, "SslConfiguration.local_certificate");
    return 0;
}

static int
cfg_set_chain(lua_State *L)
{
    lua_Integer i, n;
    lss_checkcfg(L, 1);
    if (lua_isnil(L, 3)) {
        lua_pushnil(L);
    } else {
        luaL_argexpected(L, lua_istable(L, 3), 3, "list of SslCertificate");
        n = luaL_len(L, 3);
        if (n < 1 || n > SSLSOCKET_MAX_CHAIN)
            return luaL_error(L, "SslConfiguration.local_certificate_chain: 1..%d "
                                 "certificates expected, got %I", SSLSOCKET_MAX_CHAIN, n);
        lua_createtable(L, (int)n, 0);
        for (i = 1; i <= n; i++) {
            lua_rawgeti(L, 3, i);
            lss_check_local_cert(L, -1, "SslConfiguration.local_certificate_chain[i]");
            lua_rawseti(L, -2, i);
        }
    }
    lss_cfg_set_chain(L, "SslConfiguration.local_certificate_chain");
    return 0;
}

static int
cfg_set_key(lua_State *L)
{
    int uv;
    lss_checkcfg(L, 1);
    if (!lua_isnil(L, 3)) {
        lss_key *k = (lss_key *)luaL_testudata(L, 3, LSS_KEY);
        if (k == NULL)
            return luaL_error(L, "SslConfiguration.private_key must be an SslKey (got %s)",
                              luaL_typename(L, 3));
        if (k->null)
            return luaL_error(L, "SslConfiguration.private_key: the key is null (%s)",
                              k->error);
    }
    uv = lss_uv(L, 1);
    lua_getfield(L, uv, "key");
    lua_pushvalue(L, 3);
    lua_setfield(L, uv, "key");
    lss_cfg_commit(L, 1, "key", lua_absindex(L, -1), "SslConfiguration.private_key");
    return 0;
}

/* Append the certificates of CA source entry `e` ({k=, v=}) to the list
   at `out` (k counts); directories and the system store add nothing. */
static void
lss_source_certs(lua_State *L, int e, int out, int *k)
{
    const char *kind;
    lua_Integer j, m;
    lua_getfield(L, e, "k");
    kind = lua_tostring(L, -1);
    lua_getfield(L, e, "v");
    if (strcmp(kind, "cert") == 0) {
        lua_rawseti(L, out, ++*k);
    } else if (strcmp(kind, "pem") == 0 || strcmp(kind, "file") == 0) {
        size_t len;
        const char *data;
        if (strcmp(kind, "file") == 0) { /* read it again: what is trusted now */
            int fd = open(lua_tostring(L, -1), O_RDONLY | O_CLOEXEC);
            luaL_Buffer b;
            ssize_t r;
            luaL_buffinit(L, &b);
            /* NOLINTNEXTLINE(bugprone-sizeof-expression): Lua's own LUAL_BUFFERSIZE */
            while (fd >= 0 && (r = read(fd, luaL_prepbuffer(&b), LUAL_BUFFERSIZE)) > 0)
                luaL_addsize(&b, (size_t)r);
            if (fd >= 0)
                close(fd);
            luaL_pushresult(&b);
            lua_replace(L, -2);
        }
        data = lua_tolstring(L, -1, &len);
        if (lss_looks_pem(data, len)) {
            lss_push_pem_certs(L, data, len);
        } else {
            lua_createtable(L, 1, 0);
            lss_cert_push(L, (const unsigned char *)data, len);
            lua_rawseti(L, -2, 1);
        }
        m = luaL_len(L, -1);
        for (j = 1; j <= m; j++) {
            lua_rawgeti(L, -1, j);
            lua_rawseti(L, out, ++*k);
        }
        lua_pop(L, 2);
    } else {
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* The explicitly given CA certificates (objects, PEM strings and files);
   directories and the system store are counted by ca_count only. */
static int
cfg_get_cas(lua_State *L)
{
    lua_Integer i, n;
    int ca, out, k = 0;
    lss_cfg_getfield(L, "ca");
    ca = lua_gettop(L);
    n = luaL_len(L, ca);
    lua_newtable(L);
    out = lua_gettop(L);
    for (i = 1; i <= n; i++) {
        lua_rawgeti(L, ca, i);
        lss_source_certs(L, lua_gettop(L), out, &k);
        lua_pop(L, 1);
    }
    return 1;
}

static int
cfg_set_cas(lua_State *L)
{
    lua_Integer i, n;
    int uv;
    lss_checkcfg(L, 1);
    luaL_argexpected(L, lua_istable(L, 3), 3, "list of SslCertificate");
    n = luaL_len(L, 3);
    lua_createtable(L, (int)n, 0);
    for (i = 1; i <= n; i++) {
        lua_rawgeti(L, 3, i);
        lss_check_local_cert(L, -1, "SslConfiguration.ca_certificates[i]");
        lua_createtable(L, 0, 2);
        lua_pushliteral(L, "cert");
        lua_setfield(L, -2, "k");
        lua_insert(L, -2);
        lua_setfield(L, -2, "v");
        lua_rawseti(L, -2, i);
    }
    uv = lss_uv(L, 1);
    lua_getfield(L, uv, "ca");
    lua_pushvalue(L, -3);
    lua_setfield(L, uv, "ca");
    lss_cfg_commit(L, 1, "ca", lua_absindex(L, -1), "SslConfiguration.ca_certificates");
    return 0;
}

static int
cfg_ca_count(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)sslsocket_config_ca_count(&lss_checkcfg(L, 1)->c));
    return 1;
}

static int
cfg_get_session_cache(lua_State *L)
{
    lss_cfg_getfield(L, "session_cache");
    lua_pushinteger(L, lua_isnil(L, -1) ? 0 : (lua_Integer)lua_rawlen(L, -1));
    return 1;
}

/* Server session cache in a userdata of `size` bytes (0 disables). */
static int
cfg_set_session_cache(lua_State *L)
{
    lss_config *cfg = lss_checkcfg(L, 1);
    lua_Integer size = lss_prop_integer(L, "SslConfiguration.session_cache_size");
    void *mem = NULL;
    int uv;
    if (size < 0 || size > (64 << 20))
        return luaL_error(L, "SslConfiguration.session_cache_size: %I out of range "
                             "(0 .. 64 MiB)", size);
    uv = lss_uv(L, 1);
    if (size > 0)
        mem = lua_newuserdatauv(L, (size_t)size, 0);
    else
        lua_pushnil(L);
    if (sslsocket_config_set_session_cache(&cfg->c, mem, (size_t)size) < 0)
        return luaL_error(L, "SslConfiguration.session_cache_size: %s",
                          sslsocket_config_error_string(&cfg->c));
    lua_setfield(L, uv, "session_cache");
    return 0;
}

/* No private key or session stays in freed memory.  A configuration is
   only collected when no socket uses it (>>lifetime). */
static int
cfg_gc(lua_State *L)
{
    sslsocket_config_wipe(&lss_checkcfg(L, 1)->c);
    return 0;
}

static int
cfg_tostring(lua_State *L)
{
    lss_config *cfg = lss_checkcfg(L, 1);
    lua_pushfstring(L, "SslConfiguration (%d CA certificates%s)",
                    (int)sslsocket_config_ca_count(&cfg->c),
                    cfg->cert_applied ? ", local certificate" : "");
    return 1;
}

/* ==== >>socket: creation and the Stream interface ======================= */

/* Attach the configuration at `cfg_idx` (0: the default one).  During a
   TLS connection the C socket defers it: the configuration in use until
   then stays in uv.config_in_use (see lss_sync_config). */
static void
lss_set_socket_config(lua_State *L, int idx, int cfg_idx)
{
    lss_sock *ls = (lss_sock *)lua_touserdata(L, idx);
    int uv;
    idx = lua_absindex(L, idx);
    uv = lss_uv(L, idx);
    if (cfg_idx)
        lua_pushvalue(L, cfg_idx);
    else
        lss_default_config(L);
    ls->cfg = &((lss_config *)lua_touserdata(L, -1))->c;
    if (!ls->deferred) {
        lua_getfield(L, uv, "configuration");
        lua_setfield(L, uv, "config_in_use");
        ls->deferred = 1;
    }
    lua_setfield(L, uv, "configuration");
    lua_pop(L, 1);
    sslsocket_set_config(&ls->s, ls->cfg);
    lss_capture_storage(L, idx, ls); /* not deferred: releases it at once */
}

/* Push a new socket userdata of `kind`; SslSockets get a configuration. */
static lss_sock *
lss_sock_push(lua_State *L, int kind, int cfg_idx)
{
    lss_sock *ls;
    if (cfg_idx)
        cfg_idx = lua_absindex(L, cfg_idx);
    ls = (lss_sock *)lua_newuserdatauv(L, sizeof(lss_sock), 1);
    ls->kind = kind;
    ls->anchor = LUA_NOREF;
    ls->max_pending = LSS_MAX_PENDING_DEFAULT;
    ls->deferred = 0;
    ls->cfg = NULL;
    sslsocket_init(&ls->s, NULL); /* "closed" before anything can raise */
    luaL_setmetatable(L, kind == LSS_SSL ? LSS_SSLSOCKET
                         : kind == LSS_TCP ? LSS_TCPSOCKET : LSS_TCPSERVER);
    lua_newtable(L);
    lua_setiuservalue(L, -2, 1);
    if (kind == LSS_SSL)
        lss_set_socket_config(L, -1, cfg_idx);
    return ls;
}

/***
Create an unconnected socket.
@function TcpSocket.new / SslSocket.new([configuration])
@treturn TcpSocket|SslSocket
*/
static int
tcp_new(lua_State *L)
{
    lss_checknargs(L, 0);
    lss_sock_push(L, LSS_TCP, 0);
    return 1;
}

static int
ssl_new(lua_State *L)
{
    lss_checknargs(L, 1);
    if (!lua_isnoneornil(L, 1))
        lss_checkcfg(L, 1);
    lss_sock_push(L, LSS_SSL, lua_isnoneornil(L, 1) ? 0 : 1);
    return 1;
}

/* Read up to `max` bytes (-1: all) into a string on the stack: 1 or fail. */
static int
lss_read(lua_State *L, lss_sock *ls, lua_Integer max, int peek)
{
    size_t avail = sslsocket_bytes_available(&ls->s), want, got = 0;
    luaL_Buffer b;
    char *p;
    if (max == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    want = (max < 0 || (size_t)max > avail) ? avail : (size_t)max;
    p = luaL_buffinitsize(L, &b, want ? want : 1);
    if (peek) {
        ptrdiff_t n = sslsocket_peek(&ls->s, p, want ? want : 1);
        if (n < 0)
            return lss_pushfail(L, &ls->s);
        got = (size_t)n;
    } else {
        do {
            ptrdiff_t n = sslsocket_read(&ls->s, p + got, want > got ? want - got : 1);
            if (n < 0)
                return lss_pushfail(L, &ls->s);
            if (n == 0)
                break;
            got += (size_t)n;
        } while (got < want);
    }
    luaL_pushresultsize(&b, got);
    return 1;
}

/***
Read decrypted (or plain) bytes that have arrived.
@function Stream:read_string([max]) / read_bytes([max]) / read_all_string() /
read_all_bytes() / peek_string(max) / peek_bytes(max)
@treturn string|table ("" / {} when nothing is buffered), or nil, message, code
*/
static int
stream_read_string(lua_State *L)
{
    lss_sock *ls = lss_checksock(L, 1);
    lua_Integer max = lss_optsize(L, 2, -1);
    lss_checknargs(L, 2);
    return lss_read(L, ls, max, 0);
}

static int
stream_read_bytes(lua_State *L)
{
    int n = stream_read_string(L);
    return n == 1 ? lss_string_to_bytes(L) : n;
}

static int
stream_read_all_string(lua_State *L)
{
    lss_sock *ls = lss_checksock(L, 1);
    lss_checknargs(L, 1);
    return lss_read(L, ls, -1, 0);
}

static int
stream_read_all_bytes(lua_State *L)
{
    int n = stream_read_all_string(L);
    return n == 1 ? lss_string_to_bytes(L) : n;
}

static int
stream_peek_string(lua_State *L)
{
    lss_sock *ls = lss_checksock(L, 1);
    lua_Integer max = lss_optsize(L, 2, -2);
    lss_checknargs(L, 2);
    luaL_argcheck(L, max != -2, 2, "number expected, got no value");
    return lss_read(L, ls, max, 1);
}

static int
stream_peek_bytes(lua_State *L)
{
    int n = stream_peek_string(L);
    return n == 1 ? lss_string_to_bytes(L) : n;
}

/***
Read one line including its "\n" (sslsocket_read_line): a complete line of
at most `max` bytes, or the first `max` bytes of a longer one, or "" when no
complete line is buffered yet.
@function Stream:read_line_string([max]) / read_line_bytes([max])
@tparam[opt=SSLSOCKET_READ_BUFFER_SIZE] int max
*/
static int
stream_read_line_string(lua_State *L)
{
    lss_sock *ls = lss_checksock(L, 1);
    lua_Integer max = lss_optsize(L, 2, SSLSOCKET_READ_BUFFER_SIZE);
    size_t avail = sslsocket_bytes_available(&ls->s), cap;
    luaL_Buffer b;
    ptrdiff_t n;
    char *p;
    lss_checknargs(L, 2);
    luaL_argcheck(L, max >= 1, 2, "line length must be at least 1");
    if (avail > 0 && !sslsocket_can_read_line(&ls->s) && avail < (size_t)max) {
        lua_pushliteral(L, "");
        return 1;
    }
    /* the buffer only needs what is there: a line cannot be longer */
    cap = ((size_t)max < avail ? (size_t)max : avail) + 1;
    p = luaL_buffinitsize(L, &b, cap < 2 ? 2 : cap);
    n = sslsocket_read_line(&ls->s, p, cap < 2 ? 2 : cap);
    if (n < 0)
        return lss_pushfail(L, &ls->s);
    luaL_pushresultsize(&b, (size_t)n);
    return 1;
}

static int
stream_read_line_bytes(lua_State *L)
{
    int n = stream_read_line_string(L);
    return n == 1 ? lss_string_to_bytes(L) : n;
}

static int
lss_write(lua_State *L, lss_sock *ls, const char *p, size_t len)
{
    ptrdiff_t n;
    if (len == 0) {
        lua_pushinteger(L, 0);
        return 1;
    }
    n = sslsocket_write(&ls->s, p, len);
    if (n < 0)
        return lss_pushfail(L, &ls->s);
    lss_sync_anchor(L, 1, ls);
    lua_pushinteger(L, n);
    return 1;
}

/***
Queue bytes for sending (encrypted once the handshake is done; before it
they wait, in order).
@function Stream:write_string(s) / write_bytes(t)
@treturn int bytes accepted (may be fewer when the queue is full), or nil,
message, code
*/
static int
stream_write_string(lua_State *L)
{
    lss_sock *ls = lss_checksock(L, 1);
    size_t len;
    const char *p = luaL_checklstring(L, 2, &len);
    lss_checknargs(L, 2);
    return lss_write(L, ls, p, len);
}

static int
stream_write_bytes(lua_State *L)
{
    lss_sock *ls = lss_checksock(L, 1);
    lua_Integer i, n;
    luaL_Buffer b;
    luaL_checktype(L, 2, LUA_TTABLE);
    lss_checknargs(L, 2);
    n = luaL_len(L, 2);
    luaL_buffinit(L, &b);
    for (i = 1; i <= n; i++) {
        int ok;
        lua_Integer v;
        lua_rawgeti(L, 2, i);
        v = lua_tointegerx(L, -1, &ok);
        lua_pop(L, 1);
        if (!ok || v < 0 || v > 255)
            return luaL_argerror(L, 2, lua_pushfstring(L, "element %I is not a byte (0..255)",
                                                       i));
        luaL_addchar(&b, (char)v);
    }
    luaL_pushresult(&b);
    {
        size_t len;
        const char *p = lua_tolstring(L, -1, &len);
        return lss_write(L, ls, p, len);
    }
}

/***
Stream positioning: sockets are sequential.
@function Stream:seek(pos) / reset()
@treturn false
*/
static int
stream_seek(lua_State *L)
{
    lss_checksock(L, 1);
    luaL_checkinteger(L, 2);
    lss_checknargs(L, 2);
    lua_pushboolean(L, 0);
    return 1;
}

static int
stream_reset(lua_State *L)
{
    lss_checksock(L, 1);
    lss_checknargs(L, 1);
    lua_pushboolean(L, 0);
    return 1;
}

/***
Sockets are opened by connect() / connect_encrypted() / accept.
@function Stream:open(mode)
@treturn false, message
*/
static int
stream_open(lua_State *L)
{
    lss_checksock(L, 1);
    luaL_checkinteger(L, 2);
    lss_checknargs(L, 2);
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "sockets are opened by connect() or connect_encrypted()");
    return 2;
}

/***
Close the stream: an orderly disconnect (queued data is flushed first).
about_to_close_handler runs when the close begins.
@function Stream:close()
*/
static int
stream_close(lua_State *L)
{
    lss_sock *ls = lss_checksock(L, 1);
    lss_checknargs(L, 1);
    sslsocket_disconnect(&ls->s);
    lss_sync_anchor(L, 1, ls);
    return 0;
}

#define LSS_SOCK_GET(fn, push)                                    \
    static int fn(lua_State *L)                                   \
    {                                                             \
        lss_sock *ls = lss_checksock(L, 1);                       \
        const sslsocket *s = &ls->s;                              \
        (void)s;                                                  \
        push;                                                     \
        return 1;                                                 \
    }
LSS_SOCK_GET(stream_is_open, lua_pushboolean(L, sslsocket_open_mode(s) != SSLSOCKET_NOT_OPEN))
LSS_SOCK_GET(stream_open_mode, lua_pushinteger(L, sslsocket_open_mode(s)))
LSS_SOCK_GET(stream_bytes_available, lua_pushinteger(L, (lua_Integer)sslsocket_bytes_available(s)))
LSS_SOCK_GET(stream_bytes_to_write, lua_pushinteger(L, (lua_Integer)sslsocket_bytes_to_write(s)))
LSS_SOCK_GET(stream_at_end, lua_pushboolean(L, sslsocket_at_end(s)))
LSS_SOCK_GET(stream_pos, lua_pushinteger(L, 0))
LSS_SOCK_GET(stream_readable, lua_pushboolean(L, (sslsocket_open_mode(s) & SSLSOCKET_READ_ONLY) != 0))
LSS_SOCK_GET(stream_writeable, lua_pushboolean(L, (sslsocket_open_mode(s) & SSLSOCKET_WRITE_ONLY) != 0))
LSS_SOCK_GET(stream_sequential, lua_pushboolean(L, 1))
LSS_SOCK_GET(stream_can_read_line, lua_pushboolean(L, sslsocket_can_read_line(s)))
LSS_SOCK_GET(stream_error_string, lua_pushstring(L, sslsocket_error_string(s)))
LSS_SOCK_GET(tcp_state, lua_pushinteger(L, sslsocket_state(s)))
LSS_SOCK_GET(tcp_error, lua_pushinteger(L, sslsocket_error(s)))
LSS_SOCK_GET(tcp_valid, lua_pushboolean(L, sslsocket_fd(s) >= 0))
LSS_SOCK_GET(tcp_local_port, lua_pushinteger(L, sslsocket_local_port(s)))
LSS_SOCK_GET(tcp_remote_port, lua_pushinteger(L, sslsocket_remote_port(s)))

static int
tcp_local_address(lua_State *L)
{
    char buf[64];
    lss_pushstr_or_nil(L, sslsocket_local_address(&lss_checksock(L, 1)->s, buf, sizeof buf));
    return 1;
}

static int
tcp_remote_address(lua_State *L)
{
    char buf[64];
    lss_pushstr_or_nil(L, sslsocket_remote_address(&lss_checksock(L, 1)->s, buf, sizeof buf));
    return 1;
}

/* ==== >>tcpsocket: net.TcpSocket ========================================= */

static int
lss_connect(lua_State *L, int encrypted)
{
    lss_sock *ls = encrypted ? lss_checkssl(L, 1) : lss_checksock(L, 1);
    size_t hlen;
    const char *host = luaL_checklstring(L, 2, &hlen);
    unsigned port = lss_checkport(L, 3, 1);
    lua_Integer mode = luaL_optinteger(L, 4, SSLSOCKET_READ_WRITE);
    int r;
    lss_checknargs(L, 4);
    luaL_argcheck(L, hlen > 0, 2, "empty host name");
    luaL_argcheck(L, mode >= 1 && mode <= 15 && (mode & 3) != 0, 4,
                  "open mode must be READ_ONLY_MODE, WRITE_ONLY_MODE or READ_WRITE_MODE");
    lss_capture_storage(L, 1, ls);
    r = encrypted ? sslsocket_connect_encrypted(&ls->s, host, port, (int)mode)
                  : sslsocket_connect(&ls->s, host, port, (int)mode);
    if (r < 0)
        return luaL_error(L, "%s", sslsocket_error_string(&ls->s));
    lss_sync_anchor(L, 1, ls);
    return 0;
}

/***
Start a connection (state HOST_LOOKUP or CONNECTING); the outcome arrives
through the handlers.  Raises when the socket is not unconnected.
@function TcpSocket:connect(host, port[, open_mode=READ_WRITE_MODE])
*/
static int tcp_connect(lua_State *L) { return lss_connect(L, 0); }

/***
Orderly close (deferred until the connection is up) / immediate close.
@function TcpSocket:disconnect() / abort()
*/
static int
tcp_disconnect(lua_State *L)
{
    lss_sock *ls = lss_checksock(L, 1);
    lss_checknargs(L, 1);
    sslsocket_disconnect(&ls->s);
    lss_sync_anchor(L, 1, ls);
    return 0;
}

static int
tcp_abort(lua_State *L)
{
    lss_sock *ls = lss_checksock(L, 1);
    lss_checknargs(L, 1);
    sslsocket_abort(&ls->s);
    lss_sync_anchor(L, 1, ls);
    return 0;
}

/***
Bind outgoing connections to a local port (0: any) and address.
@function TcpSocket:bind(port[, address])
@treturn true, or false, message, code
*/
static int
tcp_bind(lua_State *L)
{
    lss_sock *ls = lss_checksock(L, 1);
    unsigned port = lss_checkport(L, 2, 0);
    const char *addr = luaL_optstring(L, 3, NULL);
    lss_checknargs(L, 3);
    if (sslsocket_bind(&ls->s, addr, port) < 0) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, sslsocket_error_string(&ls->s));
        lua_pushinteger(L, sslsocket_error(&ls->s));
        return 3;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int
sock_tostring(lua_State *L)
{
    lss_sock *ls = lss_checksock(L, 1);
    char addr[64];
    const char *cls = ls->kind == LSS_SSL ? "SslSocket" : "TcpSocket";
    sslsocket_remote_address(&ls->s, addr, sizeof addr);
    lua_pushfstring(L, "%s (%s%s%s%s port %d)", cls, sslsocket_state_name(sslsocket_state(&ls->s)),
                    sslsocket_is_encrypted(&ls->s) ? ", encrypted" : "", addr[0] ? ", " : "",
                    addr, (int)sslsocket_remote_port(&ls->s));
    return 1;
}

static int
sock_gc(lua_State *L)
{
    lss_sock_release(L, 1, lss_checksock(L, 1));
    return 0;
}

/* ==== >>sslsocket: net.SslSocket ========================================= */

/***
Connect and start the TLS handshake as soon as TCP is up.  Data written
before `encrypted_handler` runs is queued and sent encrypted after it.
@function SslSocket:connect_encrypted(host, port[, open_mode])
*/
static int ssl_connect_encrypted(lua_State *L) { return lss_connect(L, 1); }

static int
lss_start(lua_State *L, int server)
{
    lss_sock *ls = lss_checkssl(L, 1);
    int r;
    lss_checknargs(L, 1);
    lss_capture_storage(L, 1, ls);
    r = server ? sslsocket_start_server_encryption(&ls->s)
               : sslsocket_start_client_encryption(&ls->s);
    lss_sync_anchor(L, 1, ls);
    if (r < 0) { /* not connected / already encrypted: no effect (seed) */
        const char *why = sslsocket_last_refusal(&ls->s);
        int code = sslsocket_error(&ls->s);
        lua_pushboolean(L, 0);
        if (why[0]) { /* refused: error and error_string stay as they were */
            lua_pushstring(L, why);
            lua_pushinteger(L, SSLSOCKET_ERR_OPERATION);
        } else {
            lua_pushstring(L, sslsocket_error_string(&ls->s));
            lua_pushinteger(L, code);
        }
        return 3;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/***
STARTTLS: start the client (or server) handshake on a CONNECTED,
UNENCRYPTED socket.  Otherwise nothing changes.
@function SslSocket:start_client_encryption() / start_server_encryption()
@treturn true, or false, message, code
*/
static int ssl_start_client(lua_State *L) { return lss_start(L, 0); }
static int ssl_start_server(lua_State *L) { return lss_start(L, 1); }

/***
TLS 1.3: new write keys now (a KeyUpdate behind what is queued);
`ask_peer` asks the peer to update its own too.  Otherwise (not an
encrypted TLS 1.3 connection, or its output full) nothing changes.
@function SslSocket:update_keys([ask_peer])
@treturn true, or false, message, code
*/
static int
ssl_update_keys(lua_State *L)
{
    lss_sock *ls = lss_checkssl(L, 1);
    lss_checknargs(L, 2);
    if (sslsocket_update_keys(&ls->s, lua_toboolean(L, 2)) < 0) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, sslsocket_last_refusal(&ls->s));
        lua_pushinteger(L, SSLSOCKET_ERR_OPERATION);
        return 3;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/***
Ignore certificate problems for this socket (Qt's ignoreSslErrors): all of
them, or the codes listed (numbers or {code=} tables as in ssl_errors).
Call it inside ssl_errors_handler to let the connection proceed.
@function SslSocket:ignore_ssl_errors([errors])
*/
static int
ssl_ignore_errors(lua_State *L)
{
    lss_sock *ls = lss_checkssl(L, 1);
    unsigned mask = SSLSOCKET_SSLERR_ALL;
    lss_checknargs(L, 2);
    if (!lua_isnoneornil(L, 2)) {
        lua_Integer i, n;
        luaL_checktype(L, 2, LUA_TTABLE);
        n = luaL_len(L, 2);
        mask = 0;
        for (i = 1; i <= n; i++) {
            int ok;
            lua_Integer c;
            if (lua_rawgeti(L, 2, i) == LUA_TTABLE)
                lua_getfield(L, -1, "code");
            c = lua_tointegerx(L, -1, &ok);
            if (!ok || c < 1 || c > 31)
                return luaL_argerror(L, 2, lua_pushfstring(L, "element %I is not an SSL "
                                                           "error code", i));
            mask |= SSLSOCKET_SSLERR_MASK((unsigned)c);
            lua_settop(L, 2);
        }
    }
    sslsocket_ignore_ssl_errors(&ls->s, mask);
    return 0;
}

#define LSS_SSL_GET(fn, push)                                     \
    static int fn(lua_State *L)                                   \
    {                                                             \
        const sslsocket *s = &lss_checkssl(L, 1)->s;              \
        push;                                                     \
        return 1;                                                 \
    }
LSS_SSL_GET(ssl_encrypted, lua_pushboolean(L, sslsocket_is_encrypted(s)))
LSS_SSL_GET(ssl_mode, lua_pushinteger(L, sslsocket_mode(s)))
LSS_SSL_GET(ssl_protocol, lss_pushstr_or_nil(L, sslsocket_protocol(s)))
LSS_SSL_GET(ssl_cipher, lss_pushstr_or_nil(L, sslsocket_cipher(s)))
LSS_SSL_GET(ssl_alpn, lss_pushstr_or_nil(L, sslsocket_alpn(s)))
LSS_SSL_GET(ssl_resumed, lua_pushboolean(L, sslsocket_session_resumed(s)))
LSS_SSL_GET(ssl_verify_mode, lua_pushinteger(L, sslsocket_peer_verify_mode(s)))
LSS_SSL_GET(ssl_discarded, lua_pushinteger(L, (lua_Integer)sslsocket_discarded_plaintext(s)))
LSS_SSL_GET(ssl_server_name, lss_pushstr_or_nil(L, sslsocket_server_name(s)))
LSS_SSL_GET(ssl_truncated, lua_pushboolean(L, sslsocket_truncated(s)))

static void
lss_push_ssl_errors(lua_State *L, const sslsocket *s)
{
    int i, n = sslsocket_ssl_error_count(s);
    lua_createtable(L, n, 0);
    for (i = 0; i < n; i++) {
        int code = sslsocket_ssl_error_code(s, i);
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, code);
        lua_setfield(L, -2, "code");
        lua_pushstring(L, sslsocket_ssl_error_message(code));
        lua_setfield(L, -2, "message");
        lua_rawseti(L, -2, i + 1);
    }
}

/***
Verify a certificate chain offline, as a client handshake would (Qt's
QSslCertificate::verify; sslsocket_verify_chain): every problem, ignored
ones included, against `configuration` (default: the shared one with the
system store).
@function SslCertificate.verify(chain, host[, configuration])
@tparam string|table|SslCertificate chain PEM (leaf first), or SslCertificates
@tparam string|nil host name or IP literal to check (nil: none)
@treturn table list of {code=, message=} (empty: valid), or nil, message
*/
static int
cert_verify(lua_State *L)
{
    const char *host = luaL_optstring(L, 2, NULL);
    lss_config *cfg;
    sslsocket *scratch;
    luaL_Buffer b;
    size_t len;
    const char *pem;
    lss_checknargs(L, 3);
    cfg = lua_isnoneornil(L, 3) ? lss_default_config(L) : lss_checkcfg(L, 3);
    luaL_buffinit(L, &b);
    if (lua_type(L, 1) == LUA_TSTRING) {
        lua_pushvalue(L, 1);
        luaL_addvalue(&b);
    } else if (luaL_testudata(L, 1, LSS_CERT)) {
        lss_cert *c = lss_checkcert(L, 1);
        lss_add_pem(&b, c->der, c->der_len);
    } else {
        lua_Integer i, n;
        luaL_checktype(L, 1, LUA_TTABLE);
        n = luaL_len(L, 1);
        for (i = 1; i <= n; i++) {
            lss_cert *c;
            lua_rawgeti(L, 1, i);
            c = (lss_cert *)luaL_testudata(L, -1, LSS_CERT);
            if (c == NULL)
                return luaL_error(L, "SslCertificate.verify: chain[%I] is not an "
                                     "SslCertificate", i);
            lua_pop(L, 1);
            lss_add_pem(&b, c->der, c->der_len);
        }
    }
    luaL_pushresult(&b);
    pem = lua_tolstring(L, -1, &len);
    scratch = (sslsocket *)lua_newuserdatauv(L, sizeof(sslsocket), 0); /* workspace */
    sslsocket_init(scratch, &cfg->c);
    if (sslsocket_verify_chain(scratch, &cfg->c, pem, len, host, 0) < 0) {
        lua_pushnil(L);
        lua_pushstring(L, sslsocket_error_string(scratch));
        return 2;
    }
    lss_push_ssl_errors(L, scratch);
    return 1;
}

static int
ssl_errors(lua_State *L)
{
    lss_push_ssl_errors(L, &lss_checkssl(L, 1)->s);
    return 1;
}

/* Push peer certificate i as an SslCertificate: with its DER when the
   socket kept it (to_pem/to_der work), else the leaf's summary. */
static void
lss_push_peer_cert(lua_State *L, const sslsocket *s, int i)
{
    size_t len;
    const unsigned char *der = sslsocket_peer_certificate_der(s, i, &len);
    if (der != NULL) {
        lss_cert *c = lss_cert_push(L, der, len); /* parsed when the decoders are here */
        if (c->null && i == 0) {
            c->info = *sslsocket_peer_certificate(s);
            c->null = 0;
        }
    } else if (i == 0 && sslsocket_peer_certificate(s) != NULL) {
        lss_cert *c = lss_cert_push(L, NULL, 0);
        c->info = *sslsocket_peer_certificate(s);
        c->null = 0;
    } else {
        lua_pushnil(L);
    }
}

static int
ssl_peer_certificate(lua_State *L)
{
    lss_push_peer_cert(L, &lss_checkssl(L, 1)->s, 0);
    return 1;
}

/* The leaf, then every issuer whose DER the socket kept, in the order
   received (only the leaf's summary when the DER was not kept). */
static int
ssl_peer_chain(lua_State *L)
{
    const sslsocket *s = &lss_checkssl(L, 1)->s;
    int i, n = sslsocket_peer_chain_length(s);
    lua_newtable(L);
    for (i = 0; i < n; i++) {
        lss_push_peer_cert(L, s, i);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
        }
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int
ssl_get_configuration(lua_State *L)
{
    lss_checkssl(L, 1);
    lua_getiuservalue(L, 1, 1);
    lua_getfield(L, -1, "configuration");
    return 1;
}

/* Takes effect at the next handshake (after the TLS connection that is up,
   if any: see >>lifetime); nil restores the default. */
static int
ssl_set_configuration(lua_State *L)
{
    lss_checkssl(L, 1);
    if (!lua_isnil(L, 3) && luaL_testudata(L, 3, LSS_CONFIG) == NULL)
        return luaL_error(L, "SslSocket.configuration must be an SslConfiguration or nil "
                             "(got %s)", luaL_typename(L, 3));
    lss_set_socket_config(L, 1, lua_isnil(L, 3) ? 0 : 3);
    return 0;
}

static int
ssl_set_verify_mode(lua_State *L)
{
    lss_sock *ls = lss_checkssl(L, 1);
    lua_Integer m = lss_prop_integer(L, "SslSocket.peer_verify_mode");
    if (m < 0 || m > 3 || sslsocket_set_peer_verify_mode(&ls->s, (int)m) < 0)
        return luaL_error(L, "SslSocket.peer_verify_mode: %I is not a verify mode "
                             "(VERIFY_NONE 0 .. AUTO_VERIFY_PEER 3)", m);
    return 0;
}

static int
ssl_get_verify_name(lua_State *L)
{
    lss_checkssl(L, 1);
    lua_getiuservalue(L, 1, 1);
    lua_getfield(L, -1, "peer_verify_name");
    return 1;
}

static int
ssl_set_verify_name(lua_State *L)
{
    lss_sock *ls = lss_checkssl(L, 1);
    const char *name = lua_isnil(L, 3) ? NULL : lua_tostring(L, 3);
    if (!lua_isnil(L, 3) && lua_type(L, 3) != LUA_TSTRING)
        return luaL_error(L, "SslSocket.peer_verify_name must be a string or nil (got %s)",
                          luaL_typename(L, 3));
    if (sslsocket_set_peer_verify_name(&ls->s, name) < 0)
        return luaL_error(L, "SslSocket.peer_verify_name: %s", sslsocket_error_string(&ls->s));
    lua_getiuservalue(L, 1, 1);
    lua_pushvalue(L, 3);
    lua_setfield(L, -2, "peer_verify_name");
    return 0;
}

/* ==== >>server: net.TcpServer ============================================ */

static int
server_new(lua_State *L)
{
    lss_checknargs(L, 0);
    lss_sock_push(L, LSS_SERVER, 0);
    return 1;
}

/* Push the pending list of the server at `idx` (created on demand). */
static int
lss_pending(lua_State *L, int idx)
{
    int uv = lss_uv(L, idx);
    if (lua_getfield(L, uv, "pending") != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, uv, "pending");
    }
    lua_remove(L, uv);
    return lua_absindex(L, -1);
}

/* Accept one connection into a new SslSocket (pushed): 1, 0 none, -1 error.
   With ssl_configuration set it starts server encryption at once. */
static int
lss_accept_one(lua_State *L, int idx, lss_sock *srv)
{
    int uv, has_cfg, r;
    lss_sock *conn;
    if (!sslsocket_has_pending_connections(&srv->s))
        return 0; /* no socket userdata (~61 KiB of garbage) for nothing */
    uv = lss_uv(L, idx);
    has_cfg = lua_getfield(L, uv, "ssl_configuration") == LUA_TUSERDATA;
    conn = lss_sock_push(L, LSS_SSL, has_cfg ? lua_absindex(L, -1) : 0);
    r = sslsocket_accept(&srv->s, &conn->s);
    if (r == 1 && has_cfg && sslsocket_start_server_encryption(&conn->s) < 0) {
        sslsocket_abort(&conn->s); /* never hand out plaintext from a TLS server */
        r = 0;
    }
    if (r == 1) {
        lss_sync_anchor(L, -1, conn);
        lua_replace(L, uv);
        lua_settop(L, uv);
    } else {
        lss_sock_release(L, -1, conn);
        lua_settop(L, uv - 1);
    }
    return r;
}

/***
Listen on `port` (0: pick one; see server_port) and `address` (default:
every IPv6 and IPv4 address).
@function TcpServer:listen(port[, address])
@treturn true, or false, message, code (address in use, ...)
*/
static int
server_listen(lua_State *L)
{
    lss_sock *srv = lss_checkserver(L, 1);
    unsigned port = lss_checkport(L, 2, 0);
    const char *addr = luaL_optstring(L, 3, NULL);
    lss_checknargs(L, 3);
    if (sslsocket_listen(&srv->s, addr, port, 0) < 0)
        return lss_failure(L, &srv->s);
    lss_sync_anchor(L, 1, srv);
    lua_pushboolean(L, 1);
    return 1;
}

/***
Stop listening.  Connections already accepted are not touched.
@function TcpServer:close()
*/
static int
server_close(lua_State *L)
{
    lss_sock *srv = lss_checkserver(L, 1);
    lss_checknargs(L, 1);
    sslsocket_disconnect(&srv->s);
    lss_sync_anchor(L, 1, srv);
    return 0;
}

/***
Take the next accepted connection (an SslSocket, encrypted at once when
ssl_configuration is set, else UNENCRYPTED).
@function TcpServer:next_pending_connection()
@treturn SslSocket or nil
*/
static int
server_next(lua_State *L)
{
    lss_sock *srv = lss_checkserver(L, 1);
    int pending;
    lss_checknargs(L, 1);
    pending = lss_pending(L, 1);
    if (luaL_len(L, pending) > 0) {
        lua_Integer i, n = luaL_len(L, pending);
        lua_rawgeti(L, pending, 1);
        for (i = 1; i < n; i++) {
            lua_rawgeti(L, pending, i + 1);
            lua_rawseti(L, pending, i);
        }
        lua_pushnil(L);
        lua_rawseti(L, pending, n);
        return 1;
    }
    if (sslsocket_has_pending_connections(&srv->s) && lss_accept_one(L, 1, srv) == 1)
        return 1;
    lua_pushnil(L);
    return 1;
}

static int
server_is_listening(lua_State *L)
{
    lua_pushboolean(L, sslsocket_state(&lss_checkserver(L, 1)->s) == SSLSOCKET_LISTENING);
    return 1;
}

static int
server_port(lua_State *L)
{
    lua_pushinteger(L, sslsocket_local_port(&lss_checkserver(L, 1)->s));
    return 1;
}

static int
server_address(lua_State *L)
{
    char buf[64];
    lss_pushstr_or_nil(L, sslsocket_local_address(&lss_checkserver(L, 1)->s, buf, sizeof buf));
    return 1;
}

static int
server_has_pending(lua_State *L)
{
    lss_sock *srv = lss_checkserver(L, 1);
    int pending = lss_pending(L, 1);
    lua_pushboolean(L, luaL_len(L, pending) > 0 || sslsocket_has_pending_connections(&srv->s));
    return 1;
}

static int
server_error(lua_State *L)
{
    lua_pushinteger(L, sslsocket_error(&lss_checkserver(L, 1)->s));
    return 1;
}

static int
server_error_string(lua_State *L)
{
    lua_pushstring(L, sslsocket_error_string(&lss_checkserver(L, 1)->s));
    return 1;
}

static int
server_get_max_pending(lua_State *L)
{
    lua_pushinteger(L, lss_checkserver(L, 1)->max_pending);
    return 1;
}

static int
server_set_max_pending(lua_State *L)
{
    lss_sock *srv = lss_checkserver(L, 1);
    lua_Integer n = lss_prop_integer(L, "TcpServer.max_pending_connections");
    if (n < 1 || n > 1000000)
        return luaL_error(L, "TcpServer.max_pending_connections: %I out of range (1..1000000)", n);
    srv->max_pending = (int)n;
    return 0;
}

static int
server_get_ssl_configuration(lua_State *L)
{
    lss_checkserver(L, 1);
    lua_getiuservalue(L, 1, 1);
    lua_getfield(L, -1, "ssl_configuration");
    return 1;
}

static int
server_set_ssl_configuration(lua_State *L)
{
    lss_checkserver(L, 1);
    if (!lua_isnil(L, 3)) {
        lss_config *cfg = (lss_config *)luaL_testudata(L, 3, LSS_CONFIG);
        if (cfg == NULL)
            return luaL_error(L, "TcpServer.ssl_configuration must be an SslConfiguration or "
                                 "nil (got %s)", luaL_typename(L, 3));
        if (!cfg->cert_applied)
            return luaL_error(L, "TcpServer.ssl_configuration: the configuration has no "
                                 "local_certificate and private_key");
    }
    lua_getiuservalue(L, 1, 1);
    lua_pushvalue(L, 3);
    lua_setfield(L, -2, "ssl_configuration");
    return 0;
}

static int
server_tostring(lua_State *L)
{
    lss_sock *srv = lss_checkserver(L, 1);
    lua_pushfstring(L, "TcpServer (%s port %d)", sslsocket_state_name(sslsocket_state(&srv->s)),
                    (int)sslsocket_local_port(&srv->s));
    return 1;
}

/* Stop listening and abort the connections nobody took. */
static int
server_gc(lua_State *L)
{
    lss_sock *srv = lss_checkserver(L, 1);
    int pending = lss_pending(L, 1);
    lua_Integer i, n = luaL_len(L, pending);
    for (i = 1; i <= n; i++) {
        lss_sock *c;
        lua_rawgeti(L, pending, i);
        c = lss_tosock(L, -1);
        if (c)
            lss_sock_release(L, -1, c);
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_rawseti(L, pending, i);
    }
    lss_sock_release(L, 1, srv);
    return 0;
}

/* ==== >>loop: dispatch, net.poll / net.run / net.stop ==================== */

static int
lss_msgh(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* The error message is on top: to net.error_handler, else stderr; popped. */
static void
lss_report(lua_State *L)
{
    int err = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, LSS_REG_MODULE);
    if (lua_istable(L, -1) && lua_getfield(L, -1, "error_handler") == LUA_TFUNCTION) {
        lua_pushvalue(L, err);
        if (lua_pcall(L, 1, 0, 0) == LUA_OK) {
            lua_settop(L, err - 1);
            return;
        }
        fprintf(stderr, "sslsocket: net.error_handler failed: %s\n", lua_tostring(L, -1));
    }
    fprintf(stderr, "sslsocket: error in handler: %s\n", lua_tostring(L, err));
    lua_settop(L, err - 1);
}

/* Call uv[name](self, args...) protected; the `nargs` extra arguments are on
   top of the stack and are consumed. */
static void
lss_call_handler(lua_State *L, int idx, const char *name, int nargs)
{
    int base = lua_gettop(L) - nargs;
    lua_getiuservalue(L, idx, 1);
    if (lua_getfield(L, -1, name) != LUA_TFUNCTION) {
        lua_settop(L, base);
        return;
    }
    lua_remove(L, -2);
    lua_pushcfunction(L, lss_msgh);
    lua_insert(L, base + 1);             /* msgh, args..., fn */
    lua_insert(L, base + 2);             /* msgh, fn, args... */
    lua_pushvalue(L, idx);
    lua_insert(L, base + 3);             /* msgh, fn, self, args... */
    if (lua_pcall(L, nargs + 1, 0, base + 1) != LUA_OK)
        lss_report(L);
    lua_settop(L, base);
}

/* NEW_CONNECTION: accept into the pending list (up to max_pending), one
   new_connection_handler(server) call per connection. */
static int
lss_on_new_connection(lua_State *L, int idx, lss_sock *srv)
{
    int pending = lss_pending(L, idx), n = 0;
    while (luaL_len(L, pending) < srv->max_pending) {
        int r = lss_accept_one(L, idx, srv);
        if (r < 0) {
            lua_pushinteger(L, sslsocket_error(&srv->s));
            lss_call_handler(L, idx, "error_handler", 1);
        }
        if (r != 1)
            break;
        lua_rawseti(L, pending, luaL_len(L, pending) + 1);
        n++;
        lss_call_handler(L, idx, "new_connection_handler", 0);
    }
    lua_pop(L, 1);
    return n;
}

/* Poll the socket at `idx` and run the handlers of its events in order. */
static int
lss_dispatch(lua_State *L, int idx)
{
    lss_sock *ls = (lss_sock *)lua_touserdata(L, idx);
    unsigned type;
    int value, count = 0;
    lss_capture_storage(L, idx, ls); /* this poll may start a handshake */
    sslsocket_poll(&ls->s);
    while (sslsocket_next_event(&ls->s, &type, &value)) {
        count++;
        switch (type) {
        case SSLSOCKET_EV_STATE_CHANGED:
            if (value == SSLSOCKET_CLOSING)
                lss_call_handler(L, idx, "about_to_close_handler", 0);
            lua_pushinteger(L, value);
            lss_call_handler(L, idx, "state_changed_handler", 1);
            break;
        case SSLSOCKET_EV_MODE_CHANGED:
            lua_pushinteger(L, value);
            lss_call_handler(L, idx, "mode_changed_handler", 1);
            break;
        case SSLSOCKET_EV_HOST_FOUND:
            lss_call_handler(L, idx, "host_found_handler", 0);
            break;
        case SSLSOCKET_EV_CONNECTED:
            lss_call_handler(L, idx, "connected_handler", 0);
            break;
        case SSLSOCKET_EV_ENCRYPTED:
            lss_call_handler(L, idx, "encrypted_handler", 0);
            break;
        case SSLSOCKET_EV_READY_READ:
            lss_call_handler(L, idx, "ready_read_handler", 0);
            break;
        case SSLSOCKET_EV_BYTES_WRITTEN:
            lua_pushinteger(L, value);
            lss_call_handler(L, idx, "bytes_written_handler", 1);
            break;
        case SSLSOCKET_EV_ERROR:
            lua_pushinteger(L, value);
            lss_call_handler(L, idx, "error_handler", 1);
            break;
        case SSLSOCKET_EV_DISCONNECTED:
            lss_call_handler(L, idx, "disconnected_handler", 0);
            break;
        case SSLSOCKET_EV_SSL_ERRORS:
            lss_push_ssl_errors(L, &ls->s);
            lss_call_handler(L, idx, "ssl_errors_handler", 1);
            break;
        case SSLSOCKET_EV_NEW_CONNECTION:
            if (ls->kind == LSS_SERVER && lss_on_new_connection(L, idx, ls) == 0)
                count--; /* nothing taken (pending list full) */
            break;
        default:
            break;
        }
    }
    lss_sync_anchor(L, idx, ls);
    return count;
}

/* Run the *_async callbacks queued before this point. */
static int
lss_run_async(lua_State *L)
{
    lua_Integer i, n;
    lua_getfield(L, LUA_REGISTRYINDEX, LSS_REG_ASYNC);
    n = luaL_len(L, -1);
    if (n == 0) {
        lua_pop(L, 1);
        return 0;
    }
    lua_newtable(L); /* callbacks queued by callbacks wait for the next round */
    lua_setfield(L, LUA_REGISTRYINDEX, LSS_REG_ASYNC);
    for (i = 1; i <= n; i++) {
        int base = lua_gettop(L), k;
        lua_pushcfunction(L, lss_msgh);
        lua_rawgeti(L, base, i);
        for (k = 1; k <= 4; k++)
            lua_rawgeti(L, base + 2, k);
        lua_remove(L, base + 2);
        if (lua_pcall(L, 3, 0, base + 1) != LUA_OK)
            lss_report(L);
        lua_settop(L, base);
    }
    lua_pop(L, 1);
    return (int)n;
}

static int
lss_async_pending(lua_State *L)
{
    lua_Integer n;
    lua_getfield(L, LUA_REGISTRYINDEX, LSS_REG_ASYNC);
    n = luaL_len(L, -1);
    lua_pop(L, 1);
    return n > 0;
}

/* The scratch arrays of the loop state at `loop_idx` for `n` sockets:
   slots, then up to 3 pollfds per socket (grown, never shrunk). */
static lss_slot *
lss_scratch(lua_State *L, int loop_idx, size_t n, struct pollfd **pfd)
{
    lss_loop *loop = (lss_loop *)lua_touserdata(L, loop_idx);
    const size_t per = sizeof(lss_slot) + 3 * sizeof(struct pollfd);
    lss_slot *slots;
    if (lua_getiuservalue(L, loop_idx, 1) != LUA_TUSERDATA || n > loop->cap) {
        lua_pop(L, 1);
        if (n > loop->cap || loop->cap == 0)
            loop->cap = n < 16 ? 32 : n * 2;
        lua_newuserdatauv(L, loop->cap * per, 0);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, loop_idx, 1);
    }
    slots = (lss_slot *)lua_touserdata(L, -1);
    lua_pop(L, 1);
    *pfd = (struct pollfd *)(void *)(slots + loop->cap);
    return slots;
}

/* One round (protected body of net.poll; arguments: timeout, loop state):
   wait on the descriptors of every active socket, then poll and dispatch
   only the sockets that woke up or whose timeout came (idle sockets cost
   no system call), then run the async callbacks.  A server whose pending
   list is full is left out (it would wake us up for connections nobody
   takes).  A socket closed by an earlier handler in the round is skipped. */
static int
lss_round_body(lua_State *L)
{
    lss_loop *loop = (lss_loop *)lua_touserdata(L, 2);
    int timeout = (int)lua_tointeger(L, 1), active, n = 0, k = 0, np = 0, count = 0, r, async;
    lss_slot *slot;
    struct pollfd *pfd;
    int64_t t0, waited;
    lua_getfield(L, LUA_REGISTRYINDEX, LSS_REG_ACTIVE);
    active = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, active)) {
        n += lua_type(L, -1) == LUA_TUSERDATA;
        lua_pop(L, 1);
    }
    async = lss_async_pending(L);
    if (n == 0 && !async) {
        lua_pushinteger(L, 0);
        return 1;
    }
    slot = lss_scratch(L, 2, (size_t)n, &pfd);
    if (async)
        timeout = 0;
    lua_pushnil(L);
    while (lua_next(L, active)) {
        lss_sock *ls = (lss_sock *)lua_touserdata(L, -1);
        lss_slot *e;
        if (lua_type(L, -1) != LUA_TUSERDATA || k == n) {
            lua_pop(L, 1);
            continue;
        }
        e = &slot[k++];
        e->ls = ls;
        e->anchor = (int)lua_tointeger(L, -2);
        e->first = np;
        e->nfd = 0;
        e->timeout = -1;
        if (ls->kind == LSS_SERVER) {
            lss_pending(L, -1);
            r = luaL_len(L, -1) >= ls->max_pending;
            lua_pop(L, 1);
            if (r) {
                lua_pop(L, 1);
                continue;
            }
        }
        e->timeout = sslsocket_timeout_ms(&ls->s);
        if (e->timeout >= 0 && (timeout < 0 || e->timeout < timeout))
            timeout = e->timeout;
        {
            int fds[3], i;
            unsigned w[3];
            e->nfd = sslsocket_fds(&ls->s, fds, w, 3);
            for (i = 0; i < e->nfd; i++, np++) {
                pfd[np].fd = fds[i];
                pfd[np].events = (short)(((w[i] & SSLSOCKET_WANT_READ) ? POLLIN : 0)
                                         | ((w[i] & SSLSOCKET_WANT_WRITE) ? POLLOUT : 0));
                pfd[np].revents = 0;
            }
        }
        lua_pop(L, 1);
    }
    t0 = lss_now_ms();
    do {
        r = poll(pfd, (nfds_t)np, timeout);
    } while (r < 0 && errno == EINTR);
    waited = lss_now_ms() - t0;
    loop->in_round = 1;
    for (n = k, k = 0; k < n; k++) {
        const lss_slot *e = &slot[k];
        int due = e->timeout >= 0 && e->timeout <= waited, i;
        for (i = 0; i < e->nfd && !due; i++)
            due = pfd[e->first + i].revents != 0;
        if (!due)
            continue;
        lua_rawgeti(L, active, e->anchor);
        if (lua_touserdata(L, -1) == (void *)e->ls)
            count += lss_dispatch(L, lua_gettop(L));
        lua_pop(L, 1);
    }
    count += lss_run_async(L);
    lua_pushinteger(L, count);
    return 1;
}

static int
lss_round(lua_State *L, int loop_idx, int timeout)
{
    lss_loop *loop = (lss_loop *)lua_touserdata(L, loop_idx);
    int r, count;
    if (loop->in_round)
        return luaL_error(L, "net.poll/net.run cannot be called from a handler");
    lua_pushcfunction(L, lss_round_body);
    lua_pushinteger(L, timeout);
    lua_pushvalue(L, loop_idx);
    r = lua_pcall(L, 2, 1, 0);
    loop->in_round = 0;
    if (r != LUA_OK)
        return lua_error(L);
    count = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return count;
}

static int
lss_active_count(lua_State *L)
{
    int n = 0;
    lua_getfield(L, LUA_REGISTRYINDEX, LSS_REG_ACTIVE);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        n += lua_type(L, -1) == LUA_TUSERDATA;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return n;
}

/***
Run one round: wait up to `timeout_ms` (default 0, -1 = until something
happens) for the active sockets, then run every due handler and the queued
*_async callbacks.
@function net.poll([timeout_ms])
@treturn int events and callbacks handled
*/
static int
net_poll(lua_State *L)
{
    lua_Integer t = luaL_optinteger(L, 1, 0);
    lss_checknargs(L, 1);
    luaL_argcheck(L, t >= -1 && t <= 0x7fffffff, 1, "timeout must be -1 or >= 0");
    lua_pushinteger(L, lss_round(L, lua_upvalueindex(1), (int)t));
    return 1;
}

/***
Run rounds until net.stop() is called or no socket, server or callback is
left (or `timeout_ms` elapsed, when given).
@function net.run([timeout_ms])
@treturn true when stopped or idle, false when the timeout ran out
*/
static int
net_run(lua_State *L)
{
    lss_loop *loop = (lss_loop *)lua_touserdata(L, lua_upvalueindex(1));
    lua_Integer t = luaL_optinteger(L, 1, -1);
    int64_t end;
    lss_checknargs(L, 1);
    luaL_argcheck(L, t >= -1, 1, "timeout must be -1 or >= 0");
    if (loop->in_round)
        return luaL_error(L, "net.poll/net.run cannot be called from a handler");
    end = t >= 0 ? lss_now_ms() + t : 0;
    loop->stop = 0;
    for (;;) {
        int64_t left = -1;
        if (loop->stop || (lss_active_count(L) == 0 && !lss_async_pending(L))) {
            loop->stop = 0;
            lua_pushboolean(L, 1);
            return 1;
        }
        if (t >= 0) {
            left = end - lss_now_ms();
            if (left <= 0) {
                lua_pushboolean(L, 0);
                return 1;
            }
        }
        lss_round(L, lua_upvalueindex(1), (int)left);
    }
}

/***
Make net.run() return after the current round.
@function net.stop()
*/
static int
net_stop(lua_State *L)
{
    lss_loop *loop = (lss_loop *)lua_touserdata(L, lua_upvalueindex(1));
    loop->stop = 1;
    return 0;
}

/***
Number of active sockets and servers (those kept alive by the loop).
@function net.active()
*/
static int
net_active(lua_State *L)
{
    lua_pushinteger(L, lss_active_count(L));
    return 1;
}

/* m_async(..., callback): run m now (its argument errors raise here, named
   after m_async), hand (stream, result, error) to the callback in the next
   loop round.  Upvalue 1: m; upvalue 2: the callback while m runs (m never
   calls back into Lua, so it cannot be overwritten meanwhile). */
static int
lss_async(lua_State *L)
{
    lua_CFunction f = lua_tocfunction(L, lua_upvalueindex(1));
    int top = lua_gettop(L), nr, res;
    luaL_checktype(L, top, LUA_TFUNCTION);
    lss_checksock(L, 1);
    lua_copy(L, top, lua_upvalueindex(2));
    lua_settop(L, top - 1);
    nr = f(L);
    res = lua_gettop(L) - nr + 1;
    lua_createtable(L, 4, 0);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_rawseti(L, -2, 1);
    lua_pushnil(L);
    lua_copy(L, -1, lua_upvalueindex(2));
    lua_pop(L, 1);
    lua_pushvalue(L, 1);
    lua_rawseti(L, -2, 2);
    if (nr >= 1) {
        lua_pushvalue(L, res);
        lua_rawseti(L, -2, 3);
    }
    if (nr >= 2 && !lua_toboolean(L, res)) {
        lua_pushvalue(L, res + 1);
        lua_rawseti(L, -2, 4);
    }
    lua_getfield(L, LUA_REGISTRYINDEX, LSS_REG_ASYNC);
    lua_insert(L, -2);
    lua_rawseti(L, -2, luaL_len(L, -2) + 1);
    return 0;
}

/* ==== >>meta: property tables, __index / __newindex ====================== */

typedef struct lss_class {
    const char *name;             /* "SslSocket" */
    const char *meta;             /* LSS_SSLSOCKET */
    const luaL_Reg *methods[4];   /* NULL-terminated list of tables */
    const luaL_Reg *getters[4];
    const luaL_Reg *setters[4];
    const char *const *handlers[4];
    const luaL_Reg *metamethods;
    int async;                    /* add m_async for every method */
} lss_class;

/* upvalues of __index / __newindex */
enum { LSS_UP_METHODS = 1, LSS_UP_GETTERS, LSS_UP_SETTERS, LSS_UP_HANDLERS, LSS_UP_CONSTS,
       LSS_UP_NAME };

static size_t
lss_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j, row[64];
    if (la >= 63 || lb >= 63)
        return 99;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        size_t prev = row[0], tmp;
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t best = prev + (a[i - 1] != b[j - 1]);
            tmp = row[j];
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            prev = tmp;
            row[j] = best;
        }
    }
    return row[lb];
}

/* Raise "<Class> has no field 'x'" with a hint (another class has it, or
   a near miss). */
static int
lss_nofield(lua_State *L, int key)
{
    const char *cls = lua_tostring(L, lua_upvalueindex(LSS_UP_NAME));
    const char *k = luaL_tolstring(L, key, NULL), *best = NULL;
    size_t bestd = 3;
    int up;
    lua_getfield(L, LUA_REGISTRYINDEX, LSS_REG_NAMES);
    if (lua_getfield(L, -1, k) == LUA_TSTRING && strcmp(lua_tostring(L, -1), cls) != 0)
        return luaL_error(L, "%s has no field '%s' (it belongs to %s)", cls, k,
                          lua_tostring(L, -1));
    lua_pop(L, 2);
    for (up = LSS_UP_METHODS; up <= LSS_UP_HANDLERS; up++) {
        lua_pushnil(L);
        while (lua_next(L, lua_upvalueindex(up))) {
            if (lua_type(L, -2) == LUA_TSTRING) {
                size_t d = lss_edit_distance(k, lua_tostring(L, -2));
                if (d < bestd) {
                    bestd = d;
                    best = lua_tostring(L, -2);
                }
            }
            lua_pop(L, 1);
        }
    }
    if (best)
        return luaL_error(L, "%s has no field '%s' (did you mean '%s'?)", cls, k, best);
    return luaL_error(L, "%s has no field '%s'", cls, k);
}

static int
lss_index(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TSTRING) {
        lua_CFunction getter;
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(LSS_UP_METHODS)) != LUA_TNIL)
            return 1;
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(LSS_UP_GETTERS)) != LUA_TNIL) {
            getter = lua_tocfunction(L, -1);
            lua_settop(L, 1);
            return getter(L);
        }
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(LSS_UP_HANDLERS)) != LUA_TNIL) {
            lua_getiuservalue(L, 1, 1);
            lua_pushvalue(L, 2);
            lua_rawget(L, -2);
            return 1;
        }
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(LSS_UP_CONSTS)) != LUA_TNIL)
            return 1;
    }
    return lss_nofield(L, 2);
}

static int
lss_newindex(lua_State *L)
{
    const char *cls = lua_tostring(L, lua_upvalueindex(LSS_UP_NAME));
    const char *k = lua_tostring(L, 2);
    if (lua_type(L, 2) == LUA_TSTRING) {
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(LSS_UP_SETTERS)) != LUA_TNIL) {
            lua_CFunction setter = lua_tocfunction(L, -1);
            lua_settop(L, 3);
            return setter(L);
        }
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(LSS_UP_HANDLERS)) != LUA_TNIL) {
            if (!lua_isnil(L, 3) && !lua_isfunction(L, 3))
                return luaL_error(L, "%s.%s must be a function or nil (got %s)", cls, k,
                                  luaL_typename(L, 3));
            lua_getiuservalue(L, 1, 1);
            lua_pushvalue(L, 2);
            lua_pushvalue(L, 3);
            lua_rawset(L, -3);
            if (strcmp(k, "ssl_errors_handler") == 0) /* the script decides */
                sslsocket_set_decide_ssl_errors(&((lss_sock *)lua_touserdata(L, 1))->s,
                                                !lua_isnil(L, 3));
            return 0;
        }
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(LSS_UP_GETTERS)) != LUA_TNIL)
            return luaL_error(L, "%s.%s is read-only", cls, k);
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(LSS_UP_METHODS)) != LUA_TNIL)
            return luaL_error(L, "%s.%s is a method and cannot be assigned", cls, k);
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(LSS_UP_CONSTS)) != LUA_TNIL)
            return luaL_error(L, "%s.%s is a constant", cls, k);
    }
    return lss_nofield(L, 2);
}

/* ==== >>tables: methods, properties, handlers, constants ================= */

static const luaL_Reg stream_methods[] = {
    { "close", stream_close },
    { "open", stream_open },
    { "peek_bytes", stream_peek_bytes },
    { "peek_string", stream_peek_string },
    { "read_all_bytes", stream_read_all_bytes },
    { "read_all_string", stream_read_all_string },
    { "read_bytes", stream_read_bytes },
    { "read_line_bytes", stream_read_line_bytes },
    { "read_line_string", stream_read_line_string },
    { "read_string", stream_read_string },
    { "reset", stream_reset },
    { "seek", stream_seek },
    { "write_bytes", stream_write_bytes },
    { "write_string", stream_write_string },
    { NULL, NULL }
};

static const luaL_Reg stream_getters[] = {
    { "at_end", stream_at_end },
    { "bytes_available", stream_bytes_available },
    { "bytes_to_write", stream_bytes_to_write },
    { "can_read_line", stream_can_read_line },
    { "error_string", stream_error_string },
    { "is_open", stream_is_open },
    { "open_mode", stream_open_mode },
    { "pos", stream_pos },
    { "readable", stream_readable },
    { "sequential", stream_sequential },
    { "writeable", stream_writeable },
    { NULL, NULL }
};

static const char *const stream_handlers[] = {
    "about_to_close_handler", "bytes_written_handler", "ready_read_handler", NULL
};

static const luaL_Reg tcp_methods[] = {
    { "abort", tcp_abort },
    { "bind", tcp_bind },
    { "connect", tcp_connect },
    { "disconnect", tcp_disconnect },
    { NULL, NULL }
};

static const luaL_Reg tcp_getters[] = {
    { "error", tcp_error },
    { "local_address", tcp_local_address },
    { "local_port", tcp_local_port },
    { "remote_address", tcp_remote_address },
    { "remote_port", tcp_remote_port },
    { "state", tcp_state },
    { "valid", tcp_valid },
    { NULL, NULL }
};

static const char *const tcp_handlers[] = {
    "connected_handler", "disconnected_handler", "error_handler", "host_found_handler",
    "state_changed_handler", NULL
};

static const luaL_Reg ssl_methods[] = {
    { "connect_encrypted", ssl_connect_encrypted },
    { "ignore_ssl_errors", ssl_ignore_errors },
    { "start_client_encryption", ssl_start_client },
    { "start_server_encryption", ssl_start_server },
    { "update_keys", ssl_update_keys },
    { NULL, NULL }
};

static const luaL_Reg ssl_getters[] = {
    { "alpn_protocol", ssl_alpn },
    { "configuration", ssl_get_configuration },
    { "discarded_plaintext", ssl_discarded },
    { "encrypted", ssl_encrypted },
    { "mode", ssl_mode },
    { "peer_certificate", ssl_peer_certificate },
    { "peer_certificate_chain", ssl_peer_chain },
    { "peer_verify_mode", ssl_verify_mode },
    { "peer_verify_name", ssl_get_verify_name },
    { "server_name", ssl_server_name },
    { "session_cipher", ssl_cipher },
    { "session_protocol", ssl_protocol },
    { "session_resumed", ssl_resumed },
    { "ssl_errors", ssl_errors },
    { "truncated", ssl_truncated },
    { NULL, NULL }
};

static const luaL_Reg ssl_setters[] = {
    { "configuration", ssl_set_configuration },
    { "peer_verify_mode", ssl_set_verify_mode },
    { "peer_verify_name", ssl_set_verify_name },
    { NULL, NULL }
};

static const char *const ssl_handlers[] = {
    "encrypted_handler", "mode_changed_handler", "ssl_errors_handler", NULL
};

static const luaL_Reg sock_meta[] = {
    { "__close", sock_gc },
    { "__gc", sock_gc },
    { "__tostring", sock_tostring },
    { NULL, NULL }
};

static const luaL_Reg server_methods[] = {
    { "close", server_close },
    { "listen", server_listen },
    { "next_pending_connection", server_next },
    { NULL, NULL }
};

static const luaL_Reg server_getters[] = {
    { "error", server_error },
    { "error_string", server_error_string },
    { "has_pending_connections", server_has_pending },
    { "is_listening", server_is_listening },
    { "max_pending_connections", server_get_max_pending },
    { "server_address", server_address },
    { "server_port", server_port },
    { "ssl_configuration", server_get_ssl_configuration },
    { NULL, NULL }
};

static const luaL_Reg server_setters[] = {
    { "max_pending_connections", server_set_max_pending },
    { "ssl_configuration", server_set_ssl_configuration },
    { NULL, NULL }
};

static const char *const server_handlers[] = {
    "error_handler", "new_connection_handler", NULL
};

static const luaL_Reg server_meta[] = {
    { "__close", server_gc },
    { "__gc", server_gc },
    { "__tostring", server_tostring },
    { NULL, NULL }
};

static const luaL_Reg cfg_methods[] = {
    { "add_ca_certificate", cfg_add_ca_certificate },
    { "add_ca_certificates", cfg_add_ca_certificates },
    { "add_pinned_public_key", cfg_add_pin },
    { "add_crl", cfg_add_crl },
    { "use_system_ca_certificates", cfg_use_system },
    { NULL, NULL }
};

static const luaL_Reg cfg_getters[] = {
    { "alpn_protocols", cfg_get_alpn },
    { "ca_certificates", cfg_get_cas },
    { "ca_count", cfg_ca_count },
    { "ciphers", cfg_get_ciphers },
    { "client_session_reuse", cfg_get_client_sessions },
    { "idle_release_ms", cfg_get_idle_release },
    { "local_certificate", cfg_get_local_cert },
    { "local_certificate_chain", cfg_get_chain },
    { "peer_verify_depth", cfg_get_verify_depth },
    { "peer_verify_mode", cfg_get_verify_mode },
    { "private_key", cfg_get_key },
    { "protocol_max", cfg_get_vmax },
    { "protocol_min", cfg_get_vmin },
    { "session_cache_size", cfg_get_session_cache },
    { NULL, NULL }
};

static const luaL_Reg cfg_setters[] = {
    { "alpn_protocols", cfg_set_alpn },
    { "ca_certificates", cfg_set_cas },
    { "ciphers", cfg_set_ciphers },
    { "client_session_reuse", cfg_set_client_sessions },
    { "idle_release_ms", cfg_set_idle_release },
    { "local_certificate", cfg_set_local_cert },
    { "local_certificate_chain", cfg_set_chain },
    { "peer_verify_depth", cfg_set_verify_depth },
    { "peer_verify_mode", cfg_set_verify_mode },
    { "private_key", cfg_set_key },
    { "protocol_max", cfg_set_vmax },
    { "protocol_min", cfg_set_vmin },
    { "session_cache_size", cfg_set_session_cache },
    { NULL, NULL }
};

static const luaL_Reg cfg_meta[] = {
    { "__gc", cfg_gc },
    { "__tostring", cfg_tostring },
    { NULL, NULL }
};

static const luaL_Reg cert_methods[] = {
    { "to_der", cert_to_der },
    { "to_pem", cert_to_pem },
    { NULL, NULL }
};

static const luaL_Reg cert_getters[] = {
    { "common_name", cert_common_name },
    { "digest", cert_digest },
    { "is_ca", cert_is_ca },
    { "issuer", cert_issuer },
    { "not_after", cert_not_after },
    { "not_before", cert_not_before },
    { "null", cert_null },
    { "public_key_algorithm", cert_key_alg },
    { "public_key_bits", cert_key_bits },
    { "public_key_digest", cert_key_digest },
    { "serial", cert_serial },
    { "signature_algorithm", cert_sig_alg },
    { "subject", cert_subject },
    { "subject_alt_names", cert_sans },
    { "version", cert_version },
    { NULL, NULL }
};

static const luaL_Reg cert_meta[] = {
    { "__eq", cert_eq },
    { "__tostring", cert_tostring },
    { NULL, NULL }
};

static const luaL_Reg key_getters[] = {
    { "algorithm", key_alg },
    { "error_string", key_error_string },
    { "length", key_bits },
    { "null", key_null },
    { "type", key_type },
    { NULL, NULL }
};

static const luaL_Reg key_meta[] = {
    { "__gc", key_gc },
    { "__tostring", key_tostring },
    { NULL, NULL }
};

static const lss_class lss_classes[] = {
    { "SslSocket", LSS_SSLSOCKET,
      { stream_methods, tcp_methods, ssl_methods, NULL },
      { stream_getters, tcp_getters, ssl_getters, NULL },
      { ssl_setters, NULL, NULL, NULL },
      { stream_handlers, tcp_handlers, ssl_handlers, NULL },
      sock_meta, 1 },
    { "TcpSocket", LSS_TCPSOCKET,
      { stream_methods, tcp_methods, NULL, NULL },
      { stream_getters, tcp_getters, NULL, NULL },
      { NULL, NULL, NULL, NULL },
      { stream_handlers, tcp_handlers, NULL, NULL },
      sock_meta, 1 },
    { "TcpServer", LSS_TCPSERVER,
      { server_methods, NULL, NULL, NULL },
      { server_getters, NULL, NULL, NULL },
      { server_setters, NULL, NULL, NULL },
      { server_handlers, NULL, NULL, NULL },
      server_meta, 0 },
    { "SslConfiguration", LSS_CONFIG,
      { cfg_methods, NULL, NULL, NULL },
      { cfg_getters, NULL, NULL, NULL },
      { cfg_setters, NULL, NULL, NULL },
      { NULL, NULL, NULL, NULL },
      cfg_meta, 0 },
    { "SslCertificate", LSS_CERT,
      { cert_methods, NULL, NULL, NULL },
      { cert_getters, NULL, NULL, NULL },
      { NULL, NULL, NULL, NULL },
      { NULL, NULL, NULL, NULL },
      cert_meta, 0 },
    { "SslKey", LSS_KEY,
      { NULL, NULL, NULL, NULL },
      { key_getters, NULL, NULL, NULL },
      { NULL, NULL, NULL, NULL },
      { NULL, NULL, NULL, NULL },
      key_meta, 0 },
};

typedef struct lss_const {
    const char *name;
    int value;
} lss_const;

static const lss_const stream_consts[] = {
    { "NOT_OPEN_MODE", SSLSOCKET_NOT_OPEN }, { "READ_ONLY_MODE", SSLSOCKET_READ_ONLY },
    { "WRITE_ONLY_MODE", SSLSOCKET_WRITE_ONLY }, { "READ_WRITE_MODE", SSLSOCKET_READ_WRITE },
    { "APPEND_MODE", SSLSOCKET_APPEND }, { "TRUNCATE_MODE", SSLSOCKET_TRUNCATE },
    { NULL, 0 }
};

static const lss_const tcp_consts[] = {
    { "UNCONNECTED_STATE", SSLSOCKET_UNCONNECTED }, { "HOST_LOOKUP_STATE", SSLSOCKET_HOST_LOOKUP },
    { "CONNECTING_STATE", SSLSOCKET_CONNECTING }, { "CONNECTED_STATE", SSLSOCKET_CONNECTED },
    { "BOUND_STATE", SSLSOCKET_BOUND }, { "LISTENING_STATE", SSLSOCKET_LISTENING },
    { "CLOSING_STATE", SSLSOCKET_CLOSING },
    { "CONNECTION_REFUSED_ERROR", SSLSOCKET_ERR_CONNECTION_REFUSED },
    { "REMOTE_HOST_CLOSED_ERROR", SSLSOCKET_ERR_REMOTE_HOST_CLOSED },
    { "HOST_NOT_FOUND_ERROR", SSLSOCKET_ERR_HOST_NOT_FOUND },
    { "SOCKET_ACCESS_ERROR", SSLSOCKET_ERR_SOCKET_ACCESS },
    { "SOCKET_RESOURCE_ERROR", SSLSOCKET_ERR_SOCKET_RESOURCE },
    { "SOCKET_TIMEOUT_ERROR", SSLSOCKET_ERR_SOCKET_TIMEOUT },
    { "DATAGRAM_TOO_LARGE_ERROR", SSLSOCKET_ERR_DATAGRAM_TOO_LARGE },
    { "NETWORK_ERROR", SSLSOCKET_ERR_NETWORK },
    { "ADDRESS_IN_USE_ERROR", SSLSOCKET_ERR_ADDRESS_IN_USE },
    { "SOCKET_ADDRESS_NOT_AVAILABLE_ERROR", SSLSOCKET_ERR_SOCKET_ADDRESS_NOT_AVAILABLE },
    { "UNSUPPORTED_SOCKET_OPERATION_ERROR", SSLSOCKET_ERR_UNSUPPORTED_SOCKET_OPERATION },
    { "UNFINISHED_SOCKET_OPERATION_ERROR", SSLSOCKET_ERR_UNFINISHED_SOCKET_OPERATION },
    { "SSL_HANDSHAKE_FAILED_ERROR", SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED },
    { "OPERATION_ERROR", SSLSOCKET_ERR_OPERATION },
    { "SSL_INTERNAL_ERROR", SSLSOCKET_ERR_SSL_INTERNAL },
    { "SSL_INVALID_USERDATA_ERROR", SSLSOCKET_ERR_SSL_INVALID_USERDATA },
    { "TEMPORARY_ERROR", SSLSOCKET_ERR_TEMPORARY },
    { "UNKNOWN_ERROR", SSLSOCKET_ERR_UNKNOWN },
    { NULL, 0 }
};

static const lss_const ssl_consts[] = {
    { "UNENCRYPTED_MODE", SSLSOCKET_UNENCRYPTED }, { "SSL_CLIENT_MODE", SSLSOCKET_SSL_CLIENT },
    { "SSL_SERVER_MODE", SSLSOCKET_SSL_SERVER },
    { "VERIFY_NONE", SSLSOCKET_VERIFY_NONE }, { "QUERY_PEER", SSLSOCKET_QUERY_PEER },
    { "VERIFY_PEER", SSLSOCKET_VERIFY_PEER }, { "AUTO_VERIFY_PEER", SSLSOCKET_AUTO_VERIFY_PEER },
    { NULL, 0 }
};

static const lss_const encoding_consts[] = { { "PEM", 0 }, { "DER", 1 }, { NULL, 0 } };

static const lss_const key_consts[] = {
    { "PUBLIC", 0 }, { "PRIVATE", 1 }, { "RSA", 0 }, { "DSA", 1 }, { "EC", 2 }, { NULL, 0 }
};

/* ==== >>open ============================================================= */

static void
lss_setconsts(lua_State *L, const lss_const *c)
{
    for (; c && c->name; c++) {
        lua_pushinteger(L, c->value);
        lua_setfield(L, -2, c->name);
    }
}

/* Push a table name -> C function from the NULL-terminated `lists`; with
   `async`, also name_async -> lss_async closure over the function. */
static void
lss_regtable(lua_State *L, const luaL_Reg *const *lists, int async)
{
    const luaL_Reg *r;
    char name[64];
    lua_newtable(L);
    for (; *lists; lists++) {
        for (r = *lists; r->name; r++) {
            lua_pushcfunction(L, r->func);
            lua_setfield(L, -2, r->name);
            if (!async)
                continue;
            snprintf(name, sizeof name, "%s_async", r->name);
            lua_pushcfunction(L, r->func);
            lua_pushnil(L);
            lua_pushcclosure(L, lss_async, 2);
            lua_setfield(L, -2, name);
        }
    }
}

/* Push a set of the handler names in `lists`. */
static void
lss_nameset(lua_State *L, const char *const *const *lists)
{
    const char *const *h;
    lua_newtable(L);
    for (; *lists; lists++)
        for (h = *lists; *h; h++) {
            lua_pushboolean(L, 1);
            lua_setfield(L, -2, *h);
        }
}

/* Record every key of the table at `t` as a member of `cls` in the names
   table at `names` (first class wins), for "(it belongs to X)" hints. */
static void
lss_record_names(lua_State *L, int names, int t, const char *cls)
{
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, names) == LUA_TNIL) {
            lua_pushvalue(L, -2);
            lua_pushstring(L, cls);
            lua_rawset(L, names);
        }
        lua_pop(L, 1);
    }
}

/* Build the metatable of `cls`; the class table (constants, new) is on
   top.  __index and __newindex share six upvalues: methods, getters,
   setters, handlers, constants, class name. */
static void
lss_createmeta(lua_State *L, const lss_class *cls)
{
    int consts = lua_gettop(L), i, mt;
    luaL_newmetatable(L, cls->meta);
    mt = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, LSS_REG_NAMES);
    lss_regtable(L, cls->methods, cls->async);
    lss_regtable(L, cls->getters, 0);
    lss_regtable(L, cls->setters, 0);
    lss_nameset(L, cls->handlers);
    for (i = mt + 2; i <= mt + 5; i++)
        lss_record_names(L, mt + 1, i, cls->name);
    lua_pushvalue(L, consts);
    lua_pushstring(L, cls->name);
    for (i = 0; i < 6; i++)
        lua_pushvalue(L, mt + 2 + i);
    lua_pushcclosure(L, lss_index, 6);
    lua_setfield(L, mt, "__index");
    for (i = 0; i < 6; i++)
        lua_pushvalue(L, mt + 2 + i);
    lua_pushcclosure(L, lss_newindex, 6);
    lua_setfield(L, mt, "__newindex");
    lua_pushvalue(L, mt);
    luaL_setfuncs(L, cls->metamethods, 0);
    lua_settop(L, consts);
}

/* One class table with its constants and constructor, stored in net. */
static void
lss_newclass(lua_State *L, const char *name, lua_CFunction ctor, const lss_const *const *consts)
{
    lua_newtable(L);
    for (; consts && *consts; consts++)
        lss_setconsts(L, *consts);
    if (ctor) {
        lua_pushcfunction(L, ctor);
        lua_setfield(L, -2, "new");
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, name);
}

LUAMOD_API int
luaopen_sslsocket(lua_State *L)
{
    static const lss_const *const stream_c[] = { stream_consts, NULL };
    static const lss_const *const tcp_c[] = { stream_consts, tcp_consts, NULL };
    static const lss_const *const ssl_c[] = { stream_consts, tcp_consts, ssl_consts, NULL };
    static const lss_const *const cfg_c[] = { ssl_consts + 3, NULL };
    static const lss_const *const enc_c[] = { encoding_consts, NULL };
    static const lss_const *const key_c[] = { key_consts, NULL };
    static const luaL_Reg loop_fns[] = {
        { "poll", net_poll }, { "run", net_run }, { "stop", net_stop }, { NULL, NULL }
    };
    luaL_checkversion(L);
    if (lua_getfield(L, LUA_REGISTRYINDEX, LSS_REG_MODULE) == LUA_TTABLE)
        return 1; /* opened before in this state: one loop, one set of anchors */
    lua_pop(L, 1);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LSS_REG_ACTIVE);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LSS_REG_ASYNC);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LSS_REG_NAMES);
    luaL_newmetatable(L, LSS_STORAGE);
    lua_pushcfunction(L, storage_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);

    lua_newtable(L); /* net */
    lss_newclass(L, "Stream", NULL, stream_c);
    lua_pop(L, 1);
    lss_newclass(L, "SslSocket", ssl_new, ssl_c);
    lss_createmeta(L, &lss_classes[0]);
    lua_pop(L, 1);
    lss_newclass(L, "TcpSocket", tcp_new, tcp_c);
    lss_createmeta(L, &lss_classes[1]);
    lua_pop(L, 1);
    lss_newclass(L, "TcpServer", server_new, NULL);
    lss_createmeta(L, &lss_classes[2]);
    lua_pop(L, 1);
    lss_newclass(L, "SslConfiguration", cfg_new, cfg_c);
    lss_createmeta(L, &lss_classes[3]);
    lua_pop(L, 1);
    lss_newclass(L, "SslCertificate", cert_new, NULL);
    lss_createmeta(L, &lss_classes[4]);
    lua_pushcfunction(L, cert_verify);
    lua_setfield(L, -2, "verify");
    lua_pop(L, 1);
    lss_newclass(L, "SslKey", key_new, key_c);
    lss_createmeta(L, &lss_classes[5]);
    lua_pop(L, 1);
    lss_newclass(L, "SslEncoding", NULL, enc_c);
    lua_pop(L, 1);

    {
        lss_loop *loop = (lss_loop *)lua_newuserdatauv(L, sizeof(lss_loop), 1);
        memset(loop, 0, sizeof *loop);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, LSS_REG_LOOP);
        luaL_setfuncs(L, loop_fns, 1);
    }
    lua_pushcfunction(L, net_active);
    lua_setfield(L, -2, "active");
    lua_pushliteral(L, "sslsocket " SSLSOCKET_VERSION_STRING);
    lua_setfield(L, -2, "_VERSION");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, LSS_REG_MODULE);
    return 1;
}

/*
------------------------------------------------------------------------------
MIT License

Copyright (c) 2026 the sslsocket developers

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
------------------------------------------------------------------------------
*/
