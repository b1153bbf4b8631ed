package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/web"
)

// documentTypes are the person's documents a look-up or registration may
// name ("" recognises the type from the number).
var documentTypes = []identity.DocumentType{"", identity.ResidentID, identity.ResidencePermit,
	identity.ForeignPermanentResident, identity.HKMacaoPermit, identity.TaiwanPermit, identity.Passport}

func docOptions(t web.Text, selected string) []web.ConsoleOption {
	var out []web.ConsoleOption
	for _, d := range documentTypes {
		l := t.T("console.doc.auto")
		if d != "" {
			l = label(t, "account.doc.", string(d))
		}
		out = append(out, web.ConsoleOption{Value: string(d), Label: l, Selected: string(d) == selected})
	}
	return out
}

func parseDocType(s string) (identity.DocumentType, error) {
	for _, d := range documentTypes {
		if string(d) == s {
			return d, nil
		}
	}
	return "", &identity.FieldError{Field: "document_type", Reason: identity.FieldInvalid}
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	return h.renderHome(w, r, op, http.StatusOK, "", "")
}

func (h *Handler) renderHome(w http.ResponseWriter, r *http.Request, op *identity.Operator, status int, reason, msg string) error {
	t := web.TextFor(web.Lang(r, nil))
	d := web.ConsoleHomeData{ConsoleBase: h.base(r, op), DocTypes: docOptions(t, r.PostFormValue("document_type")), Reason: reason}
	d.Error = msg
	if pending, err := h.cfg.Console.PendingApprovals(r.Context(), op); err == nil {
		d.Pending = len(pending)
	}
	return h.cfg.UI.Render(w, r, web.PageConsole, web.View{Status: status, Data: d})
}

// lookup finds a citizen by full document number and a stated reason. The
// number travels only in this POST body; the result is the citizen's page
// under their opaque id.
func (h *Handler) lookup(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	reason := r.PostFormValue("reason")
	dt, err := parseDocType(r.PostFormValue("document_type"))
	var c *identity.ConsoleCitizen
	if err == nil {
		c, err = h.cfg.Console.Lookup(r.Context(), op, dt, r.PostFormValue("number"), reason)
	}
	if err != nil {
		if msg, ok := h.describe(r, err); ok {
			return h.renderHome(w, r, op, http.StatusBadRequest, reason, msg)
		}
		return err
	}
	http.Redirect(w, r, "/console/citizens/"+url.PathEscape(c.ID), http.StatusSeeOther)
	return nil
}

func (h *Handler) citizenView(t web.Text, c *identity.ConsoleCitizen) web.ConsoleCitizen {
	v := web.ConsoleCitizen{ID: c.ID, Name: c.Name, DocumentType: label(t, "account.doc.", string(c.Number.Type())),
		MaskedNumber: c.Number.Masked(), MaskedPhone: maskPhone(c.Phone),
		Level:  label(t, "console.level.", fmt.Sprint(int(c.Level))),
		Status: label(t, "console.status.", string(c.Status)), Frozen: c.Status == identity.StatusFrozen,
		ResetAt: h.when(c.CredentialsResetAt)}
	switch {
	case c.Region == "":
		v.Region = t.T("console.region.nation")
	case c.RegionName != "":
		v.Region = c.RegionName + " (" + c.Region + ")"
	default:
		v.Region = c.Region
	}
	return v
}

func (h *Handler) citizen(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	return h.renderCitizen(w, r, op, http.StatusOK, "")
}

func (h *Handler) renderCitizen(w http.ResponseWriter, r *http.Request, op *identity.Operator, status int, msg string) error {
	c, err := h.cfg.Console.Citizen(r.Context(), op, r.PathValue("id"))
	if err != nil {
		return err
	}
	t := web.TextFor(web.Lang(r, nil))
	d := web.ConsoleCitizenData{ConsoleBase: h.base(r, op), Citizen: h.citizenView(t, c)}
	if err := h.mergeView(r, op, c, &d.Citizen); err != nil {
		return err
	}
	d.Error = msg
	return h.cfg.UI.Render(w, r, web.PageConsoleCitizen, web.View{Status: status, Data: d})
}

// citizenAction runs one change on the citizen of the path and answers
// with their page: a confirmation, or the reason it was refused.
func (h *Handler) citizenAction(w http.ResponseWriter, r *http.Request, op *identity.Operator, what string, f func(id string) error) error {
	id := r.PathValue("id")
	if err := f(id); err != nil {
		if pendingDone(w, r, id, err) {
			return nil
		}
		if msg, ok := h.describe(r, err); ok {
			return h.renderCitizen(w, r, op, http.StatusBadRequest, msg)
		}
		return err
	}
	done(w, r, "/console/citizens/"+url.PathEscape(id), what)
	return nil
}

func (h *Handler) phone(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	phone := r.PostFormValue("phone")
	if r.PostFormValue("unbind") != "" {
		phone = ""
	} else if strings.TrimSpace(phone) == "" {
		return h.renderCitizen(w, r, op, http.StatusBadRequest, web.TextFor(web.Lang(r, nil)).T("console.phone.required"))
	}
	what := "phone"
	if phone == "" {
		what = "unbound"
	}
	return h.citizenAction(w, r, op, what, func(id string) error {
		return h.cfg.Console.SetPhone(r.Context(), op, id, phone)
	})
}

func (h *Handler) freeze(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	return h.citizenAction(w, r, op, "frozen", func(id string) error {
		return h.cfg.Console.Freeze(r.Context(), op, id, r.PostFormValue("reason"))
	})
}

func (h *Handler) unfreeze(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	return h.citizenAction(w, r, op, "unfreeze-requested", func(id string) error {
		_, err := h.cfg.Console.RequestUnfreeze(r.Context(), op, id, r.PostFormValue("reason"))
		return err
	})
}

func (h *Handler) reset(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	return h.citizenAction(w, r, op, "reset", func(id string) error {
		return h.cfg.Console.ResetCredentials(r.Context(), op, id, r.PostFormValue("reason"))
	})
}

func (h *Handler) registerPage(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	t := web.TextFor(web.Lang(r, nil))
	return h.cfg.UI.Render(w, r, web.PageConsoleRegister, web.View{Data: web.ConsoleRegisterData{ConsoleBase: h.base(r, op), DocTypes: docOptions(t, "")}})
}

// register creates an account in person (level 3, no password).
func (h *Handler) register(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	in := identity.InPersonInput{Number: r.PostFormValue("number"), Name: r.PostFormValue("name"), Phone: r.PostFormValue("phone")}
	dt, err := parseDocType(r.PostFormValue("document_type"))
	var c *identity.Citizen
	if err == nil {
		in.DocumentType = dt
		c, err = h.cfg.Console.RegisterInPerson(r.Context(), op, in)
	}
	if err != nil {
		msg, ok := h.describe(r, err)
		if !ok {
			return err
		}
		t := web.TextFor(web.Lang(r, nil))
		d := web.ConsoleRegisterData{ConsoleBase: h.base(r, op), DocTypes: docOptions(t, string(dt)), Name: in.Name, Phone: in.Phone}
		d.Error = msg
		return h.cfg.UI.Render(w, r, web.PageConsoleRegister, web.View{Status: http.StatusBadRequest, Data: d})
	}
	done(w, r, "/console/citizens/"+url.PathEscape(c.ID), "registered")
	return nil
}

func (h *Handler) approvals(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	return h.renderApprovals(w, r, op, http.StatusOK, "")
}

func (h *Handler) renderApprovals(w http.ResponseWriter, r *http.Request, op *identity.Operator, status int, msg string) error {
	list, err := h.cfg.Console.PendingApprovals(r.Context(), op)
	if err != nil {
		return err
	}
	t := web.TextFor(web.Lang(r, nil))
	d := web.ConsoleApprovalsData{ConsoleBase: h.base(r, op)}
	d.Error = msg
	for _, a := range list {
		v := web.ConsoleApproval{ID: a.ID, Action: label(t, "console.action.", string(a.Action)), Reason: a.Reason,
			RequestedBy: h.operatorName(r, a.RequestedBy), RequestedAt: h.when(a.RequestedAt), Own: a.RequestedBy == op.ID}
		switch a.Action {
		case identity.ApproveUnfreeze, identity.ApproveMerge, identity.ApproveUnmerge, identity.ApproveRemoveLastFactor:
			if c, err := h.cfg.Console.Citizen(r.Context(), op, a.Target); err == nil {
				v.Target = c.Name + " · " + c.Number.Masked()
			}
			if s, err := h.cfg.Console.Citizen(r.Context(), op, a.Params["survivor"]); a.Action == identity.ApproveMerge && err == nil {
				v.Detail = "→ " + s.Name + " · " + s.Number.Masked()
			}
			if f := a.Params["factor"]; f != "" {
				v.Detail = f
			}
		case identity.ApproveOperatorChange:
			v.Target = h.operatorName(r, a.Target)
			var roles []string
			for _, ro := range strings.Fields(a.Params["roles"]) {
				roles = append(roles, label(t, "console.role.", ro))
			}
			v.Detail = strings.Join(roles, t.T("console.sep")) + " · " + regionLabel(t, a.Params["region"])
		}
		d.Approvals = append(d.Approvals, v)
	}
	return h.cfg.UI.Render(w, r, web.PageConsoleApprovals, web.View{Status: status, Data: d})
}

func (h *Handler) operatorName(r *http.Request, id string) string {
	if o, err := h.cfg.Console.Operators.Operator(r.Context(), id); err == nil {
		return o.Name + " (" + o.Username + ")"
	}
	return id
}

func (h *Handler) decide(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	var approve bool
	switch r.PathValue("decision") {
	case "approve":
		approve = true
	case "reject":
	default:
		return web.Error(http.StatusNotFound, "console.error.notfound")
	}
	if err := h.cfg.Console.Decide(r.Context(), op, r.PathValue("id"), approve); err != nil {
		if msg, ok := h.describe(r, err); ok {
			return h.renderApprovals(w, r, op, http.StatusConflict, msg)
		}
		return err
	}
	what := "rejected"
	if approve {
		what = "approved"
	}
	done(w, r, "/console/approvals", what)
	return nil
}
