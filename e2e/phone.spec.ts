import { Page } from "@playwright/test";
import { test, expect, signIn, sidewaysOverflow } from "./fixtures";

test.use({ viewport: { width: 390, height: 844 } });

test("at 390 px no page scrolls sideways or cuts anything off (every kind of page: list, filters, detail, edit, schedules, admin, account, error, sign-in); the list and the users table stack", async ({ page, server, problems }) => {
  await signIn(page, server);
  await expect(page.getByTestId("loan-row").first()).toBeVisible();

  // The list: every row a card with its amount whole inside the window.
  const amount = page.getByTestId("loan-row").first().getByTestId("loan-amount");
  await expect(amount).toBeVisible();
  const box = (await amount.boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(390);
  await expect(amount).toHaveText(/^₹[\d,]+(\.\d\d)?$/);
  // Every column is there, inside the window.
  for (const cell of await page.getByTestId("loan-row").first().locator("td").all()) {
    await expect(cell).toBeVisible();
    const b = (await cell.boundingBox())!;
    expect(b.x + b.width).toBeLessThanOrEqual(390);
  }

  const underReview = await firstLoan(page, server.url, "under_review");
  const disbursed = await firstLoan(page, server.url, "disbursed");
  const pages = [
    "/loans",
    "/loans?status=under_review&page=2",
    `/loans/${underReview}`,
    `/loans/${underReview}/applicant/edit`,
    `/loans/${disbursed}`,
    "/loans/new",
    `/loans/${underReview}/schedule`,
    `/loans/${disbursed}/schedule`,
    `/loans/${underReview}/kfs`,
    `/loans/${disbursed}/ledger`,
    "/admin/users",
    "/admin/queue",
    "/admin/ledger",
    "/admin/locks",
    "/admin/queue/stats",
    "/admin/audit",
    await firstUser(page, server.url),
    "/account/password",
    "/account/two-factor",
    "/account/sessions",
    // The work queue with every filter, and an edit of the terms.
    "/loans?city=pune&score=none&days=7&product=personal&min=1,00,000&from=2026-01-01&size=50",
    `/loans/${underReview}/terms/edit`,
    // An error page.
    "/loans/LN-2000-999999",
  ];
  for (const path of pages) {
    await page.goto(server.url + path);
    await expect(page.locator("main")).toBeVisible();
    expect(await sidewaysOverflow(page), path).toEqual([]);
  }
  // The keyboard help, open.
  await page.goto(server.url + "/loans");
  await page.keyboard.press("?");
  await expect(page.getByTestId("shortcuts-help")).toBeVisible();
  expect(await sidewaysOverflow(page), "the shortcuts help").toEqual([]);
  await page.keyboard.press("Escape");

  // The users table: the role is shown beside each user.
  await page.goto(server.url + "/admin/users");
  const role = page.getByTestId("user-row").first().getByTestId("user-role");
  await expect(role).toBeVisible();
  await expect(role).toHaveText("admin");
  const roleBox = (await role.boundingBox())!;
  expect(roleBox.x + roleBox.width).toBeLessThanOrEqual(390);
  // Signed out: the sign-in page.
  await page.getByTestId("logout").click();
  await expect(page).toHaveURL(/\/login/);
  expect(await sidewaysOverflow(page), "/login").toEqual([]);
  expect(problems.filter((p) => !/status of 404/.test(p))).toEqual([]); // the error page above is a 404 on purpose
});

/** The first user's own page on the Users page. */
async function firstUser(page: Page, base: string): Promise<string> {
  await page.goto(`${base}/admin/users`);
  return (await page.getByTestId("user-row").first().getByRole("link").first().getAttribute("href"))!;
}

async function firstLoan(page: Page, base: string, status: string): Promise<string> {
  await page.goto(`${base}/loans?status=${status}`);
  return (await page.getByTestId("loan-row").first().getByRole("link").first().textContent())!.trim();
}

test("at 390 px a loan page starts with its status and assignee, before its sections; at desktop size they stay in the side column", async ({ page, server, problems }) => {
  await signIn(page, server);
  const loan = await firstLoan(page, server.url, "under_review");
  await page.goto(`${server.url}/loans/${loan}`);
  const top = async (id: string) => (await page.getByTestId(id).boundingBox())!.y;
  expect(await top("status-panel")).toBeLessThan(await top("assign-panel"));
  expect(await top("assign-panel")).toBeLessThan(await top("section-applicant"));
  expect(await top("section-applicant")).toBeLessThan(await top("documents-panel"));
  await page.setViewportSize({ width: 1280, height: 900 });
  const left = async (id: string) => (await page.getByTestId(id).boundingBox())!.x;
  expect(await left("status-panel")).toBeGreaterThan(await left("section-applicant"));
  expect(await top("section-applicant")).toBeLessThan(await top("documents-panel"));
  expect(problems).toEqual([]);
});
