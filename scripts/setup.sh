#!/usr/bin/env bash
# Installs everything DentPro needs on a fresh Debian/Ubuntu machine (as root or with sudo):
# system packages, tauri-driver (WebDriver for the real window), and the UI's npm packages.
# Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  libwebkit2gtk-4.1-dev build-essential curl wget file libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev pkg-config xvfb xauth webkit2gtk-driver
  dbus dbus-x11 gnome-keyring libsecret-tools libsecret-1-dev x11-utils imagemagick
  poppler-utils qpdf sqlite3 fonts-noto-core faketime python3
)
# Node may come from elsewhere (nodesource, nvm): Debian's is only installed when none is found.
command -v npm >/dev/null || PACKAGES+=(nodejs npm)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js 20 or newer is required for the UI build (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "       Debian 12's own nodejs is 18; install a newer one (e.g. from nodesource) first." >&2
  exit 1
fi

if ! command -v cargo >/dev/null; then
  echo "setup: Rust (cargo) is required: install it with rustup first" >&2
  exit 1
fi

# The server's tests check its signatures with an independent implementation (Python's
# `cryptography`).
if ! python3 -c 'import cryptography' 2>/dev/null; then
  echo "setup: installing Python's cryptography package"
  python3 -m pip install --quiet cryptography 2>/dev/null ||
    $SUDO apt-get install -y -qq --no-install-recommends python3-cryptography
fi

# The encryption-at-rest tests read and write databases with SQLCipher's own Python binding
# (`sqlcipher3`, SQLCipher 4 with OpenSSL): an implementation DentPro's page cipher shares no
# code with.
if ! python3 -c 'import sqlcipher3' 2>/dev/null; then
  echo "setup: installing Python's sqlcipher3-binary package"
  python3 -m pip install --quiet sqlcipher3-binary 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages sqlcipher3-binary
fi

if ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  echo "setup: installing tauri-driver"
  cargo install tauri-driver --locked --version '^2.0'
fi

if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  echo "setup: installing the UI's npm packages"
  (cd ui && npm ci --no-audit --no-fund)
fi
