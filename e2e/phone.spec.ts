import { Page } from "@playwright/test";
import { test, expect, signIn } from "./fixtures";

test.use({ viewport: { width: 390, height: 844 } });

/** What overflows sideways on the page: the page itself scrolling, or an
 * element that cuts its content off (overflow hidden or clip with content
 * wider than its box). Elements one pixel wide (screen-reader text) are
 * meant to clip. */
async function sidewaysOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const root = document.scrollingElement!;
    if (root.scrollWidth > window.innerWidth) out.push(`the page is ${root.scrollWidth}px wide in a ${window.innerWidth}px window`);
    for (const el of Array.from(document.body.querySelectorAll<HTMLElement>("*"))) {
      const style = getComputedStyle(el);
      if (style.overflowX !== "hidden" && style.overflowX !== "clip") continue;
      if (el.clientWidth <= 1) continue;
      if (el.scrollWidth > el.clientWidth + 1) {
        const id = el.id ? `#${el.id}` : el.dataset.testid ? `[data-testid=${el.dataset.testid}]` : el.className;
        out.push(`${el.tagName.toLowerCase()} ${id} cuts ${el.scrollWidth - el.clientWidth}px off`);
      }
    }
    return out;
  });
}

test("at 390 px no main page scrolls sideways or cuts anything off; the list and the users table stack", async ({ page, server, problems }) => {
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
    "/account/password",
  ];
  for (const path of pages) {
    await page.goto(server.url + path);
    await expect(page.locator("main")).toBeVisible();
    expect(await sidewaysOverflow(page), path).toEqual([]);
  }

  // The users table: the role is shown beside each user.
  await page.goto(server.url + "/admin/users");
  const role = page.getByTestId("user-row").first().getByTestId("user-role");
  await expect(role).toBeVisible();
  await expect(role).toHaveText("admin");
  const roleBox = (await role.boundingBox())!;
  expect(roleBox.x + roleBox.width).toBeLessThanOrEqual(390);
  expect(problems).toEqual([]);
});

async function firstLoan(page: Page, base: string, status: string): Promise<string> {
  await page.goto(`${base}/loans?status=${status}`);
  return (await page.getByTestId("loan-row").first().getByRole("link").first().textContent())!.trim();
}
