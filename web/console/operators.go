package console

import (
	"net/http"
	"strings"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/web"
)

func roleOptions(t web.Text, have []identity.Role) []web.ConsoleOption {
	var out []web.ConsoleOption
	for _, r := range identity.Roles() {
		out = append(out, web.ConsoleOption{Value: string(r), Label: t.T("console.role." + string(r)), Selected: contains(have, r)})
	}
	return out
}

func contains(rs []identity.Role, r identity.Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

func (h *Handler) operators(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	return h.renderOperators(w, r, op, http.StatusOK, func(*web.ConsoleOperatorsData) {})
}

func (h *Handler) renderOperators(w http.ResponseWriter, r *http.Request, op *identity.Operator, status int, fill func(*web.ConsoleOperatorsData)) error {
	list, err := h.cfg.Console.OperatorList(r.Context(), op)
	if err != nil {
		return err
	}
	t := web.TextFor(web.Lang(r, nil))
	d := web.ConsoleOperatorsData{ConsoleBase: h.base(r, op), RoleOptions: roleOptions(t, nil)}
	for _, o := range list {
		var roles []string
		for _, ro := range o.Roles {
			roles = append(roles, t.T("console.role."+string(ro)))
		}
		d.Operators = append(d.Operators, web.ConsoleOperator{ID: o.ID, Username: o.Username, Name: o.Name,
			Roles: strings.Join(roles, t.T("console.sep")), Region: regionLabel(t, o.Region), RegionCode: o.Region,
			Status: label(t, "console.opstatus.", string(o.Status)), RoleOptions: roleOptions(t, o.Roles), Self: o.ID == op.ID})
	}
	fill(&d)
	return h.cfg.UI.Render(w, r, web.PageConsoleOperators, web.View{Status: status, Data: d})
}

// createOperator creates an operator and shows the TOTP enrolment URI once
// (in this response only; it is never stored in the clear or logged).
func (h *Handler) createOperator(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	var roles []identity.Role
	for _, s := range r.PostForm["role"] {
		roles = append(roles, identity.Role(s))
	}
	in := identity.NewOperatorInput{Username: r.PostFormValue("username"), Name: r.PostFormValue("name"),
		Roles: roles, Region: r.PostFormValue("region"), Password: r.PostFormValue("password")}
	created, err := h.cfg.Console.CreateOperator(r.Context(), op, in)
	if err != nil {
		msg, ok := h.describe(r, err)
		if !ok {
			return err
		}
		return h.renderOperators(w, r, op, http.StatusBadRequest, func(d *web.ConsoleOperatorsData) {
			d.Error = msg
			d.New.Username, d.New.Name, d.New.Region = in.Username, in.Name, in.Region
		})
	}
	return h.renderOperators(w, r, op, http.StatusOK, func(d *web.ConsoleOperatorsData) {
		d.CreatedUser = created.Username
		d.TOTPURI = created.TOTP.URI("Yihao", created.Username)
	})
}

// changeOperator asks for a change of roles and region (a second
// administrator approves it).
func (h *Handler) changeOperator(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	_, err := h.cfg.Console.RequestOperatorChange(r.Context(), op, r.PathValue("id"), r.PostForm["role"],
		r.PostFormValue("region"), r.PostFormValue("reason"))
	if err != nil {
		msg, ok := h.describe(r, err)
		if !ok {
			return err
		}
		return h.renderOperators(w, r, op, http.StatusBadRequest, func(d *web.ConsoleOperatorsData) { d.Error = msg })
	}
	done(w, r, "/console/operators", "change-requested")
	return nil
}
