/* sslsocket.h - v0.1.0 - nonblocking, allocation-free TLS sockets on BearSSL
   See end of file for license information.

   >>about
   =======
   One header that gives C programs TLS client (and server) sockets which
   never block and never allocate.  TCP, host lookup, the BearSSL engine
   loop, certificate verification and a Qt-style state machine live in a
   struct the caller owns; the caller drives everything by calling
   sslsocket_poll() (or sslsocket_wait() for many sockets) from its own loop.

   Do this:
       #define SSLSOCKET_IMPLEMENTATION
   before you include this file in *one* C or C++ file to create the
   implementation.  Every other file includes the bare header.  Link with
   -lbearssl (BearSSL 0.6, Debian package libbearssl-dev).

       #include ...
       #include ...
       #define SSLSOCKET_IMPLEMENTATION
       #include "sslsocket.h"

   >>quickstart
   ============
   A complete HTTPS request (the README's quick start is the same program,
   compiled and run by the tests):

       static unsigned char store[256 * 1024];  // trust anchors live here
       static sslsocket s;                      // ~67 KiB: keep it off small stacks
       sslsocket_config cfg;
       char buf[4096];
       ptrdiff_t n;

       sslsocket_config_init(&cfg, store, sizeof store);
       sslsocket_config_use_system_ca(&cfg);    // honours SSL_CERT_FILE/DIR
       sslsocket_init(&s, &cfg);
       sslsocket_connect_encrypted(&s, "example.com", 443, SSLSOCKET_READ_WRITE);
       sslsocket_write_string(&s, "GET / HTTP/1.0\r\nHost: example.com\r\n\r\n");
       do {                                     // poll at least once: it
           sslsocket *list[1] = { &s };         // reports early failures too
           sslsocket_wait(list, 1, 1000);       // poll(2) on what s wants
           unsigned ev = sslsocket_poll(&s);    // advance; get event bits
           while ((n = sslsocket_read(&s, buf, sizeof buf)) > 0)
               fwrite(buf, 1, (size_t)n, stdout);
           if (ev & SSLSOCKET_EV_ERROR)
               fprintf(stderr, "%s\n", sslsocket_error_string(&s));
       } while (sslsocket_state(&s) != SSLSOCKET_UNCONNECTED);

   With epoll (or kqueue, libuv, a game loop): register every descriptor of
   sslsocket_fds() with the readiness it asks for, sleep at most
   sslsocket_timeout_ms(), then call sslsocket_poll() on the sockets that
   woke up and on those whose timeout passed; the set of descriptors can
   change after each poll (lookup -> connect attempts -> connection).

   >>principles
   ============
   - NEVER BLOCKS.  No call waits on the network: not connect, not the host
     lookup (literals need none, /etc/hosts is read, other names go to a
     built-in nonblocking UDP resolver), not the handshake, not close.  Only
     sslsocket_wait() sleeps, and only up to its timeout.
   - NEVER ALLOCATES.  No malloc/free, no stdio, no getaddrinfo.  Everything
     lives in the caller's sslsocket and sslsocket_config structs and in the
     storage buffer handed to sslsocket_config_init().
   - POLLED.  sslsocket_poll() advances lookup, connect, handshake, I/O and
     shutdown as far as possible and returns event bits; the events are also
     available one by one, in order, with sslsocket_next_event().
   - SECURE BY DEFAULT.  Clients verify the chain and the host name (and
     iPAddress SANs for IP literals, and serverAuth EKU); TLS 1.2 minimum;
     ECDHE with AES-GCM or ChaCha20-Poly1305; close_notify on disconnect and
     truncation reported.
   - CLEAR ERRORS.  Every failure leaves an error code (Qt numbering) and a
     sentence naming the cause in sslsocket_error_string().

   >>conventions
   =============
   - Objects are caller-owned and MUST NOT be moved or copied after init.
     A config MUST outlive every socket that uses it; the storage given to
     sslsocket_config_init() MUST outlive the config.
   - Fields of the structs are private: use the accessor functions.
   - Functions that can fail return 0 (or a count) on success and -1 on
     failure; the socket's (or config's) error code and string tell why.
     "Would block" is never a failure.
   - Bad input (NULL, out-of-range numbers, calls in the wrong state) never
     crashes: it returns -1 with SSLSOCKET_ERR_OPERATION and a message that
     names the function, and leaves the socket as it was.

   >>states
   ========
   state         value  entered by                         left by
   UNCONNECTED   0      init, close, failure               connect*, listen
   HOST_LOOKUP   1      connect* (literals pass through)   addresses found / lookup failed
   CONNECTING    2      addresses known                    TCP up / every address failed
   CONNECTED     3      TCP established                    disconnect, peer close, error
   BOUND         4      sslsocket_bind                     connect*
   LISTENING     5      sslsocket_listen (server)          close
   CLOSING       6      disconnect or peer close           fd closed -> UNCONNECTED

   Normal client path (one line per event, in the order they are queued):

       connect_encrypted("host", 443)
         STATE_CHANGED(HOST_LOOKUP)
         STATE_CHANGED(CONNECTING), HOST_FOUND
         STATE_CHANGED(CONNECTED), MODE_CHANGED(SSL_CLIENT), CONNECTED
         [SSL_ERRORS]                      only when problems were found
         ENCRYPTED
         READY_READ / BYTES_WRITTEN ...
       disconnect()
         STATE_CHANGED(CLOSING)            queued data flushed, close_notify sent
         STATE_CHANGED(UNCONNECTED), DISCONNECTED
       abort(), or the peer's fatal alert  (nothing is flushed: no CLOSING, as Qt)
         [ERROR]                           the alert, named
         STATE_CHANGED(UNCONNECTED), DISCONNECTED
       a local failure (certificate refused: our alert is sent), the peer's
       close or truncation
         [SSL_ERRORS] ERROR, STATE_CHANGED(CLOSING), STATE_CHANGED(UNCONNECTED),
         DISCONNECTED

   STARTTLS path: connect() gives CONNECTED in UNENCRYPTED mode; after the
   plaintext exchange start_client_encryption() gives MODE_CHANGED(SSL_CLIENT)
   and later ENCRYPTED.  Plaintext received but unread at that moment is
   discarded (a man in the middle could have injected it) and counted in
   sslsocket_discarded_plaintext().

   start_client_encryption() / start_server_encryption() when not
   connected, still connecting, or already encrypted have no effect: -1,
   the reason in sslsocket_last_refusal(), error and events untouched.
   sslsocket_ignore_ssl_errors() called before a connection covers it, and
   every call lasts until the connection it covers ends.

   Invariants: mode becomes SSL_CLIENT/SSL_SERVER only while CONNECTED (it
   keeps its value after a close, for inspection, and is reset silently by
   the next connect); the error code is sticky until the
   next connect; DISCONNECTED follows STATE_CHANGED(UNCONNECTED) and fires
   only if CONNECTED was reached; a refused connection or failed lookup gives
   STATE_CHANGED(UNCONNECTED) then ERROR, no DISCONNECTED.  Bytes received
   before a close stay readable after it.

   >>polling
   =========
   sslsocket_poll() never waits.  It returns the OR of SSLSOCKET_EV_* bits for
   everything that happened since the previous poll (including events caused
   by API calls such as connect).  sslsocket_next_event() returns those same
   events one at a time in order, with their value (new state, new mode,
   error code, bytes written).  To sleep until there is work, use
   sslsocket_wait() or put sslsocket_fds() into your own poll/epoll set with
   the readiness sslsocket_wants() asks for, and wake up no later than
   sslsocket_timeout_ms() for the deadlines.  Act on the events of every
   poll, the first one after accept or start_*_encryption included: a slow
   process can find a whole handshake and the first data waiting in it.
   Data announced by READY_READ and left unread is not announced again,
   and while it waits the engine takes no more records: sslsocket_wants()
   may then ask for nothing, and sslsocket_timeout_ms() is 0 until a poll
   has moved it to the read buffer.

   >>verification
   ==============
   The library verifies the chain itself (>>paths), with BearSSL's RSA and
   ECDSA code checking every signature: the peer's certificates are kept
   whole (up to SSLSOCKET_CERT_BUFFER_SIZE bytes and
   SSLSOCKET_MAX_VERIFY_CHAIN certificates) and a bounded search tries
   candidate issuers, in any order and across cross-signatures, until a
   path reaches a trust anchor; the anchors keep their validity, key
   usage, EKU and name constraints.  Host names are matched against
   dNSName SANs only (no CN fallback; a wildcard only as the whole
   left-most label and never directly under a single label such as
   "*.com"), iPAddress SANs for IP literals (no SNI is sent for literals);
   plus the serverAuth/clientAuth Extended Key Usage, the verify depth,
   SHA-256 SPKI pinning, and collection of every problem rather than only
   the first.  Problems are reported as SSLSOCKET_SSLERR_* codes in
   sslsocket_ssl_errors().

   A renegotiation (when allowed) is verified like the first handshake
   and must present the same leaf certificate (PEER_CHANGED otherwise); its
   problems come as SSL_ERRORS at once, and under VERIFY_PEER they end the
   connection even in decision mode (the data phase is running: there is
   no moment to hold for a decision).  A leaf larger than
   SSLSOCKET_CERT_BUFFER_SIZE is TOO_LARGE, and the host name, EKU and pin
   checks it prevents count as failed.  A server under VERIFY_PEER needs
   anchors (or pins) for client certificates: start_server_encryption
   refuses otherwise, rather than asking for no certificate.

   Verify modes: VERIFY_NONE (no check, still encrypted), QUERY_PEER (check,
   record problems, continue), VERIFY_PEER (fail on any problem that is not
   ignored), AUTO_VERIFY_PEER (QUERY_PEER for servers, VERIFY_PEER for
   clients; the default).  With sslsocket_set_decide_ssl_errors(s, 1) a
   VERIFY_PEER socket that finds problems stops after the handshake's
   cryptography, queues SSLSOCKET_EV_SSL_ERRORS and waits: call
   sslsocket_ignore_ssl_errors() before the next poll to continue, otherwise
   the connection ends with SSL_HANDSHAKE_FAILED and none of the queued
   application data is sent.  Without that, a VERIFY_PEER failure happens
   inside the handshake: SSL_ERRORS then ERROR(SSL_HANDSHAKE_FAILED), and
   the peer gets a fatal alert (certificate_expired, unknown_ca,
   unsupported_certificate or bad_certificate; BearSSL 0.6 itself sends
   none, so the library does).  In decision mode the handshake has already
   completed when the caller refuses, and BearSSL 0.6 offers no way to send
   an encrypted fatal alert: the connection is just closed.

   Which check comes from where:
     BearSSL   the signature of every certificate of the path (RSA PKCS#1
               v1.5, ECDSA on P-256/384/521: nothing else verifies), the
               TLS key exchange with the leaf's key
     library   the path search: issuer by subject DN (AKI/SKI ordering),
               at most 16 certificates, 64 signature checks, 512 steps;
               every certificate's validity and the anchor's; basic
               constraints, cA and path length (self-issued certificates
               not counted); CA key usage keyCertSign, and keyCertSign
               only with cA; unknown critical extensions, the anchor's too;
               name constraints of every CA and of the anchor, critical or
               not: dNSName, iPAddress, directoryName (subject), rfc822Name
               and URI, permitted and excluded, malformed ones refused, a
               name that cannot be judged fails: NAME_CONSTRAINTS; EKU of
               the intermediates and the anchor (must allow the purpose or
               anyExtendedKeyUsage); RFC 5280 make-up as x509-limbo checks
               it (AKI unless self-issued, SKI and critical basic
               constraints on CAs, non-empty issuer and CA subject, SAN
               critical exactly when the subject is empty, key identifiers
               and AIA/SIA never critical, on the leaf and intermediates:
               PROFILE, a code of its own so that certificates of a private
               CA made by older tools, without key identifiers, can be let
               through by ignoring it; not on anchors: 8 of the 143 roots
               of Debian's store predate the profile; a malformed AIA:
               MALFORMED); RSA >= 2048 bits (WEAK_KEY); a leaf
               key BearSSL cannot use (DSA, P-192, Ed25519:
               UNSUPPORTED_KEY); SHA-1
               and MD5 signatures on the leaf and non-self-issued
               intermediates (WEAK_SIGNATURE); leaf rules as webpki's (no
               CA certificate as the leaf unless it is itself an anchor or
               pinned: CA_AS_LEAF; a key usage that allows TLS; serial
               1..20 bytes, not zero; RSA modulus of whole bytes:
               MALFORMED); revocation by the config's CRLs
               (sslsocket_config_add_crl_*: a CRL counts when its issuer
               DN is the certificate's, its signature verifies under the
               issuer's key in the path and that key may sign CRLs:
               REVOKED); host name, IP, leaf EKU (absent is fine;
               anyExtendedKeyUsage is refused, alone or not), verify depth,
               SPKI pins, every problem collected, the ignore list, the
               caller's decision
   Of the paths tried, the first without problems is taken; otherwise
   the problems of the best one are reported (one that reached an anchor
   before one that failed a signature before one with an unknown issuer).
   A chain larger than the capture buffer: what did not fit is left out
   of the search (TOO_LARGE is added when no path then verifies; a leaf
   that does not fit is TOO_LARGE and UNTRUSTED).
   sslsocket_verify_chain() runs the same checks on a chain without a
   connection (Qt's QSslCertificate::verify) and lists the same problems.
   x509-limbo's server cases (tests/limbo, run by make test, each through
   sslsocket_verify_chain and through a handshake whose server sends the
   case's chain, the two verdicts compared): 92 of 106 of the published
   suite and 124 of 151 of a newer one generated here answered as the
   suite says; the others are listed with their reasons in
   tests/limbo/known*.txt (most judge a root's own profile, or the CA/B
   rule that the CN repeat a SAN: the CN is never used here).  Also on
   the leaf of a server: an EKU that is not critical and names nothing
   but serverAuth/clientAuth, no name constraints (PROFILE).
   Not checked: OCSP, CRL distribution points (no fetching: only the CRLs
   given), certificate policies (no policy processing: the policy
   extensions are accepted, critical or not).

   >>server
   ========
   sslsocket_listen() makes a LISTENING socket (IPv4, IPv6, or both with
   "::"); poll reports NEW_CONNECTION while connections wait;
   sslsocket_accept() moves one into a caller-owned socket (CONNECTED,
   UNENCRYPTED), never more than the caller has room for: the rest waits in
   the kernel's backlog.  sslsocket_start_server_encryption() starts TLS at
   once, or after a plaintext exchange (STARTTLS: queue the "go ahead" line,
   then call it without polling in between).  The configuration holds up to
   SSLSOCKET_MAX_IDENTITIES certificate chains chosen by SNI
   (sslsocket_server_name() tells what the client asked for), the ALPN list
   (the server picks the first of its own protocols the client offers), a
   session cache in caller memory, and the client-certificate policy: the
   server's default is QUERY_PEER (ask, record problems, go on); VERIFY_PEER
   requires a valid client chain against the configured CAs.  The server's
   own cipher order is enforced.  Renegotiation is refused on both sides
   unless sslsocket_config_set_renegotiation() allows it (secure
   renegotiation only).  With TLS 1.3 in the configuration's range
   (sslsocket_config_set_versions) the server speaks TLS 1.3 to clients
   that offer it, with the same identities, SNI and ALPN rules and
   client-certificate policy, and TLS 1.2 (BearSSL's engine, the downgrade
   sentinel in its random) to the others (>>tls13).

   >>memory
   ========
   sizeof(sslsocket) is about 67 KiB with the defaults (68,368 bytes on
   x86-64): 33,178 bytes of BearSSL record buffer (full duplex, 16 KiB
   records each way), 4 KiB of BearSSL client/server context, 16 KiB where
   the peer's certificates are kept for the path search (>>paths; it runs
   on about 6 KiB of stack), 4 KiB read buffer, 4 KiB write queue, 2.5 KiB
   of peer certificate summary and chain, ~3 KiB of small state (with the
   session to resume: a TLS 1.3 ticket, SSLSOCKET_TICKET_SIZE).
   The small profile,
       -DSSLSOCKET_IOBUF_SIZE=4421 -DSSLSOCKET_HALF_DUPLEX=1
       -DSSLSOCKET_WRITE_BUFFER_SIZE=2048 -DSSLSOCKET_CERT_BUFFER_SIZE=0
   is 20,672 bytes: one buffer for both directions holding one 4 KiB
   record.  A client asks the server for 4 KiB records with the
   max_fragment_length extension (RFC 6066: OpenSSL >= 1.1.1 and GnuTLS
   grant it); a server in this profile serves clients that ask for it, and
   fails with "record too large" on a client that sends 16 KiB records.
   Half duplex also means the engine sends nothing while received data
   waits to be read.  A peer certificate larger than
   SSLSOCKET_CERT_BUFFER_SIZE (with 0, as in the small profile, the read
   buffer is used: SSLSOCKET_READ_BUFFER_SIZE) is reported as TOO_LARGE,
   and the checks that need it (host name, EKU, pins) as failed too, so
   that ignoring TOO_LARGE alone never accepts it.
   Why the default is above 48 KiB: 16 KiB outgoing records cost 16 KiB of
   output buffer.  8 KiB ones (SSLSOCKET_IOBUF_SIZE=24986, a 45 KiB socket)
   measured 15% slower bulk in memory (BearSSL's cost per record) and less
   than half the loopback rate (a send per record); a process with many
   idle connections pays for the pages it touches, not for sizeof: about
   15 KiB resident per connection after a handshake, about 10 KiB once idle
   (sslsocket_config_set_idle_release gives the record buffer's pages back;
   tests/bench/results.md has the measurements).
   sslsocket_config is ~3 KiB (with SSLSOCKET_CLIENT_SESSIONS kept
   sessions) plus the caller's storage (the Debian system CA bundle takes
   about 70 KB of it); sslsocket_pipe is 2 x SSLSOCKET_PIPE_SIZE.

   >>departures
   ============
   Where this header departs from the project SPEC, and why:
   - "No error" is SSLSOCKET_ERR_UNKNOWN (-1) with an empty string, as in
     Qt's QAbstractSocket::error().
   - Events come as bits from sslsocket_poll() plus an ordered queue
     (sslsocket_next_event) rather than callbacks: C callers keep their own
     control flow, and the Lua binding turns the queue into handlers.
   - The SSL-errors decision is opt-in per socket
     (sslsocket_set_decide_ssl_errors): C has no "handler is set" to test.
   - Timeouts are per phase (lookup, connect, handshake, idle, close) and
     error strings say which one fired.
   - sslsocket_set_config() during a TLS connection takes effect when the
     connection ends (sslsocket_get_config() tells which one is in use):
     the engine points into the configuration it started with.
   - One poll takes at most 64 records or 10 ms of received records (the
     rest waits; sslsocket_timeout_ms() is then 0), and more than 32
     records in a row without application data after the handshake (empty
     records, warning alerts) end the connection with SSL_INTERNAL, as
     OpenSSL limits empty records and warning alerts.
   - Secrets are wiped when a connection ends (record keys, master secret,
     plaintext already read, queued output); bytes not yet read stay until
     read.  sslsocket_config_wipe() clears a config before it is freed.
     SSLKEYLOGFILE is read with secure_getenv (ignored by setuid programs)
     and only appended to a regular file (created 0600, no symlink).

   >>limits
   ========
   No SSL 3, no TLS 1.2 session tickets, no OCSP, no DHE, no RSA-PSS or
   Ed25519 certificates: BearSSL 0.6.  TLS 1.3 is the library's own
   (>>tls13), client and server (client tickets; the server issues none
   yet; no 0-RTT), and only with a full-duplex record buffer of at least
   20,741 bytes (the small profile
   speaks TLS 1.2).  POSIX
   only (Linux tested).  sslsocket_wait() handles up to 1024 descriptors;
   beyond that, use epoll with sslsocket_fds().
*/
#ifndef SSLSOCKET_H_INCLUDED
#define SSLSOCKET_H_INCLUDED

/* The implementation uses POSIX/GNU interfaces (accept4, getrandom, syscall):
   include this header before any system header in the implementation TU,
   or define _GNU_SOURCE yourself. */
#if defined(SSLSOCKET_IMPLEMENTATION) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1
#endif

#define SSLSOCKET_VERSION_MAJOR 0
#define SSLSOCKET_VERSION_MINOR 1
#define SSLSOCKET_VERSION_PATCH 0
#define SSLSOCKET_VERSION_STRING "0.1.0"

/* >>config =================================================================
   Compile-time configuration.  Size macros change struct layout: they MUST
   be identical in every translation unit that includes this header.

   macro                          default     meaning
   SSLSOCKET_IMPLEMENTATION       -           define in exactly one TU
   SSLSOCKET_STATIC               -           make every function static
   SSLSOCKET_API                  extern      linkage of the public API
   SSLSOCKET_ASSERT(x)            assert(x)   internal invariants only
   SSLSOCKET_IOBUF_SIZE           33178       BearSSL record buffer
   SSLSOCKET_HALF_DUPLEX          0           1: one buffer for both directions
   SSLSOCKET_READ_BUFFER_SIZE     4096        decrypted/plain bytes buffered
   SSLSOCKET_WRITE_BUFFER_SIZE    4096        bytes queued before encryption
   SSLSOCKET_CERT_BUFFER_SIZE     16384       the peer's chain, kept whole
                                              (0: the read buffer is used)
   SSLSOCKET_MAX_VERIFY_CHAIN     16          peer certificates considered
   SSLSOCKET_MAX_ADDRS            8           addresses kept from a lookup
   SSLSOCKET_MAX_HOSTNAME         256         host name buffer (with NUL)
   SSLSOCKET_ERROR_STRING_SIZE    256         error message buffer
   SSLSOCKET_MAX_EVENTS           32          events queued between polls
   SSLSOCKET_MAX_SSL_ERRORS       16          certificate problems recorded
   SSLSOCKET_MAX_CHAIN            8           own certificate chain length
   SSLSOCKET_MAX_PINS             8           SPKI pins per config
   SSLSOCKET_MAX_CRLS             16          CRLs per config
   SSLSOCKET_MAX_ALPN             8           ALPN protocols per config
   SSLSOCKET_MAX_NAMESERVERS      3           resolver servers per config
   SSLSOCKET_MAX_IDENTITIES       4           certificate+key pairs (SNI)
   SSLSOCKET_CLIENT_SESSIONS      8           client sessions kept per config
   SSLSOCKET_TICKET_SIZE          512         bytes of a TLS 1.3 ticket kept
   SSLSOCKET_PIPE_SIZE            17000       in-memory transport, per direction
*/
#ifndef SSLSOCKET_IOBUF_SIZE
#define SSLSOCKET_IOBUF_SIZE 33178 /* BR_SSL_BUFSIZE_BIDI */
#endif
#ifndef SSLSOCKET_HALF_DUPLEX
#define SSLSOCKET_HALF_DUPLEX 0
#endif
#ifndef SSLSOCKET_READ_BUFFER_SIZE
#define SSLSOCKET_READ_BUFFER_SIZE 4096
#endif
#ifndef SSLSOCKET_WRITE_BUFFER_SIZE
#define SSLSOCKET_WRITE_BUFFER_SIZE 4096
#endif
#ifndef SSLSOCKET_CERT_BUFFER_SIZE
#define SSLSOCKET_CERT_BUFFER_SIZE 16384
#endif
#if SSLSOCKET_CERT_BUFFER_SIZE != 0 && SSLSOCKET_CERT_BUFFER_SIZE < 1024
#error "SSLSOCKET_CERT_BUFFER_SIZE must be 0 (share the read buffer) or >= 1024"
#endif
#ifndef SSLSOCKET_MAX_ADDRS
#define SSLSOCKET_MAX_ADDRS 8
#endif
#ifndef SSLSOCKET_MAX_HOSTNAME
#define SSLSOCKET_MAX_HOSTNAME 256
#endif
#ifndef SSLSOCKET_ERROR_STRING_SIZE
#define SSLSOCKET_ERROR_STRING_SIZE 256
#endif
#ifndef SSLSOCKET_MAX_EVENTS
#define SSLSOCKET_MAX_EVENTS 32
#endif
#ifndef SSLSOCKET_MAX_SSL_ERRORS
#define SSLSOCKET_MAX_SSL_ERRORS 16
#endif
#ifndef SSLSOCKET_MAX_CHAIN
#define SSLSOCKET_MAX_CHAIN 8
#endif
#ifndef SSLSOCKET_MAX_CRLS
#define SSLSOCKET_MAX_CRLS 16
#endif
#ifndef SSLSOCKET_MAX_PINS
#define SSLSOCKET_MAX_PINS 8
#endif
#ifndef SSLSOCKET_MAX_ALPN
#define SSLSOCKET_MAX_ALPN 8
#endif
#ifndef SSLSOCKET_MAX_NAMESERVERS
#define SSLSOCKET_MAX_NAMESERVERS 3
#endif
#ifndef SSLSOCKET_MAX_IDENTITIES
#define SSLSOCKET_MAX_IDENTITIES 4
#endif
#ifndef SSLSOCKET_CLIENT_SESSIONS
#define SSLSOCKET_CLIENT_SESSIONS 8
#endif
/* The largest TLS 1.3 ticket a client keeps (larger ones: no resumption).
   OpenSSL's and GnuTLS's are 190 to 250 bytes (more when they hold a
   client certificate).  A record buffer too small for TLS 1.3 keeps none. */
#ifndef SSLSOCKET_TICKET_SIZE
#if SSLSOCKET_IOBUF_SIZE >= 5 + 16384 + 256 + 4096
#define SSLSOCKET_TICKET_SIZE 512
#else
#define SSLSOCKET_TICKET_SIZE 1
#endif
#endif
#if SSLSOCKET_CLIENT_SESSIONS < 1
#error "SSLSOCKET_CLIENT_SESSIONS must be >= 1 (sslsocket_config_set_client_sessions(cfg, 0) turns reuse off)"
#endif

#if SSLSOCKET_IOBUF_SIZE < 837
#error "SSLSOCKET_IOBUF_SIZE is below BearSSL's minimum (512-byte fragments + overhead)"
#endif
#if SSLSOCKET_READ_BUFFER_SIZE < 512 || SSLSOCKET_WRITE_BUFFER_SIZE < 512
#error "SSLSOCKET_READ_BUFFER_SIZE and SSLSOCKET_WRITE_BUFFER_SIZE must be >= 512"
#endif

#ifndef SSLSOCKET_API
#ifdef SSLSOCKET_STATIC
#define SSLSOCKET_API static
#else
#define SSLSOCKET_API extern
#endif
#endif

#include <stddef.h>
#include <stdint.h>
#include <bearssl.h>

#ifdef __cplusplus
extern "C" {
#endif

/* >>types ==================================================================*/

/* Socket states (values shared with the Lua binding; see >>states). */
enum {
    SSLSOCKET_UNCONNECTED = 0,
    SSLSOCKET_HOST_LOOKUP = 1,
    SSLSOCKET_CONNECTING = 2,
    SSLSOCKET_CONNECTED = 3,
    SSLSOCKET_BOUND = 4,
    SSLSOCKET_LISTENING = 5,
    SSLSOCKET_CLOSING = 6
};

/* Encryption modes. */
enum {
    SSLSOCKET_UNENCRYPTED = 0,
    SSLSOCKET_SSL_CLIENT = 1,
    SSLSOCKET_SSL_SERVER = 2
};

/* Peer verification modes (see >>verification). */
enum {
    SSLSOCKET_VERIFY_NONE = 0,      /* DANGEROUS: no check of the peer */
    SSLSOCKET_QUERY_PEER = 1,       /* check and record, never fail */
    SSLSOCKET_VERIFY_PEER = 2,      /* fail on problems not ignored */
    SSLSOCKET_AUTO_VERIFY_PEER = 3  /* QUERY_PEER server, VERIFY_PEER client */
};

/* Open modes (Stream).  APPEND and TRUNCATE mean nothing for sockets. */
enum {
    SSLSOCKET_NOT_OPEN = 0x00,
    SSLSOCKET_READ_ONLY = 0x01,
    SSLSOCKET_WRITE_ONLY = 0x02,
    SSLSOCKET_READ_WRITE = 0x03,
    SSLSOCKET_APPEND = 0x04,
    SSLSOCKET_TRUNCATE = 0x08
};

/* Error codes: Qt's QAbstractSocket numbering, shared with the Lua binding.
   One X-macro gives the enum and the default sentences. */
#define SSLSOCKET__ERRORS(X)                                                  \
    X(CONNECTION_REFUSED, 0, "connection refused")                            \
    X(REMOTE_HOST_CLOSED, 1, "remote host closed the connection")             \
    X(HOST_NOT_FOUND, 2, "host not found")                                    \
    X(SOCKET_ACCESS, 3, "permission denied")                                  \
    X(SOCKET_RESOURCE, 4, "out of resources")                                 \
    X(SOCKET_TIMEOUT, 5, "operation timed out")                               \
    X(DATAGRAM_TOO_LARGE, 6, "datagram too large")                            \
    X(NETWORK, 7, "network error")                                            \
    X(ADDRESS_IN_USE, 8, "address in use")                                    \
    X(SOCKET_ADDRESS_NOT_AVAILABLE, 9, "address not available")               \
    X(UNSUPPORTED_SOCKET_OPERATION, 10, "unsupported operation")              \
    X(UNFINISHED_SOCKET_OPERATION, 11, "operation still in progress")        \
    X(SSL_HANDSHAKE_FAILED, 13, "TLS handshake failed")                       \
    X(OPERATION, 19, "operation not permitted")                               \
    X(SSL_INTERNAL, 20, "TLS internal error")                                 \
    X(SSL_INVALID_USERDATA, 21, "invalid TLS data")                           \
    X(TEMPORARY, 22, "temporary error")                                       \
    X(UNKNOWN, -1, "unknown error")
#define SSLSOCKET__ERR_ENUM(name, value, text) SSLSOCKET_ERR_##name = value,
enum { SSLSOCKET__ERRORS(SSLSOCKET__ERR_ENUM) SSLSOCKET_ERR_NONE_ = -2 };
#undef SSLSOCKET__ERR_ENUM

/* Event bits returned by sslsocket_poll(). */
#define SSLSOCKET_EV_HOST_FOUND     0x0001u /* lookup done, connecting */
#define SSLSOCKET_EV_CONNECTED      0x0002u /* TCP connection established */
#define SSLSOCKET_EV_MODE_CHANGED   0x0004u /* value: the new mode */
#define SSLSOCKET_EV_ENCRYPTED      0x0008u /* handshake complete */
#define SSLSOCKET_EV_READY_READ     0x0010u /* new bytes to read */
#define SSLSOCKET_EV_BYTES_WRITTEN  0x0020u /* value: bytes that left */
#define SSLSOCKET_EV_STATE_CHANGED  0x0040u /* value: the new state */
#define SSLSOCKET_EV_ERROR          0x0080u /* value: the error code */
#define SSLSOCKET_EV_DISCONNECTED   0x0100u /* connection closed */
#define SSLSOCKET_EV_NEW_CONNECTION 0x0200u /* listening socket: accept */
#define SSLSOCKET_EV_SSL_ERRORS     0x0400u /* certificate problems found */

/* Readiness bits for sslsocket_wants() / sslsocket_fds(). */
#define SSLSOCKET_WANT_READ  0x1u
#define SSLSOCKET_WANT_WRITE 0x2u

/* Protocol versions (BearSSL's values). */
#define SSLSOCKET_TLS10 0x0301
#define SSLSOCKET_TLS11 0x0302
#define SSLSOCKET_TLS12 0x0303
#define SSLSOCKET_TLS13 0x0304

/* Certificate problems (Qt's QSslError in spirit).  The *_ALL mask bit of a
   code is (1u << code). */
#define SSLSOCKET__SSLERRORS(X)                                               \
    X(NONE, 0, "no error")                                                    \
    X(UNTRUSTED, 1, "certificate is not trusted (unknown issuer)")           \
    X(EXPIRED, 2, "certificate expired")                                      \
    X(NOT_YET_VALID, 3, "certificate is not yet valid")                       \
    X(HOST_MISMATCH, 4, "host name mismatch")                                 \
    X(IP_MISMATCH, 5, "IP address not in certificate")                        \
    X(WILDCARD, 6, "wildcard not allowed here")                               \
    X(NO_SAN, 7, "certificate has no subject alternative name")              \
    X(EKU, 8, "certificate not allowed for this purpose (extended key usage)")\
    X(CHAIN_TOO_LONG, 9, "certificate chain too long")                        \
    X(INVALID_CHAIN, 10, "certificate chain is invalid")                      \
    X(BAD_SIGNATURE, 11, "certificate signature is invalid")                  \
    X(CRITICAL_EXTENSION, 12, "unsupported critical extension")               \
    X(WEAK_KEY, 13, "certificate key is too weak")                            \
    X(PIN_MISMATCH, 14, "public key pin mismatch")                            \
    X(NO_PEER_CERTIFICATE, 15, "peer sent no certificate")                    \
    X(TOO_LARGE, 16, "certificate too large to inspect")                      \
    X(NOT_CA, 17, "issuer is not a CA")                                       \
    X(KEY_USAGE, 18, "certificate key usage forbids this use")               \
    X(MALFORMED, 19, "certificate is malformed")                              \
    X(PEER_CHANGED, 20, "peer certificate changed in a renegotiation")        \
    X(CA_AS_LEAF, 21, "a CA certificate is used as an end-entity certificate") \
    X(WEAK_SIGNATURE, 22, "certificate signed with a weak hash (SHA-1 or MD5)") \
    X(NAME_CONSTRAINTS, 23, "a name is outside an issuer's name constraints") \
    X(REVOKED, 24, "certificate revoked")                                      \
    X(UNSUPPORTED_KEY, 25, "certificate key type not supported (RSA and ECDSA P-256/384/521 only)") \
    X(PROFILE, 26, "certificate does not follow the RFC 5280 profile")
#define SSLSOCKET__SSLERR_ENUM(name, value, text) SSLSOCKET_SSLERR_##name = value,
enum { SSLSOCKET__SSLERRORS(SSLSOCKET__SSLERR_ENUM) SSLSOCKET_SSLERR_COUNT_ };
#undef SSLSOCKET__SSLERR_ENUM
#define SSLSOCKET_SSLERR_MASK(code) (1u << (code))
#define SSLSOCKET_SSLERR_ALL 0xFFFFFFFEu

/* A network address without system headers: family 4 or 6 (0 = none),
   address bytes in network order, port in host order. */
typedef struct sslsocket_address {
    unsigned char family;
    unsigned char bytes[16];
    unsigned short port;
} sslsocket_address;

/* A TLS 1.3 ticket (RFC 8446 4.6.1) and the PSK it stands for. */
typedef struct sslsocket__ticket {
    unsigned char data[SSLSOCKET_TICKET_SIZE];
    size_t len;                 /* 0: none (a TLS 1.2 session) */
    unsigned char psk[48];
    int suite;                  /* the suite it came with: its hash is the PSK's */
    uint32_t age_add, lifetime; /* from the server; lifetime in seconds */
    int64_t received;           /* sslsocket's clock, ms */
} sslsocket__ticket;

/* A saved TLS session for resumption (see sslsocket_get_session): TLS 1.2
   session parameters, or a TLS 1.3 ticket. */
typedef struct sslsocket_session {
    br_ssl_session_parameters params;
    sslsocket__ticket ticket;
    char host[SSLSOCKET_MAX_HOSTNAME]; /* the peer name it belongs to */
    unsigned char policy[32];   /* digest of name, port and verification policy */
    int verified;               /* from a handshake that verified the peer fully */
    int valid;
} sslsocket_session;

/* Key-log callback: one NSS key-log line without the newline. */
typedef void (*sslsocket_keylog_fn)(void *user, const char *line);

/*:private types (layout only; do not touch the fields) */
typedef struct sslsocket__arena {
    unsigned char *base;
    size_t size, lo, hi, n_anchors;
    int oom; /* a load ran out of space (reset by each config call) */
} sslsocket__arena;

typedef struct sslsocket__key {
    int type; /* BR_KEYTYPE_RSA, BR_KEYTYPE_EC, 0 = none */
    br_rsa_private_key rsa;
    br_ec_private_key ec;
} sslsocket__key;

/* One certificate chain with its key (a server may have several: SNI). */
typedef struct sslsocket__identity {
    br_x509_certificate chain[SSLSOCKET_MAX_CHAIN];
    size_t n_chain;
    sslsocket__key key;
} sslsocket__identity;

#ifndef SSLSOCKET__MAX_NAME
#define SSLSOCKET__MAX_NAME 254             /* host name bytes incl. NUL (253 + NUL) */
#endif
#ifndef SSLSOCKET__RESOLVE_MAX_NS
#define SSLSOCKET__RESOLVE_MAX_NS 3         /* name servers used, like glibc's MAXNS */
#endif
#ifndef SSLSOCKET__RESOLVE_MAX_PER_FAMILY
#define SSLSOCKET__RESOLVE_MAX_PER_FAMILY (SSLSOCKET_MAX_ADDRS / 2)
#endif
#define SSLSOCKET__RESOLVE_DELAY_MS 50      /* RFC 8305 resolution delay */
#define SSLSOCKET__RESOLVE_MAX_READS 64     /* datagrams read per step, so a flood cannot stall */
#define SSLSOCKET__DNS_MAX_PACKET 1232      /* largest response accepted over UDP */
#define SSLSOCKET__DNS_MAX_WIRE_NAME 255    /* RFC 1035 2.3.4 */
#define SSLSOCKET__DNS_MAX_HOPS 128         /* compression pointers followed per name */
#define SSLSOCKET__DNS_MAX_CNAME 16         /* CNAME links followed per answer */
#define SSLSOCKET__LINE_MAX 1024            /* longest hosts/resolv.conf line parsed */
#define SSLSOCKET__FILE_MAX_BYTES (32L * 1024 * 1024)  /* read no more of a config file */

#if SSLSOCKET__RESOLVE_MAX_NS > 8 || SSLSOCKET__RESOLVE_MAX_PER_FAMILY > 255
#error "SSLSOCKET__RESOLVE_MAX_NS must be <= 8 and SSLSOCKET__RESOLVE_MAX_PER_FAMILY <= 255"
#endif

/* State of one lookup. Fixed size, no pointers: it may be copied while idle. */
typedef struct sslsocket__resolver {
    int64_t timer_ms;           /* next retransmission, or end of the resolution delay */
    int64_t deadline_ms;        /* give up at this time whatever happens */
    int fd;                     /* nonblocking UDP socket, -1 when none */
    unsigned short timeout_ms;  /* per try, 1..60000 */
    unsigned short id[2];       /* random query ids: [0] A, [1] AAAA */
    unsigned char state;        /* SSLSOCKET__RSTATE_* */
    unsigned char flags;        /* SSLSOCKET__RFLAG_* */
    unsigned char n_ns;         /* servers in ns[] */
    unsigned char tries;        /* tries started; try k goes to ns[k % n_ns] */
    unsigned char max_tries;    /* attempts * n_ns */
    unsigned char sent;         /* bit i: ns[i] was queried through fd (replies accepted) */
    unsigned char answered;     /* SSLSOCKET__RQ_DONE(q) / SSLSOCKET__RQ_NX(q) bits */
    unsigned char n4, n6;       /* addresses in v4[] and v6[] */
    unsigned char why;          /* last failure: rcode 1..15 or SSLSOCKET__RWHY_* */
    unsigned char err;          /* errno of the last local failure, if any (clamped) */
    unsigned char why_ns;       /* server of the last failure (low nibble) and of the
                                 * final answer (high nibble) */
    sslsocket_address ns[SSLSOCKET__RESOLVE_MAX_NS];
    unsigned char v6[SSLSOCKET__RESOLVE_MAX_PER_FAMILY][16];
    unsigned char v4[SSLSOCKET__RESOLVE_MAX_PER_FAMILY][4];
    char name[SSLSOCKET__MAX_NAME];
} sslsocket__resolver;

#ifndef SSLSOCKET_CERT_NAME_SIZE
#define SSLSOCKET_CERT_NAME_SIZE 256
#endif
#ifndef SSLSOCKET_CERT_SAN_SIZE
#define SSLSOCKET_CERT_SAN_SIZE 512
#endif

/* A compact summary of a peer certificate.  Every string is NUL-terminated; a string that
 * does not fit ends with "...". */
typedef struct sslsocket_cert_info {
    char subject[SSLSOCKET_CERT_NAME_SIZE]; /* "CN=example.com,O=Example" (RFC 2253 order) */
    char issuer[SSLSOCKET_CERT_NAME_SIZE];
    char common_name[128];                  /* last CN of the subject, "" if none */
    char subject_alt_names[SSLSOCKET_CERT_SAN_SIZE]; /* "DNS:a.example, IP:127.0.0.1, IP:::1" */
    int64_t not_before, not_after;          /* Unix seconds */
    char serial[130];                       /* uppercase hex, as openssl x509 -serial */
    unsigned char sha256[32];               /* of the whole DER */
    unsigned char spki_sha256[32];          /* of the SubjectPublicKeyInfo DER (pinning) */
    int key_type;                           /* BR_KEYTYPE_RSA, BR_KEYTYPE_EC, 0 unknown */
    int key_bits;                           /* RSA modulus bits, EC curve bits, 0 unknown */
    int is_ca;                              /* basicConstraints cA */
    int version;                            /* 1..3 */
    char sig_alg[32];                       /* "sha256WithRSAEncryption", "ecdsa-with-SHA256" */
} sslsocket_cert_info;

/* A client session remembered by a config for its peer (see
   sslsocket_config_set_client_sessions). */
typedef struct sslsocket__csession {
    unsigned char key[32];              /* policy digest: name, port, verification */
    br_ssl_session_parameters params;
    sslsocket__ticket ticket;           /* TLS 1.3 */
    unsigned used;                      /* clock of the last use, 0 = free */
} sslsocket__csession;

#define SSLSOCKET__CACHE_WAYS 4 /* server cache: entries per set */
/* One session of the server cache (in the caller's memory, see
   sslsocket_config_set_session_cache). */
typedef struct sslsocket__sentry {
    br_ssl_session_parameters params;
    unsigned char tag[16];              /* policy digest: SNI name, client verification */
    unsigned problems;                  /* SSLERR mask of the full handshake */
    unsigned used;                      /* clock of the last use, 0 = free */
} sslsocket__sentry;

/* The configuration shared by many sockets (see sslsocket_config_init). */
typedef struct sslsocket_config {
    sslsocket__arena arena;
    int verify_mode, verify_depth;
    unsigned version_min, version_max;
    uint16_t suites[32];            /* TLS 1.2 and older */
    size_t n_suites;
    uint16_t suites13[3];           /* TLS 1.3 (>>tls13) */
    size_t n_suites13;
    int server_tls13;               /* set_versions put TLS 1.3 in the range: servers serve it */
    const char *alpn[SSLSOCKET_MAX_ALPN];
    char alpn_store[128];
    size_t n_alpn;
    sslsocket__identity ids[SSLSOCKET_MAX_IDENTITIES]; /* [0] is the default */
    size_t n_ids;
    const br_ssl_session_cache_class *cache_vtable; /* what server engines point at */
    sslsocket__sentry *cache;        /* server session cache, or NULL */
    size_t cache_sets;               /* of SSLSOCKET__CACHE_WAYS entries */
    unsigned cache_clock;
    unsigned char trust_digest[32];  /* of the anchors, for the policy digests */
    size_t trust_key[3];             /* anchors, arena lo/hi it was made from */
    sslsocket__csession csessions[SSLSOCKET_CLIENT_SESSIONS]; /* client side */
    unsigned csession_clock;
    int client_sessions_off;
    unsigned char pins[SSLSOCKET_MAX_PINS][32];
    size_t n_pins;
    br_x509_certificate crls[SSLSOCKET_MAX_CRLS]; /* DER in the arena */
    size_t n_crls;
    int lookup_ms, connect_ms, handshake_ms, idle_ms, close_ms;
    int release_ms;           /* idle buffer release, 0 = never */
    sslsocket_address nameservers[SSLSOCKET_MAX_NAMESERVERS];
    int n_nameservers, dns_attempts;
    const char *hosts_path;   /* default /etc/hosts */
    const char *resolv_path;  /* default /etc/resolv.conf */
    int64_t fixed_time;       /* 0 = real clock */
    unsigned ignore_mask;
    int allow_renegotiation;
    sslsocket_keylog_fn keylog;
    void *keylog_user;
    int error;
    char error_string[SSLSOCKET_ERROR_STRING_SIZE];
} sslsocket_config;


#ifndef SSLSOCKET_MAX_VERIFY_CHAIN
#define SSLSOCKET_MAX_VERIFY_CHAIN 16 /* certificates of the peer's chain considered */
#endif
#ifndef SSLSOCKET_MAX_PEER_CHAIN
#define SSLSOCKET_MAX_PEER_CHAIN 4 /* issuer certificates summarised */
#endif
/* One certificate of the peer's chain above the leaf. */
typedef struct sslsocket_chain_entry {
    char subject[128];            /* RFC 2253, truncated with "..." */
    char issuer[128];
    unsigned char sha256[32];     /* of the DER */
} sslsocket_chain_entry;

/* The X.509 class the engine calls for the peer's chain (see >>paths). */
typedef struct sslsocket__x509 {
    const br_x509_class *vtable;
    struct sslsocket *sock;
    const br_x509_trust_anchor *ta; /* the config's anchors */
    size_t n_ta;
    int n_certs, capture_len, capture_overflow, pkey_ok;
    int cap_off, cap_len, cap_ok;   /* the certificate being kept */
    int cap_end;                    /* capture buffer used so far */
    int dropped;                    /* certificates that could not be kept */
    int der_off[SSLSOCKET_MAX_VERIFY_CHAIN], der_len[SSLSOCKET_MAX_VERIFY_CHAIN]; /* kept */
    int had_leaf;                   /* renegotiation: prev_leaf holds the first leaf */
    unsigned char prev_leaf[32];    /* SHA-256 of the leaf of the first handshake */
    br_x509_pkey pkey;
    unsigned char pkey_buf[520];
} sslsocket__x509;

#ifndef SSLSOCKET_PIPE_SIZE
#define SSLSOCKET_PIPE_SIZE 17000 /* per direction: one full TLS record fits */
#endif
/* An in-memory transport joining two sockets (see sslsocket_pipe_connect). */
typedef struct sslsocket_pipe {
    unsigned char buf[2][SSLSOCKET_PIPE_SIZE]; /* [0] client->server, [1] back */
    size_t len[2];                             /* bytes waiting in buf[i] */
    size_t off[2];                             /* where they start */
    int closed[2];                             /* side i closed its end */
} sslsocket_pipe;

/* The SNI policy wrapper (see >>tls). */
typedef struct sslsocket__sni {
    const br_ssl_server_policy_class *vtable;
    struct sslsocket *sock;
} sslsocket__sni;

typedef struct sslsocket__eventrec {
    unsigned short type;
    int value;
} sslsocket__eventrec;

#define SSLSOCKET__TLS13_MAX_HASH 48 /* SHA-384 */

/* The write key and IV of a traffic secret, and its record counter. */
typedef struct sslsocket__tls13_keys {
    unsigned char key[32], iv[12];
    size_t key_len;                 /* 16 or 32 */
    int chacha;                     /* ChaCha20-Poly1305, else AES-GCM */
    uint64_t seq;
} sslsocket__tls13_keys;

#define SSLSOCKET__T13_WAIT_SH 1
#define SSLSOCKET__T13_WAIT_EE 2
#define SSLSOCKET__T13_WAIT_CERT 3
#define SSLSOCKET__T13_WAIT_CV 4
#define SSLSOCKET__T13_WAIT_FIN 5
#define SSLSOCKET__T13_CONNECTED 6
#define SSLSOCKET__T13_FAILED 7
#define SSLSOCKET__T13_FALLBACK 8  /* the server chose TLS 1.2: BearSSL's engine takes over */
/* the server's states (FALLBACK: the client offered no TLS 1.3) */
#define SSLSOCKET__T13_S_WAIT_CH 9    /* the first ClientHello */
#define SSLSOCKET__T13_S_WAIT_CH2 10  /* the second, after our HelloRetryRequest */
#define SSLSOCKET__T13_S_WAIT_CERT 11 /* the client's Certificate (we asked) */
#define SSLSOCKET__T13_S_WAIT_CV 12   /* its CertificateVerify */
#define SSLSOCKET__T13_S_WAIT_FIN 13  /* its Finished */

typedef struct sslsocket__t13 {
    int state;
    int suite;                      /* 0x1301.. */
    unsigned char suites13[6];      /* offered (wire form) */
    size_t suites13_len;
    const br_hash_class *h;
    size_t hlen;
    br_sha256_context th256;        /* the transcript, both until the suite is known */
    br_sha384_context th384;
    unsigned char random[32], session_id[32], x25519[32], p256[32];
    size_t sid_len;                 /* 32 (middlebox compatibility) */
    int group;                      /* the key share offered: 0x1d X25519, 0x17 P-256 */
    int hrr;                        /* a HelloRetryRequest came */
    char host[256];                 /* the SNI name ("" none), for a second ClientHello */
    unsigned char hs_secret[SSLSOCKET__TLS13_MAX_HASH], c_hs[SSLSOCKET__TLS13_MAX_HASH];
    unsigned char s_hs[SSLSOCKET__TLS13_MAX_HASH];
    sslsocket__tls13_keys rk, wk;   /* read / write */
    int keys_in;                    /* records are protected (server side) */
    const br_x509_class **xc;       /* the chain's verifier */
    unsigned char *hbuf;            /* handshake message reassembly */
    size_t hcap, hlen_in;
    unsigned char out[1024];        /* records to send */
    unsigned char c_ap[SSLSOCKET__TLS13_MAX_HASH], s_ap[SSLSOCKET__TLS13_MAX_HASH]; /* KeyUpdate */
    unsigned char post[512];        /* post-handshake messages split across records */
    unsigned key_updates;           /* KeyUpdates received */
    int cert_requested;             /* CertificateRequest came */
    unsigned char cr_ctx[32];       /* its context */
    size_t cr_ctx_len;
    size_t out_len;
    int alert;                      /* the alert sent on failure */
    const char *why;
    int br_err;                     /* for the socket: BearSSL's code, or SSLSOCKET__T13_ERR */
    unsigned char alpn_offer[64];   /* the ALPN list offered (wire form) */
    size_t alpn_offer_len;
    char alpn[64];                  /* the protocol the server selected, "" none */
    /* the record engine over the socket's record buffer (sslsocket__e_*) */
    size_t in_len;                  /* bytes of the record coming in */
    size_t app_off, app_len;        /* its data, not yet taken */
    size_t q_off, q_len;            /* bytes to send, at the output area */
    int closing, close_sent;
    /* TLS 1.2 offered too (a client with the range 1.2..1.3): the first
       ClientHello stays at the output area for BearSSL's engine */
    int offer12;
    unsigned version_min;           /* the lowest version offered */
    unsigned char suites12[80];     /* BearSSL's suites (wire form), after ours */
    size_t suites12_len;
    size_t ch_len;                  /* the first ClientHello (handshake message) */
    size_t fb_at;                   /* fallback: where the ServerHello starts in hbuf/record */
    /* client certificates */
    const sslsocket__identity *id;  /* ours, or NULL */
    int cr_scheme;                  /* the signature scheme for it, 0: an empty Certificate */
    unsigned char *fl;              /* where the client's last flight goes (else out) */
    size_t fl_cap;
    int fl_used;
    /* resumption: the ticket offered (its PSK), the one received */
    const sslsocket__ticket *offer; /* or NULL */
    uint32_t offer_age;             /* obfuscated_ticket_age */
    int psk_accepted;
    unsigned char res[SSLSOCKET__TLS13_MAX_HASH]; /* resumption_master_secret */
    sslsocket__ticket *nst;         /* where a NewSessionTicket goes, or NULL */
    int nst_new;                    /* one came */
    /* the server (sslsocket__t13s_*): the client's random is in random
       (key logging names the connection by it), its legacy session id in
       session_id, the SNI name in host, our identity in id, its flight
       at fl */
    int server;
    const sslsocket_config *cfg;    /* identities, ALPN list, suite order */
    unsigned char s_random[32];     /* our ServerHello random */
    int sig_scheme;                 /* our CertificateVerify's */
    int want_cert;                  /* CertificateRequest: 0 none, 1 ask, 2 require */
    int allow12;                    /* no TLS 1.3 offered: BearSSL's engine takes the hello */
    int early;                      /* early_data offered: records that do not open are skipped */
    size_t early_skipped;
    int ccs_seen, ccs_sent;         /* middlebox compatibility ChangeCipherSpecs */
    int pref[3], n_pref;            /* our suites, in our order */
} sslsocket__t13;

/* What a ClientHello offering TLS 1.2 next to 1.3 takes from BearSSL's
   client engine: its suites, the TLS 1.2 session it would resume. */
typedef struct sslsocket__t13_legacy {
    const uint16_t *suites;
    size_t n_suites;
    const unsigned char *sid;       /* a TLS 1.2 session id to resume, or NULL */
    size_t sid_len;
    unsigned version_min;
} sslsocket__t13_legacy;

#define SSLSOCKET__T13_ERR 10000    /* a TLS 1.3 failure: see why */

/* A socket: client, server connection or listener.  About 67 KiB with the
   default sizes, most of it BearSSL's record buffer. */
typedef struct sslsocket {
    const sslsocket_config *cfg;
    const sslsocket_config *cfg_next; /* set during a TLS connection: for the next one */
    int cfg_pending;
    unsigned char policy[32];       /* client: the policy digest of this handshake */
    unsigned char resume_tag[16];   /* server: tag of the session being resumed */
    int empty_run;                  /* records in a row without application data */
    char refusal[112];              /* why the last no-effect call was refused */
    int64_t verify_time;            /* sslsocket_verify_chain: the time to check at */
    int state, mode, open_mode;
    unsigned flags;
    int fd;
    sslsocket_pipe *pipe;           /* in-memory transport, or NULL */
    int pipe_side;
    int attempt_fd[2];              /* happy eyeballs: attempts in flight */
    int attempt_addr[2];
    int next_addr, n_addrs;
    sslsocket_address addrs[SSLSOCKET_MAX_ADDRS];
    sslsocket_address local, remote, bind_addr;
    unsigned port;                  /* the port asked for */
    char host[SSLSOCKET_MAX_HOSTNAME];
    char verify_name[SSLSOCKET_MAX_HOSTNAME];
    int64_t deadline, next_attempt_at, idle_since;
    sslsocket__resolver resolver;
    int error;
    char error_string[SSLSOCKET_ERROR_STRING_SIZE];
    int br_err, sys_errno;
    sslsocket__eventrec events[SSLSOCKET_MAX_EVENTS];
    int n_events, n_delivered, next_event;
    unsigned lost_events;
    int verify_mode;                /* resolved for this connection */
    int verify_mode_override;       /* -1: the config's */
    unsigned ignore_mask;
    int ssl_errors[SSLSOCKET_MAX_SSL_ERRORS];
    int n_ssl_errors;
    int have_peer;                  /* peer is valid */
    int n_chain;                    /* certificates received, leaf included */
    sslsocket_session session;
    size_t discarded;
    size_t rstart, rend, wlen, unflushed;
    size_t plain_pending;           /* wbuf head still to go out unencrypted */
    /* Not cleared by sslsocket_init (everything from here on is set up when
       used), and ordered by how soon a connection touches it: an idle server
       connection keeps resident only the head above, the engine, and the
       first bytes of each half of iobuf. */
    sslsocket__sni sni;
    union {
        br_ssl_client_context client;
        br_ssl_server_context server;
        sslsocket__t13 t13;         /* a TLS 1.3 connection (F_T13) */
    } ctx;
    unsigned char iobuf[SSLSOCKET_IOBUF_SIZE];
    sslsocket__x509 x509;           /* clients, and servers that verify clients */
#if SSLSOCKET_CERT_BUFFER_SIZE > 0
    unsigned char cbuf[SSLSOCKET_CERT_BUFFER_SIZE]; /* the peer's leaf (and issuers) */
#endif
    sslsocket_cert_info peer;       /* valid while have_peer */
    sslsocket_chain_entry chain[SSLSOCKET_MAX_PEER_CHAIN]; /* cleared by x_start_chain */
    unsigned char rbuf[SSLSOCKET_READ_BUFFER_SIZE];
    unsigned char wbuf[SSLSOCKET_WRITE_BUFFER_SIZE];
} sslsocket;

/* >>api ====================================================================*/

/*-- configuration --------------------------------------------------------*/

/* Fill `cfg` with secure defaults: AUTO_VERIFY_PEER, TLS 1.2 and 1.3, ECDHE +
   AEAD suites, depth 8, lookup 10 s, connect 30 s, handshake 30 s, no idle
   timeout, close 10 s, the system resolver configuration.  `storage` (may
   be NULL if size is 0) receives every certificate and key loaded later;
   it MUST outlive the config.  Returns 0, or -1 for NULL `cfg`. */
SSLSOCKET_API int sslsocket_config_init(sslsocket_config *cfg, void *storage, size_t size);

/* Trust anchors from memory (PEM with any number of certificates, or one
   DER certificate), a file, a directory of PEM files, or the system store
   (SSL_CERT_FILE, SSL_CERT_DIR, then the usual bundle paths).  Return the
   number of anchors added (duplicates are not added again), or -1 with
   sslsocket_config_error_string(): SSLSOCKET_ERR_SOCKET_RESOURCE when the
   storage is full (give a bigger one and load everything again),
   SSLSOCKET_ERR_SSL_INVALID_USERDATA for bad input. */
SSLSOCKET_API int sslsocket_config_add_ca_mem(sslsocket_config *cfg, const void *data, size_t len);
SSLSOCKET_API int sslsocket_config_add_ca_file(sslsocket_config *cfg, const char *path);
SSLSOCKET_API int sslsocket_config_add_ca_dir(sslsocket_config *cfg, const char *path);
/* Certificate revocation lists (PEM "X509 CRL" blocks, or one DER CRL):
   a certificate of the peer's chain listed by a CRL that its issuer
   signed (the issuer's key usage allowing cRLSign) is REVOKED.  The CRL's
   signature is checked when it is used; at load, its structure (and no
   unknown critical extension).  A CRL past its nextUpdate still revokes
   what it lists.  At most SSLSOCKET_MAX_CRLS per config, kept in its
   storage.  Returns the number of CRLs added, or -1 with
   sslsocket_config_error_string(). */
SSLSOCKET_API int sslsocket_config_add_crl_mem(sslsocket_config *cfg, const void *data,
                                               size_t len);
SSLSOCKET_API int sslsocket_config_add_crl_file(sslsocket_config *cfg, const char *path);
SSLSOCKET_API int sslsocket_config_use_system_ca(sslsocket_config *cfg);
/* Number of trust anchors loaded so far. */
SSLSOCKET_API size_t sslsocket_config_ca_count(const sslsocket_config *cfg);

/* Own certificate chain (leaf first) and private key (RSA or EC; PEM or
   DER; PKCS#1, SEC1 or unencrypted PKCS#8).  The key is checked against the
   leaf certificate.  Return 0 or -1 with the reason. */
SSLSOCKET_API int sslsocket_config_set_certificate_mem(sslsocket_config *cfg,
    const void *chain, size_t chain_len, const void *key, size_t key_len);
SSLSOCKET_API int sslsocket_config_set_certificate_file(sslsocket_config *cfg,
    const char *chain_path, const char *key_path);

/* Add another certificate chain + key (servers: chosen by the client's SNI
   name, matched against the leaf's dNSName SANs with the same rules as
   host verification; the first one is the default).  Up to
   SSLSOCKET_MAX_IDENTITIES.  set_certificate_* replace them all. */
SSLSOCKET_API int sslsocket_config_add_certificate_mem(sslsocket_config *cfg,
    const void *chain, size_t chain_len, const void *key, size_t key_len);
SSLSOCKET_API int sslsocket_config_add_certificate_file(sslsocket_config *cfg,
    const char *chain_path, const char *key_path);
/* Server session cache (resumption by session ID) in caller memory: each
   entry takes 112 bytes, at least 4 entries (451 bytes); `mem` MUST
   outlive the config or the next call.  Sockets update it during
   handshakes (with the client sessions, the part of a config that
   handshakes change: use a config from one thread).  A session resumes
   only under the SNI name and client-certificate policy (verify mode and
   depth, anchors, pins) it was made under, else the client gets a full
   handshake; a resumed handshake reports the client-certificate problems
   of the full one, and under VERIFY_PEER a session that had any does not
   resume.  NULL disables; the old memory is wiped and never touched again,
   even by handshakes in progress. */
SSLSOCKET_API int sslsocket_config_set_session_cache(sslsocket_config *cfg, void *mem, size_t size);
/* Allow secure renegotiation (RFC 5746) on both sides; refused by default. */
SSLSOCKET_API void sslsocket_config_set_renegotiation(sslsocket_config *cfg, int allow);
/* Client session reuse, on by default: a client whose handshake verified
   the server without any problem (nothing ignored; or that resumed such a
   session) leaves its session in the config, and the next client socket of
   that config with the same peer name, port and verification policy (mode,
   depth, anchors, pins) offers it (an abbreviated handshake
   when the server still has it: no public-key work on either side).  The
   config keeps SSLSOCKET_CLIENT_SESSIONS of them, least recently used
   replaced first; a resumed handshake receives no certificate, so
   sslsocket_peer_certificate() is NULL after one.  A session offered with
   sslsocket_set_session() takes precedence.  0 turns reuse off and forgets
   the sessions kept. */
SSLSOCKET_API void sslsocket_config_set_client_sessions(sslsocket_config *cfg, int on);
/* Forget every secret the config holds, with stores the compiler cannot
   drop: the client sessions, the server cache's sessions, and the storage
   (private keys, certificates, anchors) zeroed.  The config is left as
   sslsocket_config_init(cfg, NULL, 0) leaves it.  Call it before freeing
   a config or its storage; no socket may be using it. */
SSLSOCKET_API void sslsocket_config_wipe(sslsocket_config *cfg);

/* Peer verification mode (SSLSOCKET_VERIFY_*) and maximum chain length
   (1..16).  VERIFY_NONE is DANGEROUS: anyone can impersonate the peer. */
SSLSOCKET_API int sslsocket_config_set_peer_verify_mode(sslsocket_config *cfg, int mode);
SSLSOCKET_API int sslsocket_config_set_peer_verify_depth(sslsocket_config *cfg, int depth);
/* Protocol range, SSLSOCKET_TLS10..SSLSOCKET_TLS13 (min <= max; default
   TLS12..TLS13).  A client
   whose range holds TLS 1.3 and older versions offers them all in one
   ClientHello and speaks what the server chooses (>>tls13); a server
   whose range this call set to hold TLS 1.3 reads the first ClientHello
   itself and serves TLS 1.3 to a client that offers it, anything older
   (within the range) through BearSSL's engine, and refuses older clients
   with protocol_version when the minimum is TLS 1.3.  (With the default
   range a server serves TLS 1.2: it issues no TLS 1.3 tickets yet, and
   TLS 1.2 resumes sessions.) */
SSLSOCKET_API int sslsocket_config_set_versions(sslsocket_config *cfg, unsigned min, unsigned max);
/* Cipher suites by IANA name, separated by ':' or ',' (e.g.
   "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
   or "DEFAULT".  Unknown names are an error.  The list is the whole set,
   as in Qt: TLS 1.3's suites (TLS_AES_128_GCM_SHA256,
   TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256) are offered only
   when listed, so a list without them does not offer TLS 1.3, and one with
   only them does not offer TLS 1.2. */
SSLSOCKET_API int sslsocket_config_set_ciphers(sslsocket_config *cfg, const char *list);
/* ALPN protocols in preference order, comma separated ("h2,http/1.1");
   NULL or "" clears the list. */
SSLSOCKET_API int sslsocket_config_set_alpn(sslsocket_config *cfg, const char *list);
/* Pin a peer public key: "sha256/BASE64" (as curl) or 64 hex digits of the
   SHA-256 of the SubjectPublicKeyInfo.  With pins set, a peer whose key
   matches a pin passes even if the chain is untrusted; one that matches
   none fails with PIN_MISMATCH. */
SSLSOCKET_API int sslsocket_config_add_pin(sslsocket_config *cfg, const char *pin);
/* Deadlines in milliseconds; 0 keeps the default, -1 disables (idle only
   is disabled by default). */
SSLSOCKET_API int sslsocket_config_set_timeouts(sslsocket_config *cfg, int lookup_ms,
    int connect_ms, int handshake_ms, int idle_ms);
/* How long a disconnect may take to flush queued data and close_notify to
   a peer that does not read (default 10000 ms). */
SSLSOCKET_API int sslsocket_config_set_close_timeout(sslsocket_config *cfg, int close_ms);
/* After `ms` milliseconds without traffic (default 10000; 0 never), an
   encrypted connection whose record buffer holds nothing gives the buffer's
   pages back to the kernel (madvise MADV_DONTNEED; they come back zeroed
   at the next record), as OpenSSL's SSL_MODE_RELEASE_BUFFERS frees its
   buffers: an idle connection keeps about 10 KiB resident instead of 15.
   sslsocket_timeout_ms() includes the moment, so the socket is polled
   once for it.  The price is paid when traffic resumes: the pages are
   faulted back in (measured: about 80 us more per event for connections
   that wake up every second or two with a 1 s setting), hence 10 s. */
SSLSOCKET_API int sslsocket_config_set_idle_release(sslsocket_config *cfg, int ms);
/* Name server for host lookups ("127.0.0.1:5353", "[::1]:53"; the port
   defaults to 53), replacing /etc/resolv.conf's.  May be called up to
   SSLSOCKET_MAX_NAMESERVERS times.  `attempts` (>= 1) per server. */
SSLSOCKET_API int sslsocket_config_add_nameserver(sslsocket_config *cfg, const char *addr);
SSLSOCKET_API int sslsocket_config_set_dns_attempts(sslsocket_config *cfg, int attempts);
/* Use another hosts file / resolv.conf (tests; NULL restores defaults).
   The strings MUST outlive the config. */
SSLSOCKET_API void sslsocket_config_set_resolver_files(sslsocket_config *cfg,
    const char *hosts_path, const char *resolv_conf_path);
/* Certificate validity is checked against this Unix time instead of the
   clock (tests).  0 restores the real clock. */
SSLSOCKET_API void sslsocket_config_set_time(sslsocket_config *cfg, int64_t unix_time);
/* Problems (SSLSOCKET_SSLERR_MASK bits) that never fail a handshake. */
SSLSOCKET_API void sslsocket_config_set_ignored_ssl_errors(sslsocket_config *cfg, unsigned mask);
/* Key logging for Wireshark (DEBUGGING ONLY).  Without a callback, lines
   are appended to the file named by $SSLKEYLOGFILE when that is set
   (secure_getenv: never in a setuid or setgid program; a regular file
   only, created 0600, symbolic links not followed). */
SSLSOCKET_API void sslsocket_config_set_keylog(sslsocket_config *cfg, sslsocket_keylog_fn fn, void *user);
/* Last configuration error (code and sentence). */
SSLSOCKET_API int sslsocket_config_error(const sslsocket_config *cfg);
SSLSOCKET_API const char *sslsocket_config_error_string(const sslsocket_config *cfg);

/*-- socket lifecycle -----------------------------------------------------*/

/* Initialise `s` (UNCONNECTED, UNENCRYPTED).  `cfg` may be NULL: then a
   built-in default configuration (secure defaults, no trust anchors) is
   used.  Must be called once before anything else. */
SSLSOCKET_API void sslsocket_init(sslsocket *s, const sslsocket_config *cfg);
/* Replace the configuration (NULL: the built-in default).  While a TLS
   connection is up (from start_*_encryption or connect_encrypted's
   handshake until the socket is UNCONNECTED again) the engine points into
   the configuration it started with: the new one then takes effect when
   that connection ends, and the old one MUST stay alive until then. */
SSLSOCKET_API int sslsocket_set_config(sslsocket *s, const sslsocket_config *cfg);
/* The configuration the socket uses now (NULL: the built-in default);
   differs from the last one set while that one waits for the connection
   to end. */
SSLSOCKET_API const sslsocket_config *sslsocket_get_config(const sslsocket *s);
/* Bind outgoing connections to a local address ("0.0.0.0", "::", or NULL
   for any) and port (0 = any).  State becomes BOUND. */
SSLSOCKET_API int sslsocket_bind(sslsocket *s, const char *address, unsigned port);
/* Start a plaintext connection (state HOST_LOOKUP or CONNECTING).  `host`
   is a name or an IPv4/IPv6 literal, `port` 1..65535, `open_mode` one of
   SSLSOCKET_READ_ONLY/WRITE_ONLY/READ_WRITE.  Allowed in UNCONNECTED or
   BOUND.  Returns 0 or -1 (nothing changed). */
SSLSOCKET_API int sslsocket_connect(sslsocket *s, const char *host, unsigned port, int open_mode);
/* The same, then the TLS handshake starts as soon as TCP is up. */
SSLSOCKET_API int sslsocket_connect_encrypted(sslsocket *s, const char *host, unsigned port, int open_mode);
/* STARTTLS: start the client handshake on a CONNECTED, UNENCRYPTED socket.
   Otherwise returns -1 and changes nothing, not even the error (see
   sslsocket_last_refusal).
   Plaintext already queued with write() still goes out unencrypted, before
   the handshake; plaintext received but not read is discarded (see
   sslsocket_discarded_plaintext).  So queue the protocol's last plaintext
   line and call this at once, without polling in between: a server that
   polls after writing "220 go ahead" may read the client's ClientHello as
   plaintext and lose it. */
SSLSOCKET_API int sslsocket_start_client_encryption(sslsocket *s);
/* Why the last start_*_encryption call had no effect ("" when it did):
   start_*_encryption on a socket that is not connected, still connecting,
   or already encrypted returns -1 and leaves the error, its string and the
   event queue as they were (the seed: "has no effect"; Qt only warns). */
SSLSOCKET_API const char *sslsocket_last_refusal(const sslsocket *s);
/* Start the server handshake on an accepted, UNENCRYPTED socket. */
SSLSOCKET_API int sslsocket_start_server_encryption(sslsocket *s);
/* Orderly close: flush queued data, send close_notify, close.  Before the
   connection is up, the close waits until it is (and queued data sent). */
SSLSOCKET_API int sslsocket_disconnect(sslsocket *s);
/* TLS 1.3: new write keys now (a KeyUpdate, RFC 8446 4.6.3, behind what
   is queued); `ask_peer` asks the peer to update its own too.  For long
   connections that want fresh keys.  -1 and no effect (see
   sslsocket_last_refusal) unless the socket is CONNECTED and encrypted
   with TLS 1.3, or while its output has no room for the message (try
   again after a poll). */
SSLSOCKET_API int sslsocket_update_keys(sslsocket *s, int ask_peer);
/* Close at once, discarding queued output.  Ends in UNCONNECTED. */
SSLSOCKET_API void sslsocket_abort(sslsocket *s);

/*-- server ---------------------------------------------------------------*/

/* Listen for connections on `address` ("127.0.0.1", "::1", "0.0.0.0", or
   NULL / "::" for every IPv6 and IPv4 address) and `port` (0 = pick an
   ephemeral port; read it with sslsocket_local_port).  `backlog` <= 0 means
   SOMAXCONN.  SO_REUSEADDR is set.  State becomes LISTENING; poll reports
   SSLSOCKET_EV_NEW_CONNECTION while connections wait.  Errors:
   ADDRESS_IN_USE, SOCKET_ACCESS, SOCKET_ADDRESS_NOT_AVAILABLE. */
SSLSOCKET_API int sslsocket_listen(sslsocket *s, const char *address, unsigned port, int backlog);
/* Take one pending connection into `conn` (an UNCONNECTED socket the
   caller owns; its config is kept): it becomes CONNECTED and UNENCRYPTED,
   ready for sslsocket_start_server_encryption() (at once or after a
   plaintext STARTTLS exchange).  Returns 1 when a connection was taken, 0
   when none is waiting (connections beyond what the caller takes stay in
   the kernel's backlog), -1 on error (the listener's error is set; running
   out of descriptors is SOCKET_RESOURCE and leaves the listener usable). */
SSLSOCKET_API int sslsocket_accept(sslsocket *listener, sslsocket *conn);
/* True when a connection is waiting to be accepted. */
SSLSOCKET_API int sslsocket_has_pending_connections(const sslsocket *listener);

/*-- polling --------------------------------------------------------------*/

/* Advance the socket without waiting; returns SSLSOCKET_EV_* bits. */
SSLSOCKET_API unsigned sslsocket_poll(sslsocket *s);
/* The events of the last poll, one at a time, in order: returns 1 and
   fills `type` (one SSLSOCKET_EV_* bit) and `value`, or 0 when done. */
SSLSOCKET_API int sslsocket_next_event(sslsocket *s, unsigned *type, int *value);
/* Events queued and not yet returned by a poll (API calls such as connect
   queue some): a loop should poll again while this is non-zero. */
SSLSOCKET_API int sslsocket_pending_events(const sslsocket *s);
/* The main file descriptor (-1 if none) and what it waits for. */
SSLSOCKET_API int sslsocket_fd(const sslsocket *s);
SSLSOCKET_API unsigned sslsocket_wants(const sslsocket *s);
/* Every descriptor the socket waits on (the resolver's UDP socket, two
   connection attempts while racing IPv6 and IPv4): fills up to `max`
   entries, returns how many. */
SSLSOCKET_API int sslsocket_fds(const sslsocket *s, int *fds, unsigned *wants, int max);
/* Milliseconds until the next deadline (-1 = none, 0 = poll now). */
SSLSOCKET_API int sslsocket_timeout_ms(const sslsocket *s);
/* Wait with poll(2) until one of the sockets has something to do, a
   deadline passes, or `timeout_ms` (-1 = no limit) elapses.  Returns the
   number of sockets ready (0 on timeout), -1 on a bad argument.  Call
   sslsocket_poll() on the sockets afterwards. */
SSLSOCKET_API int sslsocket_wait(sslsocket *const *socks, size_t n, int timeout_ms);

/*-- stream I/O -----------------------------------------------------------*/

/* Read up to `len` bytes.  Returns the count (0 = nothing buffered), or -1
   on a bad argument or a write-only socket. */
SSLSOCKET_API ptrdiff_t sslsocket_read(sslsocket *s, void *buf, size_t len);
/* Like read, but the bytes stay buffered. */
SSLSOCKET_API ptrdiff_t sslsocket_peek(sslsocket *s, void *buf, size_t len);
/* Read one line including its '\n', at most `max - 1` bytes, NUL-terminated
   (a line longer than that is returned in pieces).  Returns the length,
   0 if no complete line is buffered (and fewer than max-1 bytes wait), -1
   on a bad argument (max < 2). */
SSLSOCKET_API ptrdiff_t sslsocket_read_line(sslsocket *s, char *buf, size_t max);
SSLSOCKET_API int sslsocket_can_read_line(const sslsocket *s);
SSLSOCKET_API size_t sslsocket_bytes_available(const sslsocket *s);
/* Queue bytes for sending (encrypted when in a TLS mode; before the
   handshake ends they wait and go out after ENCRYPTED, in order).  Returns
   how many were accepted (maybe fewer than `len` when the queue is full; 0
   is not an error), or -1 for a bad argument (len 0, read-only socket,
   not connected). */
SSLSOCKET_API ptrdiff_t sslsocket_write(sslsocket *s, const void *buf, size_t len);
SSLSOCKET_API ptrdiff_t sslsocket_write_string(sslsocket *s, const char *str);
/* Bytes accepted by write but not yet on the wire. */
SSLSOCKET_API size_t sslsocket_bytes_to_write(const sslsocket *s);
/* True when the socket is closed and nothing is left to read. */
SSLSOCKET_API int sslsocket_at_end(const sslsocket *s);

/*-- inspection -----------------------------------------------------------*/

SSLSOCKET_API int sslsocket_state(const sslsocket *s);
SSLSOCKET_API int sslsocket_mode(const sslsocket *s);
SSLSOCKET_API int sslsocket_open_mode(const sslsocket *s);
SSLSOCKET_API int sslsocket_is_encrypted(const sslsocket *s);
/* Sticky error code (SSLSOCKET_ERR_*, SSLSOCKET_ERR_UNKNOWN when none),
   its sentence ("" when none), and the raw BearSSL error / errno. */
SSLSOCKET_API int sslsocket_error(const sslsocket *s);
SSLSOCKET_API const char *sslsocket_error_string(const sslsocket *s);
SSLSOCKET_API int sslsocket_bearssl_error(const sslsocket *s);
SSLSOCKET_API int sslsocket_sys_errno(const sslsocket *s);
SSLSOCKET_API const char *sslsocket_error_name(int code);
SSLSOCKET_API const char *sslsocket_state_name(int state);
/* Addresses as text ("127.0.0.1", "::1") and ports. */
SSLSOCKET_API const char *sslsocket_local_address(const sslsocket *s, char *buf, size_t len);
SSLSOCKET_API unsigned sslsocket_local_port(const sslsocket *s);
SSLSOCKET_API const char *sslsocket_remote_address(const sslsocket *s, char *buf, size_t len);
SSLSOCKET_API unsigned sslsocket_remote_port(const sslsocket *s);
/* Negotiated protocol ("TLSv1.2"), suite name ("TLS_ECDHE_..."), ALPN
   protocol (NULL if none), session resumed; NULL / 0 before ENCRYPTED. */
SSLSOCKET_API const char *sslsocket_protocol(const sslsocket *s);
SSLSOCKET_API const char *sslsocket_cipher(const sslsocket *s);
SSLSOCKET_API const char *sslsocket_alpn(const sslsocket *s);
SSLSOCKET_API int sslsocket_session_resumed(const sslsocket *s);
/* Peer certificate summary, NULL when none was received. */
SSLSOCKET_API const sslsocket_cert_info *sslsocket_peer_certificate(const sslsocket *s);
/* The peer's chain as received: the number of certificates (leaf
   included), and a summary of issuer certificate i (1 = the leaf's issuer,
   up to SSLSOCKET_MAX_PEER_CHAIN); NULL when out of range or when the
   certificate did not fit the read buffer for inspection. */
SSLSOCKET_API int sslsocket_peer_chain_length(const sslsocket *s);
SSLSOCKET_API const sslsocket_chain_entry *sslsocket_peer_chain_entry(const sslsocket *s, int i);
/* The DER of the peer's certificate i as received (0 = the leaf, 1 = its
   issuer...), valid until the next handshake on the socket; NULL when it
   was not kept: a resumed handshake (no certificate), a certificate or a
   chain that did not fit SSLSOCKET_CERT_BUFFER_SIZE (or beyond
   SSLSOCKET_MAX_VERIFY_CHAIN certificates), and always when that size is
   0 (the read buffer then serves for data again). */
SSLSOCKET_API const unsigned char *sslsocket_peer_certificate_der(const sslsocket *s, int i,
                                                                 size_t *len);
/* Certificate problems found during the last handshake: count, and the
   code / message of entry i. */
SSLSOCKET_API int sslsocket_ssl_error_count(const sslsocket *s);
SSLSOCKET_API int sslsocket_ssl_error_code(const sslsocket *s, int i);
SSLSOCKET_API const char *sslsocket_ssl_error_message(int code);
/* Ignore these problems (mask of SSLSOCKET_SSLERR_MASK bits; ALL for any)
   for the current connection's handshakes, or the next connection's when
   called before it (Qt's ignoreSslErrors); forgotten when that connection
   ends.  Problems to ignore on every
   connection belong in sslsocket_config_set_ignored_ssl_errors(). */
SSLSOCKET_API void sslsocket_ignore_ssl_errors(sslsocket *s, unsigned mask);
/* Let the caller decide about problems after SSLSOCKET_EV_SSL_ERRORS. */
SSLSOCKET_API void sslsocket_set_decide_ssl_errors(sslsocket *s, int on);
/* The name checked against the certificate and sent as SNI (default: the
   host given to connect).  Set before the handshake starts. */
SSLSOCKET_API int sslsocket_set_peer_verify_name(sslsocket *s, const char *name);
/* The name that is (or will be) verified: the one set above, else the host
   given to connect ("" before any). */
SSLSOCKET_API const char *sslsocket_peer_verify_name(const sslsocket *s);
/* Per-socket verify mode override (-1 = use the config's). */
SSLSOCKET_API int sslsocket_set_peer_verify_mode(sslsocket *s, int mode);
SSLSOCKET_API int sslsocket_peer_verify_mode(const sslsocket *s);
/* Save the session of an encrypted socket; offer a saved session at the
   next client handshake.  A session is offered only for its peer name,
   port and verification policy, and only when it came from a handshake
   that verified the peer with no problem at all (a VERIFY_NONE session is
   offered again under VERIFY_NONE): a resumed handshake checks no
   certificate.  The socket keeps its last such session after a close
   (others are wiped); sslsocket_set_session(s, NULL) wipes it. */
SSLSOCKET_API int sslsocket_get_session(const sslsocket *s, sslsocket_session *out);
SSLSOCKET_API int sslsocket_set_session(sslsocket *s, const sslsocket_session *in);
/* Server sockets: the name the client asked for with SNI ("" if none). */
SSLSOCKET_API const char *sslsocket_server_name(const sslsocket *s);
/* Plaintext bytes discarded by the last start_*_encryption (STARTTLS). */
SSLSOCKET_API size_t sslsocket_discarded_plaintext(const sslsocket *s);
/* True when the last encrypted connection ended because the peer closed TCP
   without close_notify (REMOTE_HOST_CLOSED either way: this tells a possible
   truncation attack from an orderly close).  Reset by the next connect. */
SSLSOCKET_API int sslsocket_truncated(const sslsocket *s);

/*-- offline verification -------------------------------------------------*/

/* Verify a certificate chain without a connection (Qt's
   QSslCertificate::verify): `chain` is PEM (the leaf first, then issuers;
   other blocks are skipped) or one DER certificate; `host` is the name or
   IP literal to check (NULL or "": no name check); `unix_time` the moment
   (0: the config's fixed time, else the clock).  The checks are those of
   a client handshake against `cfg` (anchors, pins, depth; NULL: the
   built-in default, with no anchors), collecting every problem as
   QUERY_PEER does, ignored ones included.  `scratch` is an UNCONNECTED
   socket used as workspace (it is initialised with `cfg`): afterwards
   sslsocket_ssl_error_count/code, sslsocket_peer_certificate and
   sslsocket_peer_chain_length/entry describe the chain.  Returns the number
   of problems (0: valid), or -1 with SSLSOCKET_ERR_OPERATION (socket in
   use, bad arguments) or SSLSOCKET_ERR_SSL_INVALID_USERDATA (no
   certificate could be read; more than 16 certificates). */
SSLSOCKET_API int sslsocket_verify_chain(sslsocket *scratch, const sslsocket_config *cfg,
    const void *chain, size_t len, const char *host, int64_t unix_time);

/*-- in-memory transport --------------------------------------------------*/

/* Join two UNCONNECTED sockets through `p` (caller-owned, MUST outlive both
   connections): both become CONNECTED and UNENCRYPTED at once, with no
   descriptor and no lookup; `server` acts as the accepted side.  Then call
   sslsocket_start_client_encryption(client) and
   sslsocket_start_server_encryption(server) (or exchange plaintext first)
   and poll both.  Deterministic: used by the unit tests and fuzzers. */
SSLSOCKET_API int sslsocket_pipe_connect(sslsocket_pipe *p, sslsocket *client, sslsocket *server);

#ifdef __cplusplus
}
#endif
#endif /* SSLSOCKET_H_INCLUDED */

/* ==========================================================================
   >>implementation
   ========================================================================== */
#ifdef SSLSOCKET_IMPLEMENTATION
#ifndef SSLSOCKET__IMPLEMENTATION_DONE
#define SSLSOCKET__IMPLEMENTATION_DONE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>  /* vsnprintf only: formats into caller memory, no buffering */
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef SSLSOCKET_ASSERT
#include <assert.h>
#define SSLSOCKET_ASSERT(x) assert(x)
#endif

#ifndef SSLSOCKET__PRIVATE
#if defined(__GNUC__) || defined(__clang__)
#define SSLSOCKET__PRIVATE __attribute__((unused)) static
#else
#define SSLSOCKET__PRIVATE static
#endif
#endif

#if defined(__linux__) || defined(__unix__) || defined(__APPLE__)
#define SSLSOCKET__POSIX 1
#else
#define SSLSOCKET__POSIX 0
#endif
#if !SSLSOCKET__POSIX
#error "sslsocket.h: platform not supported (POSIX sockets required)"
#endif

#ifdef SSLSOCKET_STATIC
#define SSLSOCKET__DEF SSLSOCKET__PRIVATE /* static, and quiet when unused */
#else
#define SSLSOCKET__DEF
#endif

/* internal flags of sslsocket.flags */
#define SSLSOCKET__F_ENCRYPT_ON_CONNECT 0x0001u /* connect_encrypted */
#define SSLSOCKET__F_HS_DONE            0x0002u /* handshake complete: encrypted */
#define SSLSOCKET__F_DISCONNECT_PENDING 0x0004u /* disconnect asked before up */
#define SSLSOCKET__F_ENGINE_CLOSING     0x0008u /* br_ssl_engine_close called */
#define SSLSOCKET__F_EOF                0x0010u /* peer closed TCP */
#define SSLSOCKET__F_ENGINE_LIVE        0x0020u /* engine may hold readable data */
#define SSLSOCKET__F_HOLD               0x0040u /* waiting for the ssl-errors decision */
#define SSLSOCKET__F_DECIDE             0x0080u /* caller decides on problems */
#define SSLSOCKET__F_WAS_CONNECTED      0x0100u /* CONNECTED was reached */
#define SSLSOCKET__F_SERVER             0x0200u /* accepted connection */
#define SSLSOCKET__F_WANT_READ          0x0400u /* last I/O stopped on EAGAIN (read) */
#define SSLSOCKET__F_WANT_WRITE         0x0800u /* last I/O stopped on EAGAIN (write) */
#define SSLSOCKET__F_RESUMED            0x1000u
#define SSLSOCKET__F_READ_EVENT         0x2000u /* READY_READ already queued this poll */
#define SSLSOCKET__F_BOUND              0x4000u
#define SSLSOCKET__F_IP_LITERAL         0x8000u /* peer named by an IP literal */
#define SSLSOCKET__F_FULL_HANDSHAKE     0x10000u /* server: our policy chose a key */
#define SSLSOCKET__F_TRUNCATED          0x20000u /* TLS stream ended without close_notify */
#define SSLSOCKET__F_CACHED_OFFER       0x40000u /* client offered a config-kept session */
#define SSLSOCKET__F_APP_SEEN           0x80000u /* READY_READ told of what recvapp holds */
#define SSLSOCKET__F_RELEASED           0x100000u /* iobuf pages given back while idle */
#define SSLSOCKET__F_OFFERED            0x200000u /* client offered s->session */
#define SSLSOCKET__F_MORE               0x400000u /* the last pump stopped on its budget */
#define SSLSOCKET__F_ABORTING           0x800000u /* finish without CLOSING */
#define SSLSOCKET__F_T13                0x1000000u /* TLS 1.3: ctx.t13, not BearSSL's engine */
#define SSLSOCKET__F_DOWNGRADE          0x2000000u /* server able to do TLS 1.3 serving 1.2 */

#define SSLSOCKET__HAPPY_EYEBALLS_MS 250 /* RFC 8305 connection attempt delay */
#define SSLSOCKET__WAIT_MAX_FDS 1024

/* snprintf through a va_list: truncating messages is intended, and this
   keeps -Wformat-truncation quiet in the caller's -Werror builds. */
SSLSOCKET__PRIVATE void
sslsocket__fmt(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* Zero memory that held secrets through a volatile pointer, so that the
   compiler cannot drop the stores as dead (the memory is not read again). */
static void *(*const volatile sslsocket__memset_v)(void *, int, size_t) = memset;

SSLSOCKET__PRIVATE void
sslsocket__wipe(void *p, size_t n)
{
    if (n > 0)
        sslsocket__memset_v(p, 0, n);
}

/* ==========================================================================
   >>strings
   ========================================================================== */

SSLSOCKET__DEF const char *
sslsocket_error_name(int code)
{
#define SSLSOCKET__ERR_NAME(name, value, text) case value: return #name;
    switch (code) {
        SSLSOCKET__ERRORS(SSLSOCKET__ERR_NAME)
    default: return "UNKNOWN";
    }
#undef SSLSOCKET__ERR_NAME
}

SSLSOCKET__PRIVATE const char *
sslsocket__error_text(int code)
{
#define SSLSOCKET__ERR_TEXT(name, value, text) case value: return text;
    switch (code) {
        SSLSOCKET__ERRORS(SSLSOCKET__ERR_TEXT)
    default: return "unknown error";
    }
#undef SSLSOCKET__ERR_TEXT
}

SSLSOCKET__DEF const char *
sslsocket_ssl_error_message(int code)
{
#define SSLSOCKET__SSLERR_TEXT(name, value, text) case value: return text;
    switch (code) {
        SSLSOCKET__SSLERRORS(SSLSOCKET__SSLERR_TEXT)
    default: return "unknown certificate problem";
    }
#undef SSLSOCKET__SSLERR_TEXT
}

SSLSOCKET__DEF const char *
sslsocket_state_name(int state)
{
    static const char *const names[] = {
        "UNCONNECTED", "HOST_LOOKUP", "CONNECTING", "CONNECTED",
        "BOUND", "LISTENING", "CLOSING"
    };
    return state >= 0 && state <= 6 ? names[state] : "INVALID";
}

/* BearSSL error codes as names and phrases (bearssl_ssl.h, bearssl_x509.h). */
static const struct { short code; const char *name, *text; } sslsocket__br_errors[] = {
    { 1, "BR_ERR_BAD_PARAM", "bad parameter" },
    { 2, "BR_ERR_BAD_STATE", "bad engine state" },
    { 3, "BR_ERR_UNSUPPORTED_VERSION", "peer does not support the allowed protocol versions" },
    { 4, "BR_ERR_BAD_VERSION", "peer changed protocol version" },
    { 5, "BR_ERR_BAD_LENGTH", "bad record length" },
    { 6, "BR_ERR_TOO_LARGE", "record too large" },
    { 7, "BR_ERR_BAD_MAC", "record authentication failed (bad MAC)" },
    { 8, "BR_ERR_NO_RANDOM", "no random source" },
    { 9, "BR_ERR_UNKNOWN_TYPE", "unknown record type" },
    { 10, "BR_ERR_UNEXPECTED", "unexpected message" },
    { 12, "BR_ERR_BAD_CCS", "bad ChangeCipherSpec" },
    { 13, "BR_ERR_BAD_ALERT", "bad alert" },
    { 14, "BR_ERR_BAD_HANDSHAKE", "malformed handshake message" },
    { 15, "BR_ERR_OVERSIZED_ID", "session ID too long" },
    { 16, "BR_ERR_BAD_CIPHER_SUITE", "no shared cipher suite" },
    { 17, "BR_ERR_BAD_COMPRESSION", "unsupported compression" },
    { 18, "BR_ERR_BAD_FRAGLEN", "bad maximum fragment length" },
    { 19, "BR_ERR_BAD_SECRENEG", "secure renegotiation failed" },
    { 20, "BR_ERR_EXTRA_EXTENSION", "unexpected extension" },
    { 21, "BR_ERR_BAD_SNI", "bad server name" },
    { 22, "BR_ERR_BAD_HELLO_DONE", "bad ServerHelloDone" },
    { 23, "BR_ERR_LIMIT_EXCEEDED", "internal limit exceeded" },
    { 24, "BR_ERR_BAD_FINISHED", "bad Finished message" },
    { 25, "BR_ERR_RESUME_MISMATCH", "session resumption mismatch" },
    { 26, "BR_ERR_INVALID_ALGORITHM", "unsupported algorithm" },
    { 27, "BR_ERR_BAD_SIGNATURE", "bad handshake signature" },
    { 28, "BR_ERR_WRONG_KEY_USAGE", "certificate key usage does not allow this cipher suite" },
    { 29, "BR_ERR_NO_CLIENT_AUTH", "client certificate required but not sent" },
    { 31, "BR_ERR_IO", "I/O error" },
    { 33, "BR_ERR_X509_INVALID_VALUE", "invalid value in certificate" },
    { 34, "BR_ERR_X509_TRUNCATED", "truncated certificate" },
    { 35, "BR_ERR_X509_EMPTY_CHAIN", "empty certificate chain" },
    { 36, "BR_ERR_X509_INNER_TRUNC", "truncated certificate element" },
    { 37, "BR_ERR_X509_BAD_TAG_CLASS", "bad tag class in certificate" },
    { 38, "BR_ERR_X509_BAD_TAG_VALUE", "bad tag in certificate" },
    { 39, "BR_ERR_X509_INDEFINITE_LENGTH", "indefinite length in certificate" },
    { 40, "BR_ERR_X509_EXTRA_ELEMENT", "extra element in certificate" },
    { 41, "BR_ERR_X509_UNEXPECTED", "unexpected element in certificate" },
    { 42, "BR_ERR_X509_NOT_CONSTRUCTED", "bad certificate encoding" },
    { 43, "BR_ERR_X509_NOT_PRIMITIVE", "bad certificate encoding" },
    { 44, "BR_ERR_X509_PARTIAL_BYTE", "bad bit string in certificate" },
    { 45, "BR_ERR_X509_BAD_BOOLEAN", "bad boolean in certificate" },
    { 46, "BR_ERR_X509_OVERFLOW", "value overflow in certificate" },
    { 47, "BR_ERR_X509_BAD_DN", "bad distinguished name" },
    { 48, "BR_ERR_X509_BAD_TIME", "bad time in certificate" },
    { 49, "BR_ERR_X509_UNSUPPORTED", "unsupported certificate feature" },
    { 50, "BR_ERR_X509_LIMIT_EXCEEDED", "certificate chain too long" },
    { 51, "BR_ERR_X509_WRONG_KEY_TYPE", "wrong key type" },
    { 52, "BR_ERR_X509_BAD_SIGNATURE", "certificate signature is invalid" },
    { 53, "BR_ERR_X509_TIME_UNKNOWN", "current time unknown" },
    { 54, "BR_ERR_X509_EXPIRED", "certificate expired or not yet valid" },
    { 55, "BR_ERR_X509_DN_MISMATCH", "issuer name mismatch in chain" },
    { 56, "BR_ERR_X509_BAD_SERVER_NAME", "host name mismatch" },
    { 57, "BR_ERR_X509_CRITICAL_EXTENSION", "unsupported critical extension" },
    { 58, "BR_ERR_X509_NOT_CA", "issuer is not a CA" },
    { 59, "BR_ERR_X509_FORBIDDEN_KEY_USAGE", "key usage forbids this use" },
    { 60, "BR_ERR_X509_WEAK_PUBLIC_KEY", "public key too weak" },
    { 62, "BR_ERR_X509_NOT_TRUSTED", "certificate is not trusted" },
};

/* TLS alert descriptions (RFC 5246 section 7.2). */
static const struct { unsigned char code; const char *name; } sslsocket__alerts[] = {
    { 0, "close_notify" }, { 10, "unexpected_message" }, { 20, "bad_record_mac" },
    { 21, "decryption_failed" }, { 22, "record_overflow" }, { 30, "decompression_failure" },
    { 40, "handshake_failure" }, { 41, "no_certificate" }, { 42, "bad_certificate" },
    { 43, "unsupported_certificate" }, { 44, "certificate_revoked" },
    { 45, "certificate_expired" }, { 46, "certificate_unknown" },
    { 47, "illegal_parameter" }, { 48, "unknown_ca" }, { 49, "access_denied" },
    { 50, "decode_error" }, { 51, "decrypt_error" }, { 60, "export_restriction" },
    { 70, "protocol_version" }, { 71, "insufficient_security" }, { 80, "internal_error" },
    { 86, "inappropriate_fallback" }, { 90, "user_canceled" },
    { 100, "no_renegotiation" }, { 110, "unsupported_extension" },
    { 112, "unrecognized_name" }, { 116, "certificate_required" },
    { 120, "no_application_protocol" },
};

SSLSOCKET__PRIVATE const char *
sslsocket__alert_name(int alert)
{
    size_t i;
    for (i = 0; i < sizeof sslsocket__alerts / sizeof sslsocket__alerts[0]; i++)
        if (sslsocket__alerts[i].code == alert)
            return sslsocket__alerts[i].name;
    return "unknown";
}

/* Format a BearSSL error as "phrase (BR_ERR_NAME)" or an alert sentence. */
SSLSOCKET__PRIVATE void
sslsocket__br_error_text(int err, char *buf, size_t len)
{
    size_t i;
    if (err >= BR_ERR_SEND_FATAL_ALERT) {
        sslsocket__fmt(buf, len, "sent alert %d %s", err - BR_ERR_SEND_FATAL_ALERT,
                 sslsocket__alert_name(err - BR_ERR_SEND_FATAL_ALERT));
        return;
    }
    if (err >= BR_ERR_RECV_FATAL_ALERT) {
        sslsocket__fmt(buf, len, "peer sent alert %d %s", err - BR_ERR_RECV_FATAL_ALERT,
                 sslsocket__alert_name(err - BR_ERR_RECV_FATAL_ALERT));
        return;
    }
    for (i = 0; i < sizeof sslsocket__br_errors / sizeof sslsocket__br_errors[0]; i++) {
        if (sslsocket__br_errors[i].code == err) {
            sslsocket__fmt(buf, len, "%s (%s)", sslsocket__br_errors[i].text,
                     sslsocket__br_errors[i].name);
            return;
        }
    }
    sslsocket__fmt(buf, len, "BearSSL error %d", err);
}

/* Cipher suites BearSSL implements, with their IANA names; then TLS 1.3's
   (>>tls13). */
static const struct { uint16_t id; const char *name; } sslsocket__suites[] = {
    { 0x1301, "TLS_AES_128_GCM_SHA256" },
    { 0x1302, "TLS_AES_256_GCM_SHA384" },
    { 0x1303, "TLS_CHACHA20_POLY1305_SHA256" },
    { 0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" },
    { 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" },
    { 0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" },
    { 0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
    { 0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" },
    { 0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
    { 0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM" },
    { 0xC0AD, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM" },
    { 0xC0AE, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8" },
    { 0xC0AF, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8" },
    { 0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256" },
    { 0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" },
    { 0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384" },
    { 0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384" },
    { 0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" },
    { 0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" },
    { 0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" },
    { 0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" },
    { 0xC02D, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256" },
    { 0xC031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256" },
    { 0xC02E, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384" },
    { 0xC032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384" },
    { 0xC025, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256" },
    { 0xC029, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256" },
    { 0xC026, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384" },
    { 0xC02A, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384" },
    { 0xC004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA" },
    { 0xC00E, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA" },
    { 0xC005, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA" },
    { 0xC00F, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA" },
    { 0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256" },
    { 0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384" },
    { 0xC09C, "TLS_RSA_WITH_AES_128_CCM" },
    { 0xC09D, "TLS_RSA_WITH_AES_256_CCM" },
    { 0xC0A0, "TLS_RSA_WITH_AES_128_CCM_8" },
    { 0xC0A1, "TLS_RSA_WITH_AES_256_CCM_8" },
    { 0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256" },
    { 0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256" },
    { 0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA" },
    { 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA" },
    { 0xC008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA" },
    { 0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA" },
    { 0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA" },
};
#define SSLSOCKET__N_SUITES (sizeof sslsocket__suites / sizeof sslsocket__suites[0])

/* ==========================================================================
   >>platform
   All system calls go through these wrappers.
   ========================================================================== */

SSLSOCKET__PRIVATE int64_t
sslsocket__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Fill `buf` from the kernel's CSPRNG.  getrandom() on Linux never blocks
   once the pool is initialised (always true after early boot). */
SSLSOCKET__PRIVATE int
sslsocket__sys_random(void *buf, size_t len)
{
    unsigned char *p = (unsigned char *)buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

SSLSOCKET__PRIVATE void
sslsocket__sys_close(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

SSLSOCKET__PRIVATE socklen_t
sslsocket__to_sockaddr(const sslsocket_address *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (a->family == 6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(a->port);
        memcpy(&s6->sin6_addr, a->bytes, 16);
        return sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(a->port);
        memcpy(&s4->sin_addr, a->bytes, 4);
        return sizeof *s4;
    }
}

SSLSOCKET__PRIVATE void
sslsocket__from_sockaddr(const struct sockaddr_storage *ss, sslsocket_address *a)
{
    memset(a, 0, sizeof *a);
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        a->family = 6;
        a->port = ntohs(s6->sin6_port);
        memcpy(a->bytes, &s6->sin6_addr, 16);
    } else if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        a->family = 4;
        a->port = ntohs(s4->sin_port);
        memcpy(a->bytes, &s4->sin_addr, 4);
    }
}

SSLSOCKET__PRIVATE const char *
sslsocket__addr_text(const sslsocket_address *a, char *buf, size_t len)
{
    if (len == 0)
        return buf;
    buf[0] = 0;
    if (a->family == 4 || a->family == 6)
        inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->bytes, buf, (socklen_t)len);
    return buf;
}

/* A nonblocking, close-on-exec TCP socket for `family` (4 or 6). */
SSLSOCKET__PRIVATE int
sslsocket__sys_tcp_socket(int family)
{
    int fd = socket(family == 6 ? AF_INET6 : AF_INET,
                    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#ifdef SO_NOSIGPIPE
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
    }
#endif
    return fd;
}

/* send() that never raises SIGPIPE and retries EINTR.  Returns bytes sent,
   0 when the kernel buffer is full, -1 on error (errno set). */
SSLSOCKET__PRIVATE ptrdiff_t
sslsocket__sys_send(int fd, const void *buf, size_t len)
{
    for (;;) {
#ifdef MSG_NOSIGNAL
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
#else
        ssize_t n = send(fd, buf, len, 0);
#endif
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return -1;
    }
}

/* recv() retrying EINTR.  Returns bytes, 0 on EOF, -2 when nothing is
   waiting, -1 on error. */
SSLSOCKET__PRIVATE ptrdiff_t
sslsocket__sys_recv(int fd, void *buf, size_t len)
{
    for (;;) {
        ssize_t n = recv(fd, buf, len, 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return -2;
        return -1;
    }
}

/* Map an errno from socket/connect/send/recv to an error code. */
SSLSOCKET__PRIVATE int
sslsocket__errno_code(int e)
{
    switch (e) {
    case ECONNREFUSED: return SSLSOCKET_ERR_CONNECTION_REFUSED;
    case ECONNRESET: case EPIPE: return SSLSOCKET_ERR_REMOTE_HOST_CLOSED;
    case EACCES: case EPERM: return SSLSOCKET_ERR_SOCKET_ACCESS;
    case EMFILE: case ENFILE: case ENOBUFS: case ENOMEM:
        return SSLSOCKET_ERR_SOCKET_RESOURCE;
    case ETIMEDOUT: return SSLSOCKET_ERR_SOCKET_TIMEOUT;
    case EADDRINUSE: return SSLSOCKET_ERR_ADDRESS_IN_USE;
    case EADDRNOTAVAIL: return SSLSOCKET_ERR_SOCKET_ADDRESS_NOT_AVAILABLE;
    case EAFNOSUPPORT: case EPROTONOSUPPORT: case EOPNOTSUPP:
        return SSLSOCKET_ERR_UNSUPPORTED_SOCKET_OPERATION;
    default: return SSLSOCKET_ERR_NETWORK;
    }
}

/* The errno phrase in socket messages: lower case like every other message
   ("connection refused: ..."); strerror() (capitalised, and not thread-safe
   everywhere) only for the rare rest. */
SSLSOCKET__PRIVATE const char *
sslsocket__errno_text(int e)
{
    switch (e) {
    case ECONNREFUSED: return "connection refused";
    case ECONNRESET: return "connection reset by peer";
    case ECONNABORTED: return "connection aborted";
    case EPIPE: return "broken pipe";
    case ETIMEDOUT: return "connection timed out";
    case ENETUNREACH: return "network unreachable";
    case EHOSTUNREACH: return "host unreachable";
    case ENETDOWN: return "network is down";
    case EHOSTDOWN: return "host is down";
    case EADDRINUSE: return "address already in use";
    case EADDRNOTAVAIL: return "address not available";
    case EACCES: case EPERM: return "permission denied";
    case EMFILE: case ENFILE: return "too many open files";
    case ENOBUFS: case ENOMEM: return "out of buffer space";
    case EAFNOSUPPORT: return "address family not supported";
    default: return strerror(e);
    }
}

/* O_CLOEXEC is POSIX 2008: without feature macros it is hidden, and then the
 * descriptor is only short-lived anyway. */
#ifdef O_CLOEXEC
#define SSLSOCKET__O_CLOEXEC O_CLOEXEC
#else
#define SSLSOCKET__O_CLOEXEC 0
#endif

/* ==========================================================================
   >>resolver
   Host lookup that never blocks and never allocates: numeric literals,
   /etc/hosts, /etc/resolv.conf and a small UDP DNS client that sends the A
   and AAAA queries together and is driven by polling.  Everything a DNS
   server sends is treated as hostile.
   ========================================================================== */
/*
 * Order of a lookup: sslsocket__parse_ip_literal(), else
 * sslsocket__hosts_lookup(), else DNS with the servers from
 * sslsocket__resolv_conf():
 *
 *     sslsocket__resolver_init(&r);                     once, before anything else
 *     sslsocket__resolver_start(&r, name, ns, n_ns, now, timeout_ms, attempts, deadline);
 *     do {
 *         poll sslsocket__resolver_fd(&r) for POLLIN (skip it when -1) until
 *         sslsocket__resolver_next_timer(&r) at the latest;
 *         rc = sslsocket__resolver_step(&r, now, out, max, &n, msg, sizeof msg);
 *     } while (rc == SSLSOCKET__RESOLVE_PENDING);
 *
 * Fetch the fd again after every step: it changes when the next server is of
 * the other family. A final result (anything but PENDING) is returned once;
 * the resolver is then idle with its socket closed. The A and AAAA queries
 * leave together; try k goes to ns[k % n_ns], each try lasts timeout_ms and
 * re-sends only the unanswered queries; an error answer (SERVFAIL, REFUSED,
 * TC, ICMP unreachable) moves to the next server at once. Once one family
 * has addresses (or NXDOMAIN) the other gets SSLSOCKET__RESOLVE_DELAY_MS more
 * (RFC 8305 sec. 3). Addresses come out IPv6 first, families alternating
 * (RFC 8305 sec. 4), with port 0. Nothing here allocates, sleeps or waits.
 */

/* Results of sslsocket__resolver_step(). */
#define SSLSOCKET__RESOLVE_PENDING    0     /* still waiting */
#define SSLSOCKET__RESOLVE_DONE       1     /* addresses available */
#define SSLSOCKET__RESOLVE_NOTFOUND (-1)    /* NXDOMAIN or no A/AAAA records */
#define SSLSOCKET__RESOLVE_TIMEOUT  (-2)    /* no usable answer in time (EAI_AGAIN-like) */
#define SSLSOCKET__RESOLVE_ERROR    (-3)    /* local failure: socket, bad name, no server */

/* Negative results of sslsocket__dns_parse_response(). */
#define SSLSOCKET__DNS_EMALFORMED (-1)      /* broken packet: ignore it */
#define SSLSOCKET__DNS_EMISMATCH  (-2)      /* not the answer to our query: ignore it */
#define SSLSOCKET__DNS_ETRUNCATED (-3)      /* TC bit: this server cannot answer over UDP */

#define SSLSOCKET__DNS_TYPE_A      1
#define SSLSOCKET__DNS_TYPE_CNAME  5
#define SSLSOCKET__DNS_TYPE_AAAA  28


#define SSLSOCKET__RSTATE_IDLE    0
#define SSLSOCKET__RSTATE_RUNNING 1
#define SSLSOCKET__RSTATE_FAILED  2     /* start failed; the next step reports why */

#define SSLSOCKET__RFLAG_SETTLING 0x01  /* one family answered; waiting for the other */
#define SSLSOCKET__RFLAG_SENT     0x02  /* at least one query left this host */
#define SSLSOCKET__RFLAG_V6SOCK   0x04  /* fd is an AF_INET6 socket */

#define SSLSOCKET__RQ_DONE(q) (1u << (q))   /* query q (0 = A, 1 = AAAA) has its answer */
#define SSLSOCKET__RQ_NX(q)   (4u << (q))   /* ... and it was NXDOMAIN */
#define SSLSOCKET__RQ_DONE_BOTH 3u
#define SSLSOCKET__RQ_NX_ANY    12u

#define SSLSOCKET__RWHY_NONE      0
#define SSLSOCKET__RWHY_TRUNCATED 16    /* TC bit from why_ns */
#define SSLSOCKET__RWHY_SOCKET    17    /* socket() failed for why_ns's family */
#define SSLSOCKET__RWHY_SEND      18    /* connect/send to why_ns failed, or ICMP error */
#define SSLSOCKET__RWHY_BADNAME   19
#define SSLSOCKET__RWHY_NONS      20
#define SSLSOCKET__RWHY_RANDOM    21

/* ---- small helpers ---- */

SSLSOCKET__PRIVATE int
sslsocket__res_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* ASCII-only, case-insensitive: DNS and /etc/hosts names ignore case, nothing else. */
SSLSOCKET__PRIVATE int
sslsocket__res_ieq(const void *a, const void *b, size_t n)
{
    const unsigned char *x = (const unsigned char *)a;
    const unsigned char *y = (const unsigned char *)b;
    size_t i;

    for (i = 0; i < n; i++) {
        if (sslsocket__res_lower(x[i]) != sslsocket__res_lower(y[i]))
            return 0;
    }
    return 1;
}

/* strnlen is POSIX 2008, not C99. */
SSLSOCKET__PRIVATE size_t
sslsocket__res_strnlen(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n] != '\0')
        n++;
    return n;
}

SSLSOCKET__PRIVATE unsigned
sslsocket__res_get16(const unsigned char *p)
{
    return ((unsigned)p[0] << 8) | p[1];
}

/* inet_pton for both families; no brackets, no zone ids ("fe80::1%eth0"). */
SSLSOCKET__PRIVATE int
sslsocket__res_pton(const char *s, sslsocket_address *out)
{
    unsigned char b[16];
    int family;

    if (inet_pton(AF_INET, s, b) == 1)
        family = 4;
    else if (inet_pton(AF_INET6, s, b) == 1)
        family = 6;
    else
        return 0;
    if (out != NULL) {
        memset(out, 0, sizeof *out);
        out->family = (unsigned char)family;
        memcpy(out->bytes, b, family == 4 ? 4 : 16);
    }
    return 1;
}

/* 1 and *out (port 0) if s is an IPv4 or IPv6 literal, "[v6]" included; else 0.
 * out may be NULL. Strict forms only (inet_pton: no "1.2.3", no octal). */
SSLSOCKET__PRIVATE int
sslsocket__parse_ip_literal(const char *s, sslsocket_address *out)
{
    char tmp[48];   /* the longest IPv6 text form has 45 characters */
    size_t n;

    if (s == NULL)
        return 0;
    n = sslsocket__res_strnlen(s, sizeof tmp + 2);
    if (s[0] == '[') {
        sslsocket_address a;

        /* "[v6]" as written in URLs; only IPv6 goes in brackets */
        if (n < 4 || n - 2 >= sizeof tmp || s[n - 1] != ']')
            return 0;
        memcpy(tmp, s + 1, n - 2);
        tmp[n - 2] = '\0';
        if (!sslsocket__res_pton(tmp, &a) || a.family != 6)
            return 0;
        if (out != NULL)
            *out = a;
        return 1;
    }
    if (n == 0 || n >= sizeof tmp)
        return 0;
    return sslsocket__res_pton(s, out);
}

/* ---- line-oriented config files (/etc/hosts, /etc/resolv.conf) ---- */

/* Called with one NUL-terminated line (comments not yet removed); returns 1 to stop. */
typedef int (*sslsocket__res_line_fn)(void *ctx, char *line, size_t len);

/* Reads a regular file line by line through a stack buffer; lines that do not
 * fit are skipped whole. Returns 0, or -1 if the file cannot be read. */
SSLSOCKET__PRIVATE int
sslsocket__res_read_lines(const char *path, sslsocket__res_line_fn fn, void *ctx)
{
    char buf[SSLSOCKET__LINE_MAX];
    size_t have = 0, start, total = 0;
    int fd, skipping = 0, stop = 0, rc = 0;
    struct stat st;

    if (path == NULL)
        return -1;
    /* O_NONBLOCK: a FIFO planted at the path must not hang us in open() */
    fd = open(path, O_RDONLY | SSLSOCKET__O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    while (!stop) {
        ssize_t got = read(fd, buf + have, sizeof buf - 1 - have);
        char *nl;

        if (got < 0) {
            if (errno == EINTR)
                continue;
            rc = -1;
            break;
        }
        if (got == 0) {
            /* last line without a newline */
            if (have > 0 && !skipping) {
                buf[have] = '\0';
                if (memchr(buf, '\0', have) == NULL)
                    fn(ctx, buf, have);
            }
            break;
        }
        total += (size_t)got;
        if (total > (size_t)SSLSOCKET__FILE_MAX_BYTES)
            break;
        have += (size_t)got;
        start = 0;
        while (!stop && (nl = (char *)memchr(buf + start, '\n', have - start)) != NULL) {
            size_t len = (size_t)(nl - (buf + start));

            *nl = '\0';
            /* lines with NUL bytes are not text: skip rather than half-parse */
            if (!skipping && memchr(buf + start, '\0', len) == NULL)
                stop = fn(ctx, buf + start, len);
            skipping = 0;
            start += len + 1;
        }
        memmove(buf, buf + start, have - start);
        have -= start;
        if (have == sizeof buf - 1) {
            /* no newline in a full buffer: drop this line up to its end */
            skipping = 1;
            have = 0;
        }
    }
    close(fd);
    return rc;
}

/* Next whitespace-separated token of [*p, end), NUL-terminated in place, or NULL. */
SSLSOCKET__PRIVATE char *
sslsocket__res_token(char **p, char *end)
{
    char *s = *p, *tok;

    while (s < end && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\f' || *s == '\v'))
        s++;
    if (s >= end)
        return NULL;
    tok = s;
    while (s < end && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\f' && *s != '\v')
        s++;
    if (s < end)
        *s++ = '\0';
    *p = s;
    return tok;
}

/* Cuts the line at the first comment character found in chars. */
SSLSOCKET__PRIVATE size_t
sslsocket__res_strip_comment(char *line, size_t len, const char *chars)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (strchr(chars, line[i]) != NULL) {
            line[i] = '\0';
            return i;
        }
    }
    return len;
}

typedef struct sslsocket__res_hosts_ctx {
    const char *name;
    size_t name_len;
    sslsocket_address *out;
    int max, n;
} sslsocket__res_hosts_ctx;

SSLSOCKET__PRIVATE int
sslsocket__res_hosts_line(void *vctx, char *line, size_t len)
{
    sslsocket__res_hosts_ctx *c = (sslsocket__res_hosts_ctx *)vctx;
    char *p = line, *end, *tok;
    sslsocket_address a;
    int i;

    end = line + sslsocket__res_strip_comment(line, len, "#");
    tok = sslsocket__res_token(&p, end);
    if (tok == NULL || !sslsocket__res_pton(tok, &a))
        return 0;
    while ((tok = sslsocket__res_token(&p, end)) != NULL) {
        size_t n = strlen(tok);

        if (n > 1 && tok[n - 1] == '.')
            n--;
        if (n != c->name_len || !sslsocket__res_ieq(tok, c->name, n))
            continue;
        for (i = 0; i < c->n; i++) {
            if (c->out[i].family == a.family && memcmp(c->out[i].bytes, a.bytes, 16) == 0)
                return 0;   /* listed twice: keep the first */
        }
        c->out[c->n++] = a;
        break;
    }
    return c->n >= c->max;
}

/* Addresses for name in an /etc/hosts-format file, both families, in file
 * order, duplicates dropped, port 0. Names and aliases match without regard
 * to case or a trailing dot. Returns how many (<= max), 0 if none, -1 if the
 * file cannot be read. Unordered: see sslsocket__order_addresses(). */
SSLSOCKET__PRIVATE int
sslsocket__hosts_lookup(const char *path, const char *name, sslsocket_address *out, int max)
{
    sslsocket__res_hosts_ctx c;

    if (name == NULL || out == NULL || max <= 0)
        return 0;
    c.name = name;
    c.name_len = sslsocket__res_strnlen(name, SSLSOCKET__MAX_NAME);
    /* "localhost." names the same host as "localhost" */
    if (c.name_len > 1 && name[c.name_len - 1] == '.')
        c.name_len--;
    if (c.name_len == 0 || c.name_len >= SSLSOCKET__MAX_NAME)
        return 0;
    c.out = out;
    c.max = max;
    c.n = 0;
    if (sslsocket__res_read_lines(path, sslsocket__res_hosts_line, &c) < 0 && c.n == 0)
        return -1;
    return c.n;
}

typedef struct sslsocket__res_conf_ctx {
    sslsocket_address *ns;
    int max, n;
    int attempts, timeout_s;
} sslsocket__res_conf_ctx;

/* Small decimal for "timeout:N"; -1 if not all digits. */
SSLSOCKET__PRIVATE int
sslsocket__res_small_uint(const char *s)
{
    int v = 0;

    if (*s == '\0')
        return -1;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v < 10000)
            v = v * 10 + (*s - '0');
    }
    return v;
}

SSLSOCKET__PRIVATE int
sslsocket__res_conf_line(void *vctx, char *line, size_t len)
{
    sslsocket__res_conf_ctx *c = (sslsocket__res_conf_ctx *)vctx;
    char *p = line, *end, *tok;
    sslsocket_address a;
    int v;

    end = line + sslsocket__res_strip_comment(line, len, "#;");
    tok = sslsocket__res_token(&p, end);
    if (tok == NULL)
        return 0;
    if (strcmp(tok, "nameserver") == 0) {
        tok = sslsocket__res_token(&p, end);
        /* scoped addresses (fe80::1%eth0) cannot be represented: skipped */
        if (tok != NULL && c->n < c->max && sslsocket__res_pton(tok, &a)) {
            a.port = 53;
            c->ns[c->n++] = a;
        }
    } else if (strcmp(tok, "options") == 0) {
        while ((tok = sslsocket__res_token(&p, end)) != NULL) {
            /* glibc's limits: RES_MAXRETRANS 30 s, RES_MAXRETRY 5 */
            if (strncmp(tok, "timeout:", 8) == 0 && (v = sslsocket__res_small_uint(tok + 8)) >= 0)
                c->timeout_s = v < 1 ? 1 : v > 30 ? 30 : v;
            else if (strncmp(tok, "attempts:", 9) == 0
                     && (v = sslsocket__res_small_uint(tok + 9)) >= 0)
                c->attempts = v < 1 ? 1 : v > 5 ? 5 : v;
        }
    }
    return 0;
}

/* Name servers (port 53) and "options timeout:N attempts:N" from a
 * resolv.conf-format file; glibc's defaults and limits (5 s, 2 attempts;
 * 1..30 s, 1..5). No server or no file gives 127.0.0.1:53. Returns the number
 * of servers (<= max; 0 only when max is 0). attempts, timeout_s may be NULL.
 * "search", "domain", "ndots" and "rotate" are ignored. */
SSLSOCKET__PRIVATE int
sslsocket__resolv_conf(const char *path, sslsocket_address *ns, int max, int *attempts,
                       int *timeout_s)
{
    sslsocket__res_conf_ctx c;

    c.ns = ns;
    c.max = ns != NULL && max > 0 ? max : 0;
    c.n = 0;
    c.attempts = 2;     /* glibc's RES_DFLRETRY */
    c.timeout_s = 5;    /* glibc's RES_TIMEOUT */
    /* an unreadable file means defaults, as in glibc */
    (void)sslsocket__res_read_lines(path, sslsocket__res_conf_line, &c);
    if (c.n == 0 && c.max > 0) {
        memset(&ns[0], 0, sizeof ns[0]);
        ns[0].family = 4;
        ns[0].bytes[0] = 127;
        ns[0].bytes[3] = 1;
        ns[0].port = 53;
        c.n = 1;
    }
    if (attempts != NULL)
        *attempts = c.attempts;
    if (timeout_s != NULL)
        *timeout_s = c.timeout_s;
    return c.n;
}

/* ---- DNS messages (RFC 1035) ---- */

/* Host name to wire format. Letters, digits, '-' and '_' only; one trailing
 * dot allowed. Returns the wire length or -1. */
SSLSOCKET__PRIVATE int
sslsocket__dns_encode_name(const char *name, unsigned char *wire, size_t cap)
{
    size_t n, i, w = 1, lenpos = 0, label = 0;

    if (name == NULL)
        return -1;
    n = sslsocket__res_strnlen(name, SSLSOCKET__MAX_NAME + 1);
    if (n > 0 && name[n - 1] == '.')
        n--;
    if (n == 0 || n > SSLSOCKET__MAX_NAME - 1 || n + 2 > cap)
        return -1;
    for (i = 0; i < n; i++) {
        int ch = (unsigned char)name[i];

        if (ch == '.') {
            if (label == 0)
                return -1;
            wire[lenpos] = (unsigned char)label;
            lenpos = w++;
            label = 0;
            continue;
        }
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
              || ch == '-' || ch == '_'))
            return -1;
        if (++label > 63)
            return -1;
        wire[w++] = (unsigned char)ch;
    }
    if (label == 0)
        return -1;
    wire[lenpos] = (unsigned char)label;
    wire[w++] = 0;
    return (int)w;
}

/* A standard query with RD set for name (class IN). Returns its length, or -1
 * for an invalid name (see above) or a buffer too small (271 bytes always do). */
SSLSOCKET__PRIVATE int
sslsocket__dns_build_query(unsigned char *buf, size_t cap, unsigned short id, const char *name,
                           int qtype)
{
    int w;
    size_t len;

    if (buf == NULL || cap < 12 + 4 || qtype < 0 || qtype > 0xFFFF)
        return -1;
    w = sslsocket__dns_encode_name(name, buf + 12, cap - 12 - 4);
    if (w < 0)
        return -1;
    memset(buf, 0, 12);
    buf[0] = (unsigned char)(id >> 8);
    buf[1] = (unsigned char)id;
    buf[2] = 0x01;      /* RD: the server recurses for us */
    buf[5] = 1;         /* QDCOUNT */
    len = 12 + (size_t)w;
    buf[len++] = (unsigned char)(qtype >> 8);
    buf[len++] = (unsigned char)qtype;
    buf[len++] = 0;
    buf[len++] = 1;     /* class IN */
    return (int)len;
}

/* Reads a possibly compressed name at *pos into name (wire form, lower case,
 * at most 255 bytes) and moves *pos past it. Returns its length or -1. */
SSLSOCKET__PRIVATE int
sslsocket__dns_read_name(const unsigned char *pkt, size_t len, size_t *pos, unsigned char *name)
{
    size_t p = *pos, w = 0, end = 0, i;
    int jumped = 0, hops = 0;

    for (;;) {
        unsigned c;

        if (p >= len)
            return -1;
        c = pkt[p];
        if ((c & 0xC0) == 0xC0) {
            size_t target;

            if (p + 1 >= len)
                return -1;
            target = ((size_t)(c & 0x3F) << 8) | pkt[p + 1];
            if (!jumped)
                end = p + 2;
            jumped = 1;
            /* bounded: a pointer loop must end; names never live in the header */
            if (++hops > SSLSOCKET__DNS_MAX_HOPS || target < 12 || target >= len)
                return -1;
            p = target;
            continue;
        }
        if ((c & 0xC0) != 0)
            return -1;  /* 0x40/0x80 label types: obsolete or reserved */
        if (c == 0)
            break;
        if (c > len - p - 1 || w + 1 + c + 1 > SSLSOCKET__DNS_MAX_WIRE_NAME)
            return -1;
        name[w++] = (unsigned char)c;
        for (i = 0; i < c; i++)
            name[w++] = (unsigned char)sslsocket__res_lower(pkt[p + 1 + i]);
        p += 1 + c;
    }
    name[w++] = 0;
    *pos = jumped ? end : p + 1;
    return (int)w;
}

/* One resource record header: owner name, type, class, and where its data is. */
SSLSOCKET__PRIVATE int
sslsocket__dns_read_rr(const unsigned char *pkt, size_t len, size_t *pos, unsigned char *owner,
                       int *owner_len, unsigned *type, unsigned *klass, size_t *rdlen)
{
    size_t p = *pos;

    *owner_len = sslsocket__dns_read_name(pkt, len, &p, owner);
    if (*owner_len < 0 || len - p < 10)
        return -1;
    *type = sslsocket__res_get16(pkt + p);
    *klass = sslsocket__res_get16(pkt + p + 2);
    *rdlen = sslsocket__res_get16(pkt + p + 8);
    p += 10;
    if (*rdlen > len - p)
        return -1;
    *pos = p;   /* at the record data */
    return 0;
}

/* Checks that pkt answers our query (id, QR, opcode, the one question,
 * class IN) and takes the qtype (A or AAAA) addresses of the name at the end
 * of its CNAME chain. Returns how many went to out (<= max, port 0) with
 * *rcode set (addresses only with rcode 0), or SSLSOCKET__DNS_E*: MISMATCH and
 * MALFORMED packets are to be ignored, TRUNCATED means "ask another server". */
SSLSOCKET__PRIVATE int
sslsocket__dns_parse_response(const unsigned char *pkt, size_t len, unsigned short id,
                              const char *name, int qtype, sslsocket_address *out, int max,
                              int *rcode)
{
    unsigned char want[256], cur[256], got[256];
    int want_len, cur_len, got_len, hops, n = 0, i, k;
    unsigned qd, an, type = 0, klass = 0, rc;
    size_t pos, an_start, rdlen = 0;

    if (rcode != NULL)
        *rcode = -1;
    if (pkt == NULL || len < 12)
        return SSLSOCKET__DNS_EMALFORMED;
    if (sslsocket__res_get16(pkt) != id)
        return SSLSOCKET__DNS_EMISMATCH;
    /* a response (QR) to a standard query (opcode 0) with our one question */
    qd = sslsocket__res_get16(pkt + 4);
    an = sslsocket__res_get16(pkt + 6);
    if ((pkt[2] & 0x80) == 0 || (pkt[2] & 0x78) != 0 || qd != 1)
        return SSLSOCKET__DNS_EMISMATCH;
    want_len = sslsocket__dns_encode_name(name, want, sizeof want);
    if (want_len < 0)
        return SSLSOCKET__DNS_EMISMATCH;
    for (i = 0; i < want_len; i++)
        want[i] = (unsigned char)sslsocket__res_lower(want[i]);
    pos = 12;
    got_len = sslsocket__dns_read_name(pkt, len, &pos, got);
    if (got_len < 0 || len - pos < 4)
        return SSLSOCKET__DNS_EMALFORMED;
    if (got_len != want_len || memcmp(got, want, (size_t)want_len) != 0
        || sslsocket__res_get16(pkt + pos) != (unsigned)qtype
        || sslsocket__res_get16(pkt + pos + 2) != 1)
        return SSLSOCKET__DNS_EMISMATCH;
    pos += 4;
    rc = pkt[3] & 0x0Fu;
    if (rcode != NULL)
        *rcode = (int)rc;
    if (pkt[2] & 0x02)
        return SSLSOCKET__DNS_ETRUNCATED;
    if (rc != 0)
        return 0;

    /* Validate the whole answer section first: a count that promises more
     * records than the packet holds is a lie, and the packet is dropped. */
    an_start = pos;
    for (k = 0; k < (int)an; k++) {
        if (sslsocket__dns_read_rr(pkt, len, &pos, got, &got_len, &type, &klass, &rdlen) < 0)
            return SSLSOCKET__DNS_EMALFORMED;
        if (klass == 1 && ((type == SSLSOCKET__DNS_TYPE_A && rdlen != 4)
                           || (type == SSLSOCKET__DNS_TYPE_AAAA && rdlen != 16)))
            return SSLSOCKET__DNS_EMALFORMED;
        if (klass == 1 && type == SSLSOCKET__DNS_TYPE_CNAME) {
            size_t p2 = pos;

            if (sslsocket__dns_read_name(pkt, len, &p2, cur) < 0 || p2 != pos + rdlen)
                return SSLSOCKET__DNS_EMALFORMED;
        }
        pos += rdlen;
    }

    /* Follow the CNAME chain from the question name (bounded: a loop ends). */
    memcpy(cur, want, (size_t)want_len);
    cur_len = want_len;
    for (hops = 0; hops < SSLSOCKET__DNS_MAX_CNAME; hops++) {
        int found = 0;

        pos = an_start;
        for (k = 0; k < (int)an && !found; k++) {
            (void)sslsocket__dns_read_rr(pkt, len, &pos, got, &got_len, &type, &klass, &rdlen);
            if (klass == 1 && type == SSLSOCKET__DNS_TYPE_CNAME && got_len == cur_len
                && memcmp(got, cur, (size_t)cur_len) == 0) {
                size_t p2 = pos;

                cur_len = sslsocket__dns_read_name(pkt, len, &p2, cur);
                found = 1;
            }
            pos += rdlen;
        }
        if (!found)
            break;
    }

    /* Only records owned by the end of the chain count: anything else in the
     * answer section is unrequested and may be an attempt at poisoning. */
    pos = an_start;
    for (k = 0; k < (int)an; k++) {
        int dup = 0;
        sslsocket_address a;

        (void)sslsocket__dns_read_rr(pkt, len, &pos, got, &got_len, &type, &klass, &rdlen);
        if (klass == 1 && type == (unsigned)qtype && got_len == cur_len
            && memcmp(got, cur, (size_t)cur_len) == 0 && n < max && out != NULL
            && (type == SSLSOCKET__DNS_TYPE_A || type == SSLSOCKET__DNS_TYPE_AAAA)) {
            memset(&a, 0, sizeof a);
            a.family = type == SSLSOCKET__DNS_TYPE_A ? 4 : 6;
            memcpy(a.bytes, pkt + pos, rdlen);
            for (i = 0; i < n; i++)
                dup |= memcmp(out[i].bytes, a.bytes, 16) == 0;
            if (!dup)
                out[n++] = a;
        }
        pos += rdlen;
    }
    return n;
}

/* ---- the polled resolver ---- */

/* Happy eyeballs order (RFC 8305 sec. 4): interleave families, IPv6 first.
 * Stable within each family; in place. */
SSLSOCKET__PRIVATE void
sslsocket__order_addresses(sslsocket_address *a, int n)
{
    int i, j;
    unsigned char want = 6;

    for (i = 0; i < n; i++) {
        for (j = i; j < n && a[j].family != want; j++)
            ;
        if (j < n && j != i) {
            sslsocket_address t = a[j];

            memmove(&a[i + 1], &a[i], (size_t)(j - i) * sizeof *a);
            a[i] = t;
        }
        if (j < n)
            want = want == 6 ? 4 : 6;
    }
}

/* Bounded message builder: never overflows, always NUL-terminated. */
typedef struct sslsocket__res_msg {
    char *p;
    size_t cap, len;
} sslsocket__res_msg;

SSLSOCKET__PRIVATE void
sslsocket__res_msg_put(sslsocket__res_msg *m, const char *s)
{
    if (m->cap == 0)
        return;
    for (; *s != '\0' && m->len + 1 < m->cap; s++) {
        unsigned char c = (unsigned char)*s;

        /* the host name came from the caller: keep control bytes out of logs */
        m->p[m->len++] = (c < 0x20 || c >= 0x7F) ? '?' : (char)c;
    }
    m->p[m->len] = '\0';
}

SSLSOCKET__PRIVATE void
sslsocket__res_msg_uint(sslsocket__res_msg *m, unsigned v)
{
    char t[12];
    size_t i = sizeof t - 1;

    t[i] = '\0';
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 && i > 0);
    sslsocket__res_msg_put(m, t + i);
}

/* "192.0.2.1:53" or "[2001:db8::1]:53" */
SSLSOCKET__PRIVATE void
sslsocket__res_msg_addr(sslsocket__res_msg *m, const sslsocket_address *a)
{
    char t[INET6_ADDRSTRLEN];

    if (inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->bytes, t, sizeof t) == NULL)
        t[0] = '\0';
    if (a->family == 6)
        sslsocket__res_msg_put(m, "[");
    sslsocket__res_msg_put(m, t);
    sslsocket__res_msg_put(m, a->family == 6 ? "]:" : ":");
    sslsocket__res_msg_uint(m, a->port);
}

SSLSOCKET__PRIVATE void
sslsocket__res_msg_errno(sslsocket__res_msg *m, int e)
{
    /* a few words instead of strerror(), which is not thread-safe everywhere */
    switch (e) {
    case ENETUNREACH: sslsocket__res_msg_put(m, "network unreachable"); break;
    case EHOSTUNREACH: sslsocket__res_msg_put(m, "host unreachable"); break;
    case EACCES: case EPERM: sslsocket__res_msg_put(m, "permission denied"); break;
    case EAFNOSUPPORT: sslsocket__res_msg_put(m, "address family not supported"); break;
    case EMFILE: case ENFILE: sslsocket__res_msg_put(m, "too many open files"); break;
    case ENOBUFS: case ENOMEM: sslsocket__res_msg_put(m, "out of buffer space"); break;
    case EAGAIN: sslsocket__res_msg_put(m, "send buffer full"); break;
    case ECONNREFUSED: sslsocket__res_msg_put(m, "connection refused"); break;
    case EADDRNOTAVAIL: sslsocket__res_msg_put(m, "address not available"); break;
    default:
        sslsocket__res_msg_put(m, "system error ");
        sslsocket__res_msg_uint(m, (unsigned)e);
        break;
    }
}

SSLSOCKET__PRIVATE void
sslsocket__res_msg_rcode(sslsocket__res_msg *m, unsigned rc)
{
    static const char *const names[] = {
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"
    };

    if (rc < sizeof names / sizeof names[0]) {
        sslsocket__res_msg_put(m, names[rc]);
    } else {
        sslsocket__res_msg_put(m, "RCODE ");
        sslsocket__res_msg_uint(m, rc);
    }
}

/* Idle, no socket. Required once before any other resolver call. */
SSLSOCKET__PRIVATE void
sslsocket__resolver_init(sslsocket__resolver *r)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    r->state = SSLSOCKET__RSTATE_IDLE;
}

/* Stops a lookup and closes its socket; idempotent. */
SSLSOCKET__PRIVATE void
sslsocket__resolver_cancel(sslsocket__resolver *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    r->state = SSLSOCKET__RSTATE_IDLE;
}

/* The socket to poll for POLLIN while a lookup runs, else -1. */
SSLSOCKET__PRIVATE int
sslsocket__resolver_fd(const sslsocket__resolver *r)
{
    return r->state == SSLSOCKET__RSTATE_RUNNING ? r->fd : -1;
}

/* When step must run again at the latest (same clock as now_ms); INT64_MAX
 * when idle. */
SSLSOCKET__PRIVATE int64_t
sslsocket__resolver_next_timer(const sslsocket__resolver *r)
{
    if (r->state == SSLSOCKET__RSTATE_FAILED)
        return r->timer_ms;     /* the start time: report the failure at once */
    if (r->state != SSLSOCKET__RSTATE_RUNNING)
        return INT64_MAX;
    return r->timer_ms < r->deadline_ms ? r->timer_ms : r->deadline_ms;
}

/* Kernel randomness for query ids, without blocking (early boot fails instead). */
SSLSOCKET__PRIVATE int
sslsocket__res_random(unsigned char *buf, size_t len)
{
    ssize_t got;
    int fd;

    do {
        got = getrandom(buf, len, GRND_NONBLOCK);
    } while (got < 0 && errno == EINTR);
    if (got == (ssize_t)len)
        return 0;
    /* kernels before 3.17 lack getrandom(): fall back to the device */
    fd = open("/dev/urandom", O_RDONLY | SSLSOCKET__O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -1;
    got = read(fd, buf, len);
    close(fd);
    return got == (ssize_t)len ? 0 : -1;
}

typedef union sslsocket__res_sockaddr {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
} sslsocket__res_sockaddr;

SSLSOCKET__PRIVATE socklen_t
sslsocket__res_to_sockaddr(const sslsocket_address *a, sslsocket__res_sockaddr *sa)
{
    memset(sa, 0, sizeof *sa);
    if (a->family == 6) {
        sa->in6.sin6_family = AF_INET6;
        sa->in6.sin6_port = htons(a->port);
        memcpy(&sa->in6.sin6_addr, a->bytes, 16);
        return (socklen_t)sizeof sa->in6;
    }
    sa->in4.sin_family = AF_INET;
    sa->in4.sin_port = htons(a->port);
    memcpy(&sa->in4.sin_addr, a->bytes, 4);
    return (socklen_t)sizeof sa->in4;
}

SSLSOCKET__PRIVATE int
sslsocket__res_sockaddr_is(const sslsocket__res_sockaddr *sa, socklen_t len,
                           const sslsocket_address *a)
{
    if (a->family == 6)
        return len >= (socklen_t)sizeof sa->in6 && sa->sa.sa_family == AF_INET6
               && ntohs(sa->in6.sin6_port) == a->port
               && memcmp(&sa->in6.sin6_addr, a->bytes, 16) == 0;
    return len >= (socklen_t)sizeof sa->in4 && sa->sa.sa_family == AF_INET
           && ntohs(sa->in4.sin_port) == a->port && memcmp(&sa->in4.sin_addr, a->bytes, 4) == 0;
}

SSLSOCKET__PRIVATE void
sslsocket__resolver_fail(sslsocket__resolver *r, unsigned why, int idx, int err)
{
    r->why = (unsigned char)why;
    r->why_ns = (unsigned char)((r->why_ns & 0xF0u) | ((unsigned)idx & 0x0Fu));
    r->err = (unsigned char)(err < 0 || err > 255 ? 255 : err);
}

/* Makes fd a UDP socket of the given family, reopening it when the family
 * changes. Late replies from earlier servers are lost either way, since the
 * socket is connected to the current one (glibc does the same). */
SSLSOCKET__PRIVATE int
sslsocket__resolver_socket(sslsocket__resolver *r, int family)
{
    int fd, v6 = family == 6, fl;

    if (r->fd >= 0 && ((r->flags & SSLSOCKET__RFLAG_V6SOCK) != 0) == v6)
        return 0;
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    r->sent = 0;
    fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        int e = errno;

        close(fd);
        errno = e;
        return -1;
    }
    r->fd = fd;
    r->flags = (unsigned char)(v6 ? r->flags | SSLSOCKET__RFLAG_V6SOCK
                                  : r->flags & ~SSLSOCKET__RFLAG_V6SOCK);
    return 0;
}

/* Starts the next try: every query still unanswered goes to the next server
 * in turn. A server we cannot even send to is skipped at once. */
SSLSOCKET__PRIVATE void
sslsocket__resolver_send_try(sslsocket__resolver *r, int64_t now_ms)
{
    unsigned char pkt[12 + SSLSOCKET__DNS_MAX_WIRE_NAME + 4];
    sslsocket__res_sockaddr sa;
    socklen_t salen;
    int idx = r->tries % r->n_ns, q, ok = 0, err = 0;

    r->tries++;
    r->timer_ms = now_ms + r->timeout_ms;
    if (sslsocket__resolver_socket(r, r->ns[idx].family) < 0) {
        sslsocket__resolver_fail(r, SSLSOCKET__RWHY_SOCKET, idx, errno);
        r->timer_ms = now_ms;
        return;
    }
    salen = sslsocket__res_to_sockaddr(&r->ns[idx], &sa);
    /* an ICMP error left over from the previous server is not this one's */
    {
        int soerr = 0;
        socklen_t sl = (socklen_t)sizeof soerr;

        (void)getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    }
    /* connected (as glibc does): the kernel drops datagrams from anyone else,
     * and a closed port comes back as ECONNREFUSED instead of a long silence */
    if (connect(r->fd, &sa.sa, salen) < 0) {
        sslsocket__resolver_fail(r, SSLSOCKET__RWHY_SEND, idx, errno);
        r->timer_ms = now_ms;
        return;
    }
    for (q = 0; q < 2; q++) {
        int len;
        ssize_t sent;

        if (r->answered & SSLSOCKET__RQ_DONE(q))
            continue;
        len = sslsocket__dns_build_query(pkt, sizeof pkt, r->id[q], r->name,
                                         q ? SSLSOCKET__DNS_TYPE_AAAA : SSLSOCKET__DNS_TYPE_A);
        if (len < 0)
            continue;
        do {
            sent = send(r->fd, pkt, (size_t)len, MSG_DONTWAIT);
        } while (sent < 0 && errno == EINTR);
        if (sent == (ssize_t)len)
            ok = 1;
        else
            err = sent < 0 ? errno : EMSGSIZE;
    }
    if (ok) {
        r->sent = (unsigned char)(r->sent | (1u << idx));
        r->flags |= SSLSOCKET__RFLAG_SENT;
    }
    if (err != 0) {
        sslsocket__resolver_fail(r, SSLSOCKET__RWHY_SEND, idx, err);
        /* on loopback the ICMP for the first query fails the second send */
        if (!ok || err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH)
            r->timer_ms = now_ms;
    }
}

/* Starts resolving name (copied) with up to SSLSOCKET__RESOLVE_MAX_NS of the
 * servers ns (copied); any lookup already running is cancelled. timeout_ms is
 * per try (1..60000), attempts rounds over all servers (1..5), deadline_ms
 * ends it all. now_ms/deadline_ms: any monotonic millisecond clock. Returns
 * PENDING, or ERROR (bad name, no server, no randomness): the next step then
 * reports it with a message. */
SSLSOCKET__PRIVATE int
sslsocket__resolver_start(sslsocket__resolver *r, const char *name, const sslsocket_address *ns,
                          int n_ns, int64_t now_ms, int timeout_ms, int attempts,
                          int64_t deadline_ms)
{
    unsigned char wire[SSLSOCKET__DNS_MAX_WIRE_NAME + 1], rnd[4];
    size_t n;
    int i;

    sslsocket__resolver_cancel(r);
    sslsocket__resolver_init(r);
    n = name != NULL ? sslsocket__res_strnlen(name, sizeof r->name - 1) : 0;
    if (n > 0)
        memcpy(r->name, name, n);
    r->name[n] = '\0';
    r->state = SSLSOCKET__RSTATE_FAILED;
    r->timer_ms = now_ms;
    r->deadline_ms = deadline_ms;
    if (sslsocket__dns_encode_name(name, wire, sizeof wire) < 0) {
        sslsocket__resolver_fail(r, SSLSOCKET__RWHY_BADNAME, 0, 0);
        return SSLSOCKET__RESOLVE_ERROR;
    }
    for (i = 0; ns != NULL && i < n_ns && r->n_ns < SSLSOCKET__RESOLVE_MAX_NS; i++) {
        if (ns[i].family == 4 || ns[i].family == 6)
            r->ns[r->n_ns++] = ns[i];
    }
    if (r->n_ns == 0) {
        sslsocket__resolver_fail(r, SSLSOCKET__RWHY_NONS, 0, 0);
        return SSLSOCKET__RESOLVE_ERROR;
    }
    if (sslsocket__res_random(rnd, sizeof rnd) < 0) {
        sslsocket__resolver_fail(r, SSLSOCKET__RWHY_RANDOM, 0, errno);
        return SSLSOCKET__RESOLVE_ERROR;
    }
    r->id[0] = (unsigned short)sslsocket__res_get16(rnd);
    r->id[1] = (unsigned short)sslsocket__res_get16(rnd + 2);
    if (r->id[1] == r->id[0])
        r->id[1] ^= 1;  /* the id tells the two answers apart */
    r->timeout_ms = (unsigned short)(timeout_ms < 1 ? 1 : timeout_ms > 60000 ? 60000 : timeout_ms);
    attempts = attempts < 1 ? 1 : attempts > 5 ? 5 : attempts;
    r->max_tries = (unsigned char)(attempts * r->n_ns);
    r->state = SSLSOCKET__RSTATE_RUNNING;
    sslsocket__resolver_send_try(r, now_ms);
    return SSLSOCKET__RESOLVE_PENDING;
}

/* Server idx gave up on the queries in qmask (error rcode, truncation, ICMP). */
SSLSOCKET__PRIVATE void
sslsocket__resolver_gave_up(sslsocket__resolver *r, unsigned qmask, unsigned why, int idx, int err,
                            int64_t now_ms)
{
    sslsocket__resolver_fail(r, why, idx, err);
    if (r->flags & SSLSOCKET__RFLAG_SETTLING)
        r->answered = (unsigned char)(r->answered | qmask);  /* use what we have */
    else if (idx == (r->tries - 1) % r->n_ns)
        r->timer_ms = now_ms;   /* the server we are asking gave up: ask the next one now */
}

/* One datagram from ns[idx]. Anything that is not a well-formed answer to one
 * of our two queries is ignored: the real answer may still come. */
SSLSOCKET__PRIVATE void
sslsocket__resolver_datagram(sslsocket__resolver *r, const unsigned char *pkt, size_t len,
                             int idx, int64_t now_ms)
{
    sslsocket_address got[SSLSOCKET__RESOLVE_MAX_PER_FAMILY];
    int q, k, i, rc;

    for (q = 0; q < 2; q++) {
        if (len < 2 || sslsocket__res_get16(pkt) != r->id[q])
            continue;
        if (r->answered & SSLSOCKET__RQ_DONE(q))
            return;     /* e.g. the answer to a retransmission */
        k = sslsocket__dns_parse_response(pkt, len, r->id[q], r->name,
                                          q ? SSLSOCKET__DNS_TYPE_AAAA : SSLSOCKET__DNS_TYPE_A,
                                          got, SSLSOCKET__RESOLVE_MAX_PER_FAMILY, &rc);
        if (k == SSLSOCKET__DNS_ETRUNCATED) {
            sslsocket__resolver_gave_up(r, SSLSOCKET__RQ_DONE(q), SSLSOCKET__RWHY_TRUNCATED, idx, 0,
                                        now_ms);
            return;
        }
        if (k < 0)
            return;
        if (rc != 0 && rc != 3) {
            sslsocket__resolver_gave_up(r, SSLSOCKET__RQ_DONE(q), (unsigned)rc, idx, 0, now_ms);
            return;
        }
        r->answered = (unsigned char)(r->answered | SSLSOCKET__RQ_DONE(q)
                                      | (rc == 3 ? SSLSOCKET__RQ_NX(q) : 0u));
        r->why_ns = (unsigned char)((r->why_ns & 0x0Fu) | ((unsigned)idx << 4));
        for (i = 0; i < k; i++) {
            if (q == 0)
                memcpy(r->v4[r->n4++], got[i].bytes, 4);
            else
                memcpy(r->v6[r->n6++], got[i].bytes, 16);
        }
        /* RFC 8305 sec. 3: once one family has a final answer, give the other
         * a short grace period instead of the full retransmission schedule */
        if ((k > 0 || rc == 3) && !(r->flags & SSLSOCKET__RFLAG_SETTLING)) {
            r->flags |= SSLSOCKET__RFLAG_SETTLING;
            r->timer_ms = now_ms + SSLSOCKET__RESOLVE_DELAY_MS;
        }
        return;
    }
}

/* Reads every datagram waiting, without blocking. */
SSLSOCKET__PRIVATE void
sslsocket__resolver_drain(sslsocket__resolver *r, int64_t now_ms)
{
    unsigned char pkt[SSLSOCKET__DNS_MAX_PACKET + 1];
    sslsocket__res_sockaddr from;
    int k, i;

    for (k = 0; k < SSLSOCKET__RESOLVE_MAX_READS && r->fd >= 0; k++) {
        socklen_t fromlen = (socklen_t)sizeof from;
        ssize_t n = recvfrom(r->fd, pkt, sizeof pkt, MSG_DONTWAIT, &from.sa, &fromlen);

        if (n < 0) {
            int e = errno;

            if (e == EINTR)
                continue;
            /* an ICMP error for the server the socket is connected to */
            if (e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH) {
                sslsocket__resolver_gave_up(r, SSLSOCKET__RQ_DONE_BOTH, SSLSOCKET__RWHY_SEND,
                                            (r->tries - 1) % r->n_ns, e, now_ms);
                continue;
            }
            break;      /* EAGAIN: nothing more; anything else: try again next step */
        }
        if ((size_t)n > SSLSOCKET__DNS_MAX_PACKET)
            continue;   /* bigger than any answer we accept: maybe cut short */
        /* only the servers we asked, from the address and port we asked */
        for (i = 0; i < r->n_ns; i++) {
            if ((r->sent & (1u << i)) && sslsocket__res_sockaddr_is(&from, fromlen, &r->ns[i])) {
                sslsocket__resolver_datagram(r, pkt, (size_t)n, i, now_ms);
                break;
            }
        }
    }
}

/* Why the lookup failed, for a resolver that found no address. */
SSLSOCKET__PRIVATE int
sslsocket__resolver_explain(const sslsocket__resolver *r, sslsocket__res_msg *m)
{
    const sslsocket_address *ans = &r->ns[(r->why_ns >> 4) % SSLSOCKET__RESOLVE_MAX_NS];
    const sslsocket_address *bad = &r->ns[(r->why_ns & 0x0Fu) % SSLSOCKET__RESOLVE_MAX_NS];
    const char *what;
    int code, i;

    if (r->state == SSLSOCKET__RSTATE_FAILED) {
        what = r->why == SSLSOCKET__RWHY_BADNAME ? " (invalid host name)"
               : r->why == SSLSOCKET__RWHY_NONS ? " (no name server)"
               : " (no random numbers for query ids)";
        sslsocket__res_msg_put(m, "host lookup failed: ");
        sslsocket__res_msg_put(m, r->name);
        sslsocket__res_msg_put(m, what);
        return SSLSOCKET__RESOLVE_ERROR;
    }
    if ((r->answered & SSLSOCKET__RQ_NX_ANY)
        || (r->answered & SSLSOCKET__RQ_DONE_BOTH) == SSLSOCKET__RQ_DONE_BOTH) {
        what = (r->answered & SSLSOCKET__RQ_NX_ANY) ? " (NXDOMAIN from "
                                                     : " (no A/AAAA records from ";
        sslsocket__res_msg_put(m, "host not found: ");
        sslsocket__res_msg_put(m, r->name);
        sslsocket__res_msg_put(m, what);
        sslsocket__res_msg_addr(m, ans);
        sslsocket__res_msg_put(m, ")");
        return SSLSOCKET__RESOLVE_NOTFOUND;
    }
    /* nothing sent at all is a local problem; otherwise the servers let us down */
    code = (r->flags & SSLSOCKET__RFLAG_SENT) ? SSLSOCKET__RESOLVE_TIMEOUT
                                               : SSLSOCKET__RESOLVE_ERROR;
    if (r->why == SSLSOCKET__RWHY_NONE) {
        what = (r->answered & SSLSOCKET__RQ_DONE(0)) ? " (no AAAA answer from "
               : (r->answered & SSLSOCKET__RQ_DONE(1)) ? " (no A answer from "
               : " (no answer from ";
        sslsocket__res_msg_put(m, "host lookup timed out: ");
        sslsocket__res_msg_put(m, r->name);
        sslsocket__res_msg_put(m, what);
        for (i = 0; i < r->n_ns && i < r->tries; i++) {
            if (i > 0)
                sslsocket__res_msg_put(m, ", ");
            sslsocket__res_msg_addr(m, &r->ns[i]);
        }
    } else if (r->why == SSLSOCKET__RWHY_SOCKET || r->why == SSLSOCKET__RWHY_SEND) {
        what = r->why == SSLSOCKET__RWHY_SOCKET ? " (no socket for " : " (cannot reach ";
        sslsocket__res_msg_put(m, "host lookup failed: ");
        sslsocket__res_msg_put(m, r->name);
        sslsocket__res_msg_put(m, what);
        sslsocket__res_msg_addr(m, bad);
        sslsocket__res_msg_put(m, ": ");
        sslsocket__res_msg_errno(m, r->err);
        sslsocket__res_msg_put(m, ",");
    } else {
        sslsocket__res_msg_put(m, "host lookup failed: ");
        sslsocket__res_msg_put(m, r->name);
        sslsocket__res_msg_put(m, " (");
        if (r->why == SSLSOCKET__RWHY_TRUNCATED)
            sslsocket__res_msg_put(m, "truncated answer");
        else
            sslsocket__res_msg_rcode(m, r->why);
        sslsocket__res_msg_put(m, " from ");
        sslsocket__res_msg_addr(m, bad);
    }
    sslsocket__res_msg_put(m, " after ");
    sslsocket__res_msg_uint(m, r->tries);
    sslsocket__res_msg_put(m, r->tries == 1 ? " try)" : " tries)");
    return code;
}

/* Ends the lookup: fills out, n_out and msg, closes the socket, goes idle. */
SSLSOCKET__PRIVATE int
sslsocket__resolver_finish(sslsocket__resolver *r, sslsocket_address *out, int max, int *n_out,
                           char *msg, size_t msglen)
{
    sslsocket__res_msg m;
    int code = SSLSOCKET__RESOLVE_DONE, i4 = 0, i6 = 0, n = 0;

    m.p = msg;
    m.cap = msg != NULL ? msglen : 0;
    m.len = 0;
    if (m.cap > 0)
        msg[0] = '\0';
    if (r->state != SSLSOCKET__RSTATE_RUNNING || r->n4 + r->n6 == 0)
        code = sslsocket__resolver_explain(r, &m);
    /* happy eyeballs order (RFC 8305 sec. 4): IPv6 first, then alternate */
    while (code == SSLSOCKET__RESOLVE_DONE && out != NULL && n < max
           && (i6 < r->n6 || i4 < r->n4)) {
        memset(&out[n], 0, sizeof out[n]);
        if (i6 < r->n6 && (i6 <= i4 || i4 >= r->n4)) {
            out[n].family = 6;
            memcpy(out[n].bytes, r->v6[i6++], 16);
        } else {
            out[n].family = 4;
            memcpy(out[n].bytes, r->v4[i4++], 4);
        }
        n++;
    }
    if (n_out != NULL)
        *n_out = n;
    sslsocket__resolver_cancel(r);
    return code;
}

/* Reads what has arrived, re-sends when due and returns SSLSOCKET__RESOLVE_*.
 * Writes only out[0..*n_out) and only on DONE; msg (may be NULL) gets "" on
 * DONE/PENDING and the reason otherwise, e.g. "host not found: x.test
 * (NXDOMAIN from 192.0.2.1:53)". Never blocks. */
SSLSOCKET__PRIVATE int
sslsocket__resolver_step(sslsocket__resolver *r, int64_t now_ms, sslsocket_address *out, int max,
                         int *n_out, char *msg, size_t msglen)
{
    int guard;

    if (n_out != NULL)
        *n_out = 0;
    if (msg != NULL && msglen > 0)
        msg[0] = '\0';
    if (r->state == SSLSOCKET__RSTATE_FAILED)
        return sslsocket__resolver_finish(r, out, max, n_out, msg, msglen);
    if (r->state != SSLSOCKET__RSTATE_RUNNING) {
        sslsocket__res_msg m;

        m.p = msg;
        m.cap = msg != NULL ? msglen : 0;
        m.len = 0;
        sslsocket__res_msg_put(&m, "host lookup not started");
        return SSLSOCKET__RESOLVE_ERROR;
    }
    sslsocket__resolver_drain(r, now_ms);
    /* each pass starts at most one try; a server we cannot send to is
     * skipped at once, so this loop runs at most max_tries + 1 times */
    for (guard = 0; guard <= r->max_tries; guard++) {
        if ((r->answered & SSLSOCKET__RQ_DONE_BOTH) == SSLSOCKET__RQ_DONE_BOTH
            || now_ms >= r->deadline_ms)
            return sslsocket__resolver_finish(r, out, max, n_out, msg, msglen);
        if (now_ms < r->timer_ms)
            return SSLSOCKET__RESOLVE_PENDING;
        if ((r->flags & SSLSOCKET__RFLAG_SETTLING) || r->tries >= r->max_tries)
            return sslsocket__resolver_finish(r, out, max, n_out, msg, msglen);
        sslsocket__resolver_send_try(r, now_ms);
    }
    return SSLSOCKET__RESOLVE_PENDING;
}


/* ==========================================================================
   >>der
   A DER cursor and the top-level split of a certificate, shared by the
   loaders (trust anchors keep their constraints), the certificate
   inspection and the path search.  The input is hostile: no allocation,
   no recursion, every length checked against what is left of its
   enclosing element.
   ========================================================================== */

#ifndef SSLSOCKET__MAX_DN_ATTRS
#define SSLSOCKET__MAX_DN_ATTRS 64 /* attributes in one Name; real ones have < 20 */
#endif

/* An OID's content octets as (pointer, length): OIDs may contain 0x00 octets. */
#define SSLSOCKET__OID(s) (const unsigned char *)(s), (sizeof(s) - 1)

/* A read cursor: n bytes left at p. */
typedef struct sslsocket__der {
    const unsigned char *p;
    size_t n;
} sslsocket__der;

/* Read one TLV: its tag in *tag, its content in *val.  Refuses what X.509 never needs and
 * an attacker would: multi-octet tags, indefinite lengths (0x80), length fields over 4
 * octets, and any length running past the enclosing element. */
SSLSOCKET__PRIVATE int
sslsocket__der_read(sslsocket__der *d, int *tag, sslsocket__der *val)
{
    size_t len, hl = 2, k;

    if (d->n < 2 || (d->p[0] & 0x1F) == 0x1F) {
        return -1;
    }
    len = d->p[1];
    if (len & 0x80) {
        k = len & 0x7F;
        if (k == 0 || k > 4 || k > d->n - 2) {
            return -1;
        }
        for (len = 0; k > 0; k--) {
            len = (len << 8) | d->p[hl++];
        }
    }
    if (len > d->n - hl) {
        return -1;
    }
    *tag = d->p[0];
    val->p = d->p + hl;
    val->n = len;
    d->p += hl + len;
    d->n -= hl + len;
    return 0;
}

/* Read one TLV that must carry the given tag. */
SSLSOCKET__PRIVATE int
sslsocket__der_get(sslsocket__der *d, int tag, sslsocket__der *val)
{
    int t;

    return sslsocket__der_read(d, &t, val) < 0 || t != tag ? -1 : 0;
}

/* True when the next element (if any) carries the tag: for OPTIONAL / DEFAULT fields. */
SSLSOCKET__PRIVATE int
sslsocket__der_peek(const sslsocket__der *d, int tag)
{
    return d->n > 0 && d->p[0] == tag;
}

SSLSOCKET__PRIVATE int
sslsocket__der_eq(const sslsocket__der *d, const unsigned char *s, size_t n)
{
    return d->n == n && memcmp(d->p, s, n) == 0;
}

SSLSOCKET__PRIVATE int
sslsocket__der_same(const sslsocket__der *a, const sslsocket__der *b)
{
    return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
}

/* AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }; *ptag is -1
 * when there are no parameters. */
SSLSOCKET__PRIVATE int
sslsocket__der_algid(sslsocket__der alg, sslsocket__der *oid, int *ptag, sslsocket__der *params)
{
    *ptag = -1;
    if (sslsocket__der_get(&alg, 0x06, oid) < 0 || oid->n == 0
        || (alg.n > 0 && sslsocket__der_read(&alg, ptag, params) < 0)) {
        return -1;
    }
    return alg.n == 0 ? 0 : -1;
}

/* The top-level pieces of a certificate, each one the content of its TLV. */
typedef struct sslsocket__cert {
    sslsocket__der serial, sigalg, issuer, validity, subject, spki, spki_tlv, exts;
    sslsocket__der issuer_tlv, subject_tlv; /* the Names with their SEQUENCE header */
    sslsocket__der tbs_tlv;   /* the signed bytes: the whole TBSCertificate TLV */
    sslsocket__der sig;       /* the signature BIT STRING's bits (unused-bits octet 0) */
    sslsocket__der sig_oid;   /* the signature algorithm */
    int version;
} sslsocket__cert;

/* Split a Certificate into its TBS fields.  The DER must be exactly one Certificate. */
SSLSOCKET__PRIVATE int
sslsocket__cert_split(const unsigned char *der, size_t len, sslsocket__cert *c)
{
    sslsocket__der d, cert, tbs, sig2, bits, v, ver;
    int t;

    memset(c, 0, sizeof *c);
    d.p = der;
    d.n = der != NULL ? len : 0;
    if (sslsocket__der_get(&d, 0x30, &cert) < 0 || d.n != 0
        || (c->tbs_tlv.p = cert.p, sslsocket__der_get(&cert, 0x30, &tbs) < 0)
        || (c->tbs_tlv.n = (size_t)(cert.p - c->tbs_tlv.p),
            sslsocket__der_get(&cert, 0x30, &sig2) < 0)
        || sslsocket__der_get(&cert, 0x03, &bits) < 0 || cert.n != 0
        || bits.n < 2 || bits.p[0] != 0) {
        return -1;
    }
    c->sig.p = bits.p + 1;
    c->sig.n = bits.n - 1;
    c->version = 1;
    if (sslsocket__der_peek(&tbs, 0xA0)) {
        /* [0] EXPLICIT INTEGER { v1(0), v2(1), v3(2) } */
        if (sslsocket__der_get(&tbs, 0xA0, &v) < 0 || sslsocket__der_get(&v, 0x02, &ver) < 0
            || v.n != 0 || ver.n != 1 || ver.p[0] > 2) {
            return -1;
        }
        c->version = ver.p[0] + 1;
    }
    if (sslsocket__der_get(&tbs, 0x02, &c->serial) < 0 || c->serial.n == 0
        || sslsocket__der_get(&tbs, 0x30, &c->sigalg) < 0
        || sslsocket__der_algid(c->sigalg, &c->sig_oid, &t, &ver) < 0
        /* RFC 5280 4.1.1.2: the signed algorithm must be the one used */
        || !sslsocket__der_eq(&c->sigalg, sig2.p, sig2.n)
        || (c->issuer_tlv.p = tbs.p, sslsocket__der_get(&tbs, 0x30, &c->issuer) < 0)
        || (c->issuer_tlv.n = (size_t)(tbs.p - c->issuer_tlv.p),
            sslsocket__der_get(&tbs, 0x30, &c->validity) < 0)
        || (c->subject_tlv.p = tbs.p, sslsocket__der_get(&tbs, 0x30, &c->subject) < 0)) {
        return -1;
    }
    c->subject_tlv.n = (size_t)(tbs.p - c->subject_tlv.p);
    c->spki_tlv.p = tbs.p;
    if (sslsocket__der_get(&tbs, 0x30, &c->spki) < 0) {
        return -1;
    }
    c->spki_tlv.n = (size_t)(tbs.p - c->spki_tlv.p);
    /* issuerUniqueID [1], subjectUniqueID [2]: skipped */
    if ((sslsocket__der_peek(&tbs, 0x81) && sslsocket__der_read(&tbs, &t, &v) < 0)
        || (sslsocket__der_peek(&tbs, 0x82) && sslsocket__der_read(&tbs, &t, &v) < 0)) {
        return -1;
    }
    if (sslsocket__der_peek(&tbs, 0xA3)) {
        if (sslsocket__der_get(&tbs, 0xA3, &v) < 0
            || sslsocket__der_get(&v, 0x30, &c->exts) < 0 || v.n != 0) {
            return -1;
        }
    }
    return tbs.n == 0 ? 0 : -1;
}

/* Find an extension: 1 found (extnValue content in *val), 0 absent, -1 when the list is
 * malformed or the extension appears twice (RFC 5280 4.2; two SANs could be read two ways). */
SSLSOCKET__PRIVATE int
sslsocket__cert_ext(const sslsocket__cert *c, const unsigned char *oid, size_t oid_len,
                    sslsocket__der *val)
{
    sslsocket__der list = c->exts, ext, id, v;
    int found = 0;

    while (list.n > 0) {
        if (sslsocket__der_get(&list, 0x30, &ext) < 0 || sslsocket__der_get(&ext, 0x06, &id) < 0
            || (sslsocket__der_peek(&ext, 0x01) && sslsocket__der_get(&ext, 0x01, &v) < 0)
            || sslsocket__der_get(&ext, 0x04, &v) < 0 || ext.n != 0) {
            return -1;
        }
        if (sslsocket__der_eq(&id, oid, oid_len)) {
            if (found) {
                return -1;
            }
            found = 1;
            *val = v;
        }
    }
    return found;
}


/* UTCTime YYMMDDHHMMSSZ (YY 50-99 => 19YY) or GeneralizedTime YYYYMMDDHHMMSSZ, the only forms
 * RFC 5280 allows, to Unix seconds. */
SSLSOCKET__PRIVATE int
sslsocket__der_time(sslsocket__der *d, int64_t *out)
{
    static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    sslsocket__der v;
    int tag, f[7] = {0, 0, 0, 0, 0, 0, 0}, i;
    int64_t y, era, yoe, doy, m;

    if (sslsocket__der_read(d, &tag, &v) < 0 || !((tag == 0x17 && v.n == 13)
        || (tag == 0x18 && v.n == 15)) || v.p[v.n - 1] != 'Z') {
        return -1;
    }
    for (i = 0; i < (int)v.n - 1; i++) {
        if (v.p[i] < '0' || v.p[i] > '9') {
            return -1;
        }
        f[(i + (tag == 0x17 ? 2 : 0)) / 2] = f[(i + (tag == 0x17 ? 2 : 0)) / 2] * 10
                                              + (v.p[i] - '0');
    }
    y = tag == 0x18 ? f[0] * 100 + f[1] : f[1] + (f[1] < 50 ? 2000 : 1900);
    m = f[2];
    if (m < 1 || m > 12 || f[3] < 1 || f[4] > 23 || f[5] > 59 || f[6] > 59
        || f[3] > mdays[m - 1] + (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) {
        return -1;
    }
    /* days from civil (H. Hinnant), proleptic Gregorian; y >= 0 so y - 1 >= -1 */
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + f[3] - 1;
    *out = ((era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468) * 24 + f[4]) * 3600
           + (int64_t)f[5] * 60 + f[6];
    return 0;
}

/* The extensions the library reads, from one walk of the list (RFC 5280
   4.2): their values (n == 0: absent) and which were marked critical. */
#define SSLSOCKET__EXT_BC 0x001u
#define SSLSOCKET__EXT_KU 0x002u
#define SSLSOCKET__EXT_EKU 0x004u
#define SSLSOCKET__EXT_NC 0x008u
#define SSLSOCKET__EXT_SKI 0x010u
#define SSLSOCKET__EXT_AKI 0x020u
#define SSLSOCKET__EXT_SAN 0x040u
#define SSLSOCKET__EXT_AIA 0x080u
#define SSLSOCKET__EXT_SIA 0x100u
#define SSLSOCKET__EXT_OTHER 0x200u  /* known, not read (policies, CRL DP...) */
#define SSLSOCKET__EXT_PC 0x800u     /* policyConstraints (known, not read) */
#define SSLSOCKET__EXT_UNKNOWN 0x400u /* not known: refused when critical */
typedef struct sslsocket__exts {
    sslsocket__der v[9];            /* by bit number: bc, ku, eku, nc, ski, aki, san, aia, sia */
    unsigned present, critical;
    int malformed;                  /* the list does not parse, or repeats an extension */
} sslsocket__exts;

SSLSOCKET__PRIVATE void
sslsocket__cert_exts(const sslsocket__cert *c, sslsocket__exts *e)
{
    static const unsigned char ids[] = {0x13, 0x0F, 0x25, 0x1E, 0x0E, 0x23, 0x11};
    static const unsigned char others[] = {0x12, 0x09, 0x1F, 0x2E, 0x20, 0x21, 0x24, 0x36};
    sslsocket__der list = c->exts, ext, id, crit, v;
    uint64_t seen = 0;
    memset(e, 0, sizeof *e);
    while (list.n > 0) {
        unsigned bit = SSLSOCKET__EXT_UNKNOWN;
        size_t i;
        crit.n = 0;
        if (sslsocket__der_get(&list, 0x30, &ext) < 0 || sslsocket__der_get(&ext, 0x06, &id) < 0
            || (sslsocket__der_peek(&ext, 0x01)
                && (sslsocket__der_get(&ext, 0x01, &crit) < 0 || crit.n != 1
                    || (crit.p[0] != 0 && crit.p[0] != 0xFF)))
            || sslsocket__der_get(&ext, 0x04, &v) < 0 || ext.n != 0) {
            e->malformed = 1;
            return;
        }
        if (id.n == 3 && id.p[0] == 0x55 && id.p[1] == 0x1D && id.p[2] < 64) {
            if (seen & ((uint64_t)1 << id.p[2]))
                e->malformed = 1; /* one of each */
            seen |= (uint64_t)1 << id.p[2];
            for (i = 0; i < sizeof ids; i++)
                if (ids[i] == id.p[2])
                    bit = 1u << i;
            /* issuerAltName, subjectDirectoryAttributes, cRLDistributionPoints,
               freshestCRL, certificatePolicies (no policy processing),
               policyMappings, policyConstraints, inhibitAnyPolicy */
            for (i = 0; i < sizeof others; i++)
                if (bit == SSLSOCKET__EXT_UNKNOWN && others[i] == id.p[2])
                    bit = id.p[2] == 0x24 ? SSLSOCKET__EXT_PC : SSLSOCKET__EXT_OTHER;
        } else if (id.n == 8 && memcmp(id.p, "\x2B\x06\x01\x05\x05\x07\x01", 7) == 0
                   && (id.p[7] == 1 || id.p[7] == 11)) {
            bit = id.p[7] == 1 ? SSLSOCKET__EXT_AIA : SSLSOCKET__EXT_SIA;
            if (e->present & bit)
                e->malformed = 1;
        }
        e->present |= bit;
        if (crit.n == 1 && crit.p[0] == 0xFF)
            e->critical |= bit;
        for (i = 0; i < 9; i++)
            if (bit == 1u << i)
                e->v[i] = v;
    }
}

/* basicConstraints: cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER
   OPTIONAL.  0, or -1 when malformed. */
SSLSOCKET__PRIVATE int
sslsocket__ext_bc(sslsocket__der v, int *ca, int *pathlen)
{
    sslsocket__der w, x;
    *ca = 0;
    *pathlen = -1;
    if (sslsocket__der_get(&v, 0x30, &w) < 0 || v.n != 0)
        return -1;
    if (sslsocket__der_peek(&w, 0x01)) {
        if (sslsocket__der_get(&w, 0x01, &x) < 0 || x.n != 1)
            return -1;
        *ca = x.p[0] != 0;
    }
    if (w.n > 0) {
        if (sslsocket__der_get(&w, 0x02, &x) < 0 || w.n != 0 || x.n == 0 || x.n > 2
            || (x.p[0] & 0x80))
            return -1;
        *pathlen = x.n == 1 ? x.p[0] : (x.p[0] << 8) | x.p[1];
    }
    return 0;
}

/* keyUsage as its first two octets (0x8000 digitalSignature ... 0x0400
   keyCertSign, 0x0200 cRLSign), or -1 when malformed. */
SSLSOCKET__PRIVATE int
sslsocket__ext_ku(sslsocket__der v)
{
    sslsocket__der w;
    if (sslsocket__der_get(&v, 0x03, &w) < 0 || v.n != 0 || w.n < 2 || w.n > 3 || w.p[0] > 7)
        return -1;
    return (w.p[1] << 8) | (w.n > 2 ? w.p[2] : 0);
}

/* A CertificateList (RFC 5280 5.1), split: the signed part as a
   certificate's (sslsocket__sig_check reads tbs_tlv, sig_oid, sig). */
typedef struct sslsocket__crl {
    sslsocket__cert signed_part;    /* only tbs_tlv, sig_oid, sig and issuer_tlv */
    int64_t this_update, next_update; /* next_update 0: none */
    sslsocket__der revoked;         /* SEQUENCE OF revoked entries (content) */
} sslsocket__crl;

SSLSOCKET__PRIVATE int
sslsocket__crl_split(const unsigned char *der, size_t len, sslsocket__crl *crl)
{
    sslsocket__der d, list, tbs, alg, alg2, bits, v, exts, ext, id, crit, val;
    int t;
    memset(crl, 0, sizeof *crl);
    d.p = der;
    d.n = len;
    if (sslsocket__der_get(&d, 0x30, &list) < 0 || d.n != 0
        || (crl->signed_part.tbs_tlv.p = list.p, sslsocket__der_get(&list, 0x30, &tbs) < 0)
        || (crl->signed_part.tbs_tlv.n = (size_t)(list.p - crl->signed_part.tbs_tlv.p),
            sslsocket__der_get(&list, 0x30, &alg2) < 0)
        || sslsocket__der_get(&list, 0x03, &bits) < 0 || list.n != 0 || bits.n < 2
        || bits.p[0] != 0)
        return -1;
    crl->signed_part.sig.p = bits.p + 1;
    crl->signed_part.sig.n = bits.n - 1;
    if (sslsocket__der_peek(&tbs, 0x02)
        && (sslsocket__der_get(&tbs, 0x02, &v) < 0 || v.n != 1 || v.p[0] != 1))
        return -1; /* v2 */
    if (sslsocket__der_get(&tbs, 0x30, &alg) < 0 || !sslsocket__der_eq(&alg, alg2.p, alg2.n)
        || sslsocket__der_algid(alg, &crl->signed_part.sig_oid, &t, &v) < 0
        || (crl->signed_part.issuer_tlv.p = tbs.p,
            sslsocket__der_get(&tbs, 0x30, &crl->signed_part.issuer) < 0)
        || (crl->signed_part.issuer_tlv.n = (size_t)(tbs.p - crl->signed_part.issuer_tlv.p),
            sslsocket__der_time(&tbs, &crl->this_update) < 0)
        || ((sslsocket__der_peek(&tbs, 0x17) || sslsocket__der_peek(&tbs, 0x18))
            && sslsocket__der_time(&tbs, &crl->next_update) < 0))
        return -1;
    if (sslsocket__der_peek(&tbs, 0x30)) {
        sslsocket__der entries, e, serial;
        if (sslsocket__der_get(&tbs, 0x30, &crl->revoked) < 0)
            return -1;
        entries = crl->revoked;
        while (entries.n > 0) {
            int64_t when;
            if (sslsocket__der_get(&entries, 0x30, &e) < 0 || sslsocket__der_get(&e, 0x02, &serial) < 0
                || serial.n == 0 || sslsocket__der_time(&e, &when) < 0
                || (e.n > 0 && (sslsocket__der_get(&e, 0x30, &v) < 0 || e.n != 0)))
                return -1;
        }
    }
    if (sslsocket__der_peek(&tbs, 0xA0)) {
        if (sslsocket__der_get(&tbs, 0xA0, &v) < 0 || sslsocket__der_get(&v, 0x30, &exts) < 0
            || v.n != 0)
            return -1;
        while (exts.n > 0) {
            crit.n = 0;
            if (sslsocket__der_get(&exts, 0x30, &ext) < 0 || sslsocket__der_get(&ext, 0x06, &id) < 0
                || (sslsocket__der_peek(&ext, 0x01) && sslsocket__der_get(&ext, 0x01, &crit) < 0)
                || sslsocket__der_get(&ext, 0x04, &val) < 0 || ext.n != 0)
                return -1;
            /* critical and not one of: authorityKeyIdentifier, cRLNumber,
               issuingDistributionPoint (its scope is not applied: a scoped
               CRL's entries still revoke) */
            if (crit.n == 1 && crit.p[0] != 0
                && !(id.n == 3 && id.p[0] == 0x55 && id.p[1] == 0x1D
                     && (id.p[2] == 0x23 || id.p[2] == 0x14 || id.p[2] == 0x1C)))
                return -1;
        }
    }
    return tbs.n == 0 ? 0 : -1;
}

/* Is `serial` (INTEGER content) listed in the CRL? */
SSLSOCKET__PRIVATE int
sslsocket__crl_lists(const sslsocket__crl *crl, const sslsocket__der *serial)
{
    sslsocket__der entries = crl->revoked, e, s;
    while (entries.n > 0) {
        if (sslsocket__der_get(&entries, 0x30, &e) < 0 || sslsocket__der_get(&e, 0x02, &s) < 0)
            return 0;
        if (sslsocket__der_same(&s, serial))
            return 1;
    }
    return 0;
}

#define SSLSOCKET__P(code) SSLSOCKET_SSLERR_MASK(SSLSOCKET_SSLERR_##code)
#define SSLSOCKET__KU_CERT_SIGN 0x0400
#define SSLSOCKET__KU_CRL_SIGN 0x0200

/* AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF
   SEQUENCE { accessMethod OID, accessLocation GeneralName } */
SSLSOCKET__PRIVATE int
sslsocket__aia_ok(sslsocket__der v)
{
    sslsocket__der seq, ad, oid, loc;
    int tag;
    if (sslsocket__der_get(&v, 0x30, &seq) < 0 || v.n != 0 || seq.n == 0)
        return 0;
    while (seq.n > 0)
        if (sslsocket__der_get(&seq, 0x30, &ad) < 0 || sslsocket__der_get(&ad, 0x06, &oid) < 0
            || sslsocket__der_read(&ad, &tag, &loc) < 0 || ad.n != 0 || (tag & 0x80) == 0)
            return 0;
    return 1;
}

/* The keyIdentifier of an authorityKeyIdentifier: 1 present (in *id),
   0 absent or malformed; *only: nothing else in it. */
SSLSOCKET__PRIVATE int
sslsocket__aki_keyid(const sslsocket__exts *e, sslsocket__der *id)
{
    sslsocket__der v = e->v[5], seq, k;
    int tag;
    if (!(e->present & SSLSOCKET__EXT_AKI) || sslsocket__der_get(&v, 0x30, &seq) < 0 || v.n != 0
        || !sslsocket__der_peek(&seq, 0x80) || sslsocket__der_read(&seq, &tag, &k) < 0 || k.n == 0)
        return 0;
    if (id != NULL)
        *id = k;
    return seq.n == 0 ? 1 : 2;
}

/* The rules of one certificate's own make-up, wherever it sits in a path
   (an anchor's too): as a mask of problems. */
SSLSOCKET__PRIVATE unsigned
sslsocket__cert_rules(const sslsocket__cert *c, const sslsocket__exts *e, int ca, int ku)
{
    unsigned m = 0;
    if (e->malformed || ((e->present & SSLSOCKET__EXT_AIA) && !sslsocket__aia_ok(e->v[7])))
        m |= SSLSOCKET__P(MALFORMED);
    /* The profile (PROFILE: a problem of its own, so that a private CA made
       by older tools can be let through without letting MALFORMED through).
       RFC 5280: a non-empty issuer (4.1.2.4), a CA's subject (4.1.2.6); an
       empty subject needs a critical SAN, and a subject a non-critical one
       (CA/B BR 7.1.2.7.12) */
    if (c->issuer.n == 0 || (ca && c->subject.n == 0)
        || (c->subject.n == 0 && !(e->critical & SSLSOCKET__EXT_SAN))
        || (c->subject.n != 0 && (e->critical & SSLSOCKET__EXT_SAN))
        /* key identifiers and information access are never critical */
        || (e->critical & (SSLSOCKET__EXT_AKI | SSLSOCKET__EXT_SKI | SSLSOCKET__EXT_AIA
                           | SSLSOCKET__EXT_SIA))
        /* name constraints only in CAs (4.2.1.10); policy constraints
           critical (4.2.1.11) */
        || (!ca && (e->present & SSLSOCKET__EXT_NC))
        || ((e->present & SSLSOCKET__EXT_PC) && !(e->critical & SSLSOCKET__EXT_PC)))
        m |= SSLSOCKET__P(PROFILE);
    if (e->critical & SSLSOCKET__EXT_UNKNOWN)
        m |= SSLSOCKET__P(CRITICAL_EXTENSION);
    /* keyCertSign only with cA (4.2.1.3); a CA with a key usage must sign */
    if (ku >= 0 && ((ku & SSLSOCKET__KU_CERT_SIGN) != 0) != (ca != 0))
        m |= SSLSOCKET__P(KEY_USAGE);
    /* 4.2.1.1, 4.2.1.2, 4.2.1.9: an authority key identifier unless self-
       issued; a CA has a subject key identifier and critical basic
       constraints */
    if ((!sslsocket__der_same(&c->issuer, &c->subject) && !sslsocket__aki_keyid(e, NULL))
        || (ca && !(e->present & SSLSOCKET__EXT_SKI))
        || (ca && !(e->critical & SSLSOCKET__EXT_BC)))
        m |= SSLSOCKET__P(PROFILE);
    return m;
}

/* loaders.h - trust anchors, certificate chains and private keys, without allocation.
 *
 * Everything loaded lives in one caller-given arena: byte strings (DNs, key material,
 * certificate DER) grow up from the bottom, br_x509_trust_anchor structs grow down from
 * the top so that the anchors always form one contiguous array. Files are read through
 * small stack buffers and streamed into BearSSL's PEM / X.509 / key decoders.
 * Linux only for directories (getdents64). Needs _GNU_SOURCE (or _DEFAULT_SOURCE) for
 * syscall(), openat() and O_CLOEXEC/O_DIRECTORY under -std=c99. */


#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* ==========================================================================
   >>credentials
   Trust anchors, certificate chains and private keys from PEM or DER, in
   memory or files, streamed into one caller-given arena.
   ========================================================================== */
/* >>credentials */

/* In the arena, DNs, keys and DER grow from the bottom, the anchor array from the top. One
 * streaming walker reads raw DER or PEM and hands each object to a load (sslsocket__ld) in
 * one of three modes; every load is all or nothing. */

#ifndef SSLSOCKET_MAX_FILE_SIZE
#  define SSLSOCKET_MAX_FILE_SIZE (4UL * 1024UL * 1024UL)
#endif

#define SSLSOCKET__LD_CHUNK 4096    /* read size */

#if defined(__GNUC__) || defined(__clang__)
#  define SSLSOCKET__LD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define SSLSOCKET__LD_PRINTF(f, a)
#endif

/* C99 has no max_align_t: probe the strictest of the usual suspects. */
struct sslsocket__ld_align_max {
    char c;
    union {
        long double ld;
        long long ll;
        double d;
        void *p;
        void (*f)(void);
    } u;
};

struct sslsocket__ld_align_ta {
    char c;
    br_x509_trust_anchor ta;
};

#define SSLSOCKET__LD_ALIGN_MAX offsetof(struct sslsocket__ld_align_max, u)
#define SSLSOCKET__LD_ALIGN_TA offsetof(struct sslsocket__ld_align_ta, ta)

/* What a load makes of the objects it finds (sslsocket__ld.mode). */
#define SSLSOCKET__LD_ANCHORS 0     /* a certificate: its DN and public key, an anchor */
#define SSLSOCKET__LD_CHAIN 1       /* a certificate: its DER, a chain entry */
#define SSLSOCKET__LD_KEY 2         /* one private key */
#define SSLSOCKET__LD_CRL 3         /* a CRL: its DER, checked by sslsocket__crl_split */
#define SSLSOCKET__LD_MEM (-1)      /* as dfd: the input is in memory, not a file */

#define SSLSOCKET__LD_ENCRYPTED "%s holds an encrypted private key: encrypted private keys " \
    "are not supported: decrypt with openssl pkey"
#define SSLSOCKET__LD_DSA "DSA keys are not supported by BearSSL (use an RSA or EC key)"

/* ---------------------------------------------------------------- messages */

/* Formats into the caller's buffer (if any) and returns -1 so callers can "return errf()".
 * Also this module's bounded string copy: errf(dst, len, "%s", src). */
SSLSOCKET__PRIVATE SSLSOCKET__LD_PRINTF(3, 4) int
sslsocket__ld_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Own table: strerror() is not thread-safe everywhere and strerror_r() has two ABIs. */
SSLSOCKET__PRIVATE const char *
sslsocket__ld_strerror(int e, char *tmp, size_t tmplen)
{
    switch (e) {
    case ENOENT: return "no such file or directory";
    case EACCES: return "permission denied";
    case EPERM: return "operation not permitted";
    case ENOTDIR: return "a component of the path is not a directory";
    case EISDIR: return "is a directory";
    case ELOOP: return "too many levels of symbolic links";
    case ENAMETOOLONG: return "file name too long";
    case EMFILE: return "too many open files in this process";
    case ENFILE: return "too many open files in the system";
    case ENOMEM: return "out of kernel memory";
    case EIO: return "input/output error";
    case ENXIO: return "no such device or address";
    case ENODEV: return "no such device";
    case EOVERFLOW: return "file too large for this process";
    case EFBIG: return "file too large";
    case EINVAL: return "invalid argument";
    case EAGAIN: return "resource temporarily unavailable";
    default: break;
    }
    sslsocket__ld_errf(tmp, tmplen, "errno %d", e);
    return tmp;
}

/* The BR_ERR_X509_* codes that the decoders can return, as "NAME: meaning". */
SSLSOCKET__PRIVATE const char *
sslsocket__ld_brerr(int code, char *tmp, size_t tmplen)
{
#define SSLSOCKET__LD_E(name, text) { BR_ERR_X509_##name, "BR_ERR_X509_" #name ": " text }
    static const struct {
        int code;
        const char *text;
    } t[] = {
        SSLSOCKET__LD_E(INVALID_VALUE, "invalid value in an ASN.1 structure"),
        SSLSOCKET__LD_E(TRUNCATED, "the data ends too early"),
        SSLSOCKET__LD_E(EMPTY_CHAIN, "empty certificate chain"),
        SSLSOCKET__LD_E(INNER_TRUNC, "an inner element extends beyond its outer element"),
        SSLSOCKET__LD_E(BAD_TAG_CLASS, "unsupported ASN.1 tag class"),
        SSLSOCKET__LD_E(BAD_TAG_VALUE, "unsupported ASN.1 tag value"),
        SSLSOCKET__LD_E(INDEFINITE_LENGTH, "indefinite length (not DER)"),
        SSLSOCKET__LD_E(EXTRA_ELEMENT, "extraneous ASN.1 element"),
        SSLSOCKET__LD_E(UNEXPECTED, "unexpected ASN.1 element"),
        SSLSOCKET__LD_E(NOT_CONSTRUCTED, "expected a constructed element"),
        SSLSOCKET__LD_E(NOT_PRIMITIVE, "expected a primitive element"),
        SSLSOCKET__LD_E(PARTIAL_BYTE, "BIT STRING length is not a multiple of 8"),
        SSLSOCKET__LD_E(BAD_BOOLEAN, "invalid BOOLEAN"),
        SSLSOCKET__LD_E(OVERFLOW, "value out of range"),
        SSLSOCKET__LD_E(BAD_DN, "invalid distinguished name"),
        SSLSOCKET__LD_E(BAD_TIME, "invalid date/time"),
        SSLSOCKET__LD_E(UNSUPPORTED, "unsupported algorithm or feature"),
        SSLSOCKET__LD_E(LIMIT_EXCEEDED, "key too large for BearSSL (RSA above 4096 bits?)"),
        SSLSOCKET__LD_E(WRONG_KEY_TYPE, "unexpected key type"),
        SSLSOCKET__LD_E(BAD_SIGNATURE, "invalid signature"),
        SSLSOCKET__LD_E(CRITICAL_EXTENSION, "unknown critical extension"),
        SSLSOCKET__LD_E(WEAK_PUBLIC_KEY, "public key too small")
    };
#undef SSLSOCKET__LD_E
    size_t i;

    for (i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].code == code)
            return t[i].text;
    sslsocket__ld_errf(tmp, tmplen, "BearSSL error %d", code);
    return tmp;
}

/* ---------------------------------------------------------------- arena */

/* Align the base for anything, and the top for the anchor array. */
SSLSOCKET__PRIVATE void
sslsocket__arena_init(sslsocket__arena *a, void *mem, size_t size)
{
    size_t pad = (SSLSOCKET__LD_ALIGN_MAX
        - (size_t)((uintptr_t)mem % SSLSOCKET__LD_ALIGN_MAX)) % SSLSOCKET__LD_ALIGN_MAX;

    memset(a, 0, sizeof *a);
    if (mem == NULL || size <= pad)
        return;
    a->base = (unsigned char *)mem + pad;
    a->size = size - pad;
    a->hi = a->size - a->size % SSLSOCKET__LD_ALIGN_TA;
}

SSLSOCKET__PRIVATE const br_x509_trust_anchor *
sslsocket__arena_anchors(const sslsocket__arena *a, size_t *n)
{
    if (n != NULL)
        *n = a->n_anchors;
    if (a->n_anchors == 0)
        return NULL;
    return (const br_x509_trust_anchor *)(const void *)(a->base + a->hi);
}

/* Bytes in use (both ends), e.g. to size a static arena. */
SSLSOCKET__PRIVATE size_t
sslsocket__arena_used(const sslsocket__arena *a)
{
    return a->lo + (a->size - a->hi);
}

/* Copies len bytes to the bottom end; NULL when out of space. */
SSLSOCKET__PRIVATE unsigned char *
sslsocket__ld_copy(sslsocket__arena *a, const void *src, size_t len)
{
    unsigned char *p;

    if (a->base == NULL || a->hi - a->lo < len)
        return NULL;
    p = a->base + a->lo;
    a->lo += len;
    if (len > 0)
        memcpy(p, src, len);
    return p;
}

/* Clears secrets; volatile so that the compiler cannot drop it. */
SSLSOCKET__PRIVATE void
sslsocket__ld_wipe(void *p, size_t len)
{
    volatile unsigned char *v = (volatile unsigned char *)p;

    while (len-- > 0)
        *v++ = 0;
}

/* Gives back everything taken since (lo, hi, n), wiped: it may have been a private key. */
SSLSOCKET__PRIVATE void
sslsocket__ld_rollback(sslsocket__arena *a, size_t lo, size_t hi, size_t n)
{
    if (a->lo > lo)
        sslsocket__ld_wipe(a->base + lo, a->lo - lo);
    a->lo = lo;
    a->hi = hi;
    a->n_anchors = n;
}

/* ---------------------------------------------------------------- DER */

/* Finds where the first DER object of a stream ends, so that "TRUSTED CERTIFICATE"
 * trailers are not fed to the decoder and chain certificates are stored exactly. */
typedef struct sslsocket__ld_der {
    int state;          /* 0 tag, 1 length, 2 long length, 3 content, 4 done, 5 not DER */
    unsigned nlen;
    size_t left;
} sslsocket__ld_der;

/* How many of the len bytes still belong to the first object; the rest is trailing.
 * A malformed header passes everything on, for the decoder to report. */
SSLSOCKET__PRIVATE size_t
sslsocket__ld_der_take(sslsocket__ld_der *d, const unsigned char *buf, size_t len)
{
    size_t i = 0, k;
    unsigned c;

    while (i < len && d->state < 3) {
        c = buf[i++];
        if (d->state == 0) {
            d->state = c == 0x30 ? 1 : 5;
        } else if (d->state == 1 && c < 0x80) {
            d->left = c;
            d->state = c ? 3 : 4;
        } else if (d->state == 1) {
            d->nlen = c & 0x7F;
            d->state = c >= 0x81 && c <= 0x84 ? 2 : 5;
        } else if (d->left > (((size_t)-1) >> 8)) {
            d->state = 5;
        } else {
            d->left = (d->left << 8) | c;
            if (--d->nlen == 0)
                d->state = d->left ? 3 : 4;
        }
    }
    if (d->state == 3) {
        k = len - i < d->left ? len - i : d->left;
        i += k;
        d->left -= k;
        d->state = d->left ? 3 : 4;
    }
    return d->state == 5 ? len : i;
}

/* Reads one TLV header from a (possibly cut) prefix; content may run past `end`. */
SSLSOCKET__PRIVATE int
sslsocket__ld_tlv(const unsigned char **p, const unsigned char *end, unsigned *tag,
    size_t *len)
{
    const unsigned char *q = *p;
    size_t n, l;

    if (end - q < 2)
        return 0;
    *tag = *q++;
    l = *q++;
    if (l >= 0x80) {
        n = l & 0x7F;
        if (n == 0 || n > 4 || (size_t)(end - q) < n)
            return 0;
        for (l = 0; n > 0; n--)
            l = (l << 8) | *q++;
    }
    *p = q;
    *len = l;
    return 1;
}

/* Dotted form of a DER OID body, for messages. */
SSLSOCKET__PRIVATE void
sslsocket__ld_oid_str(const unsigned char *oid, size_t len, char *out, size_t outlen)
{
    unsigned long v = 0, arc;
    size_t i, o = 0;

    out[0] = '\0';
    for (i = 0; i < len && o + 1 < outlen; i++) {
        if (v > (ULONG_MAX >> 7)) {
            sslsocket__ld_errf(out + o, outlen - o, "...");
            return;
        }
        v = (v << 7) | (oid[i] & 0x7F);
        if (oid[i] & 0x80)
            continue;
        if (o == 0) {
            arc = v < 40 ? 0 : v < 80 ? 1 : 2;  /* the first number holds two arcs */
            sslsocket__ld_errf(out, outlen, "%lu.%lu", arc, v - 40 * arc);
        } else {
            sslsocket__ld_errf(out + o, outlen - o, ".%lu", v);
        }
        o += strlen(out + o);
        v = 0;
    }
}

/* Looks an OID body up in t[0..n): pairs of a length-prefixed OID body and a text. */
SSLSOCKET__PRIVATE const char *const *
sslsocket__ld_oid_find(const unsigned char *oid, size_t len, const char *const *t, size_t n)
{
    for (; n >= 2; n -= 2, t += 2)
        if ((size_t)(unsigned char)t[0][0] == len && memcmp(t[0] + 1, oid, len) == 0)
            return t;
    return NULL;
}

#define SSLSOCKET__LD_OID(p, l, lit) ((l) == sizeof(lit) - 1 && memcmp(p, lit, l) == 0)

/* After the key decoder failed: a precise reason from the first bytes of the object, if
 * there is one (-1, err set), else 0. */
SSLSOCKET__PRIVATE int
sslsocket__ld_key_diag(const unsigned char *head, size_t hlen, const char *what,
    char *err, size_t errlen)
{
    static const char ed[] = "Ed25519/Ed448 keys are not supported by BearSSL (use an RSA or "
        "EC P-256/P-384/P-521 key)";
    static const char x[] = "X25519/X448 keys cannot sign; use an RSA or EC "
        "P-256/P-384/P-521 key";
    static const char *const algs[] = {     /* PKCS#8 algorithms that BearSSL refuses */
        "\x07\x2A\x86\x48\xCE\x38\x04\x01", SSLSOCKET__LD_DSA,
        "\x03\x2B\x65\x70", ed, "\x03\x2B\x65\x71", ed, "\x03\x2B\x65\x6E", x,
        "\x03\x2B\x65\x6F", x, "\x09\x2A\x86\x48\x86\xF7\x0D\x01\x01\x0A",
        "RSA-PSS keys (OID 1.2.840.113549.1.1.10) are not supported by BearSSL"
    };
    static const char *const curves[] = {   /* NULL: P-256, P-384, P-521, which it has */
        "\x08\x2A\x86\x48\xCE\x3D\x03\x01\x07", NULL, "\x05\x2B\x81\x04\x00\x22", NULL,
        "\x05\x2B\x81\x04\x00\x23", NULL, "\x05\x2B\x81\x04\x00\x0A", "secp256k1",
        "\x05\x2B\x81\x04\x00\x21", "P-224", "\x08\x2A\x86\x48\xCE\x3D\x03\x01\x01", "P-192",
        "\x08\x2A\x81\x1C\xCF\x55\x01\x82\x2D", "SM2"
    };
    const unsigned char *p = head, *end = head + hlen, *inner;
    const char *const *e;
    unsigned tag, version;
    size_t len;
    char oid[64];

    if (!sslsocket__ld_tlv(&p, end, &tag, &len) || tag != 0x30
        || !sslsocket__ld_tlv(&p, end, &tag, &len))
        return 0;
    if (tag == 0x30) {
        /* SEQUENCE { SEQUENCE ...: EncryptedPrivateKeyInfo (PBES OID) or a certificate */
        inner = p;
        if (sslsocket__ld_tlv(&inner, end, &tag, &len) && tag == 0x06
            && (size_t)(end - inner) >= len && len >= 8
            && memcmp(inner, "\x2A\x86\x48\x86\xF7\x0D\x01\x05", 8) == 0)
            return sslsocket__ld_errf(err, errlen, SSLSOCKET__LD_ENCRYPTED, what);
        return sslsocket__ld_errf(err, errlen,
            "%s is not a private key (it looks like a certificate)", what);
    }
    if (tag != 0x02 || len != 1 || p >= end)
        return 0;
    version = *p++;
    if (!sslsocket__ld_tlv(&p, end, &tag, &len))
        return 0;
    if (tag == 0x30 && version <= 1) {
        /* PKCS#8: AlgorithmIdentifier { OID, parameters }; for rsaEncryption the decoder's
         * own error says enough, ecPublicKey goes on to the curve */
        if (!sslsocket__ld_tlv(&p, end, &tag, &len) || tag != 0x06 || (size_t)(end - p) < len
            || SSLSOCKET__LD_OID(p, len, "\x2A\x86\x48\x86\xF7\x0D\x01\x01\x01"))
            return 0;
        if (!SSLSOCKET__LD_OID(p, len, "\x2A\x86\x48\xCE\x3D\x02\x01")) {
            e = sslsocket__ld_oid_find(p, len, algs, sizeof algs / sizeof algs[0]);
            if (e != NULL)
                return sslsocket__ld_errf(err, errlen, "%s: %s", what, e[1]);
            sslsocket__ld_oid_str(p, len, oid, sizeof oid);
            return sslsocket__ld_errf(err, errlen,
                "%s: unsupported private key algorithm (OID %s)", what, oid);
        }
        p += len;
    } else if (tag == 0x04 && version == 1) {
        /* SEC1 ECPrivateKey: skip the private value, find parameters [0] */
        if ((size_t)(end - p) < len)
            return 0;
        p += len;
        if (!sslsocket__ld_tlv(&p, end, &tag, &len) || tag != 0xA0)
            return 0;
    } else {
        return 0;
    }
    /* EC parameters: a named curve OID, or explicit parameters */
    if (!sslsocket__ld_tlv(&p, end, &tag, &len))
        return 0;
    if (tag == 0x30)
        return sslsocket__ld_errf(err, errlen, "%s: EC keys with explicit curve parameters "
            "are not supported (convert with openssl ec -param_enc named_curve)", what);
    if (tag != 0x06 || (size_t)(end - p) < len)
        return 0;
    e = sslsocket__ld_oid_find(p, len, curves, sizeof curves / sizeof curves[0]);
    if (e != NULL && e[1] == NULL)
        return 0;
    sslsocket__ld_oid_str(p, len, oid, sizeof oid);
    return sslsocket__ld_errf(err, errlen, "%s: unsupported elliptic curve %s (OID %s); "
        "BearSSL supports P-256, P-384 and P-521", what, e != NULL ? e[1]
        : len > 8 && memcmp(p, "\x2B\x24\x03\x03\x02\x08\x01\x01", 8) == 0 ? "brainpool"
        : "unknown", oid);
}

/* ---------------------------------------------------------------- one load */

/* A load: its input, what it makes of the objects found there, and the tallies. */
typedef struct sslsocket__ld {
    int mode, lenient;      /* lenient: skip certificates BearSSL cannot decode (bundles) */
    const char *what;       /* the input, for messages */
    char *err, *note;       /* note: gets "note: skipped ..." (lenient) if still empty */
    size_t errlen, notelen;
    sslsocket__arena *a;
    br_x509_certificate *chain;     /* SSLSOCKET__LD_CHAIN: chain[0..max), *nout */
    size_t max, *nout;
    sslsocket__key *key;            /* SSLSOCKET__LD_KEY */
    int fd;                 /* -1: memory; after a failed open, minus its errno */
    const unsigned char *mem;
    size_t len, pos, total; /* memory size, bytes read, bytes seen */
    int der, oom;           /* der: the input is raw DER, not PEM */
    size_t other;           /* PEM blocks of other types */
    char other_name[48];
    size_t n, added, dups, bad, first_bad;  /* objects; new, known, skipped anchors */
    int first_bad_code;
    sslsocket__ld_der dt;   /* the current object: where its DER ends, */
    size_t start, head_len; /* a->lo when it began, bytes in w.head */
    int trailing_ok, trailing;
    struct {                /* may hold key material: wiped after every load */
        unsigned char buf[SSLSOCKET__LD_CHUNK];
        br_pem_decoder_context pem;
        union {
            br_x509_decoder_context x509;
            br_skey_decoder_context key;
        } dc;
        unsigned char head[128];    /* the object's first bytes, to explain a refusal */
    } w;
} sslsocket__ld;

/* Appends bytes to the arena (a DN, a certificate's DER); notes running out. */
SSLSOCKET__PRIVATE void
sslsocket__ld_store(void *ctx, const void *buf, size_t len)
{
    sslsocket__ld *s = (sslsocket__ld *)ctx;

    if (!s->oom && sslsocket__ld_copy(s->a, buf, len) == NULL)
        s->oom = 1;
}

/* An object starts: a PEM block (its name) or raw DER (NULL). 1 = want its bytes,
 * 0 = skip it, -1 = stop (err set). */
SSLSOCKET__PRIVATE int
sslsocket__ld_begin(sslsocket__ld *s, const char *name)
{
    static const char *const names[3][3] = {
        { "CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE" },
        { "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY" },
        { "X509 CRL", "X509 CRL", "X509 CRL" }
    };
    int key = s->mode == SSLSOCKET__LD_KEY;
    const char *const *ok = names[s->mode == SSLSOCKET__LD_CRL ? 2 : key];

    if (key && name != NULL && strcmp(name, "ENCRYPTED PRIVATE KEY") == 0)
        return sslsocket__ld_errf(s->err, s->errlen, SSLSOCKET__LD_ENCRYPTED, s->what);
    if (key && name != NULL && strcmp(name, "DSA PRIVATE KEY") == 0)
        return sslsocket__ld_errf(s->err, s->errlen, "%s: " SSLSOCKET__LD_DSA, s->what);
    if (key && name != NULL && strcmp(name, "OPENSSH PRIVATE KEY") == 0)
        return sslsocket__ld_errf(s->err, s->errlen, "%s is in OpenSSH format, which is not "
            "supported: convert it with ssh-keygen -p -m PEM", s->what);
    if (name != NULL && strcmp(name, ok[0]) != 0 && strcmp(name, ok[1]) != 0
        && strcmp(name, ok[2]) != 0) {
        /* the certificate next to a key, "EC PARAMETERS" before it, ... */
        if (s->other++ == 0)
            sslsocket__ld_errf(s->other_name, sizeof s->other_name, "%s", name);
        return 0;
    }
    if (key && s->n > 0)
        return sslsocket__ld_errf(s->err, s->errlen, "%s holds more than one private key",
            s->what);
    if ((s->mode == SSLSOCKET__LD_CHAIN || s->mode == SSLSOCKET__LD_CRL) && s->n >= s->max)
        return sslsocket__ld_errf(s->err, s->errlen, "too many %s in %s (at most %zu)",
            s->mode == SSLSOCKET__LD_CRL ? "CRLs" : "certificates", s->what, s->max);
    memset(&s->dt, 0, sizeof s->dt);
    s->start = s->a->lo;
    s->head_len = 0;
    s->trailing = 0;
    /* OpenSSL's "TRUSTED CERTIFICATE" = certificate DER + trust settings */
    s->trailing_ok = name != NULL && strcmp(name, "TRUSTED CERTIFICATE") == 0;
    if (key)
        br_skey_decoder_init(&s->w.dc.key);
    else    /* the DER is stored (ld_data): an anchor then keeps parts of it (ld_end) */
        br_x509_decoder_init(&s->w.dc.x509, 0, s);
    return 1;
}

/* Bytes of the current object. */
SSLSOCKET__PRIVATE void
sslsocket__ld_data(void *ctx, const void *buf, size_t len)
{
    sslsocket__ld *s = (sslsocket__ld *)ctx;
    const unsigned char *b = (const unsigned char *)buf;
    size_t k = sslsocket__ld_der_take(&s->dt, b, len), i;
    int key = s->mode == SSLSOCKET__LD_KEY;

    /* head: a key's DER; a certificate's bytes, trailer included (a key given as one?) */
    for (i = 0; i < (key ? k : len) && s->head_len < sizeof s->w.head; i++)
        s->w.head[s->head_len++] = b[i];
    if (k < len && !s->trailing_ok)
        s->trailing = 1;
    if (k > 0 && !key)
        sslsocket__ld_store(s, b, k);   /* exactly the DER; the decoder only validates it */
    /* Feed a decoder only while it runs: BearSSL 0.6's key decoder crashes (NULL T0 ip) when
     * pushed more bytes after it failed. The fields read are the ones its inline getters use. */
    if (k > 0 && key && s->w.dc.key.err == 0 && s->w.dc.key.key_type == 0)
        br_skey_decoder_push(&s->w.dc.key, b, k);
    if (k > 0 && !key && s->mode != SSLSOCKET__LD_CRL && s->w.dc.x509.err == 0
        && !s->w.dc.x509.decoded)
        br_x509_decoder_push(&s->w.dc.x509, b, k);
}

SSLSOCKET__PRIVATE int
sslsocket__ld_same_key(const br_x509_pkey *x, const br_x509_pkey *y)
{
    if (x->key_type != y->key_type)
        return 0;
    if (x->key_type == BR_KEYTYPE_RSA)
        return x->key.rsa.nlen == y->key.rsa.nlen && x->key.rsa.elen == y->key.rsa.elen
            && memcmp(x->key.rsa.n, y->key.rsa.n, x->key.rsa.nlen) == 0
            && memcmp(x->key.rsa.e, y->key.rsa.e, x->key.rsa.elen) == 0;
    return x->key.ec.curve == y->key.ec.curve && x->key.ec.qlen == y->key.ec.qlen
        && memcmp(x->key.ec.q, y->key.ec.q, x->key.ec.qlen) == 0;
}

/* The private key is complete: copy it into the arena. */
SSLSOCKET__PRIVATE int
sslsocket__ld_key_end(sslsocket__ld *s)
{
    br_skey_decoder_context *dc = &s->w.dc.key;
    sslsocket__key *key = s->key;
    sslsocket__arena *a = s->a;
    char tmp[40];
    int code = br_skey_decoder_last_error(dc);

    if (code == 0 && s->trailing)
        return sslsocket__ld_errf(s->err, s->errlen,
            "the private key in %s is malformed (unexpected data after its end)", s->what);
    if (code != 0 && sslsocket__ld_key_diag(s->w.head, s->head_len, s->what, s->err,
        s->errlen) < 0)
        return -1;
    if (code != 0)
        return sslsocket__ld_errf(s->err, s->errlen, "the private key in %s is malformed or "
            "not RSA/EC (%s)", s->what, sslsocket__ld_brerr(code, tmp, sizeof tmp));
    if (br_skey_decoder_key_type(dc) == BR_KEYTYPE_RSA) {
        key->rsa = *br_skey_decoder_get_rsa(dc);    /* then the copies of its buffers */
        key->rsa.p = sslsocket__ld_copy(a, key->rsa.p, key->rsa.plen);
        key->rsa.q = sslsocket__ld_copy(a, key->rsa.q, key->rsa.qlen);
        key->rsa.dp = sslsocket__ld_copy(a, key->rsa.dp, key->rsa.dplen);
        key->rsa.dq = sslsocket__ld_copy(a, key->rsa.dq, key->rsa.dqlen);
        key->rsa.iq = sslsocket__ld_copy(a, key->rsa.iq, key->rsa.iqlen);
        s->oom = !key->rsa.p || !key->rsa.q || !key->rsa.dp || !key->rsa.dq || !key->rsa.iq;
        key->type = BR_KEYTYPE_RSA;
    } else {
        key->ec = *br_skey_decoder_get_ec(dc);
        if (key->ec.curve < 0 || key->ec.curve > 31
            || !((br_ec_get_default()->supported_curves >> key->ec.curve) & 1))
            return sslsocket__ld_errf(s->err, s->errlen, "%s: unsupported elliptic curve "
                "(BearSSL curve id %d); BearSSL supports P-256, P-384 and P-521", s->what,
                key->ec.curve);
        key->ec.x = sslsocket__ld_copy(a, key->ec.x, key->ec.xlen);
        s->oom = key->ec.x == NULL;
        key->type = BR_KEYTYPE_EC;
    }
    s->n++;
    return s->oom ? -1 : 0;
}

/* What an anchor keeps besides its DN and key (RFC 5280 6.1.1 (d) and
   the constraints the library applies to it): stored right after its DN
   in the arena, so that the anchor array stays BearSSL's own type. */
typedef struct sslsocket__ta_extra {
    int64_t not_before, not_after;
    uint32_t nc_off, nc_len;        /* nameConstraints value, from the record */
    uint32_t eku_off, eku_len;      /* extendedKeyUsage value */
    uint32_t problems;              /* its own make-up (sslsocket__cert_rules) */
    int32_t ku;                     /* keyUsage (sslsocket__ext_ku), -1: none */
} sslsocket__ta_extra;

SSLSOCKET__PRIVATE void
sslsocket__ta_extra_get(const br_x509_trust_anchor *ta, sslsocket__ta_extra *x,
                        sslsocket__der *nc, sslsocket__der *eku)
{
    const unsigned char *h = ta->dn.data + ta->dn.len;
    memcpy(x, h, sizeof *x);
    nc->p = h + x->nc_off;
    nc->n = x->nc_len;
    eku->p = h + x->eku_off;
    eku->n = x->eku_len;
}

/* An anchor's DER is at [start, a->lo): keep its subject DN, the record
   above and the extension values it points at, in place of the DER.  The
   pieces are moved down in the order they appear, so none is written
   over before it is read. */
SSLSOCKET__PRIVATE int
sslsocket__ld_anchor_keep(sslsocket__arena *a, size_t start, br_x500_name *dn)
{
    unsigned char *der = a->base + start;
    sslsocket__cert c;
    sslsocket__ta_extra x;
    sslsocket__exts e;
    sslsocket__der v, nc, eku, *first, *second;
    size_t at, rec;
    uint32_t *off1, *off2;
    int ca = 0, pathlen = -1, ku = -1;

    if (sslsocket__cert_split(der, a->lo - start, &c) < 0)
        return -1;
    memset(&x, 0, sizeof x);
    v = c.validity;
    if (sslsocket__der_time(&v, &x.not_before) < 0 || sslsocket__der_time(&v, &x.not_after) < 0)
        return -1;
    sslsocket__cert_exts(&c, &e);
    nc = e.v[3];
    eku = e.v[2];
    if ((e.present & SSLSOCKET__EXT_BC) && sslsocket__ext_bc(e.v[0], &ca, &pathlen) < 0)
        x.problems |= SSLSOCKET__P(MALFORMED);
    if ((e.present & SSLSOCKET__EXT_KU) && (ku = sslsocket__ext_ku(e.v[1])) < 0)
        x.problems |= SSLSOCKET__P(MALFORMED);
    /* The anchor's own make-up counts, but not the profile: roots of the
       system stores predate it (non-critical basic constraints, no SKI,
       an AKI naming issuer and serial: 8 of Debian's 143). */
    x.problems |= sslsocket__cert_rules(&c, &e, ca, ku) & ~SSLSOCKET__P(PROFILE);
    x.ku = ku;
    memmove(der, c.subject_tlv.p, c.subject_tlv.n);
    rec = c.subject_tlv.n;
    at = rec + sizeof x;
    first = &nc;
    second = &eku;
    off1 = &x.nc_off;
    off2 = &x.eku_off;
    if (eku.n && (nc.n == 0 || eku.p < nc.p)) {
        first = &eku;
        second = &nc;
        off1 = &x.eku_off;
        off2 = &x.nc_off;
    }
    if ((first->n && der + at > first->p) || (second->n && der + at + first->n > second->p))
        return -1; /* (cannot happen: the key and signature lie between) */
    if (first->n)
        memmove(der + at, first->p, first->n);
    *off1 = (uint32_t)(at - rec);
    at += first->n;
    if (second->n)
        memmove(der + at, second->p, second->n);
    *off2 = (uint32_t)(at - rec);
    at += second->n;
    x.nc_len = (uint32_t)nc.n;
    x.eku_len = (uint32_t)eku.n;
    memcpy(der + rec, &x, sizeof x);
    a->lo = start + at;
    dn->data = der;
    dn->len = c.subject_tlv.n;
    return 0;
}

/* The current object is complete. 0, or -1 to stop (err set). */
SSLSOCKET__PRIVATE int
sslsocket__ld_end(sslsocket__ld *s)
{
    br_x509_decoder_context *dc = &s->w.dc.x509;
    sslsocket__arena *a = s->a;
    const br_x509_pkey *pk;
    const br_x509_trust_anchor *old;
    br_x509_trust_anchor ta;
    const unsigned char *p = s->w.head;
    unsigned tag;
    size_t i, len;
    char tmp[40];
    int code;

    if (s->mode == SSLSOCKET__LD_KEY)
        return sslsocket__ld_key_end(s);
    s->n++;
    if (s->oom)
        return -1;
    if (s->mode == SSLSOCKET__LD_CRL) {
        sslsocket__crl crl;
        if (s->trailing || sslsocket__crl_split(a->base + s->start, a->lo - s->start, &crl) < 0)
            return sslsocket__ld_errf(s->err, s->errlen, "CRL %zu in %s is malformed (or has "
                "an unknown critical extension)", s->n, s->what);
        s->chain[s->n - 1].data = a->base + s->start;
        s->chain[s->n - 1].data_len = a->lo - s->start;
        return 0;
    }
    code = br_x509_decoder_last_error(dc);
    if (code != 0 || s->trailing) {
        a->lo = s->start;
        if (s->lenient) {
            if (s->bad++ == 0) {
                s->first_bad = s->n;
                s->first_bad_code = code;
            }
            return 0;
        }
        if (code == 0)
            return sslsocket__ld_errf(s->err, s->errlen, "certificate %zu in %s is malformed "
                "(unexpected data after its end)", s->n, s->what);
        /* a certificate is SEQUENCE { SEQUENCE ...; a DER private key SEQUENCE { INTEGER */
        return sslsocket__ld_errf(s->err, s->errlen, "certificate %zu in %s is malformed "
            "(%s%s)", s->n, s->what, sslsocket__ld_brerr(code, tmp, sizeof tmp), s->der
            && sslsocket__ld_tlv(&p, s->w.head + s->head_len, &tag, &len)
            && p < s->w.head + s->head_len && *p == 0x02 ? "; it looks like a private key" : "");
    }
    if (s->mode == SSLSOCKET__LD_CHAIN) {
        s->chain[s->n - 1].data = a->base + s->start;
        s->chain[s->n - 1].data_len = a->lo - s->start;
        return 0;
    }
    pk = br_x509_decoder_get_pkey(dc);
    if (sslsocket__ld_anchor_keep(a, s->start, &ta.dn) < 0) {
        a->lo = s->start;
        if (s->lenient) {
            if (s->bad++ == 0) {
                s->first_bad = s->n;
                s->first_bad_code = BR_ERR_X509_INVALID_VALUE;
            }
            return 0;
        }
        return sslsocket__ld_errf(s->err, s->errlen, "certificate %zu in %s is malformed "
            "(its extensions or validity do not parse)", s->n, s->what);
    }
    /* a non-CA (self-signed) certificate is kept too: BearSSL's "direct trust" */
    ta.flags = br_x509_decoder_isCA(dc) ? BR_X509_TA_CA : 0;
    ta.pkey = *pk;  /* then copies of its buffers, which are in the decoder */
    if (pk->key_type == BR_KEYTYPE_RSA) {
        ta.pkey.key.rsa.n = sslsocket__ld_copy(a, pk->key.rsa.n, pk->key.rsa.nlen);
        ta.pkey.key.rsa.e = sslsocket__ld_copy(a, pk->key.rsa.e, pk->key.rsa.elen);
        s->oom = ta.pkey.key.rsa.n == NULL || ta.pkey.key.rsa.e == NULL;
    } else {
        ta.pkey.key.ec.q = sslsocket__ld_copy(a, pk->key.ec.q, pk->key.ec.qlen);
        s->oom = ta.pkey.key.ec.q == NULL;
    }
    if (s->oom)
        return -1;
    /* same DN and key as an anchor from this or an earlier call: keep one */
    old = (const br_x509_trust_anchor *)(const void *)(a->base + a->hi);
    for (i = 0; i < a->n_anchors; i++) {
        if (old[i].dn.len == ta.dn.len && memcmp(old[i].dn.data, ta.dn.data, ta.dn.len) == 0
            && sslsocket__ld_same_key(&old[i].pkey, &ta.pkey)) {
            a->lo = s->start;
            s->dups++;
            return 0;
        }
    }
    if (a->hi - a->lo < sizeof ta) {
        s->oom = 1;
        return -1;
    }
    a->hi -= sizeof ta;
    a->n_anchors++;
    *(br_x509_trust_anchor *)(void *)(a->base + a->hi) = ta;
    s->added++;
    return 0;
}

/* ---------------------------------------------------------------- input and PEM walker */

/* Next chunk of the input: >0 bytes at *p, 0 at the end, -1 on error. */
SSLSOCKET__PRIVATE long
sslsocket__ld_next(sslsocket__ld *s, const unsigned char **p)
{
    size_t n = s->len - s->pos;
    ssize_t r;
    char tmp[24];

    if (s->fd < 0 && n == 0)
        return 0;   /* s->mem may be NULL: no pointer arithmetic on it */
    if (s->fd < 0) {
        n = n < SSLSOCKET__LD_CHUNK ? n : SSLSOCKET__LD_CHUNK;
        *p = s->mem + s->pos;
        s->pos += n;
        return (long)n;
    }
    do
        r = read(s->fd, s->w.buf, sizeof s->w.buf);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return sslsocket__ld_errf(s->err, s->errlen, "cannot read %s: %s", s->what,
            sslsocket__ld_strerror(errno, tmp, sizeof tmp));
    s->pos += (size_t)r;
    if (s->pos > SSLSOCKET_MAX_FILE_SIZE)     /* it grew after fstat(): same limit */
        return sslsocket__ld_errf(s->err, s->errlen, "%s is larger than %lu bytes "
            "(SSLSOCKET_MAX_FILE_SIZE)", s->what, (unsigned long)SSLSOCKET_MAX_FILE_SIZE);
    *p = s->w.buf;
    return (long)r;
}

/* Streams the input through begin/data/end: raw DER (first byte 0x30) as one object, else
 * every PEM block. */
SSLSOCKET__PRIVATE int
sslsocket__ld_walk(sslsocket__ld *s)
{
    br_pem_decoder_context *pc = &s->w.pem;
    const unsigned char *p;
    char name[128], head[16];
    unsigned long line = 1;
    size_t col = 0, k, i;
    long n = sslsocket__ld_next(s, &p);
    int in_obj = 0, want = 0, flushed = 0, proc_type = 0;

    if (n <= 0)
        return (int)n;
    if (p[0] == 0x30) {
        s->der = 1;
        if (sslsocket__ld_begin(s, NULL) < 0)
            return -1;
        for (; n > 0; n = sslsocket__ld_next(s, &p)) {
            s->total += (size_t)n;
            sslsocket__ld_data(s, p, (size_t)n);
        }
        return n < 0 ? -1 : sslsocket__ld_end(s);
    }
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        /* a UTF-8 BOM would hide the first "-----BEGIN" line */
        s->total += 3;
        p += 3;
        n -= 3;
    }
    br_pem_decoder_init(pc);
    name[0] = '\0';
    for (;;) {
        s->total += flushed ? 0 : (size_t)n;
        while (n > 0) {
            k = br_pem_decoder_push(pc, p, (size_t)n);
            /* line numbers for messages, and spot RFC 1421 "Proc-Type:" headers */
            for (i = 0; i < k; i++) {
                if (p[i] == '\n') {
                    line++;
                    col = 0;
                    continue;
                }
                if (col < sizeof head)
                    head[col] = (char)p[i];
                if (++col == 10 && memcmp(head, "Proc-Type:", 10) == 0)
                    proc_type = 1;
            }
            p += k;
            n -= (long)k;
            switch (br_pem_decoder_event(pc)) {
            case BR_PEM_BEGIN_OBJ:
                sslsocket__ld_errf(name, sizeof name, "%s", br_pem_decoder_name(pc));
                /* with CRLF lines BearSSL keeps the trailing dashes: strip them here */
                for (i = strlen(name); i > 0 && (name[i - 1] == '-' || name[i - 1] == '\r'
                    || name[i - 1] == ' ' || name[i - 1] == '\t'); i--)
                    name[i - 1] = '\0';
                in_obj = 1;
                proc_type = 0;  /* only a header inside this block matters */
                want = sslsocket__ld_begin(s, name);
                if (want < 0)
                    return -1;
                br_pem_decoder_setdest(pc, want ? sslsocket__ld_data : 0, s);
                break;
            case BR_PEM_END_OBJ:
                if (in_obj && want && sslsocket__ld_end(s) < 0)
                    return -1;
                in_obj = 0;
                break;
            case BR_PEM_ERROR:
                if (proc_type)
                    return sslsocket__ld_errf(s->err, s->errlen, "%s: encrypted PEM "
                        "(Proc-Type: 4,ENCRYPTED) is not supported: decrypt with openssl pkey",
                        s->what);
                return sslsocket__ld_errf(s->err, s->errlen,
                    "bad PEM in %s (line %lu: invalid Base64 in a \"%s\" block)", s->what,
                    col == 0 && line > 1 ? line - 1 : line, name);
            default:
                if (k == 0)     /* cannot happen per the API; never spin */
                    return sslsocket__ld_errf(s->err, s->errlen, "PEM decoder stalled on %s",
                        s->what);
                break;
            }
        }
        if (flushed)
            break;
        n = sslsocket__ld_next(s, &p);
        if (n < 0)
            return -1;
        if (n == 0) {
            /* a last line without newline still counts */
            p = (const unsigned char *)"\n";
            n = 1;
            flushed = 1;
        }
    }
    if (in_obj)
        return sslsocket__ld_errf(s->err, s->errlen,
            "truncated PEM in %s: no \"-----END %s-----\" line", s->what, name);
    return 0;
}

/* Opens a regular file (relative to dfd) of at most SSLSOCKET_MAX_FILE_SIZE bytes: the fd,
 * or minus an errno (EISDIR or EINVAL when it is no regular file) with err set. */
SSLSOCKET__PRIVATE int
sslsocket__ld_open(int dfd, const char *path, const char *what, char *err, size_t errlen)
{
    struct stat st;
    char tmp[24];
    int fd, e;

    if (path == NULL || path[0] == '\0') {
        sslsocket__ld_errf(err, errlen, "no file name given");
        return -ENOENT;
    }
    /* O_NONBLOCK: opening a FIFO must not hang; regular files ignore it */
    fd = openat(dfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &st) != 0) {
        e = errno > 0 ? errno : EIO;
        sslsocket__ld_errf(err, errlen, "cannot %s %s: %s", fd < 0 ? "open" : "stat", what,
            sslsocket__ld_strerror(e, tmp, sizeof tmp));
    } else if (!S_ISREG(st.st_mode)) {
        e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        sslsocket__ld_errf(err, errlen, e == EISDIR ? "%s is a directory, not a file"
            : "%s is not a regular file", what);
    } else if ((unsigned long long)st.st_size > (unsigned long long)SSLSOCKET_MAX_FILE_SIZE) {
        e = EFBIG;
        sslsocket__ld_errf(err, errlen, "%s is too large (%lld bytes; the limit is %lu, see "
            "SSLSOCKET_MAX_FILE_SIZE)", what, (long long)st.st_size,
            (unsigned long)SSLSOCKET_MAX_FILE_SIZE);
    } else {
        return fd;
    }
    if (fd >= 0)
        close(fd);
    return -e;
}

/* Prepares a load; err is cleared. */
SSLSOCKET__PRIVATE void
sslsocket__ld_init(sslsocket__ld *s, int mode, sslsocket__arena *a, const char *what,
    char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->mode = mode;
    s->a = a;
    /* unnamed memory; a NULL path fails in ld_open before a message names it */
    s->what = what != NULL ? what : "memory buffer";
    s->err = err;
    s->errlen = errlen;
    s->fd = -1;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
}

/* Runs a load over the file path (relative to dfd), or over data[0..len) when dfd is
 * SSLSOCKET__LD_MEM. Returns the anchors added, the chain length (also in *nout) or 0 for a
 * key; -1 on error (s->oom: out of space), the arena then as before and *key cleared. */
SSLSOCKET__PRIVATE int
sslsocket__ld_run(sslsocket__ld *s, int dfd, const char *path, const void *data, size_t len)
{
    sslsocket__arena *a = s->a;
    size_t lo = a->lo, hi = a->hi, n = a->n_anchors;
    const char *why;
    char tmp[128];
    int r;

    if (s->key != NULL)
        memset(s->key, 0, sizeof *s->key);
    if (s->nout != NULL)
        *s->nout = 0;
    s->mem = (const unsigned char *)data;
    s->len = data != NULL ? len : 0;
    if (dfd != SSLSOCKET__LD_MEM
        && (s->fd = sslsocket__ld_open(dfd, path, s->what, s->err, s->errlen)) < 0)
        return -1;
    r = sslsocket__ld_walk(s);
    if (s->fd >= 0)
        close(s->fd);
    if (r == 0 && s->n == 0) {
        if (s->other > 0)
            sslsocket__ld_errf(tmp, sizeof tmp, " (it has %zu PEM block%s of other types, "
                "first \"%s\")", s->other, s->other > 1 ? "s" : "", s->other_name);
        why = s->total == 0 ? " (it is empty)" : s->other > 0 ? tmp
            : !s->der ? " (neither DER nor a PEM \"-----BEGIN\" line)" : "";
        r = sslsocket__ld_errf(s->err, s->errlen, "no %s found in %s%s",
            s->mode == SSLSOCKET__LD_KEY ? "private key" : s->mode == SSLSOCKET__LD_CRL ? "CRL"
            : "certificate", s->what, why);
    } else if (r == 0 && s->mode == SSLSOCKET__LD_ANCHORS && s->added + s->dups == 0) {
        r = sslsocket__ld_errf(s->err, s->errlen, "no usable certificate in %s (certificate "
            "%zu: %s)", s->what, s->first_bad, sslsocket__ld_brerr(s->first_bad_code, tmp,
            sizeof tmp));
    }
    sslsocket__ld_wipe(&s->w, sizeof s->w);
    if (r < 0 || s->oom) {
        sslsocket__ld_rollback(a, lo, hi, n);
        if (s->key != NULL)
            memset(s->key, 0, sizeof *s->key);
        if (s->oom) {
            a->oom = 1;
            sslsocket__ld_errf(s->err, s->errlen, "out of space in the certificate storage "
                "(need more than %zu bytes)", a->size);
        }
        return -1;
    }
    if (s->bad > 0 && s->note != NULL && s->notelen > 0 && s->note[0] == '\0')
        sslsocket__ld_errf(s->note, s->notelen, "note: skipped %zu certificate%s that BearSSL "
            "cannot decode in %s (first: certificate %zu: %s)", s->bad, s->bad > 1 ? "s" : "",
            s->what, s->first_bad, sslsocket__ld_brerr(s->first_bad_code, tmp, sizeof tmp));
    if ((s->mode == SSLSOCKET__LD_CHAIN || s->mode == SSLSOCKET__LD_CRL) && s->nout != NULL)
        *s->nout = s->n;
    if (s->mode == SSLSOCKET__LD_ANCHORS)
        return s->added > INT_MAX ? INT_MAX : (int)s->added;
    return s->mode == SSLSOCKET__LD_CHAIN || s->mode == SSLSOCKET__LD_CRL ? (int)s->n : 0;
}

/* ---------------------------------------------------------------- trust anchors */

/* Anchors from memory: one DER certificate, or PEM with any number of "CERTIFICATE" /
 * "TRUSTED CERTIFICATE" blocks (other blocks are skipped). Each certificate becomes an
 * anchor (CA flag from its Basic Constraints). Returns the number of new anchors, 0 only
 * when all of them were loaded before; -1 with err set, the arena left as it was. */
SSLSOCKET__PRIVATE int
sslsocket__load_anchors_mem(sslsocket__arena *a, const void *data, size_t len,
    const char *what, char *err, size_t errlen)
{
    sslsocket__ld s;

    sslsocket__ld_init(&s, SSLSOCKET__LD_ANCHORS, a, what, err, errlen);
    return sslsocket__ld_run(&s, SSLSOCKET__LD_MEM, NULL, data, len);
}

/* Anchors from a file (DER or PEM, at most SSLSOCKET_MAX_FILE_SIZE bytes). */
SSLSOCKET__PRIVATE int
sslsocket__load_anchors_file(sslsocket__arena *a, const char *path, char *err, size_t errlen)
{
    sslsocket__ld s;

    sslsocket__ld_init(&s, SSLSOCKET__LD_ANCHORS, a, path, err, errlen);
    return sslsocket__ld_run(&s, AT_FDCWD, path, NULL, 0);
}

/* One file of a trust store (relative to dfd); if lenient, certificates BearSSL cannot
 * decode are skipped (noted in `note`). Returns the anchors added (*found: certificates
 * seen), -1 with err set, -2 out of space, -3 not a regular file. A function of its own so
 * that a load's buffers are on the stack only once, below the directory reader. */
SSLSOCKET__PRIVATE int
sslsocket__ld_trust_file(sslsocket__arena *a, int dfd, const char *path, const char *what,
    int lenient, size_t *found, char *err, size_t errlen, char *note, size_t notelen)
{
    sslsocket__ld s;
    int r;

    sslsocket__ld_init(&s, SSLSOCKET__LD_ANCHORS, a, what, err, errlen);
    s.lenient = lenient;
    s.note = note;
    s.notelen = notelen;
    r = sslsocket__ld_run(&s, dfd, path, NULL, 0);
    *found = s.n;
    if (r < 0 && (s.oom || s.fd == -EISDIR || s.fd == -EINVAL))
        return s.oom ? -2 : -3;
    return r;
}

/* One directory: every regular file but dotfiles. Files that do not load are skipped and
 * counted (reported in `note`). Returns the anchors added (*found: certificates seen), -1,
 * or -2 when out of space: then the whole directory is rolled back. */
SSLSOCKET__PRIVATE int
sslsocket__ld_anchors_dir(sslsocket__arena *a, const char *dir, int lenient, size_t *found,
    char *err, size_t errlen, char *note, size_t notelen)
{
    union {
        uint64_t align;     /* linux_dirent64 records are 8-byte aligned */
        unsigned char b[2048];
    } d;
    char what[512], why[256], first[256] = "", tmp[24];
    size_t lo = a->lo, hi = a->hi, n = a->n_anchors, files = 0, skipped = 0, total = 0, seen;
    unsigned short reclen;
    long nr, off;
    int dfd, r, e, added = 0;
    const char *name;

    *found = 0;
    if (dir == NULL || dir[0] == '\0')
        return sslsocket__ld_errf(err, errlen, "no directory name given");
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return sslsocket__ld_errf(err, errlen, "cannot open directory %s: %s", dir,
            sslsocket__ld_strerror(errno, tmp, sizeof tmp));
    /* getdents64, not opendir(): opendir() allocates */
    while ((nr = syscall(SYS_getdents64, dfd, d.b, sizeof d.b)) != 0) {
        if (nr < 0 && errno == EINTR)
            continue;
        for (off = 0; off + 19 < nr; off += reclen) {
            /* linux_dirent64: ino 8, off 8, reclen 2, type 1, name */
            memcpy(&reclen, d.b + off + 16, sizeof reclen);
            if (reclen < 20 || off + reclen > nr) {
                nr = -1;
                errno = EIO;
                break;
            }
            name = (const char *)d.b + off + 19;
            if (name[0] == '.' || d.b[off + 18] == 4 /* DT_DIR */)
                continue;
            sslsocket__ld_errf(what, sizeof what, "%s/%s", dir, name);
            r = sslsocket__ld_trust_file(a, dfd, name, what, lenient, &seen, why, sizeof why,
                note, notelen);
            if (r == -2) {
                close(dfd);
                sslsocket__ld_rollback(a, lo, hi, n);
                sslsocket__ld_errf(err, errlen, "%s", why);
                return -2;
            }
            if (r == -3)
                continue;       /* not a regular file (FIFO, socket, dir symlink) */
            files++;
            if (r < 0 && skipped++ == 0)
                sslsocket__ld_errf(first, sizeof first, "%s", why);
            if (r < 0)
                continue;
            added += r;
            total += seen;
        }
        if (nr < 0)
            break;
    }
    e = errno;
    close(dfd);
    if (nr < 0) {
        sslsocket__ld_rollback(a, lo, hi, n);
        return sslsocket__ld_errf(err, errlen, "cannot read directory %s: %s", dir,
            sslsocket__ld_strerror(e, tmp, sizeof tmp));
    }
    *found = total;
    if (total == 0)
        return sslsocket__ld_errf(err, errlen, "no certificate found in directory %s "
            "(%zu file%s%s%s)", dir, files, files == 1 ? "" : "s",
            skipped > 0 ? "; first problem: " : "", first);
    if (skipped > 0 && note != NULL && notelen > 0 && note[0] == '\0')
        sslsocket__ld_errf(note, notelen, "note: skipped %zu of %zu files in %s (first: %s)",
            skipped, files, dir, first);
    return added;
}

/* Anchors from every regular file of a directory (dotfiles skipped). Files that fail to
 * load are skipped: then err holds a "note: ..." even on success. Duplicates (same DN and
 * key, e.g. the hash symlinks of /etc/ssl/certs) are stored once across all calls. */
SSLSOCKET__PRIVATE int
sslsocket__load_anchors_dir(sslsocket__arena *a, const char *dir, char *err, size_t errlen)
{
    size_t found;
    int r;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    r = sslsocket__ld_anchors_dir(a, dir, 0, &found, err, errlen, err, errlen);
    return r < 0 ? -1 : r;
}

SSLSOCKET__PRIVATE const char *
sslsocket__ld_getenv(const char *name)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    /* a setuid program must not let its caller choose what it trusts */
    const char *v = secure_getenv(name);
#else
    const char *v = getenv(name);
#endif

    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Appends "item" to the ':'-separated list in buf (the `used` output). */
SSLSOCKET__PRIVATE void
sslsocket__ld_append(char *buf, size_t buflen, const char *item)
{
    size_t len;

    if (buf == NULL || buflen == 0)
        return;
    len = strlen(buf);
    sslsocket__ld_errf(buf + len, buflen - len, len > 0 ? ":%s" : "%s", item);
}

/* The system trust store, found like OpenSSL does: $SSL_CERT_FILE and/or $SSL_CERT_DIR
 * (colon-separated) if set, else the first bundle that exists, else /etc/ssl/certs.
 * Certificates that BearSSL cannot decode are skipped (err then holds a "note: ...").
 * `used` receives the path(s) loaded, ':'-separated. Returns the anchors added. */
SSLSOCKET__PRIVATE int
sslsocket__load_system_anchors(sslsocket__arena *a, char *err, size_t errlen, char *used,
    size_t usedlen)
{
    static const char *const bundles[] = {
        "/etc/ssl/certs/ca-certificates.crt",   /* Debian, Ubuntu, Alpine, Arch */
        "/etc/pki/tls/certs/ca-bundle.crt",     /* Fedora, RHEL */
        "/etc/ssl/ca-bundle.pem",               /* openSUSE */
        "/etc/pki/tls/cacert.pem",              /* OpenELEC */
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",    /* CentOS, RHEL 7 */
        "/etc/ssl/cert.pem",                    /* BSDs, macOS, Alpine */
        "/usr/local/share/certs/ca-root-nss.crt"    /* FreeBSD */
    };
    const char *file = sslsocket__ld_getenv("SSL_CERT_FILE");
    const char *dirs = sslsocket__ld_getenv("SSL_CERT_DIR");
    const char *p;
    char dir[512], why[256];
    size_t lo = a->lo, hi = a->hi, n = a->n_anchors, total = 0, found, len, i;
    int r, added = 0, defaults = file == NULL && dirs == NULL;
    struct stat st;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (used != NULL && usedlen > 0)
        used[0] = '\0';
    /* neither variable set: the first bundle that exists, else the usual directory */
    for (i = 0; defaults && file == NULL && i < sizeof bundles / sizeof bundles[0]; i++)
        if (stat(bundles[i], &st) == 0 && S_ISREG(st.st_mode))
            file = bundles[i];
    if (defaults && file == NULL)
        dirs = "/etc/ssl/certs";
    if (file != NULL) {
        /* a bundle's errors are the caller's; those of $SSL_CERT_FILE get a prefix */
        r = sslsocket__ld_trust_file(a, AT_FDCWD, file, file, 1, &found, defaults ? err : why,
            defaults ? errlen : sizeof why, err, errlen);
        if (r < 0)
            return defaults ? -1 : sslsocket__ld_errf(err, errlen, "SSL_CERT_FILE: %s", why);
        sslsocket__ld_append(used, usedlen, file);
        added += r;
        total += found;
    }
    why[0] = '\0';
    for (p = dirs; p != NULL && *p != '\0'; p += len + (p[len] == ':')) {
        len = strcspn(p, ":");
        if (len == 0)
            continue;
        if (len >= sizeof dir) {
            sslsocket__ld_errf(why, sizeof why, "directory name too long in SSL_CERT_DIR");
            continue;
        }
        memcpy(dir, p, len);
        dir[len] = '\0';
        /* like OpenSSL, a missing or empty directory is not an error by itself */
        r = sslsocket__ld_anchors_dir(a, dir, 1, &found, why, sizeof why, err, errlen);
        if (r == -2) {
            sslsocket__ld_rollback(a, lo, hi, n);
            sslsocket__ld_errf(err, errlen, "%s", why);
            if (used != NULL && usedlen > 0)
                used[0] = '\0';
            return -1;
        }
        if (r >= 0) {
            sslsocket__ld_append(used, usedlen, dir);
            added += r;
            total += found;
        }
    }
    if (total == 0 && defaults)
        return sslsocket__ld_errf(err, errlen, "no system trust store found (no CA bundle "
            "such as %s, and %s); set SSL_CERT_FILE or SSL_CERT_DIR", bundles[0], why);
    if (total == 0)
        return sslsocket__ld_errf(err, errlen, "no trust anchors found in SSL_CERT_DIR=%s (%s)",
            dirs, why);
    return added;
}

/* ---------------------------------------------------------------- chain and key */

/* Certificate chain (leaf first, as in the file) into chain[0..max); the DER is copied
 * into the arena. Returns the number of certificates (also in *n), or -1. */
SSLSOCKET__PRIVATE int
sslsocket__load_chain_mem(sslsocket__arena *a, const void *data, size_t len, const char *what,
    br_x509_certificate *chain, size_t max, size_t *n, char *err, size_t errlen)
{
    sslsocket__ld s;

    sslsocket__ld_init(&s, SSLSOCKET__LD_CHAIN, a, what, err, errlen);
    s.chain = chain;
    s.max = chain != NULL ? max : 0;
    s.nout = n;
    return sslsocket__ld_run(&s, SSLSOCKET__LD_MEM, NULL, data, len);
}

SSLSOCKET__PRIVATE int
sslsocket__load_chain_file(sslsocket__arena *a, const char *path, br_x509_certificate *chain,
    size_t max, size_t *n, char *err, size_t errlen)
{
    sslsocket__ld s;

    sslsocket__ld_init(&s, SSLSOCKET__LD_CHAIN, a, path, err, errlen);
    s.chain = chain;
    s.max = chain != NULL ? max : 0;
    s.nout = n;
    return sslsocket__ld_run(&s, AT_FDCWD, path, NULL, 0);
}

/* CRLs: PEM "X509 CRL" blocks or one DER CRL, from memory (dfd LD_MEM) or a
 * file, appended to crls[*n .. max). Returns the number loaded, or -1. */
SSLSOCKET__PRIVATE int
sslsocket__load_crls(sslsocket__arena *a, const char *path, const void *data, size_t len,
    br_x509_certificate *crls, size_t max, size_t *n, char *err, size_t errlen)
{
    sslsocket__ld s;
    sslsocket__ld_init(&s, SSLSOCKET__LD_CRL, a, path != NULL ? path : "memory", err, errlen);
    s.chain = crls;
    s.max = max;
    s.nout = n;
    return sslsocket__ld_run(&s, path != NULL ? AT_FDCWD : SSLSOCKET__LD_MEM, path, data, len);
}

/* Private key, RSA or EC: PEM ("RSA PRIVATE KEY", "EC PRIVATE KEY" with or without an
 * "EC PARAMETERS" block, "PRIVATE KEY" = PKCS#8) or raw DER. Other PEM blocks (e.g. the
 * certificate in a combined file) are skipped. The components are copied into the arena.
 * Returns 0, or -1 with a precise refusal (encrypted, DSA, Ed25519, unknown curve...). */
SSLSOCKET__PRIVATE int
sslsocket__load_key_mem(sslsocket__arena *a, const void *data, size_t len, const char *what,
    sslsocket__key *key, char *err, size_t errlen)
{
    sslsocket__ld s;

    sslsocket__ld_init(&s, SSLSOCKET__LD_KEY, a, what, err, errlen);
    s.key = key;
    return sslsocket__ld_run(&s, SSLSOCKET__LD_MEM, NULL, data, len);
}

SSLSOCKET__PRIVATE int
sslsocket__load_key_file(sslsocket__arena *a, const char *path, sslsocket__key *key,
    char *err, size_t errlen)
{
    sslsocket__ld s;

    sslsocket__ld_init(&s, SSLSOCKET__LD_KEY, a, path, err, errlen);
    s.key = key;
    return sslsocket__ld_run(&s, AT_FDCWD, path, NULL, 0);
}

/* Big-endian unsigned integers equal, ignoring leading zeros? */
SSLSOCKET__PRIVATE int
sslsocket__ld_same_int(const unsigned char *x, size_t xlen, const unsigned char *y,
    size_t ylen)
{
    for (; xlen > 0 && *x == 0; xlen--)
        x++;
    for (; ylen > 0 && *y == 0; ylen--)
        y++;
    return xlen == ylen && memcmp(x, y, xlen) == 0;
}

/* Does the private key belong to the leaf certificate? The public key is recomputed
 * from the private one. 1 match, 0 mismatch (err says why), -1 error. */
SSLSOCKET__PRIVATE int
sslsocket__key_matches_cert(const sslsocket__key *key, const br_x509_certificate *leaf,
    char *err, size_t errlen)
{
    br_x509_decoder_context dc;
    const br_x509_pkey *pk;
    br_rsa_compute_modulus modulus;
    unsigned char buf[512];     /* RSA-4096 modulus; EC points need 133 at most */
    uint32_t e;
    size_t len;
    char tmp[40];
    int code;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (key == NULL || (key->type != BR_KEYTYPE_RSA && key->type != BR_KEYTYPE_EC))
        return sslsocket__ld_errf(err, errlen, "no private key loaded");
    if (leaf == NULL || leaf->data == NULL || leaf->data_len == 0)
        return sslsocket__ld_errf(err, errlen, "no certificate loaded");
    br_x509_decoder_init(&dc, 0, 0);
    br_x509_decoder_push(&dc, leaf->data, leaf->data_len);
    code = br_x509_decoder_last_error(&dc);
    if (code != 0)
        return sslsocket__ld_errf(err, errlen, "the certificate is malformed (%s)",
            sslsocket__ld_brerr(code, tmp, sizeof tmp));
    pk = br_x509_decoder_get_pkey(&dc);
    if (pk->key_type != key->type) {
        sslsocket__ld_errf(err, errlen, "the private key is %s but the certificate's key is %s",
            key->type == BR_KEYTYPE_RSA ? "RSA" : "EC",
            pk->key_type == BR_KEYTYPE_RSA ? "RSA" : "EC");
        return 0;
    }
    if (key->type == BR_KEYTYPE_EC && key->ec.curve != pk->key.ec.curve) {
        sslsocket__ld_errf(err, errlen, "the private key does not match the certificate "
            "(curve %d vs %d)", key->ec.curve, pk->key.ec.curve);
        return 0;
    }
    if (key->type == BR_KEYTYPE_EC) {
        len = br_ec_compute_pub(br_ec_get_default(), NULL, buf, &key->ec);
        if (len == 0)
            return sslsocket__ld_errf(err, errlen, "cannot compute the EC public key "
                "(unsupported curve %d)", key->ec.curve);
        if (len == pk->key.ec.qlen && memcmp(buf, pk->key.ec.q, len) == 0)
            return 1;
        sslsocket__ld_errf(err, errlen, "the private key does not match the certificate "
            "(different EC public point)");
        return 0;
    }
    /* BearSSL 0.6: the i31 code returns 0 for 4096-bit keys, i15 does not */
    modulus = br_rsa_compute_modulus_get_default();
    if (modulus(NULL, &key->rsa) == 0)
        modulus = br_rsa_i15_compute_modulus;
    len = modulus(NULL, &key->rsa);
    if (len == 0 || len > sizeof buf)
        return sslsocket__ld_errf(err, errlen, "cannot compute the RSA modulus from the "
            "private key (invalid, or larger than 4096 bits)");
    modulus(buf, &key->rsa);
    if (!sslsocket__ld_same_int(buf, len, pk->key.rsa.n, pk->key.rsa.nlen)) {
        sslsocket__ld_errf(err, errlen, "the private key does not match the certificate "
            "(different RSA modulus)");
        return 0;
    }
    /* 0 when p or q is not 3 mod 4 (or, in 0.6, for 4096 bits): the modulus check above is
     * then enough */
    e = br_rsa_compute_pubexp_get_default()(&key->rsa);
    buf[0] = (unsigned char)(e >> 24);
    buf[1] = (unsigned char)(e >> 16);
    buf[2] = (unsigned char)(e >> 8);
    buf[3] = (unsigned char)e;
    if (e == 0 || sslsocket__ld_same_int(buf, 4, pk->key.rsa.e, pk->key.rsa.elen))
        return 1;
    sslsocket__ld_errf(err, errlen, "the private key does not match the certificate "
        "(different RSA public exponent)");
    return 0;
}

/* ---------------------------------------------------------------- small files */

/* Reads a whole regular file of at most cap bytes (and SSLSOCKET_MAX_FILE_SIZE) into buf.
 * 0 with *len set, or -1 (too large, unreadable, not a regular file...). */
SSLSOCKET__PRIVATE int
sslsocket__read_file(const char *path, unsigned char *buf, size_t cap, size_t *len,
    char *err, size_t errlen)
{
    unsigned char probe;
    size_t got = 0;
    ssize_t r;
    char tmp[24];
    int fd, e;

    *len = 0;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    fd = sslsocket__ld_open(AT_FDCWD, path, path, err, errlen);
    if (fd < 0)
        return -1;
    for (;;) {
        /* past cap, one byte more tells "too large" from "exactly full" */
        r = got < cap ? read(fd, buf + got, cap - got) : read(fd, &probe, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || got >= cap)
            break;
        got += (size_t)r;
    }
    e = errno;
    close(fd);
    if (r < 0)
        return sslsocket__ld_errf(err, errlen, "cannot read %s: %s", path,
            sslsocket__ld_strerror(e, tmp, sizeof tmp));
    if (r > 0)
        return sslsocket__ld_errf(err, errlen, "%s is larger than %zu bytes", path, cap);
    *len = got;
    return 0;
}

/* <<credentials */


/* ==========================================================================
   >>certificates
   BearSSL 0.6's X.509 decoder exposes only the subject DN and the public
   key, and its host-name check is too lax (accepts "*.com", falls back to
   the CN, knows no iPAddress SAN).  So the library verifies the chain
   itself (>>paths) and runs the host / IP / EKU checks below on the
   end-entity DER.

   The input is hostile: no allocation, no stdio, no recursion.  A flat
   cursor walks the fixed X.509 layout and every length is checked against
   what is left of its enclosing element.
   ========================================================================== */

/* Reasons returned by the sslsocket__cert_check_* functions (0 = acceptable). */
#define SSLSOCKET__NAME_OK 0
#define SSLSOCKET__NAME_MISMATCH 1         /* no dNSName SAN matches the host */
#define SSLSOCKET__NAME_WILDCARD_REFUSED 2 /* only a refused wildcard ("*.com", "f*.x.y") */
#define SSLSOCKET__NAME_IP_MISMATCH 3      /* no iPAddress SAN equals the address */
#define SSLSOCKET__NAME_NO_SAN 4           /* no subjectAltName at all: CN-only is refused */
#define SSLSOCKET__NAME_EKU_MISMATCH 5     /* extendedKeyUsage forbids this role */
#define SSLSOCKET__NAME_MALFORMED 6        /* the DER does not parse */

/* ---- bounded string output ---- */

typedef struct sslsocket__out {
    char *buf;
    size_t size, len, mark; /* mark: last unit boundary that leaves room for "..." */
    int full;
} sslsocket__out;

SSLSOCKET__PRIVATE void
sslsocket__out_init(sslsocket__out *o, char *buf, size_t size)
{
    o->buf = buf;
    o->size = size;
    o->len = o->mark = 0;
    o->full = 0;
    buf[0] = '\0';
}

/* Append s[0..n) as one unit (a character or an escape, never split).  When it does not fit,
 * cut back to the last boundary with room for "..." so the reader sees the truncation. */
SSLSOCKET__PRIVATE void
sslsocket__out_put(sslsocket__out *o, const char *s, size_t n)
{
    if (o->full) {
        return;
    }
    if (n < o->size - o->len) {
        memcpy(o->buf + o->len, s, n);
        o->len += n;
        if (o->len + 4 <= o->size) {
            o->mark = o->len;
        }
    } else {
        o->full = 1;
        o->len = o->mark;
        if (o->size >= 4) {
            memcpy(o->buf + o->len, "...", 3);
            o->len += 3;
        }
    }
    o->buf[o->len] = '\0';
}

SSLSOCKET__PRIVATE void
sslsocket__out_str(sslsocket__out *o, const char *s)
{
    sslsocket__out_put(o, s, strlen(s));
}

/* Unit: optional prefix character then two uppercase hex digits ("\C3", "#", "7F"). */
SSLSOCKET__PRIVATE void
sslsocket__out_hex(sslsocket__out *o, const char *prefix, unsigned b)
{
    static const char hx[] = "0123456789ABCDEF";
    char e[3];
    size_t n = 0;

    if (prefix[0] != '\0') {
        e[n++] = prefix[0];
    }
    e[n++] = hx[(b >> 4) & 15];
    e[n++] = hx[b & 15];
    sslsocket__out_put(o, e, n);
}

SSLSOCKET__PRIVATE void
sslsocket__out_dec(sslsocket__out *o, uint64_t v)
{
    char t[20];
    size_t i = sizeof t;

    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    sslsocket__out_put(o, t + i, sizeof t - i);
}

/* Dotted-decimal OID, for attribute types and algorithms without a name here. */
SSLSOCKET__PRIVATE void
sslsocket__out_oid(sslsocket__out *o, const sslsocket__der *oid)
{
    uint64_t v = 0;
    size_t i;
    int first = 1;

    for (i = 0; i < oid->n; i++) {
        if (v >> 56) {
            sslsocket__out_str(o, "?"); /* absurd arc: no bignum here */
            return;
        }
        v = (v << 7) | (oid->p[i] & 0x7F);
        if (oid->p[i] & 0x80) {
            continue;
        }
        if (first) {
            uint64_t top = v < 80 ? v / 40 : 2;
            sslsocket__out_dec(o, top);
            v -= top * 40;
            first = 0;
        }
        sslsocket__out_str(o, ".");
        sslsocket__out_dec(o, v);
        v = 0;
    }
}

/* Names for OIDs met in DNs (OpenSSL's short names, as -nameopt RFC2253 prints them) and
 * in signatures (long names, as openssl x509 -text prints them).  Entry: length, OID, name. */
SSLSOCKET__PRIVATE const char *
sslsocket__oid_name(const sslsocket__der *oid)
{
    static const char *const tab[] = {
        "\x03\x55\x04\x03" "CN", "\x03\x55\x04\x04" "SN", "\x03\x55\x04\x05" "serialNumber",
        "\x03\x55\x04\x06" "C", "\x03\x55\x04\x07" "L", "\x03\x55\x04\x08" "ST",
        "\x03\x55\x04\x09" "street", "\x03\x55\x04\x0A" "O", "\x03\x55\x04\x0B" "OU",
        "\x03\x55\x04\x0C" "title", "\x03\x55\x04\x0D" "description",
        "\x03\x55\x04\x0F" "businessCategory", "\x03\x55\x04\x11" "postalCode",
        "\x03\x55\x04\x29" "name", "\x03\x55\x04\x2A" "GN", "\x03\x55\x04\x2B" "initials",
        "\x03\x55\x04\x2C" "generationQualifier", "\x03\x55\x04\x2E" "dnQualifier",
        "\x03\x55\x04\x41" "pseudonym", "\x03\x55\x04\x61" "organizationIdentifier",
        "\x09\x2A\x86\x48\x86\xF7\x0D\x01\x09\x01" "emailAddress",
        "\x0A\x09\x92\x26\x89\x93\xF2\x2C\x64\x01\x19" "DC",
        "\x0A\x09\x92\x26\x89\x93\xF2\x2C\x64\x01\x01" "UID",
        "\x0B\x2B\x06\x01\x04\x01\x82\x37\x3C\x02\x01\x01" "jurisdictionL",
        "\x0B\x2B\x06\x01\x04\x01\x82\x37\x3C\x02\x01\x02" "jurisdictionST",
        "\x0B\x2B\x06\x01\x04\x01\x82\x37\x3C\x02\x01\x03" "jurisdictionC",
        "\x09\x2A\x86\x48\x86\xF7\x0D\x01\x01\x02" "md2WithRSAEncryption",
        "\x09\x2A\x86\x48\x86\xF7\x0D\x01\x01\x04" "md5WithRSAEncryption",
        "\x09\x2A\x86\x48\x86\xF7\x0D\x01\x01\x05" "sha1WithRSAEncryption",
        "\x09\x2A\x86\x48\x86\xF7\x0D\x01\x01\x0A" "rsassaPss",
        "\x09\x2A\x86\x48\x86\xF7\x0D\x01\x01\x0B" "sha256WithRSAEncryption",
        "\x09\x2A\x86\x48\x86\xF7\x0D\x01\x01\x0C" "sha384WithRSAEncryption",
        "\x09\x2A\x86\x48\x86\xF7\x0D\x01\x01\x0D" "sha512WithRSAEncryption",
        "\x09\x2A\x86\x48\x86\xF7\x0D\x01\x01\x0E" "sha224WithRSAEncryption",
        "\x07\x2A\x86\x48\xCE\x3D\x04\x01" "ecdsa-with-SHA1",
        "\x08\x2A\x86\x48\xCE\x3D\x04\x03\x01" "ecdsa-with-SHA224",
        "\x08\x2A\x86\x48\xCE\x3D\x04\x03\x02" "ecdsa-with-SHA256",
        "\x08\x2A\x86\x48\xCE\x3D\x04\x03\x03" "ecdsa-with-SHA384",
        "\x08\x2A\x86\x48\xCE\x3D\x04\x03\x04" "ecdsa-with-SHA512",
        "\x07\x2A\x86\x48\xCE\x38\x04\x03" "dsaWithSHA1",
        "\x03\x2B\x65\x70" "ED25519", "\x03\x2B\x65\x71" "ED448",
    };
    size_t i, n;

    for (i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        n = (unsigned char)tab[i][0];
        if (sslsocket__der_eq(oid, (const unsigned char *)tab[i] + 1, n)) {
            return tab[i] + 1 + n;
        }
    }
    return NULL;
}

/* One byte of a value.  plain: raw text for common_name, controls become '?'.  Otherwise
 * OpenSSL's RFC 2253 escaping: controls and bytes over 0x7E as \XX, ",+\"\\<>;" with a
 * backslash, and a leading '#' or space / trailing space (OpenSSL checks "last" first). */
SSLSOCKET__PRIVATE void
sslsocket__out_vbyte(sslsocket__out *o, unsigned b, int first, int last, int plain)
{
    char e[2];

    e[0] = '\\';
    e[1] = (char)b;
    if (plain) {
        sslsocket__out_put(o, b < 0x20 || b == 0x7F ? "?" : e + 1, 1);
    } else if (b < 0x20 || b > 0x7E) {
        sslsocket__out_hex(o, "\\", b);
    } else if (memchr(",+\"\\<>;", (int)b, 7) != NULL /* NOLINT: the 7 specials, not NUL */
               || (b == ' ' && (first || last)) || (b == '#' && first && !last)) {
        sslsocket__out_put(o, e, 2);
    } else {
        sslsocket__out_put(o, e + 1, 1);
    }
}

/* An attribute value: string types converted to UTF-8 (UTF8String bytes are taken as is, as
 * OpenSSL does), anything else as "#" and the hex of its whole DER. */
SSLSOCKET__PRIVATE void
sslsocket__out_value(sslsocket__out *o, int tag, const sslsocket__der *tlv,
                     const sslsocket__der *v, int plain)
{
    unsigned char u[4];
    size_t w, i, k, n;
    uint32_t c;

    switch (tag) {
    case 0x0C: case 0x12: case 0x13: case 0x14: case 0x16: case 0x17: case 0x18: case 0x1A:
        w = 1;
        break;
    case 0x1E:
        w = 2;
        break;
    case 0x1C:
        w = 4;
        break;
    default:
        w = 0;
    }
    if (w == 0 || v->n % w != 0) {
        sslsocket__out_str(o, "#");
        for (i = 0; i < tlv->n; i++) {
            sslsocket__out_hex(o, "", tlv->p[i]);
        }
        return;
    }
    for (i = 0; i < v->n; i += w) {
        for (c = 0, k = 0; k < w; k++) {
            c = (c << 8) | v->p[i + k];
        }
        if (tag == 0x0C || c < 0x80) {
            n = 1;
            u[0] = (unsigned char)c;
        } else {
            if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
                c = 0xFFFD;
            }
            n = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
            for (k = n - 1; k > 0; k--, c >>= 6) {
                u[k] = (unsigned char)(0x80 | (c & 0x3F));
            }
            u[0] = (unsigned char)((n == 2 ? 0xC0 : n == 3 ? 0xE0 : 0xF0) | c);
        }
        for (k = 0; k < n; k++) {
            sslsocket__out_vbyte(o, u[k], i == 0, i + w == v->n, plain);
        }
    }
}

/* Format a Name as OpenSSL's -nameopt RFC2253: attributes in reverse order, "," between RDNs
 * and "+" inside one.  The last CN also goes to cn (plain text) when cn is not NULL. */
SSLSOCKET__PRIVATE int
sslsocket__name_format(sslsocket__der name, char *buf, size_t size, char *cn, size_t cn_size)
{
    struct {
        sslsocket__der atv;
        int set;
    } a[SSLSOCKET__MAX_DN_ATTRS];
    sslsocket__der rdn, oid, tlv, val;
    sslsocket__out o, oc;
    const char *nm;
    int n = 0, set = 0, i, tag;

    while (name.n > 0) {
        if (sslsocket__der_get(&name, 0x31, &rdn) < 0) {
            return -1;
        }
        for (; rdn.n > 0; n++) {
            if (n == SSLSOCKET__MAX_DN_ATTRS || sslsocket__der_get(&rdn, 0x30, &a[n].atv) < 0) {
                return -1;
            }
            a[n].set = set;
        }
        set++;
    }
    sslsocket__out_init(&o, buf, size);
    for (i = n - 1; i >= 0; i--) {
        if (sslsocket__der_get(&a[i].atv, 0x06, &oid) < 0 || oid.n == 0) {
            return -1;
        }
        tlv = a[i].atv;
        if (sslsocket__der_read(&a[i].atv, &tag, &val) < 0 || a[i].atv.n != 0) {
            return -1;
        }
        if (i != n - 1) {
            sslsocket__out_str(&o, a[i].set == a[i + 1].set ? "+" : ",");
        }
        nm = sslsocket__oid_name(&oid);
        if (nm != NULL) {
            sslsocket__out_str(&o, nm);
        } else {
            sslsocket__out_oid(&o, &oid);
            tag = -1; /* OpenSSL dumps values of unknown attributes as hex */
        }
        sslsocket__out_str(&o, "=");
        sslsocket__out_value(&o, tag, &tlv, &val, 0);
        if (cn != NULL && nm != NULL && strcmp(nm, "CN") == 0) {
            sslsocket__out_init(&oc, cn, cn_size);
            sslsocket__out_value(&oc, tag, &tlv, &val, 1);
            cn = NULL; /* the first met backwards is the last CN */
        }
    }
    return 0;
}

/* The serial as openssl x509 -serial prints it: uppercase hex of the magnitude without
 * leading zero octets, "-" first when negative (broken CAs issue those). */
SSLSOCKET__PRIVATE void
sslsocket__out_serial(sslsocket__out *o, const sslsocket__der *s)
{
    size_t i, last = 0, start = 0;
    int neg = s->p[0] >= 0x80;
    unsigned b;

    for (i = 0; i < s->n; i++) {
        last = s->p[i] != 0 ? i : last;
    }
    if (neg) {
        sslsocket__out_str(o, "-");
    }
    for (i = 0; i < s->n; i++) {
        /* two's complement without a buffer: the +1 carry stops at the last non-zero octet */
        b = !neg ? s->p[i] : i < last ? (~s->p[i] & 0xFFu) : i == last ? 0x100u - s->p[i] : 0;
        if (b == 0 && start == i && i + 1 < s->n) {
            start++;
            continue;
        }
        sslsocket__out_hex(o, "", b);
    }
}

/* Key type and size from a SubjectPublicKeyInfo content. */
SSLSOCKET__PRIVATE int
sslsocket__spki_key(sslsocket__der spki, int *type, int *bits)
{
    sslsocket__der alg, oid, params, key, seq, mod;
    size_t i;
    unsigned top;
    int ptag;

    if (sslsocket__der_get(&spki, 0x30, &alg) < 0
        || sslsocket__der_algid(alg, &oid, &ptag, &params) < 0
        || sslsocket__der_get(&spki, 0x03, &key) < 0 || spki.n != 0 || key.n == 0) {
        return -1;
    }
    if (sslsocket__der_eq(&oid, SSLSOCKET__OID("\x2A\x86\x48\x86\xF7\x0D\x01\x01\x01"))) {
        /* BIT STRING holding RSAPublicKey ::= SEQUENCE { modulus, publicExponent } */
        key.p++;
        key.n--;
        if (key.p[-1] != 0 || sslsocket__der_get(&key, 0x30, &seq) < 0
            || sslsocket__der_get(&seq, 0x02, &mod) < 0) {
            return -1;
        }
        for (i = 0; i < mod.n && mod.p[i] == 0; i++) {
        }
        if (mod.n - i > 8192) {
            return -1; /* over 65536 bits: not a key anyone uses, and keeps *bits an int */
        }
        *type = BR_KEYTYPE_RSA;
        *bits = 0;
        if (i < mod.n) {
            for (top = mod.p[i]; top != 0; top >>= 1) {
                ++*bits;
            }
            *bits += (int)(mod.n - i - 1) * 8;
        }
    } else if (sslsocket__der_eq(&oid, SSLSOCKET__OID("\x2A\x86\x48\xCE\x3D\x02\x01"))) {
        *type = BR_KEYTYPE_EC;
        *bits = 0;
        if (ptag == 0x06) { /* namedCurve; explicit parameters stay 0 bits */
            oid = params;
            *bits = sslsocket__der_eq(&oid, SSLSOCKET__OID("\x2A\x86\x48\xCE\x3D\x03\x01\x07"))
                ? 256 : sslsocket__der_eq(&oid, SSLSOCKET__OID("\x2B\x81\x04\x00\x22"))
                ? 384 : sslsocket__der_eq(&oid, SSLSOCKET__OID("\x2B\x81\x04\x00\x23")) ? 521 : 0;
        }
    }
    return 0;
}

/* An iPAddress SAN: dotted IPv4, RFC 5952 IPv6 (lowercase, longest zero run as "::"). */
SSLSOCKET__PRIVATE void
sslsocket__out_ip(sslsocket__out *o, const sslsocket__der *v)
{
    static const char hx[] = "0123456789abcdef";
    size_t i, run, best = 8, bestlen = 1, k;
    unsigned g;
    char t[4];

    if (v->n == 4) {
        for (i = 0; i < 4; i++) {
            if (i > 0) {
                sslsocket__out_str(o, ".");
            }
            sslsocket__out_dec(o, v->p[i]);
        }
        return;
    }
    if (v->n != 16) {
        sslsocket__out_str(o, "<invalid>");
        return;
    }
    for (i = 0; i < 8; i += run > 0 ? run : 1) {
        for (run = 0; i + run < 8 && v->p[2 * (i + run)] == 0 && v->p[2 * (i + run) + 1] == 0;
             run++) {
        }
        if (run > bestlen) {
            best = i;
            bestlen = run;
        }
    }
    for (i = 0; i < 8; i++) {
        if (i == best) {
            sslsocket__out_str(o, "::");
            i += bestlen - 1;
            continue;
        }
        if (i > 0 && i != best + bestlen) {
            sslsocket__out_str(o, ":");
        }
        g = (unsigned)v->p[2 * i] << 8 | v->p[2 * i + 1];
        for (k = 4; k > 1 && (g >> (4 * (k - 1))) == 0; k--) {
        }
        for (run = 0; run < k; run++) {
            t[run] = hx[(g >> (4 * (k - 1 - run))) & 15];
        }
        sslsocket__out_put(o, t, k);
    }
}

/* Locate the subjectAltName GeneralNames: NAME_OK, NAME_NO_SAN or NAME_MALFORMED. */
SSLSOCKET__PRIVATE int
sslsocket__cert_san(const sslsocket__cert *c, sslsocket__der *names)
{
    sslsocket__der v;
    int r = sslsocket__cert_ext(c, SSLSOCKET__OID("\x55\x1D\x11"), &v);

    if (r < 0 || (r == 1 && (sslsocket__der_get(&v, 0x30, names) < 0 || v.n != 0))) {
        return SSLSOCKET__NAME_MALFORMED;
    }
    return r == 1 ? SSLSOCKET__NAME_OK : SSLSOCKET__NAME_NO_SAN;
}

/* The SAN list as "DNS:x, IP:y, email:z, URI:w"; controls, '\\' and non-ASCII shown as \XX. */
SSLSOCKET__PRIVATE int
sslsocket__san_format(sslsocket__der names, sslsocket__out *o)
{
    sslsocket__der v;
    const char *pre;
    int tag, first = 1;
    size_t i;

    while (names.n > 0) {
        if (sslsocket__der_read(&names, &tag, &v) < 0) {
            return -1;
        }
        pre = tag == 0x82 ? "DNS:" : tag == 0x87 ? "IP:" : tag == 0x81 ? "email:"
            : tag == 0x86 ? "URI:" : NULL;
        if (pre == NULL) {
            continue;
        }
        if (!first) {
            sslsocket__out_str(o, ", ");
        }
        sslsocket__out_str(o, pre);
        first = 0;
        if (tag == 0x87) {
            sslsocket__out_ip(o, &v);
            continue;
        }
        for (i = 0; i < v.n; i++) {
            if (v.p[i] >= 0x20 && v.p[i] < 0x7F && v.p[i] != '\\') {
                sslsocket__out_put(o, (const char *)v.p + i, 1);
            } else {
                sslsocket__out_hex(o, "\\", v.p[i]);
            }
        }
    }
    return 0;
}

SSLSOCKET__PRIVATE int
sslsocket__cert_fill(const unsigned char *der, size_t len, sslsocket_cert_info *info)
{
    sslsocket__cert c;
    sslsocket__der v, oid, seq, b;
    sslsocket__out o;
    br_sha256_context h;
    const char *nm;
    int r;

    if (sslsocket__cert_split(der, len, &c) < 0) {
        return -1;
    }
    info->version = c.version;
    sslsocket__out_init(&o, info->serial, sizeof info->serial);
    sslsocket__out_serial(&o, &c.serial);
    v = c.sigalg;
    if (sslsocket__der_get(&v, 0x06, &oid) < 0) {
        return -1;
    }
    sslsocket__out_init(&o, info->sig_alg, sizeof info->sig_alg);
    nm = sslsocket__oid_name(&oid);
    if (nm != NULL) {
        sslsocket__out_str(&o, nm);
    } else {
        sslsocket__out_oid(&o, &oid);
    }
    if (sslsocket__name_format(c.issuer, info->issuer, sizeof info->issuer, NULL, 0) < 0
        || sslsocket__name_format(c.subject, info->subject, sizeof info->subject,
                                  info->common_name, sizeof info->common_name) < 0) {
        return -1;
    }
    v = c.validity;
    if (sslsocket__der_time(&v, &info->not_before) < 0
        || sslsocket__der_time(&v, &info->not_after) < 0 || v.n != 0
        || sslsocket__spki_key(c.spki, &info->key_type, &info->key_bits) < 0) {
        return -1;
    }
    /* basicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLen INTEGER OPTIONAL } */
    r = sslsocket__cert_ext(&c, SSLSOCKET__OID("\x55\x1D\x13"), &v);
    if (r < 0 || (r == 1 && (sslsocket__der_get(&v, 0x30, &seq) < 0 || v.n != 0))) {
        return -1;
    }
    if (r == 1 && sslsocket__der_peek(&seq, 0x01)) {
        if (sslsocket__der_get(&seq, 0x01, &b) < 0) {
            return -1;
        }
        info->is_ca = b.n == 1 && b.p[0] != 0;
    }
    sslsocket__out_init(&o, info->subject_alt_names, sizeof info->subject_alt_names);
    r = sslsocket__cert_san(&c, &v);
    if (r == SSLSOCKET__NAME_MALFORMED || (r == SSLSOCKET__NAME_OK
        && sslsocket__san_format(v, &o) < 0)) {
        return -1;
    }
    br_sha256_init(&h);
    br_sha256_update(&h, der, len);
    br_sha256_out(&h, info->sha256);
    br_sha256_init(&h);
    br_sha256_update(&h, c.spki_tlv.p, c.spki_tlv.n);
    br_sha256_out(&h, info->spki_sha256);
    return 0;
}

/* Parse the summary of one certificate: 0, or -1 (info zeroed) when the DER is malformed. */
SSLSOCKET__PRIVATE int
sslsocket__cert_parse(const unsigned char *der, size_t len, sslsocket_cert_info *info)
{
    memset(info, 0, sizeof *info);
    if (sslsocket__cert_fill(der, len, info) < 0) {
        memset(info, 0, sizeof *info);
        return -1;
    }
    return 0;
}

/* Locate the SubjectPublicKeyInfo TLV inside a certificate (for pinning). */
SSLSOCKET__PRIVATE int
sslsocket__der_spki(const unsigned char *der, size_t len, const unsigned char **spki,
                    size_t *spki_len)
{
    sslsocket__cert c;

    if (sslsocket__cert_split(der, len, &c) < 0) {
        return -1;
    }
    *spki = c.spki_tlv.p;
    *spki_len = c.spki_tlv.n;
    return 0;
}

/* ---- host names ---- */

SSLSOCKET__PRIVATE int
sslsocket__host_lc(int ch)
{
    return ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch;
}

/* Number of labels of a DNS name (letters, digits, '-', '_', and '*' when star), or 0 when
 * it is not one: empty labels, labels over 63, names over 253 bytes, NUL or other bytes. */
SSLSOCKET__PRIVATE int
sslsocket__host_labels(const unsigned char *s, size_t n, int star)
{
    size_t i, lab = 0;
    int labels = 1;
    unsigned ch;

    if (n == 0 || n > 253) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        ch = s[i] | 0x20; /* ASCII lower case; digits, '-', '.' are unaffected */
        if (s[i] == '.') {
            if (lab == 0) {
                return 0;
            }
            labels++;
            lab = 0;
        } else if ((ch >= 'a' && ch <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'
                   || s[i] == '_' || (star && s[i] == '*')) {
            if (++lab > 63) {
                return 0;
            }
        } else {
            return 0;
        }
    }
    return lab > 0 ? labels : 0;
}

SSLSOCKET__PRIVATE int
sslsocket__host_eq(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
    size_t i;

    if (an != bn) {
        return 0;
    }
    for (i = 0; i < an; i++) {
        if (sslsocket__host_lc(a[i]) != sslsocket__host_lc(b[i])) {
            return 0;
        }
    }
    return 1;
}

/* Case-insensitive glob of one label ('*' = any run): only to tell "refused wildcard" apart
 * from a plain mismatch.  Iterative, O(p * s) at worst with both under 64 bytes. */
SSLSOCKET__PRIVATE int
sslsocket__host_glob(const unsigned char *p, size_t pn, const unsigned char *s, size_t sn)
{
    size_t i = 0, j = 0, si = 0, sj = 0;
    int star = 0;

    while (j < sn) {
        if (i < pn && p[i] == '*') {
            star = 1;
            si = i++;
            sj = j;
        } else if (i < pn && sslsocket__host_lc(p[i]) == sslsocket__host_lc(s[j])) {
            i++;
            j++;
        } else if (star) {
            i = si + 1;
            j = ++sj;
        } else {
            return 0;
        }
    }
    while (i < pn && p[i] == '*') {
        i++;
    }
    return i == pn;
}

/* Match one dNSName against a valid host (no trailing dot): 1 match, 2 a refused wildcard
 * that a lax client would have accepted, 0 no match. */
SSLSOCKET__PRIVATE int
sslsocket__host_match(const unsigned char *p, size_t pn, const unsigned char *h, size_t hn)
{
    const unsigned char *pd, *hd;
    size_t pl, hl;

    if (pn > 1 && p[pn - 1] == '.') {
        pn--;
    }
    if (memchr(p, '*', pn) == NULL) {
        return sslsocket__host_labels(p, pn, 0) > 0 && sslsocket__host_eq(p, pn, h, hn);
    }
    pd = (const unsigned char *)memchr(p, '.', pn);
    hd = (const unsigned char *)memchr(h, '.', hn);
    if (sslsocket__host_labels(p, pn, 1) == 0 || pd == NULL || hd == NULL) {
        return 0;
    }
    pl = (size_t)(pd - p);
    hl = (size_t)(hd - h);
    /* the wildcard may only stand in the left-most label; the rest must match exactly */
    if (memchr(pd, '*', pn - pl) != NULL || !sslsocket__host_eq(pd, pn - pl, hd, hn - hl)) {
        return 0;
    }
    /* "*" as the whole label, and at least two labels under it ("*.com" refused) */
    if (pl == 1 && sslsocket__host_labels(pd + 1, pn - pl - 1, 0) >= 2) {
        return 1;
    }
    return sslsocket__host_glob(p, pl, h, hl) ? 2 : 0;
}

/* Check a DNS host name against the dNSName SANs (never the CN).  Case-insensitive, one
 * trailing dot ignored, A-labels compared as ASCII; a host that is not an LDH name, or is
 * an IP literal, matches nothing. */
SSLSOCKET__PRIVATE int
sslsocket__cert_check_host(const unsigned char *der, size_t len, const char *host)
{
    sslsocket__cert c;
    sslsocket__der names, v;
    size_t hn = host != NULL ? strlen(host) : 0, i;
    int r, tag, best = SSLSOCKET__NAME_MISMATCH;
    const unsigned char *h = (const unsigned char *)host;

    if (sslsocket__cert_split(der, len, &c) < 0) {
        return SSLSOCKET__NAME_MALFORMED;
    }
    r = sslsocket__cert_san(&c, &names);
    if (r != SSLSOCKET__NAME_OK) {
        return r;
    }
    if (hn > 1 && h[hn - 1] == '.') {
        hn--;
    }
    if (hn > 0 && sslsocket__host_labels(h, hn, 0) == 0) {
        hn = 0;
    }
    /* an all-digit last label is no host name but an IPv4 literal: that is check_ip's job */
    for (i = hn; i > 0 && h[i - 1] >= '0' && h[i - 1] <= '9'; i--) {
    }
    if (i == 0 || h[i - 1] == '.') {
        hn = 0;
    }
    while (names.n > 0) {
        if (sslsocket__der_read(&names, &tag, &v) < 0) {
            return SSLSOCKET__NAME_MALFORMED; /* judge the whole list, not a prefix */
        }
        if (tag != 0x82 || hn == 0 || best == SSLSOCKET__NAME_OK) {
            continue;
        }
        r = sslsocket__host_match(v.p, v.n, h, hn);
        best = r == 1 ? SSLSOCKET__NAME_OK : r == 2 ? SSLSOCKET__NAME_WILDCARD_REFUSED : best;
    }
    return best;
}

/* Check an address against the iPAddress SANs: 4 bytes for IPv4, 16 for IPv6, compared
 * exactly (an IPv4-mapped IPv6 SAN does not cover the IPv4 address, nor the reverse). */
SSLSOCKET__PRIVATE int
sslsocket__cert_check_ip(const unsigned char *der, size_t len, const sslsocket_address *ip)
{
    sslsocket__cert c;
    sslsocket__der names, v;
    size_t want = ip == NULL ? 0 : ip->family == 4 ? 4 : ip->family == 6 ? 16 : 0;
    int r, tag, found = 0;

    if (sslsocket__cert_split(der, len, &c) < 0) {
        return SSLSOCKET__NAME_MALFORMED;
    }
    r = sslsocket__cert_san(&c, &names);
    if (r != SSLSOCKET__NAME_OK) {
        return r;
    }
    while (names.n > 0) {
        if (sslsocket__der_read(&names, &tag, &v) < 0) {
            return SSLSOCKET__NAME_MALFORMED;
        }
        if (tag == 0x87 && want > 0 && sslsocket__der_eq(&v, ip->bytes, want)) {
            found = 1;
        }
    }
    return found ? SSLSOCKET__NAME_OK : SSLSOCKET__NAME_IP_MISMATCH;
}

/* Check extendedKeyUsage, critical or not: absent => OK, else it must list serverAuth
 * (server != 0) or clientAuth; anyExtendedKeyUsage alone is not enough (as webpki). */
SSLSOCKET__PRIVATE int
sslsocket__cert_check_eku(const unsigned char *der, size_t len, int server)
{
    sslsocket__cert c;
    sslsocket__der v, list, oid;
    int r, ok = 0, any = 0;
    /* id-kp-serverAuth / id-kp-clientAuth: 1.3.6.1.5.5.7.3.1 / .2 */
    const unsigned char kp[8] = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03,
                                 (unsigned char)(server ? 1 : 2)};

    if (sslsocket__cert_split(der, len, &c) < 0) {
        return SSLSOCKET__NAME_MALFORMED;
    }
    r = sslsocket__cert_ext(&c, SSLSOCKET__OID("\x55\x1D\x25"), &v);
    if (r <= 0) {
        return r < 0 ? SSLSOCKET__NAME_MALFORMED : SSLSOCKET__NAME_OK;
    }
    if (sslsocket__der_get(&v, 0x30, &list) < 0 || v.n != 0) {
        return SSLSOCKET__NAME_MALFORMED;
    }
    while (list.n > 0) {
        if (sslsocket__der_get(&list, 0x06, &oid) < 0) {
            return SSLSOCKET__NAME_MALFORMED;
        }
        if (sslsocket__der_eq(&oid, kp, sizeof kp))
            ok = 1;
        /* anyExtendedKeyUsage has no place in a TLS certificate (CA/B BR
           7.1.2.7.10): refused alone and next to serverAuth */
        if (sslsocket__der_eq(&oid, SSLSOCKET__OID("\x55\x1D\x25\x00")))
            any = 1;
    }
    return ok && !any ? SSLSOCKET__NAME_OK : SSLSOCKET__NAME_EKU_MISMATCH;
}

SSLSOCKET__PRIVATE const char *
sslsocket__name_reason(int code)
{
    switch (code) {
    case SSLSOCKET__NAME_OK:
        return "certificate name ok";
    case SSLSOCKET__NAME_MISMATCH:
        return "host name mismatch";
    case SSLSOCKET__NAME_WILDCARD_REFUSED:
        return "wildcard not allowed here";
    case SSLSOCKET__NAME_IP_MISMATCH:
        return "IP address mismatch";
    case SSLSOCKET__NAME_NO_SAN:
        return "certificate has no subjectAltName (CN-only names are refused)";
    case SSLSOCKET__NAME_EKU_MISMATCH:
        return "extended key usage forbids this use";
    case SSLSOCKET__NAME_MALFORMED:
        return "malformed certificate";
    default:
        return "unknown certificate name error";
    }
}


/* ==========================================================================
   >>errors
   The sticky error of a socket and the event queue.
   ========================================================================== */

SSLSOCKET__PRIVATE void
sslsocket__event(sslsocket *s, unsigned type, int value)
{
    if (s->n_events < SSLSOCKET_MAX_EVENTS) {
        s->events[s->n_events].type = (unsigned short)type;
        s->events[s->n_events].value = value;
        s->n_events++;
    } else {
        s->lost_events |= type; /* the bit is still reported by poll */
    }
}

SSLSOCKET__PRIVATE void
sslsocket__set_state(sslsocket *s, int state)
{
    if (s->state != state) {
        s->state = state;
        sslsocket__event(s, SSLSOCKET_EV_STATE_CHANGED, state);
    }
}

SSLSOCKET__PRIVATE void
sslsocket__set_mode(sslsocket *s, int mode)
{
    if (s->mode != mode) {
        s->mode = mode;
        sslsocket__event(s, SSLSOCKET_EV_MODE_CHANGED, mode);
    }
}

/* Record an error code and a formatted message (no event). */
SSLSOCKET__PRIVATE void
sslsocket__seterr(sslsocket *s, int code, const char *fmt, ...)
{
    va_list ap;
    s->error = code;
    va_start(ap, fmt);
    vsnprintf(s->error_string, sizeof s->error_string, fmt, ap);
    va_end(ap);
}

/* A call that has no effect in this state (start_*_encryption when not
   connected or already encrypted, as Qt's): it returns -1 and says why in
   sslsocket_last_refusal(), and the error, its string and the event queue
   stay as they were. */
SSLSOCKET__PRIVATE int
sslsocket__refuse(sslsocket *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->refusal, sizeof s->refusal, fmt, ap);
    va_end(ap);
    return -1;
}

/* A caller mistake: error code + message, no event, nothing else changes. */
#define sslsocket__misuse(s, ...) \
    (sslsocket__seterr((s), SSLSOCKET_ERR_OPERATION, __VA_ARGS__), -1)

SSLSOCKET__PRIVATE int
sslsocket__config_misuse(sslsocket_config *cfg, int code, const char *fmt, ...)
{
    va_list ap;
    cfg->error = code;
    va_start(ap, fmt);
    vsnprintf(cfg->error_string, sizeof cfg->error_string, fmt, ap);
    va_end(ap);
    return -1;
}

/* ==========================================================================
   >>configuration
   ========================================================================== */

/* Default suites: ECDHE + AEAD.  BearSSL's ChaCha20 runs at about a tenth
   of its AES-GCM when AES-NI is there, so AES-GCM goes first then. */
SSLSOCKET__PRIVATE void
sslsocket__default_suites(sslsocket_config *cfg)
{
    static const uint16_t aes_first[] = { 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8 };
    static const uint16_t chacha_first[] = { 0xCCA9, 0xCCA8, 0xC02B, 0xC02F, 0xC02C, 0xC030 };
    const uint16_t *src = br_aes_x86ni_cbcenc_get_vtable() ? aes_first : chacha_first;
    memcpy(cfg->suites, src, sizeof aes_first);
    cfg->n_suites = sizeof aes_first / sizeof aes_first[0];
    cfg->suites13[0] = 0x1301;
    cfg->suites13[1] = 0x1302;
    cfg->suites13[2] = 0x1303;
    cfg->n_suites13 = 3;
}

SSLSOCKET__DEF int
sslsocket_config_init(sslsocket_config *cfg, void *storage, size_t size)
{
    if (cfg == NULL)
        return -1;
    memset(cfg, 0, sizeof *cfg);
    sslsocket__arena_init(&cfg->arena, storage, storage ? size : 0);
    cfg->verify_mode = SSLSOCKET_AUTO_VERIFY_PEER;
    cfg->verify_depth = 8;
    cfg->version_min = SSLSOCKET_TLS12;
    cfg->version_max = SSLSOCKET_TLS13;
    sslsocket__default_suites(cfg);
    cfg->lookup_ms = 10000;
    cfg->connect_ms = 30000;
    cfg->handshake_ms = 30000;
    cfg->idle_ms = -1;
    cfg->close_ms = 10000;
    cfg->release_ms = 10000;
    cfg->dns_attempts = 2;
    cfg->error = SSLSOCKET_ERR_UNKNOWN;
    return 0;
}

/* The configuration of a socket, or the built-in default one.  The default
   is filled on first use with constant values, so a race is benign. */
SSLSOCKET__PRIVATE const sslsocket_config *
sslsocket__cfg(const sslsocket *s)
{
    static sslsocket_config def;
    static int def_ready;
    if (s->cfg)
        return s->cfg;
    if (!def_ready) {
        sslsocket_config_init(&def, NULL, 0);
        def_ready = 1;
    }
    return &def;
}

#define SSLSOCKET__CHECK_CFG(cfg, fn)                                          \
    do {                                                                      \
        if ((cfg) == NULL)                                                    \
            return -1;                                                        \
        (cfg)->error = SSLSOCKET_ERR_UNKNOWN;                                 \
        (cfg)->error_string[0] = 0;                                           \
        (cfg)->arena.oom = 0;                                                 \
    } while (0)

/* A loader failed: the storage is full (SOCKET_RESOURCE: a bigger buffer
   and a reload will do) or the input is bad (SSL_INVALID_USERDATA). */
#define SSLSOCKET__LOAD_ERROR(cfg) \
    ((cfg)->arena.oom ? SSLSOCKET_ERR_SOCKET_RESOURCE : SSLSOCKET_ERR_SSL_INVALID_USERDATA)

SSLSOCKET__DEF int
sslsocket_config_add_ca_mem(sslsocket_config *cfg, const void *data, size_t len)
{
    size_t before;
    SSLSOCKET__CHECK_CFG(cfg, "add_ca_mem");
    before = cfg->arena.n_anchors;
    if (data == NULL || len == 0)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
                                         "sslsocket_config_add_ca_mem: no data");
    if (sslsocket__load_anchors_mem(&cfg->arena, data, len, "memory", cfg->error_string,
                                    sizeof cfg->error_string) < 0) {
        cfg->error = SSLSOCKET__LOAD_ERROR(cfg);
        return -1;
    }
    return (int)(cfg->arena.n_anchors - before); /* added, as the other loaders */
}

SSLSOCKET__PRIVATE int
sslsocket__config_add_crl(sslsocket_config *cfg, const char *path, const void *data, size_t len,
                          const char *fn)
{
    size_t n = 0;
    SSLSOCKET__CHECK_CFG(cfg, fn);
    if (path == NULL && (data == NULL || len == 0))
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION, "%s: no data", fn);
    if (path != NULL && !*path)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION, "%s: no path", fn);
    if (cfg->n_crls == SSLSOCKET_MAX_CRLS)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
                                        "%s: already %d CRLs (SSLSOCKET_MAX_CRLS)", fn,
                                        SSLSOCKET_MAX_CRLS);
    if (sslsocket__load_crls(&cfg->arena, path, data, len, cfg->crls + cfg->n_crls,
                             SSLSOCKET_MAX_CRLS - cfg->n_crls, &n, cfg->error_string,
                             sizeof cfg->error_string) < 0) {
        cfg->error = SSLSOCKET__LOAD_ERROR(cfg);
        return -1;
    }
    cfg->n_crls += n;
    return (int)n;
}

SSLSOCKET__DEF int
sslsocket_config_add_crl_mem(sslsocket_config *cfg, const void *data, size_t len)
{
    return sslsocket__config_add_crl(cfg, NULL, data, len, "sslsocket_config_add_crl_mem");
}

SSLSOCKET__DEF int
sslsocket_config_add_crl_file(sslsocket_config *cfg, const char *path)
{
    return sslsocket__config_add_crl(cfg, path, NULL, 0, "sslsocket_config_add_crl_file");
}

/* add_ca_file and add_ca_dir: check the path, run the loader, set the code. */
SSLSOCKET__PRIVATE int
sslsocket__config_add_ca_path(sslsocket_config *cfg, const char *path, const char *fn,
                              int (*load)(sslsocket__arena *, const char *, char *, size_t))
{
    int n;
    SSLSOCKET__CHECK_CFG(cfg, fn);
    if (path == NULL || !*path)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION, "%s: no path", fn);
    n = load(&cfg->arena, path, cfg->error_string, sizeof cfg->error_string);
    if (n < 0)
        cfg->error = SSLSOCKET__LOAD_ERROR(cfg);
    return n;
}

SSLSOCKET__DEF int
sslsocket_config_add_ca_file(sslsocket_config *cfg, const char *path)
{
    return sslsocket__config_add_ca_path(cfg, path, "sslsocket_config_add_ca_file",
                                         sslsocket__load_anchors_file);
}

SSLSOCKET__DEF int
sslsocket_config_add_ca_dir(sslsocket_config *cfg, const char *path)
{
    return sslsocket__config_add_ca_path(cfg, path, "sslsocket_config_add_ca_dir",
                                         sslsocket__load_anchors_dir);
}

SSLSOCKET__DEF int
sslsocket_config_use_system_ca(sslsocket_config *cfg)
{
    char used[256];
    int n;
    SSLSOCKET__CHECK_CFG(cfg, "use_system_ca");
    n = sslsocket__load_system_anchors(&cfg->arena, cfg->error_string,
                                       sizeof cfg->error_string, used, sizeof used);
    if (n < 0)
        cfg->error = SSLSOCKET__LOAD_ERROR(cfg);
    return n;
}

SSLSOCKET__DEF size_t
sslsocket_config_ca_count(const sslsocket_config *cfg)
{
    return cfg ? cfg->arena.n_anchors : 0;
}

/* Load one chain + key as identity number n_ids; the key must match the
   leaf.  `files` selects paths instead of memory. */
SSLSOCKET__PRIVATE int
sslsocket__config_identity(sslsocket_config *cfg, int files, const void *chain, size_t chain_len,
                           const void *key, size_t key_len, const char *fn)
{
    sslsocket__identity *id;
    int r;
    if (chain == NULL || key == NULL || (!files && (chain_len == 0 || key_len == 0))
        || (files && (!*(const char *)chain || !*(const char *)key)))
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
                                        "%s: certificate and key are required", fn);
    if (cfg->n_ids == SSLSOCKET_MAX_IDENTITIES)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
            "%s: too many certificates (max %d)", fn, SSLSOCKET_MAX_IDENTITIES);
    id = &cfg->ids[cfg->n_ids];
    memset(id, 0, sizeof *id);
    if (files)
        r = sslsocket__load_chain_file(&cfg->arena, (const char *)chain, id->chain,
                                       SSLSOCKET_MAX_CHAIN, &id->n_chain, cfg->error_string,
                                       sizeof cfg->error_string) < 0
            || sslsocket__load_key_file(&cfg->arena, (const char *)key, &id->key,
                                        cfg->error_string, sizeof cfg->error_string) < 0;
    else
        r = sslsocket__load_chain_mem(&cfg->arena, chain, chain_len, "certificate", id->chain,
                                      SSLSOCKET_MAX_CHAIN, &id->n_chain, cfg->error_string,
                                      sizeof cfg->error_string) < 0
            || sslsocket__load_key_mem(&cfg->arena, key, key_len, "private key", &id->key,
                                       cfg->error_string, sizeof cfg->error_string) < 0;
    if (!r) {
        int m = sslsocket__key_matches_cert(&id->key, &id->chain[0], cfg->error_string,
                                            sizeof cfg->error_string);
        if (m == 1) {
            cfg->n_ids++;
            return 0;
        }
        if (m == 0)
            sslsocket__fmt(cfg->error_string, sizeof cfg->error_string,
                           "private key does not match the certificate");
    }
    memset(id, 0, sizeof *id);
    cfg->error = SSLSOCKET__LOAD_ERROR(cfg);
    return -1;
}

SSLSOCKET__DEF int
sslsocket_config_set_certificate_mem(sslsocket_config *cfg, const void *chain,
                                     size_t chain_len, const void *key, size_t key_len)
{
    SSLSOCKET__CHECK_CFG(cfg, "set_certificate_mem");
    cfg->n_ids = 0;
    return sslsocket__config_identity(cfg, 0, chain, chain_len, key, key_len,
                                      "sslsocket_config_set_certificate_mem");
}

SSLSOCKET__DEF int
sslsocket_config_set_certificate_file(sslsocket_config *cfg, const char *chain_path,
                                      const char *key_path)
{
    SSLSOCKET__CHECK_CFG(cfg, "set_certificate_file");
    cfg->n_ids = 0;
    return sslsocket__config_identity(cfg, 1, chain_path, 0, key_path, 0,
                                      "sslsocket_config_set_certificate_file");
}

SSLSOCKET__DEF int
sslsocket_config_add_certificate_mem(sslsocket_config *cfg, const void *chain,
                                     size_t chain_len, const void *key, size_t key_len)
{
    SSLSOCKET__CHECK_CFG(cfg, "add_certificate_mem");
    return sslsocket__config_identity(cfg, 0, chain, chain_len, key, key_len,
                                      "sslsocket_config_add_certificate_mem");
}

SSLSOCKET__DEF int
sslsocket_config_add_certificate_file(sslsocket_config *cfg, const char *chain_path,
                                      const char *key_path)
{
    SSLSOCKET__CHECK_CFG(cfg, "add_certificate_file");
    return sslsocket__config_identity(cfg, 1, chain_path, 0, key_path, 0,
                                      "sslsocket_config_add_certificate_file");
}

SSLSOCKET__DEF int
sslsocket_config_set_session_cache(sslsocket_config *cfg, void *mem, size_t size)
{
    uintptr_t a = (uintptr_t)mem, al = sizeof(unsigned) - 1;
    size_t skip = (size_t)(((a + al) & ~al) - a), n;
    SSLSOCKET__CHECK_CFG(cfg, "set_session_cache");
    if (cfg->cache) /* the master secrets of the sessions it dropped */
        sslsocket__wipe(cfg->cache, cfg->cache_sets * SSLSOCKET__CACHE_WAYS
                                        * sizeof cfg->cache[0]);
    cfg->cache = NULL;
    cfg->cache_sets = 0;
    if (mem == NULL)
        return 0;
    n = size > skip ? (size - skip) / sizeof cfg->cache[0] : 0;
    if (n < SSLSOCKET__CACHE_WAYS)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
            "sslsocket_config_set_session_cache: %zu bytes is too small (>= %zu)", size,
            (size_t)(SSLSOCKET__CACHE_WAYS * sizeof cfg->cache[0] + al));
    cfg->cache = (sslsocket__sentry *)(void *)((unsigned char *)mem + skip);
    cfg->cache_sets = n / SSLSOCKET__CACHE_WAYS;
    memset(cfg->cache, 0, cfg->cache_sets * SSLSOCKET__CACHE_WAYS * sizeof cfg->cache[0]);
    return 0;
}

SSLSOCKET__DEF void
sslsocket_config_set_renegotiation(sslsocket_config *cfg, int allow)
{
    if (cfg)
        cfg->allow_renegotiation = allow != 0;
}

SSLSOCKET__DEF void
sslsocket_config_set_client_sessions(sslsocket_config *cfg, int on)
{
    if (cfg == NULL)
        return;
    cfg->client_sessions_off = !on;
    if (!on)
        sslsocket__wipe(cfg->csessions, sizeof cfg->csessions);
}

SSLSOCKET__DEF void
sslsocket_config_wipe(sslsocket_config *cfg)
{
    if (cfg == NULL)
        return;
    sslsocket_config_set_session_cache(cfg, NULL, 0);
    if (cfg->arena.base)
        sslsocket__wipe(cfg->arena.base, cfg->arena.size);
    sslsocket__wipe(cfg, sizeof *cfg);
    sslsocket_config_init(cfg, NULL, 0);
}

SSLSOCKET__DEF int
sslsocket_config_set_peer_verify_mode(sslsocket_config *cfg, int mode)
{
    SSLSOCKET__CHECK_CFG(cfg, "set_peer_verify_mode");
    if (mode < SSLSOCKET_VERIFY_NONE || mode > SSLSOCKET_AUTO_VERIFY_PEER)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
            "sslsocket_config_set_peer_verify_mode: invalid mode %d (0..3)", mode);
    cfg->verify_mode = mode;
    return 0;
}

SSLSOCKET__DEF int
sslsocket_config_set_peer_verify_depth(sslsocket_config *cfg, int depth)
{
    SSLSOCKET__CHECK_CFG(cfg, "set_peer_verify_depth");
    if (depth < 1 || depth > 16)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
            "sslsocket_config_set_peer_verify_depth: depth %d out of range (1..16)", depth);
    cfg->verify_depth = depth;
    return 0;
}

SSLSOCKET__DEF int
sslsocket_config_set_versions(sslsocket_config *cfg, unsigned min, unsigned max)
{
    SSLSOCKET__CHECK_CFG(cfg, "set_versions");
    if (min < SSLSOCKET_TLS10 || max > SSLSOCKET_TLS13 || min > max)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
            "sslsocket_config_set_versions: invalid range 0x%04x..0x%04x "
            "(TLS 1.0 = 0x0301 .. TLS 1.3 = 0x0304; SSL 3 is not supported)", min, max);
    cfg->version_min = min;
    cfg->version_max = max;
    cfg->server_tls13 = max == SSLSOCKET_TLS13;
    return 0;
}

SSLSOCKET__DEF int
sslsocket_config_set_ciphers(sslsocket_config *cfg, const char *list)
{
    uint16_t ids[32], ids13[3];
    size_t n = 0, n13 = 0;
    const char *p = list;
    SSLSOCKET__CHECK_CFG(cfg, "set_ciphers");
    if (list == NULL || !*list || strcmp(list, "DEFAULT") == 0) {
        sslsocket__default_suites(cfg);
        return 0;
    }
    while (*p) {
        size_t len = strcspn(p, ":, "), i;
        int found = 0;
        if (len > 0) {
            for (i = 0; i < SSLSOCKET__N_SUITES; i++) {
                const char *name = sslsocket__suites[i].name;
                /* accept the IANA name with or without the "TLS_" prefix */
                if ((strlen(name) == len && strncmp(name, p, len) == 0)
                    || (strlen(name) == len + 4 && strncmp(name + 4, p, len) == 0)) {
                    found = 1;
                    break;
                }
            }
            if (!found)
                return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
                    "sslsocket_config_set_ciphers: unknown cipher suite '%.*s'", (int)len, p);
            if ((sslsocket__suites[i].id >> 8) == 0x13) {
                size_t k;
                for (k = 0; k < n13 && ids13[k] != sslsocket__suites[i].id; k++)
                    ;
                if (k == n13)
                    ids13[n13++] = sslsocket__suites[i].id;
            } else {
                if (n == sizeof ids / sizeof ids[0])
                    return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
                        "sslsocket_config_set_ciphers: more than 32 suites");
                ids[n++] = sslsocket__suites[i].id;
            }
        }
        p += len;
        if (*p)
            p++;
    }
    if (n + n13 == 0)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
                                        "sslsocket_config_set_ciphers: empty list");
    memcpy(cfg->suites, ids, n * sizeof ids[0]);
    cfg->n_suites = n;
    memcpy(cfg->suites13, ids13, n13 * sizeof ids13[0]);
    cfg->n_suites13 = n13;
    return 0;
}

SSLSOCKET__DEF int
sslsocket_config_set_alpn(sslsocket_config *cfg, const char *list)
{
    size_t used = 0, n = 0;
    const char *p = list;
    SSLSOCKET__CHECK_CFG(cfg, "set_alpn");
    if (list == NULL) {
        cfg->n_alpn = 0;
        return 0;
    }
    /* check the whole list first: a refused list leaves the old one */
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len > 0) {
            if (len > 255 || n == SSLSOCKET_MAX_ALPN || used + len + 1 > sizeof cfg->alpn_store)
                return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
                    "sslsocket_config_set_alpn: list too long (max %d protocols, %d bytes)",
                    SSLSOCKET_MAX_ALPN, (int)sizeof cfg->alpn_store);
            n++;
            used += len + 1;
        }
        p += len;
        if (*p)
            p++;
    }
    p = list;
    n = used = 0;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len > 0) {
            if (len > 255 || n == SSLSOCKET_MAX_ALPN || used + len + 1 > sizeof cfg->alpn_store)
                return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
                    "sslsocket_config_set_alpn: list too long (max %d protocols, %d bytes)",
                    SSLSOCKET_MAX_ALPN, (int)sizeof cfg->alpn_store);
            memcpy(cfg->alpn_store + used, p, len);
            cfg->alpn_store[used + len] = 0;
            cfg->alpn[n++] = cfg->alpn_store + used;
            used += len + 1;
        }
        p += len;
        if (*p)
            p++;
    }
    cfg->n_alpn = n;
    return 0;
}

/* Decode "sha256/BASE64" or 64 hex digits into 32 bytes. */
SSLSOCKET__PRIVATE int
sslsocket__decode_pin(const char *pin, unsigned char out[32])
{
    size_t i, len = strlen(pin);
    if (strncmp(pin, "sha256/", 7) == 0) {
        static const char b64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        uint32_t acc = 0;
        int bits = 0;
        size_t o = 0;
        for (i = 7; i < len && pin[i] != '='; i++) {
            const char *c = strchr(b64, pin[i]);
            if (c == NULL || pin[i] == 0)
                return -1;
            acc = (acc << 6) | (uint32_t)(c - b64);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                if (o == 32)
                    return -1;
                out[o++] = (unsigned char)(acc >> bits);
            }
        }
        return o == 32 ? 0 : -1;
    }
    if (len != 64)
        return -1;
    for (i = 0; i < 32; i++) {
        unsigned v = 0;
        int k;
        for (k = 0; k < 2; k++) {
            char c = pin[2 * i + (size_t)k];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
            else return -1;
        }
        out[i] = (unsigned char)v;
    }
    return 0;
}

SSLSOCKET__DEF int
sslsocket_config_add_pin(sslsocket_config *cfg, const char *pin)
{
    SSLSOCKET__CHECK_CFG(cfg, "add_pin");
    if (pin == NULL)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
                                        "sslsocket_config_add_pin: no pin");
    if (cfg->n_pins == SSLSOCKET_MAX_PINS)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
            "sslsocket_config_add_pin: too many pins (max %d)", SSLSOCKET_MAX_PINS);
    if (sslsocket__decode_pin(pin, cfg->pins[cfg->n_pins]) < 0)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_SSL_INVALID_USERDATA,
            "sslsocket_config_add_pin: expected \"sha256/<base64>\" or 64 hex digits");
    cfg->n_pins++;
    return 0;
}

SSLSOCKET__DEF int
sslsocket_config_set_timeouts(sslsocket_config *cfg, int lookup_ms, int connect_ms,
                              int handshake_ms, int idle_ms)
{
    SSLSOCKET__CHECK_CFG(cfg, "set_timeouts");
    if (lookup_ms < -1 || connect_ms < -1 || handshake_ms < -1 || idle_ms < -1)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
            "sslsocket_config_set_timeouts: negative timeout (use -1 to disable)");
    if (lookup_ms)
        cfg->lookup_ms = lookup_ms;
    if (connect_ms)
        cfg->connect_ms = connect_ms;
    if (handshake_ms)
        cfg->handshake_ms = handshake_ms;
    if (idle_ms)
        cfg->idle_ms = idle_ms;
    return 0;
}

SSLSOCKET__DEF int
sslsocket_config_set_close_timeout(sslsocket_config *cfg, int close_ms)
{
    SSLSOCKET__CHECK_CFG(cfg, "set_close_timeout");
    if (close_ms < 1)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
            "sslsocket_config_set_close_timeout: %d ms (must be >= 1)", close_ms);
    cfg->close_ms = close_ms;
    return 0;
}

SSLSOCKET__DEF int
sslsocket_config_set_idle_release(sslsocket_config *cfg, int ms)
{
    SSLSOCKET__CHECK_CFG(cfg, "set_idle_release");
    if (ms < 0)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
            "sslsocket_config_set_idle_release: %d ms (must be >= 0)", ms);
    cfg->release_ms = ms;
    return 0;
}

/* Parse "addr", "addr:port", "[v6]:port" into an address (port default). */
SSLSOCKET__PRIVATE int
sslsocket__parse_hostport(const char *text, unsigned default_port, sslsocket_address *out)
{
    char buf[64];
    const char *host = text, *port = NULL;
    size_t len;
    unsigned long p = default_port;
    if (text[0] == '[') {
        const char *end = strchr(text, ']');
        if (end == NULL)
            return -1;
        host = text + 1;
        len = (size_t)(end - host);
        if (end[1] == ':')
            port = end + 2;
        else if (end[1] != 0)
            return -1;
    } else {
        const char *colon = strchr(text, ':');
        if (colon && strchr(colon + 1, ':') == NULL) { /* one colon: v4:port */
            len = (size_t)(colon - text);
            port = colon + 1;
        } else {
            len = strlen(text);
        }
    }
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, host, len);
    buf[len] = 0;
    if (port) {
        char *end;
        p = strtoul(port, &end, 10);
        if (*port == 0 || *end != 0 || p == 0 || p > 65535)
            return -1;
    }
    if (!sslsocket__parse_ip_literal(buf, out))
        return -1;
    out->port = (unsigned short)p;
    return 0;
}

SSLSOCKET__DEF int
sslsocket_config_add_nameserver(sslsocket_config *cfg, const char *addr)
{
    SSLSOCKET__CHECK_CFG(cfg, "add_nameserver");
    if (addr == NULL)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
                                        "sslsocket_config_add_nameserver: no address");
    if (cfg->n_nameservers == SSLSOCKET_MAX_NAMESERVERS)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
            "sslsocket_config_add_nameserver: too many name servers (max %d)",
            SSLSOCKET_MAX_NAMESERVERS);
    if (sslsocket__parse_hostport(addr, 53, &cfg->nameservers[cfg->n_nameservers]) < 0)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
            "sslsocket_config_add_nameserver: '%s' is not an IP address[:port]", addr);
    cfg->n_nameservers++;
    return 0;
}

SSLSOCKET__DEF int
sslsocket_config_set_dns_attempts(sslsocket_config *cfg, int attempts)
{
    SSLSOCKET__CHECK_CFG(cfg, "set_dns_attempts");
    if (attempts < 1 || attempts > 10)
        return sslsocket__config_misuse(cfg, SSLSOCKET_ERR_OPERATION,
            "sslsocket_config_set_dns_attempts: %d out of range (1..10)", attempts);
    cfg->dns_attempts = attempts;
    return 0;
}

SSLSOCKET__DEF void
sslsocket_config_set_resolver_files(sslsocket_config *cfg, const char *hosts_path,
                                    const char *resolv_conf_path)
{
    if (cfg) {
        cfg->hosts_path = hosts_path;
        cfg->resolv_path = resolv_conf_path;
    }
}

SSLSOCKET__DEF void
sslsocket_config_set_time(sslsocket_config *cfg, int64_t unix_time)
{
    if (cfg)
        cfg->fixed_time = unix_time;
}

SSLSOCKET__DEF void
sslsocket_config_set_ignored_ssl_errors(sslsocket_config *cfg, unsigned mask)
{
    if (cfg)
        cfg->ignore_mask = mask & SSLSOCKET_SSLERR_ALL;
}

SSLSOCKET__DEF void
sslsocket_config_set_keylog(sslsocket_config *cfg, sslsocket_keylog_fn fn, void *user)
{
    if (cfg) {
        cfg->keylog = fn;
        cfg->keylog_user = user;
    }
}

SSLSOCKET__DEF int
sslsocket_config_error(const sslsocket_config *cfg)
{
    return cfg ? cfg->error : SSLSOCKET_ERR_UNKNOWN;
}

SSLSOCKET__DEF const char *
sslsocket_config_error_string(const sslsocket_config *cfg)
{
    return cfg ? cfg->error_string : "no configuration";
}

/* ==========================================================================
   >>paths
   The peer's chain, verified by the library: the certificates are kept
   whole (SSLSOCKET_CERT_BUFFER_SIZE), then a bounded depth-first search
   tries candidate issuers (same subject DN, the authority key identifier
   first) until a path reaches a trust anchor.  Every signature is checked
   by BearSSL's RSA and ECDSA code; the rules of RFC 5280 that BearSSL 0.6
   lacks (name constraints on every CA, critical or not, and the anchor's;
   EKU of the issuers; the anchor's validity) are applied here, and the
   ones it had (validity, basic constraints and path length, key usage,
   unknown critical extensions, key sizes) too, so that one search judges
   every candidate path the same way.  Of the paths tried, the first
   without problems wins; otherwise the problems of the best one are
   reported (anchored beats a bad signature beats an unknown issuer).
   ========================================================================== */

#define SSLSOCKET__PATH_SIGS 64       /* signature checks per chain, at most */
#define SSLSOCKET__PATH_STEPS 512     /* search steps per chain, at most */

/* One certificate of the chain, split for the search. */
typedef struct sslsocket__pc {
    sslsocket__cert c;
    br_x509_pkey key;               /* pointers into the DER */
    int64_t not_before, not_after;
    sslsocket__der nc, eku, ski, aki; /* extension values (n == 0: absent) */
    int ok;                         /* parsed, key usable */
    int ca, pathlen, ku;            /* ku: -1 absent, else the first two octets */
    int self_issued;
    unsigned problems;              /* its own: MALFORMED, CRITICAL_EXTENSION */
} sslsocket__pc;

/* The search over one chain. */
typedef struct sslsocket__search {
    sslsocket__pc *pc;              /* pc[0] is the leaf */
    int n;
    const br_x509_trust_anchor *ta;
    size_t n_ta;
    int64_t now;
    int depth;                      /* certificates a path may have, anchor aside */
    int server;                     /* the peer is a server: serverAuth */
    unsigned char sig[SSLSOCKET_MAX_VERIFY_CHAIN][SSLSOCKET_MAX_VERIFY_CHAIN]; /* memo: r + 2 */
    int sigs;                       /* signatures checked */
    const br_x509_certificate *crls;
    size_t n_crls;
    const void *crl_key[SSLSOCKET_MAX_CRLS]; /* memo: the issuer key a CRL was checked with */
    int crl_ok[SSLSOCKET_MAX_CRLS];
    unsigned best;                  /* the best path's problems */
    int best_rank;
} sslsocket__search;


/* A SubjectPublicKeyInfo (content) as BearSSL's key, pointing into it:
   RSA, or EC on P-256/P-384/P-521 (the curves BearSSL verifies). */
SSLSOCKET__PRIVATE int
sslsocket__spki_pkey(sslsocket__der spki, br_x509_pkey *pk)
{
    sslsocket__der alg, oid, params, key, seq, n, e;
    int ptag;
    if (sslsocket__der_get(&spki, 0x30, &alg) < 0
        || sslsocket__der_algid(alg, &oid, &ptag, &params) < 0
        || sslsocket__der_get(&spki, 0x03, &key) < 0 || spki.n != 0 || key.n < 2
        || key.p[0] != 0)
        return -1;
    key.p++;
    key.n--;
    memset(pk, 0, sizeof *pk);
    if (sslsocket__der_eq(&oid, SSLSOCKET__OID("\x2A\x86\x48\x86\xF7\x0D\x01\x01\x01"))) {
        if (sslsocket__der_get(&key, 0x30, &seq) < 0 || key.n != 0
            || sslsocket__der_get(&seq, 0x02, &n) < 0 || sslsocket__der_get(&seq, 0x02, &e) < 0
            || seq.n != 0)
            return -1;
        while (n.n > 1 && n.p[0] == 0) {
            n.p++;
            n.n--;
        }
        while (e.n > 1 && e.p[0] == 0) {
            e.p++;
            e.n--;
        }
        if (n.n == 0 || e.n == 0 || n.p[0] == 0 || n.n > 512)
            return -1;
        pk->key_type = BR_KEYTYPE_RSA;
        pk->key.rsa.n = (unsigned char *)(uintptr_t)n.p;
        pk->key.rsa.nlen = n.n;
        pk->key.rsa.e = (unsigned char *)(uintptr_t)e.p;
        pk->key.rsa.elen = e.n;
        return 0;
    }
    if (sslsocket__der_eq(&oid, SSLSOCKET__OID("\x2A\x86\x48\xCE\x3D\x02\x01")) && ptag == 0x06) {
        int curve = sslsocket__der_eq(&params, SSLSOCKET__OID("\x2A\x86\x48\xCE\x3D\x03\x01\x07"))
                        ? BR_EC_secp256r1
                    : sslsocket__der_eq(&params, SSLSOCKET__OID("\x2B\x81\x04\x00\x22"))
                        ? BR_EC_secp384r1
                    : sslsocket__der_eq(&params, SSLSOCKET__OID("\x2B\x81\x04\x00\x23"))
                        ? BR_EC_secp521r1 : 0;
        if (curve == 0 || key.n == 0 || key.p[0] != 0x04)
            return -1;
        pk->key_type = BR_KEYTYPE_EC;
        pk->key.ec.curve = curve;
        pk->key.ec.q = (unsigned char *)(uintptr_t)key.p;
        pk->key.ec.qlen = key.n;
        return 0;
    }
    return -1;
}

/* A key too weak to trust: RSA below 2048 bits. */
SSLSOCKET__PRIVATE int
sslsocket__pkey_weak(const br_x509_pkey *k)
{
    return k->key_type == BR_KEYTYPE_RSA
           && (k->key.rsa.nlen < 256 || (k->key.rsa.nlen == 256 && k->key.rsa.n[0] < 0x80));
}

/* The signature of `c` under `k`, checked by BearSSL: 1 valid, 0 not,
   -1 an algorithm BearSSL cannot check (RSA-PSS, Ed25519, MD5...). */
SSLSOCKET__PRIVATE int
sslsocket__sig_check(const sslsocket__cert *c, const br_x509_pkey *k)
{
    static const struct {
        unsigned char last, ec, id, len;
        const unsigned char *oid; /* DigestInfo OID for RSA */
    } algs[] = {
        {0x05, 0, br_sha1_ID, 20, BR_HASH_OID_SHA1},
        {0x0E, 0, br_sha224_ID, 28, BR_HASH_OID_SHA224},
        {0x0B, 0, br_sha256_ID, 32, BR_HASH_OID_SHA256},
        {0x0C, 0, br_sha384_ID, 48, BR_HASH_OID_SHA384},
        {0x0D, 0, br_sha512_ID, 64, BR_HASH_OID_SHA512},
        {0x01, 1, br_sha1_ID, 20, NULL},
        {0x31, 1, br_sha224_ID, 28, NULL},
        {0x32, 1, br_sha256_ID, 32, NULL},
        {0x33, 1, br_sha384_ID, 48, NULL},
        {0x34, 1, br_sha512_ID, 64, NULL}
    };
    static const br_hash_class *const hashes[] = {
        NULL, NULL, &br_sha1_vtable, &br_sha224_vtable, &br_sha256_vtable,
        &br_sha384_vtable, &br_sha512_vtable
    };
    const sslsocket__der *o = &c->sig_oid;
    br_hash_compat_context h;
    unsigned char want[64], got[64];
    size_t i;
    int ec;
    /* sha*WithRSAEncryption 1.2.840.113549.1.1.x; ecdsa-with-SHA1
       1.2.840.10045.4.1, ecdsa-with-SHA2xx 1.2.840.10045.4.3.x */
    if (o->n == 9 && memcmp(o->p, "\x2A\x86\x48\x86\xF7\x0D\x01\x01", 8) == 0)
        ec = 0;
    else if (o->n == 7 && memcmp(o->p, "\x2A\x86\x48\xCE\x3D\x04\x01", 7) == 0)
        ec = 1;
    else if (o->n == 8 && memcmp(o->p, "\x2A\x86\x48\xCE\x3D\x04\x03", 7) == 0)
        ec = 1;
    else
        return -1;
    for (i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        unsigned last = ec && o->n == 8 ? 0x30u | o->p[7] : o->p[o->n - 1];
        if (algs[i].ec != ec || algs[i].last != last || (ec && o->n == 8 && o->p[7] > 4))
            continue;
        hashes[algs[i].id]->init(&h.vtable);
        hashes[algs[i].id]->update(&h.vtable, c->tbs_tlv.p, c->tbs_tlv.n);
        hashes[algs[i].id]->out(&h.vtable, want);
        if (ec)
            return k->key_type == BR_KEYTYPE_EC
                   && br_ecdsa_vrfy_asn1_get_default()(br_ec_get_default(), want, algs[i].len,
                                                       &k->key.ec, c->sig.p, c->sig.n) == 1;
        return k->key_type == BR_KEYTYPE_RSA
               && br_rsa_pkcs1_vrfy_get_default()(c->sig.p, c->sig.n, algs[i].oid, algs[i].len,
                                                  &k->key.rsa, got) == 1
               && memcmp(got, want, algs[i].len) == 0;
    }
    return -1;
}

/* Does an extendedKeyUsage value allow `server` (serverAuth) or client
   authentication?  anyExtendedKeyUsage counts when `any_ok` (issuers). */
SSLSOCKET__PRIVATE int
sslsocket__eku_allows(sslsocket__der v, int server, int any_ok)
{
    sslsocket__der list, oid;
    const unsigned char kp[8] = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03,
                                 (unsigned char)(server ? 1 : 2)};
    int ok = 0;
    if (sslsocket__der_get(&v, 0x30, &list) < 0 || v.n != 0)
        return 0;
    while (list.n > 0) {
        if (sslsocket__der_get(&list, 0x06, &oid) < 0)
            return 0;
        if (sslsocket__der_eq(&oid, kp, sizeof kp)
            || (any_ok && sslsocket__der_eq(&oid, SSLSOCKET__OID("\x55\x1D\x25\x00"))))
            ok = 1;
    }
    return ok;
}

/* ---- name constraints (RFC 5280 4.2.1.10) ---- */

/* ASCII case-insensitive: does `s` end with `suffix`? */
SSLSOCKET__PRIVATE int
sslsocket__ends_with(const unsigned char *s, size_t sn, const unsigned char *suf, size_t fn)
{
    size_t i;
    if (fn > sn)
        return 0;
    for (i = 0; i < fn; i++)
        if (sslsocket__host_lc(s[sn - fn + i]) != sslsocket__host_lc(suf[i]))
            return 0;
    return 1;
}

/* A DNS name or constraint: letters, digits, '-', '_', '.', no empty
   label inside; `star` allows a leading "*." (a SAN, not a constraint). */
SSLSOCKET__PRIVATE int
sslsocket__nc_dns_ok(const unsigned char *p, size_t n, int star)
{
    size_t i;
    if (star && n >= 2 && p[0] == '*' && p[1] == '.') {
        p += 2;
        n -= 2;
        if (n == 0)
            return 0;
    }
    if (star && (n == 0 || p[0] == '.'))
        return 0; /* a name (not a constraint): no empty first label */
    for (i = 0; i < n; i++) {
        unsigned ch = p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
              || ch == '-' || ch == '_' || ch == '.'))
            return 0;
        if (ch == '.' && i + 1 < n && p[i + 1] == '.')
            return 0;
    }
    return 1;
}

/* A host (DNS name, possibly "*.x") within a dNSName or host constraint:
   the constraint itself or below it; a constraint with a leading '.'
   only below it (as OpenSSL); an empty constraint everything. */
SSLSOCKET__PRIVATE int
sslsocket__nc_host_in(const unsigned char *h, size_t hn, const unsigned char *b, size_t bn)
{
    if (bn == 0)
        return 1;
    if (hn > 1 && h[hn - 1] == '.')
        hn--;
    if (b[0] == '.')
        return hn > bn && sslsocket__ends_with(h, hn, b, bn);
    if (!sslsocket__ends_with(h, hn, b, bn))
        return 0;
    return hn == bn || h[hn - bn - 1] == '.';
}

/* Could the wildcard name "*.rest" stand for a name within `b`? (for an
   excluded subtree: *.example.com covers the excluded bad.example.com) */
SSLSOCKET__PRIVATE int
sslsocket__nc_wild_covers(const unsigned char *h, size_t hn, const unsigned char *b, size_t bn)
{
    size_t i;
    if (hn < 3 || h[0] != '*' || bn == 0)
        return 0;
    if (b[0] == '.') {
        b++;
        bn--;
    }
    /* b = "label.rest" with rest = h + 2 */
    for (i = 0; i < bn && b[i] != '.'; i++) {
    }
    return i < bn && bn - i - 1 == hn - 2 && sslsocket__ends_with(b, bn, h + 2, hn - 2);
}

/* The host part of a URI ("scheme://[user@]host[:port][/...]"), or -1. */
SSLSOCKET__PRIVATE int
sslsocket__uri_host(sslsocket__der u, sslsocket__der *host)
{
    size_t i = 0, start, end;
    while (i < u.n && u.p[i] != ':')
        i++;
    if (i == 0 || i + 2 >= u.n || u.p[i + 1] != '/' || u.p[i + 2] != '/')
        return -1;
    start = i + 3;
    for (end = start; end < u.n && u.p[end] != '/' && u.p[end] != '?' && u.p[end] != '#'; end++)
        if (u.p[end] == '@')
            start = end + 1;
    for (i = start; i < end && u.p[i] != ':'; i++) {
    }
    if (i == start || u.p[start] == '[')
        return -1;
    host->p = u.p + start;
    host->n = i - start;
    return 0;
}

/* Is a name of type `tag` (GeneralName tag: 0x81 rfc822Name, 0x82 dNSName,
   0x86 URI, 0x87 iPAddress, 0xA4 directoryName) within the subtree base
   `b` of the same type?  1 yes, 0 no, -1 the name cannot be judged. */
SSLSOCKET__PRIVATE int
sslsocket__nc_match(int tag, sslsocket__der b, sslsocket__der v, int excluded)
{
    size_t i, at;
    sslsocket__der h, rb, rv;
    switch (tag) {
    case 0x82:
        if (!sslsocket__nc_dns_ok(v.p, v.n, 1))
            return -1;
        return sslsocket__nc_host_in(v.p, v.n, b.p, b.n)
               || (excluded && sslsocket__nc_wild_covers(v.p, v.n, b.p, b.n));
    case 0x87:
        if (!(v.n == 4 && b.n == 8) && !(v.n == 16 && b.n == 32))
            return 0; /* the other family */
        for (i = 0; i < v.n; i++)
            if ((v.p[i] & b.p[v.n + i]) != (b.p[i] & b.p[v.n + i]))
                return 0;
        return 1;
    case 0x81:
        for (at = v.n; at > 0 && v.p[at - 1] != '@'; at--) {
        }
        if (at == 0 || at == v.n)
            return -1;
        for (i = 0; i < b.n && b.p[i] != '@'; i++) {
        }
        if (i < b.n) /* a whole mailbox */
            return v.n == b.n && sslsocket__ends_with(v.p, v.n, b.p, b.n)
                   && memcmp(v.p, b.p, at) == 0;
        if (b.n > 0 && b.p[0] == '.')
            return sslsocket__ends_with(v.p + at, v.n - at, b.p, b.n);
        return v.n - at == b.n && sslsocket__ends_with(v.p + at, v.n - at, b.p, b.n);
    case 0x86:
        if (sslsocket__uri_host(v, &h) < 0)
            return -1;
        if (b.n > 0 && b.p[0] == '.')
            return h.n > b.n && sslsocket__ends_with(h.p, h.n, b.p, b.n);
        return h.n == b.n && sslsocket__ends_with(h.p, h.n, b.p, b.n);
    case 0xA4:
        /* the constraint's RDNs are the first RDNs of the name */
        if (sslsocket__der_get(&b, 0x30, &rb) < 0 || b.n != 0)
            return -1;
        rv = v;
        while (rb.n > 0) {
            sslsocket__der x, y;
            if (sslsocket__der_get(&rb, 0x31, &x) < 0)
                return -1;
            if (sslsocket__der_get(&rv, 0x31, &y) < 0)
                return 0;
            if (x.n != y.n || memcmp(x.p, y.p, x.n) != 0)
                return 0;
        }
        return 1;
    default:
        return -1;
    }
}

/* Is a NameConstraints value well formed?  Subtrees with minimum 0 and
   no maximum (RFC 5280's profile), IP masks contiguous, DNS and host
   constraints plain names. */
SSLSOCKET__PRIVATE int
sslsocket__nc_valid(sslsocket__der nc)
{
    sslsocket__der seq, trees, t, base;
    int tag, k = 0, any = 0;
    size_t i;
    if (sslsocket__der_get(&nc, 0x30, &seq) < 0 || nc.n != 0)
        return 0;
    while (seq.n > 0) {
        int want = k == 0 && sslsocket__der_peek(&seq, 0xA0) ? 0xA0 : 0xA1;
        if (sslsocket__der_get(&seq, want, &trees) < 0 || trees.n == 0)
            return 0;
        k = 1;
        any = 1;
        while (trees.n > 0) {
            if (sslsocket__der_get(&trees, 0x30, &t) < 0 || sslsocket__der_read(&t, &tag, &base) < 0
                || t.n != 0) /* minimum / maximum: not in the profile */
                return 0;
            if (tag == 0x82 && base.n > 0 && !sslsocket__nc_dns_ok(base.p, base.n, 0))
                return 0;
            if (tag == 0x87) {
                size_t half = base.n / 2;
                int zero = 0;
                if (base.n != 8 && base.n != 32)
                    return 0;
                for (i = 0; i < half * 8; i++) {
                    int bit = (base.p[half + i / 8] >> (7 - i % 8)) & 1;
                    if (bit && zero)
                        return 0; /* a mask is leading ones */
                    zero |= !bit;
                }
            }
        }
    }
    return any;
}

/* Is one name (GeneralName tag and value) within the constraints `nc`
   (a valid NameConstraints)?  A name of a type that has permitted
   subtrees must fall in one of them, no name in an excluded one, and a
   name that cannot be judged against a constraint of its type fails. */
SSLSOCKET__PRIVATE int
sslsocket__nc_name_ok(sslsocket__der nc, int tag, sslsocket__der v)
{
    sslsocket__der seq, trees, t, base;
    int btag, r, seen = 0, hit = 0;
    if (sslsocket__der_get(&nc, 0x30, &seq) < 0)
        return 0;
    while (seq.n > 0) {
        int excluded;
        if (sslsocket__der_read(&seq, &btag, &trees) < 0)
            return 0;
        excluded = btag == 0xA1;
        while (trees.n > 0) {
            if (sslsocket__der_get(&trees, 0x30, &t) < 0 || sslsocket__der_read(&t, &btag, &base) < 0)
                return 0;
            if (btag != tag)
                continue;
            r = sslsocket__nc_match(tag, base, v, excluded);
            if (r < 0 || (excluded && r))
                return 0;
            if (!excluded) {
                seen = 1;
                hit |= r;
            }
        }
    }
    return !seen || hit;
}

/* Are all the names of `sub` (its SANs, and its subject as a
   directoryName when not empty) within the constraints `nc`? */
SSLSOCKET__PRIVATE int
sslsocket__nc_permits(sslsocket__der nc, const sslsocket__cert *sub)
{
    sslsocket__der names, v;
    int tag, r = sslsocket__cert_san(sub, &names);
    if (r == SSLSOCKET__NAME_MALFORMED)
        return 0;
    while (r == SSLSOCKET__NAME_OK && names.n > 0) {
        sslsocket__der dn;
        if (sslsocket__der_read(&names, &tag, &v) < 0)
            return 0;
        dn = v; /* a directoryName SAN: [4] holding a Name */
        if ((tag == 0xA4 && (sslsocket__der_get(&dn, 0x30, &v) < 0 || dn.n != 0))
            || !sslsocket__nc_name_ok(nc, tag, v))
            return 0;
    }
    return sub->subject.n == 0 || sslsocket__nc_name_ok(nc, 0xA4, sub->subject);
}

/* ---- the certificates and the search ---- */

/* Split one certificate and read the extensions the search needs. */
SSLSOCKET__PRIVATE void
sslsocket__pc_parse(sslsocket__pc *pc, const unsigned char *der, size_t len)
{
    sslsocket__exts e;
    sslsocket__der v, w;
    int t;
    memset(pc, 0, sizeof *pc);
    pc->ku = -1;
    pc->pathlen = -1;
    if (der == NULL || sslsocket__cert_split(der, len, &pc->c) < 0) {
        pc->problems |= SSLSOCKET__P(MALFORMED);
        return;
    }
    v = pc->c.validity;
    if (sslsocket__der_time(&v, &pc->not_before) < 0 || sslsocket__der_time(&v, &pc->not_after) < 0
        || v.n != 0)
        pc->problems |= SSLSOCKET__P(MALFORMED);
    pc->self_issued = sslsocket__der_same(&pc->c.issuer, &pc->c.subject);
    sslsocket__cert_exts(&pc->c, &e);
    if (((e.present & SSLSOCKET__EXT_BC) && sslsocket__ext_bc(e.v[0], &pc->ca, &pc->pathlen) < 0)
        || ((e.present & SSLSOCKET__EXT_KU) && (pc->ku = sslsocket__ext_ku(e.v[1])) < 0)
        || ((e.present & SSLSOCKET__EXT_NC) && !sslsocket__nc_valid(e.v[3]))
        || ((e.present & SSLSOCKET__EXT_SKI)
            && (w = e.v[4], sslsocket__der_get(&w, 0x04, &pc->ski) < 0 || w.n != 0))
        || ((e.present & SSLSOCKET__EXT_AKI)
            && (w = e.v[5], sslsocket__der_get(&w, 0x30, &v) < 0 || w.n != 0
                || (sslsocket__der_peek(&v, 0x80) && sslsocket__der_read(&v, &t, &pc->aki) < 0))))
        pc->problems |= SSLSOCKET__P(MALFORMED);
    pc->eku = e.v[2];
    pc->nc = e.v[3];
    pc->problems |= sslsocket__cert_rules(&pc->c, &e, pc->ca, pc->ku < 0 ? -1 : pc->ku);
    pc->ok = sslsocket__spki_pkey(pc->c.spki, &pc->key) == 0;
}

/* A signature by a hash that collides: md2/md5/sha1 with RSA, ecdsa-with-SHA1. */
SSLSOCKET__PRIVATE int
sslsocket__weak_sig_oid(const sslsocket__der *o)
{
    return (o->n == 9 && memcmp(o->p, "\x2A\x86\x48\x86\xF7\x0D\x01\x01", 8) == 0
            && (o->p[8] == 2 || o->p[8] == 4 || o->p[8] == 5))
           || (o->n == 7 && memcmp(o->p, "\x2A\x86\x48\xCE\x3D\x04\x01", 7) == 0);
}

SSLSOCKET__PRIVATE int
sslsocket__popcount(unsigned m)
{
    int n = 0;
    for (; m; m &= m - 1)
        n++;
    return n;
}

/* Is certificate `c` listed by a CRL of its issuer, whose key is `k` and
   key usage `ku` (-1: none)?  Each CRL's signature is checked once per
   issuer key. */
SSLSOCKET__PRIVATE int
sslsocket__path_revoked(sslsocket__search *q, const sslsocket__pc *c, const br_x509_pkey *k,
                        int ku)
{
    size_t i;
    if (ku >= 0 && !(ku & SSLSOCKET__KU_CRL_SIGN))
        return 0; /* its CRLs would not count */
    for (i = 0; i < q->n_crls; i++) {
        sslsocket__crl crl;
        if (sslsocket__crl_split(q->crls[i].data, q->crls[i].data_len, &crl) < 0
            || !sslsocket__der_same(&crl.signed_part.issuer_tlv, &c->c.issuer_tlv)
            || !sslsocket__crl_lists(&crl, &c->c.serial))
            continue;
        if (q->crl_key[i] != (const void *)k) {
            q->crl_key[i] = k;
            q->crl_ok[i] = sslsocket__sig_check(&crl.signed_part, k) == 1;
        }
        if (q->crl_ok[i])
            return 1;
    }
    return 0;
}

/* The problems of one path: path[0] the leaf .. path[len-1], then the
   anchor `ta` (NULL: the path reached none). */
SSLSOCKET__PRIVATE unsigned
sslsocket__path_problems(sslsocket__search *q, const int *path, int len,
                         const br_x509_trust_anchor *ta)
{
    unsigned m = 0;
    int i, j, below;
    for (i = 0; i < len; i++) {
        const sslsocket__pc *p = &q->pc[path[i]];
        m |= p->problems;
        if (q->now < p->not_before)
            m |= SSLSOCKET__P(NOT_YET_VALID);
        if (q->now > p->not_after)
            m |= SSLSOCKET__P(EXPIRED);
        if (p->ok && sslsocket__pkey_weak(&p->key))
            m |= SSLSOCKET__P(WEAK_KEY);
        if (i == 0 && !p->ok && !(p->problems & SSLSOCKET__P(MALFORMED)))
            m |= SSLSOCKET__P(UNSUPPORTED_KEY); /* DSA, P-192, Ed25519...: no TLS with it */
        if (i == 0)
            continue; /* the leaf's own rules: sslsocket__x_own_checks */
        if (!p->ca || p->c.version < 3)
            m |= SSLSOCKET__P(NOT_CA);
        if (p->ku >= 0 && !(p->ku & SSLSOCKET__KU_CERT_SIGN))
            m |= SSLSOCKET__P(KEY_USAGE);
        if (p->eku.n && !sslsocket__eku_allows(p->eku, q->server, 1))
            m |= SSLSOCKET__P(EKU);
        if (!p->self_issued && sslsocket__weak_sig_oid(&p->c.sig_oid))
            m |= SSLSOCKET__P(WEAK_SIGNATURE);
        if (p->pathlen >= 0) {
            /* intermediates below it, self-issued ones aside (4.2.1.9) */
            for (below = 0, j = 1; j < i; j++)
                below += !q->pc[path[j]].self_issued;
            if (below > p->pathlen)
                m |= SSLSOCKET__P(CHAIN_TOO_LONG);
        }
        if (p->nc.n)
            for (j = 0; j < i; j++)
                if ((j == 0 || !q->pc[path[j]].self_issued)
                    && !sslsocket__nc_permits(p->nc, &q->pc[path[j]].c))
                    m |= SSLSOCKET__P(NAME_CONSTRAINTS);
    }
    /* the depth counts the leaf and the intermediates, self-issued ones
       aside (a CA's key rollover does not lengthen the path) */
    for (below = 1, j = 1; j < len; j++)
        below += !q->pc[path[j]].self_issued;
    if (below > q->depth)
        m |= SSLSOCKET__P(CHAIN_TOO_LONG);
    if (ta != NULL) {
        sslsocket__ta_extra tx;
        sslsocket__der nc, eku;
        sslsocket__ta_extra_get(ta, &tx, &nc, &eku);
        if (q->now < tx.not_before)
            m |= SSLSOCKET__P(NOT_YET_VALID);
        if (q->now > tx.not_after)
            m |= SSLSOCKET__P(EXPIRED);
        m |= tx.problems;
        if (eku.n && !sslsocket__eku_allows(eku, q->server, 1))
            m |= SSLSOCKET__P(EKU);
        if (nc.n && !sslsocket__nc_valid(nc))
            m |= SSLSOCKET__P(MALFORMED);
        else if (nc.n)
            for (j = 0; j < len; j++)
                if ((j == 0 || !q->pc[path[j]].self_issued)
                    && !sslsocket__nc_permits(nc, &q->pc[path[j]].c))
                    m |= SSLSOCKET__P(NAME_CONSTRAINTS);
        if (sslsocket__pkey_weak(&ta->pkey))
            m |= SSLSOCKET__P(WEAK_KEY);
        if (q->n_crls && sslsocket__path_revoked(q, &q->pc[path[len - 1]], &ta->pkey, tx.ku))
            m |= SSLSOCKET__P(REVOKED);
    }
    for (i = 0; q->n_crls && i + 1 < len; i++)
        if (sslsocket__path_revoked(q, &q->pc[path[i]], &q->pc[path[i + 1]].key,
                                    q->pc[path[i + 1]].ku))
            m |= SSLSOCKET__P(REVOKED);
    return m;
}

/* A path is complete (or dead): keep it if it is the best so far.  Rank
   0 reached an anchor, 1 reached an anchor's name but not its signature,
   2 ended on a bad signature, 3 on an unknown issuer. */
SSLSOCKET__PRIVATE void
sslsocket__path_offer(sslsocket__search *q, const int *path, int len,
                      const br_x509_trust_anchor *ta, int rank, unsigned extra)
{
    unsigned m = sslsocket__path_problems(q, path, len, ta) | extra;
    if (rank < q->best_rank
        || (rank == q->best_rank && sslsocket__popcount(m) < sslsocket__popcount(q->best))) {
        q->best = m;
        q->best_rank = rank;
    }
}

/* The signature on certificate `child` by `k` (of certificate `issuer`,
   or of an anchor when -1): 1 good, else the problem bits of the edge. */
SSLSOCKET__PRIVATE unsigned
sslsocket__path_sig(sslsocket__search *q, int child, int issuer, const br_x509_pkey *k)
{
    const sslsocket__pc *c = &q->pc[child];
    unsigned char *memo = issuer >= 0 ? &q->sig[child][issuer] : NULL;
    int r;
    if (memo && *memo)
        r = *memo - 2;
    else if (q->sigs >= SSLSOCKET__PATH_SIGS)
        return SSLSOCKET__P(CHAIN_TOO_LONG); /* the search's work is bounded */
    else {
        q->sigs++;
        r = sslsocket__sig_check(&c->c, k);
        if (memo)
            *memo = (unsigned char)(r + 2);
    }
    if (r == 1)
        return 1;
    if (r == 0)
        return SSLSOCKET__P(BAD_SIGNATURE);
    return sslsocket__weak_sig_oid(&c->c.sig_oid) ? SSLSOCKET__P(WEAK_SIGNATURE)
                                                  : SSLSOCKET__P(INVALID_CHAIN);
}


/* Depth-first over candidate issuers, without recursion: anchors first,
   then the chain's certificates whose subject is the issuer (those whose
   key identifier matches first).  Returns the best path's problems. */
SSLSOCKET__PRIVATE unsigned
sslsocket__path_search(sslsocket__search *q)
{
    int path[SSLSOCKET_MAX_VERIFY_CHAIN], next[SSLSOCKET_MAX_VERIFY_CHAIN];
    int found[SSLSOCKET_MAX_VERIFY_CHAIN];
    int d = 0, steps = 0, i;
    size_t total = q->n_ta + 2 * (size_t)q->n;
    path[0] = 0;
    next[0] = 0;
    found[0] = 0;
    q->best = SSLSOCKET__P(UNTRUSTED);
    q->best_rank = 4;
    while (d >= 0 && steps++ < SSLSOCKET__PATH_STEPS) {
        const sslsocket__pc *c = &q->pc[path[d]];
        size_t cand = (size_t)next[d]++;
        const sslsocket__pc *cj;
        unsigned e;
        int j, by_id, in_path;
        if (cand >= total) {
            if (!found[d])
                sslsocket__path_offer(q, path, d + 1, NULL, 3, SSLSOCKET__P(UNTRUSTED));
            d--;
            continue;
        }
        if (cand < q->n_ta) {
            const br_x509_trust_anchor *a = &q->ta[cand];
            sslsocket__der dn;
            dn.p = a->dn.data;
            dn.n = a->dn.len;
            if (d == 0 && !(a->flags & BR_X509_TA_CA) && c->ok
                && sslsocket__der_same(&dn, &c->c.subject_tlv)
                && sslsocket__ld_same_key(&a->pkey, &c->key)) {
                /* direct trust: the leaf itself is the anchor */
                found[0] = 1;
                sslsocket__path_offer(q, path, 1, a, 0, 0);
            } else if ((a->flags & BR_X509_TA_CA) && sslsocket__der_same(&dn, &c->c.issuer_tlv)) {
                found[d] = 1;
                e = sslsocket__path_sig(q, path[d], -1, &a->pkey);
                sslsocket__path_offer(q, path, d + 1, a, e == 1 ? 0 : 1, e == 1 ? 0 : e);
            }
            if (q->best_rank == 0 && q->best == 0)
                return 0;
            continue;
        }
        j = (int)((cand - q->n_ta) % (size_t)q->n);
        cj = &q->pc[j];
        for (in_path = 0, i = 0; i <= d; i++)
            in_path |= path[i] == j;
        if (in_path || !cj->ok || !sslsocket__der_same(&cj->c.subject_tlv, &c->c.issuer_tlv))
            continue;
        by_id = c->aki.n == 0 || cj->ski.n == 0 || sslsocket__der_same(&c->aki, &cj->ski);
        if (by_id != ((cand - q->n_ta) < (size_t)q->n))
            continue; /* first pass: identifiers agree (or are absent); then the others */
        found[d] = 1;
        if (d + 1 >= SSLSOCKET_MAX_VERIFY_CHAIN) {
            sslsocket__path_offer(q, path, d + 1, NULL, 3, SSLSOCKET__P(CHAIN_TOO_LONG));
            continue;
        }
        e = sslsocket__path_sig(q, path[d], j, &cj->key);
        if (e != 1) {
            sslsocket__path_offer(q, path, d + 1, NULL, 2, e);
            continue;
        }
        d++;
        path[d] = j;
        next[d] = 0;
        found[d] = 0;
    }
    return q->best_rank == 4 ? SSLSOCKET__P(UNTRUSTED) : q->best;
}

/* ==========================================================================
   >>verify
   The X.509 class the engine talks to.  It keeps the peer's certificates
   (the capture buffer, or the read buffer, unused during a handshake),
   runs the path search of >>paths at end_chain, then the leaf's own
   checks (names, EKU, webpki's leaf rules, pins), collecting every
   problem.  The decision (fail now, let the caller decide, continue) is
   taken in end_chain.
   ========================================================================== */

SSLSOCKET__PRIVATE void
sslsocket__problem(sslsocket *s, int code)
{
    int i;
    for (i = 0; i < s->n_ssl_errors; i++)
        if (s->ssl_errors[i] == code)
            return;
    if (s->n_ssl_errors < SSLSOCKET_MAX_SSL_ERRORS)
        s->ssl_errors[s->n_ssl_errors++] = code;
}

SSLSOCKET__PRIVATE void
sslsocket__unproblem(sslsocket *s, int code)
{
    int i;
    for (i = 0; i < s->n_ssl_errors; i++) {
        if (s->ssl_errors[i] == code) {
            memmove(&s->ssl_errors[i], &s->ssl_errors[i + 1],
                    (size_t)(s->n_ssl_errors - i - 1) * sizeof s->ssl_errors[0]);
            s->n_ssl_errors--;
            return;
        }
    }
}

/* First problem that is not ignored, or 0. */
SSLSOCKET__PRIVATE int
sslsocket__unignored(const sslsocket *s)
{
    unsigned mask = sslsocket__cfg(s)->ignore_mask | s->ignore_mask;
    int i;
    for (i = 0; i < s->n_ssl_errors; i++)
        if (!(mask & SSLSOCKET_SSLERR_MASK(s->ssl_errors[i])))
            return s->ssl_errors[i];
    return 0;
}

/* A problem as a sentence with its details. */
SSLSOCKET__PRIVATE void
sslsocket__problem_text(const sslsocket *s, int code, char *buf, size_t len)
{
    const char *name = s->verify_name[0] ? s->verify_name : s->host;
    switch (code) {
    case SSLSOCKET_SSLERR_HOST_MISMATCH:
    case SSLSOCKET_SSLERR_IP_MISMATCH:
    case SSLSOCKET_SSLERR_WILDCARD:
    case SSLSOCKET_SSLERR_NO_SAN:
        sslsocket__fmt(buf, len, "%s: expected %s (certificate names: %s)",
                 sslsocket_ssl_error_message(code), name,
                 s->peer.subject_alt_names[0] ? s->peer.subject_alt_names
                                              : s->peer.subject);
        break;
    default:
        sslsocket__fmt(buf, len, "%s", sslsocket_ssl_error_message(code));
    }
}

/* BearSSL's X.509 error for a problem (sent to the peer as an alert). */
SSLSOCKET__PRIVATE int
sslsocket__problem_br_err(int code)
{
    switch (code) {
    case SSLSOCKET_SSLERR_EXPIRED:
    case SSLSOCKET_SSLERR_NOT_YET_VALID: return BR_ERR_X509_EXPIRED;
    case SSLSOCKET_SSLERR_HOST_MISMATCH:
    case SSLSOCKET_SSLERR_IP_MISMATCH:
    case SSLSOCKET_SSLERR_WILDCARD:
    case SSLSOCKET_SSLERR_NO_SAN: return BR_ERR_X509_BAD_SERVER_NAME;
    case SSLSOCKET_SSLERR_BAD_SIGNATURE: return BR_ERR_X509_BAD_SIGNATURE;
    case SSLSOCKET_SSLERR_CRITICAL_EXTENSION: return BR_ERR_X509_CRITICAL_EXTENSION;
    case SSLSOCKET_SSLERR_WEAK_KEY: return BR_ERR_X509_WEAK_PUBLIC_KEY;
    case SSLSOCKET_SSLERR_NOT_CA: return BR_ERR_X509_NOT_CA;
    case SSLSOCKET_SSLERR_KEY_USAGE:
    case SSLSOCKET_SSLERR_EKU: return BR_ERR_X509_FORBIDDEN_KEY_USAGE;
    case SSLSOCKET_SSLERR_CHAIN_TOO_LONG: return BR_ERR_X509_LIMIT_EXCEEDED;
    case SSLSOCKET_SSLERR_NO_PEER_CERTIFICATE: return BR_ERR_X509_EMPTY_CHAIN;
    default: return BR_ERR_X509_NOT_TRUSTED;
    }
}

SSLSOCKET__PRIVATE int64_t
sslsocket__unix_time(const sslsocket *s)
{
    int64_t t = s->verify_time ? s->verify_time : sslsocket__cfg(s)->fixed_time;
    return t ? t : (int64_t)time(NULL);
}

#define SSLSOCKET__X(ctx) ((sslsocket__x509 *)(void *)(ctx))

SSLSOCKET__PRIVATE void
sslsocket__x_start_chain(const br_x509_class **ctx, const char *server_name)
{
    sslsocket__x509 *x = SSLSOCKET__X(ctx);
    (void)server_name; /* names are checked by sslsocket__x_end_chain */
    x->n_certs = 0;
    x->capture_len = 0;
    x->capture_overflow = 0;
    x->dropped = 0;
    x->pkey_ok = 0;
    /* a renegotiation must show the certificate of the first handshake */
    x->had_leaf = (x->sock->flags & SSLSOCKET__F_HS_DONE) && x->sock->have_peer;
    if (x->had_leaf)
        memcpy(x->prev_leaf, x->sock->peer.sha256, sizeof x->prev_leaf);
    x->sock->n_ssl_errors = 0;
    x->sock->have_peer = 0;
    x->sock->n_chain = 0;
    x->cap_end = 0;
    memset(x->der_len, 0, sizeof x->der_len);
    memset(x->sock->chain, 0, sizeof x->sock->chain);
}

/* Where the peer's certificates are kept while the chain is checked: the
   capture buffer, or the read buffer (free during a handshake, but for a
   renegotiation with unread data: then nothing can be kept). */
#if SSLSOCKET_CERT_BUFFER_SIZE > 0
#define SSLSOCKET__CBUF(s) ((s)->cbuf)
#define SSLSOCKET__CBUF_FREE(s) 1
#else
#define SSLSOCKET__CBUF(s) ((s)->rbuf)
#define SSLSOCKET__CBUF_FREE(s) ((s)->rend == (s)->rstart)
#endif
#define SSLSOCKET__CBUF_SIZE(s) sizeof SSLSOCKET__CBUF(s)

/* Every certificate is kept whole, one after the other, while they fit;
   the path search runs on them at end_chain. */
SSLSOCKET__PRIVATE void
sslsocket__x_start_cert(const br_x509_class **ctx, uint32_t length)
{
    sslsocket__x509 *x = SSLSOCKET__X(ctx);
    sslsocket *s = x->sock;
    int i = x->n_certs++;
    (void)s; /* (only the shared read buffer needs it) */
    x->cap_off = x->cap_end;
    x->cap_len = 0;
    x->cap_ok = SSLSOCKET__CBUF_FREE(s) && i < SSLSOCKET_MAX_VERIFY_CHAIN
                && (size_t)x->cap_off + length <= SSLSOCKET__CBUF_SIZE(s);
    if (i == 0) {
        x->capture_overflow = !x->cap_ok;
        x->capture_len = 0;
    }
    if (!x->cap_ok)
        x->dropped++;
}

SSLSOCKET__PRIVATE void
sslsocket__x_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
    sslsocket__x509 *x = SSLSOCKET__X(ctx);
    sslsocket *s = x->sock;
    if (!x->cap_ok)
        return;
    if ((size_t)(x->cap_off + x->cap_len) + len > SSLSOCKET__CBUF_SIZE(s)) {
        /* more than the engine announced */
        x->cap_ok = 0;
        x->dropped++;
        if (x->n_certs == 1)
            x->capture_overflow = 1;
        return;
    }
    memcpy(SSLSOCKET__CBUF(s) + x->cap_off + x->cap_len, buf, len);
    x->cap_len += (int)len;
}

/* Decode the end-entity key for the engine (copied: the capture buffer
   may be reused before the key exchange). */
SSLSOCKET__PRIVATE void
sslsocket__x_own_key(sslsocket__x509 *x, const unsigned char *der, size_t len)
{
    br_x509_decoder_context dc;
    const br_x509_pkey *pk;
    br_x509_decoder_init(&dc, NULL, NULL);
    br_x509_decoder_push(&dc, der, len);
    pk = br_x509_decoder_get_pkey(&dc);
    if (pk == NULL)
        return;
    x->pkey = *pk;
    if (pk->key_type == BR_KEYTYPE_RSA) {
        size_t nl = pk->key.rsa.nlen, el = pk->key.rsa.elen;
        if (nl + el > sizeof x->pkey_buf)
            return;
        memcpy(x->pkey_buf, pk->key.rsa.n, nl);
        memcpy(x->pkey_buf + nl, pk->key.rsa.e, el);
        x->pkey.key.rsa.n = x->pkey_buf;
        x->pkey.key.rsa.e = x->pkey_buf + nl;
    } else if (pk->key_type == BR_KEYTYPE_EC) {
        if (pk->key.ec.qlen > sizeof x->pkey_buf)
            return;
        memcpy(x->pkey_buf, pk->key.ec.q, pk->key.ec.qlen);
        x->pkey.key.ec.q = x->pkey_buf;
    } else {
        return;
    }
    x->pkey_ok = 1;
}

/* A signature algorithm by a hash that collides (SHA-1, MD5, MD2). */
SSLSOCKET__PRIVATE int
sslsocket__weak_sig(const char *alg)
{
    return strstr(alg, "sha1") || strstr(alg, "SHA1") || strstr(alg, "md5")
           || strstr(alg, "md2");
}

SSLSOCKET__PRIVATE void
sslsocket__x_end_cert(const br_x509_class **ctx)
{
    sslsocket__x509 *x = SSLSOCKET__X(ctx);
    sslsocket *s = x->sock;
    unsigned char *cb = SSLSOCKET__CBUF(s);
    int i = x->n_certs - 1;
    s->n_chain = x->n_certs;
    if (!x->cap_ok)
        return;
    x->der_off[i] = x->cap_off;
    x->der_len[i] = x->cap_len;
    x->cap_end = x->cap_off + x->cap_len;
    if (i == 0) {
        int64_t now = sslsocket__unix_time(s);
        size_t len = (size_t)x->cap_len;
        x->capture_len = x->cap_len;
        if (sslsocket__cert_parse(cb, len, &s->peer) == 0) {
            s->have_peer = 1;
            /* named here, before the chain's other problems */
            if (now > s->peer.not_after)
                sslsocket__problem(s, SSLSOCKET_SSLERR_EXPIRED);
            else if (now < s->peer.not_before)
                sslsocket__problem(s, SSLSOCKET_SSLERR_NOT_YET_VALID);
        }
        sslsocket__x_own_key(x, cb, len);
    } else if (i <= SSLSOCKET_MAX_PEER_CHAIN) {
        sslsocket_cert_info ci; /* on the stack: only the summary is kept */
        sslsocket_chain_entry *e = &s->chain[i - 1];
        if (sslsocket__cert_parse(cb + x->cap_off, (size_t)x->cap_len, &ci) == 0) {
            sslsocket__fmt(e->subject, sizeof e->subject, "%s", ci.subject);
            sslsocket__fmt(e->issuer, sizeof e->issuer, "%s", ci.issuer);
            memcpy(e->sha256, ci.sha256, sizeof e->sha256);
        }
    }
}

/* The name checks' verdicts as problem codes. */
SSLSOCKET__PRIVATE int
sslsocket__name_problem(int r)
{
    switch (r) {
    case SSLSOCKET__NAME_MISMATCH: return SSLSOCKET_SSLERR_HOST_MISMATCH;
    case SSLSOCKET__NAME_WILDCARD_REFUSED: return SSLSOCKET_SSLERR_WILDCARD;
    case SSLSOCKET__NAME_IP_MISMATCH: return SSLSOCKET_SSLERR_IP_MISMATCH;
    case SSLSOCKET__NAME_NO_SAN: return SSLSOCKET_SSLERR_NO_SAN;
    case SSLSOCKET__NAME_EKU_MISMATCH: return SSLSOCKET_SSLERR_EKU;
    default: return SSLSOCKET_SSLERR_MALFORMED;
    }
}

/* Is the leaf trusted directly: its key pinned, or one of the trust
   anchors' (as a self-signed CA certificate loaded as an anchor)? */
SSLSOCKET__PRIVATE int
sslsocket__x_leaf_anchored(const sslsocket__x509 *x)
{
    const sslsocket_config *cfg = sslsocket__cfg(x->sock);
    size_t n, i;
    const br_x509_trust_anchor *ta = sslsocket__arena_anchors(&cfg->arena, &n);
    const br_x509_pkey *k = &x->pkey;
    for (i = 0; i < cfg->n_pins; i++)
        if (memcmp(cfg->pins[i], x->sock->peer.spki_sha256, 32) == 0)
            return 1;
    if (!x->pkey_ok)
        return 0;
    for (i = 0; i < n; i++)
        if (sslsocket__ld_same_key(&ta[i].pkey, k))
            return 1;
    return 0;
}

/* A server certificate's EKU as CA/B BR 7.1.2.7.10 has it: not critical,
   and nothing besides serverAuth and clientAuth (no code signing, e-mail,
   time stamping, OCSP signing, CT precertificate signing). */
SSLSOCKET__PRIVATE int
sslsocket__eku_not_tls_only(const sslsocket__cert *c)
{
    sslsocket__exts e;
    sslsocket__der v, list, oid;
    sslsocket__cert_exts(c, &e);
    if (!(e.present & SSLSOCKET__EXT_EKU))
        return 0;
    if (e.critical & SSLSOCKET__EXT_EKU)
        return 1;
    v = e.v[2];
    if (sslsocket__der_get(&v, 0x30, &list) < 0)
        return 0; /* (malformed: the EKU check says so) */
    while (list.n > 0) {
        if (sslsocket__der_get(&list, 0x06, &oid) < 0)
            return 0;
        if (!(oid.n == 8 && memcmp(oid.p, "\x2B\x06\x01\x05\x05\x07\x03", 7) == 0
              && (oid.p[7] == 1 || oid.p[7] == 2))
            && !sslsocket__der_eq(&oid, SSLSOCKET__OID("\x55\x1D\x25\x00")))
            return 1; /* (anyExtendedKeyUsage: the EKU check refuses it) */
    }
    return 0;
}

/* Leaf rules BearSSL 0.6 does not apply (as webpki does): no CA
   certificate as the peer's own (unless trusted directly), a
   key usage that allows TLS (digitalSignature, keyEncipherment or
   keyAgreement: not keyCertSign alone), no SHA-1 or MD5 signature, a
   serial of 1 to 20 bytes and not zero, an RSA modulus of whole bytes. */
SSLSOCKET__PRIVATE void
sslsocket__x_leaf_rules(sslsocket__x509 *x, const unsigned char *der, size_t len)
{
    sslsocket *s = x->sock;
    const sslsocket_cert_info *ci = &s->peer;
    sslsocket__cert c;
    sslsocket__der v, bits;
    size_t i, sig;
    int r, zero = 1;
    if (sslsocket__cert_split(der, len, &c) < 0) {
        sslsocket__problem(s, SSLSOCKET_SSLERR_MALFORMED);
        return;
    }
    if (ci->is_ca && !sslsocket__x_leaf_anchored(x))
        sslsocket__problem(s, SSLSOCKET_SSLERR_CA_AS_LEAF);
    r = sslsocket__cert_ext(&c, SSLSOCKET__OID("\x55\x1D\x0F"), &v);
    if (r < 0 || (r == 1 && (sslsocket__der_get(&v, 0x03, &bits) < 0 || v.n != 0
                             || bits.n < 1))) {
        sslsocket__problem(s, SSLSOCKET_SSLERR_MALFORMED);
    } else if (r == 1 && !(bits.n > 1 && (bits.p[1] & 0xA8))) {
        /* (first byte of the bits: 0x80 digitalSignature, 0x20
           keyEncipherment, 0x08 keyAgreement) */
        sslsocket__problem(s, SSLSOCKET_SSLERR_KEY_USAGE);
    }
    if (sslsocket__weak_sig(ci->sig_alg))
        sslsocket__problem(s, SSLSOCKET_SSLERR_WEAK_SIGNATURE);
    if (!(s->flags & SSLSOCKET__F_SERVER) && sslsocket__eku_not_tls_only(&c))
        sslsocket__problem(s, SSLSOCKET_SSLERR_PROFILE);
    for (i = 0; i < c.serial.n; i++)
        zero &= c.serial.p[i] == 0;
    sig = c.serial.n > 1 && c.serial.p[0] == 0 ? c.serial.n - 1 : c.serial.n;
    if (c.serial.n == 0 || zero || sig > 20
        || (ci->key_type == BR_KEYTYPE_RSA && ci->key_bits % 8 != 0))
        sslsocket__problem(s, SSLSOCKET_SSLERR_MALFORMED);
}

/* The chain: the path search over the certificates kept. */
SSLSOCKET__PRIVATE void
sslsocket__x_chain(sslsocket__x509 *x)
{
    sslsocket *s = x->sock;
    const unsigned char *cb = SSLSOCKET__CBUF(s);
    sslsocket__pc pc[SSLSOCKET_MAX_VERIFY_CHAIN];
    sslsocket__search q;
    unsigned m;
    int i, code;
    if (x->capture_overflow) {
        sslsocket__problem(s, SSLSOCKET_SSLERR_UNTRUSTED); /* (and TOO_LARGE) */
        return;
    }
    memset(&q, 0, sizeof q);
    q.pc = pc;
    for (i = 0; i < x->n_certs && i < SSLSOCKET_MAX_VERIFY_CHAIN; i++)
        if (x->der_len[i] > 0)
            sslsocket__pc_parse(&pc[q.n++], cb + x->der_off[i], (size_t)x->der_len[i]);
    q.ta = x->ta;
    q.n_ta = x->n_ta;
    q.now = sslsocket__unix_time(s);
    q.depth = sslsocket__cfg(s)->verify_depth;
    q.crls = sslsocket__cfg(s)->crls;
    q.n_crls = sslsocket__cfg(s)->n_crls;
    q.server = !(s->flags & SSLSOCKET__F_SERVER);
    m = sslsocket__path_search(&q);
    if (m && x->dropped) /* what was not kept might have made a path */
        m |= SSLSOCKET__P(TOO_LARGE);
    for (code = 1; code < SSLSOCKET_SSLERR_COUNT_; code++)
        if (m & SSLSOCKET_SSLERR_MASK(code))
            sslsocket__problem(s, code);
}

/* Host name, IP, EKU and pin checks on the captured leaf, after the chain. */
SSLSOCKET__PRIVATE void
sslsocket__x_own_checks(sslsocket__x509 *x)
{
    sslsocket *s = x->sock;
    const sslsocket_config *cfg = sslsocket__cfg(s);
    const unsigned char *der = SSLSOCKET__CBUF(s);
    size_t len = (size_t)x->capture_len;
    int server_side = (s->flags & SSLSOCKET__F_SERVER) != 0;
    const char *name = s->verify_name[0] ? s->verify_name : s->host;

    if (x->n_certs == 0) {
        sslsocket__problem(s, SSLSOCKET_SSLERR_NO_PEER_CERTIFICATE);
        return;
    }
    sslsocket__x_chain(x);
    if (x->capture_overflow || !s->have_peer) {
        /* A check that cannot be made failed: ignoring TOO_LARGE alone
           must not accept a CA-signed certificate for any name. */
        sslsocket__problem(s, x->capture_overflow ? SSLSOCKET_SSLERR_TOO_LARGE
                                                  : SSLSOCKET_SSLERR_MALFORMED);
        if (!server_side && name[0])
            sslsocket__problem(s, SSLSOCKET_SSLERR_HOST_MISMATCH);
        sslsocket__problem(s, SSLSOCKET_SSLERR_EKU);
        if (cfg->n_pins)
            sslsocket__problem(s, SSLSOCKET_SSLERR_PIN_MISMATCH);
        return;
    }
    if (!server_side && name[0]) {
        sslsocket_address ip;
        int r = sslsocket__parse_ip_literal(name, &ip)
                    ? sslsocket__cert_check_ip(der, len, &ip)
                    : sslsocket__cert_check_host(der, len, name);
        if (r)
            sslsocket__problem(s, sslsocket__name_problem(r));
    }
    if (sslsocket__cert_check_eku(der, len, !server_side))
        sslsocket__problem(s, SSLSOCKET_SSLERR_EKU);
    sslsocket__x_leaf_rules(x, der, len);
    if (x->had_leaf && memcmp(x->prev_leaf, s->peer.sha256, 32) != 0)
        sslsocket__problem(s, SSLSOCKET_SSLERR_PEER_CHANGED);
    if (cfg->n_pins) {
        size_t i;
        int match = 0;
        for (i = 0; i < cfg->n_pins; i++)
            match |= memcmp(cfg->pins[i], s->peer.spki_sha256, 32) == 0;
        if (match)
            sslsocket__unproblem(s, SSLSOCKET_SSLERR_UNTRUSTED); /* the pin vouches */
        else
            sslsocket__problem(s, SSLSOCKET_SSLERR_PIN_MISMATCH);
    }
}

SSLSOCKET__PRIVATE unsigned
sslsocket__x_end_chain(const br_x509_class **ctx)
{
    sslsocket__x509 *x = SSLSOCKET__X(ctx);
    sslsocket *s = x->sock;
    int bad;

    if (s->verify_mode == SSLSOCKET_VERIFY_NONE) {
        s->n_ssl_errors = 0;
        return 0;
    }
    sslsocket__x_own_checks(x);
    bad = sslsocket__unignored(s);
    /* In a renegotiation the data phase is running: problems are reported
       at once, and VERIFY_PEER fails there even in decision mode (there
       is no moment before data flows to hold for a decision). */
    if ((s->flags & SSLSOCKET__F_HS_DONE) && s->n_ssl_errors > 0)
        sslsocket__event(s, SSLSOCKET_EV_SSL_ERRORS, s->n_ssl_errors);
    if (bad && s->verify_mode == SSLSOCKET_VERIFY_PEER
        && (!(s->flags & SSLSOCKET__F_DECIDE) || (s->flags & SSLSOCKET__F_HS_DONE)))
        return (unsigned)sslsocket__problem_br_err(bad);
    return 0;
}

/* The leaf's key for the engine, with the uses its key usage allows
   (both when it has problems: the verify mode decides about those). */
SSLSOCKET__PRIVATE const br_x509_pkey *
sslsocket__x_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
    const sslsocket__x509 *x = (const sslsocket__x509 *)(const void *)ctx;
    const sslsocket *s = x->sock;
    if (!x->pkey_ok)
        return NULL;
    if (usages) {
        unsigned u = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
        sslsocket__cert c;
        sslsocket__der v, bits;
        if (s->n_ssl_errors == 0
            && sslsocket__cert_split(SSLSOCKET__CBUF(s), (size_t)x->capture_len, &c) == 0
            && sslsocket__cert_ext(&c, SSLSOCKET__OID("\x55\x1D\x0F"), &v) == 1
            && sslsocket__der_get(&v, 0x03, &bits) == 0 && bits.n >= 2)
            /* digitalSignature; keyEncipherment or keyAgreement */
            u = ((bits.p[1] & 0x80) ? BR_KEYTYPE_SIGN : 0u)
                | ((bits.p[1] & 0x28) ? BR_KEYTYPE_KEYX : 0u);
        *usages = u;
    }
    return &x->pkey;
}

static const br_x509_class sslsocket__x509_vtable = {
    sizeof(sslsocket__x509),
    sslsocket__x_start_chain,
    sslsocket__x_start_cert,
    sslsocket__x_append,
    sslsocket__x_end_cert,
    sslsocket__x_end_chain,
    sslsocket__x_get_pkey
};

/* ==========================================================================
   >>machine
   Connection set-up: lookup, happy-eyeballs connect, closing.
   ========================================================================== */

#define SSLSOCKET__ENG(s) (&(s)->ctx.client.eng)
#define SSLSOCKET__TLS(s) ((s)->mode != SSLSOCKET_UNENCRYPTED)

/* The connection's byte transport: the TCP socket, or an in-memory pipe.
   Same contract as sslsocket__sys_send/recv. */
SSLSOCKET__PRIVATE ptrdiff_t
sslsocket__io_send(sslsocket *s, const void *buf, size_t len)
{
    sslsocket_pipe *p = s->pipe;
    int out = s->pipe_side;
    size_t room;
    if (p == NULL)
        return sslsocket__sys_send(s->fd, buf, len);
    if (p->closed[1 - out]) {
        errno = EPIPE;
        return -1;
    }
    if (p->off[out] > 0 && p->off[out] + p->len[out] + len > sizeof p->buf[out]) {
        /* only when the reader lags: move what waits to the front */
        memmove(p->buf[out], p->buf[out] + p->off[out], p->len[out]);
        p->off[out] = 0;
    }
    room = sizeof p->buf[out] - p->off[out] - p->len[out];
    if (len > room)
        len = room;
    memcpy(p->buf[out] + p->off[out] + p->len[out], buf, len);
    p->len[out] += len;
    return (ptrdiff_t)len;
}

SSLSOCKET__PRIVATE ptrdiff_t
sslsocket__io_recv(sslsocket *s, void *buf, size_t len)
{
    sslsocket_pipe *p = s->pipe;
    int in = 1 - s->pipe_side;
    if (p == NULL)
        return sslsocket__sys_recv(s->fd, buf, len);
    if (p->len[in] == 0)
        return p->closed[in] ? 0 : -2;
    if (len > p->len[in])
        len = p->len[in];
    /* BearSSL asks for a 5-byte header, then the body: advance an offset
       rather than moving the rest of the record (16 KiB) after each read */
    memcpy(buf, p->buf[in] + p->off[in], len);
    p->len[in] -= len;
    p->off[in] = p->len[in] > 0 ? p->off[in] + len : 0;
    return (ptrdiff_t)len;
}

SSLSOCKET__DEF void
sslsocket_init(sslsocket *s, const sslsocket_config *cfg)
{
    if (s == NULL)
        return;
    /* BearSSL contexts and buffers need no clearing: they are initialised
       at each handshake.  Clearing only the head keeps init cheap, and pages
       of a calloc'ed socket array that a connection never uses untouched. */
    memset(s, 0, offsetof(sslsocket, sni));
    s->cfg = cfg;
    s->fd = s->attempt_fd[0] = s->attempt_fd[1] = -1;
    s->error = SSLSOCKET_ERR_UNKNOWN;
    s->verify_mode = -1;
    s->verify_mode_override = -1;
    s->open_mode = SSLSOCKET_NOT_OPEN;
    sslsocket__resolver_init(&s->resolver);
}

SSLSOCKET__DEF int
sslsocket_set_config(sslsocket *s, const sslsocket_config *cfg)
{
    if (s == NULL)
        return -1;
    if ((s->state == SSLSOCKET_CONNECTED || s->state == SSLSOCKET_CLOSING)
        && s->mode != SSLSOCKET_UNENCRYPTED) {
        s->cfg_next = cfg; /* the engine points into the one it started with */
        s->cfg_pending = 1;
    } else {
        s->cfg = cfg;
        s->cfg_pending = 0;
    }
    return 0;
}

SSLSOCKET__DEF const sslsocket_config *
sslsocket_get_config(const sslsocket *s)
{
    return s ? s->cfg : NULL;
}

/* The whole pages inside [p, p + n): *a and *b (*a == *b when none). */
SSLSOCKET__PRIVATE void
sslsocket__whole_pages(const void *p, size_t n, uintptr_t *a, uintptr_t *b)
{
    static uintptr_t page;
    if (page == 0) {
        long pg = sysconf(_SC_PAGESIZE);
        page = pg > 0 ? (uintptr_t)pg : 4096;
    }
    *a = ((uintptr_t)p + page - 1) & ~(page - 1);
    *b = ((uintptr_t)p + n) & ~(page - 1);
    if (*b < *a)
        *b = *a;
}

/* Nothing is left to read after a close: the plaintext buffers go.  The
   record buffer's pages given back while idle are zero already, except
   the partial pages at its ends. */
SSLSOCKET__PRIVATE void
sslsocket__wipe_plaintext(sslsocket *s)
{
    sslsocket__wipe(s->rbuf, sizeof s->rbuf);
    if (s->mode == SSLSOCKET_UNENCRYPTED)
        return;
    if (s->flags & SSLSOCKET__F_RELEASED) {
        uintptr_t a, b, end = (uintptr_t)s->iobuf + sizeof s->iobuf;
        sslsocket__whole_pages(s->iobuf, sizeof s->iobuf, &a, &b);
        sslsocket__wipe(s->iobuf, (size_t)(a - (uintptr_t)s->iobuf));
        sslsocket__wipe((void *)b, (size_t)(end - b));
        return;
    }
    sslsocket__wipe(s->iobuf, sizeof s->iobuf);
}

/* The connection ended: its keys and the plaintext nobody will read go
   (unread bytes stay readable, and go once read).  The session stays for
   resumption only when it may be offered again (see begin_tls). */
SSLSOCKET__PRIVATE void
sslsocket__wipe_connection(sslsocket *s)
{
    br_ssl_engine_context *eng = SSLSOCKET__ENG(s);
    sslsocket__wipe(s->wbuf, sizeof s->wbuf);
    sslsocket__wipe(s->rbuf, s->rstart);
    sslsocket__wipe(s->rbuf + s->rend, sizeof s->rbuf - s->rend);
    if (s->flags & SSLSOCKET__F_T13) {
        sslsocket__t13 *t = &s->ctx.t13; /* its keys; unread data stays readable */
        sslsocket__wipe(&t->rk, sizeof t->rk);
        sslsocket__wipe(&t->wk, sizeof t->wk);
        sslsocket__wipe(t->hs_secret, sizeof t->hs_secret);
        sslsocket__wipe(t->c_hs, sizeof t->c_hs);
        sslsocket__wipe(t->s_hs, sizeof t->s_hs);
        sslsocket__wipe(t->c_ap, sizeof t->c_ap);
        sslsocket__wipe(t->s_ap, sizeof t->s_ap);
        sslsocket__wipe(t->res, sizeof t->res);
        sslsocket__wipe(t->p256, sizeof t->p256);
        sslsocket__wipe(t->x25519, sizeof t->x25519);
        sslsocket__wipe(t->out, sizeof t->out);
    } else if (s->mode != SSLSOCKET_UNENCRYPTED) {
        sslsocket__wipe(&eng->in, sizeof eng->in);
        sslsocket__wipe(&eng->out, sizeof eng->out);
        sslsocket__wipe(&eng->rng, sizeof eng->rng);
        sslsocket__wipe(eng->pad, sizeof eng->pad);
        sslsocket__wipe(eng->session.master_secret, sizeof eng->session.master_secret);
        if (s->flags & SSLSOCKET__F_SERVER)
            sslsocket__wipe(s->ctx.server.ecdhe_key, sizeof s->ctx.server.ecdhe_key);
    }
    if (!s->session.valid
        || (!s->session.verified && s->verify_mode != SSLSOCKET_VERIFY_NONE))
        sslsocket__wipe(&s->session, sizeof s->session);
    if (sslsocket_bytes_available(s) == 0)
        sslsocket__wipe_plaintext(s);
}

/* Close every descriptor; reach UNCONNECTED (via CLOSING when the
   connection was up) and queue DISCONNECTED if CONNECTED was reached. */
SSLSOCKET__PRIVATE void
sslsocket__finish(sslsocket *s)
{
    /* CLOSING means "flushing queued data and close_notify": an abort, or
       a connection the peer's fatal alert killed, flushes nothing and goes
       straight to UNCONNECTED (Qt's order) */
    if (s->state == SSLSOCKET_CONNECTED && !(s->flags & SSLSOCKET__F_ABORTING))
        sslsocket__set_state(s, SSLSOCKET_CLOSING);
    s->flags &= ~SSLSOCKET__F_ABORTING;
    s->ignore_mask = 0; /* ignore_ssl_errors() lasts until the connection ends (Qt) */
    if (s->pipe) {
        s->pipe->closed[s->pipe_side] = 1; /* the peer reads EOF */
        s->pipe = NULL;
    }
    sslsocket__sys_close(&s->fd);
    sslsocket__sys_close(&s->attempt_fd[0]);
    sslsocket__sys_close(&s->attempt_fd[1]);
    sslsocket__resolver_cancel(&s->resolver);
    s->deadline = 0;
    s->wlen = 0;
    s->unflushed = 0;
    s->plain_pending = 0;
    s->flags &= ~(SSLSOCKET__F_DISCONNECT_PENDING | SSLSOCKET__F_HOLD
                  | SSLSOCKET__F_WANT_READ | SSLSOCKET__F_WANT_WRITE);
    sslsocket__wipe_connection(s);
    sslsocket__set_state(s, SSLSOCKET_UNCONNECTED);
    if (s->cfg_pending) {
        s->cfg = s->cfg_next;
        s->cfg_pending = 0;
    }
    if (s->flags & SSLSOCKET__F_WAS_CONNECTED) {
        s->flags &= ~SSLSOCKET__F_WAS_CONNECTED;
        sslsocket__event(s, SSLSOCKET_EV_DISCONNECTED, 0);
    }
}

/* Bytes moved: the connection is not idle, and its buffer is in use. */
SSLSOCKET__PRIVATE void
sslsocket__traffic(sslsocket *s)
{
    s->idle_since = sslsocket__now_ms();
    s->flags &= ~SSLSOCKET__F_RELEASED;
}

/* An encrypted connection whose record buffer holds nothing: no record
   going out, no decrypted data waiting, no record partly received. */
SSLSOCKET__PRIVATE int
sslsocket__engine_idle(const sslsocket *s)
{
    const br_ssl_engine_context *eng = &s->ctx.client.eng;
    unsigned st;
    size_t len;
    if (s->state != SSLSOCKET_CONNECTED || !SSLSOCKET__TLS(s)
        || (s->flags & (SSLSOCKET__F_HOLD | SSLSOCKET__F_RELEASED))
        || !(s->flags & SSLSOCKET__F_HS_DONE) || s->wlen > 0)
        return 0;
    if (s->flags & SSLSOCKET__F_T13) /* (its state lives outside the record buffer) */
        return s->ctx.t13.state == SSLSOCKET__T13_CONNECTED && s->ctx.t13.in_len == 0
               && s->ctx.t13.q_len == 0 && s->ctx.t13.app_len == 0;
    st = br_ssl_engine_current_state(eng);
    if ((st & (BR_SSL_SENDREC | BR_SSL_RECVAPP | BR_SSL_CLOSED)) || !(st & BR_SSL_RECVREC))
        return 0;
    return br_ssl_engine_recvrec_buf(eng, &len) == eng->ibuf;
}

/* Idle long enough: give the record buffer's whole pages back to the
   kernel (see sslsocket_config_set_idle_release).  Nothing in them is
   read again before being written: BearSSL writes each record before
   reading it.  Errors (locked memory...) leave the pages as they were. */
SSLSOCKET__PRIVATE void
sslsocket__release_buffers(sslsocket *s, int64_t now)
{
    uintptr_t a, b;
    int ms = sslsocket__cfg(s)->release_ms;
    if (ms <= 0 || now < s->idle_since + ms || !sslsocket__engine_idle(s))
        return;
    sslsocket__whole_pages(s->iobuf, sizeof s->iobuf, &a, &b);
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_DONTNEED);
#if SSLSOCKET_CERT_BUFFER_SIZE > 0
    sslsocket__whole_pages(s->cbuf, sizeof s->cbuf, &a, &b); /* a client's capture too */
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_DONTNEED);
#endif
    s->flags |= SSLSOCKET__F_RELEASED;
}

/* The connection is up and fails: ERROR while still CONNECTED, then the
   close sequence. */
SSLSOCKET__PRIVATE void
sslsocket__fail_connection(sslsocket *s, int code, const char *fmt, ...)
{
    va_list ap;
    s->error = code;
    va_start(ap, fmt);
    vsnprintf(s->error_string, sizeof s->error_string, fmt, ap);
    va_end(ap);
    sslsocket__event(s, SSLSOCKET_EV_ERROR, code);
    sslsocket__finish(s);
}

/* Lookup or connect failed: back to UNCONNECTED first, then ERROR. */
SSLSOCKET__PRIVATE void
sslsocket__fail_setup(sslsocket *s, int code, const char *fmt, ...)
{
    va_list ap;
    s->error = code;
    va_start(ap, fmt);
    vsnprintf(s->error_string, sizeof s->error_string, fmt, ap);
    va_end(ap);
    s->flags &= ~SSLSOCKET__F_WAS_CONNECTED;
    sslsocket__finish(s);
    sslsocket__event(s, SSLSOCKET_EV_ERROR, code);
}

SSLSOCKET__PRIVATE int sslsocket__begin_tls(sslsocket *s, int server);
SSLSOCKET__PRIVATE void sslsocket__begin_close(sslsocket *s);

/* One TCP attempt won: it becomes the connection. */
SSLSOCKET__PRIVATE void
sslsocket__connected(sslsocket *s, int slot)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int one = 1;
    s->fd = s->attempt_fd[slot];
    s->attempt_fd[slot] = -1;
    s->remote = s->addrs[s->attempt_addr[slot]];
    sslsocket__sys_close(&s->attempt_fd[1 - slot]); /* the loser of the race */
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (getsockname(s->fd, (struct sockaddr *)&ss, &sl) == 0)
        sslsocket__from_sockaddr(&ss, &s->local);
    s->flags |= SSLSOCKET__F_WAS_CONNECTED;
    s->deadline = 0;
    sslsocket__traffic(s);
    sslsocket__set_state(s, SSLSOCKET_CONNECTED);
    if ((s->flags & SSLSOCKET__F_ENCRYPT_ON_CONNECT) && sslsocket__begin_tls(s, 0) < 0) {
        char why[SSLSOCKET_ERROR_STRING_SIZE];
        memcpy(why, s->error_string, sizeof why);
        sslsocket__event(s, SSLSOCKET_EV_CONNECTED, 0);
        sslsocket__fail_connection(s, s->error, "%s", why);
        return;
    }
    sslsocket__event(s, SSLSOCKET_EV_CONNECTED, 0);
    if (!SSLSOCKET__TLS(s) && (s->flags & SSLSOCKET__F_DISCONNECT_PENDING))
        sslsocket__begin_close(s);
}

/* Start a TCP attempt in `slot` with the next address that gets that far.
   Returns 1 when an attempt is in flight (or already connected). */
SSLSOCKET__PRIVATE int
sslsocket__start_attempt(sslsocket *s, int slot)
{
    while (s->next_addr < s->n_addrs) {
        int idx = s->next_addr++;
        struct sockaddr_storage ss;
        socklen_t sl = sslsocket__to_sockaddr(&s->addrs[idx], &ss);
        int fd = sslsocket__sys_tcp_socket(s->addrs[idx].family);
        if (fd < 0) {
            s->sys_errno = errno;
            continue;
        }
        if (s->flags & SSLSOCKET__F_BOUND) {
            struct sockaddr_storage bs;
            socklen_t bl;
            sslsocket_address b = s->bind_addr;
            int one = 1;
            if (b.family == 0 || (b.family == 4 && s->addrs[idx].family == 6)) {
                memset(b.bytes, 0, sizeof b.bytes);  /* any address */
                b.family = s->addrs[idx].family;
            }
            if (b.family != s->addrs[idx].family) {
                s->sys_errno = EAFNOSUPPORT;
                close(fd);
                continue;
            }
            bl = sslsocket__to_sockaddr(&b, &bs);
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (bind(fd, (struct sockaddr *)&bs, bl) < 0) {
                s->sys_errno = errno;
                close(fd);
                continue;
            }
        }
        s->attempt_fd[slot] = fd;
        s->attempt_addr[slot] = idx;
        if (connect(fd, (struct sockaddr *)&ss, sl) == 0) {
            sslsocket__connected(s, slot);
            return 1;
        }
        if (errno == EINPROGRESS || errno == EINTR) {
            s->next_attempt_at = sslsocket__now_ms() + SSLSOCKET__HAPPY_EYEBALLS_MS;
            return 1;
        }
        s->sys_errno = errno;
        sslsocket__sys_close(&s->attempt_fd[slot]);
    }
    return 0;
}

SSLSOCKET__PRIVATE void
sslsocket__connect_failed(sslsocket *s)
{
    char addr[64];
    int e = s->sys_errno ? s->sys_errno : ECONNREFUSED;
    sslsocket__addr_text(&s->addrs[s->n_addrs - 1], addr, sizeof addr);
    sslsocket__fail_setup(s, sslsocket__errno_code(e), "%s: %s port %u (%d address%s tried)",
                          sslsocket__errno_text(e), s->host, (unsigned)s->addrs[0].port,
                          s->n_addrs, s->n_addrs == 1 ? "" : "es");
}

/* Addresses are known: HOST_FOUND, CONNECTING, first attempt. */
SSLSOCKET__PRIVATE void
sslsocket__addresses_found(sslsocket *s, unsigned port)
{
    const sslsocket_config *cfg = sslsocket__cfg(s);
    int i;
    for (i = 0; i < s->n_addrs; i++)
        s->addrs[i].port = (unsigned short)port;
    s->next_addr = 0;
    sslsocket__set_state(s, SSLSOCKET_CONNECTING);
    sslsocket__event(s, SSLSOCKET_EV_HOST_FOUND, 0);
    s->deadline = cfg->connect_ms > 0 ? sslsocket__now_ms() + cfg->connect_ms : 0;
    if (!sslsocket__start_attempt(s, 0))
        sslsocket__connect_failed(s);
}

/* CONNECTING: look at the attempts in flight without waiting. */
SSLSOCKET__PRIVATE void
sslsocket__check_attempts(sslsocket *s)
{
    struct pollfd p[2];
    int slot, n = 0, map[2];
    for (slot = 0; slot < 2; slot++) {
        if (s->attempt_fd[slot] >= 0) {
            p[n].fd = s->attempt_fd[slot];
            p[n].events = POLLOUT;
            p[n].revents = 0;
            map[n++] = slot;
        }
    }
    if (n > 0 && poll(p, (nfds_t)n, 0) > 0) {
        int i;
        for (i = 0; i < n; i++) {
            int err = 0;
            socklen_t el = sizeof err;
            slot = map[i];
            if (!(p[i].revents & (POLLOUT | POLLERR | POLLHUP)))
                continue;
            if (getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
                err = errno;
            if (err == 0) {
                sslsocket__connected(s, slot);
                return;
            }
            s->sys_errno = err;
            sslsocket__sys_close(&s->attempt_fd[slot]);
            sslsocket__start_attempt(s, slot); /* a failure starts the next at once */
            if (s->state != SSLSOCKET_CONNECTING)
                return;
        }
    }
    /* RFC 8305: while one attempt is pending, start the next one after the
       connection attempt delay; both race, the first to finish wins. */
    for (slot = 0; slot < 2; slot++) {
        if (s->attempt_fd[slot] < 0 && s->attempt_fd[1 - slot] >= 0
            && s->next_addr < s->n_addrs && sslsocket__now_ms() >= s->next_attempt_at) {
            sslsocket__start_attempt(s, slot);
            if (s->state != SSLSOCKET_CONNECTING)
                return;
        }
    }
    if (s->attempt_fd[0] < 0 && s->attempt_fd[1] < 0 && !sslsocket__start_attempt(s, 0))
        sslsocket__connect_failed(s);
}

/* HOST_LOOKUP: advance the resolver. */
SSLSOCKET__PRIVATE void
sslsocket__check_lookup(sslsocket *s)
{
    char msg[SSLSOCKET_ERROR_STRING_SIZE];
    int n = 0, r;
    msg[0] = 0;
    r = sslsocket__resolver_step(&s->resolver, sslsocket__now_ms(), s->addrs,
                                 SSLSOCKET_MAX_ADDRS, &n, msg, sizeof msg);
    if (r == SSLSOCKET__RESOLVE_PENDING)
        return;
    sslsocket__resolver_cancel(&s->resolver);
    if (r == SSLSOCKET__RESOLVE_DONE && n > 0) {
        s->n_addrs = n;
        sslsocket__addresses_found(s, s->port);
        return;
    }
    if (r == SSLSOCKET__RESOLVE_TIMEOUT)
        sslsocket__fail_setup(s, SSLSOCKET_ERR_HOST_NOT_FOUND, "%s", msg);
    else
        sslsocket__fail_setup(s, SSLSOCKET_ERR_HOST_NOT_FOUND, "%s",
                              msg[0] ? msg : "host not found");
}

SSLSOCKET__PRIVATE int
sslsocket__start_connect(sslsocket *s, const char *fn, const char *host, unsigned port,
                         int open_mode, int encrypt)
{
    const sslsocket_config *cfg;
    size_t len;
    if (s == NULL)
        return -1;
    if (host == NULL || host[0] == 0)
        return sslsocket__misuse(s, "%s: empty host name", fn);
    len = strlen(host);
    if (len >= SSLSOCKET_MAX_HOSTNAME || len > 253)
        return sslsocket__misuse(s, "%s: host name too long (%zu bytes, max 253)", fn, len);
    if (port == 0 || port > 65535)
        return sslsocket__misuse(s, "%s: port %u out of range (1..65535)", fn, port);
    if ((open_mode & SSLSOCKET_READ_WRITE) == 0 || (open_mode & ~0x0F) != 0)
        return sslsocket__misuse(s, "%s: invalid open mode 0x%x (READ_ONLY, WRITE_ONLY "
                                 "or READ_WRITE)", fn, (unsigned)open_mode);
    if (s->state != SSLSOCKET_UNCONNECTED && s->state != SSLSOCKET_BOUND)
        return sslsocket__misuse(s, "%s: socket is not unconnected (state %s)", fn,
                                 sslsocket_state_name(s->state));
    cfg = sslsocket__cfg(s);
    /* a new connection: forget everything of the previous one */
    s->flags &= SSLSOCKET__F_DECIDE | SSLSOCKET__F_BOUND;
    if (encrypt)
        s->flags |= SSLSOCKET__F_ENCRYPT_ON_CONNECT;
    s->error = SSLSOCKET_ERR_UNKNOWN;
    s->error_string[0] = 0;
    s->br_err = s->sys_errno = 0;
    s->mode = SSLSOCKET_UNENCRYPTED;
    s->open_mode = open_mode & SSLSOCKET_READ_WRITE;
    s->rstart = s->rend = s->wlen = s->unflushed = s->plain_pending = 0;
    s->n_ssl_errors = 0;
    s->have_peer = 0;
    s->discarded = 0;
    s->n_addrs = 0;
    memset(&s->local, 0, sizeof s->local);
    memset(&s->remote, 0, sizeof s->remote);
    s->port = port;
    memcpy(s->host, host, len + 1);
    if (len > 2 && host[0] == '[' && host[len - 1] == ']') { /* "[::1]" */
        memmove(s->host, host + 1, len - 2);
        s->host[len - 2] = 0;
    }
    sslsocket__set_state(s, SSLSOCKET_HOST_LOOKUP);
    if (sslsocket__parse_ip_literal(s->host, &s->addrs[0])) {
        s->flags |= SSLSOCKET__F_IP_LITERAL;
        s->n_addrs = 1;
    } else {
        int n = sslsocket__hosts_lookup(cfg->hosts_path ? cfg->hosts_path : "/etc/hosts",
                                        s->host, s->addrs, SSLSOCKET_MAX_ADDRS);
        s->n_addrs = n > 0 ? n : 0;
        sslsocket__order_addresses(s->addrs, s->n_addrs);
    }
    if (s->n_addrs > 0) {
        sslsocket__addresses_found(s, port);
        return 0;
    }
    {
        sslsocket_address ns[SSLSOCKET_MAX_NAMESERVERS];
        int n_ns = cfg->n_nameservers, attempts = cfg->dns_attempts, tmo_s = 0;
        int64_t now = sslsocket__now_ms();
        int per_try;
        if (n_ns > 0) {
            memcpy(ns, cfg->nameservers, sizeof ns);
        } else {
            n_ns = sslsocket__resolv_conf(cfg->resolv_path ? cfg->resolv_path
                                                           : "/etc/resolv.conf",
                                          ns, SSLSOCKET_MAX_NAMESERVERS, &attempts, &tmo_s);
        }
        if (attempts < 1)
            attempts = 1;
        per_try = cfg->lookup_ms > 0 ? cfg->lookup_ms / (attempts * (n_ns > 0 ? n_ns : 1))
                                     : 5000;
        if (per_try < 100)
            per_try = 100;
        s->deadline = cfg->lookup_ms > 0 ? now + cfg->lookup_ms : 0;
        if (sslsocket__resolver_start(&s->resolver, s->host, ns, n_ns > 0 ? n_ns : 0, now,
                                      per_try, attempts,
                                      s->deadline ? s->deadline : now + 30000) < 0)
            sslsocket__check_lookup(s); /* a failed start reports why at the first step */
    }
    return 0;
}

SSLSOCKET__DEF int
sslsocket_connect(sslsocket *s, const char *host, unsigned port, int open_mode)
{
    return sslsocket__start_connect(s, "sslsocket_connect", host, port, open_mode, 0);
}

SSLSOCKET__DEF int
sslsocket_connect_encrypted(sslsocket *s, const char *host, unsigned port, int open_mode)
{
    return sslsocket__start_connect(s, "sslsocket_connect_encrypted", host, port, open_mode, 1);
}

SSLSOCKET__DEF int
sslsocket_bind(sslsocket *s, const char *address, unsigned port)
{
    sslsocket_address a;
    if (s == NULL)
        return -1;
    if (s->state != SSLSOCKET_UNCONNECTED && s->state != SSLSOCKET_BOUND)
        return sslsocket__misuse(s, "sslsocket_bind: socket is not unconnected (state %s)",
                                 sslsocket_state_name(s->state));
    if (port > 65535)
        return sslsocket__misuse(s, "sslsocket_bind: port %u out of range (0..65535)", port);
    memset(&a, 0, sizeof a); /* parsed aside: a refused call keeps an earlier bind */
    if (address && *address && !sslsocket__parse_ip_literal(address, &a))
        return sslsocket__misuse(s, "sslsocket_bind: '%s' is not an IP address", address);
    a.port = (unsigned short)port;
    s->bind_addr = a;
    s->flags |= SSLSOCKET__F_BOUND;
    sslsocket__set_state(s, SSLSOCKET_BOUND);
    return 0;
}

/* ==========================================================================
   >>tls13
   TLS 1.3's cryptography (RFC 8446 section 7) on BearSSL 0.6's
   primitives: HKDF-Extract and HKDF-Expand-Label over br_hmac, the key
   schedule, traffic keys, Finished, record protection (AES-GCM with
   BearSSL's fastest CTR and GHASH, ChaCha20-Poly1305) and RSA-PSS over
   BearSSL's raw RSA operations with MGF1.  Checked byte for byte against
   the RFC 8448 traces (tests/test_tls13.c).  On them: the client
   handshake (without I/O) and a record engine with BearSSL's engine
   interface (sslsocket__e_*), so that the socket runs TLS 1.3 through the
   same pump, states, events and errors.  A client whose configuration
   asks for TLS 1.3 alone (sslsocket_config_set_versions(cfg,
   SSLSOCKET_TLS13, SSLSOCKET_TLS13)) uses it: X25519, the three AEAD
   suites, ECDSA and RSA-PSS server certificates verified as for TLS 1.2,
   SNI, ALPN, middlebox compatibility, HelloRetryRequest (to P-256, with
   its cookie), the peer's KeyUpdate (answered when asked), close_notify.
   A client whose range also holds TLS 1.2 (or older) sends one
   ClientHello for all of them: ours, with BearSSL's TLS 1.2 suites and
   extensions after the TLS 1.3 ones and the TLS 1.2 session it would
   resume.  A TLS 1.2 ServerHello hands the handshake to BearSSL's engine,
   started afresh and given our random and a handshake hash over our
   ClientHello (sslsocket__t13_fallback); a server random that carries
   RFC 8446's downgrade sentinel is refused first (illegal_parameter).
   RSA PKCS#1 signatures come before RSA-PSS in that offer: BearSSL's
   engine cannot check an RSA-PSS ServerKeyExchange, and TLS 1.3 servers
   skip PKCS#1 for CertificateVerify.  Being one ClientHello, no second
   connection is ever made, so TLS_FALLBACK_SCSV (for clients that retry
   with a lower version) has no use.
   The default range is 1.2..1.3.  Failures BearSSL has a code for (a bad
   record MAC, a record too large) carry it, so their error strings read
   as for TLS 1.2; a close_notify received is answered with ours.
   Resumption (4.6.1, 4.2.11): a NewSessionTicket (kept when it fits
   SSLSOCKET_TICKET_SIZE) becomes the socket's session, with its PSK
   (HKDF-Expand-Label of the resumption secret and the ticket nonce), and
   the config's for the same peer and policy, as TLS 1.2 sessions are
   (sslsocket_config_set_client_sessions, sslsocket_get_session).  The
   next ClientHello offers it in pre_shared_key with psk_dhe_ke (a fresh
   key share: forward secrecy kept), its obfuscated age and a binder; a
   server that takes it sends no certificate, and the session stays as
   verified as the handshake that made it.  After a HelloRetryRequest the
   ticket goes again with a binder over the longer transcript, unless the
   suite's hash is not the ticket's.  No early data (0-RTT).
   Client certificates: the configuration's first identity, with
   ecdsa_secp256r1/384r1/521r1 or rsa_pss_rsae_* as the CertificateRequest
   allows (else an empty Certificate; the server decides).
   Our own KeyUpdate: sslsocket_update_keys() (asking the peer for one or
   not).  The cipher list (sslsocket_config_set_ciphers) holds TLS 1.3's
   suites too: offered only when listed, in the list's order; none listed,
   no TLS 1.3 (the whole set, as in Qt).  A server that requires a client
   certificate refuses an empty one after the client's handshake is over
   (TLS 1.3 gives the client no answer to wait for): ENCRYPTED, then the
   error with alert 116 certificate_required.
   Key logging (SSLKEYLOGFILE, sslsocket_config_set_keylog) gives the
   four traffic secrets (named by the client's random, on both sides).
   The server (sslsocket__t13s_*): a server socket whose range holds TLS
   1.3 starts on the TLS 1.3 record engine and reads the first
   ClientHello itself.  One that offers TLS 1.3 (supported_versions) is
   served here; one that does not goes, unchanged (a hello split over
   records: as one record), to BearSSL's TLS 1.2 server engine, started
   then as if it had read it (sslsocket__t13s_fallback), which puts RFC
   8446's downgrade sentinel in its random for ECDHE suites
   (sslsocket__downgrade_mark: BearSSL 0.6 has no hook for it, see
   there); a minimum of TLS 1.3 refuses it with protocol_version.  Suites
   in the order of the configuration's TLS 1.2 AEAD suites (AES-128-GCM,
   AES-256-GCM, ChaCha20-Poly1305 by default); X25519, else P-256, from
   the client's key shares, else a HelloRetryRequest for one of them that
   supported_groups names (the transcript restarts from message_hash, the
   second ClientHello must keep the suite, random and session id and
   bring the share asked for; no cookie: the server keeps its state);
   the identity by SNI as the TLS 1.2 server picks it, with ECDSA (the
   curve's scheme) or RSA-PSS (rsae, SHA-256 first) for its key, per the
   client's signature_algorithms; EncryptedExtensions with the SNI
   acknowledged and ALPN chosen as BearSSL's server chooses (our first
   protocol the client offers; none in common: no ALPN); the session id
   echoed and a ChangeCipherSpec after the ServerHello (or HRR) when the
   client sent one; client certificates asked for when the verify mode
   would ask under TLS 1.2 (not VERIFY_NONE, anchors or pins present),
   checked through the same X.509 class, an empty Certificate refused
   with certificate_required under VERIFY_PEER, the CertificateVerify
   checked (ECDSA, RSA-PSS); the client's Finished; its KeyUpdate;
   close_notify; alerts per RFC 8446 with the failure named.  No
   certificate_authorities in the CertificateRequest (a system store
   would not fit a record).  0-RTT is refused by ignoring early_data (its
   records, which do not open under the handshake keys, are skipped, at
   most 64 KiB); pre_shared_key is ignored: tickets and resumption would
   start in sslsocket__t13s_client_finished (the resumption secret) and
   sslsocket__t13s_client_hello (a PSK offered).  The server's flight
   and the client's reassembled messages share the output area (nothing
   is read while the flight waits to leave); the certificate chain must
   leave room for the rest of the flight there (about 15 KiB).
   ========================================================================== */

/* The symmetric-crypto implementations BearSSL would pick for this CPU.
   br_ssl_*_init_full probe the CPU (CPUID) for them on every call, about
   six probes per engine; on a VM each CPUID traps to the hypervisor (8-40 us
   measured on the project's machines), which doubled the cost of a resumed
   handshake.  Probe once per process: the answers never change, so the
   unsynchronised first use is a benign race (every thread writes the same
   values, and `ready` is written last). */
typedef struct sslsocket__impls {
    const br_block_cbcenc_class *cbcenc;
    const br_block_cbcdec_class *cbcdec;
    const br_block_ctr_class *ctr;
    const br_block_ctrcbc_class *ctrcbc;
    br_ghash ghash;
    br_chacha20_run chacha;
    br_poly1305_run poly;
    volatile int ready;
} sslsocket__impls;

SSLSOCKET__PRIVATE const sslsocket__impls *
sslsocket__impls_get(void)
{
    static sslsocket__impls im;
    if (!im.ready) {
        im.cbcenc = br_aes_x86ni_cbcenc_get_vtable();
        im.cbcdec = br_aes_x86ni_cbcdec_get_vtable();
        im.ctr = br_aes_x86ni_ctr_get_vtable();
        im.ctrcbc = br_aes_x86ni_ctrcbc_get_vtable();
        if (im.cbcenc == NULL || im.cbcdec == NULL || im.ctr == NULL || im.ctrcbc == NULL) {
            im.cbcenc = &br_aes_ct64_cbcenc_vtable;
            im.cbcdec = &br_aes_ct64_cbcdec_vtable;
            im.ctr = &br_aes_ct64_ctr_vtable;
            im.ctrcbc = &br_aes_ct64_ctrcbc_vtable;
        }
        im.ghash = br_ghash_pclmul_get();
        if (im.ghash == 0)
            im.ghash = br_ghash_ctmul64;
        im.chacha = br_chacha20_sse2_get();
        if (im.chacha == 0)
            im.chacha = br_chacha20_ct_run;
        im.poly = br_poly1305_ctmulq_get();
        if (im.poly == 0)
            im.poly = br_poly1305_ctmul_run;
        im.ready = 1;
    }
    return &im;
}


/* A hash's output length, from its descriptor. */
SSLSOCKET__PRIVATE size_t
sslsocket__hash_len(const br_hash_class *h)
{
    return (size_t)(h->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
}

/* HKDF-Extract (RFC 5869): HMAC(salt, ikm); an empty salt is HashLen zeros. */
SSLSOCKET__PRIVATE void
sslsocket__hkdf_extract(const br_hash_class *h, const void *salt, size_t salt_len,
                        const void *ikm, size_t ikm_len, unsigned char *prk)
{
    static const unsigned char zeros[SSLSOCKET__TLS13_MAX_HASH] = {0};
    br_hmac_key_context kc;
    br_hmac_context hc;
    if (salt_len == 0) {
        salt = zeros;
        salt_len = sslsocket__hash_len(h);
    }
    br_hmac_key_init(&kc, h, salt, salt_len);
    br_hmac_init(&hc, &kc, 0);
    br_hmac_update(&hc, ikm, ikm_len);
    br_hmac_out(&hc, prk);
    sslsocket__wipe(&kc, sizeof kc);
    sslsocket__wipe(&hc, sizeof hc);
}

/* HKDF-Expand-Label (RFC 8446 7.1): HKDF-Expand(secret, HkdfLabel, len)
   with HkdfLabel = uint16 len, opaque label<7..255> = "tls13 " + label,
   opaque context<0..255>.  len <= 255 * HashLen; label and context short. */
SSLSOCKET__PRIVATE void
sslsocket__hkdf_expand_label(const br_hash_class *h, const unsigned char *secret,
                             const char *label, const void *ctx, size_t ctx_len,
                             unsigned char *out, size_t len)
{
    unsigned char info[2 + 1 + 6 + 32 + 1 + SSLSOCKET__TLS13_MAX_HASH];
    unsigned char t[SSLSOCKET__TLS13_MAX_HASH];
    size_t hlen = sslsocket__hash_len(h), ll = strlen(label), n = 0, done = 0, k;
    unsigned char i = 0;
    br_hmac_key_context kc;
    br_hmac_context hc;
    SSLSOCKET_ASSERT(ll <= 32 && ctx_len <= SSLSOCKET__TLS13_MAX_HASH);
    info[n++] = (unsigned char)(len >> 8);
    info[n++] = (unsigned char)len;
    info[n++] = (unsigned char)(6 + ll);
    for (k = 0; k < 6; k++)
        info[n++] = (unsigned char)"tls13 "[k];
    for (k = 0; k < ll; k++)
        info[n++] = (unsigned char)label[k];
    info[n++] = (unsigned char)ctx_len;
    if (ctx_len)
        memcpy(info + n, ctx, ctx_len);
    n += ctx_len;
    br_hmac_key_init(&kc, h, secret, hlen);
    while (done < len) {
        br_hmac_init(&hc, &kc, 0);
        if (i > 0)
            br_hmac_update(&hc, t, hlen);
        br_hmac_update(&hc, info, n);
        i++;
        br_hmac_update(&hc, &i, 1);
        br_hmac_out(&hc, t);
        k = len - done < hlen ? len - done : hlen;
        memcpy(out + done, t, k);
        done += k;
    }
    sslsocket__wipe(t, sizeof t);
    sslsocket__wipe(&kc, sizeof kc);
    sslsocket__wipe(&hc, sizeof hc);
}

/* Derive-Secret(secret, label, transcript hash), HashLen bytes. */
SSLSOCKET__PRIVATE void
sslsocket__tls13_derive(const br_hash_class *h, const unsigned char *secret, const char *label,
                        const unsigned char *thash, unsigned char *out)
{
    size_t hlen = sslsocket__hash_len(h);
    sslsocket__hkdf_expand_label(h, secret, label, thash, hlen, out, hlen);
}

/* One step of the key schedule: Extract(Derive-Secret(prev, "derived",
   Hash("")), ikm), or Extract(0, ikm) from nothing (prev NULL); an absent
   ikm (NULL) is HashLen zeros.  early -> handshake -> master. */
SSLSOCKET__PRIVATE void
sslsocket__tls13_next_secret(const br_hash_class *h, const unsigned char *prev,
                             const void *ikm, size_t ikm_len, unsigned char *out)
{
    static const unsigned char zeros[SSLSOCKET__TLS13_MAX_HASH] = {0};
    unsigned char empty[SSLSOCKET__TLS13_MAX_HASH], salt[SSLSOCKET__TLS13_MAX_HASH];
    br_hash_compat_context hc;
    size_t hlen = sslsocket__hash_len(h);
    if (ikm == NULL) {
        ikm = zeros;
        ikm_len = hlen;
    }
    if (prev == NULL) {
        sslsocket__hkdf_extract(h, NULL, 0, ikm, ikm_len, out);
        return;
    }
    h->init(&hc.vtable);
    h->out(&hc.vtable, empty);
    sslsocket__tls13_derive(h, prev, "derived", empty, salt);
    sslsocket__hkdf_extract(h, salt, hlen, ikm, ikm_len, out);
    sslsocket__wipe(salt, sizeof salt);
}

SSLSOCKET__PRIVATE void
sslsocket__tls13_traffic_keys(const br_hash_class *h, const unsigned char *secret,
                              size_t key_len, int chacha, sslsocket__tls13_keys *k)
{
    memset(k, 0, sizeof *k);
    k->key_len = key_len;
    k->chacha = chacha;
    sslsocket__hkdf_expand_label(h, secret, "key", NULL, 0, k->key, key_len);
    sslsocket__hkdf_expand_label(h, secret, "iv", NULL, 0, k->iv, 12);
}

/* Finished verify_data (4.4.4): HMAC(Expand-Label(base, "finished", "",
   HashLen), transcript hash). */
SSLSOCKET__PRIVATE void
sslsocket__tls13_finished(const br_hash_class *h, const unsigned char *base_key,
                          const unsigned char *thash, unsigned char *out)
{
    unsigned char fk[SSLSOCKET__TLS13_MAX_HASH];
    size_t hlen = sslsocket__hash_len(h);
    br_hmac_key_context kc;
    br_hmac_context hc;
    sslsocket__hkdf_expand_label(h, base_key, "finished", NULL, 0, fk, hlen);
    br_hmac_key_init(&kc, h, fk, hlen);
    br_hmac_init(&hc, &kc, 0);
    br_hmac_update(&hc, thash, hlen);
    br_hmac_out(&hc, out);
    sslsocket__wipe(fk, sizeof fk);
    sslsocket__wipe(&kc, sizeof kc);
}

/* The AEAD over one record: the per-record nonce is the IV XOR the
   64-bit sequence number (5.3); the additional data is the record header.
   In place; `tag` is 16 bytes.  Returns 1, or 0 when the tag does not
   match (decryption; the data is then garbage). */
SSLSOCKET__PRIVATE int
sslsocket__tls13_aead(sslsocket__tls13_keys *k, int encrypt, const unsigned char *hdr,
                      unsigned char *data, size_t len, unsigned char *tag)
{
    const sslsocket__impls *im = sslsocket__impls_get();
    unsigned char nonce[12], want[16];
    int i, ok = 1;
    memcpy(nonce, k->iv, 12);
    for (i = 0; i < 8; i++)
        nonce[11 - i] ^= (unsigned char)(k->seq >> (8 * i));
    if (k->chacha) {
        memcpy(want, tag, 16);
        im->poly(k->key, nonce, data, len, hdr, 5, tag, im->chacha, encrypt);
        if (!encrypt) {
            unsigned diff = 0;
            for (i = 0; i < 16; i++)
                diff |= (unsigned)(want[i] ^ tag[i]);
            ok = diff == 0;
        }
    } else {
        br_aes_gen_ctr_keys ctr;
        br_gcm_context gc;
        im->ctr->init(&ctr.vtable, k->key, k->key_len);
        br_gcm_init(&gc, &ctr.vtable, im->ghash);
        br_gcm_reset(&gc, nonce, 12);
        br_gcm_aad_inject(&gc, hdr, 5);
        br_gcm_flip(&gc);
        br_gcm_run(&gc, encrypt, data, len);
        if (encrypt)
            br_gcm_get_tag(&gc, tag);
        else
            ok = (int)br_gcm_check_tag(&gc, tag);
        sslsocket__wipe(&ctr, sizeof ctr);
        sslsocket__wipe(&gc, sizeof gc);
    }
    k->seq++;
    return ok;
}

/* Protect a record in place: rec[5 .. 5 + len) holds the content, then
   the inner content type is appended, the header written and the tag
   appended.  The buffer needs len + 5 + 1 + 16 bytes.  Returns the
   record's length. */
SSLSOCKET__PRIVATE size_t
sslsocket__tls13_seal(sslsocket__tls13_keys *k, int type, unsigned char *rec, size_t len)
{
    size_t inner = len + 1, total = inner + 16;
    rec[0] = 23;
    rec[1] = 3;
    rec[2] = 3;
    rec[3] = (unsigned char)(total >> 8);
    rec[4] = (unsigned char)total;
    rec[5 + len] = (unsigned char)type;
    sslsocket__tls13_aead(k, 1, rec, rec + 5, inner, rec + 5 + inner);
    return 5 + total;
}

/* Open a protected record in place (rec_len bytes, header included):
   the content type in *type and the content at rec + 5, *len bytes.
   Returns 0, or -1 (bad_record_mac: wrong tag, or no content type). */
SSLSOCKET__PRIVATE int
sslsocket__tls13_open(sslsocket__tls13_keys *k, unsigned char *rec, size_t rec_len, int *type,
                      size_t *len)
{
    size_t n;
    if (rec_len < 5 + 17 || rec[0] != 23 || (size_t)((rec[3] << 8) | rec[4]) != rec_len - 5)
        return -1;
    n = rec_len - 5 - 16;
    if (!sslsocket__tls13_aead(k, 0, rec, rec + 5, n, rec + 5 + n))
        return -1;
    while (n > 0 && rec[5 + n - 1] == 0) /* padding */
        n--;
    if (n == 0)
        return -1;
    *type = rec[5 + n - 1];
    *len = n - 1;
    return 0;
}

/* MGF1 (RFC 8017 B.2.1) XORed into `out`. */
SSLSOCKET__PRIVATE void
sslsocket__mgf1_xor(const br_hash_class *h, const unsigned char *seed, size_t seed_len,
                    unsigned char *out, size_t len)
{
    unsigned char t[64], c[4]; /* (SHA-512 too: rsa_pss_rsae_sha512) */
    br_hash_compat_context hc;
    size_t hlen = sslsocket__hash_len(h), done = 0, i;
    uint32_t counter = 0;
    while (done < len) {
        c[0] = (unsigned char)(counter >> 24);
        c[1] = (unsigned char)(counter >> 16);
        c[2] = (unsigned char)(counter >> 8);
        c[3] = (unsigned char)counter;
        h->init(&hc.vtable);
        h->update(&hc.vtable, seed, seed_len);
        h->update(&hc.vtable, c, 4);
        h->out(&hc.vtable, t);
        for (i = 0; i < hlen && done < len; i++)
            out[done++] ^= t[i];
        counter++;
    }
}

/* Bits of a big-endian unsigned integer. */
SSLSOCKET__PRIVATE size_t
sslsocket__bitlen(const unsigned char *x, size_t len)
{
    size_t i = 0;
    unsigned top;
    int b = 0;
    while (i < len && x[i] == 0)
        i++;
    if (i == len)
        return 0;
    for (top = x[i]; top; top >>= 1)
        b++;
    return (len - i - 1) * 8 + (size_t)b;
}

/* EMSA-PSS encoding check (RFC 8017 9.1.2) of `em` (em_len bytes, em_bits
   bits) for the message hash `mhash`, with a salt of HashLen bytes as TLS
   1.3 requires.  Destroys em.  1 consistent, 0 not. */
SSLSOCKET__PRIVATE int
sslsocket__pss_check(const br_hash_class *h, const unsigned char *mhash, unsigned char *em,
                     size_t em_len, size_t em_bits)
{
    size_t hlen = sslsocket__hash_len(h), db_len, i;
    unsigned char top = (unsigned char)(0xFF >> (8 * em_len - em_bits)), hh[64]; /* (SHA-512) */
    br_hash_compat_context hc;
    unsigned diff = 0;
    static const unsigned char zeros[8] = {0};
    if (em_len < 2 * hlen + 2 || em[em_len - 1] != 0xBC || (em[0] & ~top) != 0)
        return 0;
    db_len = em_len - hlen - 1;
    sslsocket__mgf1_xor(h, em + db_len, hlen, em, db_len);
    em[0] &= top;
    for (i = 0; i < db_len - hlen - 1; i++)
        diff |= em[i];
    if (diff != 0 || em[db_len - hlen - 1] != 0x01)
        return 0;
    h->init(&hc.vtable);
    h->update(&hc.vtable, zeros, 8);
    h->update(&hc.vtable, mhash, hlen);
    h->update(&hc.vtable, em + db_len - hlen, hlen);
    h->out(&hc.vtable, hh);
    for (i = 0; i < hlen; i++)
        diff |= (unsigned)(hh[i] ^ em[db_len + i]);
    return diff == 0;
}

/* RSASSA-PSS verification (RFC 8017 8.1.2) with MGF1 over the same hash
   and a HashLen salt: 1 valid, 0 not. */
SSLSOCKET__PRIVATE int
sslsocket__rsa_pss_verify(const br_rsa_public_key *pk, const br_hash_class *h,
                          const unsigned char *mhash, const unsigned char *sig, size_t sig_len)
{
    unsigned char x[512];
    size_t k = pk->nlen, mod_bits;
    while (k > 0 && pk->n[pk->nlen - k] == 0)
        k--;
    mod_bits = sslsocket__bitlen(pk->n, pk->nlen);
    if (sig_len != k || k > sizeof x || mod_bits < 1024)
        return 0;
    memcpy(x, sig, k);
    if (!br_rsa_public_get_default()(x, k, pk))
        return 0;
    /* emLen = ceil((modBits - 1) / 8): one byte less when modBits is 8n + 1 */
    if ((mod_bits - 1) % 8 == 0)
        return x[0] == 0 && sslsocket__pss_check(h, mhash, x + 1, k - 1, mod_bits - 1);
    return sslsocket__pss_check(h, mhash, x, k, mod_bits - 1);
}

/* RSASSA-PSS signature (RFC 8017 8.1.1) with a HashLen salt: the
   signature (the modulus's length) in `sig`; returns its length, 0 on
   failure.  `salt` is HashLen random bytes. */
SSLSOCKET__PRIVATE size_t
sslsocket__rsa_pss_sign(const br_rsa_private_key *sk, const br_hash_class *h,
                        const unsigned char *mhash, const unsigned char *salt,
                        unsigned char *sig, size_t sig_max)
{
    size_t hlen = sslsocket__hash_len(h), k = (sk->n_bitlen + 7) / 8, em_bits = sk->n_bitlen - 1;
    size_t em_len = (em_bits + 7) / 8, db_len = em_len - hlen - 1;
    unsigned char *em;
    br_hash_compat_context hc;
    static const unsigned char zeros[8] = {0};
    if (k > sig_max || em_len < 2 * hlen + 2)
        return 0;
    memset(sig, 0, k);
    em = sig + (k - em_len);
    /* H = Hash(00 x 8 || mHash || salt), DB = PS || 01 || salt */
    h->init(&hc.vtable);
    h->update(&hc.vtable, zeros, 8);
    h->update(&hc.vtable, mhash, hlen);
    h->update(&hc.vtable, salt, hlen);
    h->out(&hc.vtable, em + db_len);
    em[db_len - hlen - 1] = 0x01;
    memcpy(em + db_len - hlen, salt, hlen);
    sslsocket__mgf1_xor(h, em + db_len, hlen, em, db_len);
    em[0] &= (unsigned char)(0xFF >> (8 * em_len - em_bits));
    em[em_len - 1] = 0xBC;
    return br_rsa_private_get_default()(sig, sk) ? k : 0;
}

/* ---- the TLS 1.3 client handshake, without I/O ----
   The caller moves records: sslsocket__t13_client_hello() makes the first
   flight, sslsocket__t13_record() takes each record received and may
   queue records to send (t->out).  Once T13_CONNECTED, application data
   goes through sslsocket__tls13_seal/open with t->wk / t->rk.  The peer's
   chain is handed to the library's X.509 class (>>verify, >>paths) as
   BearSSL's engine would hand it; CertificateVerify is checked against
   the leaf's key (ECDSA with BearSSL, RSA-PSS with the code above). */

SSLSOCKET__PRIVATE void
sslsocket__t13_hash(sslsocket__t13 *t, const unsigned char *m, size_t len)
{
    if (t->h == NULL || t->h == &br_sha256_vtable)
        br_sha256_update(&t->th256, m, len);
    if (t->h == NULL || t->h == &br_sha384_vtable)
        br_sha384_update(&t->th384, m, len);
}

/* The transcript hash so far (the running context is not changed). */
SSLSOCKET__PRIVATE void
sslsocket__t13_thash(const sslsocket__t13 *t, unsigned char *out)
{
    if (t->h == &br_sha384_vtable)
        br_sha384_out(&t->th384, out);
    else
        br_sha256_out(&t->th256, out);
}

SSLSOCKET__PRIVATE int
sslsocket__t13_fail(sslsocket__t13 *t, int alert, const char *why)
{
    t->state = SSLSOCKET__T13_FAILED;
    t->alert = alert;
    t->why = why;
    t->br_err = SSLSOCKET__T13_ERR;
    return -1;
}

/* A failure BearSSL's engine has a code for: the socket reports it in the
   same words as for TLS 1.2. */
SSLSOCKET__PRIVATE int
sslsocket__t13_fail_br(sslsocket__t13 *t, int alert, int br_err, const char *why)
{
    sslsocket__t13_fail(t, alert, why);
    t->br_err = br_err;
    return -1;
}

/* The hash a ticket's PSK goes with (its suite's). */
SSLSOCKET__PRIVATE const br_hash_class *
sslsocket__t13_suite_hash(int suite)
{
    return suite == 0x1302 ? &br_sha384_vtable : &br_sha256_vtable;
}

/* The PSK binder (4.2.11.2): the Finished computation keyed by the
   binder key of the offered ticket's early secret, over the transcript so
   far and the ClientHello up to its binders (ch, len). */
SSLSOCKET__PRIVATE void
sslsocket__t13_binder(const sslsocket__t13 *t, const unsigned char *ch, size_t len,
                      unsigned char *out)
{
    const br_hash_class *h = sslsocket__t13_suite_hash(t->offer->suite);
    unsigned char early[SSLSOCKET__TLS13_MAX_HASH], bk[SSLSOCKET__TLS13_MAX_HASH];
    unsigned char empty[SSLSOCKET__TLS13_MAX_HASH], th[SSLSOCKET__TLS13_MAX_HASH];
    size_t hlen = sslsocket__hash_len(h);
    br_hash_compat_context hc;
    if (h == &br_sha384_vtable) {
        br_sha384_context c = t->th384;
        br_sha384_update(&c, ch, len);
        br_sha384_out(&c, th);
    } else {
        br_sha256_context c = t->th256;
        br_sha256_update(&c, ch, len);
        br_sha256_out(&c, th);
    }
    sslsocket__tls13_next_secret(h, NULL, t->offer->psk, hlen, early);
    h->init(&hc.vtable);
    h->out(&hc.vtable, empty);
    sslsocket__tls13_derive(h, early, "res binder", empty, bk);
    sslsocket__tls13_finished(h, bk, th, out);
    sslsocket__wipe(early, sizeof early);
    sslsocket__wipe(bk, sizeof bk);
}

/* Write the ClientHello from what t holds (a handshake message, into
   `out`, hashed): the three AEAD suites, X25519 and P-256, ECDSA and
   RSA-PSS, SNI, ALPN, a 32-byte session id for middlebox compatibility,
   the key share of t->group, the cookie of a HelloRetryRequest; with
   t->offer12, TLS 1.2 too: BearSSL's suites after ours, RSA PKCS#1
   signatures, the extensions BearSSL's engine sends (renegotiation_info,
   ec_point_formats) and the TLS 1.2 session it would resume; with
   t->offer, its ticket in pre_shared_key (the last extension), bound to
   the rest.  Returns the length, 0 when out is short. */
SSLSOCKET__PRIVATE size_t
sslsocket__t13_write_ch(sslsocket__t13 *t, const unsigned char *cookie, size_t cookie_len,
                        unsigned char *out, size_t cap)
{
    static const unsigned char exts[] = {
        0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17, /* supported_groups */
        0x00, 0x0d, 0x00, 0x0c, 0x00, 0x0a, 0x04, 0x03, 0x05, 0x03,   /* signature_algorithms */
        0x08, 0x04, 0x08, 0x05, 0x08, 0x06,
        0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04,                     /* supported_versions */
        0x00, 0x2d, 0x00, 0x02, 0x01, 0x01                            /* psk_key_exchange_modes */
    };
    /* With TLS 1.2: ECDSA, then RSA PKCS#1 before RSA-PSS.  A TLS 1.3
       server may not sign CertificateVerify with PKCS#1 and skips it; a
       TLS 1.2 server that follows the client's order signs its
       ServerKeyExchange with what BearSSL's engine can check (it has no
       RSA-PSS for that). */
    static const unsigned char exts12[] = {
        0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17, /* supported_groups */
        0x00, 0x0d, 0x00, 0x14, 0x00, 0x12, 0x04, 0x03, 0x05, 0x03,   /* signature_algorithms */
        0x06, 0x03, 0x04, 0x01, 0x05, 0x01, 0x06, 0x01, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06,
        0x00, 0x2d, 0x00, 0x02, 0x01, 0x01,                           /* psk_key_exchange_modes */
        0xff, 0x01, 0x00, 0x01, 0x00,                                 /* renegotiation_info */
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00                            /* ec_point_formats */
    };
    size_t hn = strlen(t->host), n = 0, ext_at, kl, alpn_len = t->alpn_offer_len;
    unsigned char pub[65];
    size_t need = 4 + 2 + 32 + 33 + 2 + t->suites13_len + t->suites12_len + 2 + 2
                  + sizeof exts12 + 13 + 75 + (hn + 9) + alpn_len + 6
                  + (cookie_len ? cookie_len + 6 : 0)
                  + (t->offer ? 4 + 2 + 2 + t->offer->len + 4 + 2 + 1 + 48 : 0);
    size_t binder_at = 0, bl = t->offer ? sslsocket__hash_len(
                                              sslsocket__t13_suite_hash(t->offer->suite)) : 0;
    if (cap < need)
        return 0;
    if (t->group == 0x17)
        kl = br_ec_get_default()->mulgen(pub, t->p256, 32, BR_EC_secp256r1);
    else
        kl = br_ec_c25519_m31.mulgen(pub, t->x25519, 32, BR_EC_curve25519);
    if (kl == 0)
        return 0;
    out[n++] = 1;
    n += 3; /* length, below */
    out[n++] = 3;
    out[n++] = 3;
    memcpy(out + n, t->random, 32);
    n += 32;
    out[n++] = (unsigned char)t->sid_len;
    memcpy(out + n, t->session_id, t->sid_len);
    n += t->sid_len;
    out[n++] = (unsigned char)((t->suites13_len + t->suites12_len) >> 8);
    out[n++] = (unsigned char)(t->suites13_len + t->suites12_len);
    memcpy(out + n, t->suites13, t->suites13_len);
    n += t->suites13_len;
    memcpy(out + n, t->suites12, t->suites12_len);
    n += t->suites12_len;
    out[n++] = 1; /* no compression */
    out[n++] = 0;
    ext_at = n;
    n += 2;
    if (hn > 0) {
        out[n++] = 0; out[n++] = 0;                 /* server_name */
        out[n++] = (unsigned char)((hn + 5) >> 8); out[n++] = (unsigned char)(hn + 5);
        out[n++] = (unsigned char)((hn + 3) >> 8); out[n++] = (unsigned char)(hn + 3);
        out[n++] = 0;
        out[n++] = (unsigned char)(hn >> 8); out[n++] = (unsigned char)hn;
        memcpy(out + n, t->host, hn);
        n += hn;
    }
    if (t->offer12) {
        unsigned v;
        memcpy(out + n, exts12, sizeof exts12);
        n += sizeof exts12;
        out[n++] = 0x00; out[n++] = 0x2b;           /* supported_versions */
        out[n++] = 0;
        out[n++] = (unsigned char)(1 + 2 * (0x0304 - t->version_min + 1));
        out[n++] = (unsigned char)(2 * (0x0304 - t->version_min + 1));
        for (v = 0x0304; v >= t->version_min; v--) {
            out[n++] = 3;
            out[n++] = (unsigned char)v;
        }
    } else {
        memcpy(out + n, exts, sizeof exts);
        n += sizeof exts;
    }
    out[n++] = 0x00; out[n++] = 0x33;               /* key_share */
    out[n++] = (unsigned char)((kl + 6) >> 8); out[n++] = (unsigned char)(kl + 6);
    out[n++] = (unsigned char)((kl + 4) >> 8); out[n++] = (unsigned char)(kl + 4);
    out[n++] = 0x00; out[n++] = (unsigned char)t->group;
    out[n++] = (unsigned char)(kl >> 8); out[n++] = (unsigned char)kl;
    memcpy(out + n, pub, kl);
    n += kl;
    if (alpn_len > 0) {
        out[n++] = 0x00; out[n++] = 0x10;
        out[n++] = (unsigned char)((alpn_len + 2) >> 8); out[n++] = (unsigned char)(alpn_len + 2);
        out[n++] = (unsigned char)(alpn_len >> 8); out[n++] = (unsigned char)alpn_len;
        memcpy(out + n, t->alpn_offer, alpn_len);
        n += alpn_len;
    }
    if (cookie_len > 0) {
        out[n++] = 0x00; out[n++] = 0x2c;
        out[n++] = (unsigned char)((cookie_len + 2) >> 8); out[n++] = (unsigned char)(cookie_len + 2);
        out[n++] = (unsigned char)(cookie_len >> 8); out[n++] = (unsigned char)cookie_len;
        memcpy(out + n, cookie, cookie_len);
        n += cookie_len;
    }
    if (t->offer) {
        size_t il = t->offer->len, el = 2 + 2 + il + 4 + 2 + 1 + bl;
        out[n++] = 0x00; out[n++] = 0x29;           /* pre_shared_key */
        out[n++] = (unsigned char)(el >> 8); out[n++] = (unsigned char)el;
        out[n++] = (unsigned char)((2 + il + 4) >> 8); out[n++] = (unsigned char)(2 + il + 4);
        out[n++] = (unsigned char)(il >> 8); out[n++] = (unsigned char)il;
        memcpy(out + n, t->offer->data, il);
        n += il;
        out[n++] = (unsigned char)(t->offer_age >> 24);
        out[n++] = (unsigned char)(t->offer_age >> 16);
        out[n++] = (unsigned char)(t->offer_age >> 8);
        out[n++] = (unsigned char)t->offer_age;
        binder_at = n;
        out[n++] = 0; out[n++] = (unsigned char)(1 + bl);
        out[n++] = (unsigned char)bl;
        n += bl; /* (the binder, below) */
    }
    out[ext_at] = (unsigned char)((n - ext_at - 2) >> 8);
    out[ext_at + 1] = (unsigned char)(n - ext_at - 2);
    out[1] = (unsigned char)((n - 4) >> 16);
    out[2] = (unsigned char)((n - 4) >> 8);
    out[3] = (unsigned char)(n - 4);
    if (t->offer)
        sslsocket__t13_binder(t, out, binder_at, out + binder_at + 3);
    sslsocket__t13_hash(t, out, n);
    return n;
}

/* Start a handshake: the first ClientHello into `out`.  `rnd` is 128
   random bytes (random, session id, X25519 and P-256 private keys);
   `host` the SNI name (NULL, "" or an IP literal: none); `alpn` the
   offer in wire form ("\x02h2\x08http/1.1"); `tk` a ticket to offer
   (NULL: none) and `tk_age` its obfuscated_ticket_age.  Returns the
   length, 0 when out is short or the arguments too long. */
SSLSOCKET__PRIVATE size_t
sslsocket__t13_client_hello_ex(sslsocket__t13 *t, const unsigned char *rnd, const char *host,
                               const unsigned char *alpn, size_t alpn_len,
                               const sslsocket__t13_legacy *legacy,
                               const sslsocket__ticket *tk, uint32_t tk_age,
                               const uint16_t *suites13, size_t n13, unsigned char *out,
                               size_t cap)
{
    static const uint16_t all13[] = { 0x1301, 0x1302, 0x1303 };
    size_t hn = host ? strlen(host) : 0, n, i;
    sslsocket_address lit;
    memset(t, 0, sizeof *t);
    if (hn >= sizeof t->host || alpn_len > sizeof t->alpn_offer)
        return 0;
    br_sha256_init(&t->th256);
    br_sha384_init(&t->th384);
    if (suites13 == NULL) {
        suites13 = all13;
        n13 = 3;
    }
    if (n13 == 0 || n13 > 3)
        return 0;
    for (i = 0; i < n13; i++) {
        t->suites13[2 * i] = (unsigned char)(suites13[i] >> 8);
        t->suites13[2 * i + 1] = (unsigned char)suites13[i];
    }
    t->suites13_len = 2 * n13;
    memcpy(t->random, rnd, 32);
    memcpy(t->session_id, rnd + 32, 32);
    t->sid_len = 32;
    if (legacy != NULL) {
        if (legacy->n_suites * 2 > sizeof t->suites12 || legacy->sid_len > 32
            || legacy->version_min < 0x0301 || legacy->version_min > 0x0303)
            return 0;
        t->offer12 = 1;
        t->version_min = legacy->version_min;
        for (i = 0; i < legacy->n_suites; i++) {
            t->suites12[2 * i] = (unsigned char)(legacy->suites[i] >> 8);
            t->suites12[2 * i + 1] = (unsigned char)legacy->suites[i];
        }
        t->suites12_len = 2 * legacy->n_suites;
        if (legacy->sid_len > 0) { /* the TLS 1.2 session BearSSL's engine would resume */
            memcpy(t->session_id, legacy->sid, legacy->sid_len);
            t->sid_len = legacy->sid_len;
        }
    }
    memcpy(t->x25519, rnd + 64, 32);
    memcpy(t->p256, rnd + 96, 32);
    t->group = 0x1d;
    if (hn > 0 && !sslsocket__parse_ip_literal(host, &lit))
        memcpy(t->host, host, hn + 1);
    if (alpn_len > 0)
        memcpy(t->alpn_offer, alpn, alpn_len);
    t->alpn_offer_len = alpn_len;
    if (tk != NULL && tk->len > 0 && tk->len <= sizeof tk->data) {
        t->offer = tk;
        t->offer_age = tk_age;
    }
    n = sslsocket__t13_write_ch(t, NULL, 0, out, cap);
    t->ch_len = n;
    t->state = SSLSOCKET__T13_WAIT_SH;
    return n;
}

SSLSOCKET__PRIVATE size_t
sslsocket__t13_client_hello(sslsocket__t13 *t, const unsigned char *rnd, const char *host,
                            const unsigned char *alpn, size_t alpn_len, unsigned char *out,
                            size_t cap)
{
    return sslsocket__t13_client_hello_ex(t, rnd, host, alpn, alpn_len, NULL, NULL, 0, NULL, 0,
                                          out, cap);
}

/* HelloRetryRequest (4.1.4): the transcript restarts from the hash of the
   first ClientHello, then the HRR; the second ClientHello carries the
   group asked for (P-256: X25519 was offered) and the cookie, into
   t->out as a record. */
SSLSOCKET__PRIVATE int
sslsocket__t13_hello_retry(sslsocket__t13 *t, const unsigned char *m, size_t len, int suite,
                           sslsocket__der exts)
{
    unsigned char h1[SSLSOCKET__TLS13_MAX_HASH + 4];
    const unsigned char *cookie = NULL;
    size_t cookie_len = 0, n;
    int version = 0, group = 0;
    if (t->hrr)
        return sslsocket__t13_fail(t, 10, "a second HelloRetryRequest");
    t->hrr = 1;
    while (exts.n >= 4) {
        int type = (exts.p[0] << 8) | exts.p[1];
        size_t el = ((size_t)exts.p[2] << 8) | exts.p[3];
        const unsigned char *v = exts.p + 4;
        if (el > exts.n - 4)
            return sslsocket__t13_fail(t, 50, "malformed HelloRetryRequest");
        if (type == 0x2b && el == 2)
            version = (v[0] << 8) | v[1];
        else if (type == 0x33 && el == 2)
            group = (v[0] << 8) | v[1];
        else if (type == 0x2c && el >= 3 && (((size_t)v[0] << 8) | v[1]) == el - 2) {
            cookie = v + 2;
            cookie_len = el - 2;
        } else
            return sslsocket__t13_fail(t, 110, "unsupported extension in HelloRetryRequest");
        exts.p += 4 + el;
        exts.n -= 4 + el;
    }
    if (version != 0x0304)
        return sslsocket__t13_fail(t, 70, "the server did not select TLS 1.3");
    if (group != 0x17 && !(group == 0 && cookie_len > 0))
        return sslsocket__t13_fail(t, 47, "HelloRetryRequest for a group that was not offered "
                                          "or was already sent");
    if (group)
        t->group = group;
    /* the transcript: message_hash(Hash(ClientHello1)), the HRR */
    t->suite = suite;
    t->h = suite == 0x1302 ? &br_sha384_vtable : &br_sha256_vtable;
    t->hlen = sslsocket__hash_len(t->h);
    h1[0] = 254;
    h1[1] = h1[2] = 0;
    h1[3] = (unsigned char)t->hlen;
    sslsocket__t13_thash(t, h1 + 4);
    br_sha256_init(&t->th256);
    br_sha384_init(&t->th384);
    sslsocket__t13_hash(t, h1, 4 + t->hlen);
    sslsocket__t13_hash(t, m, len);
    /* the ticket goes again if its hash is the suite's (4.1.2), and fits */
    if (t->offer && sslsocket__t13_suite_hash(t->offer->suite) != t->h)
        t->offer = NULL;
    n = sslsocket__t13_write_ch(t, cookie, cookie_len, t->out + 5, sizeof t->out - 5);
    if (n == 0 && t->offer) {
        t->offer = NULL;
        n = sslsocket__t13_write_ch(t, cookie, cookie_len, t->out + 5, sizeof t->out - 5);
    }
    if (n == 0)
        return sslsocket__t13_fail(t, 80, "the second ClientHello does not fit");
    t->out[0] = 22;
    t->out[1] = 3;
    t->out[2] = 3;
    t->out[3] = (unsigned char)(n >> 8);
    t->out[4] = (unsigned char)n;
    t->out_len = n + 5;
    return 0;
}

/* A traffic secret's keys for the suite chosen: AES-128-GCM (0x1301),
   AES-256-GCM (0x1302), ChaCha20-Poly1305 (0x1303). */
SSLSOCKET__PRIVATE void
sslsocket__t13_keys(const sslsocket__t13 *t, const unsigned char *secret,
                    sslsocket__tls13_keys *k)
{
    sslsocket__tls13_traffic_keys(t->h, secret, t->suite == 0x1301 ? 16 : 32,
                                  t->suite == 0x1303, k);
}

/* Whether a hello's extensions block (its 2-byte length first) holds
   extension `type`. */
SSLSOCKET__PRIVATE int
sslsocket__t13_has_ext(sslsocket__der exts, int type)
{
    if (exts.n < 2 || (((size_t)exts.p[0] << 8) | exts.p[1]) != exts.n - 2)
        return 0;
    for (exts.p += 2, exts.n -= 2; exts.n >= 4;) {
        size_t el = ((size_t)exts.p[2] << 8) | exts.p[3];
        if (el > exts.n - 4)
            return 0;
        if (((exts.p[0] << 8) | exts.p[1]) == type)
            return 1;
        exts.p += 4 + el;
        exts.n -= 4 + el;
    }
    return 0;
}

/* ServerHello: TLS 1.3 selected, one of our suites, our session id
   echoed, an X25519 share; then the handshake keys.  Offering TLS 1.2
   too, a ServerHello without supported_versions is TLS 1.2 (or older):
   1, for BearSSL's engine. */
SSLSOCKET__PRIVATE int
sslsocket__t13_server_hello(sslsocket__t13 *t, const unsigned char *m, size_t len)
{
    static const unsigned char hrr[32] = {
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
        0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C
    };
    static const unsigned char downgrade[7] = { 0x44, 0x4F, 0x57, 0x4E, 0x47, 0x52, 0x44 };
    sslsocket__der d, exts, e;
    unsigned char shared[65], th[SSLSOCKET__TLS13_MAX_HASH], early[SSLSOCKET__TLS13_MAX_HASH];
    int version = 0, have_share = 0, is_hrr;
    size_t i, at = 35 + t->sid_len; /* past version, random, the session id */
    d.p = m + 4;
    d.n = len - 4;
    /* No supported_versions: a TLS 1.2 (or older) ServerHello. */
    if (d.n < 35 || d.p[34] > 32 || d.n < 35 + (size_t)d.p[34] + 3)
        return sslsocket__t13_fail(t, 50, "malformed ServerHello");
    exts.p = d.p + 35 + d.p[34] + 3;
    exts.n = d.n - (35 + d.p[34] + 3);
    if (!sslsocket__t13_has_ext(exts, 0x2b)) {
        unsigned legacy = ((unsigned)d.p[0] << 8) | d.p[1];
        if (!t->offer12)
            return sslsocket__t13_fail(t, 70, "the server did not select TLS 1.3");
        if (t->hrr)
            return sslsocket__t13_fail(t, 47, "a TLS 1.2 ServerHello after a HelloRetryRequest");
        if (legacy < t->version_min || legacy > 0x0303)
            return sslsocket__t13_fail(t, 70, "the server chose a protocol version that was not "
                                              "offered");
        /* RFC 8446 4.1.3: a server able to do TLS 1.3 that answers an
           offer of it with TLS 1.2 or older says so in its random */
        if (memcmp(d.p + 2 + 24, downgrade, 7) == 0 && (d.p[33] == 1 || d.p[33] == 0))
            return sslsocket__t13_fail(t, 47, "downgrade refused: the server supports TLS 1.3 "
                                              "but answered with an older version (its random "
                                              "says so)");
        t->state = SSLSOCKET__T13_FALLBACK;
        return 1;
    }
    if (d.n < at + 2 + 1 + 2 || d.p[0] != 3 || d.p[1] != 3)
        return sslsocket__t13_fail(t, 50, "malformed ServerHello");
    is_hrr = memcmp(d.p + 2, hrr, 32) == 0;
    if (d.p[34] != t->sid_len || memcmp(d.p + 35, t->session_id, t->sid_len) != 0)
        return sslsocket__t13_fail(t, 47, "the server did not echo the session id");
    version = (d.p[at] << 8) | d.p[at + 1]; /* (the suite) */
    for (i = 0; i < t->suites13_len && (t->suites13[i] << 8 | t->suites13[i + 1]) != version;)
        i += 2;
    if (i == t->suites13_len || d.p[at + 2] != 0 || (t->hrr && version != t->suite))
        return sslsocket__t13_fail(t, 47, "the server chose a suite that was not offered");
    exts.p = d.p + at + 5;
    exts.n = d.n - at - 5;
    if (((d.p[at + 3] << 8) | d.p[at + 4]) != (int)exts.n)
        return sslsocket__t13_fail(t, 50, "malformed ServerHello extensions");
    if (is_hrr)
        return sslsocket__t13_hello_retry(t, m, len, version, exts);
    t->suite = version;
    version = 0;
    while (exts.n >= 4) {
        int type = (exts.p[0] << 8) | exts.p[1];
        size_t el = ((size_t)exts.p[2] << 8) | exts.p[3];
        if (el > exts.n - 4)
            return sslsocket__t13_fail(t, 50, "malformed ServerHello extensions");
        e.p = exts.p + 4;
        e.n = el;
        if (type == 0x2b && el == 2)
            version = (e.p[0] << 8) | e.p[1];
        else if (type == 0x33) {
            size_t kl = t->group == 0x17 ? 65 : 32;
            if (el != 4 + kl || e.p[0] != 0 || e.p[1] != t->group || e.p[2] != 0 || e.p[3] != kl)
                return sslsocket__t13_fail(t, 47, "the server's key share is not of the group "
                                                  "offered");
            memcpy(shared, e.p + 4, kl);
            have_share = 1;
        } else if (type == 0x29 && el == 2) {
            /* pre_shared_key: the ticket we offered (the only one) */
            if (t->offer == NULL || e.p[0] != 0 || e.p[1] != 0)
                return sslsocket__t13_fail(t, 47, "the server selected a PSK that was not "
                                                  "offered");
            t->psk_accepted = 1;
        } else {
            return sslsocket__t13_fail(t, 110, "unsupported extension in ServerHello");
        }
        exts.p += 4 + el;
        exts.n -= 4 + el;
    }
    if (exts.n != 0 || version != 0x0304 || !have_share)
        return sslsocket__t13_fail(t, 70, "the server did not select TLS 1.3");
    if (t->group == 0x17) {
        /* the shared secret is the point's X coordinate */
        if (!br_ec_get_default()->mul(shared, 65, t->p256, 32, BR_EC_secp256r1))
            return sslsocket__t13_fail(t, 47, "bad P-256 share");
        memmove(shared, shared + 1, 32);
    } else {
        if (!br_ec_c25519_m31.mul(shared, 32, t->x25519, 32, BR_EC_curve25519))
            return sslsocket__t13_fail(t, 47, "bad X25519 share");
        for (i = 0, version = 0; i < 32; i++)
            version |= shared[i];
        if (version == 0)
            return sslsocket__t13_fail(t, 47, "X25519 share of low order");
    }
    t->h = sslsocket__t13_suite_hash(t->suite);
    t->hlen = sslsocket__hash_len(t->h);
    if (t->psk_accepted && sslsocket__t13_suite_hash(t->offer->suite) != t->h)
        return sslsocket__t13_fail(t, 47, "the server resumed a ticket with a suite of "
                                          "another hash");
    sslsocket__t13_hash(t, m, len);
    sslsocket__t13_thash(t, th);
    /* the early secret: from the ticket's PSK when resumed, else zeros */
    sslsocket__tls13_next_secret(t->h, NULL, t->psk_accepted ? t->offer->psk : NULL, t->hlen,
                                 early);
    sslsocket__tls13_next_secret(t->h, early, shared, 32, t->hs_secret);
    sslsocket__tls13_derive(t->h, t->hs_secret, "c hs traffic", th, t->c_hs);
    sslsocket__tls13_derive(t->h, t->hs_secret, "s hs traffic", th, t->s_hs);
    sslsocket__t13_keys(t, t->s_hs, &t->rk);
    sslsocket__t13_keys(t, t->c_hs, &t->wk);
    t->keys_in = 1;
    sslsocket__wipe(shared, sizeof shared);
    sslsocket__wipe(t->x25519, sizeof t->x25519);
    sslsocket__wipe(t->p256, sizeof t->p256);
    t->state = SSLSOCKET__T13_WAIT_EE;
    return 0;
}

/* Certificate: entries to the X.509 class, as BearSSL's engine does. */
SSLSOCKET__PRIVATE int
sslsocket__t13_certificate(sslsocket__t13 *t, const unsigned char *m, size_t len)
{
    const br_x509_class **xc = t->xc;
    size_t at, end, list;
    unsigned err;
    if (len < 4 + 1 + 3 || m[4] != 0)
        return sslsocket__t13_fail(t, 50, "malformed Certificate");
    list = ((size_t)m[5] << 16) | ((size_t)m[6] << 8) | m[7];
    if (list != len - 8 || list == 0)
        return sslsocket__t13_fail(t, list == 0 ? 42 : 50, list == 0 ? "the server sent no "
                                   "certificate" : "malformed Certificate");
    (*xc)->start_chain(xc, NULL);
    for (at = 8, end = len; at < end;) {
        size_t cl, el;
        if (end - at < 3)
            return sslsocket__t13_fail(t, 50, "malformed Certificate");
        cl = ((size_t)m[at] << 16) | ((size_t)m[at + 1] << 8) | m[at + 2];
        if (cl == 0 || cl > end - at - 3 || end - at - 3 - cl < 2)
            return sslsocket__t13_fail(t, 50, "malformed Certificate");
        (*xc)->start_cert(xc, (uint32_t)cl);
        (*xc)->append(xc, m + at + 3, cl);
        (*xc)->end_cert(xc);
        at += 3 + cl;
        el = ((size_t)m[at] << 8) | m[at + 1];
        if (el > end - at - 2)
            return sslsocket__t13_fail(t, 50, "malformed Certificate");
        at += 2 + el; /* (OCSP / SCT entries: not read) */
    }
    err = (*xc)->end_chain(xc);
    if (err != 0) {
        sslsocket__t13_fail(t, 42, "certificate verification failed");
        t->br_err = (int)err; /* the socket names the problem */
        return -1;
    }
    t->state = SSLSOCKET__T13_WAIT_CV;
    return 0;
}

/* TLS 1.3's ECDSA scheme for a curve (it names the curve too), 0 none. */
SSLSOCKET__PRIVATE int
sslsocket__t13_ecdsa_scheme(int curve)
{
    return curve == BR_EC_secp256r1 ? 0x0403 : curve == BR_EC_secp384r1 ? 0x0503
           : curve == BR_EC_secp521r1 ? 0x0603 : 0;
}

/* The hash of a signature scheme we offer (ECDSA, RSA-PSS rsae), or NULL. */
SSLSOCKET__PRIVATE const br_hash_class *
sslsocket__t13_scheme_hash(int scheme)
{
    return scheme == 0x0403 || scheme == 0x0804 ? &br_sha256_vtable
           : scheme == 0x0503 || scheme == 0x0805 ? &br_sha384_vtable
           : scheme == 0x0603 || scheme == 0x0806 ? &br_sha512_vtable : NULL;
}

/* CertificateVerify: the server's signature over the transcript so far. */
SSLSOCKET__PRIVATE int
sslsocket__t13_certificate_verify(sslsocket__t13 *t, const unsigned char *m, size_t len)
{
    unsigned char content[64 + 34 + SSLSOCKET__TLS13_MAX_HASH], mh[64];
    const br_x509_pkey *pk = (*t->xc)->get_pkey(t->xc, NULL);
    const br_hash_class *sh;
    br_hash_compat_context hc;
    size_t sl, n;
    int scheme, ok = 0;
    if (len < 8)
        return sslsocket__t13_fail(t, 50, "malformed CertificateVerify");
    scheme = (m[4] << 8) | m[5];
    sl = ((size_t)m[6] << 8) | m[7];
    if (sl != len - 8)
        return sslsocket__t13_fail(t, 50, "malformed CertificateVerify");
    memset(content, 0x20, 64);
    memcpy(content + 64, "TLS 1.3, server CertificateVerify", 34); /* with its 0 */
    sslsocket__t13_thash(t, content + 98);
    n = 98 + t->hlen;
    sh = sslsocket__t13_scheme_hash(scheme);
    if (sh == NULL || pk == NULL)
        return sslsocket__t13_fail(t, 47, "CertificateVerify with a scheme that was not offered");
    sh->init(&hc.vtable);
    sh->update(&hc.vtable, content, n);
    sh->out(&hc.vtable, mh);
    if (pk->key_type == BR_KEYTYPE_EC && scheme == sslsocket__t13_ecdsa_scheme(pk->key.ec.curve))
        ok = br_ecdsa_vrfy_asn1_get_default()(br_ec_get_default(), mh, sslsocket__hash_len(sh),
                                              &pk->key.ec, m + 8, sl) == 1;
    else if (scheme >= 0x0804 && pk->key_type == BR_KEYTYPE_RSA)
        ok = sslsocket__rsa_pss_verify(&pk->key.rsa, sh, mh, m + 8, sl);
    if (!ok)
        return sslsocket__t13_fail(t, 51, "the server's CertificateVerify signature is invalid");
    t->state = SSLSOCKET__T13_WAIT_FIN;
    return 0;
}

/* CertificateRequest (4.3.2): its context, echoed in our Certificate, and
   the signature scheme for our key among those it accepts: ECDSA on the
   key's curve, else RSA-PSS (rsae) with SHA-256, -384, -512.  None (or no
   identity): an empty Certificate, and the server decides. */
SSLSOCKET__PRIVATE int
sslsocket__t13_certificate_request(sslsocket__t13 *t, const unsigned char *m, size_t len)
{
    size_t cl = len > 4 ? m[4] : 0, at, end, el, i;
    int have_sigs = 0;
    if (len < 5 + cl + 2 || cl > sizeof t->cr_ctx
        || (((size_t)m[5 + cl] << 8) | m[6 + cl]) != len - 7 - cl)
        return sslsocket__t13_fail(t, 50, "malformed CertificateRequest");
    memcpy(t->cr_ctx, m + 5, cl);
    t->cr_ctx_len = cl;
    t->cert_requested = 1;
    t->cr_scheme = 0;
    for (at = 7 + cl, end = len; at + 4 <= end; at += 4 + el) {
        const unsigned char *v = m + at + 4;
        el = ((size_t)m[at + 2] << 8) | m[at + 3];
        if (el > end - at - 4)
            return sslsocket__t13_fail(t, 50, "malformed CertificateRequest");
        if (m[at] != 0 || m[at + 1] != 0x0d)
            continue;
        if (el < 2 || (((size_t)v[0] << 8) | v[1]) != el - 2 || (el & 1))
            return sslsocket__t13_fail(t, 50, "malformed CertificateRequest");
        have_sigs = 1;
        for (i = 2; t->id != NULL && i < el; i += 2) {
            int sc = (v[i] << 8) | v[i + 1];
            const sslsocket__key *k = &t->id->key;
            if (k->type == BR_KEYTYPE_EC && sc == sslsocket__t13_ecdsa_scheme(k->ec.curve))
                t->cr_scheme = sc;
            else if (k->type == BR_KEYTYPE_RSA && sc >= 0x0804 && sc <= 0x0806
                     && (t->cr_scheme == 0 || sc < t->cr_scheme)) /* SHA-256 first */
                t->cr_scheme = sc;
        }
    }
    if (at != end || !have_sigs)
        return sslsocket__t13_fail(t, have_sigs ? 50 : 109,
                                   "CertificateRequest without signature_algorithms");
    return 0;
}

/* Our Certificate (the identity's chain, or empty) and, with a chain, its
   CertificateVerify, at `out`, hashed; the length, 0 when it does not
   fit in cap. */
SSLSOCKET__PRIVATE size_t
sslsocket__t13_client_auth(sslsocket__t13 *t, unsigned char *out, size_t cap)
{
    const sslsocket__identity *id = t->cr_scheme ? t->id : NULL;
    size_t n = 0, list = 0, i, sl;
    unsigned char content[64 + 34 + SSLSOCKET__TLS13_MAX_HASH], mh[64];
    const br_hash_class *sh;
    br_hash_compat_context hc;
    for (i = 0; id != NULL && i < id->n_chain; i++)
        list += 3 + id->chain[i].data_len + 2;
    if (cap < 4 + 1 + t->cr_ctx_len + 3 + list + 8 + 512)
        return 0;
    out[n++] = 11;
    n += 3;
    out[n++] = (unsigned char)t->cr_ctx_len;
    memcpy(out + n, t->cr_ctx, t->cr_ctx_len);
    n += t->cr_ctx_len;
    out[n++] = (unsigned char)(list >> 16);
    out[n++] = (unsigned char)(list >> 8);
    out[n++] = (unsigned char)list;
    for (i = 0; id != NULL && i < id->n_chain; i++) {
        size_t cl = id->chain[i].data_len;
        out[n++] = (unsigned char)(cl >> 16);
        out[n++] = (unsigned char)(cl >> 8);
        out[n++] = (unsigned char)cl;
        memcpy(out + n, id->chain[i].data, cl);
        n += cl;
        out[n++] = 0; /* no extensions */
        out[n++] = 0;
    }
    out[1] = (unsigned char)((n - 4) >> 16);
    out[2] = (unsigned char)((n - 4) >> 8);
    out[3] = (unsigned char)(n - 4);
    sslsocket__t13_hash(t, out, n);
    if (id == NULL)
        return n;
    /* CertificateVerify over the transcript through our Certificate */
    memset(content, 0x20, 64);
    memcpy(content + 64, "TLS 1.3, client CertificateVerify", 34); /* with its 0 */
    sslsocket__t13_thash(t, content + 98);
    sh = sslsocket__t13_scheme_hash(t->cr_scheme);
    sh->init(&hc.vtable);
    sh->update(&hc.vtable, content, 98 + t->hlen);
    sh->out(&hc.vtable, mh);
    if (id->key.type == BR_KEYTYPE_EC) {
        sl = br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), sh, mh, &id->key.ec,
                                              out + n + 8);
    } else {
        /* the salt: HashLen bytes from the client's handshake secret,
           unknown to anyone else (PSS needs it unpredictable, not secret) */
        unsigned char salt[64];
        sslsocket__hkdf_expand_label(t->h, t->c_hs, "pss salt", content + 98, t->hlen, salt,
                                     sslsocket__hash_len(sh));
        sl = sslsocket__rsa_pss_sign(&id->key.rsa, sh, mh, salt, out + n + 8, 512);
    }
    if (sl == 0)
        return 0;
    out[n] = 15;
    out[n + 1] = (unsigned char)((4 + sl) >> 16);
    out[n + 2] = (unsigned char)((4 + sl) >> 8);
    out[n + 3] = (unsigned char)(4 + sl);
    out[n + 4] = (unsigned char)(t->cr_scheme >> 8);
    out[n + 5] = (unsigned char)t->cr_scheme;
    out[n + 6] = (unsigned char)(sl >> 8);
    out[n + 7] = (unsigned char)sl;
    sslsocket__t13_hash(t, out + n, 8 + sl);
    return n + 8 + sl;
}

/* The server's Finished: checked; then the client's flight (a
   ChangeCipherSpec for middleboxes, our Certificate and CertificateVerify
   when asked, Finished) and the application keys. */
SSLSOCKET__PRIVATE int
sslsocket__t13_server_finished(sslsocket__t13 *t, const unsigned char *m, size_t len)
{
    unsigned char th[SSLSOCKET__TLS13_MAX_HASH], want[SSLSOCKET__TLS13_MAX_HASH];
    static const unsigned char ccs[6] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01 };
    unsigned char ms[SSLSOCKET__TLS13_MAX_HASH];
    unsigned char *rec, *out;
    unsigned diff = 0;
    size_t i, cap;
    sslsocket__t13_thash(t, th);
    sslsocket__tls13_finished(t->h, t->s_hs, th, want);
    if (len != 4 + t->hlen)
        return sslsocket__t13_fail(t, 50, "malformed Finished");
    for (i = 0; i < t->hlen; i++)
        diff |= (unsigned)(want[i] ^ m[4 + i]);
    if (diff != 0)
        return sslsocket__t13_fail(t, 51, "the server's Finished is wrong");
    sslsocket__t13_hash(t, m, len);
    sslsocket__t13_thash(t, th);
    /* application secrets over ClientHello .. server Finished */
    sslsocket__tls13_next_secret(t->h, t->hs_secret, NULL, 0, ms);
    sslsocket__tls13_derive(t->h, ms, "s ap traffic", th, t->s_ap);
    sslsocket__t13_keys(t, t->s_ap, &t->rk);
    /* ChangeCipherSpec, then our Certificate and CertificateVerify when
       asked for, and Finished, in one record under the client's handshake
       keys (into t->fl when the socket gave room for a chain) */
    out = t->fl ? t->fl : t->out;
    cap = t->fl ? t->fl_cap : sizeof t->out;
    memcpy(out, ccs, sizeof ccs);
    rec = out + 6;
    i = 5;
    if (t->cert_requested) {
        unsigned char th2[SSLSOCKET__TLS13_MAX_HASH];
        size_t room = 0, cl;
        if (cap > 6 + 5 + 4 + t->hlen + 17) /* (one record: 16384 bytes of plaintext) */
            room = cap - (6 + 5 + 4 + t->hlen + 17);
        if (room > 16384 - 4 - t->hlen)
            room = 16384 - 4 - t->hlen;
        cl = sslsocket__t13_client_auth(t, rec + 5, room);
        if (cl == 0) {
            sslsocket__wipe(ms, sizeof ms);
            return sslsocket__t13_fail(t, 80, "our Certificate and CertificateVerify do not fit "
                                              "one record");
        }
        i += cl;
        sslsocket__t13_thash(t, th2);
        rec[i] = 20;
        rec[i + 1] = rec[i + 2] = 0;
        rec[i + 3] = (unsigned char)t->hlen;
        sslsocket__tls13_finished(t->h, t->c_hs, th2, rec + i + 4);
    } else {
        rec[i] = 20;
        rec[i + 1] = rec[i + 2] = 0;
        rec[i + 3] = (unsigned char)t->hlen;
        sslsocket__tls13_finished(t->h, t->c_hs, th, rec + i + 4);
    }
    sslsocket__t13_hash(t, rec + i, 4 + t->hlen);
    {
        /* the resumption secret, over the transcript through our Finished */
        unsigned char th3[SSLSOCKET__TLS13_MAX_HASH];
        sslsocket__t13_thash(t, th3);
        sslsocket__tls13_derive(t->h, ms, "res master", th3, t->res);
    }
    t->out_len = 6 + sslsocket__tls13_seal(&t->wk, 22, rec, i - 5 + 4 + t->hlen);
    t->fl_used = t->fl != NULL;
    sslsocket__tls13_derive(t->h, ms, "c ap traffic", th, t->c_ap);
    sslsocket__t13_keys(t, t->c_ap, &t->wk);
    sslsocket__wipe(ms, sizeof ms);
    sslsocket__wipe(t->hs_secret, sizeof t->hs_secret);
    t->state = SSLSOCKET__T13_CONNECTED;
    return 0;
}

/* EncryptedExtensions: the ALPN choice, which must be one we offered. */
SSLSOCKET__PRIVATE int
sslsocket__t13_encrypted_extensions(sslsocket__t13 *t, const unsigned char *m, size_t len)
{
    size_t at = 6, end;
    if (len < 6 || (((size_t)m[4] << 8) | m[5]) != len - 6)
        return sslsocket__t13_fail(t, 50, "malformed EncryptedExtensions");
    for (end = len; at + 4 <= end;) {
        int type = (m[at] << 8) | m[at + 1];
        size_t el = ((size_t)m[at + 2] << 8) | m[at + 3], i;
        if (el > end - at - 4)
            return sslsocket__t13_fail(t, 50, "malformed EncryptedExtensions");
        if (type == 0x10) {
            const unsigned char *v = m + at + 4;
            size_t nl = el >= 3 ? v[2] : 0;
            int offered = 0;
            if (el < 3 || ((size_t)v[0] << 8 | v[1]) != el - 2 || nl != el - 3 || nl == 0
                || nl >= sizeof t->alpn)
                return sslsocket__t13_fail(t, 50, "malformed ALPN in EncryptedExtensions");
            for (i = 0; i + 1 <= t->alpn_offer_len; i += 1 + t->alpn_offer[i])
                offered |= t->alpn_offer[i] == nl && memcmp(t->alpn_offer + i + 1, v + 3, nl) == 0;
            if (!offered)
                return sslsocket__t13_fail(t, 47, "the server chose an ALPN protocol that was "
                                                  "not offered");
            memcpy(t->alpn, v + 3, nl);
            t->alpn[nl] = 0;
        }
        at += 4 + el;
    }
    return at == len ? 0 : sslsocket__t13_fail(t, 50, "malformed EncryptedExtensions");
}

/* The next generation of a traffic secret (7.2) and its keys. */
SSLSOCKET__PRIVATE void
sslsocket__t13_next_keys(sslsocket__t13 *t, unsigned char *secret, sslsocket__tls13_keys *k)
{
    unsigned char next[SSLSOCKET__TLS13_MAX_HASH];
    sslsocket__hkdf_expand_label(t->h, secret, "traffic upd", NULL, 0, next, t->hlen);
    memcpy(secret, next, t->hlen);
    sslsocket__wipe(next, sizeof next);
    sslsocket__tls13_traffic_keys(t->h, secret, k->key_len, k->chacha, k);
}

/* KeyUpdate (4.6.3): new read keys; when the peer asks, our own
   KeyUpdate (under the old write keys, into t->out) and new write keys. */
SSLSOCKET__PRIVATE int
sslsocket__t13_key_update(sslsocket__t13 *t, const unsigned char *m, size_t len)
{
    if (len != 5 || m[1] != 0 || m[2] != 0 || m[3] != 1 || m[4] > 1)
        return sslsocket__t13_fail(t, len == 5 && m[4] > 1 ? 47 : 50, "malformed KeyUpdate");
    sslsocket__t13_next_keys(t, t->s_ap, &t->rk);
    t->key_updates++;
    if (m[4] == 1 && t->out_len + 5 + 5 + 17 <= sizeof t->out) {
        unsigned char *r = t->out + t->out_len;
        r[5] = 24; /* KeyUpdate, length 1, update_not_requested */
        r[6] = r[7] = 0;
        r[8] = 1;
        r[9] = 0;
        t->out_len += sslsocket__tls13_seal(&t->wk, 22, r, 5);
        sslsocket__t13_next_keys(t, t->c_ap, &t->wk);
    }
    return 0;
}

/* NewSessionTicket (4.6.1): the ticket and its PSK into t->nst when it
   fits (else it is not kept: no resumption). */
SSLSOCKET__PRIVATE int
sslsocket__t13_new_ticket(sslsocket__t13 *t, const unsigned char *m, size_t len)
{
    size_t nl = len > 12 ? m[12] : 0, tl, el;
    uint32_t lifetime;
    if (len < 13 + nl + 2)
        return sslsocket__t13_fail(t, 50, "malformed NewSessionTicket");
    tl = ((size_t)m[13 + nl] << 8) | m[14 + nl];
    if (tl == 0 || len < 15 + nl + tl + 2)
        return sslsocket__t13_fail(t, 50, "malformed NewSessionTicket");
    el = ((size_t)m[15 + nl + tl] << 8) | m[16 + nl + tl];
    if (17 + nl + tl + el != len)
        return sslsocket__t13_fail(t, 50, "malformed NewSessionTicket");
    lifetime = (uint32_t)m[4] << 24 | (uint32_t)m[5] << 16 | (uint32_t)m[6] << 8 | m[7];
    if (lifetime > 604800)
        return sslsocket__t13_fail(t, 47, "a ticket lifetime over seven days");
    if (t->nst == NULL || lifetime == 0 || tl > sizeof t->nst->data)
        return 0;
    memcpy(t->nst->data, m + 15 + nl, tl);
    t->nst->len = tl;
    t->nst->suite = t->suite;
    t->nst->lifetime = lifetime;
    t->nst->age_add = (uint32_t)m[8] << 24 | (uint32_t)m[9] << 16 | (uint32_t)m[10] << 8 | m[11];
    memset(t->nst->psk, 0, sizeof t->nst->psk);
    sslsocket__hkdf_expand_label(t->h, t->res, "resumption", m + 13, nl, t->nst->psk, t->hlen);
    t->nst_new = 1;
    return 0;
}

/* One handshake message (type, 24-bit length, body). */
SSLSOCKET__PRIVATE int
sslsocket__t13_message(sslsocket__t13 *t, const unsigned char *m, size_t len)
{
    int type = m[0];
    switch (t->state) {
    case SSLSOCKET__T13_WAIT_SH:
        return type == 2 ? sslsocket__t13_server_hello(t, m, len)
                         : sslsocket__t13_fail(t, 10, "expected ServerHello");
    case SSLSOCKET__T13_WAIT_EE:
        if (type != 8)
            return sslsocket__t13_fail(t, 10, "expected EncryptedExtensions");
        if (sslsocket__t13_encrypted_extensions(t, m, len) < 0)
            return -1;
        /* resumed: no certificates, the server's Finished next */
        t->state = t->psk_accepted ? SSLSOCKET__T13_WAIT_FIN : SSLSOCKET__T13_WAIT_CERT;
        break;
    case SSLSOCKET__T13_WAIT_CERT:
        if (type == 13 && !t->cert_requested) {
            if (sslsocket__t13_certificate_request(t, m, len) < 0)
                return -1;
            break;
        }
        if (type != 11 || sslsocket__t13_certificate(t, m, len) < 0)
            return t->state == SSLSOCKET__T13_FAILED ? -1
                   : sslsocket__t13_fail(t, 10, "expected Certificate");
        break;
    case SSLSOCKET__T13_WAIT_CV:
        if (type != 15 || sslsocket__t13_certificate_verify(t, m, len) < 0)
            return t->state == SSLSOCKET__T13_FAILED ? -1
                   : sslsocket__t13_fail(t, 10, "expected CertificateVerify");
        break;
    case SSLSOCKET__T13_WAIT_FIN:
        return type == 20 ? sslsocket__t13_server_finished(t, m, len)
                          : sslsocket__t13_fail(t, 10, "expected Finished");
    case SSLSOCKET__T13_CONNECTED:
        if (type == 4)
            return sslsocket__t13_new_ticket(t, m, len);
        if (type == 24)
            return sslsocket__t13_key_update(t, m, len);
        return sslsocket__t13_fail(t, 10, "unexpected handshake message");
    default:
        return -1;
    }
    sslsocket__t13_hash(t, m, len);
    return 0;
}

/* A protected record that is not a handshake's (its inner type, n bytes
   of content at rec + 5): application data (0, *app_len), an alert or
   close_notify (-1, t->br_err 0 for close_notify), anything else refused.
   Shared by the client and the server. */
SSLSOCKET__PRIVATE int
sslsocket__t13_inner(sslsocket__t13 *t, int type, const unsigned char *rec, size_t n,
                     size_t *app_len, const char *alert_why)
{
    if (type == 23) {
        if (t->state != SSLSOCKET__T13_CONNECTED)
            return sslsocket__t13_fail(t, 10, "application data before the handshake ended");
        *app_len = n;
        return 0;
    }
    if (type == 21) {
        sslsocket__t13_fail(t, 0, n == 2 && rec[6] == 0 ? "close_notify" : alert_why);
        t->br_err = n == 2 && rec[6] == 0 ? 0 : BR_ERR_RECV_FATAL_ALERT + (n == 2 ? rec[6] : 0);
        return -1;
    }
    return sslsocket__t13_fail(t, 10, "unexpected record");
}

/* One record received (header included, in place).  Handshake bytes are
   reassembled into messages; application data is left at rec + 5,
   *app_len bytes.  0, or -1 (t->alert, t->why); offering TLS 1.2 too, a
   TLS 1.2 ServerHello stops it: 1 (it starts at rec + t->fb_at) or 2 (at
   t->hbuf + t->fb_at, reassembled). */
SSLSOCKET__PRIVATE int
sslsocket__t13_record(sslsocket__t13 *t, unsigned char *rec, size_t len, size_t *app_len)
{
    int type = rec[0], r;
    size_t n = len - 5, at;
    const unsigned char *p = rec + 5;
    *app_len = 0;
    if (t->state == SSLSOCKET__T13_FAILED)
        return -1;
    if (type == 20 && (t->state != SSLSOCKET__T13_WAIT_SH || t->hrr)
        && t->state != SSLSOCKET__T13_CONNECTED && n == 1 && p[0] == 1)
        return 0; /* the server's compatibility ChangeCipherSpec */
    if (t->keys_in && type == 23) {
        if (sslsocket__tls13_open(&t->rk, rec, len, &type, &n) < 0)
            return sslsocket__t13_fail_br(t, 20, BR_ERR_BAD_MAC, "bad record MAC");
    } else if (type == 21 && n == 2) {
        sslsocket__t13_fail(t, 0, "the server sent an alert");
        t->br_err = BR_ERR_RECV_FATAL_ALERT + p[1];
        return -1;
    } else if (t->keys_in || type != 22) {
        return sslsocket__t13_fail(t, 10, "unexpected record");
    }
    if (type != 22)
        return sslsocket__t13_inner(t, type, rec, n, app_len, "the server sent an alert");
    if (n == 0)
        return sslsocket__t13_fail(t, 10, "unexpected record");
    /* whole messages straight from the record; a message that spans
       records is reassembled in hbuf */
    while (t->hlen_in == 0 && n >= 4) {
        size_t ml = ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
        int was_sh = t->state == SSLSOCKET__T13_WAIT_SH;
        if (n < 4 + ml)
            break;
        if ((r = sslsocket__t13_message(t, p, 4 + ml)) != 0) {
            t->fb_at = (size_t)(p - rec); /* TLS 1.2: the ServerHello there */
            return r;
        }
        p += 4 + ml;
        n -= 4 + ml;
        if (was_sh && n != 0)
            return sslsocket__t13_fail(t, 10, "data after ServerHello in its record");
    }
    if (n == 0)
        return 0;
    if (t->hbuf == NULL || t->hlen_in + n > t->hcap)
        return sslsocket__t13_fail(t, 80, "handshake message too large");
    memcpy(t->hbuf + t->hlen_in, p, n);
    t->hlen_in += n;
    at = 0;
    while (t->hlen_in - at >= 4) {
        size_t ml = ((size_t)t->hbuf[at + 1] << 16) | ((size_t)t->hbuf[at + 2] << 8)
                    | t->hbuf[at + 3];
        int was_sh = t->state == SSLSOCKET__T13_WAIT_SH;
        if (t->hlen_in - at < 4 + ml)
            break;
        if ((r = sslsocket__t13_message(t, t->hbuf + at, 4 + ml)) != 0) {
            t->fb_at = at; /* TLS 1.2: the ServerHello at hbuf + at */
            return r < 0 ? r : 2;
        }
        at += 4 + ml;
        if (was_sh && at != t->hlen_in)
            return sslsocket__t13_fail(t, 10, "data after ServerHello in its record");
    }
    memmove(t->hbuf, t->hbuf + at, t->hlen_in - at);
    t->hlen_in -= at;
    return 0;
}


/* ---- the TLS 1.3 server handshake, without I/O ----
   sslsocket__t13s_start() readies t for one connection and
   sslsocket__t13s_record() takes each record received, as
   sslsocket__t13_record() does for the client.  The first ClientHello
   decides: one that offers TLS 1.3 (supported_versions) is served here;
   one that does not goes to BearSSL's TLS 1.2 engine when the range
   allows it (1: it is the record at rec, unchanged; 2: it was
   reassembled at t->hbuf, t->hlen_in bytes), else protocol_version.
   Our flight (ServerHello, one ChangeCipherSpec for middleboxes, then
   EncryptedExtensions, CertificateRequest, Certificate, CertificateVerify
   and Finished under the handshake keys) is written at t->fl.  Not yet:
   tickets and PSK resumption (the resumption secret would be derived in
   sslsocket__t13s_client_finished, from the transcript through the
   client's Finished; a NewSessionTicket would follow it); 0-RTT is
   refused by ignoring early_data and skipping the records that do not
   open under the handshake keys (RFC 8446 4.2.10). */

/* What the server reads from a ClientHello (pointers into it). */
typedef struct sslsocket__t13_ch {
    const unsigned char *random, *sid, *suites, *comp;
    size_t sid_len, suites_len, comp_len;
    const unsigned char *sni, *groups, *sigs, *alpn, *x25519, *p256;
    size_t sni_len, groups_len, sigs_len, alpn_len;
    int offers13, has_shares, early, psk;
} sslsocket__t13_ch;

/* Parse a ClientHello (m: the handshake message, len bytes, its header
   checked by the caller).  0, or the alert to send with *why. */
SSLSOCKET__PRIVATE int
sslsocket__t13s_parse_ch(const unsigned char *m, size_t len, sslsocket__t13_ch *ch,
                         const char **why)
{
    static const int known[] = { 0x00, 0x0a, 0x0d, 0x10, 0x2b, 0x33, 0x29, 0x2a, 0x2c, 0x2d };
    const unsigned char *p = m + 4, *end = m + len;
    unsigned seen = 0;
    size_t el, i, k, nl;
    memset(ch, 0, sizeof *ch);
    *why = "malformed ClientHello";
    if (len < 4 + 2 + 32 + 1)
        return 50;
    ch->random = p + 2;
    p += 34;
    ch->sid_len = *p++;
    if (ch->sid_len > 32 || (size_t)(end - p) < ch->sid_len + 2)
        return 50;
    ch->sid = p;
    p += ch->sid_len;
    ch->suites_len = ((size_t)p[0] << 8) | p[1];
    p += 2;
    if (ch->suites_len < 2 || (ch->suites_len & 1) || (size_t)(end - p) < ch->suites_len + 1)
        return 50;
    ch->suites = p;
    p += ch->suites_len;
    ch->comp_len = *p++;
    if (ch->comp_len < 1 || (size_t)(end - p) < ch->comp_len)
        return 50;
    ch->comp = p;
    p += ch->comp_len;
    if (p == end)
        return 0; /* no extensions: not TLS 1.3 */
    if ((size_t)(end - p) < 2 || (((size_t)p[0] << 8) | p[1]) != (size_t)(end - p) - 2)
        return 50;
    for (p += 2; p < end; p += el) {
        const unsigned char *v;
        int type;
        if ((size_t)(end - p) < 4)
            return 50;
        type = (p[0] << 8) | p[1];
        el = ((size_t)p[2] << 8) | p[3];
        p += 4;
        v = p;
        if (el > (size_t)(end - p))
            return 50;
        if (ch->psk) {
            *why = "pre_shared_key is not the last extension of the ClientHello";
            return 47;
        }
        for (k = 0; k < sizeof known / sizeof known[0]; k++) {
            if (known[k] != type)
                continue;
            if (seen & (1u << k)) {
                *why = "the same extension twice in the ClientHello";
                return 47;
            }
            seen |= 1u << k;
        }
        switch (type) {
        case 0x00: /* server_name: the first host_name */
            if (el < 2 || (((size_t)v[0] << 8) | v[1]) != el - 2)
                return 50;
            for (i = 2; i < el; i += 3 + nl) {
                if (el - i < 3)
                    return 50;
                nl = ((size_t)v[i + 1] << 8) | v[i + 2];
                if (nl > el - i - 3)
                    return 50;
                if (v[i] == 0 && ch->sni == NULL) {
                    if (nl == 0 || memchr(v + i + 3, 0, nl) != NULL)
                        return 50;
                    ch->sni = v + i + 3;
                    ch->sni_len = nl;
                }
            }
            break;
        case 0x0a: /* supported_groups */
        case 0x0d: /* signature_algorithms */
            if (el < 4 || (((size_t)v[0] << 8) | v[1]) != el - 2 || (el & 1))
                return 50;
            if (type == 0x0a) {
                ch->groups = v + 2;
                ch->groups_len = el - 2;
            } else {
                ch->sigs = v + 2;
                ch->sigs_len = el - 2;
            }
            break;
        case 0x10: /* ALPN */
            if (el < 3 || (((size_t)v[0] << 8) | v[1]) != el - 2)
                return 50;
            for (i = 2; i < el; i += 1 + (size_t)v[i])
                if (v[i] == 0 || v[i] > el - i - 1)
                    return 50;
            ch->alpn = v + 2;
            ch->alpn_len = el - 2;
            break;
        case 0x2b: /* supported_versions */
            if (el < 3 || v[0] != el - 1 || (el & 1) == 0)
                return 50;
            for (i = 1; i < el; i += 2)
                ch->offers13 |= v[i] == 3 && v[i + 1] == 4;
            break;
        case 0x33: /* key_share: X25519 and P-256 are taken */
            if (el < 2 || (((size_t)v[0] << 8) | v[1]) != el - 2)
                return 50;
            ch->has_shares = 1;
            for (i = 2; i < el; i += 4 + nl) {
                int g;
                if (el - i < 4)
                    return 50;
                g = (v[i] << 8) | v[i + 1];
                nl = ((size_t)v[i + 2] << 8) | v[i + 3];
                if (nl == 0 || nl > el - i - 4)
                    return 50;
                *why = "bad key share in the ClientHello";
                if (g == 0x1d) {
                    if (nl != 32 || ch->x25519 != NULL)
                        return 47;
                    ch->x25519 = v + i + 4;
                } else if (g == 0x17) {
                    if (nl != 65 || v[i + 4] != 4 || ch->p256 != NULL)
                        return 47;
                    ch->p256 = v + i + 4;
                }
                *why = "malformed ClientHello";
            }
            break;
        case 0x2a: /* early_data: refused, by ignoring it */
            ch->early = 1;
            break;
        case 0x29: /* pre_shared_key: no resumption yet, ignored */
            ch->psk = 1;
            break;
        default:
            break;
        }
    }
    return 0;
}

/* Our TLS 1.3 suites: the configuration's, in its order
   (sslsocket_config_set_ciphers); all three, AES-GCM first, without one. */
SSLSOCKET__PRIVATE void
sslsocket__t13s_order(sslsocket__t13 *t, const sslsocket_config *cfg)
{
    size_t i;
    t->n_pref = 0;
    for (i = 0; cfg != NULL && i < cfg->n_suites13 && i < 3; i++)
        t->pref[t->n_pref++] = cfg->suites13[i];
    if (t->n_pref == 0) {
        t->pref[0] = 0x1301;
        t->pref[1] = 0x1302;
        t->pref[2] = 0x1303;
        t->n_pref = 3;
    }
}

/* Ready t to serve one connection.  `rnd` is 96 random bytes (our random,
   the X25519 and P-256 private keys); want_cert 0 (none), 1 (ask), 2
   (require) with `xc` the client chain's verifier; allow12: a ClientHello
   without TLS 1.3 is for BearSSL's engine; our flight goes to fl (cap
   bytes), where messages are also reassembled (nothing is read while a
   flight waits to leave). */
SSLSOCKET__PRIVATE void
sslsocket__t13s_start(sslsocket__t13 *t, const sslsocket_config *cfg, const unsigned char *rnd,
                      int want_cert, int allow12, const br_x509_class **xc, unsigned char *fl,
                      size_t cap)
{
    memset(t, 0, sizeof *t);
    t->server = 1;
    t->cfg = cfg;
    memcpy(t->s_random, rnd, 32);
    memcpy(t->x25519, rnd + 32, 32);
    memcpy(t->p256, rnd + 64, 32);
    t->want_cert = want_cert;
    t->allow12 = allow12;
    t->xc = xc;
    t->fl = t->hbuf = fl;
    t->fl_cap = t->hcap = cap;
    sslsocket__t13s_order(t, cfg);
    br_sha256_init(&t->th256);
    br_sha384_init(&t->th384);
    t->state = SSLSOCKET__T13_S_WAIT_CH;
}

/* A ServerHello at out: TLS 1.3, t->suite, the client's session id
   echoed, our key share `pub` of t->group; with pub NULL and the HRR
   random, a HelloRetryRequest naming the group.  Returns its length. */
SSLSOCKET__PRIVATE size_t
sslsocket__t13s_write_sh(const sslsocket__t13 *t, const unsigned char *random,
                         const unsigned char *pub, size_t kl, unsigned char *out)
{
    size_t n = 4, ext = pub ? 6 + 8 + kl : 6 + 6;
    out[0] = 2;
    out[n++] = 3;
    out[n++] = 3;
    memcpy(out + n, random, 32);
    n += 32;
    out[n++] = (unsigned char)t->sid_len;
    memcpy(out + n, t->session_id, t->sid_len);
    n += t->sid_len;
    out[n++] = (unsigned char)(t->suite >> 8);
    out[n++] = (unsigned char)t->suite;
    out[n++] = 0;
    out[n++] = (unsigned char)(ext >> 8);
    out[n++] = (unsigned char)ext;
    out[n++] = 0x00; out[n++] = 0x2b; out[n++] = 0; out[n++] = 2; out[n++] = 3; out[n++] = 4;
    out[n++] = 0x00; out[n++] = 0x33;
    out[n++] = 0;
    out[n++] = (unsigned char)(pub ? 4 + kl : 2);
    out[n++] = 0;
    out[n++] = (unsigned char)t->group;
    if (pub) {
        out[n++] = 0;
        out[n++] = (unsigned char)kl;
        memcpy(out + n, pub, kl);
        n += kl;
    }
    out[1] = 0;
    out[2] = (unsigned char)((n - 4) >> 8);
    out[3] = (unsigned char)(n - 4);
    return n;
}

/* HelloRetryRequest (4.1.4): no key share we take, but a group we take
   is supported.  The transcript restarts from message_hash(ClientHello1);
   the second ClientHello is checked against the first. */
SSLSOCKET__PRIVATE int
sslsocket__t13s_hello_retry(sslsocket__t13 *t, const unsigned char *m, size_t len, int group)
{
    static const unsigned char hrr[32] = {
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
        0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C
    };
    static const unsigned char ccs[6] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01 };
    unsigned char h1[4 + SSLSOCKET__TLS13_MAX_HASH], *o = t->fl;
    size_t n;
    if (t->fl_cap < 5 + 4 + 2 + 32 + 1 + 32 + 3 + 2 + 12 + 6)
        return sslsocket__t13_fail(t, 80, "no room for a HelloRetryRequest");
    t->hrr = 1;
    t->group = group;
    sslsocket__t13_hash(t, m, len);
    h1[0] = 254;
    h1[1] = h1[2] = 0;
    h1[3] = (unsigned char)t->hlen;
    sslsocket__t13_thash(t, h1 + 4);
    br_sha256_init(&t->th256);
    br_sha384_init(&t->th384);
    sslsocket__t13_hash(t, h1, 4 + t->hlen);
    n = sslsocket__t13s_write_sh(t, hrr, NULL, 0, o + 5);
    sslsocket__t13_hash(t, o + 5, n);
    o[0] = 22;
    o[1] = 3;
    o[2] = 3;
    o[3] = (unsigned char)(n >> 8);
    o[4] = (unsigned char)n;
    n += 5;
    if (t->sid_len > 0) { /* middlebox compatibility: after our first message */
        memcpy(o + n, ccs, sizeof ccs);
        n += sizeof ccs;
        t->ccs_sent = 1;
    }
    t->out_len = n;
    t->fl_used = 1;
    t->state = SSLSOCKET__T13_S_WAIT_CH2;
    return 0;
}

/* EncryptedExtensions: the SNI name acknowledged, the ALPN choice. */
SSLSOCKET__PRIVATE size_t
sslsocket__t13s_write_ee(const sslsocket__t13 *t, unsigned char *out)
{
    size_t n = 6, al = strlen(t->alpn);
    out[0] = 8;
    if (t->host[0]) {
        out[n++] = 0; out[n++] = 0; out[n++] = 0; out[n++] = 0;
    }
    if (al > 0) {
        out[n++] = 0x00; out[n++] = 0x10;
        out[n++] = 0; out[n++] = (unsigned char)(al + 3);
        out[n++] = 0; out[n++] = (unsigned char)(al + 1);
        out[n++] = (unsigned char)al;
        memcpy(out + n, t->alpn, al);
        n += al;
    }
    out[1] = 0;
    out[2] = (unsigned char)((n - 4) >> 8);
    out[3] = (unsigned char)(n - 4);
    out[4] = (unsigned char)((n - 6) >> 8);
    out[5] = (unsigned char)(n - 6);
    return n;
}

/* Seal `len` bytes of handshake messages at rec + 5 into records of at
   most 16 KiB, in place: the tail moves 22 bytes on per record (header
   and tag; the caller leaves the room).  Returns the records' length. */
SSLSOCKET__PRIVATE size_t
sslsocket__t13s_seal_all(sslsocket__tls13_keys *k, unsigned char *rec, size_t len)
{
    size_t done = 0;
    while (len > 0) {
        size_t chunk = len > 16384 ? 16384 : len;
        if (len > chunk)
            memmove(rec + done + 5 + chunk + 22, rec + done + 5 + chunk, len - chunk);
        done += sslsocket__tls13_seal(k, 22, rec + done, chunk);
        len -= chunk;
    }
    return done;
}

/* The flight that answers a ClientHello we take (`share`: the client's
   key share, overwritten): ServerHello, a ChangeCipherSpec when the
   client sent a session id (middlebox compatibility, once), then under
   the handshake keys EncryptedExtensions, CertificateRequest (asking),
   Certificate, CertificateVerify, Finished; then the application keys
   for writing (the client's come with its Finished). */
SSLSOCKET__PRIVATE int
sslsocket__t13s_flight(sslsocket__t13 *t, unsigned char *share)
{
    static const unsigned char ccs[6] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01 };
    /* CertificateRequest: empty context; the schemes we check for
       CertificateVerify, and for the chain PKCS#1 too (BearSSL checks
       those in certificates) */
    static const unsigned char cr[] = {
        13, 0, 0, 45, 0, 0, 42,
        0x00, 0x0d, 0x00, 0x0e, 0x00, 0x0c, 0x04, 0x03, 0x05, 0x03, 0x06, 0x03,
        0x08, 0x04, 0x08, 0x05, 0x08, 0x06,
        0x00, 0x32, 0x00, 0x14, 0x00, 0x12, 0x04, 0x03, 0x05, 0x03, 0x06, 0x03,
        0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01, 0x06, 0x01
    };
    const sslsocket__identity *id = t->id;
    unsigned char pub[65], th[SSLSOCKET__TLS13_MAX_HASH], early[SSLSOCKET__TLS13_MAX_HASH];
    unsigned char ms[SSLSOCKET__TLS13_MAX_HASH], mh[64];
    unsigned char content[64 + 34 + SSLSOCKET__TLS13_MAX_HASH], *o = t->fl, *hs;
    const br_hash_class *sh = sslsocket__t13_scheme_hash(t->sig_scheme);
    br_hash_compat_context hc;
    size_t kl, n, i, list = 0, at, sl, need;
    unsigned diff = 0;
    for (i = 0; i < id->n_chain; i++)
        list += 3 + id->chain[i].data_len + 2;
    at = (6 + 4 + 7 + 64) + sizeof cr + (8 + list) + (8 + 512) + (4 + 48);
    need = 5 + 4 + 2 + 32 + 1 + 32 + 3 + 2 + 14 + 65 + 6 + at + 22 * (at / 16384 + 1);
    if (need > t->fl_cap || sh == NULL)
        return sslsocket__t13_fail(t, 80, "our certificate chain does not fit the record buffer");
    /* our key share; the shared secret (P-256: the point's X coordinate) */
    if (t->group == 0x17) {
        kl = br_ec_get_default()->mulgen(pub, t->p256, 32, BR_EC_secp256r1);
        if (kl != 65 || !br_ec_get_default()->mul(share, 65, t->p256, 32, BR_EC_secp256r1))
            return sslsocket__t13_fail(t, 47, "bad P-256 key share");
        memmove(share, share + 1, 32);
    } else {
        kl = br_ec_c25519_m31.mulgen(pub, t->x25519, 32, BR_EC_curve25519);
        if (kl != 32 || !br_ec_c25519_m31.mul(share, 32, t->x25519, 32, BR_EC_curve25519))
            return sslsocket__t13_fail(t, 47, "bad X25519 key share");
        for (i = 0; i < 32; i++)
            diff |= share[i];
        if (diff == 0)
            return sslsocket__t13_fail(t, 47, "X25519 key share of low order");
    }
    sslsocket__wipe(t->x25519, sizeof t->x25519);
    sslsocket__wipe(t->p256, sizeof t->p256);
    n = sslsocket__t13s_write_sh(t, t->s_random, pub, kl, o + 5);
    sslsocket__t13_hash(t, o + 5, n);
    o[0] = 22;
    o[1] = 3;
    o[2] = 3;
    o[3] = (unsigned char)(n >> 8);
    o[4] = (unsigned char)n;
    n += 5;
    if (t->sid_len > 0 && !t->ccs_sent) {
        memcpy(o + n, ccs, sizeof ccs);
        n += sizeof ccs;
        t->ccs_sent = 1;
    }
    /* the handshake secrets, over ClientHello .. ServerHello */
    sslsocket__t13_thash(t, th);
    sslsocket__tls13_next_secret(t->h, NULL, NULL, 0, early);
    sslsocket__tls13_next_secret(t->h, early, share, 32, t->hs_secret);
    sslsocket__wipe(share, 32);
    sslsocket__tls13_derive(t->h, t->hs_secret, "c hs traffic", th, t->c_hs);
    sslsocket__tls13_derive(t->h, t->hs_secret, "s hs traffic", th, t->s_hs);
    sslsocket__t13_keys(t, t->s_hs, &t->wk);
    sslsocket__t13_keys(t, t->c_hs, &t->rk);
    t->keys_in = 1;
    /* the protected messages at hs, sealed below */
    hs = o + n + 5;
    at = sslsocket__t13s_write_ee(t, hs);
    sslsocket__t13_hash(t, hs, at);
    if (t->want_cert) {
        memcpy(hs + at, cr, sizeof cr);
        sslsocket__t13_hash(t, hs + at, sizeof cr);
        at += sizeof cr;
    }
    i = at;
    hs[at++] = 11;
    hs[at++] = (unsigned char)((4 + list) >> 16);
    hs[at++] = (unsigned char)((4 + list) >> 8);
    hs[at++] = (unsigned char)(4 + list);
    hs[at++] = 0; /* no context */
    hs[at++] = (unsigned char)(list >> 16);
    hs[at++] = (unsigned char)(list >> 8);
    hs[at++] = (unsigned char)list;
    for (kl = 0; kl < id->n_chain; kl++) {
        size_t cl = id->chain[kl].data_len;
        hs[at++] = (unsigned char)(cl >> 16);
        hs[at++] = (unsigned char)(cl >> 8);
        hs[at++] = (unsigned char)cl;
        memcpy(hs + at, id->chain[kl].data, cl);
        at += cl;
        hs[at++] = 0; /* no extensions */
        hs[at++] = 0;
    }
    sslsocket__t13_hash(t, hs + i, at - i);
    /* CertificateVerify over the transcript through our Certificate */
    memset(content, 0x20, 64);
    memcpy(content + 64, "TLS 1.3, server CertificateVerify", 34); /* with its 0 */
    sslsocket__t13_thash(t, content + 98);
    sh->init(&hc.vtable);
    sh->update(&hc.vtable, content, 98 + t->hlen);
    sh->out(&hc.vtable, mh);
    if (id->key.type == BR_KEYTYPE_EC) {
        sl = br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), sh, mh, &id->key.ec,
                                              hs + at + 8);
    } else {
        /* the salt: HashLen bytes from our handshake secret, unknown to
           anyone else (PSS needs it unpredictable, not secret) */
        unsigned char salt[64];
        sslsocket__hkdf_expand_label(t->h, t->s_hs, "pss salt", content + 98, t->hlen, salt,
                                     sslsocket__hash_len(sh));
        sl = sslsocket__rsa_pss_sign(&id->key.rsa, sh, mh, salt, hs + at + 8, 512);
    }
    if (sl == 0) {
        t->keys_in = 0; /* (the alert goes in plaintext: the client has no keys yet) */
        return sslsocket__t13_fail(t, 80, "signing our CertificateVerify failed");
    }
    hs[at] = 15;
    hs[at + 1] = 0;
    hs[at + 2] = (unsigned char)((4 + sl) >> 8);
    hs[at + 3] = (unsigned char)(4 + sl);
    hs[at + 4] = (unsigned char)(t->sig_scheme >> 8);
    hs[at + 5] = (unsigned char)t->sig_scheme;
    hs[at + 6] = (unsigned char)(sl >> 8);
    hs[at + 7] = (unsigned char)sl;
    sslsocket__t13_hash(t, hs + at, 8 + sl);
    at += 8 + sl;
    /* Finished */
    sslsocket__t13_thash(t, th);
    hs[at] = 20;
    hs[at + 1] = hs[at + 2] = 0;
    hs[at + 3] = (unsigned char)t->hlen;
    sslsocket__tls13_finished(t->h, t->s_hs, th, hs + at + 4);
    sslsocket__t13_hash(t, hs + at, 4 + t->hlen);
    at += 4 + t->hlen;
    n += sslsocket__t13s_seal_all(&t->wk, o + n, at);
    /* the application secrets over ClientHello .. our Finished */
    sslsocket__t13_thash(t, th);
    sslsocket__tls13_next_secret(t->h, t->hs_secret, NULL, 0, ms);
    sslsocket__tls13_derive(t->h, ms, "s ap traffic", th, t->s_ap);
    sslsocket__tls13_derive(t->h, ms, "c ap traffic", th, t->c_ap);
    sslsocket__t13_keys(t, t->s_ap, &t->wk);
    sslsocket__wipe(ms, sizeof ms);
    sslsocket__wipe(t->hs_secret, sizeof t->hs_secret);
    t->out_len = n;
    t->fl_used = 1;
    t->state = t->want_cert ? SSLSOCKET__T13_S_WAIT_CERT : SSLSOCKET__T13_S_WAIT_FIN;
    return 0;
}

/* A ClientHello: TLS 1.3 offered (else BearSSL's engine, or
   protocol_version); our suite; the identity by SNI as the TLS 1.2
   server picks it (sslsocket__sni_choose) and a signature scheme for its
   key; X25519, else P-256, from the key shares, else a
   HelloRetryRequest for one of them the client supports; ALPN as
   BearSSL's server chooses (our first protocol the client offers; none
   in common: no ALPN).  The second ClientHello must keep to the first. */
SSLSOCKET__PRIVATE int
sslsocket__t13s_client_hello(sslsocket__t13 *t, const unsigned char *m, size_t len)
{
    const sslsocket_config *cfg = t->cfg;
    const sslsocket__identity *id;
    sslsocket__t13_ch ch;
    const char *why;
    unsigned char share[65];
    int second = t->state == SSLSOCKET__T13_S_WAIT_CH2, suite = 0, group = 0, scheme = 0, k;
    int r = sslsocket__t13s_parse_ch(m, len, &ch, &why);
    size_t i, j;
    if (r != 0 || !ch.offers13) {
        if (!second && t->allow12) {
            t->state = SSLSOCKET__T13_FALLBACK;
            return 1;
        }
        if (r != 0)
            return sslsocket__t13_fail(t, r, why);
        return sslsocket__t13_fail(t, second ? 47 : 70, second
                                   ? "the second ClientHello does not offer TLS 1.3"
                                   : "the client does not offer TLS 1.3 (the server's minimum)");
    }
    if (ch.comp_len != 1 || ch.comp[0] != 0)
        return sslsocket__t13_fail(t, 47, "compression offered in a TLS 1.3 ClientHello");
    for (k = 0; k < t->n_pref && suite == 0; k++)
        for (i = 0; i < ch.suites_len; i += 2)
            if (((ch.suites[i] << 8) | ch.suites[i + 1]) == t->pref[k])
                suite = t->pref[k];
    if (suite == 0)
        return sslsocket__t13_fail(t, 40, "no TLS 1.3 cipher suite in common with the client");
    if (ch.sigs == NULL)
        return sslsocket__t13_fail(t, 109, "ClientHello without signature_algorithms");
    if (ch.groups == NULL || !ch.has_shares)
        return sslsocket__t13_fail(t, 109, "ClientHello without supported_groups or key_share");
    t->host[0] = 0;
    if (ch.sni != NULL && ch.sni_len < sizeof t->host) {
        memcpy(t->host, ch.sni, ch.sni_len);
        t->host[ch.sni_len] = 0;
    }
    id = &cfg->ids[0];
    for (i = 0; t->host[0] && cfg->n_ids > 1 && i < cfg->n_ids; i++) {
        const br_x509_certificate *leaf = &cfg->ids[i].chain[0];
        if (sslsocket__cert_check_host(leaf->data, leaf->data_len, t->host) == 0) {
            id = &cfg->ids[i];
            break;
        }
    }
    for (i = 0; i < ch.sigs_len; i += 2) {
        int sc = (ch.sigs[i] << 8) | ch.sigs[i + 1];
        if (id->key.type == BR_KEYTYPE_EC && sc == sslsocket__t13_ecdsa_scheme(id->key.ec.curve))
            scheme = sc;
        else if (id->key.type == BR_KEYTYPE_RSA && sc >= 0x0804 && sc <= 0x0806
                 && (scheme == 0 || sc < scheme)) /* SHA-256 first */
            scheme = sc;
    }
    if (scheme == 0)
        return sslsocket__t13_fail(t, 40, "no signature scheme in common with the client for "
                                          "our certificate");
    group = ch.x25519 != NULL ? 0x1d : ch.p256 != NULL ? 0x17 : 0;
    if (second && (suite != t->suite || group != t->group || ch.early || ch.sid_len != t->sid_len
                   || memcmp(ch.sid, t->session_id, t->sid_len) != 0
                   || memcmp(ch.random, t->random, 32) != 0))
        return sslsocket__t13_fail(t, 47, "the second ClientHello does not follow the "
                                          "HelloRetryRequest");
    if (!second) {
        t->suite = suite;
        t->h = suite == 0x1302 ? &br_sha384_vtable : &br_sha256_vtable;
        t->hlen = sslsocket__hash_len(t->h);
        memcpy(t->random, ch.random, 32);
        memcpy(t->session_id, ch.sid, ch.sid_len);
        t->sid_len = ch.sid_len;
    }
    if (group == 0) {
        for (i = 0; i < ch.groups_len; i += 2) {
            int g = (ch.groups[i] << 8) | ch.groups[i + 1];
            if (g == 0x1d || (g == 0x17 && group == 0))
                group = g;
        }
        if (group == 0)
            return sslsocket__t13_fail(t, 40, "no key exchange group in common with the client "
                                              "(X25519, P-256)");
        return sslsocket__t13s_hello_retry(t, m, len, group);
    }
    t->alpn[0] = 0;
    for (j = 0; ch.alpn != NULL && j < cfg->n_alpn && !t->alpn[0]; j++) {
        size_t l = strlen(cfg->alpn[j]);
        for (i = 0; i < ch.alpn_len && l < sizeof t->alpn; i += 1 + (size_t)ch.alpn[i])
            if (ch.alpn[i] == l && memcmp(ch.alpn + i + 1, cfg->alpn[j], l) == 0) {
                memcpy(t->alpn, cfg->alpn[j], l + 1);
                break;
            }
    }
    memcpy(share, group == 0x1d ? ch.x25519 : ch.p256, group == 0x1d ? 32 : 65);
    t->group = group;
    t->early = ch.early;
    t->id = id;
    t->sig_scheme = scheme;
    sslsocket__t13_hash(t, m, len); /* (everything needed is copied: the flight may go over it) */
    r = sslsocket__t13s_flight(t, share);
    sslsocket__wipe(share, sizeof share);
    return r;
}

/* The client's Certificate (we asked): its chain to the X.509 class, as
   BearSSL's engine hands it; an empty one refused when required
   (certificate_required). */
SSLSOCKET__PRIVATE int
sslsocket__t13s_certificate(sslsocket__t13 *t, const unsigned char *m, size_t len)
{
    const br_x509_class **xc = t->xc;
    size_t at, list;
    unsigned err;
    if (len < 8 || m[4] != 0)
        return sslsocket__t13_fail(t, len < 8 ? 50 : 47, "malformed client Certificate");
    list = ((size_t)m[5] << 16) | ((size_t)m[6] << 8) | m[7];
    if (list != len - 8)
        return sslsocket__t13_fail(t, 50, "malformed client Certificate");
    if (list == 0) {
        if (t->want_cert == 2) {
            (*xc)->start_chain(xc, NULL); /* (NO_PEER_CERTIFICATE is listed) */
            (*xc)->end_chain(xc);
            sslsocket__t13_fail(t, 116, "certificate required: the client sent none");
            t->br_err = BR_ERR_NO_CLIENT_AUTH;
            return -1;
        }
        t->state = SSLSOCKET__T13_S_WAIT_FIN;
        return 0;
    }
    (*xc)->start_chain(xc, NULL);
    for (at = 8; at < len;) {
        size_t cl, el;
        if (len - at < 3)
            return sslsocket__t13_fail(t, 50, "malformed client Certificate");
        cl = ((size_t)m[at] << 16) | ((size_t)m[at + 1] << 8) | m[at + 2];
        if (cl == 0 || cl > len - at - 3 || len - at - 3 - cl < 2)
            return sslsocket__t13_fail(t, 50, "malformed client Certificate");
        (*xc)->start_cert(xc, (uint32_t)cl);
        (*xc)->append(xc, m + at + 3, cl);
        (*xc)->end_cert(xc);
        at += 3 + cl;
        el = ((size_t)m[at] << 8) | m[at + 1];
        if (el > len - at - 2)
            return sslsocket__t13_fail(t, 50, "malformed client Certificate");
        at += 2 + el;
    }
    err = (*xc)->end_chain(xc);
    if (err != 0) {
        /* the alert for the problem, as sslsocket__send_cert_alert picks it */
        sslsocket__t13_fail(t, err == BR_ERR_X509_EXPIRED ? 45 : err == BR_ERR_X509_NOT_TRUSTED ? 48
                               : err == BR_ERR_X509_FORBIDDEN_KEY_USAGE ? 43 : 42,
                            "client certificate verification failed");
        t->br_err = (int)err; /* the socket names the problem */
        return -1;
    }
    t->state = SSLSOCKET__T13_S_WAIT_CV;
    return 0;
}

/* The client's CertificateVerify: a scheme we asked for, for its key. */
SSLSOCKET__PRIVATE int
sslsocket__t13s_certificate_verify(sslsocket__t13 *t, const unsigned char *m, size_t len)
{
    unsigned char content[64 + 34 + SSLSOCKET__TLS13_MAX_HASH], mh[64];
    const br_x509_pkey *pk = (*t->xc)->get_pkey(t->xc, NULL);
    const br_hash_class *sh;
    br_hash_compat_context hc;
    size_t sl;
    int scheme, ok = 0;
    if (len < 8 || (sl = ((size_t)m[6] << 8) | m[7]) != len - 8)
        return sslsocket__t13_fail(t, 50, "malformed client CertificateVerify");
    if (pk == NULL)
        return sslsocket__t13_fail(t, 43, "the client certificate's key cannot be used");
    scheme = (m[4] << 8) | m[5];
    sh = sslsocket__t13_scheme_hash(scheme);
    if (sh == NULL || !(pk->key_type == BR_KEYTYPE_EC
                        ? scheme == sslsocket__t13_ecdsa_scheme(pk->key.ec.curve)
                        : pk->key_type == BR_KEYTYPE_RSA && scheme >= 0x0804))
        return sslsocket__t13_fail(t, 47, "client CertificateVerify with a scheme that was not "
                                          "asked for, or not for its key");
    memset(content, 0x20, 64);
    memcpy(content + 64, "TLS 1.3, client CertificateVerify", 34); /* with its 0 */
    sslsocket__t13_thash(t, content + 98);
    sh->init(&hc.vtable);
    sh->update(&hc.vtable, content, 98 + t->hlen);
    sh->out(&hc.vtable, mh);
    if (pk->key_type == BR_KEYTYPE_EC)
        ok = br_ecdsa_vrfy_asn1_get_default()(br_ec_get_default(), mh, sslsocket__hash_len(sh),
                                              &pk->key.ec, m + 8, sl) == 1;
    else
        ok = sslsocket__rsa_pss_verify(&pk->key.rsa, sh, mh, m + 8, sl);
    if (!ok)
        return sslsocket__t13_fail(t, 51, "the client's CertificateVerify signature is invalid");
    t->state = SSLSOCKET__T13_S_WAIT_FIN;
    return 0;
}

/* The client's Finished: checked; then its application keys. */
SSLSOCKET__PRIVATE int
sslsocket__t13s_client_finished(sslsocket__t13 *t, const unsigned char *m, size_t len)
{
    unsigned char th[SSLSOCKET__TLS13_MAX_HASH], want[SSLSOCKET__TLS13_MAX_HASH];
    unsigned diff = 0;
    size_t i;
    if (len != 4 + t->hlen)
        return sslsocket__t13_fail(t, 50, "malformed client Finished");
    sslsocket__t13_thash(t, th);
    sslsocket__tls13_finished(t->h, t->c_hs, th, want);
    for (i = 0; i < t->hlen; i++)
        diff |= (unsigned)(want[i] ^ m[4 + i]);
    if (diff != 0)
        return sslsocket__t13_fail(t, 51, "the client's Finished is wrong");
    sslsocket__t13_hash(t, m, len); /* (tickets: the resumption secret over this transcript) */
    sslsocket__t13_keys(t, t->c_ap, &t->rk);
    t->state = SSLSOCKET__T13_CONNECTED;
    return 0;
}

/* The client's KeyUpdate: new read keys; asked, ours too (into t->out). */
SSLSOCKET__PRIVATE int
sslsocket__t13s_key_update(sslsocket__t13 *t, const unsigned char *m, size_t len)
{
    if (len != 5 || m[4] > 1)
        return sslsocket__t13_fail(t, len != 5 ? 50 : 47, "malformed KeyUpdate");
    sslsocket__t13_next_keys(t, t->c_ap, &t->rk);
    t->key_updates++;
    if (m[4] == 1 && t->out_len + 5 + 5 + 17 <= sizeof t->out) {
        unsigned char *r = t->out + t->out_len;
        r[5] = 24; /* KeyUpdate, length 1, update_not_requested */
        r[6] = r[7] = 0;
        r[8] = 1;
        r[9] = 0;
        t->out_len += sslsocket__tls13_seal(&t->wk, 22, r, 5);
        sslsocket__t13_next_keys(t, t->s_ap, &t->wk);
    }
    return 0;
}

/* One handshake message from the client. */
SSLSOCKET__PRIVATE int
sslsocket__t13s_message(sslsocket__t13 *t, const unsigned char *m, size_t len)
{
    int type = m[0];
    switch (t->state) {
    case SSLSOCKET__T13_S_WAIT_CH:
    case SSLSOCKET__T13_S_WAIT_CH2:
        return type == 1 ? sslsocket__t13s_client_hello(t, m, len)
                         : sslsocket__t13_fail(t, 10, "expected ClientHello");
    case SSLSOCKET__T13_S_WAIT_CERT:
        if (type != 11)
            return sslsocket__t13_fail(t, 10, "expected the client's Certificate");
        if (sslsocket__t13s_certificate(t, m, len) < 0)
            return -1;
        break;
    case SSLSOCKET__T13_S_WAIT_CV:
        if (type != 15)
            return sslsocket__t13_fail(t, 10, "expected the client's CertificateVerify");
        if (sslsocket__t13s_certificate_verify(t, m, len) < 0)
            return -1;
        break;
    case SSLSOCKET__T13_S_WAIT_FIN:
        return type == 20 ? sslsocket__t13s_client_finished(t, m, len)
                          : sslsocket__t13_fail(t, 10, "expected the client's Finished");
    case SSLSOCKET__T13_CONNECTED:
        return type == 24 ? sslsocket__t13s_key_update(t, m, len)
                          : sslsocket__t13_fail(t, 10, "unexpected handshake message");
    default:
        return -1;
    }
    sslsocket__t13_hash(t, m, len);
    return 0;
}

/* Does this message come right before a key change (so must end its
   record, 5.1)? */
SSLSOCKET__PRIVATE int
sslsocket__t13s_keys_change(const sslsocket__t13 *t, int type)
{
    return type == 1 || (type == 20 && t->state == SSLSOCKET__T13_S_WAIT_FIN) || type == 24;
}

/* One record from the client (header included, in place): as
   sslsocket__t13_record for the client.  0, -1 (t->alert, t->why), or
   1 / 2 for BearSSL's engine (see above). */
SSLSOCKET__PRIVATE int
sslsocket__t13s_record(sslsocket__t13 *t, unsigned char *rec, size_t len, size_t *app_len)
{
    int type = rec[0], r, hello = t->state == SSLSOCKET__T13_S_WAIT_CH
                                  || t->state == SSLSOCKET__T13_S_WAIT_CH2;
    size_t n = len - 5, at;
    const unsigned char *p = rec + 5;
    *app_len = 0;
    if (t->state == SSLSOCKET__T13_FAILED || t->state == SSLSOCKET__T13_FALLBACK)
        return -1;
    if (type == 20 && t->state != SSLSOCKET__T13_S_WAIT_CH && t->state != SSLSOCKET__T13_CONNECTED
        && !t->ccs_seen && n == 1 && p[0] == 1) {
        t->ccs_seen = 1; /* the client's compatibility ChangeCipherSpec */
        return 0;
    }
    if (type == 21 && n == 2 && t->state != SSLSOCKET__T13_CONNECTED) {
        sslsocket__t13_fail(t, 0, "the client sent an alert");
        t->br_err = BR_ERR_RECV_FATAL_ALERT + p[1];
        return -1;
    }
    if (t->keys_in && type == 23) {
        uint64_t seq = t->rk.seq;
        if (sslsocket__tls13_open(&t->rk, rec, len, &type, &n) < 0) {
            /* 0-RTT data we refused: skipped, bounded, until the first
               record under the handshake keys opens */
            if (t->early && seq == 0 && t->state != SSLSOCKET__T13_CONNECTED
                && t->early_skipped + len <= (size_t)65536) {
                t->rk.seq = seq;
                t->early_skipped += len;
                return 0;
            }
            return sslsocket__t13_fail(t, 20, "bad record MAC");
        }
    } else if (t->keys_in || type != 22 || !hello) {
        return sslsocket__t13_fail(t, 10, "unexpected record");
    }
    if (type != 22)
        return sslsocket__t13_inner(t, type, rec, n, app_len, "the client sent an alert");
    if (n == 0)
        return sslsocket__t13_fail(t, 10, "unexpected record");
    /* whole messages straight from the record; a message that spans
       records is reassembled in hbuf */
    while (t->hlen_in == 0 && n >= 4) {
        size_t ml = ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
        int last = sslsocket__t13s_keys_change(t, p[0]);
        if (n < 4 + ml)
            break;
        if (last && n != 4 + ml && !hello)
            return sslsocket__t13_fail(t, 10, "data after a key change in its record");
        if ((r = sslsocket__t13s_message(t, p, 4 + ml)) != 0)
            return r;
        if (last && n != 4 + ml) {
            t->out_len = 0;
            return sslsocket__t13_fail(t, 10, "data after ClientHello in its record");
        }
        p += 4 + ml;
        n -= 4 + ml;
    }
    if (n == 0)
        return 0;
    if (t->hbuf == NULL || t->hlen_in + n > t->hcap)
        return sslsocket__t13_fail(t, 80, "handshake message too large");
    memcpy(t->hbuf + t->hlen_in, p, n);
    t->hlen_in += n;
    at = 0;
    while (t->hlen_in - at >= 4) {
        size_t ml = ((size_t)t->hbuf[at + 1] << 16) | ((size_t)t->hbuf[at + 2] << 8)
                    | t->hbuf[at + 3];
        int last = sslsocket__t13s_keys_change(t, t->hbuf[at]);
        size_t rest;
        if (t->hlen_in - at < 4 + ml)
            break;
        rest = t->hlen_in - at - 4 - ml;
        if (last && rest != 0 && !hello)
            return sslsocket__t13_fail(t, 10, "data after a key change in its record");
        if ((r = sslsocket__t13s_message(t, t->hbuf + at, 4 + ml)) != 0)
            return r < 0 ? r : 2;
        if (hello) {
            /* (our flight was written over it: nothing may follow) */
            t->hlen_in = 0;
            if (rest != 0) {
                t->out_len = 0;
                return sslsocket__t13_fail(t, 10, "data after ClientHello in its record");
            }
            return 0;
        }
        at += 4 + ml;
    }
    memmove(t->hbuf, t->hbuf + at, t->hlen_in - at);
    t->hlen_in -= at;
    return 0;
}


/* ---- the TLS 1.3 record engine: BearSSL's engine interface over the
   core, on the socket's record buffer (records in at its start, out after
   SSLSOCKET__T13_IN).  sslsocket__e_* call it or BearSSL's engine. ---- */

#define SSLSOCKET__T13_IN (5 + 16384 + 256) /* the largest protected record */
#define SSLSOCKET__T13_OUT(s) ((s)->iobuf + SSLSOCKET__T13_IN)
#define SSLSOCKET__T13_OUT_CAP (sizeof(((sslsocket *)0)->iobuf) - SSLSOCKET__T13_IN)
#define SSLSOCKET__T13_OK (SSLSOCKET_IOBUF_SIZE >= SSLSOCKET__T13_IN + 4096)

/* Queue a protected alert (the connection is failing or closing); 0
   when there is no room behind what waits to leave. */
SSLSOCKET__PRIVATE int
sslsocket__t13_queue_alert(sslsocket *s, int level, int desc)
{
    sslsocket__t13 *t = &s->ctx.t13;
    unsigned char *o = SSLSOCKET__T13_OUT(s) + t->q_off + t->q_len;
    if (!t->keys_in || t->q_off + t->q_len + 5 + 2 + 17 > SSLSOCKET__T13_OUT_CAP)
        return 0;
    o[5] = (unsigned char)level;
    o[6] = (unsigned char)desc;
    t->q_len += sslsocket__tls13_seal(&t->wk, 21, o, 2);
    return 1;
}

SSLSOCKET__PRIVATE unsigned
sslsocket__e13_state(const sslsocket *s)
{
    const sslsocket__t13 *t = &s->ctx.t13;
    unsigned st = 0;
    if (t->q_len > 0)
        st |= BR_SSL_SENDREC;
    /* (after our close_notify, the peer's is awaited, as BearSSL's engine
       does: its arrival ends the connection) */
    if (t->state == SSLSOCKET__T13_FAILED)
        return st ? st : BR_SSL_CLOSED;
    if (t->state == SSLSOCKET__T13_CONNECTED) {
        if (t->app_len > 0)
            st |= BR_SSL_RECVAPP;
        if (t->q_len == 0 && !t->closing)
            st |= BR_SSL_SENDAPP;
    }
    /* (during the handshake the output area holds the message being
       reassembled: nothing is read while the ClientHello is leaving) */
    if (t->app_len == 0 && (t->state == SSLSOCKET__T13_CONNECTED || t->q_len == 0))
        st |= BR_SSL_RECVREC;
    return st;
}

SSLSOCKET__PRIVATE unsigned char *
sslsocket__e13_recvrec_buf(sslsocket *s, size_t *len)
{
    sslsocket__t13 *t = &s->ctx.t13;
    size_t need = 5;
    if (t->in_len >= 5)
        need = 5 + (((size_t)s->iobuf[3] << 8) | s->iobuf[4]);
    *len = need - t->in_len;
    return s->iobuf + t->in_len;
}

SSLSOCKET__PRIVATE void sslsocket__t13_fallback(sslsocket *s, int in_hbuf);
SSLSOCKET__PRIVATE void sslsocket__csession_update(sslsocket *s, int ok);
SSLSOCKET__PRIVATE int sslsocket__client_offer(sslsocket *s, const char *name);

/* A NewSessionTicket came (into s->session.ticket): the session to offer
   next, for this socket and the config's next sockets.  (It may come
   while the socket holds for the caller's decision on certificate
   problems: such a session is not verified, and is not kept.) */
SSLSOCKET__PRIVATE void
sslsocket__t13_ticket_in(sslsocket *s)
{
    s->ctx.t13.nst_new = 2;
    if (!s->ctx.t13.psk_accepted)
        s->session.verified = s->verify_mode != SSLSOCKET_VERIFY_NONE && s->have_peer
                              && s->n_ssl_errors == 0;
    sslsocket__fmt(s->session.host, sizeof s->session.host, "%s",
                   s->verify_name[0] ? s->verify_name : s->host);
    memcpy(s->session.policy, s->policy, sizeof s->policy);
    s->session.ticket.received = sslsocket__now_ms();
    memset(&s->session.params, 0, sizeof s->session.params);
    s->session.params.version = SSLSOCKET_TLS13;
    s->session.params.cipher_suite = (uint16_t)s->ctx.t13.suite;
    s->session.valid = 1;
    sslsocket__csession_update(s, 1);
}

SSLSOCKET__PRIVATE void sslsocket__t13s_fallback(sslsocket *s, int in_hbuf);

/* The server's alert: protected once the client has our handshake keys,
   in plaintext before (a ClientHello refused). */
SSLSOCKET__PRIVATE void
sslsocket__t13s_queue_alert(sslsocket *s, int desc)
{
    sslsocket__t13 *t = &s->ctx.t13;
    unsigned char *o;
    if (t->keys_in) {
        sslsocket__t13_queue_alert(s, 2, desc);
        return;
    }
    if (t->q_len == 0)
        t->q_off = 0;
    if (t->q_off + t->q_len + 7 > SSLSOCKET__T13_OUT_CAP)
        return;
    o = SSLSOCKET__T13_OUT(s) + t->q_off + t->q_len;
    o[0] = 21;
    o[1] = 3;
    o[2] = 3;
    o[3] = 0;
    o[4] = 2;
    o[5] = 2;
    o[6] = (unsigned char)desc;
    t->q_len += 7;
}

/* sslsocket__e13_recvrec_ack for a server. */
SSLSOCKET__PRIVATE void
sslsocket__e13s_recvrec_ack(sslsocket *s, size_t n)
{
    sslsocket__t13 *t = &s->ctx.t13;
    size_t app, rl;
    int was = t->state, r;
    t->in_len += n;
    if (t->in_len < 5)
        return;
    rl = ((size_t)s->iobuf[3] << 8) | s->iobuf[4];
    if (rl > 16384 + 256 || (s->iobuf[0] != 23 && rl > 16384)) {
        sslsocket__t13_fail_br(t, 22, BR_ERR_TOO_LARGE, "record too large");
        sslsocket__t13s_queue_alert(s, 22);
        return;
    }
    if (t->in_len < 5 + rl)
        return;
    if ((r = sslsocket__t13s_record(t, s->iobuf, t->in_len, &app)) < 0) {
        t->out_len = 0;
        t->fl_used = 0;
        if (t->alert)
            sslsocket__t13s_queue_alert(s, t->alert);
        else if (t->br_err == 0 && !t->close_sent && t->keys_in)
            t->close_sent = sslsocket__t13_queue_alert(s, 1, 0); /* ours answers theirs */
        t->in_len = 0;
        return;
    }
    if (r > 0) {
        sslsocket__t13s_fallback(s, r == 2);
        return;
    }
    if (t->out_len > 0 && t->fl_used) {
        /* our flight (or HelloRetryRequest), written in place */
        t->q_off = 0;
        t->q_len = t->out_len;
        t->out_len = 0;
        t->fl_used = 0;
    } else if (t->out_len > 0) {
        /* our KeyUpdate, behind what waits to leave */
        if (t->q_len == 0)
            t->q_off = 0;
        if (t->q_off + t->q_len + t->out_len <= SSLSOCKET__T13_OUT_CAP) {
            memcpy(SSLSOCKET__T13_OUT(s) + t->q_off + t->q_len, t->out, t->out_len);
            t->q_len += t->out_len;
        }
        t->out_len = 0;
    }
    if (was != SSLSOCKET__T13_CONNECTED && t->state == SSLSOCKET__T13_CONNECTED) {
        t->hbuf = t->post; /* post-handshake messages split across records */
        t->hcap = sizeof t->post;
        t->hlen_in = 0;
    }
    if (app > 0) {
        t->app_off = 5;
        t->app_len = app;
    } else {
        t->in_len = 0;
    }
}

SSLSOCKET__PRIVATE void
sslsocket__e13_recvrec_ack(sslsocket *s, size_t n)
{
    sslsocket__t13 *t = &s->ctx.t13;
    size_t app, rl;
    int was = t->state, r;
    if (t->server) {
        sslsocket__e13s_recvrec_ack(s, n);
        return;
    }
    t->in_len += n;
    if (t->in_len < 5)
        return;
    rl = ((size_t)s->iobuf[3] << 8) | s->iobuf[4];
    if (rl > 16384 + 256 || (s->iobuf[0] != 23 && rl > 16384)) {
        sslsocket__t13_fail_br(t, 22, BR_ERR_TOO_LARGE, "record too large");
        sslsocket__t13_queue_alert(s, 2, 22);
        return;
    }
    if (t->in_len < 5 + rl)
        return;
    if ((r = sslsocket__t13_record(t, s->iobuf, t->in_len, &app)) < 0) {
        if (t->alert) {
            sslsocket__t13_queue_alert(s, 2, t->alert);
        } else if (t->br_err == 0 && !t->close_sent) {
            /* their close_notify: ours answers it, as BearSSL's engine does */
            t->close_sent = sslsocket__t13_queue_alert(s, 1, 0);
        }
        t->in_len = 0;
        return;
    }
    if (r > 0) {
        sslsocket__t13_fallback(s, r == 2);
        return;
    }
    if (t->nst_new == 1)
        sslsocket__t13_ticket_in(s);
    if (t->out_len > 0 && t->fl_used) {
        /* the client's last flight, written in place (nothing else waits) */
        t->q_off = 0;
        t->q_len = t->out_len;
        t->out_len = 0;
        t->fl_used = 0;
        t->fl = NULL;
    } else if (t->out_len > 0) {
        /* the core's flight (a second ClientHello, Finished, a KeyUpdate),
           behind what is already waiting to leave */
        if (t->q_len == 0)
            t->q_off = 0;
        if (t->q_off + t->q_len + t->out_len <= SSLSOCKET__T13_OUT_CAP) {
            memcpy(SSLSOCKET__T13_OUT(s) + t->q_off + t->q_len, t->out, t->out_len);
            t->q_len += t->out_len;
        }
        t->out_len = 0;
    }
    if (was != SSLSOCKET__T13_CONNECTED && t->state == SSLSOCKET__T13_CONNECTED) {
        t->hbuf = t->post; /* post-handshake messages split across records */
        t->hcap = sizeof t->post;
    }
    if (app > 0) {
        t->app_off = 5;
        t->app_len = app;
    } else {
        t->in_len = 0;
    }
}

SSLSOCKET__PRIVATE void
sslsocket__e13_recvapp_ack(sslsocket *s, size_t n)
{
    sslsocket__t13 *t = &s->ctx.t13;
    t->app_off += n;
    t->app_len -= n;
    if (t->app_len == 0)
        t->in_len = 0;
}

SSLSOCKET__PRIVATE void
sslsocket__e13_close(sslsocket *s)
{
    sslsocket__t13 *t = &s->ctx.t13;
    t->closing = 1;
    if (t->state == SSLSOCKET__T13_CONNECTED && !t->close_sent) /* close_notify */
        t->close_sent = sslsocket__t13_queue_alert(s, 1, 0); /* (else once the queue left) */
}

/* The engine calls of the socket, to BearSSL's engine or the TLS 1.3 one. */
#define SSLSOCKET__IS13(s) (((s)->flags & SSLSOCKET__F_T13) != 0)

SSLSOCKET__PRIVATE unsigned
sslsocket__e_state(const sslsocket *s)
{
    return SSLSOCKET__IS13(s) ? sslsocket__e13_state(s)
                              : br_ssl_engine_current_state(&s->ctx.client.eng);
}

SSLSOCKET__PRIVATE unsigned char *
sslsocket__e_sendrec_buf(sslsocket *s, size_t *len)
{
    if (SSLSOCKET__IS13(s)) {
        *len = s->ctx.t13.q_len;
        return SSLSOCKET__T13_OUT(s) + s->ctx.t13.q_off;
    }
    return br_ssl_engine_sendrec_buf(SSLSOCKET__ENG(s), len);
}

SSLSOCKET__PRIVATE void
sslsocket__e_sendrec_ack(sslsocket *s, size_t n)
{
    if (SSLSOCKET__IS13(s)) {
        sslsocket__t13 *t = &s->ctx.t13;
        t->q_off += n;
        t->q_len -= n;
        if (t->q_len == 0) {
            t->q_off = 0;
            if (t->closing && !t->close_sent && t->state == SSLSOCKET__T13_CONNECTED)
                t->close_sent = sslsocket__t13_queue_alert(s, 1, 0); /* close_notify, at last */
        }
        return;
    }
    br_ssl_engine_sendrec_ack(SSLSOCKET__ENG(s), n);
}

/* Where received bytes go; *starts: a record begins there. */
SSLSOCKET__PRIVATE unsigned char *
sslsocket__e_recvrec_buf(sslsocket *s, size_t *len, int *starts)
{
    unsigned char *b;
    if (SSLSOCKET__IS13(s)) {
        *starts = s->ctx.t13.in_len == 0;
        return sslsocket__e13_recvrec_buf(s, len);
    }
    b = br_ssl_engine_recvrec_buf(SSLSOCKET__ENG(s), len);
    *starts = b == SSLSOCKET__ENG(s)->ibuf;
    return b;
}

SSLSOCKET__PRIVATE void
sslsocket__e_recvrec_ack(sslsocket *s, size_t n)
{
    if (SSLSOCKET__IS13(s))
        sslsocket__e13_recvrec_ack(s, n);
    else
        br_ssl_engine_recvrec_ack(SSLSOCKET__ENG(s), n);
}

SSLSOCKET__PRIVATE unsigned char *
sslsocket__e_recvapp_buf(const sslsocket *s, size_t *len)
{
    if (SSLSOCKET__IS13(s)) {
        *len = s->ctx.t13.app_len;
        return s->ctx.t13.app_len ? (unsigned char *)(uintptr_t)(s->iobuf + s->ctx.t13.app_off)
                                  : NULL;
    }
    return br_ssl_engine_recvapp_buf(&s->ctx.client.eng, len);
}

SSLSOCKET__PRIVATE void
sslsocket__e_recvapp_ack(sslsocket *s, size_t n)
{
    if (SSLSOCKET__IS13(s))
        sslsocket__e13_recvapp_ack(s, n);
    else
        br_ssl_engine_recvapp_ack(SSLSOCKET__ENG(s), n);
}

/* Application data in: at most what one record carries; sent at once. */
SSLSOCKET__PRIVATE size_t
sslsocket__e_sendapp(sslsocket *s, const unsigned char *src, size_t n)
{
    size_t len;
    unsigned char *p;
    if (SSLSOCKET__IS13(s)) {
        sslsocket__t13 *t = &s->ctx.t13;
        size_t cap = SSLSOCKET__T13_OUT_CAP - 5 - 1 - 16;
        if (t->q_len > 0 || t->state != SSLSOCKET__T13_CONNECTED)
            return 0;
        if (n > cap)
            n = cap;
        if (n > 16384)
            n = 16384;
        memcpy(SSLSOCKET__T13_OUT(s) + 5, src, n);
        t->q_off = 0;
        t->q_len = sslsocket__tls13_seal(&t->wk, 23, SSLSOCKET__T13_OUT(s), n);
        return n;
    }
    p = br_ssl_engine_sendapp_buf(SSLSOCKET__ENG(s), &len);
    if (p == NULL || len == 0)
        return 0;
    if (n > len)
        n = len;
    memcpy(p, src, n);
    br_ssl_engine_sendapp_ack(SSLSOCKET__ENG(s), n);
    br_ssl_engine_flush(SSLSOCKET__ENG(s), 0);
    return n;
}

SSLSOCKET__PRIVATE void
sslsocket__e_close(sslsocket *s)
{
    if (SSLSOCKET__IS13(s))
        sslsocket__e13_close(s);
    else
        br_ssl_engine_close(SSLSOCKET__ENG(s));
}

SSLSOCKET__PRIVATE int
sslsocket__e_last_error(const sslsocket *s)
{
    return SSLSOCKET__IS13(s) ? s->ctx.t13.br_err : br_ssl_engine_last_error(&s->ctx.client.eng);
}

/* The largest first ClientHello that offers TLS 1.2 too (it is copied
   aside when the server answers TLS 1.2). */
#define SSLSOCKET__T13_CH_MAX (768 + SSLSOCKET_TICKET_SIZE + 64)

/* Start a TLS 1.3 client: the ClientHello leaves first.  `legacy`: TLS 1.2
   offered too (BearSSL's engine takes over if the server chooses it). */
SSLSOCKET__PRIVATE int
sslsocket__begin_tls13_client(sslsocket *s, const char *name, const sslsocket__t13_legacy *legacy)
{
    sslsocket__t13 *t = &s->ctx.t13;
    unsigned char rnd[128], *o = SSLSOCKET__T13_OUT(s);
    size_t n;
    if (!SSLSOCKET__T13_OK) {
        sslsocket__seterr(s, SSLSOCKET_ERR_OPERATION, "TLS 1.3 needs a record buffer of "
                          "%d bytes (SSLSOCKET_IOBUF_SIZE)", (int)SSLSOCKET__T13_IN + 4096);
        return -1;
    }
    if (sslsocket__sys_random(rnd, sizeof rnd) < 0) {
        sslsocket__seterr(s, SSLSOCKET_ERR_SSL_INTERNAL, "no randomness: getrandom failed");
        return -1;
    }
    {
        const sslsocket_config *cfg = sslsocket__cfg(s);
        unsigned char alpn[64];
        size_t al = 0, i;
        for (i = 0; i < cfg->n_alpn; i++) {
            size_t l = strlen(cfg->alpn[i]);
            if (al + 1 + l > sizeof alpn)
                break;
            alpn[al++] = (unsigned char)l;
            memcpy(alpn + al, cfg->alpn[i], l);
            al += l;
        }
        const sslsocket__ticket *tk = NULL;
        uint32_t age = 0;
        if (sslsocket__client_offer(s, name) && s->session.ticket.len > 0) {
            tk = &s->session.ticket;
            age = (uint32_t)(sslsocket__now_ms() - tk->received) + tk->age_add;
            s->flags |= SSLSOCKET__F_OFFERED;
        }
        n = sslsocket__t13_client_hello_ex(t, rnd, name, alpn, al, legacy, tk, age,
                                           cfg->suites13, cfg->n_suites13, o + 5,
                                           SSLSOCKET__T13_OUT_CAP - 5);
        t->nst = &s->session.ticket;
    }
    sslsocket__wipe(rnd, sizeof rnd);
    if (n == 0 || (legacy != NULL && n > SSLSOCKET__T13_CH_MAX)) {
        sslsocket__seterr(s, SSLSOCKET_ERR_SSL_INTERNAL, "TLS 1.3: ClientHello too large");
        return -1;
    }
    o[0] = 22;
    o[1] = 3;
    o[2] = 1;
    o[3] = (unsigned char)(n >> 8);
    o[4] = (unsigned char)n;
    t->q_off = 0;
    t->q_len = n + 5;
    t->xc = &s->x509.vtable;
    {
        /* The output area: the ClientHello (kept for a fallback), then,
           once the server's flight is in, ours (a client chain, its
           CertificateVerify, Finished); messages are reassembled after. */
        const sslsocket_config *cfg = sslsocket__cfg(s);
        size_t reserve = 5 + n, fl = 6 + 5 + 4 + 256 + 3 + 8 + 512 + 4 + 48 + 17, i;
        if (cfg->n_ids > 0) {
            t->id = &cfg->ids[0];
            for (i = 0; i < t->id->n_chain; i++)
                fl += 5 + t->id->chain[i].data_len;
            if (fl > 6 + 5 + 16384 + 17)
                fl = 6 + 5 + 16384 + 17;
            if (fl + 4096 > SSLSOCKET__T13_OUT_CAP)
                fl = SSLSOCKET__T13_OUT_CAP - 4096;
            if (fl > reserve)
                reserve = fl;
            t->fl = o;
            t->fl_cap = reserve;
        }
        t->hbuf = o + reserve;
        t->hcap = SSLSOCKET__T13_OUT_CAP - reserve;
    }
    s->flags |= SSLSOCKET__F_T13;
    return 0;
}

/* ==========================================================================
   >>tls
   Starting the engine, and what happens when the handshake completes.
   ========================================================================== */

SSLSOCKET__PRIVATE int
sslsocket__resolved_verify_mode(const sslsocket *s, int server)
{
    int vm = s->verify_mode_override >= 0 ? s->verify_mode_override
                                          : sslsocket__cfg(s)->verify_mode;
    if (vm == SSLSOCKET_AUTO_VERIFY_PEER)
        vm = server ? SSLSOCKET_QUERY_PEER : SSLSOCKET_VERIFY_PEER;
    return vm;
}

/* What br_ssl_client_init_full / br_ssl_server_init_full_* set on the
   engine (hashes, PRFs, record ciphers, EC and signature code), from the
   implementations chosen once.  Suites and versions come later
   (engine_setup). */
SSLSOCKET__PRIVATE void
sslsocket__engine_impls(br_ssl_engine_context *eng)
{
    static const br_hash_class *const hashes[] = {
        &br_md5_vtable, &br_sha1_vtable, &br_sha224_vtable,
        &br_sha256_vtable, &br_sha384_vtable, &br_sha512_vtable
    };
    const sslsocket__impls *im = sslsocket__impls_get();
    int id;
    for (id = br_md5_ID; id <= br_sha512_ID; id++)
        br_ssl_engine_set_hash(eng, id, hashes[id - 1]);
    br_ssl_engine_set_prf10(eng, &br_tls10_prf);
    br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
    br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
    br_ssl_engine_set_cbc(eng, &br_sslrec_in_cbc_vtable, &br_sslrec_out_cbc_vtable);
    br_ssl_engine_set_aes_cbc(eng, im->cbcenc, im->cbcdec);
    br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable, &br_sslrec_out_gcm_vtable);
    br_ssl_engine_set_aes_ctr(eng, im->ctr);
    br_ssl_engine_set_ghash(eng, im->ghash);
    br_ssl_engine_set_ccm(eng, &br_sslrec_in_ccm_vtable, &br_sslrec_out_ccm_vtable);
    br_ssl_engine_set_aes_ctrcbc(eng, im->ctrcbc);
    br_ssl_engine_set_chapol(eng, &br_sslrec_in_chapol_vtable, &br_sslrec_out_chapol_vtable);
    br_ssl_engine_set_chacha20(eng, im->chacha);
    br_ssl_engine_set_poly1305(eng, im->poly);
    br_ssl_engine_set_des_cbc(eng, &br_des_ct_cbcenc_vtable, &br_des_ct_cbcdec_vtable);
    br_ssl_engine_set_default_ec(eng);      /* compile-time choices: no CPU probe */
    br_ssl_engine_set_default_rsavrfy(eng);
    br_ssl_engine_set_default_ecdsa(eng);
}

/* Settings common to client and server engines. */
SSLSOCKET__PRIVATE void
sslsocket__engine_setup(sslsocket *s, const sslsocket_config *cfg)
{
    br_ssl_engine_context *eng = SSLSOCKET__ENG(s);
    uint16_t suites[40];
    size_t n = cfg->n_suites;
    memcpy(suites, cfg->suites, n * sizeof suites[0]);
    if (cfg->version_min < SSLSOCKET_TLS12 && n == 6 && cfg->suites[0] == 0xC02B) {
        /* default AEAD list but TLS 1.0/1.1 allowed: add ECDHE CBC suites,
           the only ones those versions can use */
        static const uint16_t cbc[] = { 0xC009, 0xC013, 0xC00A, 0xC014 };
        memcpy(suites + n, cbc, sizeof cbc);
        n += 4;
    }
    /* (TLS 1.3 is the library's own engine, >>tls13) */
    br_ssl_engine_set_versions(eng, cfg->version_min,
                               cfg->version_max > SSLSOCKET_TLS12 ? SSLSOCKET_TLS12
                                                                  : cfg->version_max);
    br_ssl_engine_set_suites(eng, suites, n);
    br_ssl_engine_set_buffer(eng, s->iobuf, sizeof s->iobuf, !SSLSOCKET_HALF_DUPLEX);
    if (cfg->n_alpn)
        br_ssl_engine_set_protocol_names(eng, (const char **)(uintptr_t)cfg->alpn, cfg->n_alpn);
    if (!cfg->allow_renegotiation)
        br_ssl_engine_add_flags(eng, BR_OPT_NO_RENEGOTIATION);
}

/* Our X.509 class (>>verify, >>paths) for the peer's chain. */
SSLSOCKET__PRIVATE void
sslsocket__x509_init(sslsocket *s, const br_x509_trust_anchor *ta, size_t n_ta)
{
    s->x509.ta = ta;
    s->x509.n_ta = n_ta;
    s->x509.vtable = &sslsocket__x509_vtable;
    s->x509.sock = s;
}

/* ... and given to BearSSL's engine. */
SSLSOCKET__PRIVATE void
sslsocket__x509_setup(sslsocket *s, const br_x509_trust_anchor *ta, size_t n_ta)
{
    sslsocket__x509_init(s, ta, n_ta);
    br_ssl_engine_set_x509(SSLSOCKET__ENG(s), &s->x509.vtable);
}

/* Seed the engine from getrandom() and skip BearSSL's own seeder (RDRAND
   only in Debian's 0.6, without the AMD RDRAND fix). */
SSLSOCKET__PRIVATE int
sslsocket__seed(sslsocket *s)
{
    unsigned char seed[32];
    if (sslsocket__sys_random(seed, sizeof seed) < 0)
        return -1;
    br_ssl_engine_inject_entropy(SSLSOCKET__ENG(s), seed, sizeof seed);
    SSLSOCKET__ENG(s)->rng_os_rand_done = 1;
    memset(seed, 0, sizeof seed);
    return 0;
}

/* The engine is reset: the socket's side of starting TLS. */
SSLSOCKET__PRIVATE void
sslsocket__engine_started(sslsocket *s, int server)
{
    const sslsocket_config *cfg = sslsocket__cfg(s);
    /* STARTTLS: whatever arrived in plaintext before this point could have
       been injected by a man in the middle: never deliver it as if it had
       come through the encrypted channel. */
    s->discarded = s->rend - s->rstart;
    s->rstart = s->rend = 0;
    s->flags &= ~(SSLSOCKET__F_HS_DONE | SSLSOCKET__F_ENGINE_CLOSING | SSLSOCKET__F_HOLD
                  | SSLSOCKET__F_RESUMED | SSLSOCKET__F_FULL_HANDSHAKE);
    s->flags |= SSLSOCKET__F_ENGINE_LIVE;
    if (server)
        s->flags |= SSLSOCKET__F_SERVER;
    else
        s->flags &= ~SSLSOCKET__F_SERVER;
    s->n_ssl_errors = 0;
    s->have_peer = 0;
    s->empty_run = 0;
    s->deadline = cfg->handshake_ms > 0 ? sslsocket__now_ms() + cfg->handshake_ms : 0;
    sslsocket__set_mode(s, server ? SSLSOCKET_SSL_SERVER : SSLSOCKET_SSL_CLIENT);
}


/* Digest of the trust anchors, kept in the config and made again when
   the anchors changed (their count or the storage they take). */
SSLSOCKET__PRIVATE const unsigned char *
sslsocket__trust_digest(const sslsocket_config *c)
{
    sslsocket_config *cfg = (sslsocket_config *)(uintptr_t)c;
    size_t n, i;
    const br_x509_trust_anchor *ta = sslsocket__arena_anchors(&cfg->arena, &n);
    br_sha256_context h;
    if (cfg->trust_key[0] == n + 1 && cfg->trust_key[1] == cfg->arena.lo
        && cfg->trust_key[2] == cfg->arena.hi)
        return cfg->trust_digest;
    br_sha256_init(&h);
    for (i = 0; i < n; i++) {
        const br_x509_trust_anchor *a = &ta[i];
        unsigned char head[6];
        head[0] = (unsigned char)(a->dn.len >> 8);
        head[1] = (unsigned char)a->dn.len;
        head[2] = (unsigned char)a->flags;
        head[3] = (unsigned char)a->pkey.key_type;
        head[4] = head[5] = 0;
        br_sha256_update(&h, head, sizeof head);
        br_sha256_update(&h, a->dn.data, a->dn.len);
        if (a->pkey.key_type == BR_KEYTYPE_RSA) {
            br_sha256_update(&h, a->pkey.key.rsa.n, a->pkey.key.rsa.nlen);
            br_sha256_update(&h, a->pkey.key.rsa.e, a->pkey.key.rsa.elen);
        } else {
            head[0] = (unsigned char)a->pkey.key.ec.curve;
            br_sha256_update(&h, head, 1);
            br_sha256_update(&h, a->pkey.key.ec.q, a->pkey.key.ec.qlen);
        }
    }
    for (i = 0; i < cfg->n_crls; i++) /* revocations are part of the trust */
        br_sha256_update(&h, cfg->crls[i].data, cfg->crls[i].data_len);
    br_sha256_out(&h, cfg->trust_digest);
    cfg->trust_key[0] = n + 1;
    cfg->trust_key[1] = cfg->arena.lo;
    cfg->trust_key[2] = cfg->arena.hi;
    return cfg->trust_digest;
}

/* Digest of what a verification depended on: the peer name (the SNI name
   on a server), the port, which side, the verify mode and depth, the trust
   anchors and the pins.  A session is offered (client) or resumed (server)
   only under the policy it was made under: a resumed handshake checks no
   certificate, so it must not stand in for a stricter check. */
SSLSOCKET__PRIVATE void
sslsocket__policy_digest(const sslsocket *s, const char *name, unsigned port,
                         unsigned char out[32])
{
    const sslsocket_config *cfg = sslsocket__cfg(s);
    unsigned char head[6];
    br_sha256_context h;
    head[0] = (unsigned char)(port >> 8);
    head[1] = (unsigned char)port;
    head[2] = (s->flags & SSLSOCKET__F_SERVER) != 0;
    head[3] = (unsigned char)s->verify_mode;
    head[4] = (unsigned char)cfg->verify_depth;
    head[5] = (unsigned char)cfg->n_pins;
    br_sha256_init(&h);
    br_sha256_update(&h, "sslsocket policy 1", 18);
    br_sha256_update(&h, name, strlen(name) + 1);
    br_sha256_update(&h, head, sizeof head);
    br_sha256_update(&h, sslsocket__trust_digest(cfg), 32);
    br_sha256_update(&h, cfg->pins, cfg->n_pins * 32);
    br_sha256_out(&h, out);
}

/* The problems found as an SSLSOCKET_SSLERR_MASK set, and back. */
SSLSOCKET__PRIVATE unsigned
sslsocket__problem_mask(const sslsocket *s)
{
    unsigned m = 0;
    int i;
    for (i = 0; i < s->n_ssl_errors; i++)
        m |= SSLSOCKET_SSLERR_MASK(s->ssl_errors[i]);
    return m;
}

/* Client sessions kept by the config (sslsocket_config_set_client_sessions),
   keyed by the policy digest.  Sockets hold their config const; this table
   is, with the server session cache, the part that handshakes update. */
SSLSOCKET__PRIVATE sslsocket__csession *
sslsocket__csession_find(const sslsocket *s, const unsigned char *key, int make)
{
    sslsocket_config *cfg = (sslsocket_config *)(uintptr_t)sslsocket__cfg(s);
    sslsocket__csession *e, *victim = &cfg->csessions[0];
    size_t i;
    if (cfg->client_sessions_off)
        return NULL;
    for (i = 0; i < SSLSOCKET_CLIENT_SESSIONS; i++) {
        e = &cfg->csessions[i];
        if (e->used && memcmp(e->key, key, 32) == 0)
            return e;
        if (e->used < victim->used)
            victim = e;
    }
    if (!make)
        return NULL;
    sslsocket__wipe(victim, sizeof *victim);
    memcpy(victim->key, key, 32);
    return victim;
}

/* A client handshake that verified the server fully (itself, or the one
   its resumed session came from) leaves its session for the config's next
   sockets; one that failed after offering a kept session forgets it. */
SSLSOCKET__PRIVATE void
sslsocket__csession_update(sslsocket *s, int ok)
{
    sslsocket_config *cfg = (sslsocket_config *)(uintptr_t)sslsocket__cfg(s);
    sslsocket__csession *e;
    if (ok && (!s->session.valid || !s->session.verified))
        return;
    if (!ok && !(s->flags & SSLSOCKET__F_CACHED_OFFER))
        return;
    e = sslsocket__csession_find(s, s->session.policy, ok);
    if (e == NULL)
        return;
    if (!ok) {
        sslsocket__wipe(e, sizeof *e);
        return;
    }
    if (++cfg->csession_clock == 0) /* 0 marks a free entry */
        cfg->csession_clock = 1;
    e->params = s->session.params;
    e->ticket = s->session.ticket;
    e->used = cfg->csession_clock;
}

/* The server session cache: SSLSOCKET__CACHE_WAYS-way sets in the caller's
   memory, indexed by the (random) session ID, least recently used entry
   replaced.  BearSSL's own LRU cache cannot say under which policy a
   session was made; this one keeps, with each session, the digest of the
   SNI name and client-certificate policy and the problems the client's
   certificate had, and resumes only under the same policy (a session made
   without a client certificate under QUERY_PEER never resumes under
   VERIFY_PEER, nor one made for one SNI name under another).  The engine
   points at the config's vtable field, never at the memory, so the memory
   can be replaced or dropped at any time. */
#define SSLSOCKET__OF_ENGINE_CTX(p) ((sslsocket *)(void *)((char *)(p) - offsetof(sslsocket, ctx)))
#define SSLSOCKET__OF_CACHE(p) \
    ((sslsocket_config *)(void *)((char *)(p) - offsetof(sslsocket_config, cache_vtable)))

SSLSOCKET__PRIVATE sslsocket__sentry *
sslsocket__cache_lookup(sslsocket_config *cfg, const unsigned char *id, int make)
{
    uint32_t h = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];
    size_t ways = cfg->cache_sets ? SSLSOCKET__CACHE_WAYS : 0, i;
    sslsocket__sentry *set, *victim;
    if (cfg->cache == NULL || ways == 0)
        return NULL;
    set = cfg->cache + (h % cfg->cache_sets) * ways;
    victim = set;
    for (i = 0; i < ways; i++) {
        if (set[i].used && memcmp(set[i].params.session_id, id, 32) == 0)
            return &set[i];
        if (set[i].used < victim->used)
            victim = &set[i];
    }
    return make ? victim : NULL;
}

/* The tag of a session made (or resumed) under SNI `name` (lower-cased
   here: names are case-insensitive) and the socket's policy. */
SSLSOCKET__PRIVATE void
sslsocket__cache_tag(const sslsocket *s, const char *name, unsigned char tag[16])
{
    char low[256];
    unsigned char d[32];
    size_t i;
    for (i = 0; i < sizeof low - 1 && name[i]; i++)
        low[i] = (char)sslsocket__host_lc(name[i]);
    low[i] = 0;
    sslsocket__policy_digest(s, low, 0, d);
    memcpy(tag, d, 16);
}

/* BearSSL looks a session up before it reads the ClientHello's extensions,
   so the SNI name it will see is not known yet: read it from the
   ClientHello itself, which lies in the engine's input record (plaintext
   at that point) when it came in one record.  Returns 1 with the name (""
   without SNI), 0 when it cannot tell (no resumption then).  A client that
   lies here (a fragmented ClientHello) is caught after the handshake, when
   the name BearSSL saw is compared (sslsocket__resumption_ok). */
SSLSOCKET__PRIVATE int
sslsocket__clienthello_sni(const br_ssl_engine_context *eng, char *name, size_t max)
{
    const unsigned char *p = eng->ibuf, *end;
    size_t rl, n;
    name[0] = 0;
    if (p == NULL || eng->ibuf_len < 9 || p[0] != 22)
        return 0;
    rl = (size_t)p[3] << 8 | p[4];
    if (rl < 4 || rl + 5 > eng->ibuf_len || p[5] != 1 || p[6] != 0)
        return 0;
    n = (size_t)p[7] << 8 | p[8];
    if (n > rl - 4)
        return 0; /* the ClientHello goes on in another record */
    p += 9;
    end = p + n;
    if (eng->hbuf_in < p || eng->hbuf_in > end)
        return 0; /* not the record the engine is reading */
#define SSLSOCKET__SKIP(k) do { if ((size_t)(end - p) < (size_t)(k)) return 0; p += (k); } while (0)
    SSLSOCKET__SKIP(34);                     /* version, random */
    SSLSOCKET__SKIP(1);
    SSLSOCKET__SKIP(p[-1]);                  /* session ID */
    SSLSOCKET__SKIP(2);
    SSLSOCKET__SKIP((size_t)p[-2] << 8 | p[-1]); /* cipher suites */
    SSLSOCKET__SKIP(1);
    SSLSOCKET__SKIP(p[-1]);                  /* compression methods */
    if (p == end)
        return 1;
    SSLSOCKET__SKIP(2);
    if ((size_t)(end - p) != ((size_t)p[-2] << 8 | p[-1]))
        return 0;
    while (p < end) {
        unsigned type;
        size_t len;
        SSLSOCKET__SKIP(4);
        type = (unsigned)p[-4] << 8 | p[-3];
        len = (size_t)p[-2] << 8 | p[-1];
        if ((size_t)(end - p) < len)
            return 0;
        if (type == 0) { /* server_name: list length, type 0 (host_name), length, name */
            size_t nl;
            if (len < 5 || p[2] != 0)
                return 0;
            nl = (size_t)p[3] << 8 | p[4];
            if (nl + 5 > len || nl >= max)
                return 0;
            memcpy(name, p + 5, nl);
            name[nl] = 0;
            return strlen(name) == nl;
        }
        p += len;
    }
#undef SSLSOCKET__SKIP
    return 1;
}

SSLSOCKET__PRIVATE void
sslsocket__cache_save(const br_ssl_session_cache_class **ctx, br_ssl_server_context *sc,
                      const br_ssl_session_parameters *params)
{
    sslsocket_config *cfg = SSLSOCKET__OF_CACHE(ctx);
    sslsocket *s = SSLSOCKET__OF_ENGINE_CTX(sc);
    sslsocket__sentry *e;
    if (params->session_id_len != 32
        || (e = sslsocket__cache_lookup(cfg, params->session_id, 1)) == NULL)
        return;
    e->params = *params;
    sslsocket__cache_tag(s, br_ssl_engine_get_server_name(&sc->eng), e->tag);
    e->problems = s->verify_mode == SSLSOCKET_VERIFY_NONE ? 0 : sslsocket__problem_mask(s);
    if (++cfg->cache_clock == 0)
        cfg->cache_clock = 1;
    e->used = cfg->cache_clock;
}

SSLSOCKET__PRIVATE int
sslsocket__cache_load(const br_ssl_session_cache_class **ctx, br_ssl_server_context *sc,
                      br_ssl_session_parameters *params)
{
    sslsocket_config *cfg = SSLSOCKET__OF_CACHE(ctx);
    sslsocket *s = SSLSOCKET__OF_ENGINE_CTX(sc);
    unsigned char tag[16];
    unsigned ignored = cfg->ignore_mask | s->ignore_mask;
    sslsocket__sentry *e = sslsocket__cache_lookup(cfg, params->session_id, 0);
    char sni[256];
    int code;
    if (e == NULL || !sslsocket__clienthello_sni(&sc->eng, sni, sizeof sni))
        return 0;
    sslsocket__cache_tag(s, sni, tag);
    if (memcmp(tag, e->tag, sizeof tag) != 0
        || (s->verify_mode == SSLSOCKET_VERIFY_PEER && (e->problems & ~ignored)))
        return 0; /* another policy: a full handshake checks the client again */
    *params = e->params;
    memcpy(s->resume_tag, e->tag, sizeof s->resume_tag);
    if (++cfg->cache_clock == 0)
        cfg->cache_clock = 1;
    e->used = cfg->cache_clock;
    /* the resumed handshake reports what the full one found */
    s->n_ssl_errors = 0;
    for (code = 1; code < SSLSOCKET_SSLERR_COUNT_; code++)
        if (e->problems & SSLSOCKET_SSLERR_MASK(code))
            sslsocket__problem(s, code);
    return 1;
}

static const br_ssl_session_cache_class sslsocket__cache_vtable = {
    sizeof(const br_ssl_session_cache_class *), sslsocket__cache_save, sslsocket__cache_load
};

/* A server handshake that failed (or was refused by the caller) after its
   session was saved: the session must not resume. */
SSLSOCKET__PRIVATE void
sslsocket__cache_forget(sslsocket *s)
{
    sslsocket_config *cfg = (sslsocket_config *)(uintptr_t)sslsocket__cfg(s);
    const br_ssl_session_parameters *p = &s->ctx.server.eng.session;
    sslsocket__sentry *e;
    if (p->session_id_len == 32 && (e = sslsocket__cache_lookup(cfg, p->session_id, 0)) != NULL)
        sslsocket__wipe(e, sizeof *e);
}

/* RFC 8446 4.1.3: a server able to do TLS 1.3 that negotiates TLS 1.2
   or older puts "DOWNGRD" and 01 (00 below TLS 1.2) in the last 8 bytes
   of its random.  BearSSL 0.6 makes the random itself, in
   write-ServerHello, hashing every byte as it writes it, and signs it in
   the ServerKeyExchange: the random is replaced in the one place where
   everything is still in reach, the signing callback of an ECDHE suite.
   The ServerHello and Certificate then wait unsent in the engine's output
   record; the handshake hash is restarted from its copy taken when the
   ClientHello had been read (sslsocket__downgrade_choose keeps it in the
   read buffer, empty during a handshake) and given the mended messages;
   the signed hash is made again over the new random.  Suites without a
   ServerKeyExchange (RSA and static ECDH key exchange, not in the
   defaults) get no sentinel: nothing of theirs is called between the
   random's making and its hashing. */
#define SSLSOCKET__CAN_MARK (sizeof(((sslsocket *)0)->rbuf) >= sizeof(br_multihash_context))

SSLSOCKET__PRIVATE int
sslsocket__suite_ecdhe(unsigned id)
{
    return (id >= 0xC006 && id <= 0xC00A) || (id >= 0xC010 && id <= 0xC014) || id == 0xC023
           || id == 0xC024 || id == 0xC027 || id == 0xC028 || (id >= 0xC02B && id <= 0xC030
                                                                && id != 0xC02D && id != 0xC02E)
           || (id >= 0xC0AC && id <= 0xC0AF) || id == 0xCCA8 || id == 0xCCA9;
}

/* The single-chain policy chose; ECDHE: our sign callback (sni_sign)
   goes in front of it, and the handshake hash so far is kept. */
SSLSOCKET__PRIVATE int
sslsocket__downgrade_choose(sslsocket *s, br_ssl_server_context *sc,
                            br_ssl_server_choices *choices)
{
    int r = (*sc->policy_vtable)->choose(sc->policy_vtable, sc, choices);
    s->flags &= ~SSLSOCKET__F_DOWNGRADE; /* (the first handshake only) */
    if (r && SSLSOCKET__CAN_MARK && sslsocket__suite_ecdhe(choices->cipher_suite)) {
        memcpy(s->rbuf, &sc->eng.mhash, sizeof sc->eng.mhash);
        sc->policy_vtable = &s->sni.vtable;
    }
    return r;
}

/* The sentinel in the random, before the ServerKeyExchange is signed
   (`data`: the hash to sign, hv_len bytes, or with algo_id below 0xFF00
   the parameters themselves).  Only when the engine's output is as
   expected: the ServerHello then the Certificate, contiguous, unsent. */
SSLSOCKET__PRIVATE void
sslsocket__downgrade_mark(sslsocket *s, unsigned algo_id, unsigned char *data, size_t hv_len)
{
    static const unsigned char sentinel[7] = { 0x44, 0x4F, 0x57, 0x4E, 0x47, 0x52, 0x44 };
    br_ssl_engine_context *eng = &s->ctx.server.eng;
    unsigned char *p = eng->saved_hbuf_out, pad[64 + 4 + 133];
    size_t w, shl, cl, pl, id = algo_id & 0xFF;
    const br_hash_class *hf;
    br_hash_compat_context hc;
    if (p == NULL || eng->hbuf_out < p || (w = (size_t)(eng->hbuf_out - p)) < 4 + 38 + 4)
        return;
    shl = 4 + (((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3]);
    if (p[0] != 2 || shl + 4 > w || memcmp(p + 6, eng->server_random, 32) != 0 || p[shl] != 11)
        return;
    cl = 4 + (((size_t)p[shl + 1] << 16) | ((size_t)p[shl + 2] << 8) | p[shl + 3]);
    if (shl + cl != w || eng->ecdhe_point_len > 133)
        return;
    memcpy(eng->server_random + 24, sentinel, 7);
    eng->server_random[31] = eng->session.version >= BR_TLS12 ? 1 : 0;
    memcpy(p + 6 + 24, eng->server_random + 24, 8);
    memcpy(&eng->mhash, s->rbuf, sizeof eng->mhash);
    sslsocket__wipe(s->rbuf, sizeof eng->mhash);
    br_multihash_update(&eng->mhash, p, w);
    /* the signed parameters again (as BearSSL's do_ecdhe_part1 makes them) */
    memcpy(pad, eng->client_random, 32);
    memcpy(pad + 32, eng->server_random, 32);
    pad[64] = 0x03;
    pad[65] = 0x00;
    pad[66] = (unsigned char)eng->ecdhe_curve;
    pad[67] = (unsigned char)eng->ecdhe_point_len;
    memcpy(pad + 68, eng->ecdhe_point, eng->ecdhe_point_len);
    pl = 68 + eng->ecdhe_point_len;
    if (algo_id < 0xFF00) {
        if (hv_len == pl)
            memcpy(data, pad, pl);
        return;
    }
    if (id == 0) { /* MD5 || SHA-1 (TLS 1.0 and 1.1) */
        if (hv_len != 36)
            return;
        br_md5_vtable.init(&hc.vtable);
        br_md5_vtable.update(&hc.vtable, pad, pl);
        br_md5_vtable.out(&hc.vtable, data);
        br_sha1_vtable.init(&hc.vtable);
        br_sha1_vtable.update(&hc.vtable, pad, pl);
        br_sha1_vtable.out(&hc.vtable, data + 16);
        return;
    }
    hf = br_multihash_getimpl(&eng->mhash, (int)id);
    if (hf == NULL || sslsocket__hash_len(hf) != hv_len)
        return;
    hf->init(&hc.vtable);
    hf->update(&hc.vtable, pad, pl);
    hf->out(&hc.vtable, data);
}

/* SNI: a policy that picks the identity whose leaf matches the requested
   name, installs BearSSL's single-chain policy for it, and lets that one
   choose the suite; BearSSL calls the policy through cc->policy_vtable,
   which now points at the single-chain handler for the signing step. */
SSLSOCKET__PRIVATE int
sslsocket__sni_choose(const br_ssl_server_policy_class **pctx, const br_ssl_server_context *cc,
                      br_ssl_server_choices *choices)
{
    sslsocket *s = ((const sslsocket__sni *)(const void *)pctx)->sock;
    const sslsocket_config *cfg = sslsocket__cfg(s);
    br_ssl_server_context *sc = (br_ssl_server_context *)(uintptr_t)cc;
    const char *name = br_ssl_engine_get_server_name(&cc->eng);
    const sslsocket__identity *id = &cfg->ids[0];
    size_t i;
    s->flags |= SSLSOCKET__F_FULL_HANDSHAKE;
    for (i = 0; name[0] && cfg->n_ids > 1 && i < cfg->n_ids; i++) {
        const br_x509_certificate *leaf = &cfg->ids[i].chain[0];
        if (sslsocket__cert_check_host(leaf->data, leaf->data_len, name) == 0) {
            id = &cfg->ids[i];
            break;
        }
    }
    if (id->key.type == BR_KEYTYPE_RSA)
        br_ssl_server_set_single_rsa(sc, id->chain, id->n_chain, &id->key.rsa,
                                     BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN,
                                     br_rsa_private_get_default(),
                                     br_rsa_pkcs1_sign_get_default());
    else
        br_ssl_server_set_single_ec(sc, id->chain, id->n_chain, &id->key.ec,
                                    BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN, BR_KEYTYPE_EC,
                                    br_ec_get_default(), br_ecdsa_sign_asn1_get_default());
    if (!(s->flags & SSLSOCKET__F_DOWNGRADE))
        return (*sc->policy_vtable)->choose(sc->policy_vtable, cc, choices);
    return sslsocket__downgrade_choose(s, sc, choices);
}

/* Called only when sslsocket__downgrade_choose put our policy back in
   front of the single-chain one (else choose() replaced it): the
   downgrade sentinel goes in, then the chosen policy signs. */
SSLSOCKET__PRIVATE uint32_t
sslsocket__sni_keyx(const br_ssl_server_policy_class **pctx, unsigned char *data, size_t *len)
{
    sslsocket *s = ((const sslsocket__sni *)(const void *)pctx)->sock;
    const br_ssl_server_policy_class **real = &s->ctx.server.chain_handler.vtable;
    return (*real)->do_keyx(real, data, len);
}

SSLSOCKET__PRIVATE size_t
sslsocket__sni_sign(const br_ssl_server_policy_class **pctx, unsigned algo_id,
                    unsigned char *data, size_t hv_len, size_t len)
{
    sslsocket *s = ((const sslsocket__sni *)(const void *)pctx)->sock;
    const br_ssl_server_policy_class **real = &s->ctx.server.chain_handler.vtable;
    sslsocket__downgrade_mark(s, algo_id, data, hv_len);
    return (*real)->do_sign(real, algo_id, data, hv_len, len);
}

static const br_ssl_server_policy_class sslsocket__sni_vtable = {
    sizeof(sslsocket__sni), sslsocket__sni_choose, sslsocket__sni_keyx, sslsocket__sni_sign
};

/* Server engine: our certificate, the client-certificate request (not under
   VERIFY_NONE), the server's own suite order. */
SSLSOCKET__PRIVATE int
sslsocket__begin_server(sslsocket *s, const sslsocket_config *cfg,
                        const br_x509_trust_anchor *ta, size_t n_ta)
{
    br_ssl_server_context *sc = &s->ctx.server;
    br_ssl_server_zero(sc);
    sslsocket__engine_impls(&sc->eng); /* the certificate is set by sni_choose */
    /* our policy picks the identity by SNI; being called at all also
       tells a full handshake from a resumed one */
    s->sni.vtable = &sslsocket__sni_vtable;
    s->sni.sock = s;
    br_ssl_server_set_policy(sc, &s->sni.vtable);
    if (cfg->cache) {
        sslsocket_config *w = (sslsocket_config *)(uintptr_t)cfg; /* as client sessions */
        w->cache_vtable = &sslsocket__cache_vtable;
        br_ssl_server_set_cache(sc, &w->cache_vtable);
    }
    sslsocket__engine_setup(s, cfg);
    /* verifiers for the client's CertificateVerify */
    br_ssl_engine_set_default_rsavrfy(&sc->eng);
    br_ssl_engine_set_default_ecdsa(&sc->eng);
    br_ssl_engine_add_flags(&sc->eng, BR_OPT_ENFORCE_SERVER_PREFERENCES);
    if (s->verify_mode != SSLSOCKET_VERIFY_NONE && (n_ta > 0 || cfg->n_pins > 0)) {
        /* only then can a client certificate arrive: a server that asks
           for none never touches the X.509 context (~4 KiB less resident
           per connection) */
        sslsocket__x509_setup(s, ta, n_ta);
        br_ssl_server_set_trust_anchor_names_alt(sc, ta, n_ta);
        if (s->verify_mode == SSLSOCKET_QUERY_PEER)
            br_ssl_engine_add_flags(&sc->eng, BR_OPT_TOLERATE_NO_CLIENT_AUTH);
    }
    if (sslsocket__seed(s) < 0) {
        sslsocket__seterr(s, SSLSOCKET_ERR_SSL_INTERNAL, "no randomness: getrandom failed");
        return -1;
    }
    if (!br_ssl_server_reset(sc)) {
        char why[128];
        s->br_err = br_ssl_engine_last_error(&sc->eng);
        sslsocket__br_error_text(s->br_err, why, sizeof why);
        sslsocket__seterr(s, SSLSOCKET_ERR_SSL_INTERNAL, "cannot start TLS: %s", why);
        return -1;
    }
    sslsocket__engine_started(s, 1);
    return 0;
}

/* The session a client offers (into s->session): its own
   (sslsocket_set_session, or its last), else the config's for this
   policy.  Only under the policy it was made under, and only one whose
   peer was verified (a VERIFY_NONE session may be offered again under
   VERIFY_NONE): a resumed handshake checks no certificate.  A TLS 1.3
   ticket only within its lifetime.  1 when there is one. */
SSLSOCKET__PRIVATE int
sslsocket__client_offer(sslsocket *s, const char *name)
{
    int resume;
    s->flags &= ~(SSLSOCKET__F_CACHED_OFFER | SSLSOCKET__F_OFFERED);
    sslsocket__policy_digest(s, name, s->port, s->policy);
    resume = s->session.valid && strcmp(s->session.host, name) == 0
             && memcmp(s->session.policy, s->policy, sizeof s->policy) == 0
             && (s->session.verified || s->verify_mode == SSLSOCKET_VERIFY_NONE);
    if (!resume && s->verify_mode != SSLSOCKET_VERIFY_NONE) {
        const sslsocket__csession *e = sslsocket__csession_find(s, s->policy, 0);
        if (e != NULL) {
            s->session.params = e->params;
            s->session.ticket = e->ticket;
            sslsocket__fmt(s->session.host, sizeof s->session.host, "%s", name);
            memcpy(s->session.policy, s->policy, sizeof s->policy);
            s->session.verified = s->session.valid = resume = 1;
            s->flags |= SSLSOCKET__F_CACHED_OFFER;
        }
    }
    if (resume && s->session.ticket.len > 0) {
        int64_t age = sslsocket__now_ms() - s->session.ticket.received;
        if (age < 0 || age >= (int64_t)s->session.ticket.lifetime * 1000) {
            s->flags &= ~SSLSOCKET__F_CACHED_OFFER;
            resume = 0;
        }
    }
    return resume;
}

/* BearSSL's client engine, reset: its ClientHello waits in the output
   buffer, offering the TLS 1.2 session of sslsocket__client_offer. */
SSLSOCKET__PRIVATE int
sslsocket__begin_client12(sslsocket *s)
{
    const sslsocket_config *cfg = sslsocket__cfg(s);
    size_t n_ta;
    const br_x509_trust_anchor *ta = sslsocket__arena_anchors(&cfg->arena, &n_ta);
    const char *name = s->verify_name[0] ? s->verify_name : s->host;
    br_ssl_client_context *cc = &s->ctx.client;
    sslsocket_address lit;
    int resume;
    /* (a client without a peer name under VERIFY_PEER was refused by
       sslsocket__start_encryption; connect* always has a host) */
    br_ssl_client_zero(cc);
    sslsocket__engine_impls(&cc->eng);
    br_ssl_client_set_default_rsapub(cc);
    sslsocket__engine_setup(s, cfg);
    sslsocket__x509_setup(s, ta, n_ta);
    if (cfg->n_ids && cfg->ids[0].key.type == BR_KEYTYPE_RSA)
        br_ssl_client_set_single_rsa(cc, cfg->ids[0].chain, cfg->ids[0].n_chain,
                                     &cfg->ids[0].key.rsa,
                                     br_rsa_pkcs1_sign_get_default());
    else if (cfg->n_ids && cfg->ids[0].key.type == BR_KEYTYPE_EC)
        br_ssl_client_set_single_ec(cc, cfg->ids[0].chain, cfg->ids[0].n_chain,
                                    &cfg->ids[0].key.ec,
                                    BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN, BR_KEYTYPE_EC,
                                    br_ec_get_default(), br_ecdsa_sign_asn1_get_default());
    if (sslsocket__seed(s) < 0) {
        sslsocket__seterr(s, SSLSOCKET_ERR_SSL_INTERNAL, "no randomness: getrandom failed");
        return -1;
    }
    resume = sslsocket__client_offer(s, name) && s->session.ticket.len == 0;
    if (resume) {
        br_ssl_engine_set_session_parameters(&cc->eng, &s->session.params);
        s->flags |= SSLSOCKET__F_OFFERED;
    }
    /* RFC 6066: no SNI for IP literals; the IP SAN is checked instead */
    if (!br_ssl_client_reset(cc, sslsocket__parse_ip_literal(name, &lit) ? NULL : name,
                             resume)) {
        char why[128];
        s->br_err = br_ssl_engine_last_error(&cc->eng);
        sslsocket__br_error_text(s->br_err, why, sizeof why);
        sslsocket__seterr(s, SSLSOCKET_ERR_SSL_INTERNAL, "cannot start TLS: %s", why);
        return -1;
    }
    return 0;
}

/* The server answered a ClientHello that offered TLS 1.3 and 1.2 with
   TLS 1.2 (or older; the downgrade sentinel was checked): BearSSL's client
   engine takes the handshake over as if it had sent that ClientHello
   itself.  It is started afresh (same suites, same session offered), its
   own ClientHello dropped, and given ours: its random, and its handshake
   hash restarted over our ClientHello.  Then the ServerHello and whatever
   followed it go in as one plaintext record. */
SSLSOCKET__PRIVATE void
sslsocket__t13_fallback(sslsocket *s, int in_hbuf)
{
    sslsocket__t13 *t = &s->ctx.t13;
    br_ssl_engine_context *eng = SSLSOCKET__ENG(s);
    unsigned char ch[SSLSOCKET__T13_CH_MAX], random[32], *b;
    size_t ch_len = t->ch_len, hl, done = 0, len;
    if (in_hbuf) {
        hl = t->hlen_in - t->fb_at;
        if (5 + hl > SSLSOCKET__T13_IN) {
            sslsocket__t13_fail(t, 80, "TLS 1.2 ServerHello flight too large");
            return;
        }
        memmove(s->iobuf + 5, t->hbuf + t->fb_at, hl);
    } else {
        hl = t->in_len - t->fb_at;
        memmove(s->iobuf + 5, s->iobuf + t->fb_at, hl);
    }
    s->iobuf[0] = 22; /* (s->iobuf[1..2]: the version of the record received) */
    s->iobuf[3] = (unsigned char)(hl >> 8);
    s->iobuf[4] = (unsigned char)hl;
    memcpy(ch, SSLSOCKET__T13_OUT(s) + 5, ch_len);
    memcpy(random, t->random, 32);
    s->flags &= ~SSLSOCKET__F_T13;
    if (sslsocket__begin_client12(s) < 0) {
        /* (the engine reports itself closed, with this error) */
        if (eng->err == 0)
            eng->err = BR_ERR_BAD_STATE;
        eng->iomode = 0;
        return;
    }
    b = br_ssl_engine_sendrec_buf(eng, &len);
    if (b != NULL)
        br_ssl_engine_sendrec_ack(eng, len);
    memcpy(eng->client_random, random, 32);
    br_multihash_init(&eng->mhash);
    br_multihash_update(&eng->mhash, ch, ch_len);
    while (done < 5 + hl && (b = br_ssl_engine_recvrec_buf(eng, &len)) != NULL && len > 0) {
        if (len > 5 + hl - done)
            len = 5 + hl - done;
        memmove(b, s->iobuf + done, len);
        br_ssl_engine_recvrec_ack(eng, len);
        done += len;
    }
}

/* A server whose range holds TLS 1.3: the first ClientHello is read by
   the TLS 1.3 server core (>>tls13); client certificates are asked for
   as by BearSSL's server (not under VERIFY_NONE, and only with anchors
   or pins to check them against), required under VERIFY_PEER. */
SSLSOCKET__PRIVATE int
sslsocket__begin_tls13_server(sslsocket *s, const br_x509_trust_anchor *ta, size_t n_ta)
{
    const sslsocket_config *cfg = sslsocket__cfg(s);
    unsigned char rnd[96];
    int want = 0;
    if (sslsocket__sys_random(rnd, sizeof rnd) < 0) {
        sslsocket__seterr(s, SSLSOCKET_ERR_SSL_INTERNAL, "no randomness: getrandom failed");
        return -1;
    }
    if (s->verify_mode != SSLSOCKET_VERIFY_NONE && (n_ta > 0 || cfg->n_pins > 0)) {
        sslsocket__x509_init(s, ta, n_ta);
        want = s->verify_mode == SSLSOCKET_VERIFY_PEER ? 2 : 1;
    }
    sslsocket__t13s_start(&s->ctx.t13, cfg, rnd, want,
                          cfg->version_min < SSLSOCKET_TLS13 && cfg->n_suites > 0,
                          &s->x509.vtable, SSLSOCKET__T13_OUT(s), SSLSOCKET__T13_OUT_CAP);
    sslsocket__wipe(rnd, sizeof rnd);
    s->flags |= SSLSOCKET__F_T13;
    sslsocket__engine_started(s, 1);
    s->flags |= SSLSOCKET__F_FULL_HANDSHAKE; /* (no TLS 1.3 resumption yet) */
    return 0;
}

/* The first ClientHello offered no TLS 1.3 and the range allows older
   versions: BearSSL's server engine is started as if it had been there
   from the start, and given the ClientHello's record unchanged (or, when
   it came in several records, the reassembled message as one record;
   the handshake hash is over messages, not records). */
SSLSOCKET__PRIVATE void
sslsocket__t13s_fallback(sslsocket *s, int in_hbuf)
{
    sslsocket__t13 *t = &s->ctx.t13;
    const sslsocket_config *cfg = sslsocket__cfg(s);
    br_ssl_engine_context *eng = SSLSOCKET__ENG(s);
    size_t n_ta, rl, done = 0, len;
    const br_x509_trust_anchor *ta = sslsocket__arena_anchors(&cfg->arena, &n_ta);
    int64_t deadline = s->deadline;
    unsigned char *b;
    if (in_hbuf) {
        size_t hl = t->hlen_in;
        if (hl > 16384) {
            t->state = SSLSOCKET__T13_S_WAIT_CH;
            sslsocket__t13_fail(t, 80, "TLS 1.2 ClientHello too large");
            sslsocket__t13s_queue_alert(s, 80);
            return;
        }
        memmove(s->iobuf + 5, t->hbuf, hl); /* (hbuf lies beyond the input area) */
        s->iobuf[0] = 22; /* (s->iobuf[1..2]: the version of the last record) */
        s->iobuf[3] = (unsigned char)(hl >> 8);
        s->iobuf[4] = (unsigned char)hl;
        rl = 5 + hl;
    } else {
        rl = t->in_len;
    }
    s->flags &= ~SSLSOCKET__F_T13;
    if (sslsocket__begin_server(s, cfg, ta, n_ta) < 0) {
        /* (the engine reports itself closed, with this error) */
        if (eng->err == 0)
            eng->err = BR_ERR_BAD_STATE;
        eng->iomode = 0;
        return;
    }
    s->deadline = deadline; /* (the handshake began with the ClientHello) */
    s->flags |= SSLSOCKET__F_DOWNGRADE; /* (RFC 8446's sentinel: sslsocket__downgrade_mark) */
    while (done < rl && (b = br_ssl_engine_recvrec_buf(eng, &len)) != NULL && len > 0) {
        if (len > rl - done)
            len = rl - done;
        memmove(b, s->iobuf + done, len);
        br_ssl_engine_recvrec_ack(eng, len);
        done += len;
    }
}

SSLSOCKET__PRIVATE int
sslsocket__begin_tls(sslsocket *s, int server)
{
    const sslsocket_config *cfg = sslsocket__cfg(s);
    size_t n_ta;
    const br_x509_trust_anchor *ta = sslsocket__arena_anchors(&cfg->arena, &n_ta);
    const char *name = s->verify_name[0] ? s->verify_name : s->host;

    s->verify_mode = sslsocket__resolved_verify_mode(s, server);
    s->flags &= ~(SSLSOCKET__F_T13 | SSLSOCKET__F_DOWNGRADE);
    if (server) {
        /* TLS 1.3 served when the range was set to hold it (not by
           default: the server issues no tickets yet, so TLS 1.3 clients
           would lose the resumption TLS 1.2 gives them), and the cipher
           list has TLS 1.3's suites */
        int can13 = cfg->version_max == SSLSOCKET_TLS13 && cfg->n_suites13 > 0
                    && cfg->server_tls13;
        if (can13 && SSLSOCKET__T13_OK && !SSLSOCKET_HALF_DUPLEX)
            return sslsocket__begin_tls13_server(s, ta, n_ta);
        if (cfg->version_min == SSLSOCKET_TLS13 || cfg->n_suites == 0) {
            if (can13)
                sslsocket__seterr(s, SSLSOCKET_ERR_OPERATION, "a TLS 1.3 server needs a "
                                  "full-duplex record buffer of %d bytes (SSLSOCKET_IOBUF_SIZE)",
                                  (int)SSLSOCKET__T13_IN + 4096);
            else
                sslsocket__seterr(s, SSLSOCKET_ERR_OPERATION, "no cipher suite of the "
                                  "configuration is for its protocol range");
            return -1;
        }
        return sslsocket__begin_server(s, cfg, ta, n_ta);
    }
    /* what the range and the cipher list leave (a list without TLS 1.3's
       suites offers no TLS 1.3, one with only them no TLS 1.2) */
    if ((cfg->version_min == SSLSOCKET_TLS13 || cfg->n_suites == 0)
        && (cfg->version_max < SSLSOCKET_TLS13 || cfg->n_suites13 == 0)) {
        sslsocket__seterr(s, SSLSOCKET_ERR_OPERATION, "no cipher suite of the configuration "
                          "is for its protocol range");
        return -1;
    }
    if (cfg->version_min == SSLSOCKET_TLS13 || cfg->n_suites == 0) {
        /* TLS 1.3 alone: the library's own engine (>>tls13) */
        sslsocket__x509_init(s, ta, n_ta);
        if (sslsocket__begin_tls13_client(s, name, NULL) < 0)
            return -1;
        sslsocket__engine_started(s, 0);
        return 0;
    }
    if (sslsocket__begin_client12(s) < 0)
        return -1;
    if (cfg->version_max == SSLSOCKET_TLS13 && cfg->n_suites13 > 0 && SSLSOCKET__T13_OK
        && !SSLSOCKET_HALF_DUPLEX) {
        /* (half duplex: BearSSL's engine would write its ClientHello over
           the ServerHello of a fallback; such builds offer TLS 1.2 alone,
           as do record buffers too small for TLS 1.3) */
        /* TLS 1.3 and 1.2 in one ClientHello: ours, with BearSSL's suites
           and the session it would resume (BearSSL's engine is started
           again if the server chooses TLS 1.2) */
        const br_ssl_engine_context *eng = SSLSOCKET__ENG(s);
        uint16_t suites[sizeof eng->suites_buf / sizeof eng->suites_buf[0]];
        unsigned char sid[32];
        sslsocket__t13_legacy legacy;
        legacy.n_suites = eng->suites_num;
        memcpy(suites, eng->suites_buf, legacy.n_suites * sizeof suites[0]);
        legacy.sid_len = eng->session.session_id_len;
        memcpy(sid, eng->session.session_id, legacy.sid_len);
        legacy.suites = suites;
        legacy.sid = sid;
        legacy.version_min = cfg->version_min;
        if (sslsocket__begin_tls13_client(s, name, &legacy) < 0)
            return -1;
    }
    sslsocket__engine_started(s, 0);
    return 0;
}

SSLSOCKET__PRIVATE void
sslsocket__keylog_line(const sslsocket_config *cfg, const char *path, const char *label,
                       const unsigned char *random, const unsigned char *secret, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char line[40 + 64 + 1 + 2 * SSLSOCKET__TLS13_MAX_HASH + 2];
    size_t i, o = strlen(label);
    memcpy(line, label, o);
    line[o++] = ' ';
    for (i = 0; i < 32; i++) {
        line[o++] = hex[random[i] >> 4];
        line[o++] = hex[random[i] & 15];
    }
    line[o++] = ' ';
    for (i = 0; i < len; i++) {
        line[o++] = hex[secret[i] >> 4];
        line[o++] = hex[secret[i] & 15];
    }
    line[o] = 0;
    if (cfg->keylog) {
        cfg->keylog(cfg->keylog_user, line);
    } else if (path && *path) {
        /* never follow a symbolic link, never wait for a FIFO's reader,
           append only to a regular file (created 0600) */
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK
                      | O_NOCTTY, 0600);
        struct stat st;
        if (fd >= 0) {
            if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
                ssize_t w;
                line[o++] = '\n';
                w = write(fd, line, o);
                (void)w;
            }
            close(fd);
        }
    }
    sslsocket__wipe(line, sizeof line);
}

SSLSOCKET__PRIVATE void
sslsocket__keylog(sslsocket *s)
{
    const sslsocket_config *cfg = sslsocket__cfg(s);
    const char *path = NULL;
    if (cfg->keylog == NULL && (path = secure_getenv("SSLKEYLOGFILE")) == NULL)
        return;
    if (s->flags & SSLSOCKET__F_T13) {
        /* TLS 1.3: the four traffic secrets (NSS key log format) */
        const sslsocket__t13 *t = &s->ctx.t13;
        sslsocket__keylog_line(cfg, path, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", t->random, t->c_hs,
                               t->hlen);
        sslsocket__keylog_line(cfg, path, "SERVER_HANDSHAKE_TRAFFIC_SECRET", t->random, t->s_hs,
                               t->hlen);
        sslsocket__keylog_line(cfg, path, "CLIENT_TRAFFIC_SECRET_0", t->random, t->c_ap, t->hlen);
        sslsocket__keylog_line(cfg, path, "SERVER_TRAFFIC_SECRET_0", t->random, t->s_ap, t->hlen);
        return;
    }
    sslsocket__keylog_line(cfg, path, "CLIENT_RANDOM", SSLSOCKET__ENG(s)->client_random,
                           SSLSOCKET__ENG(s)->session.master_secret, 48);
}

/* The handshake is over and the decision taken: ENCRYPTED. */
SSLSOCKET__PRIVATE void
sslsocket__encrypted(sslsocket *s)
{
    br_ssl_engine_context *eng = SSLSOCKET__ENG(s);
    br_ssl_session_parameters p;
    s->flags |= SSLSOCKET__F_HS_DONE;
    s->flags &= ~SSLSOCKET__F_HOLD;
    memset(&p, 0, sizeof p);
    if (!(s->flags & SSLSOCKET__F_T13))
        br_ssl_engine_get_session_parameters(eng, &p);
    if ((s->flags & SSLSOCKET__F_SERVER) && !(s->flags & SSLSOCKET__F_FULL_HANDSHAKE))
        s->flags |= SSLSOCKET__F_RESUMED; /* no key choice: an abbreviated handshake */
    if (!(s->flags & SSLSOCKET__F_SERVER) && (s->flags & SSLSOCKET__F_OFFERED)
        && p.session_id_len > 0 && p.session_id_len == s->session.params.session_id_len
        && memcmp(p.session_id, s->session.params.session_id, p.session_id_len) == 0)
        s->flags |= SSLSOCKET__F_RESUMED;
    if (!(s->flags & (SSLSOCKET__F_SERVER | SSLSOCKET__F_T13))) {
        /* a resumed session stays as verified as the handshake that made
           it; a full one is verified when it found no problem at all (an
           ignored problem is still a problem) */
        if (!(s->flags & SSLSOCKET__F_RESUMED))
            s->session.verified = s->verify_mode != SSLSOCKET_VERIFY_NONE && s->have_peer
                                  && s->n_ssl_errors == 0;
        s->session.params = p;
        sslsocket__fmt(s->session.host, sizeof s->session.host, "%s",
                 s->verify_name[0] ? s->verify_name : s->host);
        memcpy(s->session.policy, s->policy, sizeof s->policy); /* as begin_tls made it */
        s->session.valid = p.session_id_len > 0;
        sslsocket__csession_update(s, 1);
    } else if (!(s->flags & SSLSOCKET__F_SERVER)) {
        /* TLS 1.3: the session to keep comes with a ticket
           (sslsocket__t13_ticket_in); a resumed one stays until then */
        if (s->ctx.t13.psk_accepted) {
            s->flags |= SSLSOCKET__F_RESUMED;
        } else if (s->ctx.t13.nst_new != 2) {
            sslsocket__wipe(&s->session.ticket, sizeof s->session.ticket);
            s->session.valid = 0;
        }
    }
    sslsocket__wipe(&p, sizeof p);
    sslsocket__keylog(s);
    s->deadline = 0;
    sslsocket__traffic(s);
    sslsocket__event(s, SSLSOCKET_EV_ENCRYPTED, 0);
    if (s->flags & SSLSOCKET__F_DISCONNECT_PENDING)
        sslsocket__begin_close(s);
}

/* The engine finished its handshake (first SENDAPP): report problems, and
   either go on or hold for the caller's decision. */
SSLSOCKET__PRIVATE void
sslsocket__handshake_done(sslsocket *s)
{
    if ((s->flags & SSLSOCKET__F_SERVER) && !(s->flags & SSLSOCKET__F_FULL_HANDSHAKE)) {
        /* resumed: the name BearSSL saw must be the one the session was
           looked up for (see sslsocket__clienthello_sni) */
        unsigned char tag[16];
        sslsocket__cache_tag(s, br_ssl_engine_get_server_name(SSLSOCKET__ENG(s)), tag);
        if (memcmp(tag, s->resume_tag, sizeof tag) != 0) {
            sslsocket__cache_forget(s);
            s->flags &= ~SSLSOCKET__F_ENGINE_LIVE;
            sslsocket__fail_connection(s, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED,
                "TLS handshake failed: the client resumed a session under another "
                "server name or policy");
            return;
        }
    }
    if (s->n_ssl_errors > 0 && s->verify_mode != SSLSOCKET_VERIFY_NONE)
        sslsocket__event(s, SSLSOCKET_EV_SSL_ERRORS, s->n_ssl_errors);
    if (s->verify_mode == SSLSOCKET_VERIFY_PEER && sslsocket__unignored(s)) {
        s->flags |= SSLSOCKET__F_HOLD; /* only with F_DECIDE: end_chain let it pass */
        s->flags |= SSLSOCKET__F_HS_DONE;
        return;
    }
    sslsocket__encrypted(s);
}

/* BearSSL 0.6 fails a rejected certificate chain with a plain `fail`
   (ssl_hs_client.t0: "read-Certificate ... neg fail"): no alert is sent and
   the peer only sees the TCP connection drop (RST when its next flight is
   still unread).  Send the fatal alert ourselves: at Certificate time no
   ChangeCipherSpec has been sent, so it goes as a plaintext record.  Then
   read what is already waiting so that close() sends FIN, not RST, which
   could destroy the alert before the peer reads it.  Best effort: never
   waits. */
SSLSOCKET__PRIVATE void
sslsocket__send_cert_alert(sslsocket *s, int problem)
{
    unsigned char rec[7], junk[512];
    unsigned v = br_ssl_engine_get_version(SSLSOCKET__ENG(s));
    int i;
    if (v < SSLSOCKET_TLS10 || v > SSLSOCKET_TLS12)
        v = SSLSOCKET_TLS12;
    rec[0] = 21; /* alert */
    rec[1] = (unsigned char)(v >> 8);
    rec[2] = (unsigned char)v;
    rec[3] = 0;
    rec[4] = 2;
    rec[5] = 2; /* fatal */
    switch (problem) {
    case SSLSOCKET_SSLERR_EXPIRED:
    case SSLSOCKET_SSLERR_NOT_YET_VALID: rec[6] = 45; break; /* certificate_expired */
    case SSLSOCKET_SSLERR_UNTRUSTED: rec[6] = 48; break;     /* unknown_ca */
    case SSLSOCKET_SSLERR_EKU:
    case SSLSOCKET_SSLERR_KEY_USAGE: rec[6] = 43; break;     /* unsupported_certificate */
    case SSLSOCKET_SSLERR_NO_PEER_CERTIFICATE: rec[6] = 40; break; /* handshake_failure */
    default: rec[6] = 42; break;                             /* bad_certificate */
    }
    if (sslsocket__io_send(s, rec, sizeof rec) != (ptrdiff_t)sizeof rec)
        return;
    for (i = 0; i < 64 && sslsocket__io_recv(s, junk, sizeof junk) > 0; i++) {
    }
}

/* Handshake failure message from the problems found, or BearSSL's error. */
SSLSOCKET__PRIVATE void
sslsocket__fail_handshake(sslsocket *s, int br_err)
{
    char why[SSLSOCKET_ERROR_STRING_SIZE];
    int bad = sslsocket__unignored(s);
    s->br_err = br_err;
    /* SPEC 3: the SSL-errors event that lists the problems comes before
       SSL_HANDSHAKE_FAILED (the decision path already queued it) */
    if (s->n_ssl_errors > 0 && s->verify_mode != SSLSOCKET_VERIFY_NONE
        && !(s->flags & SSLSOCKET__F_HS_DONE))
        sslsocket__event(s, SSLSOCKET_EV_SSL_ERRORS, s->n_ssl_errors);
    if (s->flags & SSLSOCKET__F_T13)
        ; /* (TLS 1.3 sent its alert, protected, with the failure) */
    else if (bad && !(s->flags & SSLSOCKET__F_HS_DONE) && br_err >= BR_ERR_X509_OK
             && br_err < BR_ERR_RECV_FATAL_ALERT)
        sslsocket__send_cert_alert(s, bad);
    else if (br_err == BR_ERR_NO_CLIENT_AUTH) /* nor for a missing client certificate */
        sslsocket__send_cert_alert(s, SSLSOCKET_SSLERR_NO_PEER_CERTIFICATE);
    if (bad && br_err >= BR_ERR_X509_OK && br_err < BR_ERR_RECV_FATAL_ALERT) {
        char what[SSLSOCKET_ERROR_STRING_SIZE - 64];
        sslsocket__problem_text(s, bad, what, sizeof what);
        sslsocket__fmt(why, sizeof why, "certificate verification failed: %s", what);
    } else if (br_err == 0) {
        sslsocket__fmt(why, sizeof why, "connection closed by peer during handshake");
    } else {
        sslsocket__br_error_text(br_err, why, sizeof why);
    }
    /* Nothing from a peer whose handshake failed may be read: after a
       refused decision (F_HOLD) BearSSL already holds its decrypted
       application data, and finish() clears F_HOLD. */
    s->flags &= ~SSLSOCKET__F_ENGINE_LIVE;
    if ((s->flags & SSLSOCKET__F_SERVER) && !SSLSOCKET__IS13(s)) /* (no TLS 1.3 cache yet) */
        sslsocket__cache_forget(s);
    else if (!(s->flags & SSLSOCKET__F_SERVER))
        sslsocket__csession_update(s, 0);
    sslsocket__fail_connection(s, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "TLS handshake failed: %s",
                               why);
}

/* ==========================================================================
   >>engine
   The engine pump: moves bytes between the socket and BearSSL's record
   buffers, and between BearSSL's application buffers and ours.
   ========================================================================== */

/* Decrypted bytes waiting inside the engine (readable without the fd). */
SSLSOCKET__PRIVATE const unsigned char *
sslsocket__recvapp(const sslsocket *s, size_t *len)
{
    *len = 0;
    if (!(s->flags & SSLSOCKET__F_ENGINE_LIVE) || (s->flags & SSLSOCKET__F_HOLD)
        || !(s->flags & SSLSOCKET__F_HS_DONE))
        return NULL;
    return sslsocket__e_recvapp_buf(s, len);
}

SSLSOCKET__PRIVATE void
sslsocket__compact(sslsocket *s)
{
    if (s->rstart > 0) {
        memmove(s->rbuf, s->rbuf + s->rstart, s->rend - s->rstart);
        s->rend -= s->rstart;
        s->rstart = 0;
    }
}

SSLSOCKET__PRIVATE void
sslsocket__ready_read(sslsocket *s)
{
    if (!(s->flags & SSLSOCKET__F_READ_EVENT)) {
        s->flags |= SSLSOCKET__F_READ_EVENT;
        sslsocket__event(s, SSLSOCKET_EV_READY_READ, 0);
    }
}

/* recvapp -> rbuf as far as it fits.  Returns bytes moved. */
SSLSOCKET__PRIVATE size_t
sslsocket__take_recvapp(sslsocket *s)
{
    size_t len, room;
    const unsigned char *p = sslsocket__recvapp(s, &len);
    if (p == NULL || len == 0)
        return 0;
    if (s->rend == sizeof s->rbuf)
        sslsocket__compact(s);
    room = sizeof s->rbuf - s->rend;
    if (len > room)
        len = room;
    if (len == 0)
        return 0;
    memcpy(s->rbuf + s->rend, p, len);
    s->rend += len;
    sslsocket__e_recvapp_ack(s, len);
    return len;
}

/* wbuf -> sendapp as far as it fits, then flush into records. */
SSLSOCKET__PRIVATE size_t
sslsocket__feed_sendapp(sslsocket *s, const unsigned char *src, size_t n)
{
    if (n == 0 || (n = sslsocket__e_sendapp(s, src, n)) == 0)
        return 0;
    s->unflushed += n;
    return n;
}

/* Run the engine until nothing moves, or until this poll has taken
   SSLSOCKET__POLL_RECORDS records or SSLSOCKET__POLL_MS milliseconds (a
   peer that streams tiny records must not hold a single-threaded loop:
   the rest waits for the next poll, and sslsocket_timeout_ms() is 0).
   Returns 0, -1 when a socket error ended the connection (sys_errno),
   -2 when the peer sent SSLSOCKET__MAX_EMPTY_RECORDS records in a row
   that carried no application data after the handshake (empty records,
   warning alerts, refused renegotiations: OpenSSL stops at 32 empty
   records and 5 warning alerts). */
#define SSLSOCKET__POLL_RECORDS 64
#define SSLSOCKET__POLL_MS 10
#define SSLSOCKET__MAX_EMPTY_RECORDS 32
SSLSOCKET__PRIVATE int
sslsocket__pump(sslsocket *s)
{
    int progress, records = 0;
    int64_t t0 = 0;
    s->flags &= ~(SSLSOCKET__F_WANT_READ | SSLSOCKET__F_WANT_WRITE | SSLSOCKET__F_MORE);
    while (s->plain_pending > 0) { /* STARTTLS: the last plaintext goes first */
        ptrdiff_t n = sslsocket__io_send(s, s->wbuf, s->plain_pending);
        if (n < 0) {
            s->sys_errno = errno;
            return -1;
        }
        if (n == 0) {
            s->flags |= SSLSOCKET__F_WANT_WRITE;
            return 0;
        }
        memmove(s->wbuf, s->wbuf + n, s->wlen - (size_t)n);
        s->wlen -= (size_t)n;
        s->plain_pending -= (size_t)n;
        sslsocket__event(s, SSLSOCKET_EV_BYTES_WRITTEN, (int)n);
    }
    do {
        unsigned st = sslsocket__e_state(s);
        size_t len;
        unsigned char *buf;
        ptrdiff_t n;
        progress = 0;
        if (st & BR_SSL_CLOSED)
            return 0;
        /* 1. records out first: they may unblock the peer */
        if (st & BR_SSL_SENDREC) {
            buf = sslsocket__e_sendrec_buf(s, &len);
            n = sslsocket__io_send(s, buf, len);
            if (n > 0) {
                sslsocket__e_sendrec_ack(s, (size_t)n);
                sslsocket__traffic(s);
                progress = 1;
                continue;
            } else if (n == 0) {
                s->flags |= SSLSOCKET__F_WANT_WRITE;
            } else {
                s->sys_errno = errno;
                return -1;
            }
        } else if (s->unflushed > 0) {
            /* every record holding the app data has left */
            sslsocket__event(s, SSLSOCKET_EV_BYTES_WRITTEN, (int)s->unflushed);
            s->unflushed = 0;
        }
        /* 2. the handshake just completed */
        if (!(s->flags & SSLSOCKET__F_HS_DONE) && (st & BR_SSL_SENDAPP)) {
            sslsocket__handshake_done(s);
            progress = 1;
            continue;
        }
        /* 3. decrypted data: announced where it is, inside the engine (a
           caller that reads it at once never touches our read buffer);
           moved into our buffer when the caller left it there for a poll,
           or to stay behind what our buffer holds, so that the engine can
           go on with the next record; in half duplex at once (while it
           sits in the engine nothing can be sent); held while a decision
           waits */
        if (st & BR_SSL_RECVAPP) {
            if (sslsocket__recvapp(s, &len) == NULL || len == 0) {
                s->flags &= ~SSLSOCKET__F_APP_SEEN;
            } else {
                s->empty_run = 0; /* a record with data ends a run of empty ones */
                if (s->rend == s->rstart && !(s->flags & SSLSOCKET__F_APP_SEEN)
                    && !SSLSOCKET_HALF_DUPLEX) {
                    s->flags |= SSLSOCKET__F_APP_SEEN;
                    sslsocket__ready_read(s);
                } else if (sslsocket__take_recvapp(s) > 0) {
                    if (!(s->flags & SSLSOCKET__F_APP_SEEN))
                        sslsocket__ready_read(s);
                    s->flags &= ~SSLSOCKET__F_APP_SEEN;
                    progress = 1;
                }
            }
        }
        /* 4. queued application data into the engine */
        if ((st & BR_SSL_SENDAPP) && s->wlen > 0 && !(s->flags & SSLSOCKET__F_HOLD)) {
            size_t m = sslsocket__feed_sendapp(s, s->wbuf, s->wlen);
            if (m > 0) {
                memmove(s->wbuf, s->wbuf + m, s->wlen - m);
                s->wlen -= m;
                progress = 1;
            }
        }
        /* 5. closing: once everything queued is inside the engine, send
           close_notify (unread data is acknowledged first: BearSSL 0.6 can
           otherwise stall the close) */
        if (s->state == SSLSOCKET_CLOSING && s->wlen == 0
            && !(s->flags & SSLSOCKET__F_ENGINE_CLOSING) && (s->flags & SSLSOCKET__F_HS_DONE)) {
            size_t rest;
            sslsocket__take_recvapp(s);
            if (sslsocket__e_recvapp_buf(s, &rest) != NULL && rest > 0)
                sslsocket__e_recvapp_ack(s, rest);
            sslsocket__e_close(s);
            s->flags |= SSLSOCKET__F_ENGINE_CLOSING;
            progress = 1;
            continue;
        }
        /* 6. records in (the state again: in half-duplex mode, data fed
           in step 4 takes the buffer records would come into) */
        st = sslsocket__e_state(s);
        if ((st & BR_SSL_RECVREC) && !(s->flags & SSLSOCKET__F_EOF)) {
            int starts;
            buf = sslsocket__e_recvrec_buf(s, &len, &starts); /* starts: a record begins */
            if (starts && records > 0) {
                if (t0 == 0)
                    t0 = sslsocket__now_ms();
                if (records >= SSLSOCKET__POLL_RECORDS
                    || sslsocket__now_ms() - t0 >= SSLSOCKET__POLL_MS) {
                    s->flags |= SSLSOCKET__F_MORE;
                    return 0;
                }
            }
            n = sslsocket__io_recv(s, buf, len);
            if (n > 0 && starts) {
                records++;
                if ((s->flags & SSLSOCKET__F_HS_DONE)
                    && ++s->empty_run > SSLSOCKET__MAX_EMPTY_RECORDS)
                    return -2;
            }
            if (n > 0) {
                sslsocket__e_recvrec_ack(s, (size_t)n);
                sslsocket__traffic(s);
                progress = 1;
            } else if (n == 0) {
                s->flags |= SSLSOCKET__F_EOF;
            } else if (n == -2) {
                s->flags |= SSLSOCKET__F_WANT_READ;
            } else {
                s->sys_errno = errno;
                return -1;
            }
        }
    } while (progress);
    return 0;
}

/* CONNECTED/CLOSING in a TLS mode. */
SSLSOCKET__PRIVATE void
sslsocket__tls_io(sslsocket *s)
{
    unsigned st;
    int r;
    if (s->flags & SSLSOCKET__F_HOLD) {
        /* the caller had one poll to call sslsocket_ignore_ssl_errors() */
        if (sslsocket__unignored(s)) {
            sslsocket__fail_handshake(s, sslsocket__problem_br_err(sslsocket__unignored(s)));
            return;
        }
        sslsocket__encrypted(s);
    }
    if ((r = sslsocket__pump(s)) < 0) {
        int e = s->sys_errno;
        if (r == -2) {
            s->flags &= ~SSLSOCKET__F_ENGINE_LIVE;
            sslsocket__fail_connection(s, SSLSOCKET_ERR_SSL_INTERNAL,
                "TLS error: the peer sent %d records in a row without data (empty records "
                "or warning alerts)", SSLSOCKET__MAX_EMPTY_RECORDS + 1);
        } else if (SSLSOCKET__IS13(s)
                       ? s->ctx.t13.state == SSLSOCKET__T13_FAILED && s->ctx.t13.br_err == 0
                       : (SSLSOCKET__ENG(s)->shutdown_recv || SSLSOCKET__ENG(s)->close_received)) {
            /* the peer sent close_notify and left before our answer */
            sslsocket__fail_connection(s, SSLSOCKET_ERR_REMOTE_HOST_CLOSED,
                "remote host closed the connection (close_notify received)");
        } else if (s->state == SSLSOCKET_CLOSING) {
            sslsocket__finish(s);
        } else if (!(s->flags & SSLSOCKET__F_HS_DONE)) {
            sslsocket__fail_connection(s, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED,
                                       "TLS handshake failed: %s", sslsocket__errno_text(e));
        } else {
            sslsocket__fail_connection(s, sslsocket__errno_code(e), "%s",
                                       sslsocket__errno_text(e));
        }
        return;
    }
    st = sslsocket__e_state(s);
    if (st & BR_SSL_CLOSED) {
        int err = sslsocket__e_last_error(s);
        s->br_err = err;
        if (err == SSLSOCKET__T13_ERR) {
            /* a TLS 1.3 failure that is not a certificate's or an alert's */
            s->flags &= ~SSLSOCKET__F_ENGINE_LIVE;
            sslsocket__fail_connection(s, (s->flags & SSLSOCKET__F_HS_DONE)
                                              ? SSLSOCKET_ERR_SSL_INTERNAL
                                              : SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED,
                                       "%s: %s", (s->flags & SSLSOCKET__F_HS_DONE)
                                              ? "TLS error" : "TLS handshake failed",
                                       s->ctx.t13.why);
            return;
        }
        if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT)
            s->flags |= SSLSOCKET__F_ABORTING; /* the peer killed it: nothing to flush */
        if (s->flags & SSLSOCKET__F_ENGINE_CLOSING) {
            sslsocket__finish(s);
        } else if (!(s->flags & SSLSOCKET__F_HS_DONE) || (s->flags & SSLSOCKET__F_HOLD)
                   || (err >= BR_ERR_X509_OK && err < BR_ERR_RECV_FATAL_ALERT
                       && sslsocket__unignored(s))) {
            sslsocket__fail_handshake(s, err); /* (the last: a renegotiation's chain) */
        } else if (err == 0) {
            sslsocket__fail_connection(s, SSLSOCKET_ERR_REMOTE_HOST_CLOSED,
                "remote host closed the connection (close_notify received)");
        } else {
            char why[128];
            sslsocket__br_error_text(err, why, sizeof why);
            sslsocket__fail_connection(s, SSLSOCKET_ERR_SSL_INTERNAL, "TLS error: %s", why);
        }
        return;
    }
    if ((s->flags & SSLSOCKET__F_ENGINE_CLOSING) && !(st & BR_SSL_SENDREC)) {
        /* our close_notify has left; the peer's answer is not awaited */
        sslsocket__finish(s);
        return;
    }
    if (s->flags & SSLSOCKET__F_EOF) {
        if (s->state == SSLSOCKET_CLOSING)
            sslsocket__finish(s);
        else if (!(s->flags & SSLSOCKET__F_HS_DONE))
            sslsocket__fail_handshake(s, 0);
        else {
            s->flags |= SSLSOCKET__F_TRUNCATED;
            sslsocket__fail_connection(s, SSLSOCKET_ERR_REMOTE_HOST_CLOSED,
                "connection truncated: the peer closed TCP without close_notify");
        }
    }
}

/* CONNECTED/CLOSING without TLS. */
SSLSOCKET__PRIVATE void
sslsocket__plain_io(sslsocket *s)
{
    ptrdiff_t n;
    s->flags &= ~(SSLSOCKET__F_WANT_READ | SSLSOCKET__F_WANT_WRITE);
    while (s->wlen > 0) {
        n = sslsocket__io_send(s, s->wbuf, s->wlen);
        if (n < 0) {
            int e = errno;
            if (s->state == SSLSOCKET_CLOSING)
                sslsocket__finish(s);
            else
                sslsocket__fail_connection(s, sslsocket__errno_code(e), "%s",
                                           sslsocket__errno_text(e));
            return;
        }
        if (n == 0) {
            s->flags |= SSLSOCKET__F_WANT_WRITE;
            break;
        }
        memmove(s->wbuf, s->wbuf + n, s->wlen - (size_t)n);
        s->wlen -= (size_t)n;
        sslsocket__traffic(s);
        sslsocket__event(s, SSLSOCKET_EV_BYTES_WRITTEN, (int)n);
    }
    if (s->state == SSLSOCKET_CLOSING && s->wlen == 0) {
        sslsocket__finish(s);
        return;
    }
    for (;;) {
        size_t room;
        if (s->rend == sizeof s->rbuf)
            sslsocket__compact(s);
        room = sizeof s->rbuf - s->rend;
        if (room == 0)
            break; /* backpressure: the caller must read */
        n = sslsocket__io_recv(s, s->rbuf + s->rend, room);
        if (n > 0) {
            s->rend += (size_t)n;
            sslsocket__traffic(s);
            sslsocket__ready_read(s);
            continue;
        }
        if (n == -2) {
            s->flags |= SSLSOCKET__F_WANT_READ;
            break;
        }
        if (n == 0) {
            if (s->state == SSLSOCKET_CLOSING)
                sslsocket__finish(s);
            else
                sslsocket__fail_connection(s, SSLSOCKET_ERR_REMOTE_HOST_CLOSED,
                                           "remote host closed the connection");
        } else {
            int e = errno;
            sslsocket__fail_connection(s, sslsocket__errno_code(e), "%s",
                                       sslsocket__errno_text(e));
        }
        return;
    }
}

SSLSOCKET__PRIVATE void
sslsocket__begin_close(sslsocket *s)
{
    const sslsocket_config *cfg = sslsocket__cfg(s);
    s->flags &= ~SSLSOCKET__F_DISCONNECT_PENDING;
    sslsocket__set_state(s, SSLSOCKET_CLOSING);
    s->deadline = cfg->close_ms > 0 ? sslsocket__now_ms() + cfg->close_ms : 0;
}

SSLSOCKET__DEF int
sslsocket_update_keys(sslsocket *s, int ask_peer)
{
    sslsocket__t13 *t;
    unsigned char *r;
    if (s == NULL)
        return -1;
    s->refusal[0] = 0;
    t = &s->ctx.t13;
    if (s->state != SSLSOCKET_CONNECTED || !SSLSOCKET__IS13(s)
        || !(s->flags & SSLSOCKET__F_HS_DONE) || t->state != SSLSOCKET__T13_CONNECTED
        || t->closing)
        return sslsocket__refuse(s, "sslsocket_update_keys: not an encrypted TLS 1.3 "
                                    "connection (state %s)", sslsocket_state_name(s->state));
    if (t->q_off + t->q_len + 5 + 5 + 17 > SSLSOCKET__T13_OUT_CAP)
        return sslsocket__refuse(s, "sslsocket_update_keys: the output is full (poll, then "
                                    "try again)");
    r = SSLSOCKET__T13_OUT(s) + t->q_off + t->q_len;
    r[5] = 24; /* KeyUpdate, length 1 */
    r[6] = r[7] = 0;
    r[8] = 1;
    r[9] = ask_peer ? 1 : 0;
    t->q_len += sslsocket__tls13_seal(&t->wk, 22, r, 5);
    sslsocket__t13_next_keys(t, t->server ? t->s_ap : t->c_ap, &t->wk);
    return 0; /* (it leaves at the next poll, before any data written after it) */
}

SSLSOCKET__DEF int
sslsocket_disconnect(sslsocket *s)
{
    if (s == NULL)
        return -1;
    switch (s->state) {
    case SSLSOCKET_HOST_LOOKUP:
    case SSLSOCKET_CONNECTING:
        s->flags |= SSLSOCKET__F_DISCONNECT_PENDING; /* after the connection is up */
        return 0;
    case SSLSOCKET_CONNECTED:
        /* during the handshake (or its pending decision): after it */
        if (SSLSOCKET__TLS(s) && (!(s->flags & SSLSOCKET__F_HS_DONE)
                                  || (s->flags & SSLSOCKET__F_HOLD)))
            s->flags |= SSLSOCKET__F_DISCONNECT_PENDING;
        else
            sslsocket__begin_close(s);
        return 0;
    case SSLSOCKET_BOUND:
        s->flags &= ~SSLSOCKET__F_BOUND;
        sslsocket__set_state(s, SSLSOCKET_UNCONNECTED);
        return 0;
    case SSLSOCKET_LISTENING:
        sslsocket__finish(s);
        return 0;
    default:
        return 0;
    }
}

SSLSOCKET__DEF void
sslsocket_abort(sslsocket *s)
{
    if (s == NULL)
        return;
    s->flags &= ~SSLSOCKET__F_BOUND;
    if (s->state != SSLSOCKET_UNCONNECTED) {
        s->flags |= SSLSOCKET__F_ABORTING;
        sslsocket__finish(s);
    }
}

/* Shared body of start_client_encryption / start_server_encryption. */
SSLSOCKET__PRIVATE int
sslsocket__start_encryption(sslsocket *s, int server, const char *fn)
{
    if (s == NULL)
        return -1;
    s->refusal[0] = 0;
    if (s->state != SSLSOCKET_CONNECTED)
        return sslsocket__refuse(s, "%s: not connected (state %s)", fn,
                                 sslsocket_state_name(s->state));
    if (SSLSOCKET__TLS(s))
        return sslsocket__refuse(s, "%s: already %s", fn,
                                 s->flags & SSLSOCKET__F_HS_DONE ? "encrypted" : "handshaking");
    if (server && sslsocket__cfg(s)->n_ids == 0)
        return sslsocket__misuse(s, "%s: the configuration has no certificate and key", fn);
    /* a server that requires client certificates but has nothing to check
       them against would ask for none and accept everyone: refuse */
    if (server && sslsocket__resolved_verify_mode(s, 1) == SSLSOCKET_VERIFY_PEER
        && sslsocket__cfg(s)->arena.n_anchors == 0 && sslsocket__cfg(s)->n_pins == 0)
        return sslsocket__misuse(s, "%s: VERIFY_PEER needs trust anchors to check client "
                                 "certificates against (sslsocket_config_add_ca_*) or a "
                                 "pinned key", fn);
    if (!server && sslsocket__resolved_verify_mode(s, 0) == SSLSOCKET_VERIFY_PEER
        && !(s->verify_name[0] ? s->verify_name : s->host)[0] && sslsocket__cfg(s)->n_pins == 0)
        return sslsocket__misuse(s, "%s: VERIFY_PEER needs a peer name "
                                 "(sslsocket_set_peer_verify_name) or a pinned key", fn);
    /* plaintext queued before this call (e.g. "220 go ahead") leaves first,
       unencrypted, from inside the TLS pump; nothing is read meanwhile */
    s->plain_pending = s->wlen;
    if (sslsocket__begin_tls(s, server) < 0) {
        char why[SSLSOCKET_ERROR_STRING_SIZE];
        memcpy(why, s->error_string, sizeof why);
        sslsocket__fail_connection(s, s->error, "%s", why);
        return -1;
    }
    return 0;
}

SSLSOCKET__DEF const char *
sslsocket_last_refusal(const sslsocket *s)
{
    return s ? s->refusal : "";
}

SSLSOCKET__DEF int
sslsocket_start_client_encryption(sslsocket *s)
{
    return sslsocket__start_encryption(s, 0, "sslsocket_start_client_encryption");
}

SSLSOCKET__DEF int
sslsocket_start_server_encryption(sslsocket *s)
{
    return sslsocket__start_encryption(s, 1, "sslsocket_start_server_encryption");
}

/* Make `s` CONNECTED at once: over a pipe, or (p NULL) for an accepted
   descriptor the caller stores next. */
SSLSOCKET__PRIVATE int
sslsocket__pipe_or_fd_attach(sslsocket *s, sslsocket_pipe *p, int side, int server)
{
    s->flags &= SSLSOCKET__F_DECIDE;
    if (server)
        s->flags |= SSLSOCKET__F_SERVER;
    s->error = SSLSOCKET_ERR_UNKNOWN;
    s->error_string[0] = 0;
    s->mode = SSLSOCKET_UNENCRYPTED;
    s->open_mode = SSLSOCKET_READ_WRITE;
    s->rstart = s->rend = s->wlen = s->unflushed = s->plain_pending = 0;
    s->n_ssl_errors = s->have_peer = 0;
    s->discarded = 0;
    s->pipe = p;
    s->pipe_side = side;
    s->flags |= SSLSOCKET__F_WAS_CONNECTED;
    sslsocket__traffic(s);
    sslsocket__set_state(s, SSLSOCKET_CONNECTED);
    sslsocket__event(s, SSLSOCKET_EV_CONNECTED, 0);
    return 0;
}

SSLSOCKET__DEF int
sslsocket_pipe_connect(sslsocket_pipe *p, sslsocket *client, sslsocket *server)
{
    if (p == NULL || client == NULL || server == NULL || client == server)
        return -1;
    if (client->state != SSLSOCKET_UNCONNECTED || server->state != SSLSOCKET_UNCONNECTED)
        return sslsocket__misuse(client->state != SSLSOCKET_UNCONNECTED ? client : server,
                                 "sslsocket_pipe_connect: socket is not unconnected");
    memset(p, 0, sizeof *p);
    sslsocket__pipe_or_fd_attach(client, p, 0, 0);
    sslsocket__pipe_or_fd_attach(server, p, 1, 1);
    return 0;
}

/* Deadlines of the current phase. */
SSLSOCKET__PRIVATE void
sslsocket__check_deadlines(sslsocket *s, int64_t now)
{
    const sslsocket_config *cfg = sslsocket__cfg(s);
    if (s->deadline && now >= s->deadline) {
        switch (s->state) {
        case SSLSOCKET_HOST_LOOKUP:
            sslsocket__fail_setup(s, SSLSOCKET_ERR_SOCKET_TIMEOUT,
                                  "host lookup timed out after %d ms: %s", cfg->lookup_ms,
                                  s->host);
            return;
        case SSLSOCKET_CONNECTING:
            sslsocket__fail_setup(s, SSLSOCKET_ERR_SOCKET_TIMEOUT,
                                  "connect timed out after %d ms: %s port %u",
                                  cfg->connect_ms, s->host, (unsigned)s->addrs[0].port);
            return;
        case SSLSOCKET_CONNECTED:
            sslsocket__fail_connection(s, SSLSOCKET_ERR_SOCKET_TIMEOUT,
                                       "TLS handshake timed out after %d ms",
                                       cfg->handshake_ms);
            return;
        case SSLSOCKET_CLOSING:
            sslsocket__fail_connection(s, SSLSOCKET_ERR_SOCKET_TIMEOUT,
                "disconnect timed out after %d ms: the peer did not take the remaining data",
                cfg->close_ms);
            return;
        default:
            s->deadline = 0;
        }
    }
    if (s->state == SSLSOCKET_CONNECTED && cfg->idle_ms > 0
        && (!SSLSOCKET__TLS(s) || (s->flags & SSLSOCKET__F_HS_DONE))
        && now - s->idle_since >= cfg->idle_ms)
        sslsocket__fail_connection(s, SSLSOCKET_ERR_SOCKET_TIMEOUT,
                                   "idle timeout: nothing sent or received for %d ms",
                                   cfg->idle_ms);
}

SSLSOCKET__DEF unsigned
sslsocket_poll(sslsocket *s)
{
    unsigned bits;
    int i;
    if (s == NULL)
        return 0;
    if (s->n_delivered > 0) { /* drop what the previous poll reported */
        memmove(s->events, s->events + s->n_delivered,
                (size_t)(s->n_events - s->n_delivered) * sizeof s->events[0]);
        s->n_events -= s->n_delivered;
        s->n_delivered = 0;
    }
    s->flags &= ~SSLSOCKET__F_READ_EVENT;
    switch (s->state) {
    case SSLSOCKET_HOST_LOOKUP:
        sslsocket__check_lookup(s);
        break;
    case SSLSOCKET_CONNECTING:
        sslsocket__check_attempts(s);
        break;
    case SSLSOCKET_CONNECTED:
    case SSLSOCKET_CLOSING:
        if (SSLSOCKET__TLS(s))
            sslsocket__tls_io(s);
        else
            sslsocket__plain_io(s);
        break;
    case SSLSOCKET_LISTENING:
        if (sslsocket_has_pending_connections(s)) /* level-triggered, like poll(2) */
            sslsocket__event(s, SSLSOCKET_EV_NEW_CONNECTION, 0);
        break;
    default:
        break;
    }
    if (s->state != SSLSOCKET_UNCONNECTED) {
        int64_t now = sslsocket__now_ms();
        sslsocket__check_deadlines(s, now);
        sslsocket__release_buffers(s, now);
    }
    bits = s->lost_events;
    s->lost_events = 0;
    for (i = 0; i < s->n_events; i++)
        bits |= s->events[i].type;
    s->n_delivered = s->n_events;
    s->next_event = 0;
    return bits;
}

SSLSOCKET__DEF int
sslsocket_next_event(sslsocket *s, unsigned *type, int *value)
{
    if (s == NULL || s->next_event >= s->n_delivered)
        return 0;
    if (type)
        *type = s->events[s->next_event].type;
    if (value)
        *value = s->events[s->next_event].value;
    s->next_event++;
    return 1;
}

SSLSOCKET__DEF int
sslsocket_pending_events(const sslsocket *s)
{
    return s ? s->n_events - s->n_delivered : 0;
}

SSLSOCKET__DEF int
sslsocket_fd(const sslsocket *s)
{
    if (s == NULL)
        return -1;
    if (s->fd >= 0)
        return s->fd;
    if (s->attempt_fd[0] >= 0)
        return s->attempt_fd[0];
    if (s->attempt_fd[1] >= 0)
        return s->attempt_fd[1];
    return sslsocket__resolver_fd(&s->resolver);
}

SSLSOCKET__DEF unsigned
sslsocket_wants(const sslsocket *s)
{
    unsigned w = 0;
    if (s == NULL)
        return 0;
    switch (s->state) {
    case SSLSOCKET_HOST_LOOKUP:
        return SSLSOCKET_WANT_READ;
    case SSLSOCKET_CONNECTING:
        return SSLSOCKET_WANT_WRITE;
    case SSLSOCKET_LISTENING:
        return SSLSOCKET_WANT_READ;
    case SSLSOCKET_CONNECTED:
    case SSLSOCKET_CLOSING:
        if (SSLSOCKET__TLS(s)) {
            unsigned st = sslsocket__e_state(s);
            if ((st & BR_SSL_SENDREC) || s->plain_pending > 0)
                w |= SSLSOCKET_WANT_WRITE;
            if ((st & BR_SSL_RECVREC) && !(s->flags & SSLSOCKET__F_EOF))
                w |= SSLSOCKET_WANT_READ;
        } else {
            if (s->wlen > 0)
                w |= SSLSOCKET_WANT_WRITE;
            if (s->rend - s->rstart < sizeof s->rbuf)
                w |= SSLSOCKET_WANT_READ;
        }
        return w;
    default:
        return 0;
    }
}

SSLSOCKET__DEF int
sslsocket_fds(const sslsocket *s, int *fds, unsigned *wants, int max)
{
    int n = 0, slot;
    if (s == NULL || fds == NULL || wants == NULL || max <= 0)
        return 0;
    if (s->state == SSLSOCKET_HOST_LOOKUP && sslsocket__resolver_fd(&s->resolver) >= 0) {
        fds[n] = sslsocket__resolver_fd(&s->resolver);
        wants[n++] = SSLSOCKET_WANT_READ;
    }
    for (slot = 0; slot < 2 && n < max; slot++) {
        if (s->state == SSLSOCKET_CONNECTING && s->attempt_fd[slot] >= 0) {
            fds[n] = s->attempt_fd[slot];
            wants[n++] = SSLSOCKET_WANT_WRITE;
        }
    }
    if (s->fd >= 0 && n < max) {
        fds[n] = s->fd;
        wants[n++] = sslsocket_wants(s);
    }
    return n;
}

/* Work that needs no descriptor: events to deliver, a pending decision, or
   decrypted data the engine holds while our buffer has room. */
SSLSOCKET__PRIVATE int
sslsocket__has_work(const sslsocket *s)
{
    size_t len;
    if (s->n_events > s->n_delivered || (s->flags & (SSLSOCKET__F_HOLD | SSLSOCKET__F_MORE)))
        return 1;
    if (s->state == SSLSOCKET_CLOSING && s->fd < 0 && s->pipe == NULL)
        return 1;
    if (s->pipe && (s->pipe->len[1 - s->pipe_side] > 0 || s->pipe->closed[1 - s->pipe_side]
                    || (s->wlen > 0 && s->pipe->len[s->pipe_side] < sizeof s->pipe->buf[0])))
        return 1;
    if ((s->state == SSLSOCKET_CONNECTED || s->state == SSLSOCKET_CLOSING)
        && SSLSOCKET__TLS(s)) {
        unsigned st = sslsocket__e_state(s);
        if (st & BR_SSL_CLOSED)
            return 1;
        if (!(s->flags & SSLSOCKET__F_HS_DONE) && (st & BR_SSL_SENDAPP))
            return 1;
        /* records made by write() that no send has tried yet: poll now
           rather than wait for writability the socket probably has */
        if ((st & BR_SSL_SENDREC) && !(s->flags & SSLSOCKET__F_WANT_WRITE))
            return 1;
        if (sslsocket__recvapp(s, &len) && len > 0 && s->rend - s->rstart < sizeof s->rbuf)
            return 1;
        if ((st & BR_SSL_SENDAPP) && s->wlen > 0)
            return 1;
        /* the close_notify can be queued now (step 5 of the pump); while
           queued data still waits for a writable socket, fd readiness is
           what to wait for */
        if (s->state == SSLSOCKET_CLOSING && !(s->flags & SSLSOCKET__F_ENGINE_CLOSING)
            && s->wlen == 0 && (s->flags & SSLSOCKET__F_HS_DONE))
            return 1;
    }
    return 0;
}

SSLSOCKET__DEF int
sslsocket_timeout_ms(const sslsocket *s)
{
    int64_t now, t = -1;
    const sslsocket_config *cfg;
    if (s == NULL)
        return -1;
    if (sslsocket__has_work(s))
        return 0;
    now = sslsocket__now_ms();
    cfg = sslsocket__cfg(s);
#define SSLSOCKET__AT(when) do { int64_t w_ = (when); if (t < 0 || w_ < t) t = w_; } while (0)
    if (s->deadline)
        SSLSOCKET__AT(s->deadline);
    if (s->state == SSLSOCKET_HOST_LOOKUP)
        SSLSOCKET__AT(sslsocket__resolver_next_timer(&s->resolver));
    if (s->state == SSLSOCKET_CONNECTING && s->next_addr < s->n_addrs
        && (s->attempt_fd[0] < 0 || s->attempt_fd[1] < 0))
        SSLSOCKET__AT(s->next_attempt_at);
    if (s->state == SSLSOCKET_CONNECTED && cfg->idle_ms > 0)
        SSLSOCKET__AT(s->idle_since + cfg->idle_ms);
    if (cfg->release_ms > 0 && sslsocket__engine_idle(s))
        SSLSOCKET__AT(s->idle_since + cfg->release_ms);
#undef SSLSOCKET__AT
    if (t < 0)
        return -1;
    if (t <= now)
        return 0;
    return t - now > 0x7fffffff ? 0x7fffffff : (int)(t - now);
}

SSLSOCKET__DEF int
sslsocket_wait(sslsocket *const *socks, size_t n, int timeout_ms)
{
    struct pollfd p[SSLSOCKET__WAIT_MAX_FDS];
    nfds_t np = 0;
    size_t i;
    int t = timeout_ms, r, ready = 0;
    if ((socks == NULL && n > 0) || timeout_ms < -1)
        return -1;
    for (i = 0; i < n; i++) {
        int fds[3], k, m, st;
        unsigned w[3];
        if (socks[i] == NULL)
            continue;
        st = sslsocket_timeout_ms(socks[i]);
        if (st >= 0 && (t < 0 || st < t))
            t = st;
        m = sslsocket_fds(socks[i], fds, w, 3);
        for (k = 0; k < m; k++) {
            if (np == SSLSOCKET__WAIT_MAX_FDS)
                return -1;
            p[np].fd = fds[k];
            p[np].events = (short)(((w[k] & SSLSOCKET_WANT_READ) ? POLLIN : 0)
                                   | ((w[k] & SSLSOCKET_WANT_WRITE) ? POLLOUT : 0));
            p[np].revents = 0;
            np++;
        }
    }
    do {
        r = poll(p, np, t);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return -1;
    for (i = 0; i < np; i++)
        ready += p[i].revents != 0;
    return ready;
}

/* ==========================================================================
   >>stream
   Reading sees our buffer followed by the engine's decrypted bytes.
   ========================================================================== */

SSLSOCKET__DEF size_t
sslsocket_bytes_available(const sslsocket *s)
{
    size_t len;
    if (s == NULL)
        return 0;
    sslsocket__recvapp(s, &len);
    return (s->rend - s->rstart) + len;
}

/* Copy up to `len` readable bytes; consume them if `take`. */
SSLSOCKET__PRIVATE size_t
sslsocket__copy_out(sslsocket *s, unsigned char *dst, size_t len, int take)
{
    size_t a = s->rend - s->rstart, b, n;
    const unsigned char *p;
    if (a > len)
        a = len;
    memcpy(dst, s->rbuf + s->rstart, a);
    n = a;
    p = sslsocket__recvapp(s, &b);
    if (p && n < len) {
        if (b > len - n)
            b = len - n;
        memcpy(dst + n, p, b);
        n += b;
        if (take && b > 0) {
            sslsocket__e_recvapp_ack(s, b);
            s->flags &= ~SSLSOCKET__F_APP_SEEN; /* what comes next is news */
        }
    }
    if (take) {
        s->rstart += a;
        if (s->rstart == s->rend)
            s->rstart = s->rend = 0;
        if (s->state == SSLSOCKET_UNCONNECTED && sslsocket_bytes_available(s) == 0)
            sslsocket__wipe_plaintext(s); /* the last bytes of a closed connection */
    }
    return n;
}

SSLSOCKET__PRIVATE int
sslsocket__check_read(sslsocket *s, const void *buf, const char *fn)
{
    if (s == NULL)
        return -1;
    if (buf == NULL)
        return sslsocket__misuse(s, "%s: NULL buffer", fn);
    if (s->open_mode == SSLSOCKET_WRITE_ONLY)
        return sslsocket__misuse(s, "%s: socket was opened write-only", fn);
    return 0;
}

SSLSOCKET__DEF ptrdiff_t
sslsocket_read(sslsocket *s, void *buf, size_t len)
{
    if (sslsocket__check_read(s, buf, "sslsocket_read") < 0)
        return -1;
    return (ptrdiff_t)sslsocket__copy_out(s, (unsigned char *)buf, len, 1);
}

SSLSOCKET__DEF ptrdiff_t
sslsocket_peek(sslsocket *s, void *buf, size_t len)
{
    if (sslsocket__check_read(s, buf, "sslsocket_peek") < 0)
        return -1;
    return (ptrdiff_t)sslsocket__copy_out(s, (unsigned char *)buf, len, 0);
}

/* Length of the first line (through '\n') among the readable bytes, or 0. */
SSLSOCKET__PRIVATE size_t
sslsocket__line_len(const sslsocket *s)
{
    size_t a = s->rend - s->rstart, b;
    const unsigned char *nl = (const unsigned char *)memchr(s->rbuf + s->rstart, '\n', a), *p;
    if (nl)
        return (size_t)(nl - (s->rbuf + s->rstart)) + 1;
    p = sslsocket__recvapp(s, &b);
    if (p && (nl = (const unsigned char *)memchr(p, '\n', b)) != NULL)
        return a + (size_t)(nl - p) + 1;
    return 0;
}

SSLSOCKET__DEF int
sslsocket_can_read_line(const sslsocket *s)
{
    return s != NULL && s->open_mode != SSLSOCKET_WRITE_ONLY && sslsocket__line_len(s) > 0;
}

SSLSOCKET__DEF ptrdiff_t
sslsocket_read_line(sslsocket *s, char *buf, size_t max)
{
    size_t n;
    if (sslsocket__check_read(s, buf, "sslsocket_read_line") < 0)
        return -1;
    if (max < 2)
        return sslsocket__misuse(s, "sslsocket_read_line: max %zu too small (>= 2)", max);
    n = sslsocket__line_len(s);
    if (n == 0) {
        /* no full line: a piece once max-1 bytes wait, or everything at end */
        size_t avail = sslsocket_bytes_available(s);
        if (avail >= max - 1 || (avail > 0 && s->state == SSLSOCKET_UNCONNECTED)) {
            n = avail;
        } else {
            buf[0] = 0; /* always NUL-terminated, "" too (as Qt's readLine) */
            return 0;
        }
    }
    if (n > max - 1)
        n = max - 1;
    n = sslsocket__copy_out(s, (unsigned char *)buf, n, 1);
    buf[n] = 0;
    return (ptrdiff_t)n;
}

SSLSOCKET__DEF ptrdiff_t
sslsocket_write(sslsocket *s, const void *buf, size_t len)
{
    const unsigned char *src = (const unsigned char *)buf;
    size_t done = 0, room;
    if (s == NULL)
        return -1;
    if (buf == NULL)
        return sslsocket__misuse(s, "sslsocket_write: NULL buffer");
    if (len == 0)
        return sslsocket__misuse(s, "sslsocket_write: zero-length write");
    if (s->open_mode == SSLSOCKET_READ_ONLY)
        return sslsocket__misuse(s, "sslsocket_write: socket was opened read-only");
    if ((s->state != SSLSOCKET_HOST_LOOKUP && s->state != SSLSOCKET_CONNECTING
         && s->state != SSLSOCKET_CONNECTED)
        || (s->flags & SSLSOCKET__F_DISCONNECT_PENDING))
        return sslsocket__misuse(s, "sslsocket_write: socket is not connected (state %s)",
                                 sslsocket_state_name(s->state));
    if (len > PTRDIFF_MAX)
        len = PTRDIFF_MAX;
    /* straight into the engine when nothing waits before us */
    if (SSLSOCKET__TLS(s) && s->wlen == 0 && (s->flags & SSLSOCKET__F_HS_DONE)
        && !(s->flags & SSLSOCKET__F_HOLD))
        done = sslsocket__feed_sendapp(s, src, len);
    room = sizeof s->wbuf - s->wlen;
    if (room > len - done)
        room = len - done;
    memcpy(s->wbuf + s->wlen, src + done, room);
    s->wlen += room;
    return (ptrdiff_t)(done + room);
}

SSLSOCKET__DEF ptrdiff_t
sslsocket_write_string(sslsocket *s, const char *str)
{
    if (str == NULL) {
        if (s)
            sslsocket__seterr(s, SSLSOCKET_ERR_OPERATION, "sslsocket_write_string: NULL string");
        return -1;
    }
    return sslsocket_write(s, str, strlen(str));
}

SSLSOCKET__DEF size_t
sslsocket_bytes_to_write(const sslsocket *s)
{
    return s ? s->wlen + s->unflushed : 0;
}

SSLSOCKET__DEF int
sslsocket_at_end(const sslsocket *s)
{
    return s == NULL || (s->state == SSLSOCKET_UNCONNECTED && sslsocket_bytes_available(s) == 0);
}


/* ==========================================================================
   >>server
   Listening sockets and accept.
   ========================================================================== */

SSLSOCKET__DEF int
sslsocket_listen(sslsocket *s, const char *address, unsigned port, int backlog)
{
    sslsocket_address a;
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd, one = 1, e;
    if (s == NULL)
        return -1;
    if (s->state != SSLSOCKET_UNCONNECTED && s->state != SSLSOCKET_BOUND)
        return sslsocket__misuse(s, "sslsocket_listen: socket is not unconnected (state %s)",
                                 sslsocket_state_name(s->state));
    if (port > 65535)
        return sslsocket__misuse(s, "sslsocket_listen: port %u out of range (0..65535)", port);
    memset(&a, 0, sizeof a);
    a.family = 6; /* "::" accepts IPv4 too (v4-mapped) */
    if (address && *address && strcmp(address, "::") != 0
        && !sslsocket__parse_ip_literal(address, &a))
        return sslsocket__misuse(s, "sslsocket_listen: '%s' is not an IP address", address);
    a.port = (unsigned short)port;
    s->error = SSLSOCKET_ERR_UNKNOWN;
    s->error_string[0] = 0;
    fd = sslsocket__sys_tcp_socket(a.family);
    if (fd < 0) {
        e = errno;
        goto fail;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (a.family == 6 && (address == NULL || !*address || strcmp(address, "::") == 0)) {
        int zero = 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
    sl = sslsocket__to_sockaddr(&a, &ss);
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, backlog > 0 ? backlog : SOMAXCONN) < 0) {
        e = errno;
        close(fd);
        goto fail;
    }
    sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        sslsocket__from_sockaddr(&ss, &s->local);
    s->fd = fd;
    s->flags = (s->flags & SSLSOCKET__F_DECIDE);
    sslsocket__set_state(s, SSLSOCKET_LISTENING);
    return 0;
fail:
    s->sys_errno = e;
    {
        char addr[64];
        sslsocket__addr_text(&a, addr, sizeof addr);
        sslsocket__seterr(s, sslsocket__errno_code(e), "cannot listen on %s port %u: %s",
                          addr, port, sslsocket__errno_text(e));
    }
    return -1;
}

SSLSOCKET__DEF int
sslsocket_has_pending_connections(const sslsocket *s)
{
    struct pollfd p;
    if (s == NULL || s->state != SSLSOCKET_LISTENING)
        return 0;
    p.fd = s->fd;
    p.events = POLLIN;
    p.revents = 0;
    return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

SSLSOCKET__DEF int
sslsocket_accept(sslsocket *s, sslsocket *conn)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd, one = 1;
    if (s == NULL)
        return -1;
    if (conn == NULL || conn == s)
        return sslsocket__misuse(s, "sslsocket_accept: no socket to accept into");
    if (s->state != SSLSOCKET_LISTENING)
        return sslsocket__misuse(s, "sslsocket_accept: socket is not listening (state %s)",
                                 sslsocket_state_name(s->state));
    if (conn->state != SSLSOCKET_UNCONNECTED)
        return sslsocket__misuse(s, "sslsocket_accept: target socket is in use (state %s)",
                                 sslsocket_state_name(conn->state));
    do {
        fd = accept4(s->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int e = errno;
        if (e == EAGAIN || e == EWOULDBLOCK || e == ECONNABORTED)
            return 0;
        s->sys_errno = e;
        sslsocket__seterr(s, sslsocket__errno_code(e), "accept failed: %s",
                          sslsocket__errno_text(e));
        return -1;
    }
    sslsocket__pipe_or_fd_attach(conn, NULL, 0, 1);
    conn->fd = fd;
    sslsocket__from_sockaddr(&ss, &conn->remote);
    sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        sslsocket__from_sockaddr(&ss, &conn->local);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return 1;
}

/* ==========================================================================
   >>inspection
   ========================================================================== */

SSLSOCKET__DEF int sslsocket_state(const sslsocket *s) { return s ? s->state : -1; }
SSLSOCKET__DEF int sslsocket_mode(const sslsocket *s) { return s ? s->mode : -1; }
SSLSOCKET__DEF int sslsocket_open_mode(const sslsocket *s) { return s ? s->open_mode : 0; }

SSLSOCKET__DEF int
sslsocket_is_encrypted(const sslsocket *s)
{
    return s && SSLSOCKET__TLS(s) && (s->flags & SSLSOCKET__F_HS_DONE)
           && !(s->flags & SSLSOCKET__F_HOLD);
}

SSLSOCKET__DEF int sslsocket_error(const sslsocket *s)
{
    return s ? s->error : SSLSOCKET_ERR_UNKNOWN;
}

SSLSOCKET__DEF const char *
sslsocket_error_string(const sslsocket *s)
{
    return s ? s->error_string : "no socket";
}

SSLSOCKET__DEF int sslsocket_bearssl_error(const sslsocket *s) { return s ? s->br_err : 0; }
SSLSOCKET__DEF int sslsocket_sys_errno(const sslsocket *s) { return s ? s->sys_errno : 0; }

SSLSOCKET__DEF const char *
sslsocket_local_address(const sslsocket *s, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return "";
    if (s == NULL) {
        buf[0] = 0;
        return buf;
    }
    return sslsocket__addr_text(&s->local, buf, len);
}

SSLSOCKET__DEF unsigned sslsocket_local_port(const sslsocket *s) { return s ? s->local.port : 0; }

SSLSOCKET__DEF const char *
sslsocket_remote_address(const sslsocket *s, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return "";
    if (s == NULL) {
        buf[0] = 0;
        return buf;
    }
    return sslsocket__addr_text(&s->remote, buf, len);
}

SSLSOCKET__DEF unsigned sslsocket_remote_port(const sslsocket *s) { return s ? s->remote.port : 0; }

SSLSOCKET__DEF const char *
sslsocket_protocol(const sslsocket *s)
{
    if (!sslsocket_is_encrypted(s))
        return NULL;
    if (SSLSOCKET__IS13(s))
        return "TLSv1.3";
    switch (br_ssl_engine_get_version(SSLSOCKET__ENG(s))) {
    case BR_TLS10: return "TLSv1.0";
    case BR_TLS11: return "TLSv1.1";
    case BR_TLS12: return "TLSv1.2";
    default: return "unknown";
    }
}

SSLSOCKET__DEF const char *
sslsocket_cipher(const sslsocket *s)
{
    size_t i;
    uint16_t id;
    if (!sslsocket_is_encrypted(s))
        return NULL;
    id = SSLSOCKET__IS13(s) ? (uint16_t)s->ctx.t13.suite
                            : SSLSOCKET__ENG(s)->session.cipher_suite;
    for (i = 0; i < SSLSOCKET__N_SUITES; i++)
        if (sslsocket__suites[i].id == id)
            return sslsocket__suites[i].name;
    return "unknown";
}

SSLSOCKET__DEF const char *
sslsocket_alpn(const sslsocket *s)
{
    if (!sslsocket_is_encrypted(s))
        return NULL;
    if (SSLSOCKET__IS13(s))
        return s->ctx.t13.alpn[0] ? s->ctx.t13.alpn : NULL;
    return br_ssl_engine_get_selected_protocol((br_ssl_engine_context *)SSLSOCKET__ENG(s));
}

SSLSOCKET__DEF int
sslsocket_session_resumed(const sslsocket *s)
{
    return sslsocket_is_encrypted(s) && (s->flags & SSLSOCKET__F_RESUMED) != 0;
}

SSLSOCKET__DEF const sslsocket_cert_info *
sslsocket_peer_certificate(const sslsocket *s)
{
    return s && s->have_peer ? &s->peer : NULL;
}

SSLSOCKET__DEF int
sslsocket_peer_chain_length(const sslsocket *s)
{
    return s ? s->n_chain : 0;
}

SSLSOCKET__DEF const sslsocket_chain_entry *
sslsocket_peer_chain_entry(const sslsocket *s, int i)
{
    if (s == NULL || i < 1 || i >= s->n_chain || i > SSLSOCKET_MAX_PEER_CHAIN
        || s->chain[i - 1].subject[0] == 0)
        return NULL;
    return &s->chain[i - 1];
}

SSLSOCKET__DEF const unsigned char *
sslsocket_peer_certificate_der(const sslsocket *s, int i, size_t *len)
{
    const sslsocket__x509 *x;
    if (len)
        *len = 0;
    if (s == NULL || len == NULL || SSLSOCKET_CERT_BUFFER_SIZE == 0 || !s->have_peer
        || i < 0 || i >= s->n_chain)
        return NULL;
    x = &s->x509;
    if (i >= SSLSOCKET_MAX_VERIFY_CHAIN || x->der_len[i] == 0)
        return NULL;
    *len = (size_t)x->der_len[i];
    return SSLSOCKET__CBUF(s) + x->der_off[i];
}

SSLSOCKET__DEF int sslsocket_ssl_error_count(const sslsocket *s)
{
    return s ? s->n_ssl_errors : 0;
}

SSLSOCKET__DEF int
sslsocket_ssl_error_code(const sslsocket *s, int i)
{
    return s && i >= 0 && i < s->n_ssl_errors ? s->ssl_errors[i] : SSLSOCKET_SSLERR_NONE;
}

SSLSOCKET__DEF void
sslsocket_ignore_ssl_errors(sslsocket *s, unsigned mask)
{
    if (s)
        s->ignore_mask |= mask & SSLSOCKET_SSLERR_ALL;
}

SSLSOCKET__DEF void
sslsocket_set_decide_ssl_errors(sslsocket *s, int on)
{
    if (s) {
        if (on)
            s->flags |= SSLSOCKET__F_DECIDE;
        else
            s->flags &= ~SSLSOCKET__F_DECIDE;
    }
}

SSLSOCKET__DEF int
sslsocket_set_peer_verify_name(sslsocket *s, const char *name)
{
    size_t len;
    if (s == NULL)
        return -1;
    if (name == NULL)
        name = "";
    len = strlen(name);
    if (len >= sizeof s->verify_name)
        return sslsocket__misuse(s, "sslsocket_set_peer_verify_name: name too long");
    memcpy(s->verify_name, name, len + 1);
    return 0;
}

SSLSOCKET__DEF const char *
sslsocket_peer_verify_name(const sslsocket *s)
{
    if (s == NULL)
        return "";
    return s->verify_name[0] ? s->verify_name : s->host;
}

SSLSOCKET__DEF int
sslsocket_set_peer_verify_mode(sslsocket *s, int mode)
{
    if (s == NULL)
        return -1;
    if (mode < -1 || mode > SSLSOCKET_AUTO_VERIFY_PEER)
        return sslsocket__misuse(s, "sslsocket_set_peer_verify_mode: invalid mode %d", mode);
    s->verify_mode_override = mode;
    return 0;
}

SSLSOCKET__DEF int
sslsocket_peer_verify_mode(const sslsocket *s)
{
    if (s == NULL)
        return -1;
    return s->verify_mode_override >= 0 ? s->verify_mode_override
                                        : sslsocket__cfg(s)->verify_mode;
}

SSLSOCKET__DEF int
sslsocket_get_session(const sslsocket *s, sslsocket_session *out)
{
    if (s == NULL || out == NULL || !s->session.valid)
        return -1;
    *out = s->session;
    return 0;
}

SSLSOCKET__DEF int
sslsocket_set_session(sslsocket *s, const sslsocket_session *in)
{
    if (s == NULL)
        return -1;
    if (in == NULL) {
        sslsocket__wipe(&s->session, sizeof s->session);
        return 0;
    }
    s->session = *in;
    s->session.host[sizeof s->session.host - 1] = 0;
    return 0;
}

SSLSOCKET__DEF int
sslsocket_verify_chain(sslsocket *s, const sslsocket_config *cfg, const void *chain,
                       size_t len, const char *host, int64_t unix_time)
{
    br_x509_certificate certs[16];
    sslsocket__arena a;
    const br_x509_class **xc;
    const br_x509_trust_anchor *ta;
    char err[SSLSOCKET_ERROR_STRING_SIZE - 40];
    size_t n = 0, n_ta, i;
    if (s == NULL)
        return -1;
    if (s->state != SSLSOCKET_UNCONNECTED)
        return sslsocket__misuse(s, "sslsocket_verify_chain: the socket is in use (state %s)",
                                 sslsocket_state_name(s->state));
    if (chain == NULL || len == 0)
        return sslsocket__misuse(s, "sslsocket_verify_chain: empty chain");
    if (host && strlen(host) >= sizeof s->verify_name)
        return sslsocket__misuse(s, "sslsocket_verify_chain: host name too long");
    sslsocket_init(s, cfg);
    /* the chain's DER goes into the record buffer: a scratch socket has
       no engine */
    sslsocket__arena_init(&a, s->iobuf, sizeof s->iobuf);
    err[0] = 0;
    if (sslsocket__load_chain_mem(&a, chain, len, "the chain", certs, 16, &n, err,
                                  sizeof err) < 0 || n == 0) {
        sslsocket__seterr(s, SSLSOCKET_ERR_SSL_INVALID_USERDATA, "sslsocket_verify_chain: %s",
                          err[0] ? err : "no certificate in the chain");
        return -1;
    }
    if (host)
        memcpy(s->verify_name, host, strlen(host) + 1);
    s->verify_time = unix_time;
    s->verify_mode = SSLSOCKET_QUERY_PEER; /* collect, never stop */
    ta = sslsocket__arena_anchors(&sslsocket__cfg(s)->arena, &n_ta);
    sslsocket__x509_setup(s, ta, n_ta);
    xc = &s->x509.vtable;
    (*xc)->start_chain(xc, NULL);
    for (i = 0; i < n; i++) {
        (*xc)->start_cert(xc, (uint32_t)certs[i].data_len);
        (*xc)->append(xc, certs[i].data, certs[i].data_len);
        (*xc)->end_cert(xc);
    }
    (*xc)->end_chain(xc);
    s->verify_time = 0;
    return s->n_ssl_errors;
}

SSLSOCKET__DEF const char *
sslsocket_server_name(const sslsocket *s)
{
    if (s == NULL || !(s->flags & SSLSOCKET__F_SERVER) || !SSLSOCKET__TLS(s))
        return "";
    if (SSLSOCKET__IS13(s))
        return s->ctx.t13.host;
    return br_ssl_engine_get_server_name(SSLSOCKET__ENG(s));
}

SSLSOCKET__DEF size_t
sslsocket_discarded_plaintext(const sslsocket *s)
{
    return s ? s->discarded : 0;
}

SSLSOCKET__DEF int
sslsocket_truncated(const sslsocket *s)
{
    return s != NULL && (s->flags & SSLSOCKET__F_TRUNCATED) != 0;
}

#endif /* SSLSOCKET__IMPLEMENTATION_DONE */
#endif /* SSLSOCKET_IMPLEMENTATION */

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
