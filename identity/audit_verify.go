package identity

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// AuditProblem says how a chain is broken.
type AuditProblem string

const (
	// AuditMissing: an entry is gone (a gap in seq, or the chain ends
	// before its recorded head).
	AuditMissing AuditProblem = "missing"
	// AuditEdited: an entry's fields no longer give its hash, or it does not
	// link to the entry before it, or it lies beyond the recorded head.
	AuditEdited AuditProblem = "edited"
	// AuditReordered: an intact entry sits at the wrong place: its content
	// or its link belongs to another position of the same chain.
	AuditReordered AuditProblem = "reordered"
)

// AuditBreak is the first broken link VerifyAudit found.
type AuditBreak struct {
	Partition int
	Seq       int64
	Problem   AuditProblem
	Detail    string
}

func (b *AuditBreak) Error() string {
	return fmt.Sprintf("audit chain broken: partition %d, seq %d: %s (%s)", b.Partition, b.Seq, b.Problem, b.Detail)
}

// AuditReport is what VerifyAudit checked.
type AuditReport struct {
	Partitions int
	Entries    int64
	// Heads are the verified heads. HeadsDigest is SHA-256 over them: record
	// it somewhere outside this database (an anchor), and a later report
	// with a different digest for the same entries shows the chain was
	// rewritten from some point onwards, or truncated with its head.
	Heads       []AuditHead
	HeadsDigest []byte
	// Break is the first broken link, in partition order; nil when every
	// chain is intact.
	Break *AuditBreak
}

// AuditChainReader is what VerifyAudit reads (a subset of AuditLog).
type AuditChainReader interface {
	AuditHeads(ctx context.Context) ([]AuditHead, error)
	AuditChain(ctx context.Context, partition int, afterSeq int64, limit int) ([]*AuditEntry, error)
}

// auditPage is how many entries VerifyAudit reads at a time; auditWindow is
// how far ahead it looks, after a broken link, for where the entry belongs.
const (
	auditPage   = 1000
	auditWindow = 64
)

// VerifyAudit walks every partition in seq order and recomputes each
// entry's hash from its fields and its predecessor's hash. It stops at the
// first broken link and names it in the report; the error is for failures
// to read the log, not for a broken chain. It may run while entries are
// appended: a partition is checked up to its head as read when the walk
// reaches its end, and the report's heads are those read at the start.
func VerifyAudit(ctx context.Context, r AuditChainReader) (*AuditReport, error) {
	heads, err := r.AuditHeads(ctx)
	if err != nil {
		return nil, fmt.Errorf("identity: verify audit: %w", err)
	}
	rep := &AuditReport{Partitions: len(heads), Heads: heads}
	for _, h := range heads {
		n, brk, err := verifyPartition(ctx, r, h)
		rep.Entries += n
		if err != nil {
			return nil, fmt.Errorf("identity: verify audit: partition %d: %w", h.Partition, err)
		}
		if brk != nil {
			rep.Break = brk
			return rep, nil
		}
	}
	rep.HeadsDigest = headsDigest(heads)
	return rep, nil
}

func headsDigest(heads []AuditHead) []byte {
	d := sha256.New()
	var buf []byte
	for _, h := range heads {
		buf = binary.BigEndian.AppendUint64(buf[:0], uint64(h.Partition))
		buf = binary.BigEndian.AppendUint64(buf, uint64(h.Seq))
		d.Write(buf)
		d.Write(h.Hash)
	}
	return d.Sum(nil)
}

func verifyPartition(ctx context.Context, r AuditChainReader, head AuditHead) (int64, *AuditBreak, error) {
	p := head.Partition
	prev := AuditGenesis
	var seq int64 // last verified seq
	var count int64
	for {
		page, err := r.AuditChain(ctx, p, seq, auditPage)
		if err != nil {
			return count, nil, err
		}
		if len(page) == 0 {
			break
		}
		for i, e := range page {
			want := seq + 1
			if e.Seq > head.Seq {
				// Appended since the heads were read (a live system), or
				// forged past the head: read the head again to tell.
				if head, err = currentHead(ctx, r, p); err != nil {
					return count, nil, err
				}
				if e.Seq > head.Seq {
					return count, &AuditBreak{p, e.Seq, AuditEdited, fmt.Sprintf("entry beyond the recorded head (seq %d)", head.Seq)}, nil
				}
			}
			switch {
			case e.Seq != want:
				return count, &AuditBreak{p, want, AuditMissing, fmt.Sprintf("the next entry present is seq %d", e.Seq)}, nil
			}
			linked := bytes.Equal(e.PrevHash, prev)
			intact := bytes.Equal(AuditHash(e.PrevHash, e), e.Hash)
			if !linked || !intact {
				ahead, err := lookahead(ctx, r, p, page[i+1:])
				if err != nil {
					return count, nil, err
				}
				return count, diagnose(p, e, prev, linked, ahead), nil
			}
			prev, seq = e.Hash, e.Seq
			count++
		}
	}
	switch {
	case seq < head.Seq:
		return count, &AuditBreak{p, seq + 1, AuditMissing, fmt.Sprintf("the chain ends at seq %d, its head says %d", seq, head.Seq)}, nil
	case !bytes.Equal(prev, head.Hash):
		return count, &AuditBreak{p, seq, AuditEdited, "the last entry's hash differs from the recorded head"}, nil
	}
	return count, nil, nil
}

// currentHead reads partition p's head again.
func currentHead(ctx context.Context, r AuditChainReader, p int) (AuditHead, error) {
	heads, err := r.AuditHeads(ctx)
	if err != nil {
		return AuditHead{}, err
	}
	for _, h := range heads {
		if h.Partition == p {
			return h, nil
		}
	}
	return AuditHead{}, fmt.Errorf("partition %d has no head any more", p)
}

// lookahead returns up to auditWindow entries after a broken one, from the
// page already read and, if that is short, from the log.
func lookahead(ctx context.Context, r AuditChainReader, p int, rest []*AuditEntry) ([]*AuditEntry, error) {
	if len(rest) >= auditWindow {
		return rest[:auditWindow], nil
	}
	if len(rest) == 0 {
		return nil, nil
	}
	more, err := r.AuditChain(ctx, p, rest[len(rest)-1].Seq, auditWindow-len(rest))
	if err != nil {
		return nil, err
	}
	return append(append([]*AuditEntry(nil), rest...), more...), nil
}

// diagnose names what is wrong with e, the first entry that does not verify
// (prev is the hash it should link to). It is reordered when its content
// verifies at a later position, or when a later entry links where e should;
// otherwise edited.
func diagnose(p int, e *AuditEntry, prev []byte, linked bool, ahead []*AuditEntry) *AuditBreak {
	for _, o := range ahead {
		moved := *e
		moved.Seq = o.Seq
		if bytes.Equal(AuditHash(o.PrevHash, &moved), o.Hash) {
			return &AuditBreak{p, e.Seq, AuditReordered, fmt.Sprintf("its content belongs at seq %d", o.Seq)}
		}
		if bytes.Equal(o.PrevHash, prev) {
			return &AuditBreak{p, e.Seq, AuditReordered, fmt.Sprintf("the entry that follows seq %d is at seq %d", e.Seq-1, o.Seq)}
		}
	}
	if !linked {
		return &AuditBreak{p, e.Seq, AuditEdited, "it does not link to the entry before it"}
	}
	return &AuditBreak{p, e.Seq, AuditEdited, "its fields do not give its hash"}
}
