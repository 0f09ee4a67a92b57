// Command keyringget is the reference scripts/bench.sh measures m365creds token against: the
// smallest Go program that reads one Secret Service item, through go-keyring's Get.
package main

import (
	"fmt"
	"os"

	gokeyring "github.com/zalando/go-keyring"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: keyringget SERVICE ACCOUNT")
		os.Exit(2)
	}
	v, err := gokeyring.Get(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "keyringget:", err)
		os.Exit(1)
	}
	fmt.Println(v)
}
