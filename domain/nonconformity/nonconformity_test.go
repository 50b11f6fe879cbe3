package nonconformity_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/domaintest"
	nc "github.com/evcrm/evcrm/domain/nonconformity"
)

var (
	ncID        = uuid.MustParse("00000000-0000-4000-8000-00000000bc01")
	complaintID = uuid.MustParse("00000000-0000-4000-8000-0000000cc001")
	action1     = uuid.MustParse("00000000-0000-4000-8000-0000000ac001")
	action2     = uuid.MustParse("00000000-0000-4000-8000-0000000ac002")
	yes, no     = true, false
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func given(t *testing.T, events ...domain.Event) *domaintest.Scenario[nc.State, *nc.State] {
	return domaintest.Given[nc.State](t, events...).At(at("2026-03-10T10:00:00Z"))
}

var (
	raised = nc.NonconformityRaised{NonconformityID: ncID, Source: nc.SourceComplaint, SourceID: complaintID, Severity: nc.SeverityMajor,
		Title: "Pump seals leak", Description: "Three pumps of batch 42 leaked at the customer", RaisedAt: at("2026-03-10T10:00:00Z")}
	analysis  = nc.NonconformityAnalysisStarted{NonconformityID: ncID, AnalystID: "qa-lead", StartedAt: at("2026-03-10T11:00:00Z")}
	immediate = nc.ImmediateActionRecorded{NonconformityID: ncID, Description: "Batch 42 quarantined", RecordedAt: at("2026-03-10T10:30:00Z")}
	rootCause = nc.RootCauseRecorded{NonconformityID: ncID, RootCause: "Torque step skipped", Method: "five_whys", RecordedAt: at("2026-03-11T10:00:00Z")}
	planned1  = nc.CorrectiveActionPlanned{NonconformityID: ncID, ActionID: action1, Description: "Add torque check to checklist",
		OwnerID: "line-manager", DueDate: "2026-03-20", PlannedAt: at("2026-03-11T11:00:00Z")}
	planned2 = nc.CorrectiveActionPlanned{NonconformityID: ncID, ActionID: action2, Description: "Retrain assembly staff",
		OwnerID: "hr", DueDate: "2026-04-30", PlannedAt: at("2026-03-11T11:00:00Z")}
	approved   = nc.ActionPlanApproved{NonconformityID: ncID, ActionIDs: []uuid.UUID{action1}, ApprovedAt: at("2026-03-12T10:00:00Z")}
	completed1 = nc.CorrectiveActionCompleted{NonconformityID: ncID, ActionID: action1, Outcome: "Checklist v7 released", DueDate: "2026-03-20",
		OnTime: true, CompletedAt: at("2026-03-18T10:00:00Z")}
	effective   = nc.EffectivenessVerified{NonconformityID: ncID, Effective: true, Evidence: "No leaks in 3 batches", VerifiedAt: at("2026-06-01T10:00:00Z")}
	ineffective = nc.EffectivenessVerified{NonconformityID: ncID, Effective: false, Evidence: "Batch 51 leaked", VerifiedAt: at("2026-06-01T10:00:00Z")}
	closed      = nc.NonconformityClosed{NonconformityID: ncID, Source: nc.SourceComplaint, Severity: nc.SeverityMajor, Summary: "Fixed",
		RaisedAt: raised.RaisedAt, ClosedAt: at("2026-06-02T10:00:00Z")}
)

// history returns the events of a nonconformity taken up to the given step.
func history(step string) []domain.Event {
	steps := []struct {
		name string
		e    domain.Event
	}{{"raised", raised}, {"analysis", analysis}, {"root_cause", rootCause}, {"planned", planned1}, {"approved", approved},
		{"completed", completed1}, {"effective", effective}, {"closed", closed}}
	var out []domain.Event
	for _, s := range steps {
		out = append(out, s.e)
		if s.name == step {
			return out
		}
	}
	panic("no step " + step)
}

func TestRaise(t *testing.T) {
	cmd := nc.RaiseNonconformity{NonconformityID: ncID, Source: nc.SourceComplaint, SourceID: complaintID, Severity: nc.SeverityMajor,
		Title: " Pump seals leak ", Description: "Three pumps of batch 42 leaked at the customer\n"}
	t.Run("OK", func(t *testing.T) {
		st := given(t).When(cmd).Then(raised)
		if st.Status() != nc.StatusOpen || st.ID() != ncID || st.Source() != nc.SourceComplaint || st.SourceID() != complaintID ||
			st.Severity() != nc.SeverityMajor || st.Title() != "Pump seals leak" || st.Description() != raised.Description ||
			!st.RaisedAt().Equal(raised.RaisedAt) || st.SourceRef() != "" || st.CustomerID() != uuid.Nil || st.OrderID() != uuid.Nil || st.CaseID() != uuid.Nil {
			t.Errorf("state after raise: %+v", st)
		}
	})
	t.Run("FromAudit", func(t *testing.T) {
		given(t).When(nc.RaiseNonconformity{NonconformityID: ncID, Source: nc.SourceAudit, SourceRef: "IA-2026-02 #3", Severity: nc.SeverityMinor,
			Title: "Calibration overdue", Description: "Gauge G12"}).
			Then(nc.NonconformityRaised{NonconformityID: ncID, Source: nc.SourceAudit, SourceRef: "IA-2026-02 #3", Severity: nc.SeverityMinor,
				Title: "Calibration overdue", Description: "Gauge G12", RaisedAt: at("2026-03-10T10:00:00Z")})
	})
	t.Run("ErrAlreadyExists", func(t *testing.T) { given(t, raised).When(cmd).ThenError(nc.ErrAlreadyExists) })
	t.Run("InvalidEmpty", func(t *testing.T) {
		given(t).When(nc.RaiseNonconformity{}).ThenInvalid("nonconformity_id", "source", "severity", "title", "description")
	})
	t.Run("InvalidComplaintWithoutID", func(t *testing.T) {
		c := cmd
		c.SourceID = uuid.Nil
		given(t).When(c).ThenInvalid("source_id")
	})
	t.Run("InvalidAuditWithoutRef", func(t *testing.T) {
		c := cmd
		c.Source = nc.SourceAudit
		given(t).When(c).ThenInvalid("source_ref")
	})
}

func TestNotFoundAndUnknown(t *testing.T) {
	for _, cmd := range []domain.Command{
		nc.StartNonconformityAnalysis{NonconformityID: ncID}, nc.RecordImmediateAction{NonconformityID: ncID}, nc.RecordRootCause{NonconformityID: ncID},
		nc.PlanCorrectiveAction{NonconformityID: ncID}, nc.ApproveActionPlan{NonconformityID: ncID}, nc.CompleteCorrectiveAction{NonconformityID: ncID},
		nc.ReopenCorrectiveAction{NonconformityID: ncID}, nc.VerifyEffectiveness{NonconformityID: ncID}, nc.CloseNonconformity{NonconformityID: ncID},
	} {
		t.Run(cmd.CommandType(), func(t *testing.T) {
			if cmd.AggregateID() != ncID {
				t.Errorf("AggregateID() = %s", cmd.AggregateID())
			}
			given(t).When(cmd).ThenError(nc.ErrNotFound)
		})
	}
	given(t).When(otherCommand{}).ThenError(domain.ErrUnknownCommand)
}

type otherCommand struct{}

func (otherCommand) CommandType() string    { return "Other" }
func (otherCommand) AggregateID() uuid.UUID { return ncID }

func TestStartAnalysis(t *testing.T) {
	now := at("2026-03-10T11:00:00Z")
	cmd := nc.StartNonconformityAnalysis{NonconformityID: ncID, AnalystID: "qa-lead"}
	t.Run("OK", func(t *testing.T) {
		st := given(t, raised).At(now).When(cmd).Then(analysis)
		if st.Status() != nc.StatusAnalysis || st.AnalystID() != "qa-lead" {
			t.Errorf("after start: %s %s", st.Status(), st.AnalystID())
		}
	})
	t.Run("SameIsNoOp", func(t *testing.T) { given(t, history("closed")...).When(cmd).Then() })
	t.Run("Reassign", func(t *testing.T) {
		given(t, raised, analysis).At(now).When(nc.StartNonconformityAnalysis{NonconformityID: ncID, AnalystID: "qa-2"}).
			Then(nc.NonconformityAnalysisStarted{NonconformityID: ncID, AnalystID: "qa-2", StartedAt: now})
	})
	t.Run("ErrAnalysisComplete", func(t *testing.T) {
		given(t, history("root_cause")...).When(nc.StartNonconformityAnalysis{NonconformityID: ncID, AnalystID: "qa-2"}).ThenError(nc.ErrAnalysisComplete)
	})
	t.Run("ErrClosed", func(t *testing.T) {
		given(t, history("closed")...).When(nc.StartNonconformityAnalysis{NonconformityID: ncID, AnalystID: "qa-2"}).ThenError(nc.ErrClosed)
	})
	t.Run("Invalid", func(t *testing.T) {
		given(t, raised).When(nc.StartNonconformityAnalysis{NonconformityID: ncID}).ThenInvalid("analyst_id")
	})
}

func TestImmediateAction(t *testing.T) {
	cmd := nc.RecordImmediateAction{NonconformityID: ncID, Description: "Batch 42 quarantined"}
	t.Run("OK", func(t *testing.T) {
		st := given(t, raised).At(immediate.RecordedAt).When(cmd).Then(immediate)
		if !reflect.DeepEqual(st.ImmediateActions(), []string{"Batch 42 quarantined"}) || st.Status() != nc.StatusOpen {
			t.Errorf("ImmediateActions() = %v", st.ImmediateActions())
		}
	})
	t.Run("SameIsNoOp", func(t *testing.T) { given(t, raised, immediate).When(cmd).Then() })
	t.Run("Another", func(t *testing.T) {
		given(t, history("approved")...).When(nc.RecordImmediateAction{NonconformityID: ncID, Description: "Customer pumps swapped"}).
			Then(nc.ImmediateActionRecorded{NonconformityID: ncID, Description: "Customer pumps swapped", RecordedAt: at("2026-03-10T10:00:00Z")})
	})
	t.Run("ErrClosed", func(t *testing.T) { given(t, history("closed")...).When(cmd).ThenError(nc.ErrClosed) })
	t.Run("Invalid", func(t *testing.T) {
		given(t, raised).When(nc.RecordImmediateAction{NonconformityID: ncID}).ThenInvalid("description")
	})
}

func TestRootCause(t *testing.T) {
	cmd := nc.RecordRootCause{NonconformityID: ncID, RootCause: "Torque step skipped", Method: "five_whys"}
	for _, from := range []string{"raised", "analysis"} {
		t.Run("From"+from, func(t *testing.T) {
			st := given(t, history(from)...).At(rootCause.RecordedAt).When(cmd).Then(rootCause)
			if st.Status() != nc.StatusActionPlan || st.RootCause() != rootCause.RootCause || st.RootCauseMethod() != "five_whys" {
				t.Errorf("after root cause: %s", st.Status())
			}
		})
	}
	t.Run("SameIsNoOp", func(t *testing.T) { given(t, history("closed")...).When(cmd).Then() })
	t.Run("RevisedKeepsStatus", func(t *testing.T) {
		st := given(t, history("approved")...).When(nc.RecordRootCause{NonconformityID: ncID, RootCause: "Torque tool out of calibration"}).
			Then(nc.RootCauseRecorded{NonconformityID: ncID, RootCause: "Torque tool out of calibration", RecordedAt: at("2026-03-10T10:00:00Z")})
		if st.Status() != nc.StatusInProgress {
			t.Errorf("status %s", st.Status())
		}
	})
	t.Run("ErrClosed", func(t *testing.T) {
		given(t, history("closed")...).When(nc.RecordRootCause{NonconformityID: ncID, RootCause: "other"}).ThenError(nc.ErrClosed)
	})
	t.Run("Invalid", func(t *testing.T) {
		given(t, raised).When(nc.RecordRootCause{NonconformityID: ncID, Method: "Five Whys"}).ThenInvalid("root_cause", "method")
	})
}

func TestPlanCorrectiveAction(t *testing.T) {
	now := at("2026-03-11T11:00:00Z")
	cmd := nc.PlanCorrectiveAction{NonconformityID: ncID, ActionID: action1, Description: "Add torque check to checklist", OwnerID: "line-manager", DueDate: "2026-03-20"}
	t.Run("OK", func(t *testing.T) {
		st := given(t, history("root_cause")...).At(now).When(cmd).Then(planned1)
		a, ok := st.Action(action1)
		if !ok || a.OwnerID != "line-manager" || a.Done || st.OpenActions() != 1 || len(st.Actions()) != 1 {
			t.Errorf("Action() = %+v, %v", a, ok)
		}
	})
	t.Run("DueToday", func(t *testing.T) {
		c := cmd
		c.DueDate = "2026-03-11"
		given(t, history("root_cause")...).At(now).When(c).Then(nc.CorrectiveActionPlanned{NonconformityID: ncID, ActionID: action1,
			Description: c.Description, OwnerID: c.OwnerID, DueDate: "2026-03-11", PlannedAt: now})
	})
	t.Run("WhileInProgress", func(t *testing.T) {
		given(t, history("approved")...).At(now).When(nc.PlanCorrectiveAction{NonconformityID: ncID, ActionID: action2,
			Description: "Retrain assembly staff", OwnerID: "hr", DueDate: "2026-04-30"}).Then(planned2)
	})
	t.Run("SameIsNoOp", func(t *testing.T) { given(t, history("closed")...).At(now).When(cmd).Then() })
	t.Run("ErrActionExists", func(t *testing.T) {
		c := cmd
		c.OwnerID = "someone-else"
		given(t, history("planned")...).At(now).When(c).ThenError(nc.ErrActionExists)
	})
	t.Run("ErrRootCauseMissing", func(t *testing.T) {
		given(t, raised).At(now).When(cmd).ThenError(nc.ErrRootCauseMissing)
		given(t, raised, analysis).At(now).When(cmd).ThenError(nc.ErrRootCauseMissing)
	})
	t.Run("ErrClosed", func(t *testing.T) {
		c := cmd
		c.ActionID = action2
		given(t, history("closed")...).At(now).When(c).ThenError(nc.ErrClosed)
	})
	t.Run("InvalidPastDue", func(t *testing.T) {
		c := cmd
		c.DueDate = "2026-03-10"
		given(t, history("root_cause")...).At(now).When(c).ThenInvalid("due_date")
	})
	t.Run("Invalid", func(t *testing.T) {
		given(t, history("root_cause")...).At(now).When(nc.PlanCorrectiveAction{NonconformityID: ncID, DueDate: "20/03/2026"}).
			ThenInvalid("action_id", "description", "owner_id", "due_date")
	})
}

func TestApproveActionPlan(t *testing.T) {
	cmd := nc.ApproveActionPlan{NonconformityID: ncID}
	t.Run("OK", func(t *testing.T) {
		st := given(t, history("planned")...).At(approved.ApprovedAt).When(cmd).Then(approved)
		if st.Status() != nc.StatusInProgress {
			t.Errorf("status %s", st.Status())
		}
	})
	t.Run("TwiceIsNoOp", func(t *testing.T) { given(t, history("approved")...).When(cmd).Then() })
	t.Run("ErrNoOpenActions", func(t *testing.T) {
		given(t, history("root_cause")...).When(cmd).ThenError(nc.ErrNoOpenActions)
		// Not effective, and no new or reopened action yet.
		given(t, append(history("effective")[:6], ineffective)...).When(cmd).ThenError(nc.ErrNoOpenActions)
	})
	t.Run("ErrRootCauseMissing", func(t *testing.T) { given(t, raised).When(cmd).ThenError(nc.ErrRootCauseMissing) })
	t.Run("ErrClosed", func(t *testing.T) { given(t, history("closed")...).When(cmd).ThenError(nc.ErrClosed) })
}

func TestCompleteCorrectiveAction(t *testing.T) {
	cmd := nc.CompleteCorrectiveAction{NonconformityID: ncID, ActionID: action1, Outcome: "Checklist v7 released"}
	t.Run("OnTime", func(t *testing.T) {
		st := given(t, history("approved")...).At(completed1.CompletedAt).When(cmd).Then(completed1)
		if a, _ := st.Action(action1); !a.Done || a.Outcome != cmd.Outcome || !a.CompletedAt.Equal(completed1.CompletedAt) || st.OpenActions() != 0 {
			t.Errorf("action after completion: %+v", a)
		}
	})
	t.Run("OnDueDate", func(t *testing.T) {
		now := at("2026-03-20T23:59:00Z")
		given(t, history("approved")...).At(now).When(cmd).Then(nc.CorrectiveActionCompleted{NonconformityID: ncID, ActionID: action1,
			Outcome: cmd.Outcome, DueDate: "2026-03-20", OnTime: true, CompletedAt: now})
	})
	t.Run("Late", func(t *testing.T) {
		now := at("2026-03-21T00:00:00Z")
		given(t, history("approved")...).At(now).When(cmd).Then(nc.CorrectiveActionCompleted{NonconformityID: ncID, ActionID: action1,
			Outcome: cmd.Outcome, DueDate: "2026-03-20", OnTime: false, CompletedAt: now})
	})
	t.Run("TwiceIsNoOp", func(t *testing.T) { given(t, history("closed")...).When(cmd).Then() })
	t.Run("ErrActionNotFound", func(t *testing.T) {
		given(t, history("approved")...).When(nc.CompleteCorrectiveAction{NonconformityID: ncID, ActionID: action2, Outcome: "x"}).ThenError(nc.ErrActionNotFound)
	})
	t.Run("ErrPlanNotApproved", func(t *testing.T) { given(t, history("planned")...).When(cmd).ThenError(nc.ErrPlanNotApproved) })
	t.Run("Invalid", func(t *testing.T) {
		given(t, history("approved")...).When(nc.CompleteCorrectiveAction{NonconformityID: ncID, ActionID: action1}).ThenInvalid("outcome")
	})
}

func TestVerifyAndClose(t *testing.T) {
	verify := func(ok *bool) nc.VerifyEffectiveness {
		return nc.VerifyEffectiveness{NonconformityID: ncID, Effective: ok, Evidence: map[bool]string{true: "No leaks in 3 batches", false: "Batch 51 leaked"}[ok != nil && *ok]}
	}
	closeCmd := nc.CloseNonconformity{NonconformityID: ncID, Summary: "Fixed"}
	t.Run("Effective", func(t *testing.T) {
		st := given(t, history("completed")...).At(effective.VerifiedAt).When(verify(&yes)).Then(effective)
		if !st.VerifiedEffective() || st.Status() != nc.StatusInProgress {
			t.Errorf("after verification: %s %v", st.Status(), st.VerifiedEffective())
		}
	})
	t.Run("EffectiveTwiceIsNoOp", func(t *testing.T) {
		given(t, history("effective")...).When(verify(&yes)).Then()
		given(t, history("closed")...).When(verify(&yes)).Then()
	})
	t.Run("NotEffectiveReopensThePlan", func(t *testing.T) {
		// Not effective: back to action_plan; the plan needs a new (or
		// reopened) action and a new approval before the next verification.
		hist := history("completed")
		st := given(t, hist...).At(ineffective.VerifiedAt).When(verify(&no)).Then(ineffective)
		if st.Status() != nc.StatusActionPlan || st.VerifiedEffective() || st.IneffectiveVerifications() != 1 {
			t.Errorf("after ineffective verification: %s", st.Status())
		}
		hist = append(hist, ineffective)
		given(t, hist...).When(closeCmd).ThenError(nc.ErrNotVerified)
		given(t, hist...).When(verify(&yes)).ThenError(nc.ErrPlanNotApproved)
		given(t, hist...).When(nc.ApproveActionPlan{NonconformityID: ncID}).ThenError(nc.ErrNoOpenActions)

		later := at("2026-06-02T10:00:00Z")
		newAction := nc.CorrectiveActionPlanned{NonconformityID: ncID, ActionID: action2, Description: "Torque tool with click stop",
			OwnerID: "line-manager", DueDate: "2026-06-30", PlannedAt: later}
		given(t, hist...).At(later).When(nc.PlanCorrectiveAction{NonconformityID: ncID, ActionID: action2, Description: newAction.Description,
			OwnerID: "line-manager", DueDate: "2026-06-30"}).Then(newAction)
		hist = append(hist, newAction)
		reapproved := nc.ActionPlanApproved{NonconformityID: ncID, ActionIDs: []uuid.UUID{action2}, ApprovedAt: later}
		given(t, hist...).At(later).When(nc.ApproveActionPlan{NonconformityID: ncID}).Then(reapproved)
		hist = append(hist, reapproved)
		given(t, hist...).When(verify(&yes)).ThenError(nc.ErrActionsOutstanding)
		given(t, hist...).When(closeCmd).ThenError(nc.ErrActionsOutstanding)
		done2 := nc.CorrectiveActionCompleted{NonconformityID: ncID, ActionID: action2, Outcome: "Tools replaced", DueDate: "2026-06-30", OnTime: true, CompletedAt: later}
		hist = append(hist, done2, effective)
		st = given(t, hist...).At(later).When(closeCmd).Then(nc.NonconformityClosed{NonconformityID: ncID, Source: nc.SourceComplaint,
			Severity: nc.SeverityMajor, Summary: "Fixed", RaisedAt: raised.RaisedAt, ClosedAt: later})
		if st.Status() != nc.StatusClosed || !st.ClosedAt().Equal(later) {
			t.Errorf("after close: %s", st.Status())
		}
	})
	t.Run("ReopenedActionInsteadOfNew", func(t *testing.T) {
		hist := append(history("completed"), ineffective)
		reopen := nc.ReopenCorrectiveAction{NonconformityID: ncID, ActionID: action1, Reason: "Checklist not used on night shift"}
		reopened := nc.CorrectiveActionReopened{NonconformityID: ncID, ActionID: action1, Reason: reopen.Reason, ReopenedAt: at("2026-03-10T10:00:00Z")}
		st := given(t, hist...).When(reopen).Then(reopened)
		if st.OpenActions() != 1 {
			t.Errorf("OpenActions() = %d", st.OpenActions())
		}
		hist = append(hist, reopened)
		given(t, hist...).When(nc.ApproveActionPlan{NonconformityID: ncID}).
			Then(nc.ActionPlanApproved{NonconformityID: ncID, ActionIDs: []uuid.UUID{action1}, ApprovedAt: at("2026-03-10T10:00:00Z")})
	})
	t.Run("ChangeAfterVerificationWithdrawsIt", func(t *testing.T) {
		hist := append(history("effective"), planned2)
		st := domain.Fold[nc.State](hist...)
		if st.VerifiedEffective() {
			t.Errorf("still verified after a new action")
		}
		given(t, hist...).When(closeCmd).ThenError(nc.ErrActionsOutstanding)
		hist = append(history("effective"), nc.CorrectiveActionReopened{NonconformityID: ncID, ActionID: action1, Reason: "x"})
		given(t, hist...).When(closeCmd).ThenError(nc.ErrActionsOutstanding)
	})
	t.Run("VerifyErrActionsOutstanding", func(t *testing.T) {
		given(t, history("approved")...).When(verify(&yes)).ThenError(nc.ErrActionsOutstanding)
	})
	t.Run("VerifyErrPlanNotApproved", func(t *testing.T) {
		given(t, history("root_cause")...).When(verify(&yes)).ThenError(nc.ErrPlanNotApproved)
	})
	t.Run("VerifyErrClosed", func(t *testing.T) { given(t, history("closed")...).When(verify(&no)).ThenError(nc.ErrClosed) })
	t.Run("VerifyInvalid", func(t *testing.T) {
		given(t, history("completed")...).When(nc.VerifyEffectiveness{NonconformityID: ncID}).ThenInvalid("effective", "evidence")
	})
	t.Run("Close", func(t *testing.T) { given(t, history("effective")...).At(closed.ClosedAt).When(closeCmd).Then(closed) })
	t.Run("CloseTwiceIsNoOp", func(t *testing.T) { given(t, history("closed")...).When(closeCmd).Then() })
	t.Run("CloseErrNotVerified", func(t *testing.T) { given(t, history("completed")...).When(closeCmd).ThenError(nc.ErrNotVerified) })
	t.Run("CloseErrNotVerifiedWithoutActions", func(t *testing.T) { given(t, raised).When(closeCmd).ThenError(nc.ErrNotVerified) })
	t.Run("CloseErrActionsOutstanding", func(t *testing.T) {
		given(t, history("approved")...).When(closeCmd).ThenError(nc.ErrActionsOutstanding)
	})
	t.Run("CloseInvalid", func(t *testing.T) {
		given(t, history("effective")...).When(nc.CloseNonconformity{NonconformityID: ncID, Summary: "\x01"}).ThenInvalid("summary")
	})
}

func TestReopenCorrectiveAction(t *testing.T) {
	cmd := nc.ReopenCorrectiveAction{NonconformityID: ncID, ActionID: action1, Reason: "redo"}
	t.Run("OpenIsNoOp", func(t *testing.T) { given(t, history("approved")...).When(cmd).Then() })
	t.Run("ErrActionNotFound", func(t *testing.T) {
		given(t, history("approved")...).When(nc.ReopenCorrectiveAction{NonconformityID: ncID, ActionID: action2, Reason: "x"}).ThenError(nc.ErrActionNotFound)
	})
	t.Run("ErrClosed", func(t *testing.T) { given(t, history("closed")...).When(cmd).ThenError(nc.ErrClosed) })
	t.Run("Invalid", func(t *testing.T) {
		given(t, history("completed")...).When(nc.ReopenCorrectiveAction{NonconformityID: ncID, ActionID: action1}).ThenInvalid("reason")
	})
	t.Run("ApplyDoesNotShareActions", func(t *testing.T) {
		a := domain.Fold[nc.State](history("completed")...)
		b := *a
		b.Apply(nc.CorrectiveActionReopened{NonconformityID: ncID, ActionID: action1})
		if x, _ := a.Action(action1); !x.Done {
			t.Errorf("applying to a copy changed the original")
		}
	})
}

func TestValues(t *testing.T) {
	if nc.Source("x").Valid() || nc.Severity("x").Valid() {
		t.Errorf("unknown values are valid")
	}
	if got := nc.StreamID(ncID); got != "nonconformity-"+ncID.String() {
		t.Errorf("StreamID = %q", got)
	}
	var zero nc.State
	zero.Apply(otherEvent{})
	zero.Apply(nc.CorrectiveActionCompleted{ActionID: action1}) // unknown action: ignored
	if zero.Exists() {
		t.Errorf("zero state exists")
	}
	if _, ok := zero.Action(action1); ok {
		t.Errorf("zero state has an action")
	}
}

type otherEvent struct{}

func (otherEvent) EventType() string { return "Other" }

func TestEventsRoundTrip(t *testing.T) {
	all := []domain.Event{raised, analysis, immediate, rootCause, planned1, approved, completed1,
		nc.CorrectiveActionReopened{NonconformityID: ncID, ActionID: action1, Reason: "r", ReopenedAt: at("2026-03-10T10:00:00Z")},
		effective, ineffective, closed}
	domaintest.RoundTrip(t, all...)
	domaintest.Covers(t, nc.Category, all...)
	for _, e := range all {
		typ, v, data, err := domain.Events.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := domain.Events.Decode(typ, v, data)
		if err != nil || !reflect.DeepEqual(back, e) {
			t.Errorf("%s: %+v (%v)", typ, back, err)
		}
	}
}
