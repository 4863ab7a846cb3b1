#!/usr/bin/env bash
# Sets up, builds and opens DentPro. `scripts/run.sh --demo` starts a new data dir with the demo
# branch (users admin/manager/reception/assistant/doctor/cashier, password demo-pass-1).
# Other arguments go to the app (e.g. --data-dir DIR, --key-store file).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
(cd ui && npm run build)
cargo build --release
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display found; starting under Xvfb (headless)."
  exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- ./target/release/dentpro "$@"
fi
exec ./target/release/dentpro "$@"
