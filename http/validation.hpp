// Declarative request validation in the spirit of Bean Validation: each field is read with its
// constraints, every violation is collected, and the result is one 400 with an errors[] entry
// per bad field. Types are checked before values are read (rapidjson never asserts).
#pragma once

#include "domain/error.hpp"
#include "domain/time.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace eventhub::http {

/// A constraint on a string value: returns the violation message, if any.
using text_rule = std::function<std::optional<std::string>(const std::string&)>;
text_rule size(std::size_t min, std::size_t max); // in characters (code points)
text_rule not_blank();
text_rule email_address();
text_rule one_of(std::vector<std::string> values);
text_rule currency_code(); // ISO 4217: three upper-case letters

/// A constraint on a time value.
using time_rule = std::function<std::optional<std::string>(domain::timestamp)>;
time_rule in_future();

enum class presence { required, optional };

class json_body; // a parsed JSON object (rapidjson stays in validation.cpp)

class validator {
 public:
  /// Parses `text` as a JSON object; malformed JSON or another top-level type is an error.
  static std::variant<validator, domain::error> parse(std::string_view text);

  std::optional<std::string> text(const char* field, presence p, std::vector<text_rule> rules);
  std::optional<std::int64_t> integer(const char* field, presence p, std::int64_t min,
                                      std::int64_t max);
  std::optional<domain::timestamp> time(const char* field, presence p,
                                        std::vector<time_rule> rules = {});

  std::optional<bool> boolean(const char* field, presence p);

  /// An array of `min`..`max` objects, one validator per entry that is an object (an entry that
  /// is not is a violation named `field[i]`); their fields are named `field[i].name` and their
  /// violations are this validator's.
  std::optional<std::vector<validator>> objects(const char* field, presence p, std::size_t min,
                                                std::size_t max);

  /// An array of `min`..`max` strings, each checked by `rules` (violations named `field`, saying
  /// which entry); nullopt when absent or when any entry is bad.
  std::optional<std::vector<std::string>> texts(const char* field, presence p, std::size_t min,
                                                std::size_t max, std::vector<text_rule> rules);

  /// Whether the body has `field`, even as null (a PUT's "omitted keeps, null clears").
  bool present(const char* field) const;

  /// Records a violation found by the caller (cross-field rules).
  void reject(const std::string& field, std::string message);

  /// Whether no field of the whole body (elements of `objects` included) was rejected.
  bool ok() const { return errors_->empty(); }
  domain::error error() const;

  validator(validator&&) noexcept;
  validator& operator=(validator&&) noexcept;
  ~validator();

 private:
  validator(std::unique_ptr<json_body> body, std::string prefix,
            std::shared_ptr<std::vector<domain::field_error>> errors);
  std::unique_ptr<json_body> body_;
  std::string prefix_; // e.g. "ticketTypes[0]." for an element of an array
  std::shared_ptr<std::vector<domain::field_error>> errors_; // shared with the elements
};

/// Query string parameters, percent-decoded ('+' is a space). Later duplicates are ignored.
struct query_params {
  std::map<std::string, std::string> values;
  std::vector<std::string> malformed; // names whose value is not percent-encoded UTF-8

  const std::string* get(const std::string& name) const;
};
query_params parse_query(std::string_view raw);

/// Decodes %XX and '+'; nullopt for a broken escape, %00, or bytes that are not UTF-8.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);

/// A positive 64-bit id from a path segment.
std::optional<std::int64_t> parse_id(std::string_view segment);

/// The error for a path id that is not a positive integer.
domain::error bad_path_id(const std::string& name);

/// A 400 naming one field.
domain::error invalid_field(std::string field, std::string message);

bool is_valid_utf8(std::string_view s);
std::size_t utf8_length(std::string_view s);

} // namespace eventhub::http
