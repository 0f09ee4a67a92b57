// Command simserver serves the Microsoft identity simulator on a loopback port, with the demo
// app registered, so the real m365creds binary can be tried and measured against it:
//
//	go run ./internal/simserver -addr 127.0.0.1:8400 &
//	M365CREDS_LOGIN_URL=http://127.0.0.1:8400 M365CREDS_GRAPH_URL=http://127.0.0.1:8400 m365creds setup …
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/m365creds/m365creds/oauth/simulator"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	public := flag.Bool("public-client", false, `turn on "Allow public client flows" for the demo app (device code)`)
	lifetime := flag.Duration("token-lifetime", 0, "lifetime of the access tokens issued (default the simulator's 1h); benchmarks use a short one to make every token call refresh")
	flag.Parse()

	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		fmt.Fprintln(os.Stderr, "simserver: -addr must be a loopback address such as 127.0.0.1:8400")
		os.Exit(2)
	}
	app := simulator.DemoApp()
	app.PublicClient = *public
	sim := simulator.New([]simulator.App{app}, nil)
	sim.SetDeviceInterval(1)
	if *lifetime > 0 {
		sim.SetAccessTokenLifetime(*lifetime)
	}

	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "simserver:", err)
		os.Exit(1)
	}
	// The base URL on stdout lets scripts capture it; everything else goes to stderr.
	fmt.Println("http://" + ln.Addr().String())
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
}
