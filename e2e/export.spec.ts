import fs from "node:fs";
import { test, expect, signIn } from "./fixtures";

/** Splits simple CSV (the export quotes only what needs it). */
function parseCSV(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(cell), (cell = "");
    else if (ch === "\n") row.push(cell), rows.push(row), (row = []), (cell = "");
    else if (ch !== "\r") cell += ch;
  }
  return rows;
}

test("Export as CSV downloads exactly the filtered list, with the filters in the file name", async ({ page, server, problems }) => {
  await signIn(page, server);
  await page.getByLabel("Product").selectOption("home");
  await expect(page).toHaveURL(/product=home/);
  await page.getByLabel("Order").selectOption("amount_desc");
  await expect(page).toHaveURL(/sort=amount_desc/);
  const matching = Number((await page.getByTestId("page-range").textContent())!.split(" of ")[1].replace(/,/g, ""));
  const firstOnPage = (await page.getByTestId("loan-row").first().getByRole("link").textContent())!;

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-csv").click()]);
  expect(download.suggestedFilename()).toMatch(/^loans-home-\d{8}-\d{4}\.csv$/);
  const text = fs.readFileSync((await download.path())!, "utf8");
  expect(text.startsWith("\uFEFF")).toBeTruthy();
  const rows = parseCSV(text.slice(1));
  expect(rows[0].slice(0, 6)).toEqual(["Application", "Status", "Applicant", "City", "Product", "Amount (INR)"]);
  expect(rows.length - 1).toBe(matching);
  expect(rows[1][0]).toBe(firstOnPage); // the list's order
  const amounts = rows.slice(1).map((r) => Number(r[5]));
  expect(amounts).toEqual([...amounts].sort((x, y) => y - x));
  for (const r of rows.slice(1)) {
    expect(r[4]).toBe("Home");
    expect(r[5]).toMatch(/^\d+\.\d\d$/); // rupees with paise
    expect(r[9]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d$/); // IST
  }
  expect(problems).toEqual([]);
});
