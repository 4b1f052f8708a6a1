//! The `jobcollector` binary.

/// mimalloc: under load the service's many small per-request allocations cost less than with
/// the system allocator (see README, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    api::cli::main_entry()
}
