//! Live updates end to end on both stores: `inbox-dev --memory`, whose
//! embedded store's change feed feeds `GET /live`, and `inbox-dev` on the
//! DynamoDB adapter (moto at `INBOX_TEST_AWS_ENDPOINT`), fed by following
//! the table's stream.

mod embedded {
    use inbox_tests::e2e::DevServer;

    inbox_tests::e2e_suite!(@flows DevServer::memory;
        live_updates_reach_the_workspace,
        live_updates_keep_commit_order,
        live_connections_and_typing,
    );
}

mod dynamodb {
    use inbox_tests::e2e::DevServer;

    inbox_tests::e2e_suite!(@flows DevServer::dynamodb;
        live_updates_reach_the_workspace,
        live_updates_keep_commit_order,
        live_connections_and_typing,
    );
}
