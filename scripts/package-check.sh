#!/usr/bin/env bash
# Builds a .deb with Tauri's CLI from npm, then checks it as a new user would get it: its
# metadata, that it holds the binary, the desktop entry, the icons and the fonts the PDFs are
# drawn with (every font under assets/fonts/), and that the binary extracted from it runs
# (`--version`).
#
#   bash scripts/package-check.sh              # a debug package (what scripts/test.sh runs)
#   bash scripts/package-check.sh --release    # the release package, built the way the README
#                                              # says (`tauri build`); its size is printed
#   DEB=path/to.deb bash scripts/package-check.sh   # check a package built already
#
# The debug package is made from the tests' own build, not a second one. `tauri build` runs
# `cargo build`, whose dependencies' features are resolved without the dev-dependencies that
# `cargo test` adds (tokio's, tempfile's, fantoccini's...): a second variant of ~200 crates
# (tauri, the app, dentpro-core and the server among them) beside the tests' variant, compiled
# in full on a cold target dir (a fresh clone, CI) and again for every change of our crates. Here the binary
# comes from `cargo test --workspace --no-run` (what scripts/test.sh builds next anyway: the
# binary the CLI and WebDriver tests run, self-contained through the default `custom-protocol`
# feature) and `tauri bundle` packages it without compiling.
#
# Needs: npx (Node ≥ 20), cargo, dpkg-deb.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

profile=debug
if [ "${1:-}" = "--release" ]; then
  profile=release
fi

fail() { echo "package-check: FAILED: $*" >&2; exit 1; }

version=$(node -p 'require("./tauri.conf.json").version')
product=$(node -p 'require("./tauri.conf.json").productName')
binary=$(node -p 'require("./tauri.conf.json").mainBinaryName')

deb="${DEB:-}"
if [ -n "$deb" ]; then
  profile="given"
else
  target="${CARGO_TARGET_DIR:-$root/target}"
  rm -f "$target/$profile/bundle/deb/"*.deb
  if [ "$profile" = debug ]; then
    # The UI the binary embeds: scripts/test.sh built it just before; built here if missing.
    [ -f ui/dist/index.html ] || (cd ui && npm run build)
    cargo test --workspace --no-run
    npx --yes @tauri-apps/cli@2 bundle --debug --bundles deb --ci
  else
    npx --yes @tauri-apps/cli@2 build --bundles deb --ci
  fi
  shopt -s nullglob
  debs=("$target/$profile/bundle/deb/"*.deb)
  shopt -u nullglob
  [ "${#debs[@]}" -eq 1 ] || fail "expected one .deb in $target/$profile/bundle/deb, found ${#debs[@]}"
  deb="${debs[0]}"
fi
[ -f "$deb" ] || fail "no package at $deb"

info=$(dpkg-deb --info "$deb")
field() { sed -n "s/^ $1: //p" <<<"$info"; }
[ "$(field Version)" = "$version" ] || fail "package version '$(field Version)', tauri.conf.json says $version"
[ "$(field Architecture)" = "amd64" ] || fail "architecture '$(field Architecture)'"
grep -q 'libwebkit2gtk-4.1-0' <<<"$(field Depends)" || fail "does not depend on libwebkit2gtk-4.1-0: $(field Depends)"

contents=$(dpkg-deb --contents "$deb" | awk '{print $NF}' | sed 's#^\./##')
need() { grep -qxF "$1" <<<"$contents" || fail "$1 is not in the package"; }
need "usr/bin/$binary"
need "usr/share/applications/$product.desktop"
for size in 32x32 128x128 512x512; do need "usr/share/icons/hicolor/$size/apps/$binary.png"; done

# The PDFs' fonts: whatever assets/fonts/ holds is shipped (tauri.conf.json bundle.resources).
fonts=0
shopt -s nullglob
for f in assets/fonts/*.ttf assets/fonts/*.otf assets/fonts/*.TTF assets/fonts/*.OTF; do
  need "usr/lib/$product/fonts/$(basename "$f")"
  fonts=$((fonts + 1))
done
shopt -u nullglob

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
dpkg-deb -x "$deb" "$scratch"
desktop="$scratch/usr/share/applications/$product.desktop"
grep -qx "Exec=$binary" "$desktop" || fail "desktop entry does not start $binary: $(cat "$desktop")"
grep -qx "Icon=$binary" "$desktop" || fail "desktop entry has no icon $binary"
for f in "$scratch/usr/lib/$product/fonts/"*; do
  case "$f" in *.ttf | *.otf | *.TTF | *.OTF) cmp -s "$f" "assets/fonts/$(basename "$f")" || fail "$(basename "$f") in the package differs from assets/fonts" ;; esac
done

got=$("$scratch/usr/bin/$binary" --version) || fail "the extracted binary's --version failed"
[ "$got" = "$binary $version" ] || fail "the extracted binary says '$got', expected '$binary $version'"

size=$(stat -c %s "$deb")
echo "package-check: ok: $(basename "$deb") ($profile, $size bytes = $(awk "BEGIN{printf \"%.2f\", $size/1048576}") MiB):" \
  "binary, desktop entry, icons, $fonts font(s); the extracted binary says '$got'"
