// Command makefixtures writes the documents the browser tests upload:
// go run ./ocr/ocrtest/makefixtures DIR
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"loandesk/ocr/ocrtest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: makefixtures DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	files := map[string][]byte{
		"pan-card.png":    ocrtest.PNG([]string{"INCOME TAX DEPARTMENT", "Name", "ASHA VERMA", "Permanent Account Number", "ABCPV1234K"}),
		"salary-slip.pdf": ocrtest.TextPDF([]string{"SALARY SLIP - OCTOBER 2026", "Name: Asha Verma", "PAN: ABCPV1234K", "Net pay Rs. 85,000"}),
		"notes.pdf":       []byte("these are notes, not a PDF\n"),
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
