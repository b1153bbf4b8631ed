package embedded

// Len counts every entry the store holds, indexes included.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions) + len(s.citizens) + len(s.states) + len(s.grants) + len(s.counters)
}
