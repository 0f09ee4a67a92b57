package oauth

import "encoding/base64"

// XOAUTH2 is the SASL XOAUTH2 initial response IMAP, POP and SMTP clients send for Exchange
// Online: base64("user=" + user + ^A + "auth=Bearer " + token + ^A^A), ^A being 0x01
// (Microsoft's "Authenticate an IMAP, POP or SMTP connection using OAuth").
func XOAUTH2(user, accessToken string) string {
	return base64.StdEncoding.EncodeToString([]byte("user=" + user + "\x01auth=Bearer " + accessToken + "\x01\x01"))
}
