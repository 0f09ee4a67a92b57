#!/usr/bin/env bash
# Whole-process figures, measured side by side in one run inside a private Secret Service:
#   - `m365creds token` with a valid cached access token vs `secret-tool lookup` of one item
#     (the floor: one Secret Service read by a separate process);
#   - `m365creds --version` start-up;
#   - binary size and peak memory of a scripted setup.
# Needs: go, hyperfine, gnome-keyring, dbus, libsecret-tools (secret-tool), GNU time optional.
# Results go to bench/ and are printed as Markdown.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${M365CREDS_BENCH_SESSION:-}" ]; then
  for tool in hyperfine dbus-run-session gnome-keyring-daemon secret-tool; do
    command -v "$tool" >/dev/null || { echo "bench.sh: $tool is missing (apt-get install hyperfine dbus gnome-keyring libsecret-tools)" >&2; exit 1; }
  done
  scratch="$(mktemp -d)"
  mkdir -m 0700 "$scratch/run" "$scratch/bin"
  # Build before HOME changes, so the Go caches under the real HOME are used.
  go build -trimpath -o "$scratch/bin/m365creds" .
  go build -trimpath -o "$scratch/bin/simserver" ./internal/simserver
  export M365CREDS_BENCH_SESSION=1 M365CREDS_BENCH_BIN="$scratch/bin"
  export HOME="$scratch" XDG_DATA_HOME="$scratch/share" XDG_RUNTIME_DIR="$scratch/run"
  exec dbus-run-session -- sh -c 'eval "$(printf %s bench | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null && exec "$0" "$@"' "$0" "$@" 2> >(grep -v 'Failed to set fd limit' >&2)
fi

out=bench
mkdir -p "$out"
bin="$M365CREDS_BENCH_BIN"

# The simulator stands in for Microsoft; setup needs it once, the cached token call never does.
"$bin/simserver" > "$HOME/sim.url" &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$HOME/sim.url" ] && break; sleep 0.1; done
base="$(cat "$HOME/sim.url")"
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

hyperfine --warmup 5 --runs 60 -N --export-markdown "$out/token.md" \
  -n 'm365creds token (cached)' "$bin/m365creds token bench" \
  -n 'secret-tool lookup (one item)' 'secret-tool lookup service m365creds-bench-floor username one' >/dev/null
hyperfine --warmup 5 --runs 100 -N --export-markdown "$out/version.md" \
  -n 'm365creds --version' "$bin/m365creds --version" >/dev/null

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
{
  echo "### token with a cached access token vs one Secret Service read"
  cat "$out/token.md"
  echo
  echo "### start-up"
  cat "$out/version.md"
  echo
  echo "| binary size | peak memory, whole wizard (demo) | peak memory, \`setup --no-input\` |"
  echo "| --- | --- | --- |"
  echo "| $((size / 1024 / 1024)) MiB ($size bytes) | $wizard_mem | $mem |"
} | tee "$out/summary.md"
