// The webhooks actor; see webhooks.hpp.
#include "actors/services/webhooks.hpp"

#include "domain/json.hpp"
#include "persistence/audit_repository.hpp"
#include "persistence/webhook_repository.hpp"
#include "security/outbound_target.hpp"
#include "security/ticket_codes.hpp"
#include "security/webhook_signing.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace eventhub::actors {
namespace {

namespace hooks = persistence::webhooks;
using domain::error_code;

struct webhooks_state {
  webhooks_deps deps;
  service_options options;
};

using webhooks_pointer = webhooks_actor::stateful_pointer<webhooks_state>;

domain::error url_refused(const std::string& why) {
  auto e =
      domain::make_error(error_code::unprocessable, "The webhook URL is not allowed: " + why + ".");
  e.field_errors.push_back({"url", why});
  return e;
}

/// The SSRF guard at registration, then the insert. Resolving blocks, so it runs on the DB
/// worker like the insert (a few milliseconds, once per registration).
domain::result<domain::webhook_endpoint> create(persistence::session& s,
                                                const domain::webhook_draft& draft,
                                                const security::key_sealer& sealer,
                                                bool allow_private, const domain::origin& by) {
  auto url = security::parse_web_url(draft.url);
  if (!url)
    return url_refused("it is not an absolute http or https URL");
  auto target = security::check_target(*url, allow_private);
  if (!target.allowed())
    return url_refused(target.refusal);
  const auto secret = security::generate_webhook_secret();
  auto created =
      persistence::transact_refusable<domain::webhook_endpoint>(s, [&](persistence::tx& t) {
        auto made = hooks::create(t, draft, [&](std::int64_t id) {
          return sealer.seal_bytes(secret, security::webhook_secret_ad(id));
        });
        // Recorded before the secret is set into the answer: never in the log.
        persistence::audit::record(
            t, {by, "webhook.created", "webhook", made.id, {}, domain::to_json(made)});
        return made;
      });
  if (created.ok())
    created->secret = security::format_webhook_secret(secret);
  return created;
}

webhooks_actor::behavior_type webhooks_behavior(webhooks_pointer self, webhooks_deps deps,
                                                service_options options) {
  self->state.deps = std::move(deps);
  self->state.options = options;
  auto pool = [self] { return self->state.deps.db_pool; };
  auto timeout = [self] { return self->state.options.request_timeout; };
  auto endpoints_changed = [self] { self->send(self->state.deps.notifier, endpoints_atom::value); };
  return {
      [=](create_atom, domain::webhook_draft& draft, domain::origin& by,
          domain::reply<domain::webhook_endpoint>& done) {
        auto job = make_db_job<domain::webhook_endpoint>(
            due_in(timeout()),
            [draft = std::move(draft), by, sealer = self->state.deps.sealer,
             allow = self->state.deps.allow_private_targets](persistence::session& s) {
              return create(s, draft, *sealer, allow, by);
            });
        ask_db<domain::webhook_endpoint>(
            self, pool(), std::move(job),
            [done, endpoints_changed](domain::result<domain::webhook_endpoint> r) {
              if (r.ok())
                endpoints_changed();
              done(std::move(r));
            });
      },
      [=](list_all_atom, domain::page_request paging,
          domain::reply<domain::page<domain::webhook_endpoint>>& done) {
        serve_tx(
            self, pool(), timeout(),
            [paging](persistence::tx& t) { return hooks::list(t, paging); }, done);
      },
      [=](find_atom, std::int64_t id, domain::reply<domain::webhook_endpoint>& done) {
        serve_tx(
            self, pool(), timeout(),
            [id](persistence::tx& t) { return found(hooks::find(t, id), "webhook"); }, done);
      },
      [=](delete_atom, std::int64_t id, domain::origin& by, domain::reply<domain::unit>& done) {
        auto job = make_tx_job<domain::unit>(due_in(timeout()), [id, by](persistence::tx& t) {
          auto endpoint = hooks::find(t, id);
          if (!endpoint)
            throw persistence::refused{
                domain::make_error(error_code::not_found, "No webhook with this id.")};
          if (endpoint->configured)
            throw persistence::refused{domain::make_error(
                error_code::conflict, "This endpoint is kept in configuration "
                                      "(notify.webhook-url): change the configuration instead.")};
          hooks::remove(t, id);
          persistence::audit::record(
              t, {by, "webhook.deleted", "webhook", id, domain::to_json(*endpoint), {}});
          return domain::unit{};
        });
        ask_db<domain::unit>(self, pool(), std::move(job),
                             [done, endpoints_changed](domain::result<domain::unit> r) {
                               if (r.ok())
                                 endpoints_changed();
                               done(std::move(r));
                             });
      },
      [=](deliveries_atom, std::int64_t id, domain::page_request paging,
          domain::reply<domain::page<domain::delivery_attempt>>& done) {
        serve_tx(
            self, pool(), timeout(),
            [id,
             paging](persistence::tx& t) -> domain::result<domain::page<domain::delivery_attempt>> {
              if (!hooks::find(t, id))
                return domain::make_error(error_code::not_found, "No webhook with this id.");
              return hooks::attempts(t, id, paging);
            },
            done);
      },
  };
}

} // namespace

webhooks_actor spawn_webhooks(caf::actor_system& sys, webhooks_deps deps,
                              const service_options& options) {
  return sys.spawn(webhooks_behavior, std::move(deps), options);
}

void webhooks_service::create_webhook(domain::webhook_draft draft, domain::origin by,
                                      domain::reply<domain::webhook_endpoint> done) {
  caf::anon_send(actor_, create_atom::value, std::move(draft), std::move(by), std::move(done));
}

void webhooks_service::list_webhooks(domain::page_request paging,
                                     domain::reply<domain::page<domain::webhook_endpoint>> done) {
  caf::anon_send(actor_, list_all_atom::value, paging, std::move(done));
}

void webhooks_service::find_webhook(std::int64_t id, domain::reply<domain::webhook_endpoint> done) {
  caf::anon_send(actor_, find_atom::value, id, std::move(done));
}

void webhooks_service::delete_webhook(std::int64_t id, domain::origin by,
                                      domain::reply<domain::unit> done) {
  caf::anon_send(actor_, delete_atom::value, id, std::move(by), std::move(done));
}

void webhooks_service::list_deliveries(std::int64_t id, domain::page_request paging,
                                       domain::reply<domain::page<domain::delivery_attempt>> done) {
  caf::anon_send(actor_, deliveries_atom::value, id, paging, std::move(done));
}

} // namespace eventhub::actors
