import { test, expect, signIn, changePassword, admin } from "./fixtures";

test("signs in through the UI, sees the loans, signs out", async ({ page, server, problems }) => {
  await signIn(page, server);
  await expect(page).toHaveURL(/\/loans$/);
  await expect(page.getByTestId("signed-in-user")).toContainText(admin.email);
  await expect(page.getByTestId("loan-row")).toHaveCount(25); // the demo set
  await expect(page.getByTestId("loan-total")).toHaveText("200 applications in all statuses");

  await page.getByTestId("logout").click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByTestId("flash")).toHaveText("You have been signed out.");

  // Back must not show the signed-in page again (no-store, no htmx cache).
  await page.goBack();
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByTestId("loan-table")).toHaveCount(0);
  const stored = await page.evaluate(() => JSON.stringify(localStorage));
  expect(stored).toBe("{}");
  expect(problems).toEqual([]);
});

test("a wrong password shows one message and no session", async ({ page, server, problems }) => {
  await signIn(page, server, admin.email, "not the password");
  await expect(page.getByTestId("login-error")).toHaveText("Incorrect email or password.");
  await page.goto(server.url + "/loans");
  await expect(page).toHaveURL(/\/login\?next=%2Floans$/);
  expect(problems).toEqual([]);
});

test("stays signed in across a server restart", async ({ page, server, problems }) => {
  await signIn(page, server);
  await expect(page).toHaveURL(/\/loans$/);
  await server.restart();
  await page.reload();
  await expect(page).toHaveURL(/\/loans$/);
  await expect(page.getByTestId("signed-in-user")).toContainText(admin.email);
  expect(problems).toEqual([]);
});

test("status tabs swap with htmx and the back button restores the list", async ({ page, server, problems }) => {
  await signIn(page, server);
  const tabs = page.getByTestId("status-tabs");
  await tabs.getByRole("link", { name: /^Approved/ }).click();
  await expect(page).toHaveURL(/\/loans\?status=approved$/);
  await expect(tabs.locator('[aria-current="page"]')).toContainText("Approved");
  for (const badge of await page.getByTestId("loan-row").locator(".badge").allTextContents()) {
    expect(badge).toBe("Approved");
  }
  await page.goBack();
  await expect(page).toHaveURL(/\/loans$/);
  await expect(page.getByTestId("status-tabs").locator('[aria-current="page"]')).toContainText("All");
  await expect(page.getByTestId("loan-row")).toHaveCount(25);
  expect(problems).toEqual([]);
});

test("a cross-origin POST is refused", async ({ page, server }) => {
  const res = await page.request.post(server.url + "/login", {
    headers: { Origin: "http://evil.example" },
    form: { email: admin.email, password: admin.password },
  });
  expect(res.status()).toBe(403);
});

test("an admin adds a user who can then sign in with their role", async ({ browser, page, server, problems }) => {
  await signIn(page, server);
  await page.getByRole("link", { name: "Users" }).click();
  const form = page.getByTestId("user-form");
  await form.getByLabel("Email").fill("viewer@example.com");
  await form.getByLabel("Name").fill("Vera Viewer");
  await form.getByLabel("Role").selectOption("viewer");
  await form.getByLabel(/^Password/).fill("short");
  await form.getByRole("button", { name: "Add user" }).click();
  // 422 swapped in place by htmx, with the message next to the field.
  await expect(page.getByTestId("field-error")).toContainText("at least 12");
  await page.getByTestId("user-form").getByLabel(/^Password/).fill("violet canyon drums 37");
  await page.getByTestId("user-form").getByRole("button", { name: "Add user" }).click();
  await expect(page.getByTestId("flash")).toContainText("Added viewer@example.com as viewer.");
  await expect(page.getByTestId("user-table")).toContainText("Vera Viewer");

  const other = await browser.newContext();
  const viewer = await other.newPage();
  await signIn(viewer, server, "viewer@example.com", "violet canyon drums 37");
  // The password the admin typed is changed before anything else.
  await expect(viewer).toHaveURL(/\/account\/password$/);
  await changePassword(viewer, "violet canyon drums 37", "saffron kettle orbit 58");
  await expect(viewer.getByTestId("signed-in-user")).toContainText("viewer");
  await expect(viewer.getByRole("link", { name: "Users" })).toHaveCount(0);
  const res = await viewer.goto(server.url + "/admin/users");
  expect(res!.status()).toBe(403);
  await other.close();
  expect(problems).toEqual([]);
});
