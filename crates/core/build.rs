fn main() {
    // refinery embeds ../../migrations at compile time; rebuild when a migration is added or edited.
    println!("cargo:rerun-if-changed=../../migrations");
}
