package oauth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/yihao-gov/yihao/identity"
)

// What the citizen's account centre needs from the protocol layer: which
// sites hold a grant or a remembered consent, and the kill paths a citizen may
// start on their own account.

// SiteUse is one service site a citizen has let in: a remembered consent,
// live grants (tokens it may still use), or both.
type SiteUse struct {
	ClientID   string
	ClientName string    // the client's registered name; its id when it no longer exists
	Scopes     []string  // consented scopes, plus any scope of a live grant
	GrantedAt  time.Time // when consent was given; the oldest live grant without one
	LastUsed   time.Time // the newest live grant (zero when none is live)
	LiveGrants int       // grants not revoked yet (refresh families, unexpired access tokens)
}

// CitizenSites lists the sites of a citizen, most recently used first. It
// joins the citizen's consents with their live grants and the clients' names.
func (p *Provider) CitizenSites(ctx context.Context, citizenID string) ([]SiteUse, error) {
	consents, err := p.deps.Consents.CitizenConsents(ctx, citizenID)
	if err != nil {
		return nil, fmt.Errorf("oauth: citizen consents: %w", err)
	}
	grants, err := p.deps.Grants.CitizenGrants(ctx, citizenID)
	if err != nil {
		return nil, fmt.Errorf("oauth: citizen grants: %w", err)
	}
	byClient := map[string]*SiteUse{}
	site := func(clientID string) *SiteUse {
		s, ok := byClient[clientID]
		if !ok {
			s = &SiteUse{ClientID: clientID}
			byClient[clientID] = s
		}
		return s
	}
	for _, c := range consents {
		s := site(c.ClientID)
		s.GrantedAt = c.GrantedAt
		s.Scopes = addScopes(s.Scopes, c.Scopes)
	}
	for _, g := range grants {
		s := site(g.ClientID)
		s.LiveGrants++
		s.Scopes = addScopes(s.Scopes, g.Scopes)
		s.LastUsed = later(s.LastUsed, g.CreatedAt)
	}
	sites := make([]SiteUse, 0, len(byClient))
	for _, s := range byClient {
		if s.GrantedAt.IsZero() {
			s.GrantedAt = oldestGrant(grants, s.ClientID)
		}
		s.ClientName = s.ClientID
		switch c, err := p.storage.client(ctx, s.ClientID); {
		case err == nil && c.Name != "":
			s.ClientName = c.Name
		case err != nil && !errors.Is(err, identity.ErrNotFound):
			return nil, fmt.Errorf("oauth: load client: %w", err)
		}
		sites = append(sites, *s)
	}
	slices.SortFunc(sites, func(a, b SiteUse) int {
		if c := later(a.LastUsed, a.GrantedAt).Compare(later(b.LastUsed, b.GrantedAt)); c != 0 {
			return -c
		}
		return cmp.Compare(a.ClientID, b.ClientID)
	})
	return sites, nil
}

func addScopes(have, more []string) []string {
	for _, s := range more {
		if !slices.Contains(have, s) {
			have = append(have, s)
		}
	}
	return have
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func oldestGrant(grants []*Grant, clientID string) time.Time {
	var t time.Time
	for _, g := range grants {
		if g.ClientID == clientID && (t.IsZero() || g.CreatedAt.Before(t)) {
			t = g.CreatedAt
		}
	}
	return t
}

// RevokeClient withdraws everything a citizen gave one site: the remembered
// consent is deleted (the site must ask again), every live grant of the
// citizen for that client is revoked with all its tokens (the same kill path
// as logout: refresh families dead, access-token records and codes gone, on
// every replica), and the client — only that client — gets a back-channel
// logout token for every SSO session those grants came from. The sessions
// themselves stay: the citizen remains signed in to Yihao and other sites.
// Revoking a site that holds nothing is not an error.
func (p *Provider) RevokeClient(ctx context.Context, citizenID, clientID string) error {
	if citizenID == "" || clientID == "" {
		return errors.New("oauth: revoke client: empty citizen or client id")
	}
	if err := p.deps.Consents.DeleteConsent(ctx, citizenID, clientID); err != nil && !errors.Is(err, identity.ErrNotFound) {
		return fmt.Errorf("oauth: delete consent: %w", err)
	}
	grants, err := p.deps.Grants.CitizenGrants(ctx, citizenID)
	if err != nil {
		return fmt.Errorf("oauth: citizen grants: %w", err)
	}
	var sids []string
	for _, g := range grants {
		if g.ClientID != clientID {
			continue
		}
		if err := p.RevokeGrant(ctx, g.ID); err != nil {
			return err
		}
		if g.SessionID != "" && !slices.Contains(sids, g.SessionID) {
			sids = append(sids, g.SessionID)
		}
	}
	p.ForgetClient(clientID) // a fresh look at its back-channel URI
	for _, sid := range sids {
		// The logout token needs only the sid and the citizen (for sub); the
		// session may have ended already, and the site still has to hear.
		p.logouts.notify(&identity.Session{ID: sid, CitizenID: citizenID}, []string{clientID})
	}
	return nil
}

// EndOtherSessions ends every SSO session of the citizen except keepSID (the
// one the request came from), each through EndSession: its grants revoked
// and the sites that joined it notified. It returns how many it ended.
func (p *Provider) EndOtherSessions(ctx context.Context, citizenID, keepSID string) (int, error) {
	sessions, err := p.deps.Sessions.CitizenSessions(ctx, citizenID)
	if err != nil {
		return 0, fmt.Errorf("oauth: citizen sessions: %w", err)
	}
	n := 0
	for _, s := range sessions {
		if s.ID == keepSID || s.CitizenID != citizenID {
			continue
		}
		switch err := p.EndSession(ctx, s.ID); {
		case err == nil:
			n++
		case !errors.Is(err, identity.ErrNotFound):
			return n, err
		}
	}
	return n, nil
}
