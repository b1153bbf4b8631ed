package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The locales Yihao speaks. zh-CN is the default.
const (
	LangZH = "zh-CN"
	LangEN = "en"
)

// LangCookie remembers an explicit language switch (?lang=).
const LangCookie = "yihao-lang"

var langs = []string{LangZH, LangEN}

// normalizeLang maps a BCP 47 tag to one of langs, or "".
func normalizeLang(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	switch {
	case tag == "zh" || strings.HasPrefix(tag, "zh-"):
		return LangZH
	case tag == "en" || strings.HasPrefix(tag, "en-"):
		return LangEN
	}
	return ""
}

// Lang picks the page language: an explicit ?lang= switch, then the
// yihao-lang cookie that remembers it, then the flow's ui_locales (in order),
// then Accept-Language, then zh-CN.
func Lang(r *http.Request, uiLocales []string) string {
	if l := normalizeLang(r.URL.Query().Get("lang")); l != "" {
		return l
	}
	if c, err := r.Cookie(LangCookie); err == nil {
		if l := normalizeLang(c.Value); l != "" {
			return l
		}
	}
	for _, tag := range uiLocales {
		if l := normalizeLang(tag); l != "" {
			return l
		}
	}
	if l := acceptLanguage(r.Header.Get("Accept-Language")); l != "" {
		return l
	}
	return LangZH
}

// acceptLanguage returns the supported language with the highest q value
// (earliest wins a tie), or "".
func acceptLanguage(h string) string {
	best, bestQ := "", 0.0
	for part := range strings.SplitSeq(h, ",") {
		tag, params, _ := strings.Cut(part, ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		if l := normalizeLang(tag); l != "" && q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}

// Text is the message catalog of one language, used by templates as
// {{.L.T "key"}} and by handlers through UI.Text.
type Text struct {
	Lang string
	m    map[string]string
}

// T returns the message for key, formatted with args when there are any.
// A missing key renders as "MISSING:key" so that tests catch it.
func (t Text) T(key string, args ...any) string {
	s, ok := t.m[key]
	if !ok {
		return "MISSING:" + key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Has reports whether the catalog holds key.
func (t Text) Has(key string) bool { _, ok := t.m[key]; return ok }

// TextFor returns the catalog of lang (zh-CN for an unknown one).
func TextFor(lang string) Text {
	if normalizeLang(lang) == LangEN {
		return Text{Lang: LangEN, m: catalogEN}
	}
	return Text{Lang: LangZH, m: catalogZH}
}

// otherLang is the language the switch link offers.
func otherLang(lang string) string {
	if lang == LangEN {
		return LangZH
	}
	return LangEN
}

// catalogKeys lists every key of both catalogs (for tests).
func catalogKeys() []string {
	var keys []string
	for k := range catalogZH {
		keys = append(keys, k)
	}
	for k := range catalogEN {
		if _, ok := catalogZH[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

var catalogZH = map[string]string{
	"site.name":        "一号通 · 政务统一身份认证",
	"lang.switch":      "English",
	"lang.switch.name": "Switch language",
	"skip.content":     "跳到正文",
	"footer.privacy":   "本服务只在您同意后向网站提供您的信息。",

	"login.title":         "登录",
	"login.asking":        "%s 请求您登录",
	"login.asking.none":   "使用证件号码登录政务服务",
	"login.username":      "证件号码",
	"login.username.hint": "居民身份证、居住证、永久居留证、通行证或护照号码",
	"login.password":      "密码",
	"login.submit":        "登录",
	"login.register":      "还没有账号？注册",
	"login.invalid":       "证件号码或密码不正确，或账号暂不可用。",
	"login.ratelimited":   "尝试次数过多，请 %d 分钟后再试。",
	"login.error.heading": "无法登录",

	"register.title":            "注册账号",
	"register.intro":            "用您的证件号码注册。注册后，您可以用同一个账号登录各个政务网站。",
	"register.number":           "证件号码",
	"register.number.hint":      "居民身份证 18 位号码，或其他证件号码",
	"register.name":             "姓名",
	"register.name.hint":        "与证件上的姓名一致",
	"register.phone":            "手机号码（选填）",
	"register.password":         "密码",
	"register.password.hint":    "至少 8 位，不要与其他网站相同",
	"register.confirm":          "再次输入密码",
	"register.confirm.mismatch": "两次输入的密码不一致。",
	"register.submit":           "注册",
	"register.back":             "返回登录",
	"register.error.heading":    "请修改以下内容",
	"register.done.title":       "注册完成",
	"register.done.body":        "如果这个证件号码之前没有注册过，您的账号已经可以使用。请登录。",
	"register.done.login":       "去登录",

	"consent.title":                "授权确认",
	"consent.asking":               "%s 请求获取以下信息：",
	"consent.scope.openid":         "您在该网站的一个标识（不是您的证件号码）",
	"consent.scope.profile":        "您的姓名、出生日期和性别",
	"consent.scope.phone":          "您的手机号码",
	"consent.scope.idcard":         "您的证件类型和证件号码",
	"consent.scope.offline_access": "在您离开后继续保持访问",
	"consent.scope.other":          "其他信息：%s",
	"consent.idcard.warning":       "证件号码属于敏感个人信息。根据《个人信息保护法》，提供前需要您的单独同意。只有在您点击“同意”后，该网站才会收到您的证件号码。",
	"consent.allow":                "同意",
	"consent.deny":                 "拒绝",
	"consent.note":                 "您可以随时在账户中心撤回授权。",

	"home.title":     "一号通",
	"home.signedin":  "您已登录，账号：%s",
	"home.signedout": "您尚未登录。",
	"home.login":     "登录",
	"home.logout":    "退出登录",

	"logout.title":    "退出登录",
	"logout.question": "要退出一号通吗？",
	"logout.asking":   "%s 请求您退出登录。",
	"logout.explain":  "退出后，您在所有使用一号通登录的网站上都将退出。",
	"logout.confirm":  "退出",
	"logout.cancel":   "取消",
	"loggedout.title": "已退出",
	"loggedout.body":  "您已退出一号通。为保护您的信息，请关闭浏览器窗口。",
	"loggedout.back":  "返回 %s",

	"error.title":       "出错了",
	"error.id":          "错误编号：%s",
	"error.back":        "返回首页",
	"error.internal":    "系统出现问题，我们已记录。请稍后再试。如需帮助，请提供错误编号。",
	"error.unavailable": "服务暂时不可用，请稍后再试。",
	"error.expired":     "这个登录链接已经过期。请返回您要使用的网站，重新开始登录。",
	"error.csrf":        "这个表单已失效或来源不正确，未做任何更改。请返回上一页刷新后重试。",
	"error.session":     "您的登录状态已失效。请返回您要使用的网站，重新开始登录。",
	"error.notfound":    "找不到这个页面。",
	"error.authorize":   "这个网站发来的登录请求无效（网站未登记，或返回地址未登记）。请回到该网站重新开始；如果问题仍然存在，请联系该网站。",
	"error.badrequest":  "请求无效。",
	"error.logout":      "退出请求中的返回地址未在该网站登记，因此没有执行。",
	"error.ratelimited": "尝试次数过多，请 %d 分钟后再试。",
	"error.invalid":     "证件号码或密码不正确，或账号暂不可用。",
}

var catalogEN = map[string]string{
	"site.name":        "Yihao · government single sign-on",
	"lang.switch":      "中文",
	"lang.switch.name": "切换语言",
	"skip.content":     "Skip to content",
	"footer.privacy":   "Your information is given to a site only with your consent.",

	"login.title":         "Sign in",
	"login.asking":        "%s asks you to sign in",
	"login.asking.none":   "Sign in to government services with your ID number",
	"login.username":      "ID number / 证件号码",
	"login.username.hint": "Resident ID, residence permit, permanent residence card, travel permit or passport number",
	"login.password":      "Password",
	"login.submit":        "Sign in",
	"login.register":      "No account yet? Register",
	"login.invalid":       "The ID number or password is not correct, or the account cannot be used right now.",
	"login.ratelimited":   "Too many attempts. Try again in %d minutes.",
	"login.error.heading": "Could not sign in",

	"register.title":            "Register",
	"register.intro":            "Register with your ID number. You can then sign in to every government site with one account.",
	"register.number":           "ID number",
	"register.number.hint":      "18-character resident ID number, or the number of another document",
	"register.name":             "Name",
	"register.name.hint":        "As written on the document",
	"register.phone":            "Mobile phone (optional)",
	"register.password":         "Password",
	"register.password.hint":    "At least 8 characters; not one you use elsewhere",
	"register.confirm":          "Password again",
	"register.confirm.mismatch": "The two passwords are not the same.",
	"register.submit":           "Register",
	"register.back":             "Back to sign in",
	"register.error.heading":    "Please correct the following",
	"register.done.title":       "Registration complete",
	"register.done.body":        "If this ID number was not registered yet, your account is ready. Please sign in.",
	"register.done.login":       "Sign in",

	"consent.title":                "Allow access",
	"consent.asking":               "%s would like to receive:",
	"consent.scope.openid":         "an identifier for you at this site (not your ID number)",
	"consent.scope.profile":        "your name, date of birth and sex",
	"consent.scope.phone":          "your phone number",
	"consent.scope.idcard":         "your ID document type and number",
	"consent.scope.offline_access": "keep access while you are away",
	"consent.scope.other":          "other information: %s",
	"consent.idcard.warning":       "Your ID number is sensitive personal information. Under the Personal Information Protection Law it is given only with your separate consent: the site receives it only if you choose Allow.",
	"consent.allow":                "Allow",
	"consent.deny":                 "Deny",
	"consent.note":                 "You can withdraw this at any time in your account centre.",

	"home.title":     "Yihao",
	"home.signedin":  "You are signed in as %s",
	"home.signedout": "You are not signed in.",
	"home.login":     "Sign in",
	"home.logout":    "Sign out",

	"logout.title":    "Sign out",
	"logout.question": "Sign out of Yihao?",
	"logout.asking":   "%s asks you to sign out.",
	"logout.explain":  "You will be signed out of every site where you signed in with Yihao.",
	"logout.confirm":  "Sign out",
	"logout.cancel":   "Cancel",
	"loggedout.title": "Signed out",
	"loggedout.body":  "You have signed out of Yihao. To protect your information, close the browser window.",
	"loggedout.back":  "Back to %s",

	"error.title":       "Something went wrong",
	"error.id":          "Error ID: %s",
	"error.back":        "Home",
	"error.internal":    "Something went wrong on our side and it has been recorded. Please try again later. If you need help, give the error ID.",
	"error.unavailable": "The service is temporarily unavailable. Please try again shortly.",
	"error.expired":     "This login link has expired. Go back to the site you were using and start again.",
	"error.csrf":        "This form has expired or did not come from this site, so nothing was changed. Go back, reload the page and try again.",
	"error.session":     "Your sign-in has expired. Go back to the site you were using and start again.",
	"error.notfound":    "This page does not exist.",
	"error.authorize":   "The site sent an invalid sign-in request (the site or its return address is not registered). Go back to the site and start again; if it keeps happening, contact the site.",
	"error.badrequest":  "The request is not valid.",
	"error.logout":      "The sign-out request names a return address that is not registered for the site, so nothing was done.",
	"error.ratelimited": "Too many attempts. Try again in %d minutes.",
	"error.invalid":     "The ID number or password is not correct, or the account cannot be used right now.",
}
