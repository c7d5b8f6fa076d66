//! Outgoing webhooks end to end against `inbox-dev --memory`, whose store's
//! change feed feeds them (on DynamoDB the table stream does, in AWS: see
//! the runtime's webhook-dispatch and webhook-sender tests).

use inbox_tests::e2e::DevServer;

inbox_tests::e2e_suite!(@flows DevServer::memory;
    webhook_retries_keep_their_id,
    webhook_order_per_conversation,
    webhook_survives_a_receiver_outage,
    webhook_endpoints_are_admins_and_checked,
    webhook_delivery_updates_follow_the_message,
);
