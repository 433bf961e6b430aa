//! Rebuild when migrations or templates change, so the binary always embeds the current set, and
//! generate the list of shipped templates (`templates/**.hbs`) compiled into the binary as
//! defaults that an operator's template directory may override file by file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=templates");
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut files = Vec::new();
    collect(&root.join("templates"), &root.join("templates"), &mut files);
    files.sort();
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("templates.rs");
    let mut code = String::from(
        "/// Shipped templates: (path below `templates/`, content).\npub static EMBEDDED: &[(&str, &str)] = &[\n",
    );
    for (relative, absolute) in &files {
        code.push_str(&format!(
            "    ({relative:?}, include_str!({absolute:?})),\n"
        ));
    }
    code.push_str("];\n");
    let mut file = fs::File::create(out).expect("OUT_DIR is writable");
    file.write_all(code.as_bytes())
        .expect("OUT_DIR is writable");
}

fn collect(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(base, &path, out);
        } else if path.extension().is_some_and(|e| e == "hbs") {
            let relative = path
                .strip_prefix(base)
                .expect("below base")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((relative, path.to_string_lossy().into_owned()));
        }
    }
}
