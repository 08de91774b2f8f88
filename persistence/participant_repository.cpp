// Participants repository; SQL in queries/participant_queries.hpp.
#include "persistence/participant_repository.hpp"

#include "persistence/queries/participant_queries.hpp"
#include "persistence/rows.hpp"

namespace eventhub::persistence::participants {

domain::result<domain::participant> insert(tx& t, const domain::new_participant& p,
                                           const std::string& password_hash) {
  auto rows = t.exec(sql::insert_participant, p.email, p.full_name,
                     std::string(domain::to_string(p.role)), password_hash);
  if (rows.empty())
    return domain::make_error(domain::error_code::conflict,
                              "The email address is already registered.");
  return read_participant(rows[0]);
}

std::optional<domain::participant> find(tx& t, std::int64_t id) {
  auto rows = t.exec(sql::find_participant, id);
  if (rows.empty())
    return std::nullopt;
  return read_participant(rows[0]);
}

std::optional<login_record> find_login(tx& t, const std::string& email) {
  auto rows = t.exec(sql::find_login, email);
  if (rows.empty())
    return std::nullopt;
  return login_record{rows[0][0].as<std::int64_t>(),
                      domain::parse_role(rows[0][1].c_str()).value_or(domain::role::user),
                      rows[0][2].as<std::string>()};
}

domain::page<domain::participant> list(tx& t, const domain::page_request& paging) {
  domain::page<domain::participant> page;
  page.number = paging.page;
  page.size = paging.size;
  for (const auto& r : t.exec(sql::list_participants, paging.size, paging.offset()))
    page.items.push_back(read_participant(r));
  page.total_items = t.exec(sql::count_participants)[0][0].as<std::int64_t>();
  return page;
}

} // namespace eventhub::persistence::participants
