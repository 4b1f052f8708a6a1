//! The real `jobcollector` program, built into this package so integration tests can start it
//! as a separate process (`CARGO_BIN_EXE_jobcollector-under-test`).

fn main() -> std::process::ExitCode {
    api::cli::main_entry()
}
