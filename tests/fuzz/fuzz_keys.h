/* fuzz_keys.h - keys and certificates of the fuzz harnesses and the recorder.
 * Made by tests/fuzz/gen_corpus.sh keys; the handshake seeds depend on them. */
#ifndef FUZZ_KEYS_H
#define FUZZ_KEYS_H

/* Unix time at which the certificates are checked (they were made then). */
#define FUZZ_TIME 1795870959

/* root CA (EC P-256) */
#define FUZZ_CA_PEM \
    "-----BEGIN CERTIFICATE-----\n" \
    "MIIByDCCAW2gAwIBAgIUVB/s+FDxV4FHSE/dXk0GYszpiq8wCgYIKoZIzj0EAwIw\n" \
    "MDEaMBgGA1UEAwwRc3Nsc29ja2V0IGZ1enogQ0ExEjAQBgNVBAoMCXNzbHNvY2tl\n" \
    "dDAgFw0yNjExMjgxMjAyMzhaGA8yMTI2MTEwNDEyMDIzOFowMDEaMBgGA1UEAwwR\n" \
    "c3Nsc29ja2V0IGZ1enogQ0ExEjAQBgNVBAoMCXNzbHNvY2tldDBZMBMGByqGSM49\n" \
    "AgEGCCqGSM49AwEHA0IABLYLxkGrsa6sX0tQvDKFblMesIPcJWWMQgxBXdVEjopF\n" \
    "W5uU3E1o7AdD1t6yFkX68eKI/vjlU1ZASc5C3VZncH+jYzBhMB0GA1UdDgQWBBSp\n" \
    "EmmXV7h9omV8Fkt7aHV+cLoe8DAfBgNVHSMEGDAWgBSpEmmXV7h9omV8Fkt7aHV+\n" \
    "cLoe8DAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAKBggqhkjOPQQD\n" \
    "AgNJADBGAiEAyEyg0d3B+mKPgyFH5bRE3KLMCFcU914Gnx6P0AILURcCIQCEuTSP\n" \
    "4nYz2RXhas1Bg18/LpPFLjYeTlUTtuD8YXdw9Q==\n" \
    "-----END CERTIFICATE-----\n"

/* EC server chain: leaf (localhost, *.fuzz.test, 127.0.0.1, ::1) + intermediate */
#define FUZZ_EC_CHAIN_PEM \
    "-----BEGIN CERTIFICATE-----\n" \
    "MIICBjCCAa2gAwIBAgIBAzAKBggqhkjOPQQDAjA6MSQwIgYDVQQDDBtzc2xzb2Nr\n" \
    "ZXQgZnV6eiBpbnRlcm1lZGlhdGUxEjAQBgNVBAoMCXNzbHNvY2tldDAgFw0yNjEx\n" \
    "MjgxMjAyMzhaGA8yMTI2MTEwNDEyMDIzOFowLTESMBAGA1UEAwwJbG9jYWxob3N0\n" \
    "MRcwFQYDVQQKDA5zc2xzb2NrZXQgZnV6ejBZMBMGByqGSM49AgEGCCqGSM49AwEH\n" \
    "A0IABHo3T3ezSvNyTSCQQYCUbIQDi6yrAkWlwuX2maoarGho3jLzymwBRGGdo0k3\n" \
    "fmZsb93WP7aP/mbL0UxUmzXhdXWjga4wgaswOQYDVR0RBDIwMIIJbG9jYWxob3N0\n" \
    "ggsqLmZ1enoudGVzdIcEfwAAAYcQAAAAAAAAAAAAAAAAAAAAATATBgNVHSUEDDAK\n" \
    "BggrBgEFBQcDATAOBgNVHQ8BAf8EBAMCB4AwCQYDVR0TBAIwADAdBgNVHQ4EFgQU\n" \
    "AZDR0RKovBB5Baf8ExsO4gb5o44wHwYDVR0jBBgwFoAUl1wbvf5/o028zKlz2mUs\n" \
    "gUmFyI8wCgYIKoZIzj0EAwIDRwAwRAIfLZy9IIzs7zrCncYt1RgJKxVOV8OwqjYe\n" \
    "IfIbKlCDgQIhAMmUz6ZC3Xt130yfhKb/a8S021iKQfVZ1kRHONZs0MEx\n" \
    "-----END CERTIFICATE-----\n" \
    "-----BEGIN CERTIFICATE-----\n" \
    "MIIBwDCCAWegAwIBAgIBAjAKBggqhkjOPQQDAjAwMRowGAYDVQQDDBFzc2xzb2Nr\n" \
    "ZXQgZnV6eiBDQTESMBAGA1UECgwJc3Nsc29ja2V0MCAXDTI2MTEyODEyMDIzOFoY\n" \
    "DzIxMjYxMTA0MTIwMjM4WjA6MSQwIgYDVQQDDBtzc2xzb2NrZXQgZnV6eiBpbnRl\n" \
    "cm1lZGlhdGUxEjAQBgNVBAoMCXNzbHNvY2tldDBZMBMGByqGSM49AgEGCCqGSM49\n" \
    "AwEHA0IABCjya+Ny0yyauarpIxquLajyt2zvHkSOGLWBwuJlEVlWQ0muWr36d3N5\n" \
    "OQoBGORmRhb9lGkngsdfllbAnLeRU6ujZjBkMBIGA1UdEwEB/wQIMAYBAf8CAQAw\n" \
    "DgYDVR0PAQH/BAQDAgEGMB0GA1UdDgQWBBSXXBu9/n+jTbzMqXPaZSyBSYXIjzAf\n" \
    "BgNVHSMEGDAWgBSpEmmXV7h9omV8Fkt7aHV+cLoe8DAKBggqhkjOPQQDAgNHADBE\n" \
    "AiAnuJpFW+N7ScY199wZw5fbmf6ODKzsa8EUAdkNCxqleAIgHUcKd9paZCLP42xM\n" \
    "Lp7+q+ng0HsAfKs5+TMnNIVXeW8=\n" \
    "-----END CERTIFICATE-----\n"

/* its key (SEC1) */
#define FUZZ_EC_KEY_PEM \
    "-----BEGIN EC PRIVATE KEY-----\n" \
    "MHcCAQEEIL2iSoA7dmq7delWqvn9160aIGDUQFDSdTsLsZAyXRUioAoGCCqGSM49\n" \
    "AwEHoUQDQgAEejdPd7NK83JNIJBBgJRshAOLrKsCRaXC5faZqhqsaGjeMvPKbAFE\n" \
    "YZ2jSTd+Zmxv3dY/to/+ZsvRTFSbNeF1dQ==\n" \
    "-----END EC PRIVATE KEY-----\n"

/* RSA-2048 server certificate (rsa.example.net, localhost, 127.0.0.1), from the root */
#define FUZZ_RSA_PEM \
    "-----BEGIN CERTIFICATE-----\n" \
    "MIIClzCCAj2gAwIBAgIBBDAKBggqhkjOPQQDAjAwMRowGAYDVQQDDBFzc2xzb2Nr\n" \
    "ZXQgZnV6eiBDQTESMBAGA1UECgwJc3Nsc29ja2V0MCAXDTI2MTEyODEyMDIzOVoY\n" \
    "DzIxMjYxMTA0MTIwMjM5WjAaMRgwFgYDVQQDDA9yc2EuZXhhbXBsZS5uZXQwggEi\n" \
    "MA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDfaII08Yc9k8YW3Rqjc6mp8J1T\n" \
    "bF0WNpIvo6UVGRsfhUEGXAOhXSSpuQM0NvojacoAdfR9IyvPa45Ig0YCv+Q6UJOU\n" \
    "1SF27MHRQmuR9CJSC2zbdBVlSMwhIU8QD6tyGERgJSznD0EyyOh9lDcWQspPl19W\n" \
    "l/fVM/JDL+yEb7a4xShtWpCSdiM/+HU4o24hWroswsQHwSsxVI2fzt7o55eAakh0\n" \
    "YgGNRiAfhfeR2Lc4C1W70zzYQF3nzPp7Wy3JfdB+0Jj962xPcI2HoYup+3BiygG7\n" \
    "i2b6lwg3AecfyEbSgwelWVINuG8+AIzTDN8C3RTXKa5NBlkbVkPehVjVx8tbAgMB\n" \
    "AAGjgZAwgY0wKwYDVR0RBCQwIoIPcnNhLmV4YW1wbGUubmV0gglsb2NhbGhvc3SH\n" \
    "BH8AAAEwEwYDVR0lBAwwCgYIKwYBBQUHAwEwCQYDVR0TBAIwADAdBgNVHQ4EFgQU\n" \
    "V3gA7friSufydqjmmgGtTawkrE8wHwYDVR0jBBgwFoAUqRJpl1e4faJlfBZLe2h1\n" \
    "fnC6HvAwCgYIKoZIzj0EAwIDSAAwRQIhAJP7+eYUyZzXzjXIjn18yLMl1QimaRcs\n" \
    "z0ORODMlBlDvAiBz8mTyVhHMcUcnDCCorWJwdGdJokCgzwtedWx/h6Ek6Q==\n" \
    "-----END CERTIFICATE-----\n"

/* its key (PKCS#8) */
#define FUZZ_RSA_KEY_PEM \
    "-----BEGIN PRIVATE KEY-----\n" \
    "MIIEuwIBADANBgkqhkiG9w0BAQEFAASCBKUwggShAgEAAoIBAQDfaII08Yc9k8YW\n" \
    "3Rqjc6mp8J1TbF0WNpIvo6UVGRsfhUEGXAOhXSSpuQM0NvojacoAdfR9IyvPa45I\n" \
    "g0YCv+Q6UJOU1SF27MHRQmuR9CJSC2zbdBVlSMwhIU8QD6tyGERgJSznD0EyyOh9\n" \
    "lDcWQspPl19Wl/fVM/JDL+yEb7a4xShtWpCSdiM/+HU4o24hWroswsQHwSsxVI2f\n" \
    "zt7o55eAakh0YgGNRiAfhfeR2Lc4C1W70zzYQF3nzPp7Wy3JfdB+0Jj962xPcI2H\n" \
    "oYup+3BiygG7i2b6lwg3AecfyEbSgwelWVINuG8+AIzTDN8C3RTXKa5NBlkbVkPe\n" \
    "hVjVx8tbAgMBAAECgf89hgpVii40Rv3GTh2H5dJTem/ZCX6ZH24isG5F4SQXChte\n" \
    "JPja90uhcdHwDzPTjM6UUeeCjq0B8hy822nsV+wCIy6BTjBpD8pQVnpJN3I8JelU\n" \
    "hiNeQS318bZUNfyA7y3lTFeRSiIqWimsa6S//KS6RnV6417c1/Ffj1MTJbCsMRuW\n" \
    "Vax5k6VG3t5oE8bwPxOZhcP5fAplot2UnZoZDET8DO2f16noaCXCYXpmQ2HzQmZn\n" \
    "bPIXgyQfBF+BuNwyR8JA9Dd1MWiYdWSinFYB0y6xx+l6foG3FJOoKGSrKIiYEsyS\n" \
    "12YCq2AzrPyyTSmEYiOxK7g7UwWRIQCvPzl5VpECgYEA+jqmlX1Jz1viMbWB+aJE\n" \
    "czImYw5aBIJVY+iMU/fSNXt8F4Cbw7qkzaZMS4smX3O2uMnS7HZ4WMCSSFW7YuUI\n" \
    "NXJYFF6ccqcbHpC3HeOOcWZL9cBh/Sy+UwSkake9z8r6PcbHQBfr9UjBfC+6qoZe\n" \
    "m7D+EurSQYTIwmBT/HAmpZECgYEA5I+CAwleuhiuPt/sIry7cUv0BGOdkGstakpk\n" \
    "YGhefSKiQKhaEye1F8VgwMu4lLjr2hUhimsDFtMjHS5bSHcDYqQ1csllP2sV7bdb\n" \
    "GdRdyHKjya1udcDSM21tpWrq3Zo1qKeXnkyzeJwYQE7BeFKR4F1T3uo2zYscr49x\n" \
    "PLq8PCsCgYBtxH7BAwX25ZqzLalHpcwbMHuwZmJMqhPlUOUGDKd0+Kd189/gm6ah\n" \
    "4/qCBRefNbaJF1fkjQ+79zX0b09VUZ0pPPCwdtRwYye9X8REY0dgLXzS4ELb+d2/\n" \
    "s0CgsrnsRmFB6koLrrK+ldzyqklbdrhX2euKxuHXBfW/dtxA173MUQKBgCQxfXsR\n" \
    "nsiFZAJc3z3Y+S3Fw0x2odrevgBY63BA1sWmGF94yVrDLPAot1uQZxhV+DM+qWML\n" \
    "8x9ILAVQ8++TuRuDuVsF/Vx/jqdoI6sBcCBv1vP23MkU0bSHHZfWSH7zDpA4ic/t\n" \
    "gXYV8dktH4H4QVVwMfnYyPjfkJlUc7AUOf6lAoGBAIYlgI3w0lSfl+PuilH0/tNm\n" \
    "r6t0lc+/V9kJsEXPpkmQWMPP903fyqZu6qZxVl425PYD4e6REUu3ynfcg2A8hk03\n" \
    "ym5f/U8D7uEAgnROAqJUo4H/72xLsh5c9A7Pxdu8lHUOkyjdP0i4h8zpXJ831Wnl\n" \
    "k/UY7LHY+IQdcvIKy2uH\n" \
    "-----END PRIVATE KEY-----\n"

/* client certificate (clientAuth), from the root */
#define FUZZ_CLIENT_PEM \
    "-----BEGIN CERTIFICATE-----\n" \
    "MIIBmDCCAT+gAwIBAgIBBTAKBggqhkjOPQQDAjAwMRowGAYDVQQDDBFzc2xzb2Nr\n" \
    "ZXQgZnV6eiBDQTESMBAGA1UECgwJc3Nsc29ja2V0MCAXDTI2MTEyODEyMDIzOVoY\n" \
    "DzIxMjYxMTA0MTIwMjM5WjAWMRQwEgYDVQQDDAtmdXp6IGNsaWVudDBZMBMGByqG\n" \
    "SM49AgEGCCqGSM49AwEHA0IABGj2GLb1+q18gIMaCpniLW52BR/PmvewOzpebq8S\n" \
    "nePqWLlYFZ1FmoTv4hWSllUSPmywDnvKdFIGFNO7/COXkAWjYjBgMBMGA1UdJQQM\n" \
    "MAoGCCsGAQUFBwMCMAkGA1UdEwQCMAAwHQYDVR0OBBYEFNWxhMHvoRHb7gh4SHqL\n" \
    "SlwB5xu2MB8GA1UdIwQYMBaAFKkSaZdXuH2iZXwWS3todX5wuh7wMAoGCCqGSM49\n" \
    "BAMCA0cAMEQCIFk6nYheqhMs36eh7ktvVrbvbJDBYlmAYtb+EPBrJkeUAiASJHt7\n" \
    "gUh4prkGKdPFrNPdaPu8bMd/GFzhuCKUKbmDdg==\n" \
    "-----END CERTIFICATE-----\n"

/* its key (SEC1) */
#define FUZZ_CLIENT_KEY_PEM \
    "-----BEGIN EC PRIVATE KEY-----\n" \
    "MHcCAQEEIMEYSYsd5l+y/KBmrOzMlodjXY1EZFKeXRwz+LzIRSk2oAoGCCqGSM49\n" \
    "AwEHoUQDQgAEaPYYtvX6rXyAgxoKmeItbnYFH8+a97A7Ol5urxKd4+pYuVgVnUWa\n" \
    "hO/iFZKWVRI+bLAOe8p0UgYU07v8I5eQBQ==\n" \
    "-----END EC PRIVATE KEY-----\n"

#endif
