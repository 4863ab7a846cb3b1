#!/usr/bin/env bash
# One command for a whole demo branch on this machine: a branch server on 127.0.0.1:8443, a
# reception desk holding the demo data and a doctor's workstation, both enrolled and synced,
# then the two windows (reception and doctor). Users admin/manager/reception/assistant/doctor/
# cashier, password demo-pass-1. Everything lives under $DENTPRO_DEMO_DIR (default
# ~/.local/share/dentpro-demo-branch); delete it to start again.
set -euo pipefail
cd "$(dirname "$0")/.."
root="${DENTPRO_DEMO_DIR:-$HOME/.local/share/dentpro-demo-branch}"
address="${DENTPRO_DEMO_ADDRESS:-127.0.0.1:8443}"
bash scripts/setup.sh
(cd ui && npm run build)
cargo build --release -p dentpro -p dentpro-server
app=./target/release/dentpro
server=./target/release/dentpro-server
mkdir -p "$root"
if [ ! -e "$root/server/server.json" ]; then
  "$server" --data-dir "$root/server" init --branch-name "Demo Clinic"
fi
"$server" --data-dir "$root/server" serve --listen "$address" >"$root/server.log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q "listening on" "$root/server.log" && break; sleep 0.2; done
if [ ! -e "$root/reception/dentpro.sqlite3" ]; then
  "$app" demo --data-dir "$root/reception" --key-store file
  "$app" enrol --data-dir "$root/reception" --key-store file --label "Reception desk" \
    --ticket "$("$server" --data-dir "$root/server" enrol-code --kind reception --address "$address")"
  "$app" sync --data-dir "$root/reception" --key-store file
  "$app" enrol --data-dir "$root/doctor" --key-store file --label "Chair 1" \
    --ticket "$("$server" --data-dir "$root/server" enrol-code --kind doctor --address "$address")"
  "$app" sync --data-dir "$root/doctor" --key-store file
fi
"$server" --data-dir "$root/server" devices
run() {
  if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- "$app" "$@"
  else
    "$app" "$@"
  fi
}
run --data-dir "$root/doctor" --key-store file &
run --data-dir "$root/reception" --key-store file
