// The seeds' flows through the page, on a real dev server: assign to self
// stops the AI; a second person sees it live and takes over; accessibility
// and layout checks on the main screens, with screenshots for the docs.

import { expect, test } from "@playwright/test";
import { readFileSync } from "node:fs";
import {
  call,
  conversationWith,
  identities,
  mint,
  openConversation,
  overflowsHorizontally,
  seriousViolations,
  signedIn,
  unique,
  withSettings,
} from "./support";

const TAKEOVER_NOTICE = "You have taken over this conversation. AI will stop responding.";
// Screenshots go to target/ unless asked for the docs (INBOX_WEB_SCREENSHOTS=../docs/screenshots).
const SHOTS = process.env.INBOX_WEB_SCREENSHOTS ?? "../target/web-screenshots";

test("assigning yourself stops the AI, and another person sees it live and takes over", async ({ browser, baseURL }) => {
  const base = baseURL ?? "";
  const who = await identities(base);
  const contact = unique("Gus");
  // The contact's conversation, handed to the AI agent (as the API would).
  const conv = await conversationWith(base, who.bob.token, contact);
  await call(base, who.bob.token, "POST", `/conversations/${conv}/agent`, { agent_id: "max" });

  const bob = await signedIn(browser, base, who.bob);
  const carol = await signedIn(browser, base, who.carol);
  await openConversation(bob.page, contact);
  await openConversation(carol.page, contact);
  await expect(bob.page.getByRole("region", { name: "Agent session" })).toBeVisible();

  // Bob assigns himself: the agent banner goes, the session's end is on the thread.
  await bob.page.getByRole("button", { name: "Assignee: Unassigned" }).click();
  const panel = bob.page.getByRole("dialog", { name: "Assign conversation to:" });
  await expect(panel).toBeVisible();
  await panel.getByRole("searchbox", { name: "Search members…" }).fill("Bob");
  await panel.getByRole("button", { name: /Bob Ray/ }).click();
  await expect(bob.page.getByRole("region", { name: "Agent session" })).toHaveCount(0);
  await expect(bob.page.getByRole("list", { name: "Thread" })).toContainText("AI session ended (human_assigned)");
  await expect(bob.page.getByRole("button", { name: "Assignee: Bob Ray" })).toBeVisible();

  // Carol never reloads: the change reaches her screen, with the Takeover banner.
  await expect(carol.page.getByRole("button", { name: "Assignee: Bob Ray" })).toBeVisible();
  const banner = carol.page.getByRole("region", { name: "Takeover" });
  await expect(banner).toContainText(
    "Assigned to Bob Ray. Click Takeover to assign this conversation to yourself and send messages.",
  );
  await banner.getByRole("button", { name: "Takeover" }).click();
  await expect(carol.page.getByText(TAKEOVER_NOTICE)).toBeVisible();
  await expect(carol.page.getByRole("button", { name: "Assignee: Carol Diaz" })).toBeVisible();
  // ... and Bob sees Carol took it over.
  await expect(bob.page.getByRole("button", { name: "Assignee: Carol Diaz" })).toBeVisible();
  await expect(bob.page.getByRole("list", { name: "Thread" })).toContainText("carol took over from bob");

  await bob.context.close();
  await carol.context.close();
});

test("the AI agent cannot be picked as an assignee", async ({ browser, baseURL }) => {
  const base = baseURL ?? "";
  const who = await identities(base);
  const contact = unique("Ann");
  await conversationWith(base, who.bob.token, contact);
  const bob = await signedIn(browser, base, who.bob);
  await openConversation(bob.page, contact);
  await bob.page.getByRole("button", { name: "Assignee: Unassigned" }).click();
  const panel = bob.page.getByRole("dialog", { name: "Assign conversation to:" });
  await panel.getByRole("button", { name: /Max\s+Agent/ }).click();
  await expect(panel.getByRole("alert")).toContainText(/team member/i);
  await expect(bob.page.getByRole("button", { name: "Assignee: Unassigned" })).toBeVisible();
  await bob.context.close();
});

test("the main screens are accessible and hold from 360 px to 1440 px", async ({ browser, baseURL }) => {
  const base = baseURL ?? "";
  const who = await identities(base);
  const contact = "Pat Quinn";
  const conv = await conversationWith(base, who.bob.token, contact);
  await call(base, who.bob.token, "POST", `/conversations/${conv}/messages`, { body: "Hello Pat, how can I help?" });

  const context = await browser.newContext({ baseURL: base });
  const page = await context.newPage();
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Sign in to the inbox" })).toBeVisible();
  expect(await seriousViolations(page), "sign-in").toEqual([]);
  await page.screenshot({ path: `${SHOTS}/sign-in.png` });
  await page.getByRole("button", { name: `${who.bob.name} ${who.bob.role}` }).click();
  await expect(page.getByRole("navigation", { name: "Views" })).toBeVisible();
  expect(await seriousViolations(page), "inbox").toEqual([]);
  await openConversation(page, contact);
  await expect(page.getByRole("list", { name: "Thread" }).first()).toContainText("Hello Pat");
  expect(await seriousViolations(page), "conversation").toEqual([]);
  await page.screenshot({ path: `${SHOTS}/conversation.png` });
  expect(await overflowsHorizontally(page), "1440 px").toBe(false);

  await page.setViewportSize({ width: 360, height: 740 });
  expect(await overflowsHorizontally(page), "360 px, conversation").toBe(false);
  await expect(page.getByRole("button", { name: "Send reply" })).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/conversation-360.png` });
  await page.getByRole("button", { name: "Back to the list" }).click();
  await expect(page.getByRole("region", { name: "Conversations" })).toBeVisible();
  expect(await overflowsHorizontally(page), "360 px, list").toBe(false);
  await context.close();
});

test("a handoff shows in Pending human reply, where Assign to me takes it", async ({ browser, baseURL }) => {
  const base = baseURL ?? "";
  const who = await identities(base);
  const contact = unique("Hana");
  const conv = await conversationWith(base, who.bob.token, contact);
  await call(base, who.bob.token, "POST", `/conversations/${conv}/agent`, { agent_id: "max" });
  // The AI agent hands over (as the model would, through the API).
  await call(base, mint("max", "ai_agent", "Max"), "POST", `/conversations/${conv}/handoff`, { reason: "asked for a human" });

  const carol = await signedIn(browser, base, who.carol);
  await openConversation(carol.page, contact, "Pending human reply");
  const banner = carol.page.getByRole("region", { name: "Pending human reply" });
  await expect(banner).toContainText("Do you want to be assigned to this conversation?");
  await banner.getByRole("button", { name: "Assign to me" }).click();
  await expect(carol.page.getByRole("button", { name: "Assignee: Carol Diaz" })).toBeVisible();
  await expect(banner).toHaveCount(0);
  await carol.page.getByRole("navigation", { name: "Views" }).getByRole("button", { name: "Pending human reply" }).click();
  await expect(carol.page.getByRole("region", { name: "Conversations" })).not.toContainText(contact);
  await carol.context.close();
});

test("a required closing note: refused without a category, Summarize drafts it, then it closes", async ({ browser, baseURL }) => {
  const base = baseURL ?? "";
  const who = await identities(base);
  const restore = await withSettings(base, who.olivia.token, (s) => {
    s.closing_notes = { mode: "category_and_summary_required", categories: ["Delivery", "Refund"], auto_generate: false };
  });
  try {
    const contact = unique("Ivo");
    const conv = await conversationWith(base, who.bob.token, contact);
    await call(base, who.bob.token, "POST", `/conversations/${conv}/messages`, { body: "Your parcel left the depot this morning." });
    const bob = await signedIn(browser, base, who.bob);
    await openConversation(bob.page, contact);
    await bob.page.getByRole("group", { name: "Status" }).getByRole("button", { name: "Closed", exact: true }).click();
    const dialog = bob.page.getByRole("dialog", { name: "Closing Notes" });
    await expect(dialog).toBeVisible();
    await dialog.getByRole("button", { name: "Close conversation" }).click();
    await expect(dialog.getByRole("alert")).toContainText(/category/i);
    await expect(dialog).toBeVisible();
    await dialog.getByRole("button", { name: "Summarize" }).click();
    await expect(dialog.getByRole("textbox", { name: "Summary" })).not.toHaveValue("");
    await dialog.getByRole("combobox", { name: "Category" }).selectOption("Delivery");
    await dialog.getByRole("button", { name: "Close conversation" }).click();
    await expect(dialog).toHaveCount(0);
    await expect(bob.page.getByRole("group", { name: "Status" }).getByRole("button", { name: "Closed", exact: true })).toHaveAttribute("aria-pressed", "true");
    await expect(bob.page.getByRole("list", { name: "Thread" })).toContainText("Closing note: Delivery");
    await bob.context.close();
  } finally {
    await restore();
  }
});

test("replying to a closed conversation asks Open and reply here", async ({ browser, baseURL }) => {
  const base = baseURL ?? "";
  const who = await identities(base);
  const contact = unique("Jo");
  const conv = await conversationWith(base, who.bob.token, contact);
  await call(base, who.bob.token, "POST", `/conversations/${conv}/status`, { status: "closed" });
  const bob = await signedIn(browser, base, who.bob);
  await openConversation(bob.page, contact);
  await bob.page.getByRole("textbox", { name: "Reply" }).fill("One more thing about your order.");
  await bob.page.getByRole("textbox", { name: "Reply" }).press("Enter");
  const closed = bob.page.getByRole("region", { name: "Conversation closed" });
  await expect(closed.getByRole("button", { name: "Start new conversation" })).toBeVisible();
  await closed.getByRole("button", { name: "Open and reply here" }).click();
  await expect(bob.page.getByRole("list", { name: "Thread" })).toContainText("One more thing about your order.");
  await expect(bob.page.getByRole("group", { name: "Status" }).getByRole("button", { name: "Open", exact: true })).toHaveAttribute("aria-pressed", "true");
  await bob.context.close();
});

test("a blocked contact's conversation has no Open or Close and no composer", async ({ browser, baseURL }) => {
  const base = baseURL ?? "";
  const who = await identities(base);
  const contact = unique("Kit");
  const made = await call(base, who.bob.token, "POST", "/contacts", { name: contact });
  await call(base, who.bob.token, "POST", "/conversations", { contact_id: made["id"] });
  await call(base, who.olivia.token, "POST", `/contacts/${String(made["id"])}/block`);
  const bob = await signedIn(browser, base, who.bob);
  await openConversation(bob.page, contact);
  await expect(bob.page.getByText("This contact is blocked")).toBeVisible();
  await expect(bob.page.getByRole("group", { name: "Status" })).toHaveCount(0);
  await expect(bob.page.getByRole("textbox", { name: "Reply" })).toHaveCount(0);
  await bob.context.close();
});

test("auto-close closes a conversation on screen without a reload", async ({ browser, baseURL }) => {
  const base = baseURL ?? "";
  const who = await identities(base);
  const restore = await withSettings(base, who.olivia.token, (s) => {
    s.auto_close = { enabled: true, after_seconds: 2 };
  });
  try {
    const contact = unique("Lea");
    await conversationWith(base, who.bob.token, contact);
    const bob = await signedIn(browser, base, who.bob);
    await openConversation(bob.page, contact);
    await bob.page.getByRole("textbox", { name: "Reply" }).fill("Anything else I can do?");
    await bob.page.getByRole("button", { name: "Send reply" }).click();
    await expect(bob.page.getByText(/Closes automatically at/)).toBeVisible();
    await expect(bob.page.getByRole("list", { name: "Thread" })).toContainText("Closed by auto-close", { timeout: 20_000 });
    await expect(bob.page.getByRole("group", { name: "Status" }).getByRole("button", { name: "Closed", exact: true })).toHaveAttribute("aria-pressed", "true");
    await bob.context.close();
  } finally {
    await restore();
  }
});

test("Export as CSV downloads the rows of the current view", async ({ browser, baseURL }) => {
  const base = baseURL ?? "";
  const who = await identities(base);
  const contact = unique("Max Mustermann");
  const conv = await conversationWith(base, who.bob.token, contact);
  await call(base, who.bob.token, "POST", `/conversations/${conv}/assign`, { member_id: "bob" });
  const bob = await signedIn(browser, base, who.bob);
  await bob.page.getByRole("navigation", { name: "Views" }).getByRole("button", { name: "Your inbox" }).click();
  const rows = bob.page.getByRole("region", { name: "Conversations" }).getByRole("listitem");
  await expect(rows.filter({ hasText: contact })).toHaveCount(1);
  const shown = await rows.count();
  const [download] = await Promise.all([
    bob.page.waitForEvent("download"),
    bob.page.getByRole("button", { name: "Export as CSV" }).click(),
  ]);
  const csv = readFileSync(await download.path(), "utf8").trim().split(/\r?\n/);
  expect(csv[0]?.startsWith("id,contact_name,")).toBe(true);
  expect(csv.length - 1, "one row per conversation in the view").toBe(shown);
  expect(csv.some((line) => line.includes(contact))).toBe(true);
  await bob.context.close();
});

test("the conversation's tools: agent, labels, favorite, internal note", async ({ browser, baseURL }) => {
  const base = baseURL ?? "";
  const who = await identities(base);
  const contact = unique("Nia");
  await conversationWith(base, who.bob.token, contact);
  const bob = await signedIn(browser, base, who.bob);
  const page = bob.page;
  await openConversation(page, contact);
  const tools = page.getByRole("toolbar", { name: "Conversation tools" });

  // Assign agent, with "Send initial message": the agent's banner shows.
  await tools.getByRole("button", { name: "Assign agent" }).click();
  const hand = page.getByRole("dialog", { name: "Assign agent" });
  await hand.getByRole("checkbox", { name: "Send initial message" }).check();
  await hand.getByRole("button", { name: "Hand to the agent" }).click();
  await expect(page.getByRole("region", { name: "Agent session" })).toBeVisible();
  // "Unassign agent" warns that the session ends, then removes it.
  await tools.getByRole("button", { name: "Unassign agent" }).click();
  const unassign = page.getByRole("dialog", { name: "Unassign agent" });
  await expect(unassign).toContainText("its session ends");
  await unassign.getByRole("button", { name: "Unassign agent" }).click();
  await expect(page.getByRole("region", { name: "Agent session" })).toHaveCount(0);
  await expect(page.getByRole("list", { name: "Thread" })).toContainText("AI session ended (agent_unassigned)");

  // Labels, favorite.
  await tools.getByRole("textbox", { name: "Add label" }).fill("billing");
  await tools.getByRole("textbox", { name: "Add label" }).press("Enter");
  await expect(tools.getByRole("list", { name: "Labels" })).toContainText("billing");
  await tools.getByRole("button", { name: "Remove label billing" }).click();
  await expect(tools.getByRole("list", { name: "Labels" })).not.toContainText("billing");
  await tools.getByRole("button", { name: /Favorite/ }).click();
  await expect(tools.getByRole("button", { name: /Favorite/ })).toHaveAttribute("aria-pressed", "true");

  // An internal note is on the thread, visibly internal.
  await page.getByRole("checkbox", { name: "Internal note" }).check();
  await page.getByRole("textbox", { name: "Reply" }).fill("Customer is a reseller.");
  await page.getByRole("button", { name: "Add note" }).click();
  const note = page.getByRole("list", { name: "Thread" }).getByRole("listitem").filter({ hasText: "Customer is a reseller." });
  await expect(note).toContainText("Internal note");
  await bob.context.close();
});

test("a filter narrows the view, and the export follows it", async ({ browser, baseURL }) => {
  const base = baseURL ?? "";
  const who = await identities(base);
  const byAi = unique("Oda");
  const byHuman = unique("Per");
  const ai = await conversationWith(base, who.bob.token, byAi);
  await call(base, who.bob.token, "POST", `/conversations/${ai}/agent`, { agent_id: "max" });
  await call(base, mint("max", "ai_agent", "Max"), "POST", `/conversations/${ai}/messages`, { body: "Max here." });
  const human = await conversationWith(base, who.bob.token, byHuman);
  await call(base, who.bob.token, "POST", `/conversations/${human}/messages`, { body: "Bob here." });

  const bob = await signedIn(browser, base, who.bob);
  const page = bob.page;
  await page.getByRole("navigation", { name: "Views" }).getByRole("button", { name: "All Conversations" }).click();
  await page.getByRole("combobox", { name: "Agent Type" }).selectOption("ai");
  const list = page.getByRole("region", { name: "Conversations" });
  await expect(list).toContainText(byAi);
  await expect(list).not.toContainText(byHuman);
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Export as CSV" }).click(),
  ]);
  const csv = readFileSync(await download.path(), "utf8");
  expect(csv).toContain(byAi);
  expect(csv).not.toContain(byHuman);
  await bob.context.close();
});

test("an admin's settings: rules saved, a key's secret shown once, channels' webhook URLs", async ({ browser, baseURL }) => {
  const base = baseURL ?? "";
  const who = await identities(base);
  const before = await call(base, who.olivia.token, "GET", "/settings");
  try {
    // An agent has no settings.
    const bob = await signedIn(browser, base, who.bob);
    await expect(bob.page.getByRole("button", { name: "Settings" })).toHaveCount(0);
    await bob.context.close();

    const adam = await signedIn(browser, base, who.adam);
    const page = adam.page;
    await page.getByRole("button", { name: "Settings" }).click();
    await expect(page.getByRole("heading", { name: "Settings", level: 1 })).toBeVisible();
    expect(await seriousViolations(page), "settings").toEqual([]);
    await page.screenshot({ path: `${SHOTS}/settings.png`, fullPage: true });

    const rules = page.getByRole("region", { name: "Workspace rules" });
    await rules.getByRole("combobox", { name: "Closing notes" }).selectOption("category_required");
    await rules.getByRole("textbox", { name: /Closing note categories/ }).fill("Delivery, Refund");
    await rules.getByRole("button", { name: "Save rules" }).click();
    await expect(rules.getByRole("status")).toHaveText("Saved.");
    const saved = await call(base, who.olivia.token, "GET", "/settings");
    expect(saved["closing_notes"]).toMatchObject({ mode: "category_required", categories: ["Delivery", "Refund"] });

    const keys = page.getByRole("region", { name: "API keys" });
    const keyName = unique("Zap key");
    await keys.getByRole("textbox", { name: "Key name" }).fill(keyName);
    await keys.getByRole("textbox", { name: /Subject/ }).fill("zapier");
    await keys.getByRole("button", { name: "Create key" }).click();
    await expect(keys.getByRole("status")).toContainText("shown this once: ibx_");
    await expect(keys).toContainText(keyName);
    await page.reload();
    await expect(page.getByRole("region", { name: "API keys" })).toContainText(keyName);
    await expect(page.getByRole("region", { name: "API keys" }).getByRole("status")).toHaveCount(0);

    const channels = page.getByRole("region", { name: "Channels" });
    await expect(channels).toContainText(`${base}/webhooks/`);
    const id = `widget-${Date.now().toString(36)}`;
    await channels.getByRole("textbox", { name: "Channel id" }).fill(id);
    await channels.getByRole("textbox", { name: "Channel name" }).fill("Second widget");
    await channels.getByLabel("Signing secret").fill("a-long-signing-secret");
    await channels.getByRole("textbox", { name: "Outbound URL" }).fill("https://receiver.example/hook");
    await channels.getByRole("button", { name: "Save channel" }).click();
    const row = channels.getByRole("row").filter({ hasText: "Second widget" });
    await expect(row).toContainText(`${base}/webhooks/generic/demo/${id}`);
    await expect(row).toContainText("yes");
    await expect(channels).not.toContainText("a-long-signing-secret");
    await adam.context.close();
  } finally {
    await call(base, who.olivia.token, "PUT", "/settings", before);
  }
});

test("someone typing elsewhere shows, and replies show their delivery state", async ({ browser, baseURL }) => {
  const base = baseURL ?? "";
  const who = await identities(base);
  const contact = unique("Quin");
  // On the demo's website channel, whose replies go to the fake receiver.
  const made = await call(base, who.bob.token, "POST", "/contacts", { name: contact, phone: "+15550109999" });
  await call(base, who.bob.token, "POST", "/conversations", { contact_id: made["id"], channel_id: "web" });
  const bob = await signedIn(browser, base, who.bob);
  const carol = await signedIn(browser, base, who.carol);
  await openConversation(bob.page, contact);
  await openConversation(carol.page, contact);

  await carol.page.getByRole("textbox", { name: "Reply" }).fill("Let me check");
  await expect(bob.page.getByText("Carol Diaz is typing…")).toBeVisible();

  await bob.page.getByRole("textbox", { name: "Reply" }).fill("Your order ships today.");
  await bob.page.getByRole("button", { name: "Send reply" }).click();
  const mine = bob.page.getByRole("list", { name: "Thread" }).getByRole("listitem").filter({ hasText: "Your order ships today." });
  await expect(mine.locator(".delivery")).toHaveText("sent");
  // Carol's screen hears the delivery too.
  const theirs = carol.page.getByRole("list", { name: "Thread" }).getByRole("listitem").filter({ hasText: "Your order ships today." });
  await expect(theirs.locator(".delivery")).toHaveText("sent");
  await bob.context.close();
  await carol.context.close();
});

test("a pasted token signs in, and a member without a display name is asked for one", async ({ browser, baseURL }) => {
  const base = baseURL ?? "";
  const who = await identities(base);
  const contact = unique("Rae");
  await conversationWith(base, who.bob.token, contact);
  await call(base, who.adam.token, "PUT", "/members/nameless", { name: "", role: "agent" });
  const context = await browser.newContext({ baseURL: base });
  const page = await context.newPage();
  await page.goto("/");
  await page.getByRole("textbox", { name: "Token" }).fill(mint("nameless", "agent", ""));
  await page.getByRole("button", { name: "Sign in with token" }).click();
  await openConversation(page, contact);
  await page.getByRole("textbox", { name: "Reply" }).fill("Hello!");
  await page.getByRole("button", { name: "Send reply" }).click();
  await expect(page.getByRole("region", { name: "Display name needed" })).toContainText("Set a display name before replying");
  await expect(page.getByRole("textbox", { name: "Reply" })).toHaveValue("Hello!");
  await context.close();
});

test("every control the spec names is found by its accessible name", async ({ browser, baseURL }) => {
  const base = baseURL ?? "";
  const who = await identities(base);
  const withAi = unique("Sia");
  const ai = await conversationWith(base, who.bob.token, withAi);
  await call(base, who.bob.token, "POST", `/conversations/${ai}/agent`, { agent_id: "max" });
  const carols = unique("Tom");
  const assigned = await conversationWith(base, who.bob.token, carols);
  await call(base, who.bob.token, "POST", `/conversations/${assigned}/assign`, { member_id: "carol" });
  const bob = await signedIn(browser, base, who.bob);
  const page = bob.page;
  const views = page.getByRole("navigation", { name: "Views" });
  for (const name of ["Your inbox", "Unassigned", "All Conversations", "Unresolved", "Resolved", "Pending human reply", "Has lead", "Export as CSV"]) {
    await expect(views.getByRole("button", { name, exact: true }), name).toBeVisible();
  }
  for (const name of ["Team", "Label", "Channel", "Agent Type", "Responded By"]) {
    await expect(views.getByLabel(name, { exact: true }), name).toBeVisible();
  }

  await openConversation(page, withAi);
  const status = page.getByRole("group", { name: "Status" });
  for (const name of ["Open", "Closed", "Unassigned", "Close with a closing note"]) {
    await expect(status.getByRole("button", { name, exact: true }), name).toBeVisible();
  }
  for (const name of ["Mark as unread", "Export conversation", "Unassign agent", "End agent session", "Send reply"]) {
    await expect(page.getByRole("button", { name, exact: true }), name).toBeVisible();
  }
  await expect(page.getByRole("button", { name: /Favorite/ })).toBeVisible();
  await expect(page.getByLabel("Assign team")).toBeVisible();
  // The demo has two channels (website chat, and SMS with the fakes): one to move to.
  await expect(page.getByLabel("Transfer channel")).toBeVisible();

  await openConversation(page, carols);
  await expect(page.getByRole("button", { name: "Takeover", exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: "Assign agent", exact: true })).toBeVisible();
  await page.getByRole("button", { name: "Assignee: Carol Diaz" }).click();
  const panel = page.getByRole("dialog", { name: "Assign conversation to:" });
  await expect(panel.getByRole("searchbox", { name: "Search members…" })).toBeVisible();
  await expect(panel.getByRole("button", { name: "Unassign", exact: true })).toBeVisible();
  await expect(panel.getByText("Agent", { exact: true }).first()).toBeVisible();
  await expect(panel.getByLabel("Current assignee")).toBeVisible();
  await bob.context.close();
});

test("a failed delivery shows its reason, and Retry sends it", async ({ browser, baseURL }, info) => {
  const base = baseURL ?? "";
  const fakes = process.env[`INBOX_WEB_FAKES_${info.project.name.toUpperCase()}`];
  test.skip(!fakes, "the dev server's fake providers' address is not known (run through scripts/web-tests.sh)");
  const who = await identities(base);
  const contact = unique("Uma");
  const made = await call(base, who.bob.token, "POST", "/contacts", { name: contact, phone: "+15550107777" });
  await call(base, who.bob.token, "POST", "/conversations", { contact_id: made["id"], channel_id: "web" });
  // The next send to the website chat's receiver is refused for good (a 400).
  const failed = await fetch(`${fakes}/_fake/fail`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ provider: "receiver", status: 400, times: 1 }),
  });
  expect(failed.ok).toBe(true);

  const bob = await signedIn(browser, base, who.bob);
  await openConversation(bob.page, contact);
  await bob.page.getByRole("textbox", { name: "Reply" }).fill("Here is your tracking number.");
  await bob.page.getByRole("button", { name: "Send reply" }).click();
  const message = bob.page.getByRole("list", { name: "Thread" }).getByRole("listitem").filter({ hasText: "Here is your tracking number." });
  await expect(message.locator(".delivery")).toContainText("failed: the provider answered 400");
  await message.getByRole("button", { name: "Retry" }).click();
  await expect(message.locator(".delivery")).toHaveText("sent");
  await bob.context.close();
});

test("Reports count a closed conversation by its category, in the chart, the table and the CSV", async ({ browser, baseURL }) => {
  const base = baseURL ?? "";
  const who = await identities(base);
  const category = unique("Refund");
  const restore = await withSettings(base, who.olivia.token, (s) => {
    s.closing_notes.categories = [...s.closing_notes.categories, category];
  });
  try {
    const conv = await conversationWith(base, who.bob.token, unique("Rhea"));
    await call(base, who.bob.token, "POST", `/conversations/${conv}/status`, { status: "closed", closing_note: { category } });
    // A viewer may read reports.
    const vera = await signedIn(browser, base, who.vera);
    const page = vera.page;
    await page.getByRole("button", { name: "Reports" }).click();
    await expect(page.getByRole("heading", { name: "Reports", level: 1 })).toBeVisible();
    const groupBy = page.getByRole("combobox", { name: "Group by" });
    const table = page.getByRole("table", { name: /Conversations closed from/ });
    const row = table.getByRole("row").filter({ has: page.getByRole("rowheader", { name: category, exact: true }) });
    // The counters follow the change feed: ask again until the close shows.
    await expect(async () => {
      await groupBy.selectOption("channel");
      await groupBy.selectOption("category");
      await expect(row.getByRole("cell").first()).toHaveText("1", { timeout: 1000 });
    }).toPass({ timeout: 15_000 });
    const bars = page.getByRole("list", { name: "Closed conversations by category" });
    await expect(bars.getByRole("listitem").filter({ hasText: category })).toContainText("1");
    await expect(table.getByRole("row", { name: /^Total/ })).toBeVisible();
    expect(await seriousViolations(page), "reports").toEqual([]);
    await page.screenshot({ path: `${SHOTS}/reports.png`, fullPage: true });
    expect(await overflowsHorizontally(page), "1440 px, reports").toBe(false);
    await page.setViewportSize({ width: 360, height: 740 });
    expect(await overflowsHorizontally(page), "360 px, reports").toBe(false);
    await expect(table).toBeVisible();
    await page.setViewportSize({ width: 1440, height: 900 });
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download CSV" }).click(),
    ]);
    const csv = readFileSync(await download.path(), "utf8").trim().split(/\r?\n/);
    expect(csv[0]).toBe(
      "category,closed,first_response_p50_seconds,first_response_p90_seconds,resolution_p50_seconds,resolution_p90_seconds",
    );
    expect(csv.some((line) => line.startsWith(`${category},1,`))).toBe(true);
    await vera.context.close();
  } finally {
    await restore();
  }
});
