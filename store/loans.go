package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"loandesk/model"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"golang.org/x/text/unicode/norm"
)

// LoanSearchKeys derives the normalised search words of a loan. Search
// matches them by prefix (see LoanFilter), so "ash" finds Asha without
// storing "as", "ash" and "asha": a loan keeps about eight keys, and the
// index one entry per key.
func LoanSearchKeys(l model.Loan) []string {
	seen := map[string]bool{}
	var keys []string
	add := func(k string) {
		if k != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, word := range strings.Fields(foldText(l.Applicant.Name)) {
		add(word)
	}
	add(strings.ToLower(l.HumanID))
	if _, seq, ok := strings.Cut(strings.TrimPrefix(l.HumanID, "LN-"), "-"); ok {
		add(seq)                        // "000123"
		add(strings.TrimLeft(seq, "0")) // "123"
	}
	add(foldText(l.Applicant.PAN))
	add(foldText(l.Applicant.Email))
	if phone := digitsOnly(l.Applicant.Phone); len(phone) >= 10 {
		add(phone[len(phone)-10:]) // as people type it, without +91
	}
	return keys
}

// SearchTokens turns what someone typed into the search box into the
// prefixes a loan's search keys must start with: lower-cased words, and a phone number (typed
// with or without +91, spaces or dashes) as its last ten digits. Words
// under two characters are dropped; at most six count (SearchIgnored
// lists the others, to tell the searcher).
func SearchTokens(q string) []string {
	tokens, _ := searchWords(q)
	return tokens
}

// SearchIgnored is the words of q, as typed, that SearchTokens leaves
// out: words of one character, and words after the sixth searched.
func SearchIgnored(q string) []string {
	_, ignored := searchWords(q)
	return ignored
}

func searchWords(q string) (tokens, ignored []string) {
	if isPhoneLike(q) {
		d := digitsOnly(q)
		return []string{d[len(d)-10:]}, nil
	}
	seen := map[string]bool{}
	for _, typed := range strings.Fields(q) {
		w := foldText(typed)
		if isPhoneLike(w) {
			d := digitsOnly(w)
			w = d[len(d)-10:]
		}
		switch {
		case seen[w]:
		case len([]rune(w)) < 2 || len(tokens) == 6:
			ignored = append(ignored, typed)
		default:
			seen[w] = true
			tokens = append(tokens, w)
		}
	}
	return tokens, ignored
}

// foldText is how search compares text: lower case, in Unicode
// Normalization Form C (UAX #15), so "zoë" typed as z-o-e-U+0308 finds
// "zoë" stored as z-o-U+00EB, and a Devanagari nukta letter typed
// precomposed or as letter + nukta gives the same key.
func foldText(s string) string { return norm.NFC.String(strings.ToLower(norm.NFC.String(s))) }

// isPhoneLike reports whether s is only a phone number's characters, with
// ten to thirteen digits.
func isPhoneLike(s string) bool {
	n := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			n++
		case !strings.ContainsRune(" +-()", r):
			return false
		}
	}
	return n >= 10 && n <= 13
}

func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// LoanReserveNumbers reserves n consecutive loan numbers and returns the
// first. The counter is one atomic $inc, so concurrent callers never get
// the same numbers.
func (s *Store) LoanReserveNumbers(ctx context.Context, n int) (int64, error) {
	var doc struct {
		Seq int64 `bson:"seq"`
	}
	err := s.counters.FindOneAndUpdate(ctx,
		bson.M{"_id": "loan"},
		bson.M{"$inc": bson.M{"seq": int64(n)}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After),
	).Decode(&doc)
	if err != nil {
		return 0, fmt.Errorf("store: reserve loan numbers: %w", err)
	}
	return doc.Seq - int64(n) + 1, nil
}

// LoanInsertMany inserts loans in one batch, filling in search keys,
// the city key, the status time (the filing time, unless set) and
// version 1. Callers pass at most a few hundred at a time (the embedded
// engine copies the collection per inserted document).
func (s *Store) LoanInsertMany(ctx context.Context, loans []model.Loan) error {
	docs := make([]any, len(loans))
	for i := range loans {
		l := &loans[i]
		if l.ID.IsZero() {
			l.ID = primitive.NewObjectID()
		}
		if l.Version == 0 {
			l.Version = 1
		}
		l.SearchKeys = LoanSearchKeys(*l)
		fillDerived(l)
		docs[i] = l
	}
	if _, err := s.loans.InsertMany(ctx, docs); err != nil {
		if isDuplicateKey(err) {
			return fmt.Errorf("store: insert loans: %w", ErrDuplicate)
		}
		return fmt.Errorf("store: insert loans: %w", err)
	}
	return nil
}

// LoanFilter narrows the loans a list or a count covers.
type LoanFilter struct {
	Status   string   // empty: every status
	Search   []string // SearchTokens; each must start one of the loan's search keys
	Assignee string   // a user's email, AssigneeNone, or empty for anyone
	// LoanNarrowing is the work queue's further filters (loans_filter.go).
	LoanNarrowing
}

// maxRune sorts after every character a key can continue with (bytewise,
// as MongoDB and the embedded engine compare strings), so [t, t+maxRune)
// holds exactly the keys starting with t.
const maxRune = "\U0010FFFF"

// AssigneeNone filters for loans nobody is assigned to.
const AssigneeNone = "none"

// Query is f as a MongoDB filter.
func (f LoanFilter) Query() bson.M {
	q := bson.M{}
	if f.Status != "" {
		q["status"] = f.Status
	}
	if len(f.Search) > 0 {
		// One prefix range per token, each met by one key: $elemMatch
		// keeps both ends on the same key, and an index serves it (the
		// embedded engine walks the rarest range and checks the others).
		words := make(bson.A, len(f.Search))
		for i, t := range f.Search {
			words[i] = bson.M{"searchKeys": bson.M{"$elemMatch": bson.M{"$gte": t, "$lt": t + maxRune}}}
		}
		q["$and"] = words
	}
	switch f.Assignee {
	case "":
	case AssigneeNone:
		q["assignee"] = bson.M{"$in": bson.A{nil, ""}}
	default:
		q["assignee"] = f.Assignee
	}
	f.LoanNarrowing.addTo(q)
	return q
}

// LoanCountMatching returns how many loans f matches, f.Status included:
// the size of a list whose tab counts are not shown (the API's total, an
// export's rows). One count where the tabs take one per status; on the
// embedded engine a filter of plain equalities (a status, an assignee) is
// an index range's size, remembered until the loans change.
func (s *Store) LoanCountMatching(ctx context.Context, f LoanFilter) (int64, error) {
	n, err := s.loans.CountDocuments(ctx, s.loanQuery(f))
	if err != nil {
		return 0, fmt.Errorf("store: count loans: %w", err)
	}
	return n, nil
}

// LoanCountByStatus returns how many loans f matches in each status
// (f.Status is ignored: these are the tab counts).
//
// Without a search, each status is one count (an index range's size on
// the embedded engine, remembered until the loans change). With one,
// the matching loans are read once, by their status alone, and counted
// here: six counts would each walk the search's matches again.
func (s *Store) LoanCountByStatus(ctx context.Context, f LoanFilter) (map[string]int64, error) {
	counts := make(map[string]int64, len(model.LoanStatuses))
	if len(f.Search) > 0 {
		f.Status = ""
		cur, err := s.loans.Find(ctx, s.loanQuery(f), options.Find().SetProjection(bson.D{{Key: "status", Value: 1}, {Key: "_id", Value: 0}}))
		if err != nil {
			return nil, fmt.Errorf("store: count loans by status: %w", err)
		}
		var statuses []struct {
			Status string `bson:"status"`
		}
		if err := cur.All(ctx, &statuses); err != nil {
			return nil, fmt.Errorf("store: count loans by status: %w", err)
		}
		for _, st := range model.LoanStatuses {
			counts[st] = 0
		}
		for _, l := range statuses {
			if _, known := counts[l.Status]; known {
				counts[l.Status]++
			}
		}
		return counts, nil
	}
	for _, st := range model.LoanStatuses {
		f.Status = st
		n, err := s.loans.CountDocuments(ctx, s.loanQuery(f))
		if err != nil {
			return nil, fmt.Errorf("store: count loans by status: %w", err)
		}
		counts[st] = n
	}
	return counts, nil
}

// Loan list orders. Every one ends on _id so pages are stable on every
// engine.
const (
	SortNewest     = "newest"
	SortOldest     = "oldest"
	SortAmountDesc = "amount_desc"
	SortAmountAsc  = "amount_asc"
	SortUpdated    = "updated"
)

var loanSorts = map[string]bson.D{
	SortNewest:     {{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}},
	SortOldest:     {{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}},
	SortAmountDesc: {{Key: "terms.amount", Value: -1}, {Key: "_id", Value: -1}},
	SortAmountAsc:  {{Key: "terms.amount", Value: 1}, {Key: "_id", Value: 1}},
	SortUpdated:    {{Key: "updatedAt", Value: -1}, {Key: "_id", Value: -1}},
}

// ValidLoanSort reports whether sort names a list order.
func ValidLoanSort(sort string) bool { _, ok := loanSorts[sort]; return ok }

// LoanListParams selects a page of loans.
type LoanListParams struct {
	LoanFilter
	Sort  string // one of the Sort constants; empty is newest first
	Skip  int
	Limit int // 1–100; 0 means 25
}

// listProjection leaves out of a loan what neither a list row nor an
// export shows (history, score, flags and their acknowledgements,
// approvals, disbursement, intake key): decoding it was most of a row's
// cost.
var listProjection = bson.D{
	{Key: "searchKeys", Value: 0}, {Key: "history", Value: 0}, {Key: "score", Value: 0},
	{Key: "flags", Value: 0}, {Key: "flagAcks", Value: 0}, {Key: "approvals", Value: 0},
	{Key: "disbursement", Value: 0}, {Key: "firstEmiDate", Value: 0},
	{Key: "intakeKey", Value: 0}, {Key: "intakeHash", Value: 0}, {Key: "cityKey", Value: 0},
}

// LoanList returns one page of the loans p matches, as list rows. A
// loan whose other fields do not decode (data written by something else)
// is still listed, and its page reports the error: before rows, one such
// document failed every list page it was on. The
// documents are read with listProjection, not an inclusion of the row's
// fields: the embedded engine remembers rows decoded from documents less
// top-level fields (and only those), so a page of rows it has decoded
// before costs copies, not decoding.
func (s *Store) LoanList(ctx context.Context, p LoanListParams) ([]model.LoanSummary, error) {
	limit := p.Limit
	if limit <= 0 || limit > 100 {
		limit = 25
	}
	sort, ok := loanSorts[p.Sort]
	if !ok {
		sort = loanSorts[SortNewest]
	}
	opts := options.Find().
		SetSort(sort).
		SetSkip(int64(max(p.Skip, 0))).
		SetLimit(int64(limit)).
		SetProjection(listProjection)
	cur, err := s.loans.Find(ctx, s.loanQuery(p.LoanFilter), opts)
	if err != nil {
		return nil, fmt.Errorf("store: list loans: %w", err)
	}
	var loans []model.LoanSummary
	if err := cur.All(ctx, &loans); err != nil {
		return nil, fmt.Errorf("store: list loans: %w", err)
	}
	return loans, nil
}

// LoanGet returns the application numbered humanID (LN-2026-000123),
// with its history, or ErrNotFound.
func (s *Store) LoanGet(ctx context.Context, humanID string) (model.Loan, error) {
	var l model.Loan
	err := s.loans.FindOne(ctx, bson.M{"humanId": humanID}, options.FindOne().SetProjection(bson.M{"searchKeys": 0})).Decode(&l)
	if err != nil {
		return model.Loan{}, fmt.Errorf("store: get loan %s: %w", humanID, notFound(err))
	}
	return l, nil
}

// LoanUpdate writes next, the loan as it will stand after change, only if
// the stored loan is still at next.Version (the version the change was
// made against). The store decides what that means in the document: one
// atomic write with the filter {_id, version} that sets the applicant,
// the terms, the status, the assignee, the pending approvals, the flags'
// acknowledgements, the disbursement and the first
// EMI date once set, the search keys and city key derived from them,
// the status time when change moves the status (change.At),
// and who updated it when, increments version and appends the history
// entry (its Version filled in here). It returns the loan as stored. A
// newer version gives ErrConflict with nothing written; a missing loan
// ErrNotFound. The score and the flags are not touched: LoanSetScore and
// LoanAddFlag own them.
func (s *Store) LoanUpdate(ctx context.Context, next model.Loan, change model.LoanChange) (model.Loan, error) {
	return s.loanUpdate(ctx, next, change, false)
}

// LoanDecide is LoanUpdate for a decision that rests on the score and
// the flags, which change without a new version (so open forms stay
// valid): the write also requires the score and the flags next was read
// with. One that landed since is ErrConflict, and the caller decides
// again on what is there now.
func (s *Store) LoanDecide(ctx context.Context, next model.Loan, change model.LoanChange) (model.Loan, error) {
	return s.loanUpdate(ctx, next, change, true)
}

func (s *Store) loanUpdate(ctx context.Context, next model.Loan, change model.LoanChange, decided bool) (model.Loan, error) {
	change.Version = next.Version + 1
	set := bson.M{
		"applicant":  next.Applicant,
		"terms":      next.Terms,
		"status":     next.Status,
		"searchKeys": LoanSearchKeys(next),
		"updatedAt":  change.At,
		"updatedBy":  change.By,
	}
	if statusChanged(change) {
		set["statusAt"] = change.At
	}
	unset := bson.M{}
	update := bson.M{"$set": set, "$inc": bson.M{"version": int64(1)}, "$push": bson.M{"history": change}}
	if key := CityKey(next.Applicant.City); key != "" { // as an insert leaves an empty one: unset
		set["cityKey"] = key
	} else {
		unset["cityKey"] = ""
	}
	if next.Assignee != "" { // empty ones are unset, as an insert leaves them (omitempty)
		set["assignee"] = next.Assignee
	} else {
		unset["assignee"] = ""
	}
	if len(next.Approvals) > 0 {
		set["approvals"] = next.Approvals
	} else {
		unset["approvals"] = ""
	}
	if len(next.FlagAcks) > 0 {
		set["flagAcks"] = next.FlagAcks
	}
	if next.Disbursement != nil {
		set["disbursement"] = next.Disbursement
	}
	if !next.FirstEMIDate.IsZero() {
		set["firstEmiDate"] = next.FirstEMIDate
	}
	if len(unset) > 0 {
		update["$unset"] = unset
	}
	filter := bson.M{"_id": next.ID, "version": next.Version}
	if decided {
		filter["flags."+strconv.Itoa(len(next.Flags))] = bson.M{"$exists": false}
		if next.Score == nil {
			filter["score"] = bson.M{"$exists": false}
		} else {
			filter["score.scoredAt"] = next.Score.ScoredAt
		}
	}
	var l model.Loan
	err := s.loans.FindOneAndUpdate(ctx,
		filter,
		update,
		s.withoutSearchKeys(options.FindOneAndUpdate().SetReturnDocument(options.After)),
	).Decode(&l)
	if errors.Is(err, mongo.ErrNoDocuments) {
		n, cerr := s.loans.CountDocuments(ctx, bson.M{"_id": next.ID})
		switch {
		case cerr != nil:
			return model.Loan{}, fmt.Errorf("store: update loan %s: %w", next.ID.Hex(), cerr)
		case n == 0:
			return model.Loan{}, fmt.Errorf("store: update loan %s: %w", next.ID.Hex(), ErrNotFound)
		}
		return model.Loan{}, fmt.Errorf("store: update loan %s at version %d: %w", next.ID.Hex(), next.Version, ErrConflict)
	}
	if err != nil {
		return model.Loan{}, fmt.Errorf("store: update loan %s: %w", next.ID.Hex(), err)
	}
	return l, nil
}

// LoanSetScore records a score computed from version of the loan. It
// changes neither the version nor the history (scoring edits nothing an
// admin edits), but it lands only on that version: after an edit it
// returns ErrConflict, and the scorer reads the loan again. A recorded
// score is in the loan's history (ActivityOfLoan).
func (s *Store) LoanSetScore(ctx context.Context, id primitive.ObjectID, version int64, score model.LoanScore) error {
	score.Version = version
	err := updateMatched(ctx, s.loans, bson.M{"_id": id, "version": version}, bson.M{"$set": bson.M{"score": score}},
		ErrConflict, fmt.Sprintf("score loan %s at version %d", id.Hex(), version))
	if err == nil {
		s.recordScore(ctx, id, score)
	}
	return err
}

// LoanByID returns the loan with _id id.
func (s *Store) LoanByID(ctx context.Context, id primitive.ObjectID) (model.Loan, error) {
	var l model.Loan
	err := s.loans.FindOne(ctx, bson.M{"_id": id}, options.FindOne().SetProjection(bson.M{"searchKeys": 0})).Decode(&l)
	if err != nil {
		return model.Loan{}, fmt.Errorf("store: loan %s: %w", id.Hex(), notFound(err))
	}
	return l, nil
}

// LoanCount returns the number of loans.
func (s *Store) LoanCount(ctx context.Context) (int64, error) {
	n, err := s.loans.CountDocuments(ctx, bson.M{})
	if err != nil {
		return 0, fmt.Errorf("store: count loans: %w", err)
	}
	return n, nil
}

// LoanCreate files a new application: it numbers it LN-<year>-NNNNNN
// with the next loan number and inserts l at version 1. With an idempotency key, a second call with the
// same key returns the application the first filed (created false) when
// hash matches, and model.ErrKeyReused when it does not; a unique index on
// intakeKey makes that hold for concurrent retries too.
func (s *Store) LoanCreate(ctx context.Context, l model.Loan, year int, key, hash string) (model.Loan, bool, error) {
	if key != "" {
		if existing, err := s.loanByIntakeKey(ctx, key, hash); !errors.Is(err, ErrNotFound) {
			return existing, false, err
		}
	}
	seq, err := s.LoanReserveNumbers(ctx, 1)
	if err != nil {
		return model.Loan{}, false, err
	}
	l.ID = primitive.NewObjectID()
	l.HumanID = fmt.Sprintf("LN-%d-%06d", year, seq)
	l.Version = 1
	l.IntakeKey, l.IntakeHash = key, hash
	l.SearchKeys = LoanSearchKeys(l)
	fillDerived(&l)
	if _, err := s.loans.InsertOne(ctx, l); err != nil {
		if isDuplicateKey(err) && key != "" {
			existing, err := s.loanByIntakeKey(ctx, key, hash) // a concurrent retry won
			return existing, false, err
		}
		return model.Loan{}, false, fmt.Errorf("store: create loan: %w", err)
	}
	got, err := s.LoanByID(ctx, l.ID)
	return got, true, err
}

func (s *Store) loanByIntakeKey(ctx context.Context, key, hash string) (model.Loan, error) {
	var l model.Loan
	err := s.loans.FindOne(ctx, bson.M{"intakeKey": key}, options.FindOne().SetProjection(bson.M{"searchKeys": 0})).Decode(&l)
	if err != nil {
		return model.Loan{}, fmt.Errorf("store: loan by intake key: %w", notFound(err))
	}
	if l.IntakeHash != hash {
		return model.Loan{}, fmt.Errorf("store: loan by intake key: %w", model.ErrKeyReused)
	}
	return l, nil
}

// OpenStatuses are the statuses of applications still being worked.
var OpenStatuses = []string{model.StatusSubmitted, model.StatusUnderReview, model.StatusOnHold, model.StatusApprovalPending, model.StatusApproved}

// LoanNumbersOpenWithPAN returns the numbers of open applications (see
// OpenStatuses) whose applicant has pan, except the one with _id except.
func (s *Store) LoanNumbersOpenWithPAN(ctx context.Context, pan string, except primitive.ObjectID) ([]string, error) {
	cur, err := s.loans.Find(ctx, bson.M{"applicant.pan": pan, "status": bson.M{"$in": OpenStatuses}, "_id": bson.M{"$ne": except}},
		options.Find().SetProjection(bson.M{"humanId": 1}).SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(20))
	if err != nil {
		return nil, fmt.Errorf("store: loans with PAN: %w", err)
	}
	var found []struct {
		HumanID string `bson:"humanId"`
	}
	if err := cur.All(ctx, &found); err != nil {
		return nil, fmt.Errorf("store: loans with PAN: %w", err)
	}
	out := make([]string, len(found))
	for i, f := range found {
		out[i] = f.HumanID
	}
	return out, nil
}

// LoanAddFlag adds f to the application numbered humanID unless it has
// one with the same code and other loan already. It makes no new version
// (like a score, it edits nothing staff edit). A missing application is
// ErrNotFound.
func (s *Store) LoanAddFlag(ctx context.Context, humanID string, f model.Flag) error {
	res, err := s.loans.UpdateOne(ctx,
		bson.M{"humanId": humanID, "flags": bson.M{"$not": bson.M{"$elemMatch": bson.M{"code": f.Code, "otherLoan": f.OtherLoan}}}},
		bson.M{"$push": bson.M{"flags": f}})
	if err != nil {
		return fmt.Errorf("store: flag loan %s: %w", humanID, err)
	}
	if res.MatchedCount == 0 {
		if n, err := s.loans.CountDocuments(ctx, bson.M{"humanId": humanID}); err != nil || n == 0 {
			return fmt.Errorf("store: flag loan %s: %w", humanID, cmp.Or(err, ErrNotFound))
		}
	}
	return nil
}
