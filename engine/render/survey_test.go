package render

import (
	"strings"
	"testing"
	"time"
)

// surveyXML is a session report with exit surveys as the reference shows
// them inside a session: a gsnumber and name/value answers, no time.
const surveyXML = `<session_list xmlns="http://www.bomgar.com/namespaces/API/reporting">
<session lsid="0123456789abcdef0123456789abcdef">
<primary_customer gsnumber="2">Dana Whitfield</primary_customer>
<primary_rep gsnumber="1" id="7">Sam Rivera</primary_rep>
<customer_list><customer gsnumber="2"><info><name>Dana Whitfield</name></info></customer></customer_list>
<rep_list><representative gsnumber="1" id="7"><display_name>Sam Rivera</display_name></representative></rep_list>
<cust_survey_list>
<cust_exit_survey gsnumber="2"><value name="rating" value="5"/></cust_exit_survey>
<cust_exit_survey gsnumber="8"><value name="rating" value="3"/></cust_exit_survey>
</cust_survey_list>
<rep_survey_list><rep_exit_survey gsnumber="1"><value name="issue_resolved" value="Yes"/></rep_exit_survey></rep_survey_list>
</session></session_list>`

// TestSurveySaysWhoAndWhen: a survey note names the person who submitted it
// (the role only when the report does not name them), says when where the
// report does, and leaves no empty slot behind where it does not.
func TestSurveySaysWhoAndWhen(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, "")
	s := parseOne(t, surveyXML)
	tests := []struct {
		name string
		want []string
	}{
		{CustomerSurvey, []string{"\nSubmitted by Dana Whitfield\nRating: 5\n", "\nSubmitted by the customer\nRating: 3\n"}},
		{RepSurvey, []string{"\nSubmitted by Sam Rivera\nIssue resolved: Yes\n"}},
	}
	for _, tt := range tests {
		out := render(t, r, "", tt.name, NewData(s, time.UTC))
		for _, want := range tt.want {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q:\n%s", tt.name, want, out)
			}
		}
		if strings.Contains(out, "  ") {
			t.Errorf("%s has an empty slot (double space):\n%s", tt.name, out)
		}
	}
	// With a time (as the exit survey reports give it), the note says when.
	s.CustomerSurveys[0].Timestamp = time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)
	out := render(t, r, "", CustomerSurvey, NewData(s, time.UTC))
	if want := "\nSubmitted by Dana Whitfield on 2025-03-14 10:00:00 UTC\n"; !strings.Contains(out, want) {
		t.Errorf("lacks %q:\n%s", want, out)
	}
}
