package ocr_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"loandesk/ocr"
	"loandesk/ocr/ocrtest"
)

// At most one program per CPU runs at once, whatever the number of
// callers (job workers): three times as many programs as CPUs, each
// counting the programs running while it sleeps, never count more than
// the CPUs. Not parallel, so no other test holds a slot meanwhile.
// Costs about 1.5 s on 2 CPUs.
func TestPrograms_AtMostOnePerCPU(t *testing.T) {
	dir := t.TempDir()
	n := 3 * runtime.NumCPU()
	counts := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Mark itself running, sleep, count the marks, unmark.
			out, err := ocr.RunForTest(context.Background(), "sh", "-c",
				`touch "$0/$$"; sleep 0.5; ls "$0" | wc -l; rm "$0/$$"`, dir)
			if err != nil {
				t.Error(err)
				return
			}
			counts[i], err = strconv.Atoi(strings.TrimSpace(out))
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	most := 0
	for _, c := range counts {
		most = max(most, c)
	}
	t.Logf("%d programs on %d CPUs: at most %d ran at once", n, runtime.NumCPU(), most)
	if most > runtime.NumCPU() || most < 1 {
		t.Fatalf("%d programs ran at once on %d CPUs", most, runtime.NumCPU())
	}
}

// Each program runs with its address space capped at the limit's
// memory, its processor time at the limit's seconds, and OpenMP on one
// thread (prlimit must be installed, as it is in the image).
func TestPrograms_RunWithinTheLimits(t *testing.T) {
	t.Parallel()
	out, err := ocr.RunForTest(context.Background(), "sh", "-c", `ulimit -v; ulimit -t; echo "$OMP_THREAD_LIMIT"`)
	if err != nil {
		t.Fatal(err)
	}
	want := strconv.FormatInt(ocr.DefaultLimits.MemoryBytes>>10, 10) + "\n" + strconv.Itoa(ocr.DefaultLimits.CPUSeconds) + "\n1\n"
	if out != want {
		t.Fatalf("a program's limits (KiB of address space, CPU seconds, OpenMP threads):\n%q, want\n%q", out, want)
	}
	if ocr.DefaultLimits.MemoryBytes != 512<<20 || ocr.DefaultLimits.CPUSeconds != 90 {
		t.Fatalf("DefaultLimits = %+v, want 512 MiB and 90 s", ocr.DefaultLimits)
	}
}

// A program that spins past its processor time is killed by the kernel
// and the document refused for good, with a message for staff (a busy
// loop under a 1-second cap: costs about 1 s of CPU).
func TestPrograms_PastTheirCPUTimeAreRefused(t *testing.T) {
	t.Parallel()
	l := ocr.DefaultLimits
	l.CPUSeconds = 1
	began := time.Now()
	_, err := ocr.RunWithLimitsForTest(context.Background(), l, "sh", "-c", "while :; do :; done")
	if !ocr.IsRefused(err) || !strings.Contains(err.Error(), "more than 1 seconds of processor time") {
		t.Fatalf("a spinning program: %v, want refused for its processor time", err)
	}
	if took := time.Since(began); took > 30*time.Second {
		t.Fatalf("stopping it took %s", took)
	}
}

// Without prlimit no program runs (it would run without limits): reading
// any document is refused for good with what an admin must do, the
// upload check lets the upload be stored (read later, once installed),
// and CheckPrograms names it. Run in a child process whose PATH holds
// every program but prlimit.
func TestPrograms_WithoutPrlimitNoneRuns(t *testing.T) {
	t.Parallel()
	if os.Getenv("LOANDESK_OCR_NO_PRLIMIT") == "" {
		bin := t.TempDir()
		for _, name := range []string{"sh", "touch", "tesseract", "pdfinfo", "pdftotext", "pdftoppm", "pdfimages", "jpegtran"} {
			path, err := exec.LookPath(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(path, filepath.Join(bin, name)); err != nil {
				t.Fatal(err)
			}
		}
		child := exec.Command(os.Args[0], "-test.run=^TestPrograms_WithoutPrlimitNoneRuns$", "-test.v")
		child.Env = append(os.Environ(), "LOANDESK_OCR_NO_PRLIMIT=1", "PATH="+bin)
		out, err := child.CombinedOutput()
		t.Logf("child:\n%s", out)
		if err != nil || !strings.Contains(string(out), "--- PASS: TestPrograms_WithoutPrlimitNoneRuns") {
			t.Fatalf("child: %v", err)
		}
		return
	}
	marker := filepath.Join(t.TempDir(), "ran")
	if _, err := ocr.RunForTest(context.Background(), "sh", "-c", "touch "+marker); !errors.Is(err, ocr.ErrNoLimits) {
		t.Errorf("a program without prlimit: %v, want ErrNoLimits", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the program ran without limits")
	}
	png := filepath.Join(t.TempDir(), "slip.png")
	pdf := filepath.Join(t.TempDir(), "slip.pdf")
	if err := os.WriteFile(png, ocrtest.PNG([]string{"PAN ABCPI1234K"}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pdf, ocrtest.TextPDF([]string{"PAN ABCPI1234K"}), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, ct := range map[string]string{png: ocr.PNG, pdf: ocr.PDF} {
		_, err := ocr.Read(context.Background(), path, ct)
		if !ocr.IsRefused(err) || !strings.Contains(err.Error(), "prlimit, from the util-linux package, is not installed") {
			t.Errorf("%s read without prlimit: %v, want a final refusal naming prlimit", ct, err)
		}
	}
	if err := ocr.Inspect(context.Background(), nil, pdf, ocr.PDF, ocr.DefaultLimits); ocr.IsRefused(err) || !errors.Is(err, ocr.ErrMissingTool) {
		t.Errorf("upload check without prlimit: %v, want ErrMissingTool (stored, read later)", err)
	}
	if err := ocr.CheckPrograms(); err == nil || !strings.Contains(err.Error(), "prlimit (util-linux)") || !strings.Contains(err.Error(), "no document is read") {
		t.Errorf("CheckPrograms: %v", err)
	}
}

// With every program installed (as scripts/test.sh and the jobs image
// install them) CheckPrograms has nothing to report.
func TestCheckPrograms_AllInstalled(t *testing.T) {
	t.Parallel()
	if os.Getenv("LOANDESK_OCR_NO_PRLIMIT") != "" {
		return
	}
	if err := ocr.CheckPrograms(); err != nil {
		t.Fatal(err)
	}
}
