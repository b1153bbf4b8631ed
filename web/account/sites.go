package account

import (
	"net/http"

	"github.com/yihao-gov/yihao/web"
	"github.com/yihao-gov/yihao/web/consent"
)

func (h *Handler) sites(w http.ResponseWriter, r *http.Request) error {
	s, err := h.session(w, r, pathSites)
	if s == nil {
		return err
	}
	uses, err := h.cfg.Protocol.CitizenSites(r.Context(), s.CitizenID)
	if err != nil {
		return err
	}
	lang := web.Lang(r, nil)
	d := web.AccountSitesData{AccountPage: h.page(r, pathSites)}
	for _, u := range uses {
		site := web.AccountSite{ClientID: u.ClientID, Name: u.ClientName, Scopes: consent.ScopeLines(lang, u.Scopes),
			GrantedAt: h.when(u.GrantedAt)}
		if u.LiveGrants > 0 {
			site.LastUsed = h.when(u.LastUsed)
		}
		d.Sites = append(d.Sites, site)
	}
	return h.cfg.UI.Render(w, r, web.PageAccountSites, web.View{Data: d})
}

// revoke withdraws a site: consent, grants and tokens, and a back-channel
// logout to it (oauth.Provider.RevokeClient). It needs a fresh login.
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) error {
	s, err := h.session(w, r, pathSites)
	if s == nil {
		return err
	}
	clientID := r.PostFormValue("client")
	if clientID == "" || len(clientID) > 200 {
		return web.Error(http.StatusBadRequest, "error.badrequest")
	}
	if !h.fresh(w, r, s, pathSites) {
		return nil
	}
	if err := h.cfg.Protocol.RevokeClient(r.Context(), s.CitizenID, clientID); err != nil {
		return err
	}
	done(w, r, pathSites, "revoked")
	return nil
}
