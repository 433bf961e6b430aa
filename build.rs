//! Rebuild when migrations change, so the binary always embeds the current set.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
