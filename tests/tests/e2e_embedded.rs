//! The end-to-end suite against `inbox-dev --memory` (the embedded SQLite store).

use inbox_tests::e2e::DevServer;

inbox_tests::e2e_suite!(DevServer::memory);
