// Package creds is what both front ends of m365creds call to get and keep credentials working:
// the consent plan (keychain probe, secret check, sign-in flow, granted-versus-requested scopes,
// refresh-token check), the token service (cache, lock, refresh, persist), rotate, verify,
// save and delete.
//
// It knows nothing about terminals, screens or exit codes. It reports progress as Event values
// and fails with *Error values that say what kind of problem it is; the command line turns
// those into messages and exit codes, the wizard into screens. Everything it needs from the
// world around the process (hosts, the browser opener, whether this is a remote shell, the
// clock) comes in through Service's fields.
package creds
