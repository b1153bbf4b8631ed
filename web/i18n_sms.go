package web

// Strings of SMS one-time-code login and the step-up page.
func init() {
	for k, v := range map[string]string{
		"sms.link":              "使用短信验证码登录",
		"sms.title":             "短信验证码登录",
		"sms.intro":             "输入证件号码，验证码将发送到该账号绑定的手机。",
		"sms.send":              "获取验证码",
		"sms.password":          "使用密码登录",
		"sms.sent":              "如果该证件号码已注册并绑定了手机，验证码已发送至 %s，%d 分钟内有效。",
		"sms.code":              "验证码",
		"sms.code.hint":         "6 位数字",
		"sms.verify":            "登录",
		"sms.resend":            "重新获取验证码",
		"sms.cooldown":          "验证码刚刚发送过，请 %d 秒后再获取新的验证码。",
		"sms.error.heading":     "无法登录",
		"sms.code.invalid":      "请输入短信中的 6 位数字验证码。",
		"sms.code.wrong":        "验证码不正确，还可以尝试 %d 次。",
		"sms.code.wrong.last":   "验证码不正确，已无剩余尝试次数。请稍后重新获取验证码。",
		"sms.code.expired":      "验证码已失效或已使用，请重新获取。",
		"sms.locked":            "验证码错误次数过多，请 %d 分钟后再试。",
		"stepup.title":          "需要进一步验证",
		"stepup.asking":         "%s 要求更高的登录强度，请完成短信验证。",
		"stepup.asking.none":    "请完成短信验证以提高登录强度。",
		"stepup.phone":          "验证码将发送至您绑定的手机 %s。",
		"stepup.sent":           "验证码已发送至 %s，%d 分钟内有效。",
		"stepup.send":           "发送验证码",
		"stepup.verify":         "验证",
		"stepup.nophone":        "您的账号未绑定手机，无法完成短信验证。请到政务服务大厅绑定手机后再试。",
		"stepup.needpassword":   "此网站要求密码加另一种验证方式。请先使用密码登录。",
		"stepup.password.login": "使用密码登录",
	} {
		catalogZH[k] = v
	}
	for k, v := range map[string]string{
		"sms.link":              "Sign in with an SMS code",
		"sms.title":             "Sign in with an SMS code",
		"sms.intro":             "Enter your ID number; the code goes to the phone bound to the account.",
		"sms.send":              "Send code",
		"sms.password":          "Sign in with a password",
		"sms.sent":              "If this ID number is registered with a phone, a code was sent to %s. It is valid for %d minutes.",
		"sms.code":              "Code",
		"sms.code.hint":         "6 digits",
		"sms.verify":            "Sign in",
		"sms.resend":            "Send a new code",
		"sms.cooldown":          "A code was sent a moment ago. You can ask for a new one in %d seconds.",
		"sms.error.heading":     "Could not sign in",
		"sms.code.invalid":      "Enter the 6-digit code from the text message.",
		"sms.code.wrong":        "That code is not correct. %d tries left.",
		"sms.code.wrong.last":   "That code is not correct and no tries are left. Ask for a new code later.",
		"sms.code.expired":      "That code has expired or was already used. Ask for a new one.",
		"sms.locked":            "Too many wrong codes. Try again in %d minutes.",
		"stepup.title":          "One more step",
		"stepup.asking":         "%s asks for a stronger sign-in: confirm with an SMS code.",
		"stepup.asking.none":    "Confirm with an SMS code for a stronger sign-in.",
		"stepup.phone":          "The code goes to your bound phone %s.",
		"stepup.sent":           "A code was sent to %s. It is valid for %d minutes.",
		"stepup.send":           "Send code",
		"stepup.verify":         "Confirm",
		"stepup.nophone":        "Your account has no bound phone, so SMS confirmation is not possible. Bind a phone at a service hall and try again.",
		"stepup.needpassword":   "This site needs your password plus another factor. Sign in with your password first.",
		"stepup.password.login": "Sign in with a password",
	} {
		catalogEN[k] = v
	}
}
