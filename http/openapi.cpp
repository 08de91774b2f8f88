// Builds the served OpenAPI document from http/openapi.json and the route table (see openapi.hpp).
#include "http/openapi.hpp"

#include "domain/json.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/pointer.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace eventhub::http {
namespace {

using rapidjson::Document;
using rapidjson::Value;
using allocator = Document::AllocatorType;

/// The operation keys of an OpenAPI path item; its other keys (parameters, summary …) are not
/// operations.
constexpr const char* operation_keys[] = {"get",  "put",   "post",  "delete",
                                          "head", "patch", "trace", "options"};

bool is_operation_key(const std::string& key) {
  return std::find_if(std::begin(operation_keys), std::end(operation_keys),
                      [&](const char* k) { return key == k; }) != std::end(operation_keys);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return s;
}

Value* find(Value& object, const char* name) {
  if (!object.IsObject())
    return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

Value text(const std::string& s, allocator& a) {
  return Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
}

Value reference(const std::string& target, allocator& a) {
  Value v(rapidjson::kObjectType);
  v.AddMember("$ref", text(target, a), a);
  return v;
}

/// The member `name` of `object`, added as an empty value of `type` when missing.
Value& member(Value& object, const char* name, rapidjson::Type type, allocator& a) {
  if (Value* v = find(object, name))
    return *v;
  object.AddMember(Value(name, a), Value(type), a);
  return object[name];
}

/// Who may call a route, as the sentence appended to the operation's description.
std::string access_sentence(access who) {
  if (who == access::anyone)
    return "**Access:** anyone; no token needed.";
  if (who == access::signed_in)
    return "**Access:** any signed-in participant (bearer token with the role `USER`, `ADMIN` "
           "or `STAFF`); without a valid token `401`.";
  std::string roles;
  for (auto role : roles_of(who))
    roles += std::string(roles.empty() ? "" : " or ") + "`" + domain::to_string(role) + "`";
  return "**Access:** the role " + roles +
         " (bearer token); without a valid token `401`, with another role `403`.";
}

/// Every response carries X-Request-Id (http/session.cpp sets it on each one).
void add_request_id_header(Value& response, allocator& a) {
  if (!response.IsObject() || response.HasMember("$ref"))
    return; // a shared response of components/responses gets it there
  Value& headers = member(response, "headers", rapidjson::kObjectType, a);
  if (!headers.HasMember("X-Request-Id"))
    headers.AddMember("X-Request-Id", reference("#/components/headers/XRequestId", a), a);
}

/// Orders responses by status code, as readers (and Swagger UI) expect; "default" goes last.
void sort_by_status(Value& responses, allocator& a) {
  std::vector<std::string> codes;
  for (auto& response : responses.GetObject())
    codes.emplace_back(response.name.GetString());
  std::sort(codes.begin(), codes.end(), [](const std::string& x, const std::string& y) {
    return std::make_pair(x == "default", x) < std::make_pair(y == "default", y);
  });
  Value sorted(rapidjson::kObjectType);
  for (const auto& code : codes)
    sorted.AddMember(text(code, a), responses[code.c_str()], a); // moves the value
  responses = sorted;
}

/// Fills one operation from its route; appends what is wrong to `problems`. Adding a member to
/// a rapidjson object may move its other members, so no reference is kept across additions.
void complete_operation(Value& op, const route& r, allocator& a,
                        std::vector<std::string>& problems) {
  const std::string where = r.method + " " + r.pattern;
  if (!op.IsObject())
    return problems.push_back(where + ": the operation is not a JSON object");
  if (op.HasMember("summary"))
    problems.push_back(where + ": remove its summary; it comes from the route table");
  if (op.HasMember("security"))
    problems.push_back(where + ": remove its security; it comes from the route's access");
  if (r.summary.empty())
    problems.push_back(where + ": the route has no summary");
  Value* responses = find(op, "responses");
  if (!responses || !responses->IsObject() || responses->MemberCount() == 0)
    return problems.push_back(where + ": the operation has no responses");

  const bool protected_route = r.access != access::anyone;
  if (protected_route) {
    if (responses->HasMember("401") || responses->HasMember("403"))
      problems.push_back(where + ": remove its 401/403; they come from the route's access");
    responses->AddMember("401", reference("#/components/responses/Unauthorized", a), a);
    if (!roles_of(r.access).empty())
      responses->AddMember("403", reference("#/components/responses/Forbidden", a), a);
  }
  for (auto& response : responses->GetObject())
    add_request_id_header(response.value, a);
  sort_by_status(*responses, a);

  op.AddMember("summary", text(r.summary, a), a);
  {
    Value& description = member(op, "description", rapidjson::kStringType, a);
    std::string full = description.IsString() ? description.GetString() : "";
    full += (full.empty() ? "" : "\n\n") + access_sentence(r.access);
    description = text(full, a);
  }
  if (protected_route) {
    Value requirement(rapidjson::kObjectType);
    requirement.AddMember("bearerAuth", Value(rapidjson::kArrayType), a);
    Value security(rapidjson::kArrayType);
    security.PushBack(requirement, a);
    op.AddMember("security", security, a);
  }
  member(op, "parameters", rapidjson::kArrayType, a)
      .PushBack(reference("#/components/parameters/XRequestId", a), a);
}

/// The configured purchase limit, so the document states what the service enforces.
void set_purchase_maximum(Document& doc, int max_per_order, std::vector<std::string>& problems) {
  Value* quantity =
      rapidjson::Pointer("/components/schemas/PurchaseRequest/properties/quantity").Get(doc);
  if (!quantity || !quantity->IsObject())
    return problems.push_back("components.schemas.PurchaseRequest.properties.quantity is missing");
  member(*quantity, "maximum", rapidjson::kNumberType, doc.GetAllocator()).SetInt(max_per_order);
}

} // namespace

std::string openapi_document(const std::vector<route>& routes, std::string_view base,
                             const openapi_options& options) {
  Document doc;
  doc.Parse(base.data(), base.size());
  if (doc.HasParseError())
    throw openapi_error(std::string("http/openapi.json is not valid JSON: ") +
                        rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                        std::to_string(doc.GetErrorOffset()));
  Value* paths = find(doc, "paths");
  if (!paths || !paths->IsObject())
    throw openapi_error("http/openapi.json has no paths object");
  auto& a = doc.GetAllocator();

  std::vector<std::string> problems;
  std::set<std::pair<std::string, std::string>> routed; // (path, lower-case method)
  for (const auto& r : routes) {
    const std::string method = lower(r.method);
    if (!routed.insert({r.pattern, method}).second) {
      problems.push_back(r.method + " " + r.pattern + ": the route is in the table twice");
      continue;
    }
    Value* item = find(*paths, r.pattern.c_str());
    Value* op = item ? find(*item, method.c_str()) : nullptr;
    if (!op) {
      problems.push_back(r.method + " " + r.pattern +
                         ": the route is not documented in http/openapi.json");
      continue;
    }
    complete_operation(*op, r, a, problems);
  }
  for (auto& item : paths->GetObject()) {
    if (!item.value.IsObject()) {
      problems.push_back(std::string(item.name.GetString()) + ": the path item is not an object");
      continue;
    }
    for (auto& op : item.value.GetObject()) {
      const std::string key = op.name.GetString();
      if (is_operation_key(key) && !routed.count({item.name.GetString(), key}))
        problems.push_back(lower(key) + " " + item.name.GetString() +
                           ": documented in http/openapi.json but no route exists");
    }
  }
  if (Value* shared = rapidjson::Pointer("/components/responses").Get(doc);
      shared && shared->IsObject())
    for (auto& response : shared->GetObject())
      add_request_id_header(response.value, a);
  set_purchase_maximum(doc, options.max_per_order, problems);

  if (!problems.empty()) {
    std::string message = "the OpenAPI document does not match the route table:";
    for (const auto& p : problems)
      message += "\n  " + p;
    throw openapi_error(message);
  }
  rapidjson::StringBuffer buffer;
  domain::json_writer w(buffer);
  doc.Accept(w);
  return {buffer.GetString(), buffer.GetSize()};
}

} // namespace eventhub::http
