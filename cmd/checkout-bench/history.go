package main

import (
	"context"
	"fmt"

	"sort"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
)

// historyCounts is what one finished workflow recorded, read back from Temporal.
type historyCounts struct {
	events     int
	tasks      int // workflow tasks completed
	tasksToPay int // of those, completed before the pay update's answer (the buyer's waiting path)
	markers    int // local activities and side effects
	upserts    int // search-attribute upserts
	updates    int // updates accepted
	signals    int
	activities int // regular activities scheduled
}

func (h historyCounts) String() string {
	return fmt.Sprintf("%d history events, %d workflow tasks (%d before the pay answer), %d markers, %d search-attribute upserts, %d updates, %d signals, %d activities",
		h.events, h.tasks, h.tasksToPay, h.markers, h.upserts, h.updates, h.signals, h.activities)
}

// countHistory counts event kinds, named as Temporal's enums print them.
func countHistory(kinds []string) historyCounts {
	var h historyCounts
	paid := false
	for _, k := range kinds {
		h.events++
		switch k {
		case "WorkflowTaskCompleted":
			h.tasks++
			if !paid {
				h.tasksToPay++
			}
		case "WorkflowExecutionUpdateCompleted":
			paid = true
		case "MarkerRecorded":
			h.markers++
		case "UpsertWorkflowSearchAttributes":
			h.upserts++
		case "WorkflowExecutionUpdateAccepted":
			h.updates++
		case "WorkflowExecutionSignaled":
			h.signals++
		case "ActivityTaskScheduled":
			h.activities++
		}
	}
	return h
}

// showHistory (-show-history) prints every event of the histories read back.
var showHistory bool

func readHistory(ctx context.Context, tc client.Client, workflowID string) (historyCounts, error) {
	it := tc.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var kinds []string
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return historyCounts{}, err
		}
		kinds = append(kinds, ev.GetEventType().String())
		if showHistory {
			fmt.Printf("  %s %3d %s%s\n", workflowID, ev.GetEventId(), ev.GetEventType(), eventDetail(ev))
		}
	}
	return countHistory(kinds), nil
}

// eventDetail names what an event is about: the activity, marker, update,
// signal or search attributes.
func eventDetail(ev *historypb.HistoryEvent) string {
	switch {
	case ev.GetActivityTaskScheduledEventAttributes() != nil:
		return " " + ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
	case ev.GetMarkerRecordedEventAttributes() != nil:
		return " " + ev.GetMarkerRecordedEventAttributes().GetMarkerName()
	case ev.GetWorkflowExecutionUpdateAcceptedEventAttributes() != nil:
		return " " + ev.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput().GetName()
	case ev.GetWorkflowExecutionSignaledEventAttributes() != nil:
		return " " + ev.GetWorkflowExecutionSignaledEventAttributes().GetSignalName()
	case ev.GetUpsertWorkflowSearchAttributesEventAttributes() != nil:
		var keys []string
		for k := range ev.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields() {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return " " + strings.Join(keys, ",")
	}
	return ""
}
