import { test, expect, signIn } from "./fixtures";

test("two admins edit one application: the second gets the conflict prompt and applies on top", async ({
  page,
  browser,
  server,
  problems,
}) => {
  // Admin A in the test's page, admin B in a second browser context.
  const contextB = await browser.newContext();
  const pageB = await contextB.newPage();
  const problemsB: string[] = [];
  pageB.on("pageerror", (e) => problemsB.push(e.message));
  pageB.on("console", (m) => {
    if (m.type() === "error" && !/status of 409\b/.test(m.text())) problemsB.push(m.text());
  });

  await signIn(page, server);
  await page.goto(server.url + "/loans?status=under_review"); // an application that can be edited
  await page.getByTestId("loan-row").first().getByRole("link").click();
  await expect(page).toHaveURL(/\/loans\/LN-\d{4}-\d{6}$/);
  const loanURL = page.url();
  await signIn(pageB, server);
  await pageB.goto(loanURL);

  // Both open the applicant form at the same version.
  const sectionA = page.getByTestId("section-applicant");
  const sectionB = pageB.getByTestId("section-applicant");
  await sectionA.getByTestId("edit").click();
  await sectionB.getByTestId("edit").click();
  await expect(sectionA.getByTestId("section-form")).toBeVisible();
  await expect(sectionB.getByTestId("section-form")).toBeVisible();

  // A saves first.
  await sectionA.getByLabel("City").fill("Shimla");
  await sectionA.getByTestId("save").click();
  await expect(sectionA.getByTestId("notice")).toContainText("Saved as version");
  await expect(sectionA).toContainText("Shimla");

  // B's save meets the newer version: the prompt is swapped in place.
  await sectionB.getByLabel("Address").fill("7, Mall Road, Shimla 171001");
  await sectionB.getByTestId("save").click();
  const conflict = sectionB.getByTestId("conflict");
  await expect(conflict).toBeVisible();
  await expect(conflict.getByTestId("conflict-theirs")).toContainText("City:");
  await expect(conflict.getByTestId("conflict-theirs")).toContainText("Shimla");
  await expect(conflict.getByTestId("conflict-mine")).toContainText("7, Mall Road, Shimla 171001");

  await conflict.getByTestId("apply-mine").click();
  await expect(sectionB.getByTestId("notice")).toContainText("Saved as version");
  await expect(sectionB.getByTestId("conflict")).toHaveCount(0);

  // Both edits are kept, and the history shows both.
  await page.reload();
  await expect(page.getByTestId("section-applicant")).toContainText("Shimla");
  await expect(page.getByTestId("section-applicant")).toContainText("7, Mall Road, Shimla 171001");
  await expect(page.getByTestId("history-entry")).toHaveCount(2);

  await contextB.close();
  expect(problems).toEqual([]);
  expect(problemsB).toEqual([]);
});

test("a status change asks for a reason and records it", async ({ page, server, problems }) => {
  await signIn(page, server);
  await page.goto(server.url + "/loans?status=under_review");
  await page.getByTestId("loan-row").first().getByRole("link").click();
  const panel = page.getByTestId("status-panel");
  await panel.getByTestId("status-rejected").click();
  await expect(panel.getByTestId("status-error")).toContainText("reason is required");
  await panel.getByLabel(/Reason/).fill("Income could not be verified");
  await panel.getByTestId("status-rejected").click();
  await expect(page.getByTestId("flash")).toContainText("is now Rejected");
  await expect(page.getByTestId("loan-status")).toHaveText("Rejected");
  await expect(page.getByTestId("history")).toContainText("Income could not be verified");
  expect(problems).toEqual([]);
});

test("search, tab, order and pages swap with htmx; back and reload restore each state", async ({ page, server, problems }) => {
  await signIn(page, server);
  await expect(page.getByTestId("loan-row")).toHaveCount(25);
  await expect(page.getByTestId("page-of")).toHaveText("Page 1 of 8"); // 200 demo loans

  // Next page, then a tab: the URL follows, the tab resets the page.
  await page.getByTestId("next-page").click();
  await expect(page).toHaveURL(/\/loans\?page=2$/);
  await expect(page.getByTestId("page-range")).toHaveText("26–50 of 200");
  await page.getByTestId("status-tabs").getByRole("link", { name: /^Submitted/ }).click();
  await expect(page).toHaveURL(/\/loans\?status=submitted$/);
  await expect(page.getByTestId("page-range")).not.toHaveText("26–50 of 200");
  const submittedRange = (await page.getByTestId("page-range").textContent())!;

  // Type a search: results narrow as you type, and the tab is kept.
  const firstName = (await page.getByTestId("loan-row").first().locator("td").nth(1).locator("div").first().textContent())!.split(" ")[0];
  await page.getByLabel("Search").fill(firstName);
  await expect(page).toHaveURL(new RegExp(`q=${firstName}`));
  await expect(page).toHaveURL(/status=submitted/);
  for (const name of await page.getByTestId("loan-row").locator("td:nth-child(2) div:first-child").allTextContents()) {
    expect(name.toLowerCase()).toContain(firstName.toLowerCase());
  }
  for (const badge of await page.getByTestId("loan-row").locator(".badge").allTextContents()) {
    expect(badge).toBe("Submitted");
  }

  // Order by amount: the largest comes first.
  await page.getByLabel("Order").selectOption("amount_desc");
  await expect(page).toHaveURL(/sort=amount_desc/);
  const amounts = (await page.getByTestId("loan-row").locator("td:nth-child(4)").allTextContents()).map((a) => Number(a.replace(/[₹,]/g, "")));
  expect(amounts).toEqual([...amounts].sort((x, y) => y - x));

  // Back walks the states in reverse; reload keeps the current one.
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`q=${firstName}`));
  await expect(page).not.toHaveURL(/sort=/);
  await page.reload();
  await expect(page.getByLabel("Search")).toHaveValue(firstName);
  // Each Back reloads its page (no htmx history cache): wait for it, as a
  // person would, before the next Back, or the pending reload lands last.
  await page.goBack();
  await expect(page).toHaveURL(/\/loans\?status=submitted$/);
  await expect(page.getByTestId("page-range")).toHaveText(submittedRange);
  await page.waitForLoadState();
  await page.goBack();
  await expect(page).toHaveURL(/\/loans\?page=2$/);
  await expect(page.getByTestId("page-range")).toHaveText("26–50 of 200");
  expect(problems).toEqual([]);
});

test("the list works without JavaScript", async ({ browser, server }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, server);
  await page.getByTestId("next-page").click();
  await expect(page).toHaveURL(/page=2/);
  const id = (await page.getByTestId("loan-row").first().getByRole("link").textContent())!;
  await page.getByLabel("Search").fill(id);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/q=LN/);
  await expect(page.getByTestId("loan-row")).toHaveCount(1);
  await page.getByTestId("loan-row").first().getByRole("link").click();
  await page.getByTestId("section-terms").getByTestId("edit").click();
  await page.getByLabel("Purpose").fill("Purchase without scripts");
  await page.getByTestId("save").click();
  await expect(page.getByTestId("flash")).toContainText("Saved as version");
  await expect(page.getByTestId("section-terms")).toContainText("Purchase without scripts");
  await context.close();
});
