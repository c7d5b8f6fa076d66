import { defineConfig } from "@playwright/test";

// Browser tests of the web inbox against real dev servers, one project per
// store: scripts/web-tests.sh starts them and says where
// (INBOX_WEB_BASE_EMBEDDED, INBOX_WEB_BASE_DYNAMODB). Chromium is the system's
// (Debian's `chromium` package, which scripts/test.sh installs when it is
// missing): browser downloads are not possible everywhere.
const chromium = process.env.INBOX_CHROMIUM ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: "tests",
  testMatch: "*.spec.ts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    launchOptions: { executablePath: chromium, args: ["--no-sandbox"] },
    viewport: { width: 1440, height: 900 },
    trace: "off",
  },
  projects: [
    { name: "embedded", use: { baseURL: process.env.INBOX_WEB_BASE_EMBEDDED } },
    ...(process.env.INBOX_WEB_BASE_DYNAMODB
      ? [{ name: "dynamodb", use: { baseURL: process.env.INBOX_WEB_BASE_DYNAMODB } }]
      : []),
  ],
});
