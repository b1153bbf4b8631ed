package web

// PasskeysData is passkeys.html (filled by web/passkey).
type PasskeysData struct {
	Keys        []PasskeyLine
	Notice      string // localized; "" for none
	DefaultName string // placeholder of the name field
	NeedsReauth bool   // the login is too old to add a passkey: show a sign-in link instead
}

// PasskeyLine is one passkey in the list.
type PasskeyLine struct {
	ID       string // base64url credential id, for the rename and delete forms
	Name     string
	Created  string // date, China time
	LastUsed string // "" when never used
	Synced   bool
}
