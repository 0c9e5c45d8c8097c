//! `databricks-mcp`: the command line. Everything is in [`databricks_mcp::cli`]; `main` only
//! hands over, so the commands can be read (and tested) as library code.

fn main() -> std::process::ExitCode {
    databricks_mcp::cli::main()
}
