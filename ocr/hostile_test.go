package ocr_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"loandesk/ocr"
	"loandesk/ocr/ocrtest"
)

// Each hostile document of issue 19, made here, is refused from its
// headers (pdfinfo for PDFs, image.DecodeConfig for images) with a
// message for staff, in well under 30 seconds, before any rendering.
func TestHostileDocumentsAreRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, contentType, want string
		data                    []byte
	}{
		{"header60k.png", ocr.PNG, "60000 × 60000 pixels", ocrtest.HugePNGHeader(60_000, 60_000)},
		{"header46k.png", ocr.PNG, "46000 × 46000 pixels", ocrtest.HugePNGHeader(46_000, 46_000)},
		{"header60k.jpg", ocr.JPEG, "60000 × 60000 pixels", ocrtest.HugeJPEGHeader(60_000, 60_000)},
		{"notanimage.png", ocr.PNG, "could not be read", []byte("\x89PNG\r\n\x1a\nnot really")},
		{"poster.pdf", ocr.PDF, "200 × 200 inches", ocrtest.BigPagePDF(200)},
		// pdfinfo prints 10^6 points and more in exponent form
		// ("1e+06 x 1e+06 pts"), and a size it cannot measure as "inf".
		{"million.pdf", ocr.PDF, "13889 × 13889 inches", ocrtest.BoxPDF("[0 0 1000000 1000000]", "")},
		{"ribbon.pdf", ocr.PDF, "27778 × 0.3 inches", ocrtest.BoxPDF("[0 0 2000000 20]", "")},
		{"endless.pdf", ocr.PDF, "Page 1 of the PDF has a size that cannot be read", ocrtest.BoxPDF("[0 0 "+strings.Repeat("9", 400)+" 200]", "")},
		{"blank400.pdf", ocr.PDF, "400 pages", ocrtest.ManyPagesPDF(400)},
		{"locked.pdf", ocr.PDF, "password-protected", ocrtest.EncryptedPDF()},
	} {
		path := write(t, tc.name, tc.data)
		began := time.Now()
		res, err := ocr.Read(context.Background(), path, tc.contentType)
		took := time.Since(began)
		if !ocr.IsRefused(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want refused with %q", tc.name, err, tc.want)
		}
		if took > 30*time.Second || res.PeakMemory > 512<<20 {
			t.Errorf("%s: took %s, peak memory %d MB", tc.name, took, res.PeakMemory>>20)
		}
		t.Logf("%s (%d bytes): refused in %s, peak memory %d KB: %s", tc.name, len(tc.data), took.Round(time.Millisecond), res.PeakMemory>>10, err)
		// The upload check says the same from the bytes.
		if err := ocr.Inspect(context.Background(), bytes.NewReader(tc.data), path, tc.contentType, ocr.DefaultLimits); !ocr.IsRefused(err) {
			t.Errorf("%s: Inspect = %v", tc.name, err)
		}
	}
	// What is fine passes the checks.
	for name, data := range map[string][]byte{"slip.png": ocrtest.PNG(salarySlip), "slip.pdf": ocrtest.TextPDF(salarySlip), "scan.pdf": ocrtest.ScanPDF(salarySlip), "letters.pdf": ocrtest.ManyPagesPDF(100)} {
		ct := ocr.PDF
		if strings.HasSuffix(name, ".png") {
			ct = ocr.PNG
		}
		if err := ocr.Inspect(context.Background(), bytes.NewReader(data), write(t, name, data), ct, ocr.DefaultLimits); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A scan is read with the programs' memory measured (under the 512 MB
// cap), and past MaxScanPages the text-less pages are skipped, not read.
func TestRead_MemoryAndScanPages(t *testing.T) {
	t.Parallel()
	res, err := ocr.Read(context.Background(), write(t, "scan.pdf", ocrtest.ScanPDF(salarySlip)), ocr.PDF)
	if err != nil || !strings.Contains(res.Text, "ABCPI1234K") || res.PeakMemory <= 0 || res.PeakMemory > 512<<20 {
		t.Fatalf("scan: %v, peak %d, text %q", err, res.PeakMemory, res.Text)
	}
	t.Logf("scanned PDF read with a peak of %d MB", res.PeakMemory>>20)

	l := ocr.DefaultLimits
	l.MaxScanPages = 2
	began := time.Now()
	res, err = ocr.ReadWithin(context.Background(), write(t, "blank12.pdf", ocrtest.ManyPagesPDF(12)), ocr.PDF, l)
	if err != nil || res.Pages != 12 || res.Skipped != 10 {
		t.Fatalf("12 blank pages: %v, pages %d skipped %d", err, res.Pages, res.Skipped)
	}
	t.Logf("12 text-less pages, 2 OCRed, in %s", time.Since(began).Round(time.Millisecond))
}

// The programs die with the server: a SIGKILLed parent takes its child
// with it (Pdeathsig), and a cancelled read kills the child's whole
// process group.
func TestPrograms_DieWithTheirParent(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "pid")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), "LOANDESK_OCR_CHILD="+fifo)
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	pid := readPID(t, fifo) // the program, started by the parent through ocr
	if !alive(pid) {
		t.Fatalf("program %d is not running", pid)
	}
	_ = parent.Process.Kill()
	_ = parent.Wait()
	waitGone(t, pid, "the program outlived its SIGKILLed parent")
}

func TestPrograms_CancelKillsTheGroup(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "pid")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		// A grandchild in the background, its pid through the fifo.
		_, err := ocr.RunForTest(ctx, "sh", "-c", "sleep 600 & echo $! > "+fifo+"; wait")
		done <- err
	}()
	pid := readPID(t, fifo)
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a cancelled program reported success")
	}
	waitGone(t, pid, "the cancelled program's child kept running")
}

func TestMain(m *testing.M) {
	if fifo := os.Getenv("LOANDESK_OCR_CHILD"); fifo != "" {
		// Play the server: run a program through ocr that reports its
		// pid, then wait to be killed.
		_, err := ocr.RunForTest(context.Background(), "sh", "-c", "echo $$ > "+fifo+"; exec sleep 600")
		fmt.Fprintln(os.Stderr, "child program ended:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func readPID(t *testing.T, fifo string) int {
	t.Helper()
	b, err := os.ReadFile(fifo) // blocks until the program writes
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid %q: %v", b, err)
	}
	return pid
}

// alive reports whether pid runs (a zombie counts as gone).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}

// waitGone waits until pid has ended: a pidfd (Linux 5.3+) becomes
// readable when its process exits, also for a process that is not our
// child, so nothing polls on a timer.
func waitGone(t *testing.T, pid int, msg string) {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return // already gone
		}
		t.Fatalf("pidfd_open %d: %v", pid, err)
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for alive(pid) {
		n, err := unix.Poll(fds, 10_000)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("%s (pid %d): %v", msg, pid, err)
		}
		if alive(pid) { // readable, but a zombie still to be reaped by its parent
			runtime.Gosched()
		}
	}
}

// A Devanagari name after "Name" is kept whole (cut by characters, not
// bytes: each letter is three bytes).
func TestParse_DevanagariName(t *testing.T) {
	t.Parallel()
	f := ocr.Parse("INCOME TAX DEPARTMENT\nName\nराहुल शर्मा\nABCPS1234K")
	if f.Name != "राहुल शर्मा" || strings.ContainsRune(f.Name, '\uFFFD') {
		t.Fatalf("name %q", f.Name)
	}
}

// A scan under a line of typed text is OCRed too (a page counts as text
// only with enough of it), the typed line kept.
func TestRead_ScanUnderATypedHeader(t *testing.T) {
	t.Parallel()
	data := ocrtest.HeaderedScanPDF("STATE BANK OF INDIA - KYC DOCUMENTS SUBMITTED BY THE APPLICANT", []string{"INCOME TAX DEPARTMENT", "Name", "ASHA IYER", "ABCPI1234K"})
	res, err := ocr.Read(context.Background(), write(t, "kyc.pdf", data), ocr.PDF)
	if err != nil || res.Method != "pdftotext+tesseract" || !strings.Contains(res.Text, "STATE BANK") || ocr.Parse(res.Text).PAN != "ABCPI1234K" {
		t.Fatalf("%v, method %s, text %q", err, res.Method, res.Text)
	}
}

// A phone photo with EXIF rotation is read upright.
func TestRead_PhotoWithEXIFRotation(t *testing.T) {
	t.Parallel()
	res, err := ocr.Read(context.Background(), write(t, "photo.jpg", ocrtest.SidewaysJPEG([]string{"INCOME TAX DEPARTMENT", "Name", "ASHA IYER", "ABCPI1234K"})), ocr.JPEG)
	if err != nil || ocr.Parse(res.Text).PAN != "ABCPI1234K" {
		t.Fatalf("%v, text %q", err, res.Text)
	}
}

// The upload check (pdfinfo) never waits behind scans being read: with
// every OCR slot taken it still answers.
func TestCheckPDF_DoesNotWaitForOCRSlots(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	busy := make(chan error, runtime.NumCPU())
	for i := range runtime.NumCPU() {
		fifo := filepath.Join(dir, strconv.Itoa(i))
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		go func() {
			_, err := ocr.RunForTest(ctx, "sh", "-c", "echo $$ > "+fifo+"; exec sleep 600")
			busy <- err
		}()
		readPID(t, fifo) // running: it holds a slot
	}
	check, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	if _, err := ocr.CheckPDF(check, write(t, "slip.pdf", ocrtest.TextPDF(salarySlip)), ocr.DefaultLimits); err != nil {
		t.Fatalf("CheckPDF with every slot busy: %v", err)
	}
	cancel()
	for range runtime.NumCPU() {
		<-busy
	}
}

// A PNG whose second, out-of-place header claims 100,000 × 100,000
// pixels passes the upload check (which reads the first) and is refused
// by the decoder: that refusal is final, with a message for staff, not
// retried as if the machine had failed.
func TestRead_DecoderRefusalIsFinal(t *testing.T) {
	t.Parallel()
	data := ocrtest.TwoIHDRPNG()
	path := write(t, "two-ihdr.png", data)
	if err := ocr.Inspect(context.Background(), bytes.NewReader(data), path, ocr.PNG, ocr.DefaultLimits); err != nil {
		t.Logf("the upload check refuses it already: %v", err)
	}
	_, err := ocr.Read(context.Background(), path, ocr.PNG)
	if !ocr.IsRefused(err) || !strings.Contains(err.Error(), "could not be read") {
		t.Fatalf("got %v, want a final refusal saying the image could not be read", err)
	}
	t.Log(err)
}

// Every other EXIF orientation that cameras write (6 is the test above)
// is turned upright before reading: jpegtran's flips, turns and
// transposes match what each one means.
func TestRead_EveryEXIFOrientation(t *testing.T) {
	t.Parallel()
	card := ocrtest.Gray([]string{"PAN ABCPI1234K"})
	for _, o := range []int{2, 3, 4, 5, 7, 8} {
		t.Run(strconv.Itoa(o), func(t *testing.T) {
			t.Parallel()
			res, err := ocr.Read(context.Background(), write(t, "photo.jpg", ocrtest.OrientedJPEG(card, o)), ocr.JPEG)
			if err != nil || ocr.Parse(res.Text).PAN != "ABCPI1234K" {
				t.Fatalf("orientation %d: %v, text %q", o, err, res.Text)
			}
		})
	}
}

// Turning a photo upright costs this process nothing to speak of: the
// picture is turned by jpegtran under the programs' limits, not decoded
// here. A 4-megapixel photo with orientation 6 took 12 MB of this
// process's heap when it was decoded, gray-copied and turned in Go (the
// tester's 40-megapixel progressive 4:4:4 JPEG took the server from 49 MB
// to 680 MB, issue 19); now it allocates under 2 MB, the text still read.
// Not parallel: the heap's counters are the whole process's.
func TestRead_TurningAPhotoKeepsTheHeapFlat(t *testing.T) {
	const side = 2000
	photo := image.NewGray(image.Rect(0, 0, side, side))
	for i := range photo.Pix {
		photo.Pix[i] = 0xFF
	}
	card := ocrtest.Gray([]string{"PAN ABCPI1234K"})
	draw.Draw(photo, card.Bounds().Add(image.Pt(800, 1200)), card, image.Point{}, draw.Src)
	path := write(t, "photo.jpg", ocrtest.OrientedJPEG(photo, 6))
	photo, card = nil, nil
	runtime.GC()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := ocr.Read(context.Background(), path, ocr.JPEG)
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d × %d photo, orientation 6: %d KB allocated here, programs' peak %d MB", side, side, allocated>>10, res.PeakMemory>>20)
	if err != nil || ocr.Parse(res.Text).PAN != "ABCPI1234K" {
		t.Fatalf("%v, text %q", err, res.Text)
	}
	if allocated > 2<<20 {
		t.Fatalf("reading the photo allocated %d MB in this process, want under 2 MB", allocated>>20)
	}
	if res.PeakMemory > ocr.DefaultLimits.MemoryBytes {
		t.Fatalf("programs' peak memory %d MB", res.PeakMemory>>20)
	}
}

// A page is rendered as it was measured: its crop box. A letter-size crop
// box on a 200-inch media box passed the check and pdftoppm drew the
// media box, ran out of memory under its limit, said so and exited 0 with
// a 1 × 1 picture: the scan read as "no PAN" (issue 19).
func TestRead_CroppedPageIsRenderedAsChecked(t *testing.T) {
	t.Parallel()
	data := ocrtest.CroppedScanPDF([]string{"INCOME TAX DEPARTMENT", "ASHA IYER", "ABCPI1234K"})
	path := write(t, "cropped.pdf", data)
	if err := ocr.Inspect(context.Background(), nil, path, ocr.PDF, ocr.DefaultLimits); err != nil {
		t.Fatalf("upload check: %v", err)
	}
	res, err := ocr.Read(context.Background(), path, ocr.PDF)
	if err != nil || ocr.Parse(res.Text).PAN != "ABCPI1234K" || res.PeakMemory > 512<<20 {
		t.Fatalf("%v, peak %d MB, text %q", err, res.PeakMemory>>20, res.Text)
	}
}

// pdftoppm out of memory under its limit exits 0 ("Out of memory", a
// picture of 1 × 1 or a page left blank): a final refusal in staff terms,
// not a page without text. A 27-inch page (29 megapixels at 200 dpi,
// within the budget) under a 48 MB cap.
func TestRead_RendererOutOfMemoryIsRefused(t *testing.T) {
	t.Parallel()
	l := ocr.DefaultLimits
	l.MemoryBytes = 48 << 20
	res, err := ocr.ReadWithin(context.Background(), write(t, "big.pdf", ocrtest.BigPagePDF(27)), ocr.PDF, l)
	if !ocr.IsRefused(err) {
		t.Fatalf("got %v (text %q), want a refusal", err, res.Text)
	}
	t.Log(err)
}
