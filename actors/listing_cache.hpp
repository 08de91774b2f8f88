// The listing cache: answers GET /api/events from pages kept rendered in memory.
//
// Protocol (listing_cache_actor):
//   (list_atom, query) -> listing_answer      a page that missed the board: answered from the
//                                             cache, or once its database read finished
//   (refresh_ahead_atom, query)               a reader saw a published page past half its age
//   (invalidate_atom) -> invalidated_atom     an admin write: drop every page (answered after
//                                             the empty snapshot is published)
//   (publish_atom)                            internal: the snapshot timer
// It publishes its fresh pages on a listing_board for readers on other threads.
#pragma once

#include "actors/atoms.hpp"
#include "actors/db_pool.hpp"
#include "actors/options.hpp"
#include "domain/commands.hpp"
#include "domain/model.hpp"
#include "domain/result.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <functional>
#include <memory>

namespace eventhub::actors {

using listing_answer = domain::result<domain::rendered_page>;

using invalidation_handler =
    caf::typed_actor<caf::replies_to<invalidate_atom>::with<invalidated_atom>>;

using listing_cache_actor = invalidation_handler::extend<
    caf::replies_to<list_atom, domain::event_query>::with<listing_answer>,
    caf::reacts_to<refresh_ahead_atom, domain::event_query>, caf::reacts_to<publish_atom>>;

/// Reads one page of events (persistence::events::list in a transaction; tests put their own).
using page_reader =
    std::function<domain::page<domain::event>(persistence::session&, const domain::event_query&)>;

class listing_board;

listing_cache_actor spawn_listing_cache(caf::actor_system& sys, db_pool_actor db_pool,
                                        const listing_cache_options& options,
                                        std::shared_ptr<listing_board> board,
                                        page_reader read = {});

} // namespace eventhub::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::event_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::listing_answer)
