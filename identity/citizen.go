package identity

import "time"

// Status of a citizen account.
type Status string

const (
	StatusActive Status = "active"
	StatusFrozen Status = "frozen"
)

// Level is how well a citizen's identity was proven (the real-name level).
// It is one of the two assurance axes; the other (how strongly this login was
// authenticated) is carried by Session.ACR/AMR.
type Level int

const (
	LevelSelfAsserted Level = 1 // self-registered, format checks only
	LevelVerified     Level = 2 // name and number confirmed by a verification service, plus a phone
	LevelInPerson     Level = 3 // checked in person at a counter (or passkey on a level-2 account)
)

// Citizen is a natural person's account. ID is random and opaque; it is never
// the document number.
type Citizen struct {
	ID        string
	Number    Number // document type + number; encrypted at rest by the store
	Name      string
	Phone     string // E.164-ish digits, optional
	Email     string // as NormalizeEmail leaves it, optional; only ever set after a code sent to it was entered
	Status    Status
	Level     Level
	CreatedAt time.Time
	UpdatedAt time.Time

	// LevelMethod and LevelAt record how and when Level was last raised
	// (LevelMethodIDCheck, LevelMethodPasskey); "" and zero for a
	// self-asserted account or one whose level was set when it was created.
	LevelMethod string
	LevelAt     time.Time
}
