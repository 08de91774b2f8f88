// The one source of random identifiers: libsodium's CSPRNG, hex encoded. Request ids, secrets,
// test database names and internal idempotency keys all come from here.
#pragma once

#include <cstddef>
#include <string>

namespace eventhub::security {

/// Initialises libsodium once per process (sodium_init() takes a lock on every call); throws if
/// it cannot. Every user of libsodium calls this first.
void ensure_sodium();

/// `bytes` random bytes from randombytes_buf, as 2 × `bytes` lower-case hex digits. Safe from
/// any thread; initialises libsodium on first use.
std::string random_hex(std::size_t bytes);

} // namespace eventhub::security
