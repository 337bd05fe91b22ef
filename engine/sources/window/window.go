// Package window fits a polled source's read window to what the remote can
// answer at once: a window whose answer is too large (more records than a
// poll may take, or a body over a cap) is halved and asked again, down to a
// smallest window read whole whatever it holds. PM Cloud's activity audits
// and the appliance's Team and Vault reports share it.
package window

import "time"

// Fit asks read for the window from start to end and, while tooLarge says
// its answer is too large and the window is wider than min, halves the
// window (its end moves halfway to start, in whole units, never below min)
// and asks again. It returns the end of the window asked last, that
// answer, read's error, and how many times the window was halved.
func Fit[T any](start, end time.Time, min, unit time.Duration, read func(end time.Time) (T, error), tooLarge func(T, error) bool) (time.Time, T, int, error) {
	got, err := read(end)
	halved := 0
	for tooLarge(got, err) && end.Sub(start) > min {
		half := (end.Sub(start) / 2).Truncate(unit)
		if half < min {
			half = min
		}
		end = start.Add(half)
		halved++
		got, err = read(end)
	}
	return end, got, halved, err
}
