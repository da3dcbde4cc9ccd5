import { test, expect, signIn } from "./fixtures";

test("from a filtered list: previous and next walk the list in its order, and ← Applications returns to it with its filters", async ({ page, server, problems }) => {
  await signIn(page, server);
  await page.goto(server.url + "/loans?product=home&sort=amount_desc");
  const ids = (await page.getByTestId("loan-row").locator('td[data-label="Application"] a').allTextContents()).map((s) => s.trim());
  expect(ids.length).toBeGreaterThan(2);
  await page.getByRole("link", { name: ids[0], exact: true }).click();
  await expect(page.getByTestId("loan-id")).toHaveText(ids[0]);
  await expect(page.getByTestId("prev-loan")).toHaveCount(0); // the first of the list

  await page.getByTestId("next-loan").click();
  await expect(page.getByTestId("loan-id")).toHaveText(ids[1]);
  await page.getByTestId("next-loan").click();
  await expect(page.getByTestId("loan-id")).toHaveText(ids[2]);
  await page.getByTestId("prev-loan").click();
  await expect(page.getByTestId("loan-id")).toHaveText(ids[1]);

  await page.getByTestId("back-to-list").click();
  await expect(page).toHaveURL(/\/loans\?product=home&sort=amount_desc$/);
  await expect(page.getByLabel("Product")).toHaveValue("home");
  expect(problems).toEqual([]);
});
