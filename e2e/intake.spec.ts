import { test, expect, signIn } from "./fixtures";

test("a new application is filed through the form, validated inline, and appears at the top of the list", async ({ page, server, problems }) => {
  await signIn(page, server);
  await page.getByTestId("new-application").click();
  await expect(page).toHaveURL(/\/loans\/new$/);
  const form = page.getByTestId("new-loan-form");
  const fill = async (label: RegExp, value: string) => form.getByLabel(label).fill(value);
  await fill(/^Applicant name/, "Meera Krishnan");
  await fill(/^Email/, "meera.k@example.com");
  await fill(/^Phone/, "98450 12345");
  await fill(/^PAN/, "ABCCK4321M"); // a company's PAN: refused for a personal loan
  await fill(/^Date of birth/, "1991-07-14");
  await fill(/^Address/, "22, Residency Road, Bengaluru 560025");
  await fill(/^City/, "Bengaluru");
  await fill(/^Monthly income/, "1,10,000");
  await fill(/^Amount/, "4,00,000");
  await fill(/^Tenure/, "48");
  await fill(/^Annual rate/, "11.25");
  await fill(/^Purpose/, "Home renovation");
  await form.getByTestId("file-application").click();

  // Refused in place (htmx swaps the 422), the message beside the field,
  // everything typed kept.
  await expect(page.getByTestId("error-pan")).toContainText("fourth letter must be P");
  await expect(page.getByTestId("new-loan-form").getByLabel(/^City/)).toHaveValue("Bengaluru");
  await page.getByTestId("new-loan-form").getByLabel(/^PAN/).fill("ABCPK4321M");
  await page.getByTestId("new-loan-form").getByTestId("file-application").click();

  await expect(page).toHaveURL(/\/loans\/LN-\d{4}-\d{6}$/);
  const id = (await page.getByTestId("loan-id").textContent())!.trim();
  await expect(page.getByTestId("flash")).toContainText(`Filed ${id}`);
  await expect(page.getByTestId("loan-status")).toHaveText("Submitted");
  await expect(page.getByTestId("loan-emi")).toHaveText("₹10,386.84");

  // Changing the terms in place refreshes the instalment without a reload.
  const terms = page.getByTestId("section-terms");
  await terms.getByTestId("edit").click();
  await terms.getByLabel(/^Amount/).fill("5,00,000");
  await terms.getByLabel(/^Tenure/).fill("60");
  await terms.getByLabel(/^Annual rate/).fill("10.50");
  await terms.getByTestId("save").click();
  await expect(page.getByTestId("section-terms").getByTestId("notice")).toContainText("Saved as version 2");
  await expect(page.getByTestId("loan-emi")).toHaveText("₹10,746.95");

  await page.goto(server.url + "/loans");
  const first = page.getByTestId("loan-row").first();
  await expect(first).toContainText(id);
  await expect(first).toContainText("Meera Krishnan");
  expect(problems).toEqual([]);
});
