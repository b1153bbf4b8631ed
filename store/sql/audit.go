package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yihao-gov/yihao/identity"
)

var _ identity.AuditLog = (*Store)(nil)

// AuditPartitions is the number of audit chains. Migration 0006 creates
// their heads. A citizen's entries all go to partition fnv32a(citizen id) mod
// AuditPartitions; entries about no citizen go to a random one. Raising the
// number is a new migration adding heads and a new constant: chains already
// written stay valid, and histories are found through the citizen index, not
// the partition.
const AuditPartitions = 16

// auditMigration is migration 0007 (never edit it: a change is a new step):
// the entries, keyed by (partition, seq), with an index for a citizen's
// history; and one head per partition, created here so that an append
// only ever locks an existing row.
func auditMigration(dialect string) []string {
	stmts := tables(
		table{
			name: "audit_entries",
			columns: []string{
				"part {int} NOT NULL",
				"seq BIGINT NOT NULL",
				"at_us BIGINT NOT NULL",
				"action {id} NOT NULL",
				"citizen_id {id} NOT NULL",
				"actor {id} NOT NULL",
				"client_id {id} NOT NULL",
				"session_id {id} NOT NULL",
				"grant_id {id} NOT NULL",
				"ip {id} NOT NULL",
				"detail {text} NOT NULL",
				"prev_hash {digest} NOT NULL",
				"entry_hash {digest} NOT NULL",
			},
			constraints: []string{"PRIMARY KEY (part, seq)"},
			indexes:     []index{{"audit_entries_citizen_idx", "citizen_id, at_us"}},
		},
		table{
			name: "audit_heads",
			columns: []string{
				"part {int} NOT NULL",
				"seq BIGINT NOT NULL",
				"head_hash {digest} NOT NULL",
			},
			constraints: []string{"PRIMARY KEY (part)"},
		},
	)(dialect)
	genesis := strings.Repeat("0", 2*len(identity.AuditGenesis))
	lit := "X'" + genesis + "'"
	if dialect == DialectPostgres {
		lit = "'\\x" + genesis + "'::bytea"
	}
	values := make([]string, AuditPartitions)
	for p := range values {
		values[p] = fmt.Sprintf("(%d, 0, %s)", p, lit)
	}
	// A re-run (MySQL cannot roll back the DDL above) must not fail here.
	insert := "INSERT INTO audit_heads (part, seq, head_hash) VALUES " + strings.Join(values, ", ")
	switch dialect {
	case DialectMySQL:
		insert = "INSERT IGNORE" + strings.TrimPrefix(insert, "INSERT")
	default:
		insert += " ON CONFLICT (part) DO NOTHING"
	}
	return append(stmts, insert)
}

// auditRow is one entry of audit_entries. Time is kept as Unix microseconds:
// it compares and round-trips identically on every dialect, which the hash
// depends on.
type auditRow struct {
	Part      int    `gorm:"column:part;primaryKey;autoIncrement:false"`
	Seq       int64  `gorm:"column:seq;primaryKey;autoIncrement:false"`
	AtMicros  int64  `gorm:"column:at_us"`
	Action    string `gorm:"column:action"`
	CitizenID string `gorm:"column:citizen_id"`
	Actor     string `gorm:"column:actor"`
	ClientID  string `gorm:"column:client_id"`
	SessionID string `gorm:"column:session_id"`
	GrantID   string `gorm:"column:grant_id"`
	IP        string `gorm:"column:ip"`
	Detail    string `gorm:"column:detail"`
	PrevHash  []byte `gorm:"column:prev_hash"`
	Hash      []byte `gorm:"column:entry_hash"`
}

func (auditRow) TableName() string { return "audit_entries" }

// auditHeadRow is the end of one partition's chain; appends lock it.
type auditHeadRow struct {
	Part int    `gorm:"column:part;primaryKey;autoIncrement:false"`
	Seq  int64  `gorm:"column:seq"`
	Hash []byte `gorm:"column:head_hash"`
}

func (auditHeadRow) TableName() string { return "audit_heads" }

// auditBadDetail is the detail key under which a stored detail that is not
// a JSON object is handed back as it is; it never verifies.
const auditBadDetail = "!undecodable"

func (r *auditRow) entry() *identity.AuditEntry {
	e := &identity.AuditEntry{
		Action:    identity.AuditAction(r.Action),
		CitizenID: r.CitizenID,
		Actor:     r.Actor,
		ClientID:  r.ClientID,
		SessionID: r.SessionID,
		GrantID:   r.GrantID,
		IP:        r.IP,
		At:        time.UnixMicro(r.AtMicros).UTC(),
		Partition: r.Part,
		Seq:       r.Seq,
		PrevHash:  r.PrevHash,
		Hash:      r.Hash,
	}
	if r.Detail != "" {
		if err := json.Unmarshal([]byte(r.Detail), &e.Detail); err != nil {
			e.Detail = map[string]string{auditBadDetail: r.Detail}
		}
	}
	return e
}

// auditPartition places an entry: by citizen, or anywhere when it has none.
func auditPartition(citizenID string) (int, error) {
	if citizenID == "" {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return 0, err
		}
		return int(binary.BigEndian.Uint32(b[:]) % AuditPartitions), nil
	}
	h := fnv.New32a()
	h.Write([]byte(citizenID))
	return int(h.Sum32() % AuditPartitions), nil
}

// AppendAudit adds e to the end of its partition's chain. Appends are
// committed in groups: while one transaction of a partition is under way,
// the appends that arrive for it queue, and the next transaction writes
// them all — lock the partition's head (SELECT … FOR UPDATE; SQLite's write
// transaction is the lock), insert the entries with consecutive seqs, each
// linked to the one before, move the head once. AppendAudit returns when
// the transaction holding e has committed (or failed, for every entry in
// it). Appends to other partitions do not wait; replicas sharing the
// database serialise on the head row as before.
func (s *Store) AppendAudit(ctx context.Context, e *identity.AuditEntry) error {
	const op = "append audit entry"
	if e == nil {
		return failf(op, identity.ErrAuditEntry, "nil entry")
	}
	if err := e.Validate(); err != nil {
		return err
	}
	at := e.At
	if at.IsZero() {
		at = s.now()
	}
	at = identity.AuditTime(at)
	part, err := auditPartition(e.CitizenID)
	if err != nil {
		return failf(op, nil, "%v", err)
	}
	detail := ""
	if len(e.Detail) > 0 {
		b, _ := json.Marshal(e.Detail) // map[string]string always marshals, keys sorted
		detail = string(b)
	}
	// The entry as it will be hashed and stored; e is set only on success.
	job := &auditJob{entry: *e, detail: detail, done: make(chan error, 1)}
	job.entry.At, job.entry.Partition = at, part
	s.auditQ.mu.Lock()
	s.auditQ.waiting[part] = append(s.auditQ.waiting[part], job)
	start := !s.auditQ.running[part]
	s.auditQ.running[part] = true
	s.auditQ.mu.Unlock()
	if start {
		go s.auditWriter(part)
	}
	select {
	case err = <-job.done:
	case <-ctx.Done():
		// The entry may still be committed: an entry for a release that
		// then did not happen, never the reverse.
		return wrap(op, ctx.Err())
	}
	if err != nil {
		return wrap(op, err)
	}
	*e = job.entry
	return nil
}

// auditQueue holds the appends waiting for each partition's writer.
type auditQueue struct {
	mu      sync.Mutex
	waiting [AuditPartitions][]*auditJob
	running [AuditPartitions]bool
}

type auditJob struct {
	entry  identity.AuditEntry
	detail string
	done   chan error
}

// Group commit bounds: entries per transaction, and how long one may take.
const (
	auditMaxBatch     = 128
	auditBatchTimeout = 10 * time.Second
)

// auditWriter commits part's queued appends, a group at a time, until none
// is left.
func (s *Store) auditWriter(part int) {
	for {
		s.auditQ.mu.Lock()
		jobs := s.auditQ.waiting[part]
		if len(jobs) > auditMaxBatch {
			jobs = jobs[:auditMaxBatch:auditMaxBatch]
			s.auditQ.waiting[part] = s.auditQ.waiting[part][auditMaxBatch:]
		} else {
			s.auditQ.waiting[part] = nil
		}
		if len(jobs) == 0 {
			s.auditQ.running[part] = false
			s.auditQ.mu.Unlock()
			return
		}
		s.auditQ.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), auditBatchTimeout)
		err := s.appendAuditBatch(ctx, part, jobs)
		cancel()
		for _, j := range jobs {
			j.done <- err
		}
	}
}

// appendAuditBatch appends jobs to part's chain in one transaction.
func (s *Store) appendAuditBatch(ctx context.Context, part int, jobs []*auditJob) error {
	const op = "append audit entry"
	return s.q(ctx).Transaction(func(tx *gorm.DB) error {
		var head auditHeadRow
		q := tx.Where("part = ?", part)
		if s.dialect != DialectSQLite {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Take(&head).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return failf(op, nil, "no head for audit partition %d: run yihao migrate", part)
			}
			return err
		}
		rows := make([]auditRow, len(jobs))
		seq, prev := head.Seq, head.Hash
		for i, j := range jobs {
			d := &j.entry
			seq++
			d.Seq, d.PrevHash = seq, prev
			d.Hash = identity.AuditHash(prev, d)
			prev = d.Hash
			rows[i] = auditRow{
				Part: part, Seq: d.Seq, AtMicros: d.At.UnixMicro(), Action: string(d.Action),
				CitizenID: d.CitizenID, Actor: d.Actor, ClientID: d.ClientID,
				SessionID: d.SessionID, GrantID: d.GrantID, IP: d.IP, Detail: j.detail,
				PrevHash: d.PrevHash, Hash: d.Hash,
			}
		}
		if err := tx.Create(&rows).Error; err != nil {
			return err
		}
		res := tx.Model(&auditHeadRow{}).Where("part = ? AND seq = ?", part, head.Seq).
			Updates(map[string]any{"seq": seq, "head_hash": prev})
		if res.Error == nil && res.RowsAffected != 1 {
			// Only possible if the head was not locked: never commit a fork.
			return failf(op, identity.ErrConflict, "audit partition %d head moved during append", part)
		}
		return res.Error
	})
}

// Page sizes of AuditEntries.
const (
	auditDefaultLimit = 50
	auditMaxLimit     = 500
)

// AuditEntries returns matching entries newest first (time, then
// partition and seq descending, so the order is total), one page at a time.
// The cursor is the position of the last entry returned.
func (s *Store) AuditEntries(ctx context.Context, q identity.AuditQuery) (identity.AuditPage, error) {
	const op = "list audit entries"
	limit := q.Limit
	if limit <= 0 {
		limit = auditDefaultLimit
	}
	limit = min(limit, auditMaxLimit)
	db := s.q(ctx).Model(&auditRow{})
	if q.CitizenID != "" {
		db = db.Where("citizen_id = ?", q.CitizenID)
	}
	if q.ClientID != "" {
		db = db.Where("client_id = ?", q.ClientID)
	}
	if len(q.Actions) > 0 {
		actions := make([]string, len(q.Actions))
		for i, a := range q.Actions {
			actions[i] = string(a)
		}
		db = db.Where("action IN ?", actions)
	}
	if !q.Since.IsZero() {
		db = db.Where("at_us >= ?", identity.AuditTime(q.Since).UnixMicro())
	}
	if !q.Until.IsZero() {
		db = db.Where("at_us < ?", identity.AuditTime(q.Until).UnixMicro())
	}
	if q.Cursor != "" {
		at, part, seq, err := parseAuditCursor(q.Cursor)
		if err != nil {
			return identity.AuditPage{}, failf(op, identity.ErrAuditEntry, "malformed cursor")
		}
		db = db.Where("at_us < ? OR (at_us = ? AND (part < ? OR (part = ? AND seq < ?)))", at, at, part, part, seq)
	}
	var rows []auditRow
	err := db.Order("at_us DESC").Order("part DESC").Order("seq DESC").Limit(limit + 1).Find(&rows).Error
	if err != nil {
		return identity.AuditPage{}, wrap(op, err)
	}
	var page identity.AuditPage
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		page.Next = auditCursor(last.AtMicros, last.Part, last.Seq)
	}
	page.Entries = make([]*identity.AuditEntry, len(rows))
	for i := range rows {
		page.Entries[i] = rows[i].entry()
	}
	return page, nil
}

func auditCursor(at int64, part int, seq int64) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d.%d", at, part, seq))
}

func parseAuditCursor(c string) (at int64, part int, seq int64, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, 0, 0, err
	}
	f := strings.Split(string(b), ".")
	if len(f) != 3 {
		return 0, 0, 0, fmt.Errorf("want 3 fields")
	}
	if at, err = strconv.ParseInt(f[0], 10, 64); err != nil {
		return 0, 0, 0, err
	}
	if part, err = strconv.Atoi(f[1]); err != nil {
		return 0, 0, 0, err
	}
	if seq, err = strconv.ParseInt(f[2], 10, 64); err != nil {
		return 0, 0, 0, err
	}
	return at, part, seq, nil
}

// AuditHeads returns every partition's head, by partition.
func (s *Store) AuditHeads(ctx context.Context) ([]identity.AuditHead, error) {
	var rows []auditHeadRow
	if err := s.q(ctx).Order("part").Find(&rows).Error; err != nil {
		return nil, wrap("list audit heads", err)
	}
	out := make([]identity.AuditHead, len(rows))
	for i, r := range rows {
		out[i] = identity.AuditHead{Partition: r.Part, Seq: r.Seq, Hash: r.Hash}
	}
	return out, nil
}

// AuditChain returns up to limit entries of a partition after afterSeq, in
// seq order, as stored.
func (s *Store) AuditChain(ctx context.Context, partition int, afterSeq int64, limit int) ([]*identity.AuditEntry, error) {
	if limit <= 0 {
		limit = auditDefaultLimit
	}
	var rows []auditRow
	err := s.q(ctx).Where("part = ? AND seq > ?", partition, afterSeq).Order("seq").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, wrap("read audit chain", err)
	}
	out := make([]*identity.AuditEntry, len(rows))
	for i := range rows {
		out[i] = rows[i].entry()
	}
	return out, nil
}
