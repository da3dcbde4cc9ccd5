package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"

	"loandesk/model"
)

// loanKeysDone marks, in counters, that every loan has its city key and
// status time (fields added for the work queue's filters), so later
// starts skip the scan.
const loanKeysDone = "migrated:loan-keys-1"

// backfillLoanKeys gives loans stored before the city and ageing filters
// their cityKey and statusAt: the status time is the last history entry
// that moved the status, or the filing time. Each is set only where still
// missing (see setLoanKeys); it runs once per database, and concurrent
// starts write the same values.
func (s *Store) backfillLoanKeys(ctx context.Context) error {
	n, err := s.counters.CountDocuments(ctx, bson.M{"_id": loanKeysDone})
	if err != nil || n > 0 {
		return err
	}
	cur, err := s.loans.Find(ctx,
		bson.M{"$or": bson.A{bson.M{"cityKey": bson.M{"$exists": false}}, bson.M{"statusAt": bson.M{"$exists": false}}}},
		options.Find().SetProjection(bson.M{"_id": 1, "applicant.city": 1, "createdAt": 1, "history": 1}))
	if err != nil {
		return fmt.Errorf("store: find loans without a city key or status time: %w", err)
	}
	var loans []model.Loan
	if err := cur.All(ctx, &loans); err != nil {
		return fmt.Errorf("store: find loans without a city key or status time: %w", err)
	}
	for _, l := range loans {
		at := l.CreatedAt
		for _, h := range l.History {
			if statusChanged(h) {
				at = h.At
			}
		}
		if err := s.setLoanKeys(ctx, l.ID, CityKey(l.Applicant.City), at); err != nil {
			return err
		}
	}
	if len(loans) > 0 {
		s.logger.Info("store: gave loans stored before the work queue's city and ageing filters their keys", "loans", len(loans))
	}
	_, err = s.counters.UpdateOne(ctx, bson.M{"_id": loanKeysDone}, bson.M{"$set": bson.M{"at": time.Now().UTC()}}, options.Update().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("store: mark the loan keys done: %w", err)
	}
	return nil
}

// setLoanKeys sets each of the two only where it is still missing: a
// save meanwhile set the city key from the city it saved, and a status
// change the status time, and a save that changed neither left the
// history this status time was read from as it was.
func (s *Store) setLoanKeys(ctx context.Context, id primitive.ObjectID, cityKey string, statusAt time.Time) error {
	for field, value := range map[string]any{"cityKey": cityKey, "statusAt": statusAt} {
		_, err := s.loans.UpdateOne(ctx, bson.M{"_id": id, field: bson.M{"$exists": false}}, bson.M{"$set": bson.M{field: value}})
		if err != nil {
			return fmt.Errorf("store: set loan %s's %s: %w", id.Hex(), field, err)
		}
	}
	return nil
}
