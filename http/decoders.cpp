// Request decoding; see decoders.hpp.
#include "http/decoders.hpp"

#include "security/outbound_target.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

namespace eventhub::http {
namespace {

std::optional<int> small_integer(const std::string& text) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return v;
}

bool is_blank(const std::string& text) {
  return std::all_of(text.begin(), text.end(),
                     [](char ch) { return std::isspace(static_cast<unsigned char>(ch)); });
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

} // namespace

std::string lower_case(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return s;
}

std::optional<domain::new_participant> read_new_participant(validator& v, bool allow_role) {
  auto email = v.text("email", presence::required, {not_blank(), size(3, 254), email_address()});
  auto password = v.text("password", presence::required, {size(8, 128)});
  auto full_name = v.text("fullName", presence::required, {not_blank(), size(1, 100)});
  std::optional<std::string> role;
  if (allow_role)
    role = v.text("role", presence::optional, {one_of({"USER", "ADMIN", "STAFF"})});
  if (!v.ok())
    return std::nullopt;
  domain::new_participant p;
  p.email = lower_case(*email);
  p.password = *password;
  p.full_name = *full_name;
  p.role = role ? *domain::parse_role(*role) : domain::role::user;
  return p;
}

std::optional<domain::ticket_type_draft>
read_ticket_type_draft(validator& v, const std::string& default_currency, bool with_id) {
  std::optional<std::int64_t> id;
  if (with_id)
    id = v.integer("id", presence::optional, 1, std::numeric_limits<std::int64_t>::max());
  auto name = v.text("name", presence::required, {not_blank(), size(1, 100)});
  auto price = v.integer("priceCents", presence::required, 0, 100000000);
  auto currency = v.text("currency", presence::optional, {currency_code()});
  auto quota = v.integer("quota", presence::required, 1, 1000000);
  // A null currency or id is one left out (the validator's rule for optional fields); one that
  // was given and refused is a violation.
  if (!name || !price || !quota || !v.ok())
    return std::nullopt;
  return domain::ticket_type_draft{id, *name, *price, currency.value_or(default_currency), *quota};
}

namespace {

/// A nullable field of a PUT: absent keeps the stored value, null clears it. On POST absent and
/// null both mean none.
template <class T, class Read>
domain::change<T> read_change(validator& v, const char* field, write_kind kind, Read read) {
  auto value = read();
  if (value)
    return std::optional<T>(*value);
  if (kind == write_kind::replace && !v.present(field))
    return std::nullopt;
  return std::optional<T>(); // null (or a bad value, already rejected)
}

std::optional<std::vector<domain::ticket_type_draft>>
read_ticket_types(validator& v, write_kind kind, const std::string& default_currency) {
  auto entries = v.objects("ticketTypes", presence::optional, 1, 20);
  if (!entries)
    return std::nullopt;
  std::vector<domain::ticket_type_draft> drafts;
  for (auto& entry : *entries)
    if (auto d = read_ticket_type_draft(entry, default_currency, kind == write_kind::replace))
      drafts.push_back(std::move(*d));
  return drafts;
}

} // namespace

std::optional<domain::event_draft> read_event_draft(validator& v, write_kind kind,
                                                    const std::string& default_currency) {
  auto name = v.text("name", presence::required, {not_blank(), size(1, 200)});
  auto description = v.text("description", presence::optional, {size(0, 5000)});
  auto venue = v.text("venue", presence::required, {not_blank(), size(1, 200)});
  auto starts_at = v.time("startsAt", presence::required, {in_future()});
  auto ends_at = v.time("endsAt", presence::optional);
  auto capacity = v.integer("capacity", presence::required, 1, 1000000);
  auto sales_start_at = read_change<domain::timestamp>(
      v, "salesStartAt", kind, [&] { return v.time("salesStartAt", presence::optional); });
  auto max_per_buyer = read_change<std::int64_t>(v, "maxPerBuyer", kind, [&] {
    return v.integer("maxPerBuyer", presence::optional, 1, 1000);
  });
  auto admission_queue = v.boolean("admissionQueue", presence::optional);
  auto ticket_types = read_ticket_types(v, kind, default_currency);
  if (starts_at && ends_at && *ends_at <= *starts_at)
    v.reject("endsAt", "must be after startsAt");
  if (starts_at && sales_start_at && *sales_start_at && **sales_start_at >= *starts_at)
    v.reject("salesStartAt", "must be before startsAt");
  if (!v.ok())
    return std::nullopt;
  domain::event_draft d{*name, description, *venue, *starts_at, ends_at, *capacity};
  d.sales_start_at = sales_start_at;
  d.max_per_buyer = max_per_buyer;
  d.admission_queue = admission_queue;
  d.ticket_types = std::move(ticket_types);
  d.default_currency = default_currency;
  return d;
}

namespace {

/// `from` and `to` as ISO-8601 date-times with an offset, where given.
void read_window(const query_params& query, std::optional<domain::timestamp>& from,
                 std::optional<domain::timestamp>& to, std::vector<domain::field_error>& errors) {
  for (const char* name : {"from", "to"}) {
    const auto* value = query.get(name);
    if (!value)
      continue;
    auto t = domain::parse_iso8601(*value);
    if (!t)
      errors.push_back(
          {name, "must be an ISO-8601 date-time with offset, e.g. 2027-03-01T19:30:00Z"});
    else
      (std::string(name) == "from" ? from : to) = t;
  }
}

/// The names of `known` whose values were not percent-encoded UTF-8.
void report_malformed(const query_params& query, std::initializer_list<const char*> known,
                      std::vector<domain::field_error>& errors) {
  for (const auto& name : query.malformed)
    for (const char* k : known)
      if (name == k)
        errors.push_back({name, "is not a valid percent-encoded value"});
}

/// A positive id parameter, where given.
std::optional<std::int64_t> read_id_param(const query_params& query, const char* name,
                                          std::vector<domain::field_error>& errors) {
  const auto* value = query.get(name);
  if (!value)
    return std::nullopt;
  auto id = parse_id(*value);
  if (!id)
    errors.push_back({name, "must be a positive integer"});
  return id;
}

/// A parameter that must be one of `allowed`, where given.
template <class Allowed>
std::optional<std::string> read_choice(const query_params& query, const char* name,
                                       const Allowed& allowed, bool (*known)(std::string_view),
                                       std::vector<domain::field_error>& errors) {
  const auto* value = query.get(name);
  if (!value)
    return std::nullopt;
  if (!known(*value)) {
    std::string list;
    for (const auto& a : allowed)
      list += (list.empty() ? "" : ", ") + std::string(a);
    errors.push_back({name, "must be one of " + list});
    return std::nullopt;
  }
  return *value;
}

} // namespace

std::variant<domain::event_query, domain::error> decode_event_query(std::string_view raw_query) {
  const auto query = parse_query(raw_query);
  std::vector<domain::field_error> errors;
  domain::event_query q;
  q.paging = read_paging(query, errors);
  // A blank q (absent, empty or only white space) filters nothing, as StringUtils.hasText would.
  if (const auto* text = query.get("q"); text && !is_blank(*text)) {
    if (utf8_length(*text) > 200)
      errors.push_back({"q", "size must be between 0 and 200"});
    q.text = *text;
  }
  read_window(query, q.from, q.to, errors);
  report_malformed(query, {"q", "from", "to"}, errors);
  if (!errors.empty())
    return invalid_parameters(std::move(errors));
  return q;
}

std::variant<domain::audit_query, domain::error> decode_audit_query(std::string_view raw_query) {
  const auto query = parse_query(raw_query);
  std::vector<domain::field_error> errors;
  domain::audit_query q;
  q.paging = read_paging(query, errors);
  q.entity_type = read_choice(query, "entityType", domain::audit_entity_types,
                              domain::is_audit_entity_type, errors);
  q.entity_id = read_id_param(query, "entityId", errors);
  q.actor_id = read_id_param(query, "actorId", errors);
  q.action = read_choice(query, "action", domain::audit_actions, domain::is_audit_action, errors);
  read_window(query, q.from, q.to, errors);
  report_malformed(query, {"entityType", "entityId", "actorId", "action", "from", "to"}, errors);
  if (!errors.empty())
    return invalid_parameters(std::move(errors));
  return q;
}

/// If-None-Match: a list of entity tags or "*"; weak comparison as RFC 9110 asks for GET.
bool etag_matches(std::string_view if_none_match, const std::string& etag) {
  if (if_none_match.find('*') != std::string_view::npos)
    return true;
  std::size_t pos = 0;
  while (pos < if_none_match.size()) {
    auto comma = if_none_match.find(',', pos);
    auto tag = if_none_match.substr(pos, comma == std::string_view::npos ? std::string_view::npos
                                                                         : comma - pos);
    while (!tag.empty() && tag.front() == ' ')
      tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ')
      tag.remove_suffix(1);
    if (tag.rfind("W/", 0) == 0)
      tag.remove_prefix(2);
    if (tag == etag)
      return true;
    if (comma == std::string_view::npos)
      break;
    pos = comma + 1;
  }
  return false;
}

domain::page_request read_paging(const query_params& query,
                                 std::vector<domain::field_error>& errors) {
  domain::page_request p;
  if (const auto* page = query.get("page")) {
    auto v = small_integer(*page);
    if (!v || *v < 0)
      errors.push_back({"page", "must be an integer greater than or equal to 0"});
    else
      p.page = *v;
  }
  if (const auto* size = query.get("size")) {
    auto v = small_integer(*size);
    if (!v || *v < 1 || *v > 100)
      errors.push_back({"size", "must be an integer between 1 and 100"});
    else
      p.size = *v;
  }
  for (const auto& name : query.malformed)
    if (name == "page" || name == "size")
      errors.push_back({name, "is not a valid percent-encoded value"});
  return p;
}

domain::error invalid_parameters(std::vector<domain::field_error> errors) {
  auto e = domain::make_error(domain::error_code::invalid, "The request has invalid parameters.");
  e.field_errors = std::move(errors);
  return e;
}

bool is_json_media_type(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  type.erase(std::remove_if(type.begin(), type.end(),
                            [](char ch) { return std::isspace(static_cast<unsigned char>(ch)); }),
             type.end());
  std::transform(type.begin(), type.end(), type.begin(), [](char ch) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  });
  return type == "application/json" || (type.rfind("application/", 0) == 0 && type.size() > 5 &&
                                        type.compare(type.size() - 5, 5, "+json") == 0);
}

namespace {

bool visible_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char ch) { return ch >= 0x21 && ch <= 0x7e; });
}

text_rule scan_id_rule() {
  return [](const std::string& s) -> std::optional<std::string> {
    if (s.empty() || s.size() > 64 || !visible_ascii(s))
      return "must be 1 to 64 printable characters";
    return std::nullopt;
  };
}

std::optional<domain::scan> read_scan_fields(validator& v, presence scan_id, bool scanned_at) {
  domain::scan scan;
  // Any length: a code that is not genuine is an unknown ticket, not a bad request (the body
  // limit bounds it).
  auto code = v.text("code", presence::required, {size(1, std::string::npos)});
  scan.scan_id = v.text("scanId", scan_id, {scan_id_rule()});
  if (scanned_at)
    scan.scanned_at = v.time("scannedAt", presence::required);
  if (!code || (scanned_at && !scan.scanned_at) || (scan_id == presence::required && !scan.scan_id))
    return std::nullopt;
  scan.code = std::move(*code);
  return scan;
}

} // namespace

std::optional<domain::scan> read_scan(validator& v) {
  auto scan = read_scan_fields(v, presence::optional, false);
  if (!v.ok())
    return std::nullopt;
  return scan;
}

std::optional<std::vector<domain::scan>> read_scan_batch(validator& v) {
  auto entries = v.objects("scans", presence::required, 1, max_batch_scans);
  if (!entries)
    return std::nullopt;
  std::vector<domain::scan> scans;
  scans.reserve(entries->size());
  for (auto& entry : *entries)
    if (auto scan = read_scan_fields(entry, presence::required, true))
      scans.push_back(std::move(*scan));
  if (!v.ok())
    return std::nullopt;
  return scans;
}

std::optional<domain::webhook_draft> read_webhook_draft(validator& v) {
  auto url = v.text("url", presence::required, {size(1, 2048)});
  if (url && !security::parse_web_url(*url))
    v.reject("url", "must be an absolute http or https URL");
  std::vector<std::string> known(domain::webhook_event_types.begin(),
                                 domain::webhook_event_types.end());
  auto types = v.texts("eventTypes", presence::optional, 1, known.size(), {one_of(known)});
  if (types) {
    std::sort(types->begin(), types->end());
    if (std::adjacent_find(types->begin(), types->end()) != types->end())
      v.reject("eventTypes", "must not repeat a type");
  }
  if (!v.ok() || !url)
    return std::nullopt;
  domain::webhook_draft draft{*url, {}};
  for (const auto& type : known) // the contract's order, whatever the request's
    if (!types || std::binary_search(types->begin(), types->end(), type))
      draft.event_types.push_back(type);
  return draft;
}

std::variant<std::optional<std::string>, domain::error>
decode_idempotency_key(std::optional<std::string_view> key) {
  if (!key)
    return std::optional<std::string>{};
  const bool ok = !key->empty() && key->size() <= 64 && visible_ascii(*key);
  if (!ok)
    return invalid_field("Idempotency-Key", "must be 1 to 64 printable characters");
  return std::optional<std::string>{std::string(*key)};
}

std::optional<std::string_view> bearer_token(std::optional<std::string_view> header) {
  if (!header)
    return std::nullopt;
  std::string_view v = *header;
  auto space = v.find(' ');
  if (space == std::string_view::npos || !iequals(v.substr(0, space), "bearer"))
    return std::nullopt;
  auto token = v.substr(space + 1);
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ')
    token.remove_suffix(1);
  if (token.empty())
    return std::nullopt;
  return token;
}

} // namespace eventhub::http
