use std::process::ExitCode;

fn main() -> ExitCode {
    vplc::main()
}
