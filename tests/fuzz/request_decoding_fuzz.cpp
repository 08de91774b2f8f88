// libFuzzer target: every pure decoder of the HTTP layer (bodies, check-in scans, query strings,
// headers, times, addresses). The first byte picks the kind of input; every decoder of that kind
// reads it, and properties that must hold trap when broken. Bodies are also parsed here, apart
// from the validator, so that what a decoder returns can be compared with what was sent.
#include "domain/audit.hpp"
#include "domain/json.hpp"
#include "domain/time.hpp"
#include "domain/webhooks.hpp"
#include "http/client_address.hpp"
#include "http/decoders.hpp"
#include "http/problem.hpp"
#include "security/outbound_target.hpp"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

using namespace eventhub;

namespace {

void check(bool property) {
  if (!property)
    __builtin_trap();
}

/// Every error the decoders produce must render as a JSON problem document, with one errors[]
/// entry per field error.
void renders(const domain::error& e) {
  auto r = http::problem(e, "/fuzz");
  rapidjson::Document d;
  d.Parse(r.body.c_str(), r.body.size());
  check(!d.HasParseError() && d.IsObject() && r.status == 400);
  const auto errors = d.FindMember("errors");
  if (e.field_errors.empty())
    return check(errors == d.MemberEnd());
  check(errors != d.MemberEnd() && errors->value.IsArray() &&
        errors->value.Size() == e.field_errors.size());
  for (const auto& entry : errors->value.GetArray())
    check(entry.IsObject() && entry.HasMember("field") && entry["field"].IsString());
}

using field_names = std::function<bool(std::string_view)>;

/// Field names that are exactly one of `names`.
field_names any_of(std::initializer_list<std::string_view> names) {
  std::vector<std::string_view> list(names);
  return [list](std::string_view field) {
    return std::find(list.begin(), list.end(), field) != list.end();
  };
}

/// `array`, `array[i]` and `array[i].<one of fields>`, or one of `top`.
field_names with_array(std::initializer_list<std::string_view> top, std::string array,
                       std::initializer_list<std::string_view> fields) {
  auto is_top = any_of(top);
  auto is_field = any_of(fields);
  return [=](std::string_view f) {
    if (is_top(f) || f == array)
      return true;
    if (f.substr(0, array.size() + 1) != array + "[")
      return false;
    const auto close = f.find(']');
    if (close == std::string_view::npos || close == array.size() + 1 ||
        !std::all_of(f.begin() + array.size() + 1, f.begin() + close,
                     [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    const auto rest = f.substr(close + 1);
    return rest.empty() || (rest.front() == '.' && is_field(rest.substr(1)));
  };
}

/// An error that is a 400 naming, in each entry, a field that `named` knows, with a message.
void names_fields(const domain::error& e, const field_names& named) {
  check(e.code == domain::error_code::invalid && !e.field_errors.empty());
  for (const auto& f : e.field_errors)
    check(named(f.field) && !f.message.empty());
  renders(e);
}

/// A body the validator refused field by field.
void rejected(const http::validator& v, const field_names& named) {
  check(!v.ok());
  names_fields(v.error(), named);
}

/// A member of the independently parsed body; absent and JSON null alike are nullptr, as for the
/// validator.
const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  return it == object.MemberEnd() || it->value.IsNull() ? nullptr : &it->value;
}

std::string text_of(const rapidjson::Value* v) {
  check(v && v->IsString());
  return {v->GetString(), v->GetStringLength()};
}

bool visible_ascii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

bool valid_scan_id(const std::optional<std::string>& id) {
  return id && !id->empty() && id->size() <= 64 && visible_ascii(*id);
}

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

// Bodies: each decoder gets a fresh validator of the input and the input as parsed here.

void participant(http::validator& v, const rapidjson::Value&, std::string_view) {
  auto p = http::read_new_participant(v, true);
  check(p.has_value() == v.ok());
  if (!p)
    return rejected(v, any_of({"email", "password", "fullName", "role"}));
  check(p->email == http::lower_case(p->email) && p->password.size() >= 8);
}

void event_draft(http::validator& v, const rapidjson::Value& sent, std::string_view text) {
  const auto kind = text.size() % 2 ? http::write_kind::replace : http::write_kind::create;
  auto d = http::read_event_draft(v, kind, "EUR");
  check(d.has_value() == v.ok());
  if (!d)
    return rejected(v,
                    with_array({"name", "description", "venue", "startsAt", "endsAt", "capacity",
                                "salesStartAt", "maxPerBuyer", "admissionQueue"},
                               "ticketTypes", {"id", "name", "priceCents", "currency", "quota"}));
  check(d->capacity >= 1 && d->capacity <= 1000000 && (!d->ends_at || *d->ends_at > d->starts_at));
  if (d->ticket_types) {
    // one draft per entry sent: none is dropped silently
    const auto* entries = member(sent, "ticketTypes");
    check(entries && entries->IsArray() && entries->Size() == d->ticket_types->size());
    check(!d->ticket_types->empty() && d->ticket_types->size() <= 20);
    for (const auto& t : *d->ticket_types)
      check(t.quota >= 1 && t.quota <= 1000000 && t.currency.size() == 3);
  }
}

void quantity(http::validator& v, const rapidjson::Value&, std::string_view) {
  auto q = v.integer("quantity", http::presence::required, 1, 10);
  check(q.has_value() == v.ok());
  if (!q)
    return rejected(v, any_of({"quantity"}));
  check(*q >= 1 && *q <= 10);
}

/// POST /api/events/{id}/checkins: the code as sent (any non-empty text), the scanId as sent
/// when given and then 1..64 visible ASCII characters, no scan time (the server's clock).
void scan(http::validator& v, const rapidjson::Value& sent, std::string_view) {
  auto s = http::read_scan(v);
  check(s.has_value() == v.ok());
  if (!s)
    return rejected(v, any_of({"code", "scanId"}));
  check(!s->code.empty() && s->code == text_of(member(sent, "code")) && !s->scanned_at);
  if (const auto* id = member(sent, "scanId"))
    check(valid_scan_id(s->scan_id) && *s->scan_id == text_of(id));
  else
    check(!s->scan_id);
}

/// POST /api/events/{id}/checkins/batch: one scan per entry sent, in order, 1..max_batch_scans,
/// each with its code, a valid scanId and its scannedAt; an error names `scans` or an entry's
/// field.
void scan_batch(http::validator& v, const rapidjson::Value& sent, std::string_view) {
  auto scans = http::read_scan_batch(v);
  check(scans.has_value() == v.ok());
  if (!scans)
    return rejected(v, with_array({}, "scans", {"code", "scanId", "scannedAt"}));
  const auto* entries = member(sent, "scans");
  check(entries && entries->IsArray() && entries->Size() == scans->size());
  check(!scans->empty() && scans->size() <= http::max_batch_scans);
  for (std::size_t i = 0; i < scans->size(); ++i) {
    const auto& s = (*scans)[i];
    const auto& entry = (*entries)[static_cast<rapidjson::SizeType>(i)];
    check(!s.code.empty() && s.code == text_of(member(entry, "code")));
    check(valid_scan_id(s.scan_id) && *s.scan_id == text_of(member(entry, "scanId")));
    check(s.scanned_at &&
          s.scanned_at == domain::parse_iso8601(text_of(member(entry, "scannedAt"))));
  }
}

/// POST and PUT /api/events/{id}/ticket-types[/{typeId}] (with an id: an entry of an event's
/// PUT): decoded exactly when no field was refused, within the contract's ranges, the default
/// currency when none was sent.
void ticket_type(http::validator& v, const rapidjson::Value& sent, std::string_view text) {
  const bool with_id = text.size() % 2;
  auto t = http::read_ticket_type_draft(v, "EUR", with_id);
  check(t.has_value() == v.ok());
  if (!t)
    return rejected(v, any_of({"id", "name", "priceCents", "currency", "quota"}));
  check(!t->name.empty() && !blank(t->name) && http::utf8_length(t->name) <= 100 &&
        t->name == text_of(member(sent, "name")));
  check(t->price_cents >= 0 && t->price_cents <= 100000000 && t->quota >= 1 && t->quota <= 1000000);
  check(t->currency.size() == 3 && std::all_of(t->currency.begin(), t->currency.end(),
                                               [](char c) { return c >= 'A' && c <= 'Z'; }));
  if (const auto* currency = member(sent, "currency"))
    check(t->currency == text_of(currency));
  else
    check(t->currency == "EUR");
  const auto* id = with_id ? member(sent, "id") : nullptr;
  check(id ? t->id && *t->id >= 1 && *t->id == id->GetInt64() : !t->id);
}

/// POST /api/webhooks: the URL as sent, absolute http(s), at most 2048 bytes; the types sent
/// (1..5 distinct known ones), or all five, in the contract's order.
void webhook(http::validator& v, const rapidjson::Value& sent, std::string_view) {
  auto w = http::read_webhook_draft(v);
  check(w.has_value() == v.ok());
  if (!w)
    return rejected(v, any_of({"url", "eventTypes"}));
  check(w->url == text_of(member(sent, "url")) && !w->url.empty() && w->url.size() <= 2048);
  auto url = security::parse_web_url(w->url);
  check(url && (url->scheme == "http" || url->scheme == "https") && !url->host.empty() &&
        url->port >= 0 && url->port <= 65535);
  const auto& known = domain::webhook_event_types;
  check(!w->event_types.empty() && w->event_types.size() <= known.size());
  std::size_t next = 0; // known types strictly in the contract's order: distinct
  for (const auto& type : w->event_types) {
    auto at = std::find(known.begin(), known.end(), type);
    check(at != known.end() && static_cast<std::size_t>(at - known.begin()) >= next);
    next = static_cast<std::size_t>(at - known.begin()) + 1;
  }
  if (const auto* types = member(sent, "eventTypes")) {
    check(types->IsArray() && types->Size() == w->event_types.size());
    for (const auto& type : types->GetArray())
      check(std::find(w->event_types.begin(), w->event_types.end(), text_of(&type)) !=
            w->event_types.end());
  } else {
    check(w->event_types.size() == known.size());
  }
}

using body_decoder = void (*)(http::validator&, const rapidjson::Value&, std::string_view);
constexpr body_decoder body_decoders[] = {participant, event_draft, quantity, scan,
                                          scan_batch,  ticket_type, webhook};

void body(std::string_view text) {
  rapidjson::Document sent;
  sent.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  for (auto decode : body_decoders) {
    auto parsed = http::validator::parse(text);
    if (auto* e = std::get_if<domain::error>(&parsed)) {
      check(sent.HasParseError() || !sent.IsObject());
      return renders(*e);
    }
    check(!sent.HasParseError() && sent.IsObject());
    decode(std::get<http::validator>(parsed), sent, text);
  }
}

// Query strings.

/// Every byte but unreserved ones as %XX, so that decoding gives the text back.
std::string percent_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string paging_query(const domain::page_request& p) {
  return "page=" + std::to_string(p.page) + "&size=" + std::to_string(p.size);
}

void append_window(std::string& q, const std::optional<domain::timestamp>& from,
                   const std::optional<domain::timestamp>& to) {
  if (from)
    q += "&from=" + percent_encode(domain::format_iso8601(*from));
  if (to)
    q += "&to=" + percent_encode(domain::format_iso8601(*to));
}

bool valid_paging(const domain::page_request& p) {
  return p.page >= 0 && p.size >= 1 && p.size <= 100;
}

/// GET /api/events: within range, and what was decoded, written again, decodes the same.
void event_query(std::string_view text) {
  auto q = http::decode_event_query(text);
  if (auto* e = std::get_if<domain::error>(&q))
    return names_fields(*e, any_of({"page", "size", "q", "from", "to"}));
  const auto& ok = std::get<domain::event_query>(q);
  check(valid_paging(ok.paging));
  check(!ok.text || (ok.text->find('\0') == std::string::npos && !blank(*ok.text) &&
                     http::utf8_length(*ok.text) <= 200));
  auto again = paging_query(ok.paging);
  if (ok.text)
    again += "&q=" + percent_encode(*ok.text);
  append_window(again, ok.from, ok.to);
  auto second = http::decode_event_query(again);
  check(std::holds_alternative<domain::event_query>(second));
  check(std::get<domain::event_query>(second).cache_key() == ok.cache_key());
}

/// GET /api/audit: known entity types and actions, positive ids, paging within range (from and
/// to are not ordered: the decoder does not promise it, a window ending before it starts is
/// empty); written again, it decodes the same.
void audit_query(std::string_view text) {
  auto q = http::decode_audit_query(text);
  if (auto* e = std::get_if<domain::error>(&q))
    return names_fields(
        *e, any_of({"page", "size", "entityType", "entityId", "actorId", "action", "from", "to"}));
  const auto& ok = std::get<domain::audit_query>(q);
  check(valid_paging(ok.paging));
  check(!ok.entity_type || domain::is_audit_entity_type(*ok.entity_type));
  check(!ok.action || domain::is_audit_action(*ok.action));
  check((!ok.entity_id || *ok.entity_id > 0) && (!ok.actor_id || *ok.actor_id > 0));
  auto again = paging_query(ok.paging);
  if (ok.entity_type)
    again += "&entityType=" + percent_encode(*ok.entity_type);
  if (ok.entity_id)
    again += "&entityId=" + std::to_string(*ok.entity_id);
  if (ok.actor_id)
    again += "&actorId=" + std::to_string(*ok.actor_id);
  if (ok.action)
    again += "&action=" + percent_encode(*ok.action);
  append_window(again, ok.from, ok.to);
  auto second = http::decode_audit_query(again);
  check(std::holds_alternative<domain::audit_query>(second));
  const auto& b = std::get<domain::audit_query>(second);
  check(b.paging.page == ok.paging.page && b.paging.size == ok.paging.size &&
        b.entity_type == ok.entity_type && b.entity_id == ok.entity_id &&
        b.actor_id == ok.actor_id && b.action == ok.action && b.from == ok.from && b.to == ok.to);
}

void query(std::string_view text) {
  event_query(text);
  audit_query(text);
}

// Headers.

void idempotency_key(std::string_view text) {
  auto key = http::decode_idempotency_key(text);
  if (auto* k = std::get_if<std::optional<std::string>>(&key))
    check(*k && !(*k)->empty() && (*k)->size() <= 64 && **k == text);
  else
    names_fields(std::get<domain::error>(key), any_of({"Idempotency-Key"}));
}

/// Content-Type: parameters and letter case do not change the answer; a JSON type is an
/// application/ one.
void media_type(std::string_view text) {
  const bool json = http::is_json_media_type(text);
  check(http::is_json_media_type(std::string(text) + "; charset=utf-8") == json);
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) {
    return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  });
  check(http::is_json_media_type(upper) == json);
  if (json) {
    std::string type(text.substr(0, text.find(';')));
    type.erase(std::remove_if(type.begin(), type.end(),
                              [](char c) { return std::isspace(static_cast<unsigned char>(c)); }),
               type.end());
    check(http::lower_case(type).rfind("application/", 0) == 0);
  }
}

void headers(std::string_view text) {
  idempotency_key(text);
  media_type(text);
  auto token = http::bearer_token(text);
  check(!token || !token->empty());
  http::etag_matches(text, "\"abc\"");
  static const std::vector<config::network> trusted{*config::network::parse("10.0.0.0/8"),
                                                    *config::network::parse("fd00::/8")};
  auto client = http::client_address("10.1.2.3", text, trusted);
  check(!client.empty());
}

void times(std::string_view text) {
  auto t = domain::parse_iso8601(text);
  if (t)
    check(domain::parse_iso8601(domain::format_iso8601(*t)) == t); // formatting round-trips
}

void percent(std::string_view text) {
  auto decoded = http::percent_decode(text, true);
  if (decoded)
    check(http::is_valid_utf8(*decoded) && decoded->find('\0') == std::string::npos);
  http::parse_id(text);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 5) {
  case 0:
    body(input);
    break;
  case 1:
    query(input);
    break;
  case 2:
    headers(input);
    break;
  case 3:
    times(input);
    break;
  default:
    percent(input);
    break;
  }
  return 0;
}
