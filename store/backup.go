package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"loandesk/store/durable"
)

// BackupSocket is the Unix socket, inside DATA_DIR, on which a running
// server hands out snapshots: the file lock keeps a second process from
// opening the database, so `loandesk backup` asks the server instead.
// Access is by filesystem permission, like the database file itself.
const BackupSocket = "backup.sock"

// ServeBackups answers snapshot requests on DATA_DIR/backup.sock until ctx
// ends. Each connection receives the snapshot's size (8 bytes, big-endian)
// and then the snapshot.
func (s *Store) ServeBackups(ctx context.Context, dataDir string, logger *slog.Logger) error {
	if s.durable == nil {
		return nil
	}
	path := filepath.Join(dataDir, BackupSocket)
	_ = os.Remove(path) // a stale socket from a killed server; we hold the lock
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("store: backup socket: %w", err)
	}
	_ = os.Chmod(path, 0o600)
	go func() {
		<-ctx.Done()
		_ = ln.Close()
	}()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				if err := s.writeSnapshot(conn); err != nil {
					logger.Error("backup over socket failed", "err", err)
					return
				}
				logger.Info("backup taken over socket")
			}()
		}
	}()
	return nil
}

func (s *Store) writeSnapshot(w io.Writer) error {
	return s.durable.Snapshot(func(size int64, write func(io.Writer) (int64, error)) error {
		var hdr [8]byte
		binary.BigEndian.PutUint64(hdr[:], uint64(size))
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		_, err := write(w)
		return err
	})
}

// FetchBackup asks the server running on dataDir for a snapshot and
// writes it to w. It fails unless the whole snapshot arrived.
func FetchBackup(dataDir string, w io.Writer) (int64, error) {
	conn, err := net.Dial("unix", filepath.Join(dataDir, BackupSocket))
	if err != nil {
		return 0, fmt.Errorf("store: the database is in use but its server does not answer on %s: %w", filepath.Join(dataDir, BackupSocket), err)
	}
	defer conn.Close()
	var hdr [8]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return 0, fmt.Errorf("store: read backup size: %w", err)
	}
	size := int64(binary.BigEndian.Uint64(hdr[:]))
	n, err := io.Copy(w, conn)
	if err != nil {
		return n, fmt.Errorf("store: receive backup: %w", err)
	}
	if n != size {
		return n, fmt.Errorf("store: backup incomplete: got %d of %d bytes", n, size)
	}
	return n, nil
}

// ErrInUse reports whether err is the "database in use" start-up error.
func ErrInUse(err error) bool { return errors.Is(err, durable.ErrInUse) }
