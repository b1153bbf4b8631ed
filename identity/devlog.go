package identity

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// devLog is what the development senders (DevSender, DevMailer) share:
// the last few messages, for their /dev pages, and a console line each.
// The zero value is ready.
type devLog[T any] struct {
	mu     sync.Mutex
	recent []T
}

// add keeps m (the last keep, 20 when keep is not positive) and writes line
// to out when out is set.
func (l *devLog[T]) add(m T, keep int, out io.Writer, line string) {
	if keep <= 0 {
		keep = 20
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recent = append(l.recent, m)
	if len(l.recent) > keep {
		l.recent = slices.Clone(l.recent[len(l.recent)-keep:])
	}
	if out != nil {
		fmt.Fprintln(out, line)
	}
}

// newestFirst returns a copy of the kept messages, newest first.
func (l *devLog[T]) newestFirst() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.recent)
	slices.Reverse(out)
	return out
}

func devNow(now func() time.Time) time.Time {
	if now != nil {
		return now()
	}
	return time.Now()
}
