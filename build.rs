//! Link-time settings for the binary only.
fn main() {
    // Every prompt pays the binary's start-up, and most of it is the kernel mapping pages.
    // A position-independent executable has ~13,000 relative relocations that the loader
    // writes into ~50 read-only-after-relocation pages, each a copy-on-write fault: about a
    // fifth of a cached `export`. Linked as a fixed-address executable (as Go links direnv),
    // those pages are never written. Shared libraries keep their address randomisation.
    // `BEDROCK_ENV_PIE=1 cargo install ...` keeps a PIE for those who prefer it.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var_os("BEDROCK_ENV_PIE").is_none()
    {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-env-changed=BEDROCK_ENV_PIE");
}
