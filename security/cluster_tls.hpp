// The cluster's credentials, checked with OpenSSL before the actor system starts: CAF's OpenSSL
// module reads them only when a member connects, and a bad file would then fail every connection
// instead of the start.
#pragma once

#include <optional>
#include <string>

namespace eventhub::security {

struct cluster_credentials {
  std::string ca_file;          // PEM: the cluster CA (cluster.tls-ca)
  std::string certificate_file; // PEM: this node's certificate chain (cluster.tls-certificate)
  std::string key_file;         // PEM: its unencrypted private key (cluster.tls-key)
};

struct credentials_problem {
  std::string key; // the setting at fault
  std::string message;
};

/// Nothing when the files load, the key matches the certificate and the certificate verifies
/// against the CA (so that the other members, which trust the same CA, accept this node).
std::optional<credentials_problem> check_cluster_credentials(const cluster_credentials& c);

} // namespace eventhub::security
