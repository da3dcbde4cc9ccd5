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

test("keyboard: / searches, j and k move between rows, Enter opens, ? lists the shortcuts; typing in a field is never taken", async ({ page, server, problems }) => {
  await signIn(page, server);
  await expect(page.getByTestId("loan-row")).toHaveCount(25);
  const ids = (await page.getByTestId("loan-row").locator('td[data-label="Application"] a').allTextContents()).map((s) => s.trim());
  const link = (i: number) => page.getByRole("link", { name: ids[i], exact: true });

  // ? opens the help as a modal dialog; Escape closes it.
  await page.keyboard.press("?");
  const help = page.getByRole("dialog", { name: "Keyboard shortcuts" });
  await expect(help).toBeVisible();
  for (const key of ["/", "j", "k", "Enter", "?", "Esc"]) await expect(help.locator("kbd", { hasText: new RegExp(`^${key.replace("?", "\\?")}$`) })).toHaveCount(1);
  // It says which keys are the list's (on a loan page they do nothing).
  await expect(help.getByRole("heading", { name: "On the applications list" })).toBeVisible();
  await expect(help.getByRole("heading", { name: "On every page" })).toBeVisible();
  await page.keyboard.press("j"); // the dialog has the keyboard
  await expect(link(0)).not.toBeFocused();
  await page.keyboard.press("Escape");
  await expect(help).toBeHidden();
  // The footer's button opens it too.
  await page.getByTestId("shortcuts-button").click();
  await expect(help).toBeVisible();
  await help.getByTestId("shortcuts-close").click();
  await expect(help).toBeHidden();

  // j and k: the row's link takes the focus; k stops at the first row.
  await page.keyboard.press("j");
  await expect(link(0)).toBeFocused();
  await page.keyboard.press("j");
  await page.keyboard.press("j");
  await expect(link(2)).toBeFocused();
  await page.keyboard.press("k");
  await expect(link(1)).toBeFocused();

  // / goes to the search; there j and / are typed, not taken.
  // Each list htmx puts in place is noted, by the URL it asked for.
  await page.evaluate(() => {
    const w = window as unknown as { settled: string[] };
    w.settled = [];
    document.body.addEventListener("htmx:afterSettle", (e) => w.settled.push((e as CustomEvent).detail.xhr?.responseURL ?? ""));
  });
  await page.keyboard.press("/");
  await expect(page.locator("#loan-search")).toBeFocused();
  await page.keyboard.type("j/");
  await expect(page.locator("#loan-search")).toHaveValue("j/");
  await page.locator("#loan-search").fill("");
  await page.locator("#loan-search").blur();
  // The cleared search asks again (300 ms after the typing stops): its
  // list is in place before the rows are ticked, or a slow answer (a
  // loaded machine) replaces the ticked list.
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { settled: string[] }).settled.some((u) => /[?&]q=(&|$)/.test(u))))
    .toBe(true);

  // Select all on this page ticks every row in place; again, clears them.
  await page.getByTestId("select-all").click();
  await expect(page.getByTestId("row-select").and(page.locator(":checked"))).toHaveCount(25);
  await expect(page.getByTestId("select-all")).toHaveText("Clear the selection");
  await page.getByTestId("select-all").click();
  await expect(page.getByTestId("row-select").and(page.locator(":checked"))).toHaveCount(0);
  await expect(page).not.toHaveURL(/select=all/);

  // Enter opens the row moved to.
  await page.keyboard.press("j");
  await page.keyboard.press("j");
  await expect(link(1)).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("loan-id")).toHaveText(ids[1]);
  expect(problems).toEqual([]);
});
