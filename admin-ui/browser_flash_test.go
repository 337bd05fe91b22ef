package adminui

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// An action that ends on a page with a notice (.flash) starts from a page
// that may still show an earlier notice, even one with the same words (a
// second save). A wait for any .flash is then met by the old page at once,
// and the test reads the state from before the action. doFlash marks the
// notices on the page before the action, and its wait takes only an
// unmarked notice with the expected words.

// markFlashes marks the notices the page shows now as stale.
var markFlashes = chromedp.Evaluate[chromedp.Void](`document.querySelectorAll(".flash").forEach(e => e.dataset.stale = "")`)

// newFlash is a page expression, true once a notice that is not marked
// stale contains text.
func newFlash(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(".flash:not([data-stale])")].some(e => e.textContent.includes(%q))`, text)
}

// doFlash runs steps that end on a page whose notice contains text, and
// waits for that notice, new since the steps began.
func (b *browser) doFlash(what, text string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.do("mark the notices before: "+what, markFlashes)
	b.do(what, steps...)
	b.waitFor(newFlash(text))
}

// TestBrowserFlashWait: a notice already on the page meets a wait for any
// .flash (the wait these tests used to have) but not doFlash's wait, even
// with the same words; the same notice on a new page meets it.
func TestBrowserFlashWait(t *testing.T) {
	b := newBrowser(t)
	b.signInThroughSetup()
	const words = "you are signed in"
	b.do("mark the setup's notice", markFlashes)
	if n := b.count(".flash"); n != 1 {
		t.Fatalf("%d notices after setup, want its one", n)
	}
	b.do("any notice", chromedp.WaitVisible(chromedp.CSS(".flash")))
	stale, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](newFlash(words)))
	if err != nil {
		t.Fatal(err)
	}
	if stale {
		t.Fatal("the notice already on the page counts as new")
	}
	b.doFlash("open the page again", words, chromedp.Navigate(b.srv.AdminURL()+"/?done=setup"))
}
