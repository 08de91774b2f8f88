// Empties the calling thread's OpenSSL error queue before every TLS I/O call, as SSL_get_error(3)
// requires ("the current thread's error queue must be empty before the TLS/SSL I/O operation is
// attempted"). libcaf_openssl 0.17 does not: it drains the queue only inside CAF_LOG_INFO, which
// Debian's build compiles out. So a refused handshake (a client without a certificate of the
// cluster CA) left its errors on the multiplexer thread, the next SSL_read of a healthy member
// connection that merely wanted more data was reported as SSL_ERROR_SSL, and CAF dropped that
// member: anyone reaching cluster.port could make the members flap (tests/e2e/test_cluster_tls).
//
// Linked into the executable as an object file, these definitions come before libssl's in the
// dynamic lookup of every library (CAF's, libpq's, libcurl's); each calls libssl's own function
// (dlsym RTLD_NEXT) after clearing the queue, which is what OpenSSL asks of every caller anyway.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <dlfcn.h>

namespace {

template <class F> F next_definition(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

} // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static const auto real = next_definition<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static const auto real = next_definition<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_connect(SSL* ssl) {
  static const auto real = next_definition<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

int SSL_accept(SSL* ssl) {
  static const auto real = next_definition<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return real(ssl);
}

} // extern "C"
