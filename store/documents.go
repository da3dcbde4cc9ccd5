package store

import (
	"context"
	"fmt"
	"io"
	"time"

	"loandesk/model"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func (s *Store) documentFiles() *lungo.Bucket {
	return lungo.NewBucket(s.db, options.GridFSBucket().SetName("documents"))
}

// DocumentCreate stores a document's bytes in GridFS and its record,
// pending OCR. The caller publishes the OCR event next; if the process
// dies between the two, DocumentsAwaitingOCR finds the record again.
func (s *Store) DocumentCreate(ctx context.Context, d model.Document, content io.Reader) (model.Document, error) {
	d.ID = primitive.NewObjectID()
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
// failed).
func (s *Store) DocumentSetStatus(ctx context.Context, id primitive.ObjectID, status, errText string) error {
	set := bson.M{"status": status, "updatedAt": s.now()}
	update := bson.M{"$set": set}
	if errText != "" {
		set["error"] = errText
	} else {
		update["$unset"] = bson.M{"error": ""}
	}
	return s.documentUpdate(ctx, id, update)
}

// DocumentSetOCR records what OCR read and marks the document done.
func (s *Store) DocumentSetOCR(ctx context.Context, id primitive.ObjectID, r model.OCRResult) error {
	return s.documentUpdate(ctx, id, bson.M{
		"$set":   bson.M{"status": model.DocumentDone, "ocr": r, "updatedAt": s.now()},
		"$unset": bson.M{"error": ""},
	})
}

func (s *Store) documentUpdate(ctx context.Context, id primitive.ObjectID, update bson.M) error {
	return updateMatched(ctx, s.documents, bson.M{"_id": id}, update, ErrNotFound, "update document "+id.Hex())
}

// DocumentsAwaitingOCR lists documents still pending that were uploaded
// before olderThan: the sweeper republishes their OCR events (publishing
// is idempotent by dedupe key), so a crash between storing a document
// and publishing its event loses no work.
func (s *Store) DocumentsAwaitingOCR(ctx context.Context, olderThan time.Time, limit int) ([]model.Document, error) {
	cur, err := s.documents.Find(ctx, bson.M{"status": model.DocumentPending, "uploadedAt": bson.M{"$lt": olderThan}},
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

// DocumentUpload stores a document and queues its OCR. The two are not
// one transaction (MongoDB has none outside replica sets): a crash
// between them leaves a pending document without an event, which the
// sweeper (DocumentsAwaitingOCR) publishes.
func (s *Store) DocumentUpload(ctx context.Context, d model.Document, content io.Reader) (model.Document, error) {
	d, err := s.DocumentCreate(ctx, d, content)
	if err != nil {
		return model.Document{}, err
	}
	if _, err := s.PublishDocumentOCR(ctx, d); err != nil {
		// Stored all the same: the sweeper publishes it later.
		return d, fmt.Errorf("store: document stored, its OCR not yet queued: %w", err)
	}
	return d, nil
}
