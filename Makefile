# Targets match the README. `make test` is the one command that runs every test.
GO        ?= go
FUZZTIME  ?= 10s
PKGS      := ./...

.PHONY: all build install test check fmt vet fuzz cross lint bench bench-process demo ci

all: build

# Static builds (no cgo) start about 0.6 ms sooner: no dynamic loader, no libc to map.
# m365creds-token is `m365creds token` in a program that links nothing else.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o m365creds .
	CGO_ENABLED=0 $(GO) build -trimpath -o m365creds-token ./cmd/m365creds-token

install:
	CGO_ENABLED=0 $(GO) install -trimpath . ./cmd/m365creds-token

# -v lists packages as they compile: a first build is otherwise silent for minutes.
demo:
	$(GO) run -v . demo

## check: formatting and vet, the cheap part of `make test`.
check: fmt vet

fmt:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

## test: everything a change must pass — format, vet, and all tests under the race detector.
## The keychain tests start their own D-Bus session and gnome-keyring when none is running.
test: check
	$(GO) test -race -count=1 $(PKGS)

## fuzz: run every fuzz target for FUZZTIME each.
fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

## cross: the keychain back ends differ per OS, so make sure the other two still build.
cross:
	GOOS=darwin GOARCH=arm64 $(GO) build -o /dev/null $(PKGS)
	GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null $(PKGS)

lint:
	golangci-lint run

## bench: Go benchmarks (in-process figures).
bench:
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS)

## bench-process: whole-process figures with hyperfine (see scripts/bench.sh).
bench-process:
	scripts/bench.sh

ci: test fuzz cross
