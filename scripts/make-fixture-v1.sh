#!/usr/bin/env bash
# Regenerates tests/fixtures/v1-issue9/: a workstation data dir written by the version before
# issue 10's reshape (commit 76fcb69, issue 9's last), for crates/core/tests/previous_version.rs.
#
# It checks that commit out in a git worktree (OLD_CHECKOUT, default a temporary folder), puts
# scripts/fixture-v1/write_fixture.rs among that version's core tests and runs it: the old
# code's own write path writes every kind of record it knew (a file-stored device key, so the
# fixture opens anywhere), and expected.json says how the old code read the result. Then the
# worktree is removed. Builds with CARGO_TARGET_DIR if set (only DentPro's crates rebuild).
#
#   bash scripts/make-fixture-v1.sh
set -euo pipefail

commit=${COMMIT:-76fcb69}
root=$(git rev-parse --show-toplevel)
out=$root/tests/fixtures/v1-issue9
checkout=${OLD_CHECKOUT:-$(mktemp -d)/oldver}
work=$(mktemp -d)

git -C "$root" worktree add --detach "$checkout" "$commit"
cleanup() {
    git -C "$root" worktree remove --force "$checkout"
    rm -rf "$work"
}
trap cleanup EXIT

cp "$root/scripts/fixture-v1/write_fixture.rs" "$checkout/crates/core/tests/write_fixture.rs"
(
    cd "$checkout"
    DENTPRO_FIXTURE_OUT=$work DENTPRO_FIXTURE_COMMIT=$(git rev-parse HEAD) \
        cargo test --workspace --test write_fixture -- --exact write_fixture
)
test -f "$work/expected.json"
rm -rf "$out/workstation" "$out/expected.json"
mkdir -p "$out"
cp -r "$work/workstation" "$out/workstation"
cp "$work/expected.json" "$out/expected.json"
# Files of a closed data dir only (no WAL or lock left behind).
ls -la "$out/workstation"
du -sh "$out"
