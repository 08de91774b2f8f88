#include "security/cluster_tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <memory>

namespace eventhub::security {
namespace {

using context_ptr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;
using store_context_ptr = std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)>;

/// The oldest queued OpenSSL error, for the message; clears the queue.
std::string openssl_reason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0)
    return "no detail";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof buffer);
  return buffer;
}

/// Refuses to ask for a passphrase: OpenSSL's default would prompt on the terminal.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

std::optional<std::string> certificate_not_signed_by_ca(SSL_CTX* ctx) {
  X509* leaf = SSL_CTX_get0_certificate(ctx);
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(ctx, &chain);
  store_context_ptr verify(X509_STORE_CTX_new(), &X509_STORE_CTX_free);
  if (!verify || X509_STORE_CTX_init(verify.get(), SSL_CTX_get_cert_store(ctx), leaf, chain) != 1)
    return openssl_reason();
  if (X509_verify_cert(verify.get()) == 1)
    return std::nullopt;
  return std::string(X509_verify_cert_error_string(X509_STORE_CTX_get_error(verify.get())));
}

} // namespace

std::optional<credentials_problem> check_cluster_credentials(const cluster_credentials& c) {
  ERR_clear_error();
  context_ptr ctx(SSL_CTX_new(TLS_method()), &SSL_CTX_free);
  if (!ctx)
    return credentials_problem{"cluster.tls-ca",
                               "cannot create a TLS context: " + openssl_reason()};
  SSL_CTX_set_default_passwd_cb(ctx.get(), no_passphrase);
  if (SSL_CTX_load_verify_locations(ctx.get(), c.ca_file.c_str(), nullptr) != 1)
    return credentials_problem{"cluster.tls-ca", "cannot read CA certificates from '" + c.ca_file +
                                                     "': " + openssl_reason()};
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), c.certificate_file.c_str()) != 1)
    return credentials_problem{"cluster.tls-certificate", "cannot read a certificate from '" +
                                                              c.certificate_file +
                                                              "': " + openssl_reason()};
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), c.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    return credentials_problem{"cluster.tls-key", "cannot read an unencrypted private key from '" +
                                                      c.key_file + "': " + openssl_reason()};
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return credentials_problem{"cluster.tls-key", "does not belong to cluster.tls-certificate"};
  if (auto reason = certificate_not_signed_by_ca(ctx.get()))
    return credentials_problem{"cluster.tls-certificate",
                               "does not verify against cluster.tls-ca (" + *reason +
                                   "): the other members would refuse this node"};
  return std::nullopt;
}

} // namespace eventhub::security
