package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"loandesk/model"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func (s *Store) documentFiles() *lungo.Bucket {
	return lungo.NewBucket(s.db, options.GridFSBucket().SetName("documents"))
}

// DocumentCreate stores a document's bytes in GridFS and its record,
// pending OCR, under d.ID (a new id when zero). The caller publishes the
// OCR event next; if the process dies between the two,
// DocumentsAwaitingOCR finds the record again.
func (s *Store) DocumentCreate(ctx context.Context, d model.Document, content io.Reader) (model.Document, error) {
	if d.ID.IsZero() {
		d.ID = primitive.NewObjectID()
	}
	fileID, err := s.documentFiles().UploadFromStream(ctx, d.Filename, content,
		options.GridFSUpload().SetMetadata(bson.M{"documentId": d.ID, "contentType": d.ContentType}))
	if err != nil {
		return model.Document{}, fmt.Errorf("store: store the file of a document: %w", err)
	}
	now := s.now()
	d.FileID, d.Status, d.UploadedAt, d.UpdatedAt = fileID, model.DocumentPending, now, now
	if _, err := s.documents.InsertOne(ctx, d); err != nil {
		_ = s.documentFiles().Delete(context.WithoutCancel(ctx), fileID)
		return model.Document{}, fmt.Errorf("store: insert document: %w", err)
	}
	return d, nil
}

// DocumentGet returns one document's record.
func (s *Store) DocumentGet(ctx context.Context, id primitive.ObjectID) (model.Document, error) {
	var d model.Document
	if err := s.documents.FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return model.Document{}, fmt.Errorf("store: document %s: %w", id.Hex(), notFound(err))
	}
	return d, nil
}

// DocumentsOfLoan returns a loan's documents, oldest first.
func (s *Store) DocumentsOfLoan(ctx context.Context, loanID primitive.ObjectID) ([]model.Document, error) {
	cur, err := s.documents.Find(ctx, bson.M{"loanId": loanID},
		options.Find().SetSort(bson.D{{Key: "uploadedAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("store: documents of loan %s: %w", loanID.Hex(), err)
	}
	out := []model.Document{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: documents of loan %s: %w", loanID.Hex(), err)
	}
	return out, nil
}

// DocumentContent writes a document's bytes to w.
func (s *Store) DocumentContent(ctx context.Context, d model.Document, w io.Writer) (int64, error) {
	n, err := s.documentFiles().DownloadToStream(ctx, d.FileID, w)
	if err != nil {
		return n, fmt.Errorf("store: read document %s: %w", d.ID.Hex(), err)
	}
	return n, nil
}

// DocumentSetStatus records a document's progress (and its error, when
// failed). Failed is also recorded in its application's history, with
// the error for admins.
func (s *Store) DocumentSetStatus(ctx context.Context, id primitive.ObjectID, status, errText string) error {
	set := bson.M{"status": status, "updatedAt": s.now()}
	update := bson.M{"$set": set}
	if errText != "" {
		set["error"] = errText
	} else {
		update["$unset"] = bson.M{"error": ""}
	}
	if err := s.documentUpdate(ctx, id, update); err != nil {
		return err
	}
	if status == model.DocumentFailed {
		s.recordDocument(ctx, id, model.ActivityUnreadable, "", errText)
	}
	return nil
}

// DocumentSetOCR records what OCR read and marks the document done, and
// that it was read (and how) in its application's history.
func (s *Store) DocumentSetOCR(ctx context.Context, id primitive.ObjectID, r model.OCRResult) error {
	err := s.documentUpdate(ctx, id, bson.M{
		"$set":   bson.M{"status": model.DocumentDone, "ocr": r, "updatedAt": s.now()},
		"$unset": bson.M{"error": ""},
	})
	if err == nil {
		s.recordDocument(ctx, id, model.ActivityRead, r.Method, "")
	}
	return err
}

func (s *Store) documentUpdate(ctx context.Context, id primitive.ObjectID, update bson.M) error {
	return updateMatched(ctx, s.documents, bson.M{"_id": id}, update, ErrNotFound, "update document "+id.Hex())
}

// DocumentsAwaitingOCR lists documents still pending that were uploaded
// before olderThan: the sweeper republishes their OCR events (publishing
// is idempotent by dedupe key), so a crash between storing a document
// and publishing its event loses no work.
func (s *Store) DocumentsAwaitingOCR(ctx context.Context, olderThan time.Time, limit int) ([]model.Document, error) {
	cur, err := s.documents.Find(ctx, bson.M{"status": model.DocumentPending, "uploadedAt": bson.M{"$lt": olderThan}, "deleted": bson.M{"$exists": false}},
		options.Find().SetSort(bson.D{{Key: "uploadedAt", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("store: documents awaiting OCR: %w", err)
	}
	var out []model.Document
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: documents awaiting OCR: %w", err)
	}
	return out, nil
}

// DocumentUpload stores a document, records the upload in its
// application's history and queues its OCR. The two are not one
// transaction (MongoDB has none outside replica sets): a crash between
// them leaves a pending document without an event, which the sweeper
// (DocumentsAwaitingOCR) publishes.
func (s *Store) DocumentUpload(ctx context.Context, d model.Document, content io.Reader) (model.Document, error) {
	d, err := s.DocumentCreate(ctx, d, content)
	if err != nil {
		return model.Document{}, err
	}
	s.record(ctx, model.Activity{LoanID: d.LoanID, At: d.UploadedAt, By: d.UploadedBy, Kind: model.ActivityUploaded, Subject: d.Filename, Text: d.Kind})
	if _, err := s.PublishDocumentOCR(ctx, d); err != nil {
		// Stored all the same: the sweeper publishes it later.
		return d, fmt.Errorf("store: document stored, its OCR not yet queued: %w", err)
	}
	return d, nil
}

// DocumentDelete removes document id from its application, by by for
// reason: it is marked deleted (it is no longer read or scored), its
// record and file are kept, and the deletion is in the application's
// history. A document deleted already is ErrConflict, returned with the
// document as it stands (who deleted it, when, why); a missing one
// ErrNotFound.
func (s *Store) DocumentDelete(ctx context.Context, id primitive.ObjectID, by, reason string) (model.Document, error) {
	return s.documentDelete(ctx, id, model.DocumentDeletion{By: by, At: s.now(), Reason: reason})
}

func (s *Store) documentDelete(ctx context.Context, id primitive.ObjectID, del model.DocumentDeletion) (model.Document, error) {
	var d model.Document
	err := s.documents.FindOneAndUpdate(ctx,
		bson.M{"_id": id, "deleted": bson.M{"$exists": false}},
		bson.M{"$set": bson.M{"deleted": del, "updatedAt": del.At}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		cur, gerr := s.DocumentGet(ctx, id)
		if gerr != nil {
			return model.Document{}, gerr
		}
		return cur, fmt.Errorf("store: delete document %s: deleted already by %s: %w", id.Hex(), cur.Deleted.By, ErrConflict)
	}
	if err != nil {
		return model.Document{}, fmt.Errorf("store: delete document %s: %w", id.Hex(), err)
	}
	if del.ReplacedBy.IsZero() {
		s.record(ctx, model.Activity{LoanID: d.LoanID, At: del.At, By: del.By, Kind: model.ActivityDeleted, Subject: d.Filename, Text: del.Reason})
	}
	return d, nil
}

// DocumentReplace uploads d in place of old (a document of the same
// application) for reason (staff's words, required by the caller): old
// is first marked deleted as replaced by d, with reason, only if nobody
// deleted or replaced it meanwhile; then d is stored and queued for
// reading like any upload, and the replacement is in the application's
// history. Of two replacements of one document at once exactly one is
// stored; the other is ErrConflict, returned with old as it then stands
// (who replaced or deleted it), and stores nothing — so is one of a
// document deleted already. If d cannot be stored, old is put back.
// (A crash between the two leaves old marked replaced by a document that
// was never stored: the panel then lists it replaced, and staff upload
// the new file again.)
func (s *Store) DocumentReplace(ctx context.Context, old model.Document, d model.Document, reason string, content io.Reader) (model.Document, error) {
	if old.Deleted != nil {
		return old, fmt.Errorf("store: replace document %s: deleted already by %s: %w", old.ID.Hex(), old.Deleted.By, ErrConflict)
	}
	d.ID, d.Replaces = primitive.NewObjectID(), old.ID
	cur, err := s.documentDelete(ctx, old.ID, model.DocumentDeletion{By: d.UploadedBy, At: s.now(), Reason: reason, ReplacedBy: d.ID, ReplacedWith: d.Filename})
	if err != nil {
		return cur, err
	}
	newID := d.ID
	d, err = s.DocumentCreate(ctx, d, content)
	if err != nil {
		if _, uerr := s.documents.UpdateOne(context.WithoutCancel(ctx), bson.M{"_id": old.ID, "deleted.replacedBy": newID},
			bson.M{"$unset": bson.M{"deleted": ""}}); uerr != nil {
			s.logger.Error("store: a failed replacement left its old document marked replaced", "document", old.ID.Hex(), "err", uerr)
		}
		return model.Document{}, err
	}
	s.record(ctx, model.Activity{LoanID: d.LoanID, At: d.UploadedAt, By: d.UploadedBy, Kind: model.ActivityReplaced, Subject: old.Filename, Text: d.Filename, Reason: reason})
	if _, err := s.PublishDocumentOCR(ctx, d); err != nil {
		return d, fmt.Errorf("store: document stored, its OCR not yet queued: %w", err)
	}
	return d, nil
}
