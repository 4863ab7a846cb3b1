#!/usr/bin/env bash
# Runs the WebDriver end-to-end tests (tests/webdriver.rs) against the real DentPro window:
# builds the UI and the app, then runs the tests inside a virtual X server and a private D-Bus
# session, with per-run XDG dirs so nothing touches the user's own data or leaves processes behind.
#
#   bash scripts/webdriver-tests.sh                 # all WebDriver tests
#   bash scripts/webdriver-tests.sh english         # only tests whose name contains "english"
#   bash scripts/webdriver-tests.sh idle --nocapture
#
# Needs: tauri-driver (cargo install tauri-driver --locked), WebKitWebDriver (webkit2gtk-driver),
# xvfb-run (xvfb, xauth), dbus-run-session (dbus), libfaketime (faketime).
# Screenshots: test-artifacts/webdriver/<test>/<nn>-<step>.png (and failure.png / failure.html).
# SKIP_UI_BUILD=1 reuses ui/dist as it is.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

missing=()
for tool in xvfb-run dbus-run-session WebKitWebDriver npm cargo; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver" ] && [ -z "${TAURI_DRIVER:-}" ]; then
  missing+=("tauri-driver")
fi
# The idle-lock test runs the app under libfaketime (a fast wall clock) instead of waiting minutes.
faketime_found=0
for f in "${DENTPRO_LIBFAKETIME:-}" /usr/lib/*-linux-gnu/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1; do
  [ -n "$f" ] && [ -e "$f" ] && faketime_found=1
done
[ "$faketime_found" = 1 ] || missing+=("libfaketime")
if [ ${#missing[@]} -gt 0 ]; then
  echo "webdriver-tests: missing: ${missing[*]}" >&2
  echo "  apt-get install -y xvfb xauth dbus webkit2gtk-driver faketime; cargo install tauri-driver --locked" >&2
  exit 2
fi
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# The app embeds ui/dist at compile time: build the UI first, then the binary and the tests.
if [ "${SKIP_UI_BUILD:-0}" != "1" ]; then
  (cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
fi
cargo build --bin dentpro
cargo test --no-run --test webdriver

run_dir="$(mktemp -d "${TMPDIR:-/tmp}/dentpro-webdriver.XXXXXX")"
cleanup() { rm -rf "$run_dir"; }
trap cleanup EXIT
for d in data cache config runtime; do mkdir -p "$run_dir/$d"; done
chmod 0700 "$run_dir" "$run_dir"/*

export XDG_DATA_HOME="$run_dir/data"
export XDG_CACHE_HOME="$run_dir/cache"
export XDG_CONFIG_HOME="$run_dir/config"
export XDG_RUNTIME_DIR="$run_dir/runtime"
export NO_AT_BRIDGE=1
unset DENTPRO_SKIP_WEBDRIVER DENTPRO_DATA_DIR DENTPRO_KEY_STORE

mkdir -p test-artifacts/webdriver
start=$(date +%s)
status=0
xvfb-run -a -s "-screen 0 1280x800x24" \
  dbus-run-session -- \
  cargo test --test webdriver -- --test-threads=1 "$@" || status=$?
echo "webdriver-tests: exit $status after $(( $(date +%s) - start )) s; screenshots in test-artifacts/webdriver/"
exit $status
