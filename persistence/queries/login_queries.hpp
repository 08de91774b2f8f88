// SQL of login throttling: failures counted per subject ('email:…' or 'addr:…').
#pragma once

#include "persistence/statement.hpp"

namespace eventhub::persistence::sql {

// Seconds until the longest lock among subjects $1 ends, or no row when none is locked.
inline constexpr statement login_lock_remaining{
    "login_lock_remaining",
    "SELECT ceil(extract(epoch FROM max(locked_until) - now()))::bigint FROM login_failures "
    "WHERE subject = ANY($1::text[]) AND locked_until > now() HAVING count(*) > 0"};

// $1 subject, $2 window ms, $3 max failures, $4 lockout ms. One more failure for the subject: a
// count older than the window starts again at 1; reaching the maximum locks the subject.
#define EVENTHUB_COUNT_LOGIN_FAILURE                                                               \
  "INSERT INTO login_failures AS f (subject, failures, first_failed_at, locked_until) "            \
  "VALUES ($1, 1, now(), "                                                                         \
  "CASE WHEN $3::int <= 1 THEN now() + $4::bigint * interval '1 millisecond' END) "                \
  "ON CONFLICT (subject) DO UPDATE SET "                                                           \
  "failures = CASE WHEN f.first_failed_at < now() - $2::bigint * interval '1 millisecond' "        \
  "THEN 1 ELSE f.failures + 1 END, "                                                               \
  "first_failed_at = CASE WHEN f.first_failed_at < now() - $2::bigint * interval "                 \
  "'1 millisecond' THEN now() ELSE f.first_failed_at END, "                                        \
  "locked_until = CASE WHEN (CASE WHEN f.first_failed_at < now() - $2::bigint * interval "         \
  "'1 millisecond' THEN 1 ELSE f.failures + 1 END) >= $3::int "                                    \
  "THEN now() + $4::bigint * interval '1 millisecond' ELSE f.locked_until END"

// An email's attempt, counted as a failure before its password is checked, under the row lock, so
// that concurrent attempts cannot all slip under the limit. While the subject is locked no row
// is returned: the attempt is refused and not counted.
inline constexpr statement claim_login_attempt{
    "claim_login_attempt", EVENTHUB_COUNT_LOGIN_FAILURE
    " WHERE f.locked_until IS NULL OR f.locked_until <= now() RETURNING failures"};

// A client address's failure, counted after the password was found wrong: counting its attempts
// beforehand would lock out many people signing in at once behind one address.
inline constexpr statement record_login_failure{"record_login_failure",
                                                EVENTHUB_COUNT_LOGIN_FAILURE};

#undef EVENTHUB_COUNT_LOGIN_FAILURE

// A successful login ends the email's run of consecutive failures.
inline constexpr statement clear_login_failures{"clear_login_failures",
                                                "DELETE FROM login_failures WHERE subject = $1"};

} // namespace eventhub::persistence::sql
