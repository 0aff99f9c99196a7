package workflows

// Change is one workflow.GetVersion change id still in the code: a patch
// that keeps histories recorded before it replaying.
type Change struct {
	ID       string // the change id passed to GetVersion
	Workflow string // the workflow whose code branches on it
	Added    string // the date it shipped (YYYY-MM-DD)
	// RemovableAfter is the earliest date the old branch may go: no order
	// lives longer than MaxOrderLifetime, so by then no running workflow
	// started before the change remains. Check before removing (README,
	// Deploying workflow code): the visibility query finds none, and the
	// committed histories older than the change are re-recorded.
	RemovableAfter string
}

// MaxOrderLifetime is the longest a purchase runs: the longest accept
// window (6 days), shipping (SHIP_BY, 7 days by default) and the
// auto-completion after shipping (21 days), rounded up.
const MaxOrderLifetime = "35 days"

// Changes lists every GetVersion change id in this package, oldest first.
// A new GetVersion call needs a row (versions_test.go checks); a removed one
// takes its row with it.
var Changes = []Change{
	{ID: changeRecoverLostAuthorization, Workflow: VersionedPurchaseWorkflowName, Added: "2026-11-25", RemovableAfter: "2026-12-30"},
	{ID: discardUnusedCustomerChange, Workflow: VersionedPurchaseWorkflowName, Added: "2026-11-25", RemovableAfter: "2026-12-30"},
	{ID: changeNotifyDelivered, Workflow: VersionedPurchaseWorkflowName, Added: "2026-11-25", RemovableAfter: "2026-12-30"},
	// RefundWorkflow is retired (refunds are updates of the order's
	// workflow now): the whole workflow goes once none runs.
	{ID: changeNotifyRefunded, Workflow: RefundWorkflowName, Added: "2026-11-25", RemovableAfter: "2026-12-30"},
	{ID: changeMoneyInWorkflow, Workflow: VersionedPurchaseWorkflowName, Added: "2026-12-02", RemovableAfter: "2027-01-06"},
	// Once the changes above go, so does this one's old branch. Once no
	// VersionedPurchaseWorkflow runs, that whole workflow type goes.
	{ID: changeLeanHistory, Workflow: VersionedPurchaseWorkflowName, Added: "2026-12-02", RemovableAfter: "2027-01-06"},
}
