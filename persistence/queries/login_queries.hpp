// SQL of login throttling: attempts counted per subject ('email:…' or 'addr:…').
#pragma once

#include "persistence/statement.hpp"

namespace eventhub::persistence::sql {

// Seconds until the longest lock among subjects $1 ends, or no row when none is locked.
inline constexpr statement login_lock_remaining{
    "login_lock_remaining",
    "SELECT ceil(extract(epoch FROM max(locked_until) - now()))::bigint FROM login_failures "
    "WHERE subject = ANY($1::text[]) AND locked_until > now() HAVING count(*) > 0"};

// $1 subject, $2 window ms, $3 max failures, $4 lockout ms. Counts an attempt as a failure
// before its password is checked, under the row lock, so that concurrent attempts cannot all
// slip under the limit. A count older than the window starts again at 1; reaching the maximum
// locks the subject. While the subject is locked no row is returned (the attempt is refused and
// not counted). The row returned holds the lock this very attempt set, as epoch microseconds,
// or NULL: a successful attempt hands it to release_login_attempt.
inline constexpr statement claim_login_attempt{
    "claim_login_attempt",
    "INSERT INTO login_failures AS f (subject, failures, first_failed_at, locked_until) "
    "VALUES ($1, 1, now(), "
    "CASE WHEN $3::int <= 1 THEN now() + $4::bigint * interval '1 millisecond' END) "
    "ON CONFLICT (subject) DO UPDATE SET "
    "failures = CASE WHEN f.first_failed_at < now() - $2::bigint * interval '1 millisecond' "
    "THEN 1 ELSE f.failures + 1 END, "
    "first_failed_at = CASE WHEN f.first_failed_at < now() - $2::bigint * interval '1 millisecond' "
    "THEN now() ELSE f.first_failed_at END, "
    "locked_until = CASE WHEN (CASE WHEN f.first_failed_at < now() - $2::bigint * interval "
    "'1 millisecond' THEN 1 ELSE f.failures + 1 END) >= $3::int "
    "THEN now() + $4::bigint * interval '1 millisecond' ELSE f.locked_until END "
    "WHERE f.locked_until IS NULL OR f.locked_until <= now() "
    "RETURNING CASE WHEN locked_until = now() + $4::bigint * interval '1 millisecond' "
    "THEN (extract(epoch FROM locked_until) * 1000000)::bigint END"};

// $1 subject, $2 the lock the attempt set (or NULL). Takes back an attempt that was not a
// failure: one count less, and the attempt's own lock (not a later one) lifted.
inline constexpr statement release_login_attempt{
    "release_login_attempt",
    "UPDATE login_failures SET failures = greatest(failures - 1, 0), "
    "locked_until = CASE WHEN (extract(epoch FROM locked_until) * 1000000)::bigint = $2::bigint "
    "THEN NULL ELSE locked_until END WHERE subject = $1"};

// A successful login ends the email's run of consecutive failures.
inline constexpr statement clear_login_failures{"clear_login_failures",
                                                "DELETE FROM login_failures WHERE subject = $1"};

} // namespace eventhub::persistence::sql
