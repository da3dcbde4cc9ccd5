package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// firstAdminFile is where the generated first admin password goes when
// no terminal is there to show it on, under DATA_DIR.
const firstAdminFile = "first-admin-password.txt"

// deliverFirstPassword hands the generated password of the first admin to
// the operator without writing it to the log (logs are collected and
// kept): on tty when the server runs in an interactive terminal (tty not
// nil), else in a new file readable by this user only (0600) in dataDir,
// whose path it returns. An existing file is never overwritten.
func deliverFirstPassword(tty io.Writer, dataDir, email, password string) (string, error) {
	text := fmt.Sprintf("Loan Desk first admin (shown once)\nemail:    %s\npassword: %s\nSign in, change this password, then delete this note.\n", email, password)
	if tty != nil {
		_, err := io.WriteString(tty, "\n"+text+"\n")
		return "", err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("first admin password: %w", err)
	}
	path := filepath.Join(dataDir, firstAdminFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("first admin password: %s exists from an earlier start; delete it and start again", path)
	}
	if err != nil {
		return "", fmt.Errorf("first admin password: %w", err)
	}
	if _, err := io.WriteString(f, text); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return "", fmt.Errorf("first admin password: %w", err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return "", fmt.Errorf("first admin password: %w", err)
	}
	return path, nil
}

// terminal returns f if it is an interactive terminal (a character
// device), else nil.
func terminal(f *os.File) io.Writer {
	if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
		return f
	}
	return nil
}
