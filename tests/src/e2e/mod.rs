//! End-to-end tests through real HTTP against a running `inbox-dev`.
//!
//! [`suite`] holds the flows, each a function of the server's base URL;
//! [`e2e_suite!`](crate::e2e_suite) turns the list of flows into one test per
//! flow for a given way of starting the server, so every backend runs the
//! very same suite (`tests/e2e_embedded.rs`, `tests/e2e_dynamodb.rs`).

pub mod client;
pub mod live;
pub mod receiver;
pub mod server;
pub mod suite;

pub use server::DevServer;

/// One `#[tokio::test]` per flow of [`suite`], each on a fresh server made by
/// `$start(name)` (a function returning a [`DevServer`]).
#[macro_export]
macro_rules! e2e_suite {
    ($start:path) => {
        $crate::e2e_suite!(@flows $start;
            assign_to_self_stops_the_ai,
            assign_to_another_shows_in_their_inbox,
            takeover_with_notice,
            unassign,
            status_menu,
            closing_note_modes,
            reply_to_closed,
            blocked_contact,
            contact_with_many_open_conversations,
            hand_back_to_ai,
            end_session_versus_unassign_agent,
            handoff_then_replier_is_assigned,
            csv_export_matches_the_view,
            members_search_and_removal,
            contact_change_continues_as_a_job,
            export_as_a_job,
            auto_close_fires,
            auto_close_timer_rules,
            webhook_ingestion,
            unauthenticated,
            forbidden_by_role,
            cross_workspace_is_not_found,
            malformed_requests,
            if_match_precondition,
            roles_are_the_directory_s,
            only_owners_touch_owners,
            strict_puts_and_queries,
            invite_a_member,
            replies_reach_each_provider,
            delivery_retries_and_refusals,
            every_reply_kind_is_delivered,
            api_keys_act_as_agents_and_integrations,
            reports_count_each_conversation_once,
            the_ai_answers_first_then_hands_over,
            an_answer_after_a_person_stepped_in_is_discarded,
            a_dead_model_hands_the_conversation_to_people,
            a_webhook_agent_answers_in_its_response,
            the_summarizer_agent_writes_closing_notes,
        );
    };
    (@flows $start:path; $($flow:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $flow() {
                let server: $crate::e2e::DevServer = $start(stringify!($flow));
                let log = server.log.display().to_string();
                let run = tokio::spawn({
                    let base = server.base.clone();
                    async move { $crate::e2e::suite::$flow(&base).await }
                });
                if let Err(e) = run.await {
                    panic!("{} failed (server log: {log}): {e}", stringify!($flow));
                }
            }
        )*
    };
}
