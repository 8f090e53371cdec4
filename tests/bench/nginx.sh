# nginx.sh - sourced by the benchmark scripts: the nginx they compare with.
#
# nginx_conf PORT SESSION_CACHE writes $WORK/nginx.conf: one worker (OpenSSL,
# event-driven like the library), TLS 1.2 with $CIPHER and $CERTS/ec.pem,
# serving $WORK; SESSION_CACHE is an ssl_session_cache value ("off",
# "shared:SSL:1m").  Tickets are off: BearSSL has none.
nginx_conf() {
    mkdir -p "$WORK/nginx_tmp"
    cat > "$WORK/nginx.conf" <<NGX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx_error.log;
daemon off;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx_tmp;
    keepalive_timeout 0;
    sendfile off;
    server {
        listen 127.0.0.1:$1 ssl;
        ssl_certificate $CERTS/ec.pem;
        ssl_certificate_key $CERTS/ec.key;
        ssl_protocols TLSv1.2;
        ssl_ciphers $CIPHER;
        ssl_session_cache $2;
        ssl_session_tickets off;
        root $WORK;
    }
}
NGX
}
