package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"loandesk/auth"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// User is a person who can sign in. Email is stored lower-cased.
type User struct {
	ID           primitive.ObjectID `bson:"_id"`
	Email        string             `bson:"email"`
	Name         string             `bson:"name"`
	Role         string             `bson:"role"`
	PasswordHash []byte             `bson:"passwordHash"`
	// MustChangePassword sends the user to change their password before
	// anything else (a generated or admin-set password).
	MustChangePassword bool `bson:"mustChangePassword,omitempty"`
	// PasswordChangedAt ends every session signed in before it.
	PasswordChangedAt time.Time `bson:"passwordChangedAt,omitempty"`
	CreatedAt         time.Time `bson:"createdAt"`
	UpdatedAt         time.Time `bson:"updatedAt"`
}

// UserCreateParams are the fields of a new user; the password arrives
// already hashed.
type UserCreateParams struct {
	Email        string
	Name         string
	Role         string
	PasswordHash []byte
	// MustChangePassword: the user chooses their own at first sign-in.
	MustChangePassword bool
}

// NormalizeEmail is the form in which emails are stored and looked up.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// UserCreate inserts a user. A taken email returns ErrDuplicate.
func (s *Store) UserCreate(ctx context.Context, p UserCreateParams) (User, error) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	u := User{
		ID:           primitive.NewObjectID(),
		Email:        NormalizeEmail(p.Email),
		Name:         strings.TrimSpace(p.Name),
		Role:         p.Role,
		PasswordHash: p.PasswordHash,
		CreatedAt:    now,
		UpdatedAt:    now,

		MustChangePassword: p.MustChangePassword,
	}
	if _, err := s.users.InsertOne(ctx, u); err != nil {
		if isDuplicateKey(err) {
			return User{}, fmt.Errorf("store: create user %s: %w", u.Email, ErrDuplicate)
		}
		return User{}, fmt.Errorf("store: create user %s: %w", u.Email, err)
	}
	return u, nil
}

// UserGet returns the user with id, or ErrNotFound.
func (s *Store) UserGet(ctx context.Context, id primitive.ObjectID) (User, error) {
	var u User
	if err := s.users.FindOne(ctx, bson.M{"_id": id}).Decode(&u); err != nil {
		return User{}, fmt.Errorf("store: get user %s: %w", id.Hex(), notFound(err))
	}
	return u, nil
}

// UserByEmail returns the user with that email (any case), or ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	if err := s.users.FindOne(ctx, bson.M{"email": NormalizeEmail(email)}).Decode(&u); err != nil {
		return User{}, fmt.Errorf("store: get user by email: %w", notFound(err))
	}
	return u, nil
}

// UserList returns all users ordered by email.
func (s *Store) UserList(ctx context.Context) ([]User, error) {
	cur, err := s.users.Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "email", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	var users []User
	if err := cur.All(ctx, &users); err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return users, nil
}

// UserListByRole returns the users with one of roles, ordered by email,
// without their password hashes (for choosing a user, not signing in).
func (s *Store) UserListByRole(ctx context.Context, roles ...string) ([]User, error) {
	opts := options.Find().SetSort(bson.D{{Key: "email", Value: 1}}).SetProjection(bson.M{"passwordHash": 0})
	cur, err := s.users.Find(ctx, bson.M{"role": bson.M{"$in": roles}}, opts)
	if err != nil {
		return nil, fmt.Errorf("store: list users by role: %w", err)
	}
	var users []User
	if err := cur.All(ctx, &users); err != nil {
		return nil, fmt.Errorf("store: list users by role: %w", err)
	}
	return users, nil
}

// StaffEmails returns the e-mail addresses of the users who work
// applications (admins and underwriters): whom an application can be
// assigned to.
func (s *Store) StaffEmails(ctx context.Context) ([]string, error) {
	users, err := s.UserListByRole(ctx, auth.RoleAdmin, auth.RoleUnderwriter)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.Email
	}
	return out, nil
}

// UserCount returns how many users exist.
func (s *Store) UserCount(ctx context.Context) (int64, error) {
	n, err := s.users.CountDocuments(ctx, bson.M{})
	if err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

// UserUpdateAccess sets a user's role and password hash (used to bootstrap
// the configured admin); every session signed in before ends (see
// PasswordChangedAt). A missing user returns ErrNotFound.
func (s *Store) UserUpdateAccess(ctx context.Context, id primitive.ObjectID, role string, passwordHash []byte) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return updateMatched(ctx, s.users, bson.M{"_id": id}, bson.M{"$set": bson.M{
		"role":              role,
		"passwordHash":      passwordHash,
		"passwordChangedAt": now,
		"updatedAt":         now,
	}}, ErrNotFound, "update user "+id.Hex())
}

// UserSetPassword sets a user's password hash and whether they must
// change it at their next request, as of at: sessions signed in before at
// end. A missing user returns ErrNotFound.
func (s *Store) UserSetPassword(ctx context.Context, id primitive.ObjectID, passwordHash []byte, mustChange bool, at time.Time) error {
	at = at.UTC().Truncate(time.Millisecond)
	return updateMatched(ctx, s.users, bson.M{"_id": id}, bson.M{"$set": bson.M{
		"passwordHash":       passwordHash,
		"mustChangePassword": mustChange,
		"passwordChangedAt":  at,
		"updatedAt":          at,
	}}, ErrNotFound, "set password of user "+id.Hex())
}
