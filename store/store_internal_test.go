package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/buybutton/checkout/models"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/buybutton/checkout/keyring"
)

func TestSQLitePath(t *testing.T) {
	tests := []struct {
		url, want string
		wantErr   bool
	}{
		{url: "", want: "data/checkout.db"},
		{url: "sqlite:///var/lib/checkout/db.sqlite", want: "/var/lib/checkout/db.sqlite"},
		{url: "sqlite://rel/dir/x.db", want: "rel/dir/x.db"},
		{url: "file:/tmp/x.db", want: "/tmp/x.db"},
		{url: "file:x.db?_pragma=foreign_keys(0)", want: "x.db"},
		{url: "sqlite://", wantErr: true},
		{url: "mysql://u:secret@h/db", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			got, err := sqlitePath(tc.url)
			if tc.wantErr {
				require.Error(t, err)
				require.NotContains(t, err.Error(), "secret")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestOpenDefaultCreatesDataDir(t *testing.T) {
	t.Chdir(t.TempDir())
	spec, err := keyring.Generate()
	require.NoError(t, err)
	ring, err := keyring.Parse(spec)
	require.NoError(t, err)
	s, err := Open(context.Background(), "", ring)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, "sqlite", s.Dialect())
	require.NoError(t, s.Migrate(context.Background()))
	_, err = os.Stat(filepath.Join("data", "checkout.db"))
	require.NoError(t, err)

	var mode string
	require.NoError(t, s.DB().Raw("PRAGMA journal_mode").Scan(&mode).Error)
	require.Equal(t, "wal", mode)
	var fk int
	require.NoError(t, s.DB().Raw("PRAGMA foreign_keys").Scan(&fk).Error)
	require.Equal(t, 1, fk)
}

func TestAddressCodecRoundTrip(t *testing.T) {
	spec, err := keyring.Generate()
	require.NoError(t, err)
	ring, err := keyring.Parse(spec)
	require.NoError(t, err)
	c := addressCodec{ring: ring}
	const ad = "order:ord_1:shipping"
	tests := []models.Address{
		{},
		{Name: "Zoë \"Q\" <O'Brien>", Line1: "1 Main St", Line2: "Apt 2", City: "Zürich", Region: "ZH", PostalCode: "8001", Country: "CH"},
	}
	for _, a := range tests {
		sealed, err := c.Seal(a, ad)
		require.NoError(t, err)
		require.NotContains(t, sealed, "Main")
		opened, err := c.Open(sealed, ad)
		require.NoError(t, err)
		require.Equal(t, a, opened)
	}
	empty, err := c.Open("", ad)
	require.NoError(t, err)
	require.Equal(t, models.Address{}, empty)
	_, err = c.Open("{not json", ad)
	require.Error(t, err)
	_, err = c.Open("v1:k1:AAAA", ad)
	require.ErrorIs(t, err, keyring.ErrMalformed)

	sealed, err := c.Seal(tests[1], ad)
	require.NoError(t, err)
	_, err = c.Open(sealed, "order:ord_2:shipping")
	require.ErrorIs(t, err, keyring.ErrDecrypt, "a value moved to another row must not open")

	// Rows from before encryption still read, and are due for re-sealing.
	legacy := `{"name":"A","line1":"B","city":"C","postal_code":"D","country":"GB"}`
	a, err := c.Open(legacy, ad)
	require.NoError(t, err)
	require.Equal(t, "B", a.Line1)
	require.True(t, c.needsReseal(legacy))
	require.False(t, c.needsReseal(sealed))
}

func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	cases := []struct {
		name        string
		err         error
		unavailable bool
	}{
		{"dial refused", refused, true},
		{"bad connection", driver.ErrBadConn, true},
		{"deadline", context.DeadlineExceeded, true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"plain", errors.New("syntax error"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := dbError("op", "thing", c.err)
			var e *models.Error
			got := errors.As(err, &e) && e.Kind == models.KindUnavailable && e.Code == CodeUnavailable
			if got != c.unavailable {
				t.Fatalf("dbError(%v) = %v; unavailable %v, want %v", c.err, err, got, c.unavailable)
			}
		})
	}
	if err := dbError("op", "order", gorm.ErrRecordNotFound); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("not found became %v", err)
	}
}
