//! The `hmis` binary: everything is in the library; see `hmis::cli`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    hmis::cli::main()
}
