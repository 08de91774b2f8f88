// Validation rules and the rapidjson-backed validator.
#include "http/validation.hpp"

#include "domain/json.hpp"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <charconv>

namespace eventhub::http {

/// An object of a parsed body: the top level, or an element of one of its arrays (sharing the
/// document).
class json_body {
 public:
  std::shared_ptr<rapidjson::Document> doc;
  const rapidjson::Value* object = nullptr;

  /// The member `field`, or null when it is absent or JSON null.
  const rapidjson::Value* value(const char* field) const {
    auto it = object->FindMember(field);
    if (it == object->MemberEnd() || it->value.IsNull())
      return nullptr;
    return &it->value;
  }
};

namespace {

bool is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

std::string char_range(std::size_t min, std::size_t max) {
  return "size must be between " + std::to_string(min) + " and " + std::to_string(max);
}

bool valid_domain(std::string_view d) {
  if (d.empty() || d.size() > 253 || d.find('.') == std::string_view::npos)
    return false;
  std::size_t start = 0;
  while (start <= d.size()) {
    auto dot = d.find('.', start);
    auto label =
        d.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-'))
        return false;
    if (dot == std::string_view::npos)
      break;
    start = dot + 1;
  }
  return true;
}

bool valid_local_part(std::string_view l) {
  static const std::string_view allowed = "!#$%&'*+/=?^_`{|}~.-";
  if (l.empty() || l.size() > 64 || l.front() == '.' || l.back() == '.' ||
      l.find("..") != std::string_view::npos)
    return false;
  return std::all_of(l.begin(), l.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || allowed.find(c) != std::string_view::npos;
  });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xE  ? 3
                    : (c >> 3) == 0x1E ? 4
                                       : 0;
    if (n == 0 || i + n > s.size())
      return false;
    for (std::size_t k = 1; k < n; ++k)
      if (!is_continuation(static_cast<unsigned char>(s[i + k])))
        return false;
    if ((n == 2 && c < 0xC2) || (n == 4 && c > 0xF4))
      return false;
    i += n;
  }
  return true;
}

std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return !is_continuation(static_cast<unsigned char>(c)); }));
}

text_rule size(std::size_t min, std::size_t max) {
  return [=](const std::string& v) -> std::optional<std::string> {
    const auto n = utf8_length(v);
    if (n < min || n > max)
      return char_range(min, max);
    return std::nullopt;
  };
}

text_rule not_blank() {
  return [](const std::string& v) -> std::optional<std::string> {
    if (std::all_of(v.begin(), v.end(),
                    [](char c) { return std::isspace(static_cast<unsigned char>(c)); }))
      return "must not be blank";
    return std::nullopt;
  };
}

text_rule email_address() {
  return [](const std::string& v) -> std::optional<std::string> {
    const auto at = v.rfind('@');
    if (at == std::string::npos || !valid_local_part(std::string_view(v).substr(0, at)) ||
        !valid_domain(std::string_view(v).substr(at + 1)))
      return "must be a well-formed email address";
    return std::nullopt;
  };
}

text_rule one_of(std::vector<std::string> values) {
  return [values = std::move(values)](const std::string& v) -> std::optional<std::string> {
    if (std::find(values.begin(), values.end(), v) != values.end())
      return std::nullopt;
    std::string list;
    for (const auto& x : values)
      list += (list.empty() ? "" : ", ") + x;
    return "must be one of " + list;
  };
}

text_rule currency_code() {
  return [](const std::string& v) -> std::optional<std::string> {
    const bool code = v.size() == 3 &&
                      std::all_of(v.begin(), v.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    if (!code)
      return "must be an ISO 4217 currency code: three upper-case letters";
    return std::nullopt;
  };
}

time_rule in_future() {
  return [](domain::timestamp t) -> std::optional<std::string> {
    if (t <= domain::now())
      return "must be a future date";
    return std::nullopt;
  };
}

validator::validator(std::unique_ptr<json_body> body, std::string prefix,
                     std::shared_ptr<std::vector<domain::field_error>> errors)
    : body_(std::move(body)), prefix_(std::move(prefix)), errors_(std::move(errors)) {}
validator::validator(validator&&) noexcept = default;
validator& validator::operator=(validator&&) noexcept = default;
validator::~validator() = default;

std::variant<validator, domain::error> validator::parse(std::string_view text) {
  auto body = std::make_unique<json_body>();
  body->doc = std::make_shared<rapidjson::Document>();
  auto& doc = *body->doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (doc.HasParseError())
    return domain::make_error(domain::error_code::invalid,
                              std::string("Malformed JSON request body: ") +
                                  rapidjson::GetParseError_En(doc.GetParseError()) +
                                  " (at offset " + std::to_string(doc.GetErrorOffset()) + ")");
  if (!doc.IsObject())
    return domain::make_error(domain::error_code::invalid,
                              "The request body must be a JSON object.");
  body->object = &doc;
  return validator(std::move(body), "", std::make_shared<std::vector<domain::field_error>>());
}

void validator::reject(const std::string& field, std::string message) {
  errors_->push_back({prefix_ + field, std::move(message)});
}

domain::error validator::error() const {
  auto e = domain::make_error(domain::error_code::invalid, "The request has invalid fields.");
  e.field_errors = *errors_;
  return e;
}

bool validator::present(const char* field) const {
  return body_->object->HasMember(field);
}

std::optional<bool> validator::boolean(const char* field, presence p) {
  const auto* v = body_->value(field);
  if (!v) {
    if (p == presence::required)
      reject(field, "must not be null");
    return std::nullopt;
  }
  if (!v->IsBool()) {
    reject(field, "must be a boolean");
    return std::nullopt;
  }
  return v->GetBool();
}

namespace {

/// `value` if it is an array of `min`..`max` entries, else nullptr with the violation recorded.
const rapidjson::Value* sized_array(validator& v, const rapidjson::Value* value, const char* field,
                                    presence p, std::size_t min, std::size_t max) {
  if (!value) {
    if (p == presence::required)
      v.reject(field, "must not be null");
    return nullptr;
  }
  if (!value->IsArray()) {
    v.reject(field, "must be an array");
    return nullptr;
  }
  if (value->Size() < min || value->Size() > max) {
    v.reject(field, "size must be between " + std::to_string(min) + " and " + std::to_string(max));
    return nullptr;
  }
  return value;
}

} // namespace

std::optional<std::vector<std::string>> validator::texts(const char* field, presence p,
                                                         std::size_t min, std::size_t max,
                                                         std::vector<text_rule> rules) {
  const auto* v = sized_array(*this, body_->value(field), field, p, min, max);
  if (!v)
    return std::nullopt;
  std::vector<std::string> out;
  bool all_good = true;
  for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
    const auto entry = "entry " + std::to_string(i) + " ";
    if (!(*v)[i].IsString()) {
      reject(field, entry + "must be a string");
      all_good = false;
      continue;
    }
    std::string value((*v)[i].GetString(), (*v)[i].GetStringLength());
    for (const auto& rule : rules)
      if (auto message = rule(value)) {
        reject(field, entry + *message);
        all_good = false;
        break;
      }
    out.push_back(std::move(value));
  }
  if (!all_good)
    return std::nullopt;
  return out;
}

std::optional<std::vector<validator>> validator::objects(const char* field, presence p,
                                                         std::size_t min, std::size_t max) {
  const auto* v = sized_array(*this, body_->value(field), field, p, min, max);
  if (!v)
    return std::nullopt;
  std::vector<validator> out;
  for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
    const auto name = std::string(field) + "[" + std::to_string(i) + "]";
    if (!(*v)[i].IsObject()) {
      reject(name, "must be an object");
      continue;
    }
    auto element = std::make_unique<json_body>();
    element->doc = body_->doc;
    element->object = &(*v)[i];
    out.push_back(validator(std::move(element), prefix_ + name + ".", errors_));
  }
  return out; // the entries that are objects, so theirs are checked too
}

std::optional<std::string> validator::text(const char* field, presence p,
                                           std::vector<text_rule> rules) {
  const auto* found = body_->value(field);
  if (!found) {
    if (p == presence::required)
      reject(field, "must not be null");
    return std::nullopt;
  }
  if (!found->IsString()) {
    reject(field, "must be a string");
    return std::nullopt;
  }
  std::string value(found->GetString(), found->GetStringLength());
  if (value.find('\0') != std::string::npos) {
    reject(field, "must not contain NUL characters");
    return std::nullopt;
  }
  for (const auto& rule : rules)
    if (auto message = rule(value)) {
      reject(field, *message);
      return std::nullopt;
    }
  return value;
}

std::optional<std::int64_t> validator::integer(const char* field, presence p, std::int64_t min,
                                               std::int64_t max) {
  const auto* value = body_->value(field);
  if (!value) {
    if (p == presence::required)
      reject(field, "must not be null");
    return std::nullopt;
  }
  if (!value->IsInt64()) {
    reject(field, "must be an integer");
    return std::nullopt;
  }
  const std::int64_t v = value->GetInt64();
  if (v < min) {
    reject(field, "must be greater than or equal to " + std::to_string(min));
    return std::nullopt;
  }
  if (v > max) {
    reject(field, "must be less than or equal to " + std::to_string(max));
    return std::nullopt;
  }
  return v;
}

std::optional<domain::timestamp> validator::time(const char* field, presence p,
                                                 std::vector<time_rule> rules) {
  const auto* value = body_->value(field);
  if (!value) {
    if (p == presence::required)
      reject(field, "must not be null");
    return std::nullopt;
  }
  if (!value->IsString()) {
    reject(field, "must be an ISO-8601 date-time with offset, e.g. 2027-03-01T19:30:00Z");
    return std::nullopt;
  }
  auto t = domain::parse_iso8601({value->GetString(), value->GetStringLength()});
  if (!t) {
    reject(field, "must be an ISO-8601 date-time with offset, e.g. 2027-03-01T19:30:00Z");
    return std::nullopt;
  }
  for (const auto& rule : rules)
    if (auto message = rule(*t)) {
      reject(field, *message);
      return std::nullopt;
    }
  return t;
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size())
        return std::nullopt;
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) // NUL would end the string in libpq
        return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (s[i] == '\0') {
      return std::nullopt; // a raw NUL, like %00, would end the value in libpq
    } else if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  if (!is_valid_utf8(out))
    return std::nullopt;
  return out;
}

const std::string* query_params::get(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second;
}

query_params parse_query(std::string_view raw) {
  query_params params;
  std::size_t start = 0;
  while (start < raw.size()) {
    auto amp = raw.find('&', start);
    auto pair =
        raw.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      auto key = percent_decode(pair.substr(0, eq), true);
      auto value = eq == std::string_view::npos ? std::optional<std::string>("")
                                                : percent_decode(pair.substr(eq + 1), true);
      if (key && value)
        params.values.emplace(*key, *value);
      else if (key)
        params.malformed.push_back(*key);
    }
    if (amp == std::string_view::npos)
      break;
    start = amp + 1;
  }
  return params;
}

std::optional<std::int64_t> parse_id(std::string_view segment) {
  std::int64_t v = 0;
  if (segment.empty() || segment.size() > 19)
    return std::nullopt;
  auto [end, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), v);
  if (ec != std::errc{} || end != segment.data() + segment.size() || v <= 0)
    return std::nullopt;
  return v;
}

domain::error invalid_field(std::string field, std::string message) {
  auto e = domain::make_error(domain::error_code::invalid, "The request has invalid fields.");
  e.field_errors.push_back({std::move(field), std::move(message)});
  return e;
}

domain::error bad_path_id(const std::string& name) {
  return invalid_field(name, "must be a positive integer");
}

} // namespace eventhub::http
