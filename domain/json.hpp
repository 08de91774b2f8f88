// The project's only door to rapidjson: one RAPIDJSON_ASSERT for every translation unit,
// and compact JSON writers for the model types (used by HTTP answers and the listing cache).
#pragma once

#if defined(RAPIDJSON_RAPIDJSON_H_)
#error "include rapidjson only through domain/json.hpp, so every file shares one RAPIDJSON_ASSERT"
#endif

#include <stdexcept>

namespace eventhub::domain {
/// Thrown instead of aborting when rapidjson's internal checks fail (a bug, never bad input:
/// request decoding checks every type before reading it).
struct json_assertion : std::logic_error {
  using std::logic_error::logic_error;
};
} // namespace eventhub::domain

#define RAPIDJSON_ASSERT(x)                                                                        \
  do {                                                                                             \
    if (!(x))                                                                                      \
      throw ::eventhub::domain::json_assertion("rapidjson assertion: " #x);                        \
  } while (false)
#define RAPIDJSON_HAS_STDSTRING 1

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "domain/model.hpp"

#include <string>

namespace eventhub::domain {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_json(json_writer& w, const participant& p);
void write_json(json_writer& w, const event& e);
void write_json(json_writer& w, const purchase& p);
void write_json(json_writer& w, const attendee& a);
void write_time(json_writer& w, timestamp t);

template <class T> void write_json(json_writer& w, const page<T>& p) {
  w.StartObject();
  w.Key("items");
  w.StartArray();
  for (const auto& item : p.items)
    write_json(w, item);
  w.EndArray();
  w.Key("page");
  w.Int(p.number);
  w.Key("size");
  w.Int(p.size);
  w.Key("totalItems");
  w.Int64(p.total_items);
  w.Key("totalPages");
  w.Int64(p.total_pages());
  w.EndObject();
}

template <class T> std::string to_json(const T& value) {
  rapidjson::StringBuffer buffer;
  json_writer w(buffer);
  write_json(w, value);
  return {buffer.GetString(), buffer.GetSize()};
}

} // namespace eventhub::domain
