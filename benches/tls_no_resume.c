/* tls_no_resume.c: an LD_PRELOAD for wrk that makes every TLS connection a full handshake.
 *
 * wrk keeps one SSL object per connection slot and, on reconnecting, calls SSL_clear() after
 * SSL_shutdown(), which keeps the last session: the next SSL_connect() offers it and a server
 * that resumes skips the certificate and its signature. benches/tls.sh wants the cost of a
 * full handshake, so before a handshake starts this drops the session the object holds.
 * Built by benches/tls.sh:  cc -shared -fPIC -O2 -o tls_no_resume.so tls_no_resume.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

/* Declared here rather than from <openssl/ssl.h>, so that no libssl-dev is needed: the
 * symbols come from the libssl wrk itself loads. */
typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;
int SSL_in_before(const SSL *ssl);
int SSL_set_session(SSL *ssl, SSL_SESSION *session);

int SSL_connect(SSL *ssl)
{
    static int (*real)(SSL *);
    if (!real)
        real = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_connect");
    if (!real)
        return -1;
    /* Only before the first flight: wrk calls SSL_connect again after each WANT_READ. */
    if (SSL_in_before(ssl))
        SSL_set_session(ssl, NULL);
    return real(ssl);
}
