import { test, expect, signIn } from "./fixtures";

test("bulk assign and hold without JavaScript: ticked rows are assigned or held with a reason, a row changed meanwhile or in a status the workflow cannot hold is reported and left as it is", async ({ browser, server }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, server);
  await page.goto(server.url + "/loans?status=submitted&sort=oldest");
  const rows = page.getByTestId("loan-row");
  const first = (await rows.nth(0).getByRole("link").textContent())!.trim();
  const second = (await rows.nth(1).getByRole("link").textContent())!.trim();
  await rows.nth(0).getByTestId("row-select").check();
  await rows.nth(1).getByTestId("row-select").check();

  // Someone assigns the second application while the list is open.
  const other = await browser.newContext({ javaScriptEnabled: false });
  const otherPage = await other.newPage();
  await signIn(otherPage, server);
  await otherPage.goto(`${server.url}/loans/${second}`);
  await otherPage.getByTestId("assign-panel").getByLabel("Assign to").selectOption("admin@example.com");
  await otherPage.getByTestId("assign").click();
  await expect(otherPage.getByTestId("flash")).toContainText("is now assigned to Administrator.");
  await other.close();

  await page.getByLabel("Assign the ticked applications to").selectOption("admin@example.com");
  await page.getByTestId("bulk-assign").click();
  await expect(page.getByTestId("bulk-summary")).toHaveText(/1 done\s+· 1 left as they were/);
  const results = page.getByTestId("bulk-result");
  await expect(results.filter({ hasText: first })).toHaveAttribute("data-outcome", "assigned");
  await expect(results.filter({ hasText: second })).toHaveAttribute("data-outcome", "conflict");
  await expect(results.filter({ hasText: second })).toContainText("changed Assignee to Administrator");

  // Back to the list as it was; both are now the admin's.
  await page.getByTestId("bulk-back").click();
  await expect(page).toHaveURL(/\/loans\?sort=oldest&status=submitted$/);
  await page.goto(server.url + "/loans?assignee=me&status=submitted");
  await expect(page.getByTestId("loan-row").filter({ hasText: first })).toHaveCount(1);
  await expect(page.getByTestId("loan-row").filter({ hasText: second })).toHaveCount(1);

  // Select all on this page: without JavaScript, the page again with every row ticked.
  await page.goto(server.url + "/loans?status=submitted&sort=oldest");
  await page.getByTestId("select-all").click();
  await expect(page).toHaveURL(/select=all/);
  const n = await page.getByTestId("loan-row").count();
  expect(n).toBeGreaterThan(2);
  await expect(page.getByTestId("row-select").and(page.locator(":checked"))).toHaveCount(n);

  // Put on hold with one reason: an application under review is held with
  // the reason in its history; a submitted one (the workflow holds only
  // those under review) is reported by name and left as it is.
  await page.goto(server.url + "/loans?sort=oldest");
  const review = rows.filter({ has: page.locator(".badge-under_review") }).first();
  const submitted = rows.filter({ has: page.locator(".badge-submitted") }).first();
  const heldID = (await review.getByRole("link").first().textContent())!.trim();
  const keptID = (await submitted.getByRole("link").first().textContent())!.trim();
  await review.getByTestId("row-select").check();
  await submitted.getByTestId("row-select").check();
  await page.getByTestId("bulk-hold").locator("summary").click();
  // A reason of one long word (a pasted reference) wraps: no page grows
  // wider than the window.
  const longWord = "x".repeat(450);
  await page.getByLabel("Why are they put on hold?").fill("Waiting for salary slips " + longWord);
  // Enter in the reason holds (the form's default button), as the visible
  // button does: it once sent the form to bulk-assign.
  await page.getByLabel("Why are they put on hold?").press("Enter");
  await expect(page.getByTestId("bulk-summary")).toHaveText(/1 done\s+· 1 left as they were/);
  await expect(page.getByTestId("bulk-reason")).toContainText("Waiting for salary slips");
  const noSidewaysScroll = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  expect(await noSidewaysScroll()).toBe(true);
  await expect(results.filter({ hasText: heldID })).toHaveAttribute("data-outcome", "held");
  await expect(results.filter({ hasText: keptID })).toHaveAttribute("data-outcome", "refused");
  await expect(results.filter({ hasText: keptID })).toContainText('An application that is "Submitted" cannot be moved to "On hold".');
  await results.filter({ hasText: heldID }).getByRole("link").click();
  await expect(page.getByTestId("loan-status")).toHaveText("On hold");
  await expect(page.getByTestId("history").getByTestId("history-entry").first()).toContainText("Reason: Waiting for salary slips");
  expect(await noSidewaysScroll()).toBe(true);
  await page.goto(`${server.url}/loans/${keptID}`);
  await expect(page.getByTestId("loan-status")).toHaveText("Submitted");
  await context.close();
});
