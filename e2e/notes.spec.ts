import { test, expect, signIn } from "./fixtures";

test("a note is added in place, newest first, with who and when; an edit open meanwhile still saves", async ({ page, server, problems }) => {
  await signIn(page, server);
  await page.goto(server.url + "/loans?status=under_review");
  await page.getByTestId("loan-row").first().getByRole("link").click();
  const panel = page.getByTestId("notes-panel");
  await expect(panel.getByTestId("no-notes")).toBeVisible();

  // An edit is open (at the version loaded) while notes are added.
  const section = page.getByTestId("section-applicant");
  await section.getByTestId("edit").click();
  await section.getByLabel("City").fill("Shimla");

  await panel.getByLabel("Add a note").fill("Called the employer <b>HR</b>; salary confirmed.");
  await panel.getByTestId("add-note").click();
  await expect(panel.getByTestId("note-notice")).toHaveText("Note added.");
  await panel.getByLabel("Add a note").fill("Second note");
  await panel.getByTestId("add-note").click();
  await expect(panel.getByTestId("note")).toHaveCount(2);
  await expect(panel.getByTestId("note-text").first()).toHaveText("Second note");
  await expect(panel.getByTestId("note-text").nth(1)).toHaveText("Called the employer <b>HR</b>; salary confirmed."); // shown as typed, not as markup
  await expect(panel.getByTestId("note-by").first()).toHaveText("Administrator"); // by name, the e-mail its tooltip
  await expect(panel.getByTestId("note-by").first().getByTestId("person")).toHaveAttribute("title", "admin@example.com");
  await expect(panel.getByTestId("note").first()).toContainText(/\d\d [A-Z][a-z]{2} \d{4}, \d\d:\d\d IST/);
  await expect(panel.getByLabel("Add a note")).toHaveValue("");

  // The open edit kept its typing and saves without a conflict.
  await expect(section.getByLabel("City")).toHaveValue("Shimla");
  await section.getByTestId("save").click();
  await expect(section.getByTestId("notice")).toContainText("Saved as version");

  // An empty note is refused beside the box.
  await panel.getByLabel("Add a note").fill("   ");
  await panel.getByTestId("add-note").click();
  await expect(panel.getByTestId("note-error")).toHaveText("Write the note first.");
  await expect(panel.getByTestId("note")).toHaveCount(2);
  expect(problems).toEqual([]);
});

test("notes work without JavaScript", async ({ browser, server }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, server);
  await page.getByTestId("loan-row").first().getByRole("link").click();
  await page.getByLabel("Add a note").fill("Added without scripts");
  await page.getByTestId("add-note").click();
  await expect(page.getByTestId("flash")).toContainText("Note added.");
  await expect(page.getByTestId("note-text").first()).toHaveText("Added without scripts");
  await context.close();
});
