package textenum

import "testing"

type color int

var colorNames = []string{"red", "green", "blue"}

func TestUnmarshal(t *testing.T) {
	tests := []struct {
		name, text string
		want       color
		wantErr    string
	}{
		{"first", "red", 0, ""},
		{"last", "blue", 2, ""},
		{"unknown", "Red", 1, `paint: unknown color "Red" (want red, green or blue)`},
		{"empty", "", 1, `paint: unknown color "" (want red, green or blue)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := color(1)
			err := Unmarshal(&c, "paint: unknown color", colorNames, []byte(tc.text))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("got error %v, want %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("got error %v", err)
			}
			if c != tc.want {
				t.Errorf("got %d, want %d", c, tc.want)
			}
		})
	}
}

func TestName(t *testing.T) {
	for v, want := range map[color]string{0: "red", 2: "blue", 3: "3", -1: "-1"} {
		if got := Name(colorNames, v); got != want {
			t.Errorf("Name(%d) = %q, want %q", v, got, want)
		}
	}
}
