#!/usr/bin/env bash
# Whole-process figures of the performance goals, each against a reference measured in the same
# run (interleaved runs, medians), inside a private D-Bus session with its own gnome-keyring:
#   - m365creds-token with a valid cached access token ÷ `secret-tool lookup` of one item, and
#     ÷ a minimal Go program doing one go-keyring Get (internal/benchrun/keyringget);
#   - 50 concurrent calls ÷ 50 concurrent `secret-tool lookup`;
#   - Secret Service method calls of a valid-cache and of a refreshing call (dbus-monitor);
#   - exec → first frame of the wizard in a pty; peak RSS; package init costs.
# `m365creds token`, the same command in the binary that also holds the wizard, is measured
# beside m365creds-token. Both are built as `make build` builds them (static); the reference
# program is built as `go build` builds it by default, and also static, for comparison.
# Needs: go, python3, gnome-keyring, dbus (dbus-run-session, dbus-monitor), libsecret-tools
# (secret-tool); tmux and GNU time for the whole-wizard memory figure. Results go to bench/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${M365CREDS_BENCH_SESSION:-}" ]; then
  for tool in python3 dbus-run-session dbus-monitor gnome-keyring-daemon secret-tool; do
    command -v "$tool" >/dev/null || { echo "bench.sh: $tool is missing (apt-get install python3 dbus gnome-keyring libsecret-tools)" >&2; exit 1; }
  done
  scratch="$(mktemp -d)"
  mkdir -m 0700 "$scratch/run" "$scratch/bin"
  # Build before HOME changes, so the Go caches under the real HOME are used. The references
  # are built from their own main packages: nothing of them is in the m365creds binary.
  CGO_ENABLED=0 go build -trimpath -o "$scratch/bin/m365creds" .
  CGO_ENABLED=0 go build -trimpath -o "$scratch/bin/m365creds-token" ./cmd/m365creds-token
  go build -trimpath -o "$scratch/bin/simserver" ./internal/simserver
  go build -trimpath -o "$scratch/bin/benchrun" ./internal/benchrun
  go build -trimpath -o "$scratch/bin/keyringget" ./internal/benchrun/keyringget
  CGO_ENABLED=0 go build -trimpath -o "$scratch/bin/keyringget-static" ./internal/benchrun/keyringget
  export M365CREDS_BENCH_SESSION=1 M365CREDS_BENCH_BIN="$scratch/bin"
  export HOME="$scratch" XDG_DATA_HOME="$scratch/share" XDG_RUNTIME_DIR="$scratch/run"
  exec dbus-run-session -- sh -c 'eval "$(printf %s bench | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null && exec "$0" "$@"' "$0" "$@" 2> >(grep -v 'Failed to set fd limit' >&2)
fi

out=bench
mkdir -p "$out"
bin="$M365CREDS_BENCH_BIN"

# The simulator stands in for Microsoft; setup needs it once, the cached token call never does.
# A second one issues access tokens that are too short-lived to cache, so every token call of
# the profile set up against it refreshes.
"$bin/simserver" > "$HOME/sim.url" &
sim=$!
"$bin/simserver" -token-lifetime 1m > "$HOME/sim2.url" &
sim2=$!
trap 'kill $sim $sim2 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$HOME/sim.url" ] && [ -s "$HOME/sim2.url" ] && break; sleep 0.1; done
base="$(cat "$HOME/sim.url")"
base2="$(cat "$HOME/sim2.url")"
export M365CREDS_LOGIN_URL="$base" M365CREDS_GRAPH_URL="$base" M365CREDS_CONFIG_DIR="$HOME/config"

client_id=0f3e9c2a-7b41-4d6e-9a8b-3c5d1e2f4a6b
tenant_id=5a1c7e3b-2d94-4f08-b6e1-9c3a7d5f2e18
secret='dMo8Q~x4Rk2Vn7Lq9Tz3Wb6Yc1Hf5Jg8Ps0Ue4Ad'

mem="n/a"
setup=("$bin/m365creds" setup --no-input --profile bench --flow app --tenant "$tenant_id" \
  --client-id "$client_id" --secret-expires 12m --client-secret-stdin)
if [ -x /usr/bin/time ]; then
  printf '%s\n' "$secret" | /usr/bin/time -f '%M' -o "$HOME/setup.rss" "${setup[@]}" 2>/dev/null
  mem="$(cat "$HOME/setup.rss") KiB"
else
  printf '%s\n' "$secret" | "${setup[@]}" 2>/dev/null
fi
token="$("$bin/m365creds" token bench)"
[ -n "$token" ] || { echo "bench.sh: token printed nothing" >&2; exit 1; }

# One item of the same size as the cached token, for the floor.
printf '%s' "$token" | secret-tool store --label='m365creds bench floor' service m365creds-bench-floor username one

printf '%s\n' "$secret" | M365CREDS_LOGIN_URL="$base2" M365CREDS_GRAPH_URL="$base2" \
  "$bin/m365creds" setup --no-input --profile refresh --flow app --tenant "$tenant_id" \
  --client-id "$client_id" --secret-expires 12m --client-secret-stdin >/dev/null 2>&1
refresh=(env M365CREDS_LOGIN_URL="$base2" M365CREDS_GRAPH_URL="$base2" "$bin/m365creds-token" refresh)
"${refresh[@]}" >/dev/null

run="$bin/benchrun"
token_cmd="$bin/m365creds-token bench"
full_cmd="$bin/m365creds token bench"
floor_cmd="secret-tool lookup service m365creds-bench-floor username one"
gokeyring_cmd="$bin/keyringget m365creds-bench-floor one"
gokeyring_static_cmd="$bin/keyringget-static m365creds-bench-floor one"
# Warm-up, not timed: the first runs after the writes above pay for the keyring daemon
# saving its file and for cold caches, which would fall on whichever figure comes first.
sleep 1
for _ in $(seq 10); do $token_cmd >/dev/null; $full_cmd >/dev/null; $floor_cmd >/dev/null; $gokeyring_cmd >/dev/null; $gokeyring_static_cmd >/dev/null; done
read -r t_floor st <<<"$("$run" pair 41 "$token_cmd" "$floor_cmd")"
read -r t_gk gk <<<"$("$run" pair 41 "$token_cmd" "$gokeyring_cmd")"
read -r t_gks gks <<<"$("$run" pair 41 "$token_cmd" "$gokeyring_static_cmd")"
read -r t50 st50 <<<"$("$run" burst 50 9 "$token_cmd" "$floor_cmd")"
read -r f_floor fst <<<"$("$run" pair 41 "$full_cmd" "$floor_cmd")"
read -r f_gk fgk <<<"$("$run" pair 41 "$full_cmd" "$gokeyring_cmd")"
read -r f50 fst50 <<<"$("$run" burst 50 9 "$full_cmd" "$floor_cmd")"

# Secret Service method calls of one process, seen by a monitor on the private bus.
ss_calls() {
  dbus-monitor --session "type='method_call',destination='org.freedesktop.secrets'" >"$HOME/monitor.log" 2>/dev/null &
  local mon=$!
  sleep 0.5 # the monitor must be in place first
  "$@" >/dev/null
  sleep 0.3
  kill "$mon"
  wait "$mon" 2>/dev/null || true
  grep -c '^method call' "$HOME/monitor.log" || true
}
calls_valid="$(ss_calls "$bin/m365creds-token" bench)"
calls_full="$(ss_calls "$bin/m365creds" token bench)"
calls_refresh="$(ss_calls "${refresh[@]}")"
calls_gk="$(ss_calls "$bin/keyringget" m365creds-bench-floor one)"

# The wizard's first screen, from a config directory without profiles.
mkdir -p "$HOME/empty"
frame="$(M365CREDS_CONFIG_DIR="$HOME/empty" python3 scripts/firstframe.py 31 'Who will sign in' "$bin/m365creds")"

rss_token="$("$run" rss 11 "$token_cmd")"
rss_full="$("$run" rss 11 "$full_cmd")"
rss_gk="$("$run" rss 11 "$gokeyring_cmd")"

# Package initialisation of a token call: the total and the most expensive packages.
inits="$(for _ in $(seq 11); do GODEBUG=inittrace=1 "$bin/m365creds-token" bench 2>&1 >/dev/null; done |
  awk '/^init /{ms[$2]+=$5; n[$2]++} END{for (p in ms) printf "%.3f %s\n", ms[p]/n[p], p}' | sort -rn)"
init_total="$(awk '{s+=$1} END{printf "%.2f", s}' <<<"$inits")"
init_count="$(wc -l <<<"$inits")"
full_init_total="$(for _ in $(seq 11); do GODEBUG=inittrace=1 "$bin/m365creds" token bench 2>&1 >/dev/null; done |
  awk '/^init /{s+=$5} END{printf "%.2f", s/11}')"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }

# Peak memory of a full wizard run: the demo, driven key by key in a real terminal.
wizard_mem="n/a"
if command -v tmux >/dev/null && [ -x /usr/bin/time ]; then
  tmux -L m365bench -f /dev/null new-session -d -x 100 -y 30 -s w \
    "env -u BROWSER /usr/bin/time -f %M -o '$HOME/wizard.rss' '$bin/m365creds' demo; sleep 30"
  keys() { tmux -L m365bench send-keys -t w "$@"; sleep 0.4; }
  screen_has() {
    for _ in $(seq 100); do
      tmux -L m365bench capture-pane -p -t w | grep -q "$1" && return 0
      sleep 0.2
    done
    echo "bench.sh: the wizard never showed '$1'" >&2
    return 1
  }
  screen_has 'Who will sign in' && keys Enter && keys Enter &&
    keys -l "$client_id" && keys Tab && keys -l "$tenant_id" && keys Enter &&
    keys -l "$secret" && keys Enter && keys Enter && keys Enter &&
    screen_has 'Press enter to save' && keys Enter &&
    screen_has 'Saved profile' && keys Enter
  for _ in $(seq 50); do [ -s "$HOME/wizard.rss" ] && break; sleep 0.2; done
  [ -s "$HOME/wizard.rss" ] && wizard_mem="$(cat "$HOME/wizard.rss") KiB"
  tmux -L m365bench kill-server 2>/dev/null || true
fi

size="$(stat -c %s "$bin/m365creds")"
token_size="$(stat -c %s "$bin/m365creds-token")"
{
  echo "### Goals (medians of interleaved runs; reference measured in the same run)"
  echo
  echo "| figure | m365creds | reference | ratio | goal |"
  echo "| --- | --- | --- | --- | --- |"
  echo "| m365creds-token, valid cache ÷ \`secret-tool lookup\` | $t_floor ms | $st ms | $(ratio "$t_floor" "$st") | ≤ 0.45 |"
  echo "| m365creds-token, valid cache ÷ one go-keyring Get (Go program, default build) | $t_gk ms | $gk ms | $(ratio "$t_gk" "$gk") | ≤ 0.85 |"
  echo "| m365creds-token, valid cache ÷ one go-keyring Get (Go program, static build) | $t_gks ms | $gks ms | $(ratio "$t_gks" "$gks") | |"
  echo "| 50 concurrent m365creds-token ÷ 50 concurrent \`secret-tool lookup\` | $t50 ms | $st50 ms | $(ratio "$t50" "$st50") | ≤ 1.0 |"
  echo "| Secret Service calls: valid-cache / refreshing m365creds-token | $calls_valid / $calls_refresh | go-keyring Get: $calls_gk | | ≤ 3 / ≤ 12 |"
  echo "| exec → first frame of the wizard, pty | $frame ms | | | < 12 ms |"
  echo "| peak RSS of m365creds-token | $rss_token KiB | go-keyring Get: $rss_gk KiB | $(ratio "$rss_token" "$rss_gk") | ≤ 8 MB |"
  echo
  echo "### The same command in the wizard's binary: \`m365creds token\`"
  echo
  echo "| figure | m365creds token | reference | ratio |"
  echo "| --- | --- | --- | --- |"
  echo "| valid cache ÷ \`secret-tool lookup\` | $f_floor ms | $fst ms | $(ratio "$f_floor" "$fst") |"
  echo "| valid cache ÷ one go-keyring Get (default build) | $f_gk ms | $fgk ms | $(ratio "$f_gk" "$fgk") |"
  echo "| 50 concurrent ÷ 50 concurrent \`secret-tool lookup\` | $f50 ms | $fst50 ms | $(ratio "$f50" "$fst50") |"
  echo "| Secret Service calls, valid cache | $calls_full | | |"
  echo "| peak RSS | $rss_full KiB | go-keyring Get: $rss_gk KiB | $(ratio "$rss_full" "$rss_gk") |"
  echo "| package init | $full_init_total ms | | |"
  echo
  echo "### Package init of m365creds-token: $init_count packages, $init_total ms in all (mean of 11 runs); the most expensive"
  echo
  head -12 <<<"$inits" | awk '{printf "- %s %s ms\n", $2, $1}'
  echo
  echo "| binary size: m365creds / m365creds-token | peak memory, whole wizard (demo) | peak memory, \`setup --no-input\` |"
  echo "| --- | --- | --- |"
  echo "| $((size / 1024 / 1024)) MiB / $((token_size / 1024 / 1024)) MiB | $wizard_mem | $mem |"
} | tee "$out/summary.md"
