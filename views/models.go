// Package views holds the templ components: the layout, pages and the
// partials HTMX swaps. Components take the plain view models below, never
// store types, and do no I/O.
package views

import "strings"

// Assets are the versioned URLs of the static files every page loads.
type Assets struct {
	CSS  string
	HTMX string
	JS   string
	Icon string
}

// Viewer is the signed-in user shown in the navigation.
type Viewer struct {
	Name    string
	Email   string
	Role    string
	IsAdmin bool
}

// Page is what the layout needs for every page.
type Page struct {
	Title  string
	Assets Assets
	Viewer *Viewer // nil when signed out
	Flash  string
	Nav    string // the active navigation entry: "loans", "users"
}

// LoginForm is the sign-in form and its outcome.
type LoginForm struct {
	Email string
	Next  string
	Error string
}

// LoanList is the loan list page.
type LoanList struct {
	CanFile  bool // the viewer may file new applications
	Tabs     []StatusTab
	Rows     []LoanRow
	Total    int64 // under the search and filters, every status
	Matching int64 // in the chosen tab
	// TotalLabel and MatchingLabel are Total and Matching grouped for
	// people ("10,000"); StatusLabel names the chosen tab ("" for All).
	TotalLabel, MatchingLabel, StatusLabel string
	Query                                  string
	SearchIgnored                          []string // words of Query the search leaves out (store.SearchIgnored)
	Status                                 string
	Assignee                               string
	Assignees                              []Choice
	Sort                                   string
	Sorts                                  []Choice
	Pager                                  Pager
	Queue                                  WorkQueue
	// Bulk is the bulk-assign form; nil for viewers.
	Bulk *BulkAssign
}

// WorkQueue is the list's narrowing filters, as typed, with their
// choices and the links that carry them.
type WorkQueue struct {
	Products           []Choice
	Min, Max, From, To string
	Sizes              []Choice
	// City is the city filter as typed; Scores and Days are the score
	// recommendation's and days-in-status's choices.
	City         string
	Scores, Days []Choice
	Errors       map[string]string // by field: min, max, from, to, city
	Narrowed     bool              // anything beyond the status tab
	MyQueue      bool              // assigned to the viewer
	MyQueueURL   string
	ClearURL     string // the filters cleared, the tab, order and size kept
	// AmountSort and CreatedSort are the sortable column headers.
	AmountSort, CreatedSort SortHeader
	// ExportURL downloads the filtered list as CSV; ExportNote says
	// when the export holds only the first rows of a longer list.
	ExportURL, ExportNote string
	// ExportXLSXURL downloads the same rows as an Excel workbook.
	ExportXLSXURL string
}

// SortHeader is a sortable column's link and its current order
// ("ascending", "descending" or "" when the list is not sorted by it).
type SortHeader struct {
	URL, Order string
}

// Pager links the pages of a list.
type Pager struct {
	Page, Pages      int
	Size             int    // rows a page
	PageLabel        string // Page and Pages grouped for people
	PagesLabel       string
	Range            string // "26–50 of 1,234"
	PrevURL, NextURL string
}

// StatusTab is one status filter with its count.
type StatusTab struct {
	Label string
	URL   string
	Count int64
	// CountLabel is Count grouped for people ("1,00,000").
	CountLabel string
	Active     bool
}

// LoanRow is one loan in the list.
type LoanRow struct {
	HumanID   string
	Version   int64
	Applicant string
	City      string
	Product   string
	Amount    string
	Status    string
	StatusKey string
	Assignee  string // the assignee's name
	// AssigneeEmail is the assignee's e-mail, for the tooltip ("" when
	// Assignee is the e-mail).
	AssigneeEmail string
	Created       string
	// InStatus is how long it has been in its status ("12 days").
	InStatus string
}

// LoanDetail is one application's page.
type LoanDetail struct {
	HumanID   string
	Applicant string
	Version   int64
	// Stamp is what changes the page beyond its version: the newest
	// activity and note (the live poller's a=, handlers.liveStamp).
	Stamp   string
	Created string
	Updated string // when
	// UpdatedBy names who updated it last; UpdatedByEmail is their e-mail
	// for the tooltip ("" when the name is the e-mail, or "seed").
	UpdatedBy      string
	UpdatedByEmail string
	EMI            string
	Sections       []LoanSection
	Status         StatusPanel
	Assign         AssignPanel
	History        []HistoryEntry
	Documents      Documents
	Score          ScoreView
	Jobs           JobList
	Flags          []FlagView
	Money          MoneyPanel
	Notes          LoanNotes
	// BackURL is the list the page was opened from, with its filters
	// ("" for the plain list); PrevURL and NextURL (with their
	// applications' numbers) walk that list in its order.
	BackURL, PrevURL, PrevID, NextURL, NextID string
}

// LoanNotes is an application's notes, newest first.
type LoanNotes struct {
	URL    string // where a note is posted
	CanAdd bool
	MaxLen int
	Notes  []NoteView
	More   bool // older notes are not shown
	// Draft and Error are a refused note and why; Notice says one was added.
	Draft, Error, Notice string
	OOB                  bool // swapped in out of band (a save, the live refresh)
}

// NoteView is one note.
type NoteView struct {
	Who, When, ISO, Text string
	WhoEmail             string // the author's e-mail, Who's tooltip ("" when Who is it)
}

// FlagView is a warning on an application.
type FlagView struct {
	Code, Text          string
	OtherLoan, OtherURL string
	Acked               string // "Acknowledged by … on …: note" once acknowledged
	AckURL              string // where to acknowledge it ("" for roles that cannot)
	Version             int64
	Note, Error         string // a refused acknowledgement's note and why
}

// NewLoanForm is the "New application" form.
type NewLoanForm struct {
	IdempotencyKey string
	Error          string
	Sections       []NewLoanSection
}

// NewLoanSection is one group of the new-application form.
type NewLoanSection struct {
	Key, Title string
	Inputs     []FieldInput
	Focus      string // where the keyboard goes (see LoanSection.Focus)
}

// AssignPanel shows who works an application and lets staff change it.
type AssignPanel struct {
	URL     string
	Version int64
	Current string // the assignee's name; empty when nobody
	// CurrentEmail is the assignee's e-mail, for the tooltip ("" when
	// Current is the e-mail).
	CurrentEmail string
	CanAssign    bool
	Choices      []Choice
	Error        string
	Conflict     *PanelConflict
}

// LoanSection is one editable part of an application, shown read-only or
// as its form.
type LoanSection struct {
	Key     string
	Title   string
	URL     string // GET: the read-only section; PUT/POST: save
	Version int64
	CanEdit bool
	Editing bool
	Rows    []FieldRow   // read-only
	Inputs  []FieldInput // editing
	Notice  string       // after a save, or why editing is not allowed
	Error   string       // about the whole form
	// Conflict is set when someone saved first (answered with 409).
	Conflict *Conflict
	// ChangedURL, on a form, is polled to tell the editor when someone
	// else saves the application meanwhile.
	ChangedURL string
	// Focus is where the keyboard goes when the section is shown:
	// FocusFirst, FocusError, FocusHeading, FocusConflict or "" (nowhere).
	Focus string
	// OOB sends the section out of band (the loan page's live refresh);
	// the browser keeps a section whose form or conflict prompt is open.
	OOB bool
}

// Where a swapped-in section puts the keyboard focus.
const (
	FocusFirst    = "first"    // the first field: a form just opened
	FocusError    = "error"    // the first field with an error (or the first)
	FocusHeading  = "heading"  // the section's heading: after a save or cancel
	FocusConflict = "conflict" // the conflict prompt
)

// focusIndex is the input that takes the focus, or -1.
func focusIndex(inputs []FieldInput, focus string) int {
	switch focus {
	case FocusError:
		for i, in := range inputs {
			if in.Error != "" {
				return i
			}
		}
		return 0
	case FocusFirst:
		return 0
	}
	return -1
}

// ChangedNotice tells an open form's editor that someone else saved the
// application meanwhile.
type ChangedNotice struct {
	URL     string // polled while Message is empty
	Message string // who changed what ("" while nobody has)
}

// FieldRow is one field shown read-only.
type FieldRow struct{ Label, Value string }

// FieldInput is one form field with its value and error.
type FieldInput struct {
	Key     string
	Label   string
	Value   string
	Error   string
	Type    string // text, email, tel, date, select
	MaxLen  int
	Choices []Choice
}

// Choice is one option of a select.
type Choice struct {
	Value, Label string
	Selected     bool
}

// Conflict shows an edit that lost the race beside what the winners
// changed, with the two ways on.
type Conflict struct {
	Version int64          // the version now stored
	Since   []HistoryEntry // the changes made after the version edited
	Mine    []Change       // what the editor tried
	Clashes int
	Exact   bool // false: no field-level history; compared with today's values
	// Apply re-submits only the editor's changed fields on top of Version.
	Apply []Hidden
}

// Change is one field's change.
type Change struct {
	Label, From, To string
	// FromTitle and ToTitle are the e-mails behind From and To when they
	// name staff (an assignee), for the tooltip.
	FromTitle, ToTitle string
	Clash              bool   // also changed by someone else, differently
	Theirs             string // their value, when Clash
}

// Hidden is a hidden form field.
type Hidden struct{ Name, Value string }

// StatusPanel is the status with the moves the viewer may make.
type StatusPanel struct {
	URL       string
	Version   int64
	Status    string
	StatusKey string
	Actions   []StatusAction
	Error     string
	Reason    string // the reason typed, kept after an error
	// Unavailable are the moves this viewer may not make, each with why
	// and who can.
	Unavailable []UnavailableAction
	// Conflict is set when the application changed since the panel was
	// loaded (answered with 409): the move was not made.
	Conflict *PanelConflict
}

// UnavailableAction is a move the viewer may not make: why, and who can.
type UnavailableAction struct{ Label, Why string }

// PanelConflict tells someone whose status move or assignment met a
// newer version who changed what since, what they asked for, and the two
// ways on: do it anyway on the new version (when still possible), or load
// the latest.
type PanelConflict struct {
	Version  int64          // the version now stored
	Since    []HistoryEntry // oldest first
	Tried    string         // "move it to Rejected", "assign it to uw@example.com"
	CanRetry bool           // the move or assignment is still possible on the new version
	RetryTo  string         // the move or assignee to resubmit
	RetryBtn string         // "Reject anyway"
	Reason   string         // the reason typed, resubmitted with the retry
	Latest   string         // GET: the panel as it stands
}

// StatusAction is one status move.
type StatusAction struct {
	To, Label   string
	NeedsReason bool
}

// HistoryEntry is one change in an application's history.
type HistoryEntry struct {
	Version int64
	When    string
	// Who is the author's name (their e-mail when no name is known);
	// WhoEmail their e-mail when Who is a name, shown as its tooltip.
	Who, WhoEmail string
	Reason        string
	// Approval names, on an approval, the maker and the first approver;
	// ApprovalTitle gives their e-mails (its tooltip).
	Approval, ApprovalTitle string
	Changes                 []Change
	// Kind is "change" (a versioned change), "note" or an activity's
	// kind; Event says what happened when it is not a change (Version is
	// then 0).
	Kind, Event string
}

// ErrorInfo is shown on error pages.
type ErrorInfo struct {
	Status    int
	Title     string
	Message   string
	RequestID string
}

// Documents is an application's documents panel.
type Documents struct {
	URL       string
	Rows      []DocumentRow
	Kinds     []Choice
	MaxSize   string
	CanUpload bool
	Busy      bool // something is still being read: the panel polls
	Error     string
	Notice    string // what was just done (deleted, replaced)
	OOB       bool   // swapped in out of band (a save, the live refresh)
	// UploadKind is the kind a refused upload chose, offered again.
	UploadKind string
}

// DocumentRow is one document.
type DocumentRow struct {
	URL                                              string // the file itself
	Filename, Kind, Size, Status, StatusLabel, Error string
	Type                                             string // PDF, PNG or JPEG: what the file is, sniffed at upload
	Read                                             string // what OCR found
	ID                                               string // for the forms' field ids
	// Deleted says who deleted it, when and why (or what replaced it):
	// it is listed for audit, no longer read or scored.
	Deleted string
	// CanChange offers Delete and Replace.
	CanChange bool
	// CanOpen links the file (a deleted one: admins only).
	CanOpen bool
	// KindValue is the document's kind (the Replace form's default).
	KindValue string
	// Retry is a refused Delete or Replace of this row: its form is open
	// again with what was typed.
	Retry DocumentRetry
}

// retrying reports whether a row's form is open again after a refusal
// (its reason takes the focus, not the upload form's file).
func (d Documents) retrying() bool {
	for _, r := range d.Rows {
		if r.Retry.Action != "" {
			return true
		}
	}
	return false
}

func oobDocuments(d Documents) Documents { d.OOB = true; return d }
func oobNotes(n LoanNotes) LoanNotes     { n.OOB = true; return n }

// quotedWords lists words in curly quotes: “x”, “zz”.
func quotedWords(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = "“" + w + "”"
	}
	return strings.Join(out, ", ")
}

// replaceKind is the kind the Replace form offers first: the one just
// chosen in a refused replacement, else the document's own.
func replaceKind(row DocumentRow) string {
	if row.Retry.Action == "replace" && row.Retry.Kind != "" {
		return row.Retry.Kind
	}
	return row.KindValue
}

// DocumentRetry is a refused Delete or Replace: which document (ID),
// which form (Action: "delete" or "replace") and what was typed.
type DocumentRetry struct {
	ID, Action, Reason, Kind string
}

// ScoreView is the scorecard panel.
type ScoreView struct {
	URL            string
	Recommendation string // "" when not scored
	Label          string
	Points         int
	Version        int64
	Stale          bool
	Reasons        []ScoreLine
	CanScore       bool
	Queued         bool
	Reading        bool // a document is still being read (scoring waits for it)
	// Pending: a document is being read or a scoring is queued or
	// running; the panel polls until nothing is.
	Pending bool
}

// ScoreLine is one reason of a scorecard.
type ScoreLine struct{ Points, Detail string }

// JobList is an application's background jobs.
type JobList struct {
	URL      string // the panel itself, polled while Pending
	Rows     []JobRow
	CanRetry bool
	Pending  bool // a job is pending or running
}

// JobRow is one job (queue event).
type JobRow struct {
	Type, Status, When, Attempts, Error string
	// Label and StatusLabel name the job and its state for staff ("" on
	// the queue page, which shows the raw type and status).
	Label, StatusLabel string
	DetailURL          string // where an admin reads the raw error
	// Raw is the job's raw error apart from Error's staff sentence (the
	// queue page only: admins).
	Raw                  string
	LoanID, LoanURL      string
	RetryURL, DiscardURL string
}

// QueueView is the job queue page.
type QueueView struct {
	OldestPending, DoneLately, DeadCount string
	Statuses                             []string
	Rows                                 []QueueRow
	Workers                              []WorkerRow
	DeadJobs                             []JobRow
}

// QueueRow is one event type's counts, in Statuses order.
type QueueRow struct {
	Type   string
	Counts []string
}

// WorkerRow is a live job runner.
type WorkerRow struct{ ID, Detail string }

// BulkResults are a bulk action's outcome, row by row.
type BulkResults struct {
	To string // the assignee's name ("" for nobody)
	// ToEmail is the assignee's e-mail, for the tooltip ("" when To is
	// the e-mail).
	ToEmail string
	// Hold: the action put applications on hold with Reason (else it
	// assigned them to To).
	Hold    bool
	Reason  string
	Back    string // the list as it was
	Done    int    // assigned, or already so
	Skipped int    // changed meanwhile, refused or missing
	Rows    []BulkRow
}

// BulkRow is one application's outcome: assigned, held, unchanged,
// conflict, refused or missing.
type BulkRow struct {
	HumanID, URL  string
	Outcome, Text string
}

// BulkAssign is the list's bulk-assign form (for those who may assign).
type BulkAssign struct {
	Back      string // the list's address, to return to
	Assignees []Choice
	// SelectAllURL is this page with every row ticked (select=all), for
	// browsers without JavaScript; with it the link ticks them in place.
	// SelectAll ticks them.
	SelectAllURL string
	SelectAll    bool
	// A form refused as a whole (nothing ticked, too many, no reason)
	// comes back as it was sent: Error says why, Reason is the typed
	// hold reason (HoldOpen unfolds it), Ticked the rows that were
	// ticked; the chosen assignee is the Assignees' Selected.
	Error    string
	Reason   string
	HoldOpen bool
	Ticked   map[string]bool
}
