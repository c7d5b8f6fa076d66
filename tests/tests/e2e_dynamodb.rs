//! The same end-to-end suite against `inbox-dev` on the DynamoDB adapter,
//! talking to moto at `INBOX_TEST_AWS_ENDPOINT` (set by `scripts/test.sh`).
//! Without that variable every test here fails, saying so.

use inbox_tests::e2e::DevServer;

inbox_tests::e2e_suite!(DevServer::dynamodb);
