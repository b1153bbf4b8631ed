package web

// The passkey pages' strings (web/passkey, login.html's passkey button).
func init() {
	for k, v := range map[string]string{
		"passkey.login.button":  "使用通行密钥登录",
		"passkey.login.hint":    "填写了证件号码时，只使用该账号的通行密钥；不填则由设备列出可用的通行密钥。",
		"passkey.working":       "请按设备提示完成验证……",
		"passkey.cancelled":     "已取消，或设备没有可用的通行密钥。",
		"passkey.unsupported":   "此浏览器不支持通行密钥。",
		"passkey.failed":        "无法用这个通行密钥登录。请重试，或使用证件号码和密码登录。",
		"passkey.expired":       "验证已超时，请重试。",
		"passkey.title":         "通行密钥",
		"passkey.intro":         "通行密钥保存在您的手机、电脑或安全密钥中，用指纹、面容或设备密码即可登录，无需输入密码，也不会被仿冒网站骗取。",
		"passkey.none":          "您还没有添加通行密钥。",
		"passkey.list":          "您的通行密钥",
		"passkey.created":       "添加于 %s",
		"passkey.lastused":      "上次使用 %s",
		"passkey.neverused":     "尚未使用",
		"passkey.synced":        "可在您的设备间同步",
		"passkey.devicebound":   "仅保存在一台设备上",
		"passkey.delete":        "删除",
		"passkey.rename":        "重命名",
		"passkey.name":          "名称（选填）",
		"passkey.name.hint":     "例如“我的手机”，便于您区分",
		"passkey.add":           "添加通行密钥",
		"passkey.added":         "通行密钥已添加。",
		"passkey.exists":        "这个通行密钥已经添加过了。",
		"passkey.default.name":  "通行密钥 %s",
		"passkey.back":          "返回首页",
		"passkey.signin.needed": "请先登录。",
		"passkey.reauth":        "为保护您的账号，添加通行密钥前请重新登录。",
	} {
		catalogZH[k] = v
	}
	for k, v := range map[string]string{
		"passkey.login.button":  "Sign in with a passkey",
		"passkey.login.hint":    "If you typed your ID number, only that account's passkeys are used; otherwise your device lists the passkeys it holds.",
		"passkey.working":       "Follow your device's prompt…",
		"passkey.cancelled":     "Cancelled, or the device has no passkey for this site.",
		"passkey.unsupported":   "This browser does not support passkeys.",
		"passkey.failed":        "This passkey could not sign you in. Try again, or sign in with your ID number and password.",
		"passkey.expired":       "The check took too long. Please try again.",
		"passkey.title":         "Passkeys",
		"passkey.intro":         "A passkey lives on your phone, computer or security key. You sign in with your fingerprint, face or device PIN — no password to type, and nothing a fake site can steal.",
		"passkey.none":          "You have not added a passkey yet.",
		"passkey.list":          "Your passkeys",
		"passkey.created":       "Added %s",
		"passkey.lastused":      "Last used %s",
		"passkey.neverused":     "Not used yet",
		"passkey.synced":        "Synced across your devices",
		"passkey.devicebound":   "Kept on one device",
		"passkey.delete":        "Delete",
		"passkey.rename":        "Rename",
		"passkey.name":          "Name (optional)",
		"passkey.name.hint":     "For example \"My phone\", to tell them apart",
		"passkey.add":           "Add a passkey",
		"passkey.added":         "The passkey was added.",
		"passkey.exists":        "This passkey is already added.",
		"passkey.default.name":  "Passkey %s",
		"passkey.back":          "Home",
		"passkey.signin.needed": "Please sign in first.",
		"passkey.reauth":        "To protect your account, sign in again before adding a passkey.",
	} {
		catalogEN[k] = v
	}
}
