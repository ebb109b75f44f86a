//! The `hmis` binary: everything is in the library; see `hmis::cli`.
#![forbid(unsafe_code)]

/// mimalloc instead of the system allocator: a request allocates many small, short-lived
/// buffers (JSON, headers, rows) from many threads, where glibc's malloc showed up at a
/// fifth of hmis's CPU in a profile of reads (figures in benches/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    hmis::cli::main()
}
