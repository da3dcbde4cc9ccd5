import { Page } from "@playwright/test";
import { test, expect, signIn } from "./fixtures";

async function openFirst(page: Page, base: string, status: string) {
  await page.goto(`${base}/loans?status=${status}`);
  await page.getByTestId("loan-row").first().getByRole("link").first().click();
  await expect(page).toHaveURL(/\/loans\/LN-\d{4}-\d{6}$/);
}

test("an open, changed form is never dropped without asking: a status move, leaving the page, Escape", async ({ page, server, problems }) => {
  await signIn(page, server);
  await openFirst(page, server.url, "on_hold");
  const applicant = page.getByTestId("section-applicant");
  await applicant.getByTestId("edit").click();
  const address = applicant.getByLabel("Address");
  await address.fill("12, Residency Road, Bengaluru 560025");

  // "Resume review" reloads the page: it asks, and No keeps everything.
  const asked: string[] = [];
  page.once("dialog", (d) => {
    asked.push(d.message());
    void d.dismiss();
  });
  await page.getByTestId("status-panel").getByTestId("status-under_review").click();
  await expect.poll(() => asked.length).toBe(1);
  expect(asked[0]).toContain("Applicant");
  await expect(address).toHaveValue("12, Residency Road, Bengaluru 560025");
  await expect(page.getByTestId("loan-status")).toHaveText("On hold");

  // Leaving by a link asks (the browser's own "leave site?"); staying keeps it.
  page.once("dialog", (d) => {
    asked.push(d.type());
    void d.dismiss();
  });
  await page.getByRole("link", { name: "← Applications" }).click();
  await expect.poll(() => asked.length).toBe(2);
  expect(asked[1]).toBe("beforeunload");
  await expect(page).toHaveURL(/\/loans\/LN-/);
  await expect(address).toHaveValue("12, Residency Road, Bengaluru 560025");

  // Escape asks too; No keeps the form, Yes closes it.
  page.once("dialog", (d) => {
    asked.push(d.message());
    void d.dismiss();
  });
  await address.press("Escape");
  await expect.poll(() => asked.length).toBe(3);
  await expect(address).toHaveValue("12, Residency Road, Bengaluru 560025");
  page.once("dialog", (d) => void d.accept());
  await address.press("Escape");
  await expect(applicant.getByTestId("section-form")).toHaveCount(0);
  await expect(applicant.getByTestId("section-heading")).toBeFocused();

  // Agreeing to the status move goes on: nothing was saved of the edit.
  await applicant.getByTestId("edit").click();
  await applicant.getByLabel("Address").fill("Typed, then given up");
  page.once("dialog", (d) => void d.accept());
  await page.getByTestId("status-panel").getByTestId("status-under_review").click();
  await expect(page.getByTestId("loan-status")).toHaveText("Under review");
  await expect(page.getByTestId("section-applicant")).not.toContainText("Typed, then given up");
  expect(problems).toEqual([]);
});

test("focus: Edit to the first field, a refusal to the first error, Save and Escape to the heading; a skip link", async ({ page, server, problems }) => {
  await signIn(page, server);
  await openFirst(page, server.url, "under_review");

  // The skip link is the first stop and lands on the content.
  await page.keyboard.press("Tab");
  await expect(page.getByTestId("skip-link")).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.locator("#main")).toBeFocused();

  const applicant = page.getByTestId("section-applicant");
  await applicant.getByTestId("edit").click();
  await expect(applicant.getByLabel("Applicant name")).toBeFocused();

  await applicant.getByLabel("City").fill("");
  await applicant.getByLabel("Applicant name").fill("Asha Iyer");
  await applicant.getByTestId("save").click();
  await expect(applicant.getByTestId("error-city")).toBeVisible();
  await expect(applicant.getByLabel("City")).toBeFocused();

  await page.keyboard.type("Mysuru");
  await page.keyboard.press("Enter"); // submits the form from the keyboard
  await expect(applicant.getByTestId("notice")).toContainText("Saved as version");
  await expect(applicant.getByTestId("section-heading")).toBeFocused();

  // Escape on an unchanged form cancels without asking.
  await applicant.getByTestId("edit").click();
  await expect(applicant.getByLabel("Applicant name")).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(applicant.getByTestId("section-form")).toHaveCount(0);
  await expect(applicant.getByTestId("section-heading")).toBeFocused();
  await expect(applicant).toContainText("Mysuru");
  expect(problems).toEqual([]);
});

test("without JavaScript the edit page opens with its first field focused", async ({ browser, server }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, server);
  await openFirst(page, server.url, "under_review");
  await page.getByTestId("section-terms").getByTestId("edit").click();
  await expect(page.getByTestId("section-terms").getByLabel("Product")).toBeFocused();
  await context.close();
});

test("focus lands where the work is after a refused upload, a note added, a refused status move, an assignment, a status move and a refused filter (never on the page's body)", async ({ page, server, problems }) => {
  await signIn(page, server);
  await openFirst(page, server.url, "under_review");
  const focused = () => page.evaluate(() => {
    const el = document.activeElement!;
    return el === document.body ? "BODY" : (el.getAttribute("data-testid") || el.id || el.tagName);
  });
  // A refused upload: the file to choose again.
  const docs = page.getByTestId("documents-panel");
  await docs.getByLabel("Kind", { exact: true }).selectOption("income");
  await docs.getByLabel("File").setInputFiles({ name: "torn.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.4\n{garbage") });
  await docs.getByTestId("upload").click();
  await expect(docs.getByTestId("upload-error")).toBeVisible();
  await expect.poll(focused).toBe("document-file");
  await expect(docs.getByLabel("Kind", { exact: true })).toHaveValue("income");
  // A note added: the notes' heading.
  await page.getByTestId("notes-panel").getByLabel("Add a note").fill("Focus check");
  await page.getByTestId("add-note").click();
  await expect(page.getByTestId("note-notice")).toBeVisible();
  await expect.poll(focused).toBe("notes-heading");
  // A refused status move (Reject without a reason): its message.
  await page.getByTestId("status-panel").getByTestId("status-rejected").click();
  await expect(page.getByTestId("status-error")).toBeVisible();
  await expect.poll(focused).toBe("status-error");
  // An assignment and a status move reload the page: what was done.
  await page.getByTestId("assign-panel").getByRole("combobox").selectOption({ index: 1 });
  await page.getByTestId("assign").click();
  await expect(page.getByTestId("flash")).toBeVisible();
  await expect.poll(focused).toBe("flash");
  await page.getByTestId("status-panel").getByLabel("Reason").fill("Waiting for slips");
  await page.getByTestId("status-on_hold").click();
  await expect(page.getByTestId("loan-status")).toHaveText("On hold");
  await expect.poll(focused).toBe("flash");
  // A refused filter: the field in error.
  await page.goto(server.url + "/loans?min=abc");
  await expect.poll(focused).toBe("loan-min");
  expect(problems).toEqual([]);
});
