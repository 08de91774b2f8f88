// CAF settings are applied with cfg.set: cfg.parse would reject our own flags and read a stray
// caf-application.ini from the working directory (docs/configuration.md). Values were validated
// by config/.
#include "actors/system_config.hpp"

#include "actors/wire.hpp"
#include "security/cluster_tls.hpp"

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/timespan.hpp>

#include <stdexcept>

namespace eventhub::actors {
namespace {

/// CAF's OpenSSL module with the node's credentials: members then speak BASP over TLS and
/// both ends of every connection must show a certificate of the cluster CA
/// (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT in libcaf_openssl's session).
void use_cluster_tls(system_config& cfg, const config::settings& s) {
  const security::cluster_credentials credentials{s.cluster_tls_ca, s.cluster_tls_certificate,
                                                  s.cluster_tls_key};
  if (auto problem = security::check_cluster_credentials(credentials))
    throw std::runtime_error(problem->key + ": " + problem->message);
  cfg.load<caf::openssl::manager>();
  cfg.openssl_cafile = s.cluster_tls_ca;
  cfg.openssl_certificate = s.cluster_tls_certificate;
  cfg.openssl_key = s.cluster_tls_key;
}

} // namespace

system_config::system_config(const config::settings& s) {
  set("scheduler.max-threads", static_cast<size_t>(s.actors_threads));
  set("logger.verbosity", caf::atom("quiet"));
  // Every type that crosses the middleman, on every node (actors/wire.hpp).
  add_message_type<member_entry>("eventhub::member_entry");
  add_message_type<wire_purchase>("eventhub::wire_purchase");
  add_message_type<wire_hold>("eventhub::wire_hold");
  add_message_type<wire_entry>("eventhub::wire_entry");
  add_message_type<wire_purchase_result>("eventhub::wire_purchase_result");
  if (s.cluster_enabled()) {
    load<caf::io::middleman>();
    set("middleman.heartbeat-interval", caf::timespan{s.cluster_heartbeat_interval});
    set("middleman.connection-timeout", caf::timespan{s.cluster_connection_timeout});
    set("middleman.workers", static_cast<size_t>(0));
    if (s.cluster_tls())
      use_cluster_tls(*this, s);
  }
}

} // namespace eventhub::actors
