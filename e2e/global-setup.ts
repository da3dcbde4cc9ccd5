import { execFileSync } from "node:child_process";
import path from "node:path";

// Build the server once; every test starts its own copy of this binary.
export const binary = path.join(__dirname, ".tmp", "loandesk");

export default function globalSetup() {
  execFileSync("go", ["build", "-o", binary, "."], {
    cwd: path.join(__dirname, ".."),
    stdio: "inherit",
  });
}
