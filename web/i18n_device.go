package web

// Strings of the device-flow verification page.
func init() {
	for k, v := range map[string]string{
		"device.title":         "设备登录",
		"device.enter.intro":   "请输入设备（自助终端、电视等）屏幕上显示的代码。",
		"device.code.label":    "设备代码",
		"device.continue":      "继续",
		"device.asking":        "设备上的“%s”请求以您的身份登录，并获取以下信息：",
		"device.code.shown":    "请确认设备上显示的代码是 %s。",
		"device.warning":       "如果不是您本人正在使用该设备，请选择拒绝。",
		"device.done.approved": "已允许。请回到设备上继续。",
		"device.done.denied":   "已拒绝，设备不会获得您的信息。",
		"device.code.unknown":  "代码不正确或已过期，请核对设备上显示的代码。",
	} {
		catalogZH[k] = v
	}
	for k, v := range map[string]string{
		"device.title":         "Sign in on a device",
		"device.enter.intro":   "Enter the code shown on the device's screen (kiosk, TV, …).",
		"device.code.label":    "Device code",
		"device.continue":      "Continue",
		"device.asking":        "“%s” on the device asks to sign in as you and to receive:",
		"device.code.shown":    "Check that the device shows the code %s.",
		"device.warning":       "If you are not the person using that device, deny.",
		"device.done.approved": "Allowed. Go back to the device to continue.",
		"device.done.denied":   "Denied. The device receives nothing about you.",
		"device.code.unknown":  "That code is wrong or has expired; check the code on the device.",
	} {
		catalogEN[k] = v
	}
}
