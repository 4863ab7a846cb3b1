#!/usr/bin/env bash
# The part of scripts/test.sh that runs inside `xvfb-run dbus-run-session`: unlocks a
# throwaway GNOME keyring so the OS-keyring path is tested for real, then runs the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch"/{data,cache,config,runtime}
chmod 700 "$scratch/runtime"
export XDG_DATA_HOME="$scratch/data" XDG_CACHE_HOME="$scratch/cache" \
  XDG_CONFIG_HOME="$scratch/config" XDG_RUNTIME_DIR="$scratch/runtime" NO_AT_BRIDGE=1
printf 'dentpro-test-keyring' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
export DENTPRO_TEST_KEYRING=1

# One build for everything (same features as `cargo test --workspace --no-run` in test.sh),
# one test at a time: two cores, and each WebDriver test drives its own app instance.
cargo test --workspace -- --test-threads=1
