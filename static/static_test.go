package static

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// TestVendoredHTMXMatchesRecordedHash keeps static/VERSIONS.md true.
func TestVendoredHTMXMatchesRecordedHash(t *testing.T) {
	t.Parallel()
	b, err := files.ReadFile(HTMX)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	versions, err := os.ReadFile("VERSIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(versions), hex.EncodeToString(sum[:])) {
		t.Fatalf("sha256 of %s (%x) is not the one in VERSIONS.md", HTMX, sum)
	}
	if !strings.Contains(string(b), `version:"2.0.11"`) {
		t.Fatalf("%s does not say it is htmx 2.0.11", HTMX)
	}
}
