package worker

// RecordedHistories names the purchase lives whose histories are kept under
// testdata/histories for the replay test; e2e's TestRecordedHistories
// produces each one from the real stack.
var RecordedHistories = []string{
	"purchase-delivered",
	"purchase-rejected",
	"purchase-cancelled-after-capture",
	"purchase-declined",
	"purchase-3ds-authorized",
	"purchase-saved-details",
	"purchase-refunded-then-delivered",
	"ended-order-refund",
	"purchase-disputed-then-delivered",
	"purchase-sold-out",
	"purchase-cancelled-before-capture",
	"purchase-3ds-failed",
	"purchase-expired",
	"purchase-3ds-abandoned",
	"profile-card-change",
	"profile-erasure",
}
