//go:build !linux

package keyring

// getMany reads several items through go-keyring one by one: macOS and Windows answer a read
// in one call already.
func (k osKeychain) getMany(service string, accounts []string) (map[string]string, error) {
	return getEach(k.getGoKeyring, service, accounts)
}

func (k osKeychain) setDirect(service, account, value string) error {
	return k.setGoKeyring(service, account, value)
}

func (k osKeychain) delDirect(service, account string) error { return k.delGoKeyring(service, account) }
