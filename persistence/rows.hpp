// Reading domain values out of result rows (column orders match the *_COLUMNS of the queries).
#pragma once

#include "domain/model.hpp"
#include "persistence/pq_types.hpp"

namespace eventhub::persistence {

domain::participant read_participant(const pqxx::row& r, int first = 0);
domain::event read_event(const pqxx::row& r, int first = 0);
domain::purchase read_purchase(const pqxx::row& r, int first = 0);

} // namespace eventhub::persistence
