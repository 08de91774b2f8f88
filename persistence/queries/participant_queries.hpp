// SQL of the participants concern.
#pragma once

#include "persistence/queries/common.hpp"
#include "persistence/statement.hpp"

namespace eventhub::persistence::sql {

#define EVENTHUB_PARTICIPANT_COLUMNS                                                               \
  "id, email, full_name, role, " EVENTHUB_SQL_MICROS("created_at")

inline constexpr statement insert_participant{
    "insert_participant",
    "INSERT INTO participants (email, full_name, role, password_hash) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (email) DO NOTHING RETURNING " EVENTHUB_PARTICIPANT_COLUMNS};

inline constexpr statement find_participant{
    "find_participant", "SELECT " EVENTHUB_PARTICIPANT_COLUMNS " FROM participants WHERE id = $1"};

inline constexpr statement find_login{
    "find_login", "SELECT id, role, password_hash FROM participants WHERE email = $1"};

inline constexpr statement list_participants{"list_participants",
                                             "SELECT " EVENTHUB_PARTICIPANT_COLUMNS
                                             " FROM participants ORDER BY id LIMIT $1 OFFSET $2"};

inline constexpr statement count_participants{"count_participants",
                                              "SELECT count(*) FROM participants"};

#undef EVENTHUB_PARTICIPANT_COLUMNS

} // namespace eventhub::persistence::sql
