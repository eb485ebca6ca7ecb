fn main() -> std::process::ExitCode {
    hailer::cli::main()
}
