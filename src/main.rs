//! The `triage` binary: parse the arguments and dispatch to the command
//! in [`cli`]. Exit codes are documented there.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if let Some(cli::Exit(code)) = e.downcast_ref::<cli::Exit>() {
                return ExitCode::from(*code);
            }
            eprintln!("错误：{e:#}");
            ExitCode::from(2)
        }
    }
}
