package ocr

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// slots bound how many external programs run at once in this process:
// one per CPU, whatever the number of job workers (OCR is CPU-bound; more
// at once only makes each slower and all of them hit their timeouts).
var slots = make(chan struct{}, max(1, runtime.NumCPU()))

// ErrNoLimits means prlimit (util-linux), which sets each program's
// memory and processor limits, is not installed: no program is run
// without them, since one hostile document could then take the machine.
// It is an ErrMissingTool too (an upload is stored and checked again when
// read), and the reader's refusal (RefusedError) of every document.
var ErrNoLimits = fmt.Errorf("%w: prlimit (util-linux), without which no program runs within limits", ErrMissingTool)

// packages name the Debian package of each program OCR runs.
var packages = map[string]string{
	"prlimit": "util-linux", "tesseract": "tesseract-ocr", "pdfinfo": "poppler-utils", "pdftotext": "poppler-utils",
	"pdftoppm": "poppler-utils", "pdfimages": "poppler-utils", "jpegtran": "libjpeg-turbo-progs",
}

// CheckPrograms reports the programs OCR runs that are not installed, as
// an error naming each with its Debian package (nil when all are). It is
// asked at start-up and by `loandesk doctor`; without prlimit no document
// is read (ErrNoLimits).
func CheckPrograms() error {
	var missing []string
	for _, name := range []string{"prlimit", "tesseract", "pdfinfo", "pdftotext", "pdftoppm", "pdfimages", "jpegtran"} {
		if _, err := exec.LookPath(name); err != nil {
			missing = append(missing, name+" ("+packages[name]+")")
		}
	}
	if len(missing) == 0 {
		return nil
	}
	err := fmt.Errorf("%w: %s", ErrMissingTool, strings.Join(missing, ", "))
	if _, lerr := exec.LookPath("prlimit"); lerr != nil {
		err = fmt.Errorf("%w; without prlimit no document is read (each program must run within memory and CPU limits)", err)
	}
	return err
}

// proc runs the external programs of one document within limits and
// remembers their peak memory.
type proc struct {
	limits Limits
	peak   int64
}

// run runs a program and returns its standard output. The program:
//   - waits for a slot unless it only reads a PDF's structure (ctx may
//     end the wait);
//   - runs under prlimit with its address space capped at
//     limits.MemoryBytes and its CPU time at limits.CPUSeconds, with
//     OpenMP held to one thread; without prlimit it does not run
//     (ErrNoLimits);
//   - leads a process group of its own, all of which is killed when ctx
//     ends, and is killed by the kernel should this process die first
//     (Pdeathsig; the starting thread is held until it exits, since the
//     signal follows the thread, not the process).
//
// A PDF that needs a password is a RefusedError.
func (pr *proc) run(ctx context.Context, name string, args ...string) (string, error) {
	out, _, err := pr.runErr(ctx, name, args...)
	return out, err
}

// runErr is run, also returning the program's error output, which some
// programs write while exiting 0.
func (pr *proc) runErr(ctx context.Context, name string, args ...string) (string, string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", "", fmt.Errorf("%w: %s (install %s)", ErrMissingTool, name, cmp.Or(packages[name], name))
	}
	// pdfinfo and pdfimages read only the PDF's structure and run at
	// upload: they never wait behind a scan being read.
	if name != "pdfinfo" && name != "pdfimages" {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return "", "", ctx.Err()
		}
		defer func() { <-slots }()
	}

	argv := append([]string{path}, args...)
	if pr.limits.MemoryBytes > 0 || pr.limits.CPUSeconds > 0 {
		// Looked up at every run, so installing it needs no restart.
		pl, err := exec.LookPath("prlimit")
		if err != nil {
			return "", "", ErrNoLimits
		}
		pre := []string{pl}
		if pr.limits.MemoryBytes > 0 {
			pre = append(pre, "--as="+strconv.FormatInt(pr.limits.MemoryBytes, 10))
		}
		if pr.limits.CPUSeconds > 0 {
			pre = append(pre, "--cpu="+strconv.Itoa(pr.limits.CPUSeconds))
		}
		argv = append(append(pre, "--"), argv...)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1") // one core per program
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second

	runtime.LockOSThread()
	err = cmd.Run()
	runtime.UnlockOSThread()
	if ps := cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			pr.peak = max(pr.peak, ru.Maxrss*1024) // kilobytes on Linux
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		msg := cutRunes(strings.TrimSpace(stderr.String()), 300)
		if name != "tesseract" && pdfPasswordProtected(stderr.Bytes()) {
			return "", "", refused("The PDF is password-protected. Upload a copy without a password (print it to a new PDF).")
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && (ws.Signal() == syscall.SIGXCPU || ws.Signal() == syscall.SIGKILL) {
			return "", "", refused("Reading the document took more than %d seconds of processor time; it is too large or too dense to read.", pr.limits.CPUSeconds)
		}
		if outOfMemory(stderr.String()) {
			return "", "", pr.tooMuchMemory()
		}
		if decoderRefused(msg) {
			// The same bytes fail the same way every time: no retry.
			return "", "", refused("The image could not be read (%s). Save it again as PNG or JPEG and upload it.", cutRunes(msg, 120))
		}
		return "", "", fmt.Errorf("ocr: %s failed: %v: %s", name, err, msg)
	}
	return stdout.String(), stderr.String(), nil
}

// tooMuchMemory is the refusal of a document whose reading ran out of
// memory under the limit.
func (pr *proc) tooMuchMemory() error {
	return refused("Reading the document needed more than %d MB of memory; it is too large to read.", pr.limits.MemoryBytes>>20)
}

// decoderRefused reports whether a program's error output says the image
// decoder (leptonica with libpng or libjpeg, in tesseract) refused the
// file's bytes: a malformed or lying file, which reading again cannot
// change. A missing program or a full disk says something else and is
// retried.
func decoderRefused(stderr string) bool {
	for _, sign := range []string{"libpng error", "Not a JPEG file", "Corrupt JPEG data", "Premature end of JPEG file",
		"Error in pixReadStream", "Error in pixRead", "cannot be read!", "Unsupported image type"} {
		if strings.Contains(stderr, sign) {
			return true
		}
	}
	return false
}

// outOfMemory reports whether a program's error output says it ran out
// of memory: tesseract's C++ (bad_alloc), poppler's, libc's, libjpeg's
// ("Insufficient memory (case 4)").
func outOfMemory(stderr string) bool {
	for _, sign := range []string{"bad_alloc", "Out of memory", "Cannot allocate", "Insufficient memory"} {
		if strings.Contains(stderr, sign) {
			return true
		}
	}
	return false
}
