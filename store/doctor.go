package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// DoctorParams sizes `loandesk doctor`'s concurrent workloads.
type DoctorParams struct {
	// Writers is how many goroutines race in each workload (default 8).
	Writers int
	// Ops is how many operations each writer makes in the update races
	// (default 50; the claim race publishes Writers×Ops/2 events).
	Ops int
}

// Check is one line of the doctor's table.
type Check struct {
	Name   string // what was checked, e.g. "versioned update race"
	Status string // CheckPass, CheckWarn or CheckFail
	Detail string // figures and, on failure, what Loan Desk loses
}

// Check statuses: a warning is worth knowing and does not fail doctor.
const (
	CheckPass = "pass"
	CheckWarn = "warn"
	CheckFail = "fail"
)

// DoctorScratchPrefix starts the names of the collections doctor works
// in; it drops them before it returns.
const DoctorScratchPrefix = "doctor_scratch_"

// Doctor checks, against the store's database, the guarantees Loan
// Desk relies on, with small concurrent workloads in scratch
// collections (named DoctorScratchPrefix + a random id) that it drops
// afterwards: server and durability, the indexes the app asked for at
// start (Degraded), unique, partial unique and TTL indexes, the
// versioned-update race, concurrent $inc, exactly-once claims with
// findAndModify, a unique index under an insert race, and distributed
// locks with fencing tokens. It returns one Check per guarantee, in
// that order; a guarantee that does not hold is a CheckFail whose
// Detail gives the figures (for example the number of lost updates).
// The error is non-nil only when a scratch collection could not be
// dropped (the checks are still returned) or ctx ended.
func (s *Store) Doctor(ctx context.Context, p DoctorParams) ([]Check, error) {
	if p.Writers <= 0 {
		p.Writers = 8
	}
	if p.Ops <= 0 {
		p.Ops = 50
	}
	d := &doctor{s: s, p: p, prefix: DoctorScratchPrefix + primitive.NewObjectID().Hex() + "_"}
	checks := []Check{
		d.server(ctx),
		d.durability(ctx),
		d.startup(),
		d.indexes(ctx),
		d.versionedRace(ctx),
		d.incRace(ctx),
		d.claims(ctx),
		d.uniqueRace(ctx),
		d.locks(ctx),
	}
	if err := d.cleanUp(context.WithoutCancel(ctx)); err != nil {
		return checks, err
	}
	return checks, ctx.Err()
}

type doctor struct {
	s      *Store
	p      DoctorParams
	prefix string
	colls  []string
}

// coll is the scratch collection name, dropped by cleanUp.
func (d *doctor) coll(name string) lungo.ICollection {
	full := d.prefix + name
	if !slices.Contains(d.colls, full) {
		d.colls = append(d.colls, full)
	}
	return d.s.db.Collection(full)
}

func (d *doctor) cleanUp(ctx context.Context) error {
	var errs []error
	for _, name := range d.colls {
		if err := d.s.db.Collection(name).Drop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("store: doctor: drop scratch collection %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func fail(name string, format string, args ...any) Check {
	return Check{Name: name, Status: CheckFail, Detail: fmt.Sprintf(format, args...)}
}

func pass(name string, format string, args ...any) Check {
	return Check{Name: name, Status: CheckPass, Detail: fmt.Sprintf(format, args...)}
}

// server pings and names the server and its version.
func (d *doctor) server(ctx context.Context) Check {
	const name = "connect and ping"
	if err := d.s.Ping(ctx); err != nil {
		return fail(name, "%v", err)
	}
	if d.s.Embedded() {
		engine := "indexed"
		if d.s.engine != nil {
			engine = "lungo"
		}
		return pass(name, "embedded engine (%s) in DATA_DIR", engine)
	}
	var info bson.M
	if err := d.s.db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return pass(name, "server answers; buildInfo refused: %v", err)
	}
	detail := fmt.Sprintf("server version %v", info["version"])
	if v, ok := info["ferretdbVersion"]; ok {
		detail += fmt.Sprintf(" (FerretDB %v)", v)
	}
	return pass(name, "%s", detail)
}

// durability reports the write concern and what stands behind it.
func (d *doctor) durability(ctx context.Context) Check {
	const name = "durability"
	if d.s.Embedded() {
		return pass(name, "every commit is synced to disk before it is answered")
	}
	var hello bson.M
	if err := d.s.db.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		return Check{Name: name, Status: CheckWarn, Detail: fmt.Sprintf("writes use w: majority; hello refused: %v", err)}
	}
	switch {
	case hello["setName"] != nil:
		return pass(name, "replica set %v; writes use w: majority and retryable writes", hello["setName"])
	case hello["msg"] == "isdbgrid":
		return pass(name, "sharded cluster (mongos); writes use w: majority and retryable writes")
	}
	return Check{Name: name, Status: CheckWarn, Detail: "standalone server: w: majority is this one server (no failover); " +
		"no transactions (an account change and its audit entry are then two writes) or change streams (unused)"}
}

// startup reports what the store degraded when it opened.
func (d *doctor) startup() Check {
	const name = "app's indexes and queries at start"
	deg := d.s.Degraded()
	if len(deg) == 0 {
		return pass(name, "every index created as asked; findAndModify projections, $elemMatch ranges and transactions answered right")
	}
	byFeature := map[string][]string{}
	var features []string
	for _, g := range deg {
		if _, ok := byFeature[g.Feature]; !ok {
			features = append(features, g.Feature)
		}
		byFeature[g.Feature] = append(byFeature[g.Feature], g.Collection+"."+g.Keys)
	}
	parts := make([]string, len(features))
	for i, f := range features {
		parts[i] = fmt.Sprintf("%s missing (%s)", f, strings.Join(byFeature[f], ", "))
	}
	return fail(name, "%d degraded: %s", len(deg), strings.Join(parts, "; "))
}

// indexes creates a unique, a partial unique and a TTL index on a
// scratch collection and checks that the first two refuse a duplicate.
func (d *doctor) indexes(ctx context.Context) Check {
	const name = "unique, partial and TTL indexes"
	c := d.coll("indexes")
	var missing, ok []string
	if _, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "u", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
		missing = append(missing, fmt.Sprintf("unique refused (%v)", err))
	} else if dup := d.refusesSecond(ctx, c, bson.M{"u": 1}); dup != "" {
		missing = append(missing, "unique "+dup)
	} else {
		ok = append(ok, "unique")
	}
	partial := options.Index().SetUnique(true).SetPartialFilterExpression(bson.M{"p": bson.M{"$exists": true}})
	if _, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "p", Value: 1}}, Options: partial}); err != nil {
		missing = append(missing, fmt.Sprintf("partial unique refused (%v)", err))
	} else if dup := d.refusesSecond(ctx, c, bson.M{"p": "x"}); dup != "" {
		missing = append(missing, "partial unique "+dup)
	} else {
		ok = append(ok, "partial unique")
	}
	if _, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "t", Value: 1}}, Options: options.Index().SetExpireAfterSeconds(0)}); err != nil {
		instead := ""
		if refusesOption(err, "expireAfterSeconds") {
			instead = fmt.Sprintf(": the store deletes expired sessions, sign-in counters, locks, finished events and heartbeats itself every %s", d.s.ttlInterval)
		}
		missing = append(missing, fmt.Sprintf("TTL refused (%v)%s", err, instead))
	} else {
		ok = append(ok, "TTL")
	}
	if len(missing) > 0 {
		return fail(name, "%s", strings.Join(missing, "; "))
	}
	return pass(name, "%s created; a duplicate key refused by each unique one", strings.Join(ok, ", "))
}

// refusesSecond inserts doc twice (with new ids) and says what went
// wrong, or "" when the second insert was refused as a duplicate.
func (d *doctor) refusesSecond(ctx context.Context, c lungo.ICollection, doc bson.M) string {
	if _, err := c.InsertOne(ctx, doc); err != nil {
		return fmt.Sprintf("first insert failed (%v)", err)
	}
	delete(doc, "_id")
	_, err := c.InsertOne(ctx, doc)
	switch {
	case err == nil:
		return "kept a duplicate"
	case !isDuplicateKey(err):
		return fmt.Sprintf("second insert failed but not as a duplicate (%v)", err)
	}
	return ""
}

// versionedRace has Writers goroutines each make Ops read-then-write
// updates of one document, each conditional on the version it read and
// incrementing it: every update answered as matched must have moved the
// version on by one, so the final version is the number of wins.
func (d *doctor) versionedRace(ctx context.Context) Check {
	const name = "versioned update race"
	c := d.coll("versions")
	if _, err := c.InsertOne(ctx, bson.M{"_id": "doc", "version": int64(0)}); err != nil {
		return fail(name, "insert: %v", err)
	}
	var (
		mu   sync.Mutex
		wins = map[int64]int{} // version read → writers told they moved it on
		errs []error
		wg   sync.WaitGroup
	)
	for range d.p.Writers {
		wg.Go(func() {
			for range d.p.Ops {
				var cur struct{ Version int64 }
				err := c.FindOne(ctx, bson.M{"_id": "doc"}).Decode(&cur)
				var res *mongo.UpdateResult
				if err == nil {
					res, err = c.UpdateOne(ctx, bson.M{"_id": "doc", "version": cur.Version}, bson.M{"$inc": bson.M{"version": int64(1)}})
				}
				mu.Lock()
				switch {
				case err != nil:
					errs = append(errs, err)
				case res.MatchedCount == 1:
					wins[cur.Version]++
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return fail(name, "%d errors, the first: %v", len(errs), errs[0])
	}
	var final struct{ Version int64 }
	if err := c.FindOne(ctx, bson.M{"_id": "doc"}).Decode(&final); err != nil {
		return fail(name, "read back: %v", err)
	}
	var won, shared int64
	for _, n := range wins {
		won += int64(n)
		if n > 1 {
			shared++
		}
	}
	attempts := d.p.Writers * d.p.Ops
	if lost := won - final.Version; lost != 0 || shared != 0 {
		return fail(name, "%d LOST UPDATES: %d writers × %d: %d updates answered as applied, the version moved %d; %d versions won by more than one writer",
			lost, d.p.Writers, d.p.Ops, won, final.Version, shared)
	}
	return pass(name, "%d writers × %d: %d won (one per version), %d conflicts, 0 lost", d.p.Writers, d.p.Ops, won, int64(attempts)-won)
}

// incRace has Writers goroutines each $inc one counter Ops times.
func (d *doctor) incRace(ctx context.Context) Check {
	const name = "concurrent $inc"
	c := d.coll("counter")
	if _, err := c.InsertOne(ctx, bson.M{"_id": "n", "n": int64(0)}); err != nil {
		return fail(name, "insert: %v", err)
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for range d.p.Writers {
		wg.Go(func() {
			for range d.p.Ops {
				if _, err := c.UpdateOne(ctx, bson.M{"_id": "n"}, bson.M{"$inc": bson.M{"n": int64(1)}}); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return fail(name, "%d errors, the first: %v", len(errs), errs[0])
	}
	var final struct{ N int64 }
	if err := c.FindOne(ctx, bson.M{"_id": "n"}).Decode(&final); err != nil {
		return fail(name, "read back: %v", err)
	}
	want := int64(d.p.Writers * d.p.Ops)
	if final.N != want {
		return fail(name, "%d LOST UPDATES: %d concurrent $inc kept %d", want-final.N, want, final.N)
	}
	return pass(name, "%d concurrent $inc, all %d kept", want, final.N)
}

// claims publishes Writers×Ops/2 pending documents and has Writers
// goroutines claim them with findAndModify (pending → claimed) until
// none is left: each must be claimed exactly once.
func (d *doctor) claims(ctx context.Context) Check {
	const name = "exactly-once claims (findAndModify)"
	c := d.coll("claims")
	// At most maxClaimEvents: a race shows in the first thousands, and
	// the largest sizes (256 writers × 10,000) would otherwise insert over
	// a million documents in one write that no deadline interrupts.
	events := min(max(1, d.p.Writers*d.p.Ops/2), maxClaimEvents)
	docs := make([]any, events)
	for i := range docs {
		docs[i] = bson.M{"_id": int64(i), "status": "pending", "claims": int64(0)}
	}
	if _, err := c.InsertMany(ctx, docs); err != nil {
		return fail(name, "insert %d: %v", events, err)
	}
	var (
		mu     sync.Mutex
		claims = map[int64]int{}
		errs   []error
		wg     sync.WaitGroup
	)
	for w := range d.p.Writers {
		wg.Go(func() {
			for {
				var got struct {
					ID int64 `bson:"_id"`
				}
				err := c.FindOneAndUpdate(ctx, bson.M{"status": "pending"},
					bson.M{"$set": bson.M{"status": "claimed", "by": w}, "$inc": bson.M{"claims": int64(1)}},
					options.FindOneAndUpdate().SetSort(bson.D{{Key: "_id", Value: 1}}).SetReturnDocument(options.After)).Decode(&got)
				if errors.Is(err, mongo.ErrNoDocuments) {
					return
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					claims[got.ID]++
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return fail(name, "%d errors, the first: %v", len(errs), errs[0])
	}
	total := 0
	for _, n := range claims {
		total += n
	}
	unclaimed, err := c.CountDocuments(ctx, bson.M{"status": "pending"})
	if err != nil {
		return fail(name, "count: %v", err)
	}
	if dup := total - len(claims); dup != 0 || unclaimed != 0 || len(claims) != events {
		return fail(name, "%d DUPLICATE CLAIMS: %d events, %d workers: %d claims of %d distinct events, %d left unclaimed",
			dup, events, d.p.Writers, total, len(claims), unclaimed)
	}
	return pass(name, "%d events, %d workers: each claimed exactly once", events, d.p.Writers)
}

// maxClaimEvents bounds the claims check's queue.
const maxClaimEvents = 20_000

// uniqueRace has Writers goroutines insert the same key, Ops/5 keys in
// turn: exactly one insert per key may succeed.
func (d *doctor) uniqueRace(ctx context.Context) Check {
	const name = "unique index under an insert race"
	c := d.coll("unique")
	if _, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "key", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
		return fail(name, "create the unique index: %v", err)
	}
	keys := max(1, d.p.Ops/5)
	var (
		mu   sync.Mutex
		won  = map[int]int{}
		errs []error
		wg   sync.WaitGroup
	)
	for range d.p.Writers {
		wg.Go(func() {
			for k := range keys {
				_, err := c.InsertOne(ctx, bson.M{"key": k})
				failed := err != nil && !isDuplicateKey(err)
				mu.Lock()
				switch {
				case err == nil:
					won[k]++
				case failed:
					errs = append(errs, err)
				}
				mu.Unlock()
				if failed {
					return // a deadline or an interrupt: stop, as the other races do
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return fail(name, "%d errors that are not duplicate-key refusals, the first: %v", len(errs), errs[0])
	}
	stored, err := c.CountDocuments(ctx, bson.M{})
	if err != nil {
		return fail(name, "count: %v", err)
	}
	inserted := 0
	for _, n := range won {
		inserted += n
	}
	if inserted != keys || stored != int64(keys) {
		return fail(name, "%d keys, %d writers each: %d inserts accepted, %d documents stored (want %d)", keys, d.p.Writers, inserted, stored, keys)
	}
	return pass(name, "%d keys, %d writers each: one insert per key accepted, the rest refused as duplicates", keys, d.p.Writers)
}

// locks has Writers goroutines take one distributed lock (the app's
// WithLock, on a scratch key) Ops/5 times each: never two holders at
// once, and each holder's fencing token above every earlier one.
func (d *doctor) locks(ctx context.Context) Check {
	const name = "distributed lock and fencing"
	key := d.prefix + "lock"
	defer func() {
		ctx := context.WithoutCancel(ctx)
		_, _ = d.s.locks.DeleteOne(ctx, bson.M{"_id": key})
		_, _ = d.s.counters.DeleteOne(ctx, bson.M{"_id": "fence:" + key})
	}()
	var (
		mu       sync.Mutex
		holders  int
		overlaps int
		acquired int
		stale    int
		last     int64
		errs     []error
		wg       sync.WaitGroup
	)
	rounds := max(1, d.p.Ops/5)
	for range d.p.Writers {
		wg.Go(func() {
			for range rounds {
				err := d.s.WithLock(ctx, LockParams{Key: key, TTL: time.Minute, Wait: time.Minute}, func(ctx context.Context, fence int64) error {
					mu.Lock()
					holders++
					acquired++
					if holders > 1 {
						overlaps++
					}
					if fence <= last {
						stale++
					}
					last = max(last, fence)
					mu.Unlock()
					// Let the others try while this one holds the lock.
					for range 3 {
						if _, err := d.s.counters.CountDocuments(ctx, bson.M{"_id": "fence:" + key}); err != nil {
							return err
						}
					}
					mu.Lock()
					holders--
					mu.Unlock()
					return nil
				})
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return fail(name, "%d errors, the first: %v", len(errs), errs[0])
	}
	if overlaps > 0 || stale > 0 {
		return fail(name, "%d acquisitions: %d while another writer held the lock, %d with a fencing token not above the last", acquired, overlaps, stale)
	}
	return pass(name, "%d acquisitions by %d writers: one holder at a time, fencing tokens rising", acquired, d.p.Writers)
}
