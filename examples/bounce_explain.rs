//! `cargo run --example bounce_explain FILE…`: show how the bounce parser reads each message.
fn main() {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).expect("readable file");
        println!("=== {path}\n{}", hailer::engine::bounces::explain(&bytes));
    }
}
