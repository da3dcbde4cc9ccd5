import { execFileSync } from "node:child_process";
import path from "node:path";

// Build the server once; every test starts its own copy of this binary.
export const binary = path.join(__dirname, ".tmp", "loandesk");
// Documents with known text for the upload tests (ocr/ocrtest).
export const fixtures = path.join(__dirname, ".tmp", "fixtures");

export default function globalSetup() {
  const root = path.join(__dirname, "..");
  execFileSync("go", ["build", "-o", binary, "."], { cwd: root, stdio: "inherit" });
  execFileSync("go", ["run", "./ocr/ocrtest/makefixtures", fixtures], { cwd: root, stdio: "inherit" });
}
