package web

// The console's messages for a service site's minimum acr and the idcard
// scope.
func init() {
	for k, v := range map[string]string{
		"console.client.minacr":              "最低登录强度（acr）",
		"console.client.minacr.hint":         "低于此强度的登录会被要求补充验证后才能进入该网站。",
		"console.client.acr.any":             "不限",
		"console.client.acr.urn:yihao:acr:1": "一种验证方式（密码或短信）",
		"console.client.acr.urn:yihao:acr:2": "两种验证方式",
		"console.client.acr.urn:yihao:acr:3": "通行密钥或现场核验",
		"console.client.idcard":              "允许申请证件信息（idcard 范围）",
		"console.client.idcard.warning":      "idcard 范围会向网站提供公民的完整证件号码（公民仍须逐次同意）。只为依法需要证件号码的网站开启，并在“允许的范围”中加入 idcard。开启和关闭都会记入审计日志。",
		"console.client.idcard.on":           "该网站可以申请公民的完整证件号码（idcard 范围）。",
		"console.field.min_acr":              "最低登录强度",
		"console.why.needs_allow_idcard":     "含有 idcard 时须同时勾选“允许申请证件信息”",
	} {
		catalogZH[k] = v
	}
	for k, v := range map[string]string{
		"console.client.minacr":              "Minimum sign-in strength (acr)",
		"console.client.minacr.hint":         "A weaker sign-in is asked for a step-up before it reaches the site.",
		"console.client.acr.any":             "Any",
		"console.client.acr.urn:yihao:acr:1": "One factor (password or SMS)",
		"console.client.acr.urn:yihao:acr:2": "Two factors",
		"console.client.acr.urn:yihao:acr:3": "Passkey or in person",
		"console.client.idcard":              "May ask for the identity document (idcard scope)",
		"console.client.idcard.warning":      "The idcard scope gives the site the citizen's full document number (the citizen still consents each time). Allow it only for sites the law requires to hold the number, and add idcard to the allowed scopes. Allowing and withdrawing it are recorded in the audit trail.",
		"console.client.idcard.on":           "This site may ask for citizens' full document numbers (idcard scope).",
		"console.field.min_acr":              "Minimum sign-in strength",
		"console.why.needs_allow_idcard":     "with idcard, also tick \"May ask for the identity document\"",
	} {
		catalogEN[k] = v
	}
}
