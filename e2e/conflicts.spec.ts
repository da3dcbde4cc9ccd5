import { test, expect, signIn, addUser } from "./fixtures";

test("a stale status move, assignment or section save shows who changed what, applies nothing, is done on top only when asked, and the header and history follow", async ({
  page,
  browser,
  server,
  problems,
}) => {
  // The other admin's changes land between two of the page's live polls
  // (live.spec.ts): every poll here answers "unchanged", so the page is
  // stale when the first admin acts, whatever the machine's speed.
  await page.route(/\/live\?v=\d+(&|$)/, (route) => route.fulfill({ status: 204 }));
  await signIn(page, server);
  await addUser(page, server, { email: "chandra@example.com", name: "Chandra Rao", role: "admin", password: "quiet-river-4827-lamp" });
  await page.goto(server.url + "/loans?status=under_review");
  await page.getByTestId("loan-row").first().getByRole("link").first().click();
  const loanURL = page.url();

  const other = await browser.newContext();
  const chandra = await other.newPage();
  await signIn(chandra, server, "chandra@example.com", "quiet-river-4827-lamp");
  await chandra.goto(loanURL);

  // Chandra puts it on hold while the first admin has it open.
  await chandra.getByTestId("status-panel").getByLabel(/Reason/).fill("Waiting for salary slips");
  await chandra.getByTestId("status-on_hold").click();
  await expect(chandra.getByTestId("loan-status")).toHaveText("On hold");

  // The first admin's Reject meets it: who, which status, nothing done.
  const status = page.getByTestId("status-panel");
  await status.getByLabel(/Reason/).fill("Income not verified");
  await status.getByTestId("status-rejected").click();
  const conflict = status.getByTestId("status-conflict");
  await expect(conflict).toBeVisible();
  await expect(conflict.getByTestId("conflict-theirs")).toContainText("Chandra Rao");
  await expect(conflict.getByTestId("conflict-theirs")).toContainText("Status: Under review → On hold");
  await expect(conflict).toContainText("You asked to move it to Rejected.");
  await expect(conflict.getByTestId("status-no-retry")).toBeVisible(); // on hold cannot be rejected
  await expect(status.getByTestId("status-rejected")).toHaveCount(0); // no second blind click
  await expect(conflict).toBeFocused();
  // What the refusal showed to be out of date is refreshed beside it.
  await expect(page.getByTestId("history")).toContainText("Waiting for salary slips");
  await expect(page.getByTestId("loan-updated")).not.toContainText("by seed");
  await conflict.getByTestId("status-latest").click();
  await expect(status.getByTestId("loan-status")).toHaveText("On hold");
  await expect(status.getByTestId("status-under_review")).toBeVisible();

  // Assignments: Chandra takes it; the first admin's stale Assign is
  // shown against it and applied only by "Assign anyway".
  await chandra.reload();
  await chandra.getByTestId("assign-panel").getByLabel("Assign to").selectOption("chandra@example.com");
  await chandra.getByTestId("assign").click();
  await expect(chandra.getByTestId("assignee")).toHaveText("Chandra Rao");

  const assign = page.getByTestId("assign-panel");
  await assign.getByLabel("Assign to").selectOption("admin@example.com");
  await assign.getByTestId("assign").click();
  const ac = assign.getByTestId("assign-conflict");
  await expect(ac.getByTestId("conflict-theirs")).toContainText("Assignee:");
  await expect(ac.getByTestId("conflict-theirs")).toContainText("Chandra Rao");
  await expect(ac).toContainText("You asked to assign it to Administrator.");
  await expect(assign.getByTestId("assign")).toHaveCount(0);
  await ac.getByTestId("assign-retry").click();
  await expect(page.getByTestId("flash")).toContainText("is now assigned to Administrator.");
  await expect(page.getByTestId("assignee")).toHaveText("Administrator");

  // A section conflict: at the prompt, after its "Load latest" (take
  // theirs) and after "Apply my changes on top" (save anyway), the
  // header's "updated … by …" and the history follow without a reload.
  await chandra.reload();
  const mine = page.getByTestId("section-applicant");
  const theirs = chandra.getByTestId("section-applicant");
  // The opened form focuses its first field once htmx settles it; typing
  // before that can land there (a loaded CI run saved "ManaliSuresh
  // Bansal" as the name), so each edit waits for that focus first.
  const openEdit = async (section: typeof mine) => {
    await section.getByTestId("edit").click();
    await expect(section.locator("[autofocus]")).toBeFocused();
  };
  const saveTheirs = async (field: string, value: string) => {
    await openEdit(theirs);
    await theirs.getByLabel(field).fill(value);
    await theirs.getByTestId("save").click();
    await expect(theirs.getByTestId("notice")).toContainText("Saved as version");
  };
  const header = page.getByTestId("loan-updated");
  const newest = page.getByTestId("history-entry").first();
  await openEdit(mine);
  await mine.getByLabel("Address").fill("7, Mall Road, Shimla 171001");
  await saveTheirs("City", "Shimla");
  await mine.getByTestId("save").click();
  const prompt = mine.getByTestId("conflict");
  await expect(prompt).toBeVisible();
  await expect(header).toContainText("by Chandra Rao");
  await expect(newest).toContainText("Chandra Rao");
  await expect(newest).toContainText("City:");
  // Chandra saves again while the prompt is open; "Load latest" shows it
  // in the section, the header and the history.
  await saveTheirs("Phone", "+91 98100 12345");
  page.once("dialog", (d) => d.accept()); // the prompt holds my unsaved change
  await prompt.getByTestId("load-latest").click();
  await expect(mine).toContainText("98100 12345");
  await expect(newest).toContainText("Phone:");
  // Save anyway on top of Chandra's next save: the header and history are mine.
  await openEdit(mine);
  await mine.getByLabel("Address").fill("7, Mall Road, Shimla 171001");
  await saveTheirs("City", "Manali");
  await mine.getByTestId("save").click();
  await expect(newest).toContainText("City:"); // Chandra's Manali, refreshed at the prompt
  await expect(newest).toContainText("Manali");
  await prompt.getByTestId("apply-mine").click();
  await expect(mine.getByTestId("notice")).toContainText("Saved as version");
  await expect(header).toContainText("by Administrator");
  await expect(newest).toContainText("7, Mall Road, Shimla 171001");

  await other.close();
  expect(problems).toEqual([]);
});

test("an underwriter sees why Sanction is not theirs and who does it", async ({ page, browser, server, problems }) => {
  await signIn(page, server);
  await addUser(page, server, { email: "uma@example.com", name: "Uma Underwriter", role: "underwriter", password: "amber-falcon-9931-desk" });
  const ctx = await browser.newContext();
  const uma = await ctx.newPage();
  await signIn(uma, server, "uma@example.com", "amber-falcon-9931-desk");
  await uma.goto(server.url + "/loans?status=approved");
  await uma.getByTestId("loan-row").first().getByRole("link").first().click();
  const unavailable = uma.getByTestId("status-unavailable");
  await expect(unavailable).toContainText("Sanction");
  await expect(unavailable).toContainText("Only an admin sanctions a loan.");
  await expect(uma.getByTestId("status-sanctioned")).toHaveCount(0);
  await ctx.close();
  expect(problems).toEqual([]);
});
