#!/usr/bin/env bash
# Runs every check and test of DentPro: formatting, lints (Rust and UI), the UI's unit tests,
# the .deb package (built, inspected and run by scripts/package-check.sh), and all Rust tests —
# unit, property, integration, CLI, and WebDriver tests of the real window under Xvfb with a
# D-Bus session and an unlocked GNOME keyring.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh

step() { echo; echo "=== $*"; }

step "UI: build, lint, typecheck, unit tests"
(cd ui && npm run build && npm run lint && npm run typecheck && npm test)

step "Rust: fmt, clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

step "Package: build a debug .deb, inspect it, run the binary extracted from it"
bash scripts/package-check.sh   # also the tests' build (cargo test --workspace --no-run)

step "Rust: build tests"
cargo test --workspace --no-run

step "Rust: all tests (inside Xvfb + D-Bus + unlocked keyring)"
exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash scripts/session-tests.sh
