// The purchases actor. Owns nothing but its handles: a purchase, hold, confirmation, release or
// cancellation is one request to the seller, counted here once per answer whichever node or mode
// served it.
#include "actors/services/purchases.hpp"

#include "actors/db_request.hpp"
#include "actors/services/seller.hpp"
#include "observability/metrics.hpp"
#include "persistence/hold_repository.hpp"
#include "persistence/purchase_repository.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <deque>
#include <unordered_map>

namespace eventhub::actors {
namespace {

using domain::error_code;
namespace purchases_db = persistence::purchases;

metrics::counter& outcome_counter(const char* name) {
  return metrics::registry::global().get_counter(
      "eventhub_purchases_total", "Purchase requests by outcome", {{"outcome", name}});
}

void count(const purchase_answer& r) {
  static metrics::counter& confirmed = outcome_counter("confirmed");
  static metrics::counter& replayed = outcome_counter("replayed");
  static metrics::counter& sold_out = outcome_counter("sold_out");
  static metrics::counter& sales_closed = outcome_counter("sales_closed");
  static metrics::counter& unavailable = outcome_counter("unavailable");
  static metrics::counter& rejected = outcome_counter("rejected");
  if (r.ok())
    (r->replayed ? replayed : confirmed).inc();
  else if (r.err().code == error_code::sold_out)
    sold_out.inc();
  else if (r.err().code == error_code::sales_closed)
    sales_closed.inc();
  else if (r.err().code == error_code::unavailable)
    unavailable.inc();
  else
    rejected.inc();
}

/// Holds, confirmations and releases by step and outcome (eventhub_holds_total).
void count_hold_step(domain::order_kind kind, const purchase_answer& r) {
  const char* step = kind == domain::order_kind::hold      ? "hold"
                     : kind == domain::order_kind::confirm ? "confirm"
                                                           : "release";
  const char* outcome = r.ok()                                    ? "ok"
                        : r.err().code == error_code::unavailable ? "unavailable"
                                                                  : "refused";
  metrics::registry::global()
      .get_counter("eventhub_holds_total", "Holds, confirmations and releases by outcome",
                   {{"step", step}, {"outcome", outcome}})
      .inc();
}

/// Cancellations by outcome (eventhub_cancellations_total).
void count_cancellation(const purchase_answer& r) {
  const char* outcome = r.ok() ? (r->replayed ? "replayed" : "ok")
                        : r.err().code == error_code::unavailable ? "unavailable"
                                                                  : "refused";
  metrics::registry::global()
      .get_counter("eventhub_cancellations_total", "Cancellation requests by outcome",
                   {{"outcome", outcome}})
      .inc();
}

void count_answer(domain::order_kind kind, const purchase_answer& a) {
  if (kind == domain::order_kind::purchase)
    count(a);
  else if (kind == domain::order_kind::cancel)
    count_cancellation(a);
  else
    count_hold_step(kind, a);
}

/// Where holds made through this node live: hold id -> (event, buyer), both fixed for a hold's
/// life, so a confirm or release of a hold made here needs no read before its event's actor
/// decides. Bounded: the oldest entries go first (a miss only costs that read).
class hold_routes {
 public:
  struct route {
    std::int64_t event_id = 0;
    std::int64_t participant_id = 0;
  };

  void remember(const domain::hold& h) {
    if (!routes_.emplace(h.id, route{h.event_id, h.participant_id}).second)
      return;
    order_.push_back(h.id);
    if (order_.size() > capacity) {
      routes_.erase(order_.front());
      order_.pop_front();
    }
  }

  std::optional<route> find(std::int64_t hold_id) const {
    auto it = routes_.find(hold_id);
    if (it == routes_.end())
      return std::nullopt;
    return it->second;
  }

 private:
  static constexpr std::size_t capacity = 100000;
  std::unordered_map<std::int64_t, route> routes_;
  std::deque<std::int64_t> order_;
};

struct purchases_state {
  purchases_deps deps;
  service_options options;
  hold_routes routes;

  deadline due() const { return due_in(options.request_timeout); }
};

using purchases_pointer = purchases_actor::stateful_pointer<purchases_state>;

void on_purchase(purchases_pointer self, domain::purchase_request& req,
                 domain::reply<domain::purchase_outcome>& done) {
  if (req.kind == domain::order_kind::hold)
    req.hold_ttl = self->state.options.hold_ttl;
  const auto kind = req.kind;
  purchase_command cmd;
  cmd.memo_ok = !req.idempotency_key;
  cmd.request = std::move(req);
  cmd.due = self->state.due();
  ask_seller(self, self->state.deps.seller, std::move(cmd), "The purchase timed out.",
             [self, done, kind](purchase_answer a) {
               count_answer(kind, a);
               if (a.ok() && a->hold)
                 self->state.routes.remember(*a->hold);
               done(std::move(a));
             });
}

/// Reads the purchase first for its event (which routes the command) and owner: someone else's
/// purchase does not exist for the caller unless ADMIN. The owner's cancellations close
/// purchase.cancel-cutoff before the start, an ADMIN's at the start; the keys are the caller's.
void on_cancel(purchases_pointer self, domain::purchase_request& req, domain::principal caller,
               domain::reply<domain::purchase_outcome>& done) {
  const bool admin = caller.role == domain::role::admin;
  auto job = make_tx_job<domain::purchase>(
      self->state.due(), [id = req.purchase_id, caller, admin](persistence::tx& t) {
        auto p = purchases_db::find(t, id);
        if (p && !admin && p->participant_id != caller.id)
          p.reset();
        return found(std::move(p), "purchase");
      });
  req.kind = domain::order_kind::cancel;
  req.participant_id = caller.id;
  req.cancel_cutoff = admin ? std::chrono::milliseconds{0} : self->state.options.cancel_cutoff;
  ask_db<domain::purchase>(self, self->state.deps.db_pool, std::move(job),
                           [self, req, done](domain::result<domain::purchase> p) mutable {
                             if (!p.ok()) {
                               done(p.err());
                               return;
                             }
                             req.event_id = p->event_id;
                             on_purchase(self, req, done);
                           });
}

/// Finds the hold's event (which routes the command) and buyer first, remembered or read:
/// someone else's hold does not exist for the caller (an ADMIN may release any).
void on_settle(purchases_pointer self, domain::purchase_request& req, domain::principal caller,
               domain::reply<domain::purchase_outcome>& done) {
  const bool admin_release =
      caller.role == domain::role::admin && req.kind == domain::order_kind::release;
  if (auto known = self->state.routes.find(req.hold_id)) {
    if (!admin_release && known->participant_id != caller.id) {
      done(domain::make_error(domain::error_code::not_found, "No hold with this id."));
      return;
    }
    req.event_id = known->event_id;
    req.participant_id = known->participant_id;
    on_purchase(self, req, done);
    return;
  }
  auto job = make_tx_job<domain::hold>(
      self->state.due(), [id = req.hold_id, caller, admin_release](persistence::tx& t) {
        auto h = persistence::holds::find(t, id);
        if (h && !admin_release && h->participant_id != caller.id)
          h.reset();
        return found(std::move(h), "hold");
      });
  ask_db<domain::hold>(self, self->state.deps.db_pool, std::move(job),
                       [self, req, done](domain::result<domain::hold> h) mutable {
                         if (!h.ok()) {
                           done(h.err());
                           return;
                         }
                         self->state.routes.remember(*h);
                         req.event_id = h->event_id;
                         req.participant_id = h->participant_id;
                         on_purchase(self, req, done);
                       });
}

purchases_actor::behavior_type purchases_behavior(purchases_pointer self, purchases_deps deps,
                                                  service_options options) {
  self->state.deps = std::move(deps);
  self->state.options = options;
  return {
      [=](purchase_atom, domain::purchase_request& req,
          domain::reply<domain::purchase_outcome>& done) { on_purchase(self, req, done); },
      [=](find_atom, std::int64_t id, domain::principal caller,
          domain::reply<domain::purchase>& done) {
        serve_tx(
            self, self->state.deps.db_pool, self->state.options.request_timeout,
            [id, caller](persistence::tx& t) {
              auto p = purchases_db::find(t, id);
              if (p && caller.role != domain::role::admin && p->participant_id != caller.id)
                p.reset(); // someone else's purchase does not exist for this caller
              return found(std::move(p), "purchase");
            },
            done);
      },
      [=](settle_atom, domain::purchase_request& req, domain::principal caller,
          domain::reply<domain::purchase_outcome>& done) { on_settle(self, req, caller, done); },
      [=](cancel_atom, domain::purchase_request& req, domain::principal caller,
          domain::reply<domain::purchase_outcome>& done) { on_cancel(self, req, caller, done); },
      [=](find_atom, std::int64_t id, domain::principal caller, domain::reply<domain::hold>& done) {
        serve_tx(
            self, self->state.deps.db_pool, self->state.options.request_timeout,
            [id, caller](persistence::tx& t) {
              auto h = persistence::holds::find(t, id);
              if (h && caller.role != domain::role::admin && h->participant_id != caller.id)
                h.reset();
              return found(std::move(h), "hold");
            },
            done);
      },
      [=](holds_of_atom, std::int64_t participant_id, domain::page_request paging,
          domain::reply<domain::page<domain::hold>>& done) {
        serve_tx(
            self, self->state.deps.db_pool, self->state.options.request_timeout,
            [participant_id, paging](persistence::tx& t) {
              return persistence::holds::list_of(t, participant_id, paging);
            },
            done);
      },
      [=](purchases_of_atom, std::int64_t participant_id, domain::page_request paging,
          domain::reply<domain::page<domain::purchase>>& done) {
        serve_tx(
            self, self->state.deps.db_pool, self->state.options.request_timeout,
            [participant_id, paging](persistence::tx& t) {
              return purchases_db::list_of(t, participant_id, paging);
            },
            done);
      },
  };
}

} // namespace

purchases_actor spawn_purchases(caf::actor_system& sys, purchases_deps deps,
                                const service_options& options) {
  return sys.spawn(purchases_behavior, std::move(deps), options);
}

void purchases_service::purchase(domain::purchase_request req,
                                 domain::reply<domain::purchase_outcome> done) {
  caf::anon_send(actor_, purchase_atom::value, std::move(req), std::move(done));
}

void purchases_service::find_purchase(std::int64_t id, domain::principal caller,
                                      domain::reply<domain::purchase> done) {
  caf::anon_send(actor_, find_atom::value, id, caller, std::move(done));
}

void purchases_service::cancel_purchase(domain::purchase_request req, domain::principal caller,
                                        domain::reply<domain::purchase_outcome> done) {
  caf::anon_send(actor_, cancel_atom::value, std::move(req), caller, std::move(done));
}

void purchases_service::list_purchases(std::int64_t participant_id, domain::page_request paging,
                                       domain::reply<domain::page<domain::purchase>> done) {
  caf::anon_send(actor_, purchases_of_atom::value, participant_id, paging, std::move(done));
}

} // namespace eventhub::actors

namespace eventhub::actors {

void purchases_service::create_hold(domain::purchase_request req,
                                    domain::reply<domain::purchase_outcome> done) {
  req.kind = domain::order_kind::hold;
  caf::anon_send(actor_, purchase_atom::value, std::move(req), std::move(done));
}

void purchases_service::settle_hold(domain::purchase_request req, domain::principal caller,
                                    domain::reply<domain::purchase_outcome> done) {
  caf::anon_send(actor_, settle_atom::value, std::move(req), caller, std::move(done));
}

void purchases_service::find_hold(std::int64_t id, domain::principal caller,
                                  domain::reply<domain::hold> done) {
  caf::anon_send(actor_, find_atom::value, id, caller, std::move(done));
}

void purchases_service::list_holds(std::int64_t participant_id, domain::page_request paging,
                                   domain::reply<domain::page<domain::hold>> done) {
  caf::anon_send(actor_, holds_of_atom::value, participant_id, paging, std::move(done));
}

} // namespace eventhub::actors
