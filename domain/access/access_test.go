package access_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain/access"
	"github.com/evcrm/evcrm/domain/domaintest"
)

var (
	readID = uuid.MustParse("00000000-0000-4000-8000-0000000ac001")
	now    = time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
)

func readCmd() access.RecordRead {
	return access.RecordRead{ReadID: readID, Actor: "auditor-ann", Role: "auditor", Operation: "readStream",
		Route: "/v1/streams/case-1", Query: "from=1&limit=100", Records: []string{"case-1"}}
}

var recorded = access.RecordsRead{ReadID: readID, Actor: "auditor-ann", Role: "auditor", Operation: "readStream",
	Route: "/v1/streams/case-1", Query: "from=1&limit=100", Records: []string{"case-1"}, ReadAt: now}

func TestRecordRead(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		st := domaintest.Given[access.State](t).At(now).When(readCmd()).Then(recorded)
		if !st.Exists() || st.ID() != readID || st.Actor() != "auditor-ann" || st.Role() != "auditor" || st.Route() != "/v1/streams/case-1" ||
			st.Query() != "from=1&limit=100" || len(st.Records()) != 1 || !st.ReadAt().Equal(now) || st.Operation() != "readStream" || st.Truncated() {
			t.Errorf("state: %+v", st)
		}
	})
	t.Run("Twice", func(t *testing.T) {
		domaintest.Given[access.State](t, recorded).At(now).When(readCmd()).ThenError(access.ErrAlreadyRecorded)
	})
	t.Run("Invalid", func(t *testing.T) {
		c := readCmd()
		c.Actor, c.Role, c.Route = "", "", "v1/streams"
		domaintest.Given[access.State](t).At(now).When(c).ThenInvalid("actor", "role", "route")
	})
	t.Run("TooManyRecords", func(t *testing.T) {
		c := readCmd()
		c.Records = strings.Split(strings.Repeat("x,", access.MaxRecords), ",")
		domaintest.Given[access.State](t).At(now).When(c).ThenInvalid("records")
	})
}
