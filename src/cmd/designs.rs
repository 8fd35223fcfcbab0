//! `cgdiff designs`: the designs there are, by name, oldest first.

use anyhow::Result;
use cgdiff_engine::models::{Pair, DESIGNS};
use std::process::ExitCode;

pub fn run() -> Result<ExitCode> {
    for d in DESIGNS {
        println!("{:<11} {}", d.name(), d.about());
    }
    println!("\nThe default pair is {}.", Pair::DEFAULT);
    Ok(ExitCode::SUCCESS)
}
