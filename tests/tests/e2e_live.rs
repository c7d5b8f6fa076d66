//! Live updates end to end against `inbox-dev --memory`: the embedded
//! store's change feed feeds `GET /live`.

use inbox_tests::e2e::DevServer;

inbox_tests::e2e_suite!(@flows DevServer::memory;
    live_updates_reach_the_workspace,
    live_updates_keep_commit_order,
    live_connections_and_typing,
);
