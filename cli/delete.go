package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/m365creds/m365creds/keyring"
)

type deleteOptions struct {
	yes   bool
	store string
}

func (a *app) runDelete(o *deleteOptions, pos []string) error {
	if err := maxArgs("delete", pos, 1); err != nil {
		return err
	}
	if !o.yes && !a.isTerminal(a.stdin) {
		return usagef("delete", "no terminal to confirm on: add --yes to delete without asking")
	}
	store, err := a.openStore(o.store)
	if err != nil {
		return err
	}
	p, err := requireProfile("delete", store, pos)
	if err != nil {
		return err
	}
	return a.deleteProfile(store, p, o.yes)
}

func (a *app) deleteProfile(store *keyring.Store, p keyring.Profile, yes bool) error {
	if !yes {
		fmt.Fprintf(a.stderr, "This removes profile %q (%s) and its secrets from the keychain.\nType the profile name to confirm: ", p.Name, orDash(p.Account))
		answer, err := a.readLine()
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if strings.TrimSpace(answer) != p.Name {
			return withCode(ExitError, errors.New("not deleted: the name did not match"), "")
		}
	}
	if err := a.engine(store).Delete(a.ctx, p.Name); err != nil {
		return err
	}
	a.infof("Deleted profile %q. The app registration in the portal is unchanged; delete it there if nothing else uses it.", p.Name)
	return nil
}
