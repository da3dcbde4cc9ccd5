import path from "node:path";
import { test, expect, signIn, addUser } from "./fixtures";
import { fixtures } from "./global-setup";

test("an uploaded PAN card is read by OCR live on the page, scored, and overriding a decline takes one admin's reason and a second admin's confirmation", async ({
  browser,
  page,
  server,
  problems,
}) => {
  await signIn(page, server);
  await page.goto(server.url + "/loans?status=under_review");
  await page.getByTestId("loan-row").first().getByRole("link").click();
  await expect(page).toHaveURL(/\/loans\/LN-\d{4}-\d{6}$/);

  // Not a document: refused in place, nothing listed.
  const docs = page.getByTestId("documents-panel");
  await docs.getByLabel("Kind", { exact: true }).selectOption("income");
  await docs.getByLabel("File").setInputFiles(path.join(fixtures, "notes.pdf"));
  await docs.getByTestId("upload").click();
  await expect(docs.getByTestId("upload-error")).toContainText("Only PDF, PNG or JPEG");
  await expect(docs.getByTestId("document")).toHaveCount(0);

  // The PAN card: waiting, then read, without reloading the page.
  await docs.getByLabel("Kind", { exact: true }).selectOption("pan");
  await docs.getByLabel("File").setInputFiles(path.join(fixtures, "pan-card.png"));
  await docs.getByTestId("upload").click();
  await expect(docs.getByTestId("document")).toHaveCount(1);
  await expect(docs.getByTestId("document-status")).toHaveText("Read", { timeout: 30_000 });
  await expect(docs.getByTestId("document-read")).toContainText("PAN ABCPV1234K, name Asha Verma");
  // The history says so, live.
  await expect(page.getByTestId("history")).toContainText("Uploaded pan-card.png (PAN card)");
  await expect(page.getByTestId("history")).toContainText("Read pan-card.png");

  // The file opens in a new tab and shows, under the documents' policy.
  const [tab] = await Promise.all([page.waitForEvent("popup"), docs.getByTestId("document-open").click()]);
  await tab.waitForLoadState();
  expect(tab.url()).toMatch(/\/documents\/[0-9a-f]{24}$/);
  await expect.poll(() => tab.evaluate(() => document.querySelector("img")?.naturalWidth ?? 0)).toBeGreaterThan(100);
  await tab.close();

  // The demo applicant has another PAN: the scorecard declines, saying why.
  await page.reload();
  await expect(page.getByTestId("score-recommendation")).toHaveText("Decline", { timeout: 30_000 });
  await expect(page.getByTestId("score-reasons")).toContainText("PAN mismatch");
  await expect(page.getByTestId("jobs-panel")).toContainText("Reading a document");

  // Approving against the decline needs a reason; it is recorded.
  const status = page.getByTestId("status-panel");
  await status.getByTestId("status-approved").click();
  await expect(status.getByTestId("status-error")).toContainText("say why you approve it anyway");
  await status.getByLabel(/Reason/).fill("Employer letter confirms the applicant");
  await status.getByTestId("status-approved").click();
  await expect(page.getByTestId("loan-status")).toHaveText("Awaiting second approval");
  await expect(page.getByTestId("history")).toContainText("Overrides the scorecard's decline: Employer letter confirms the applicant");
  const loanURL = page.url();

  // The proposer cannot confirm it; a second admin does.
  // The proposer is not offered the second approval, and is told why.
  await expect(page.getByTestId("status-panel").getByTestId("status-approved")).toHaveCount(0);
  await expect(page.getByTestId("status-panel").getByTestId("status-unavailable")).toContainText("You gave the first approval");
  await addUser(page, server, { email: "checker@example.com", name: "Chandra Checker", role: "admin", password: "teal umbrella ridge 42" });
  const other = await browser.newContext();
  const checker = await other.newPage();
  await signIn(checker, server, "checker@example.com", "teal umbrella ridge 42");
  await checker.goto(loanURL);
  await checker.getByTestId("status-panel").getByTestId("status-approved").click();
  await expect(checker.getByTestId("loan-status")).toHaveText("Approved");
  await other.close();

  // The queue page shows the work done.
  await page.goto(server.url + "/admin/queue");
  await expect(page.getByTestId("queue-stats")).toContainText("document:uploaded");
  await expect(page.getByTestId("queue-workers")).not.toHaveText("0");
  expect(problems).toEqual([]);
});

test("a document is replaced and deleted with a reason; both files stay for audit and the history says who, what and why; the refresh never drops an open form", async ({ page, server, problems }) => {
  await signIn(page, server);
  await page.goto(server.url + "/loans?status=submitted");
  await page.getByTestId("loan-row").first().getByRole("link").click();
  const docs = page.getByTestId("documents-panel");
  await docs.getByLabel("Kind", { exact: true }).selectOption("income");
  await docs.getByLabel("File").setInputFiles(path.join(fixtures, "salary-slip.pdf"));
  await docs.getByTestId("upload").click();
  await expect(docs.getByTestId("document")).toHaveCount(1);
  const first = docs.getByTestId("document").first();

  // While it is read the panel refreshes itself every 2 s, but never
  // drops an open form: a round with the Delete form unfolded is skipped
  // (its request cancelled), and the refresh resumes once the form is
  // folded again.
  await first.getByTestId("document-delete").locator("summary").click(); // within the first 2 s: the panel still polls
  const nextRound = (untilSent: boolean) =>
    page.evaluate(
      (untilSent) =>
        new Promise<string>((resolve) => {
          setTimeout(() => resolve("no round in 6 s"), 6000);
          // Capturing on window: seen before the page's own script skips it.
          window.addEventListener(
            "htmx:beforeRequest",
            (e) => {
              if ((e as CustomEvent).detail.elt.id !== "documents-panel") return;
              // Once every listener had it: was it cancelled?
              setTimeout(() => (e.defaultPrevented && untilSent ? null : resolve(e.defaultPrevented ? "skipped" : "sent")), 0);
            },
            true,
          );
        }),
      untilSent,
    );
  const round = nextRound(false);
  await first.getByLabel("Why is salary-slip.pdf deleted?").fill("Typed while it was read");
  expect(await round).toBe("skipped");
  await expect(first.getByTestId("document-delete")).toHaveAttribute("open", "");
  await expect(first.getByLabel("Why is salary-slip.pdf deleted?")).toHaveValue("Typed while it was read");
  await expect(first.getByLabel("Why is salary-slip.pdf deleted?")).toBeFocused();
  const resumed = nextRound(true);
  await first.getByTestId("document-delete").locator("summary").click();
  expect(await resumed).toBe("sent");

  // Replace it: the old one is listed as replaced, the new one is read.
  // It asks why, and offers the document's own kind first.
  await first.getByTestId("document-replace").locator("summary").click();
  await expect(first.getByLabel("Kind of the replacement")).toHaveValue("income");
  await first.getByLabel("Replacement for salary-slip.pdf").setInputFiles(path.join(fixtures, "pan-card.png"));
  await first.getByTestId("document-replace-submit").click();
  await expect(first.getByLabel("Why is salary-slip.pdf replaced?")).toBeFocused(); // the browser asks first
  await first.getByLabel("Why is salary-slip.pdf replaced?").fill("The applicant's PAN was filed as a slip");
  await first.getByLabel("Kind of the replacement").selectOption("pan");
  await first.getByTestId("document-replace-submit").click();
  await expect(docs.getByTestId("document-notice")).toHaveText("Replaced salary-slip.pdf with pan-card.png. The old file is kept for audit.");
  await expect(docs.getByTestId("document")).toHaveCount(2);
  await expect(docs.getByTestId("document").first().getByTestId("document-deleted")).toContainText(
    "Replaced with pan-card.png by Administrator",
  );
  await expect(docs.getByTestId("document").first().getByTestId("document-deleted")).toContainText("Reason: The applicant's PAN was filed as a slip");
  await expect(docs.getByTestId("document").nth(1)).toContainText("PAN card");
  await expect(docs.getByTestId("document").first().getByTestId("document-open")).toHaveAttribute("href", /\/documents\/[0-9a-f]{24}$/);

  // Delete the new one: a reason is required (the browser asks first).
  const second = docs.getByTestId("document").nth(1);
  await second.getByTestId("document-delete").locator("summary").click();
  await second.getByTestId("document-delete-submit").click();
  await expect(second.getByLabel("Why is pan-card.png deleted?")).toBeFocused();
  await second.getByLabel("Why is pan-card.png deleted?").fill("Belongs to another applicant");
  await second.getByTestId("document-delete-submit").click();
  await expect(docs.getByTestId("document-notice")).toHaveText("Deleted pan-card.png. It is kept for audit.");
  await expect(docs.getByTestId("document").nth(1).getByTestId("document-status")).toHaveText("Deleted");
  await expect(docs.getByTestId("document").nth(1).getByTestId("document-deleted")).toContainText("Reason: Belongs to another applicant");
  await expect(docs.getByTestId("document-delete")).toHaveCount(0); // nothing left to delete

  const history = page.getByTestId("history");
  await expect(history).toContainText("Deleted pan-card.png (kept for audit). Reason: Belongs to another applicant");
  await expect(history).toContainText("Replaced salary-slip.pdf with pan-card.png (the old file is kept for audit). Reason: The applicant's PAN was filed as a slip");
  await expect(history).toContainText("Uploaded salary-slip.pdf (Salary slip or ITR)");
  expect(problems).toEqual([]);
});
