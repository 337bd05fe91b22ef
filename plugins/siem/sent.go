package siem

import (
	"slices"
	"strconv"
	"strings"
)

// slotSet is a set of event slots kept in a delivery's checkpoint as
// ranges ("0-41,43,45-50"), so that a report of thousands of events costs
// a few bytes to record.
type slotSet map[int]bool

func parseSlots(s string) slotSet {
	out := slotSet{}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a || b-a > 1<<20 {
				continue
			}
		}
		for i := a; i <= b; i++ {
			out[i] = true
		}
	}
	return out
}

func (s slotSet) String() string {
	keys := make([]int, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i := 0; i < len(keys); {
		j := i
		for j+1 < len(keys) && keys[j+1] == keys[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(keys[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(keys[j]))
		}
		i = j + 1
	}
	return b.String()
}
