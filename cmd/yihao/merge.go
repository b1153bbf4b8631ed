package main

import "github.com/yihao-gov/yihao/identity"

// signInCitizens is the citizen repository of sign-in (password, SMS,
// passkey by number): a merged citizen's document finds the survivor.
func (a *app) signInCitizens() identity.FollowMerges {
	return identity.FollowMerges{CitizenRepository: a.sql, Merges: a.sql}
}
