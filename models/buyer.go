package models

// Buyer is a platform user who buys. The platform authenticates buyers and
// hands us a token whose subject is the buyer id; we keep no password.
type Buyer struct {
	ID string `json:"id"`
}
