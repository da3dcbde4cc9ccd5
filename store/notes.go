package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"

	"loandesk/model"
)

// NoteAdd stores n (a new id is given; n.LoanID must be a stored loan's,
// which the caller has read) and returns it as stored. The loan itself is
// not written: notes make no version.
func (s *Store) NoteAdd(ctx context.Context, n model.Note) (model.Note, error) {
	n.ID = primitive.NewObjectID()
	if _, err := s.notes.InsertOne(ctx, n); err != nil {
		return model.Note{}, fmt.Errorf("store: add note to %s: %w", n.LoanHumanID, err)
	}
	return n, nil
}

// NotesOfLoan returns the newest limit notes of the loan with _id
// loanID, newest first (none: an empty slice, not an error).
func (s *Store) NotesOfLoan(ctx context.Context, loanID primitive.ObjectID, limit int) ([]model.Note, error) {
	cur, err := s.notes.Find(ctx, bson.M{"loanId": loanID}, options.Find().
		SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(max(limit, 1))))
	if err != nil {
		return nil, fmt.Errorf("store: notes of loan %s: %w", loanID.Hex(), err)
	}
	notes := []model.Note{}
	if err := cur.All(ctx, &notes); err != nil {
		return nil, fmt.Errorf("store: notes of loan %s: %w", loanID.Hex(), err)
	}
	return notes, nil
}
