package web

// Strings of password recovery and of the password lockout.
func init() {
	for k, v := range map[string]string{
		"recover.link":          "忘记密码？通过短信重设",
		"recover.title":         "重设密码",
		"recover.intro":         "输入证件号码，验证码将发送到该账号绑定的手机。忘记了密码、密码被工作人员清除或因错误次数过多被锁定，都可以在这里设置新密码。",
		"recover.send":          "获取验证码",
		"recover.code.intro":    "输入短信验证码并设置新密码。设置后，您在所有设备上的登录都会退出。",
		"recover.password":      "新密码",
		"recover.password.hint": "至少 8 个字符；不要使用常见密码、证件号码、手机号码或姓名",
		"recover.submit":        "设置新密码",
		"recover.done.title":    "密码已重设",
		"recover.done.body":     "新密码已生效。您在所有设备上的登录均已退出，已授权网站持有的令牌也已失效。我们已向您绑定的手机发送了通知短信。",
		"recover.done.login":    "使用新密码登录",
		"recover.back":          "返回登录",
		"login.locked":          "该证件号码的密码登录因连续错误次数过多已被锁定。请使用短信验证码或通行密钥登录，或通过短信重设密码，均可解除锁定。",
	} {
		catalogZH[k] = v
	}
	for k, v := range map[string]string{
		"recover.link":          "Forgot your password? Set a new one by SMS",
		"recover.title":         "Set a new password",
		"recover.intro":         "Enter your ID number; the code goes to the phone bound to the account. Use this when you forgot your password, when a service hall cleared it, or when it was locked after too many wrong tries.",
		"recover.send":          "Send code",
		"recover.code.intro":    "Enter the code from the text message and choose a new password. You will be signed out on every device.",
		"recover.password":      "New password",
		"recover.password.hint": "At least 8 characters; not a common password, your ID number, phone number or name",
		"recover.submit":        "Set the new password",
		"recover.done.title":    "Your password was changed",
		"recover.done.body":     "The new password works now. You were signed out on every device and the tokens held by sites were revoked. A notice was sent to your bound phone.",
		"recover.done.login":    "Sign in with the new password",
		"recover.back":          "Back to sign in",
		"login.locked":          "Password sign-in for this ID number is locked after too many wrong passwords. Sign in with an SMS code or a passkey, or set a new password by SMS: any of them unlocks it.",
	} {
		catalogEN[k] = v
	}
}
