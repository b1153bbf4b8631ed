package embedded_test

import (
	"testing"
	"time"

	"github.com/yihao-gov/yihao/store/embedded"
	"github.com/yihao-gov/yihao/store/storetest"
)

func benchStore(b *testing.B) *embedded.Store {
	s, err := embedded.New(embedded.Config{SealKey: testKey, IdleTimeout: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkSessionGet(b *testing.B)  { storetest.BenchSessionGet(b, benchStore(b)) }
func BenchmarkStatePutUse(b *testing.B) { storetest.BenchStatePutUse(b, benchStore(b)) }
