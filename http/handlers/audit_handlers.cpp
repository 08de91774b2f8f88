// GET /api/audit (ADMIN).
#include "http/decoders.hpp"
#include "http/handlers/handlers.hpp"
#include "http/handlers/support.hpp"

namespace eventhub::http::handlers {

handler_fn list_audit(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto q = decode_audit_query(c.req->query);
    if (auto* e = std::get_if<domain::error>(&q))
      return c.fail(*e);
    ctx.services.audit.list_audit(std::get<domain::audit_query>(std::move(q)),
                                  answer_json<domain::page<domain::audit_entry>>(c));
  };
}

} // namespace eventhub::http::handlers
