//! The `jobcollector` binary.

fn main() -> std::process::ExitCode {
    api::cli::main_entry()
}
