// Package identity is Yihao's domain: identity documents (ID numbers and the
// other documents a citizen or legal person can present), citizens, their
// credentials, SSO sessions and assurance levels, the use cases that change
// them, and the ports (interfaces) the domain needs from storage.
//
// It imports the standard library (and golang.org/x/crypto for argon2id) only:
// nothing else of Yihao, no storage driver and no net/http. deps_test.go holds
// that line.
package identity
