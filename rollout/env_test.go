package rollout

import (
	"errors"
	"reflect"
	"testing"

	"github.com/buybutton/checkout/models"
)

func TestFromEnv(t *testing.T) {
	cases := []struct {
		name                          string
		percent, allow, deny, merchts string
		want                          Settings
		wantErr                       bool
	}{
		{name: "integer", percent: "10", want: Settings{Percent: 10}},
		{name: "decimal", percent: "12.5", want: Settings{Percent: 12.5}},
		{name: "below one", percent: "0.5", want: Settings{Percent: 0.5}},
		{name: "blanks and percent sign", percent: " 7 % ", want: Settings{Percent: 7}},
		{name: "zero", percent: "0", want: Settings{Percent: 0}},
		{name: "hundred", percent: "100", want: Settings{Percent: 100}},
		{
			name: "lists", percent: "1",
			allow: "dogfooder, qa-team-1 ,", deny: "banned_1", merchts: " merchant-9 , merchant-10",
			want: Settings{
				Percent:           1,
				Allow:             []string{"dogfooder", "qa-team-1"},
				Deny:              []string{"banned_1"},
				DisabledMerchants: []string{"merchant-9", "merchant-10"},
			},
		},
		{name: "only commas", percent: "3", allow: " , ,", want: Settings{Percent: 3}},
		{name: "empty percent", percent: "", wantErr: true},
		{name: "blank percent", percent: "  ", wantErr: true},
		{name: "only percent sign", percent: "%", wantErr: true},
		{name: "not a number", percent: "ten", wantErr: true},
		{name: "comma decimal", percent: "12,5", wantErr: true},
		{name: "above 100", percent: "150", wantErr: true},
		{name: "negative", percent: "-1", wantErr: true},
		{name: "NaN", percent: "NaN", wantErr: true},
		{name: "Inf", percent: "Inf", wantErr: true},
		{name: "bad allow id", percent: "10", allow: "dogfooder,bad id", wantErr: true},
		{name: "bad deny id", percent: "10", deny: "a/b/c/d", wantErr: true},
		{name: "bad merchant id", percent: "10", merchts: "m1", wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := FromEnv(c.percent, c.allow, c.deny, c.merchts)
			if c.wantErr {
				var me *models.Error
				if !errors.As(err, &me) || me.Kind != models.KindInvalid {
					t.Fatalf("FromEnv() = %+v, %v; want an invalid-kind error", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromEnv() error = %v", err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("FromEnv() = %#v, want %#v", got, c.want)
			}
		})
	}
}
