package helperproc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

const echoEnv = "HELPERPROC_TEST_ECHO"

func TestMain(m *testing.M) { Main(m, echoEnv, echo) }

// echo is the helper: it greets with the variable's value, answers each
// line in upper case, and ends on "bye" or when stdin closes.
func echo(value string) int {
	fmt.Println("hello " + value)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() && in.Text() != "bye" {
		fmt.Println(strings.ToUpper(in.Text()))
	}
	return 0
}

func TestHelperAnswersInLines(t *testing.T) {
	t.Parallel()
	p := Start(t, echoEnv, "there")
	if hello, err := p.Line(); err != nil || hello != "hello there" {
		t.Fatalf("greeting %q, %v", hello, err)
	}
	for _, q := range []string{"post 12", "stats"} {
		if a, err := p.Ask(q); err != nil || a != strings.ToUpper(q) {
			t.Errorf("asked %q, answered %q, %v", q, a, err)
		}
	}
	if a, err := p.Ask("bye"); !errors.Is(err, io.EOF) {
		t.Errorf("after the helper ended: %q, %v; want io.EOF", a, err)
	}
}
