package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"

	"loandesk/model"
)

// activity is the applications' history beyond their versioned changes
// (model.Activity): the store records each entry right after the write
// it describes, so an upload, a read, a score or a job given up is in
// the history whoever made it happen.
func (s *Store) activity() lungo.ICollection { return s.db.Collection("activity") }

// ActivityAdd records a. Its time is now unless set.
func (s *Store) ActivityAdd(ctx context.Context, a model.Activity) error {
	a.ID = primitive.NewObjectID()
	if a.At.IsZero() {
		a.At = s.now()
	}
	if _, err := s.activity().InsertOne(ctx, a); err != nil {
		return fmt.Errorf("store: record activity on loan %s: %w", a.LoanID.Hex(), err)
	}
	return nil
}

// ActivityOfLoan returns the newest limit (1–500) activities of a loan,
// newest first.
func (s *Store) ActivityOfLoan(ctx context.Context, loanID primitive.ObjectID, limit int) ([]model.Activity, error) {
	limit = min(max(limit, 1), 500)
	cur, err := s.activity().Find(ctx, bson.M{"loanId": loanID},
		options.Find().SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("store: activity of loan %s: %w", loanID.Hex(), err)
	}
	out := []model.Activity{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: activity of loan %s: %w", loanID.Hex(), err)
	}
	return out, nil
}

// record adds a after the write it describes has landed: that write
// stands whatever happens here, so a failure is logged, not returned
// (returning it would have a job run again and record its work twice).
func (s *Store) record(ctx context.Context, a model.Activity) {
	if err := s.ActivityAdd(context.WithoutCancel(ctx), a); err != nil {
		s.logger.Error("store: recording an application's activity failed", "loan", a.LoanID.Hex(), "kind", a.Kind, "err", err)
	}
}

// recordDocument records kind on d's application.
func (s *Store) recordDocument(ctx context.Context, id primitive.ObjectID, kind, text, raw string) {
	d, err := s.DocumentGet(ctx, id)
	if err != nil {
		s.logger.Error("store: recording a document's activity failed", "document", id.Hex(), "kind", kind, "err", err)
		return
	}
	s.record(ctx, model.Activity{LoanID: d.LoanID, Kind: kind, Subject: d.Filename, Text: text, Raw: raw})
}

// recordScore records a score on the loan with _id id.
func (s *Store) recordScore(ctx context.Context, id primitive.ObjectID, score model.LoanScore) {
	s.record(ctx, model.Activity{LoanID: id, Kind: model.ActivityScored, Subject: score.Recommendation, Text: strconv.Itoa(score.Points)})
}

// recordDeadEvent records a job given up on the application it works on.
func (s *Store) recordDeadEvent(ctx context.Context, ev Event, cause string) {
	if ev.LoanID == "" {
		return
	}
	var l struct {
		ID primitive.ObjectID `bson:"_id"`
	}
	err := s.loans.FindOne(ctx, bson.M{"humanId": ev.LoanID}, options.FindOne().SetProjection(bson.M{"_id": 1})).Decode(&l)
	if err != nil {
		if !errors.Is(notFound(err), ErrNotFound) {
			s.logger.Error("store: recording a failed job's activity failed", "event", ev.ID.Hex(), "err", err)
		}
		return
	}
	s.record(ctx, model.Activity{LoanID: l.ID, Kind: model.ActivityJobFailed, Subject: ev.Type, Raw: cause})
}
