//! What an emulator starts with: which data it is seeded with, how fast resources change state, and
//! which tokens it accepts.

use std::{fmt, str::FromStr, time::Duration};

/// The data a fresh emulator holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seed {
    /// No resources at all.
    Empty,
    /// A small fixed set that tests can name (see the crate docs for the ids).
    #[default]
    Test,
    /// A lived-in workspace with dozens of resources, for demos.
    Demo,
}

impl Seed {
    /// The name used on the command line and in [`FromStr`].
    pub fn as_str(self) -> &'static str {
        match self {
            Seed::Empty => "empty",
            Seed::Test => "test",
            Seed::Demo => "demo",
        }
    }
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A seed name that is not `empty`, `test` or `demo`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown seed '{0}': expected one of empty, test, demo")]
pub struct UnknownSeed(pub String);

impl FromStr for Seed {
    type Err = UnknownSeed;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "empty" => Ok(Seed::Empty),
            "test" => Ok(Seed::Test),
            "demo" => Ok(Seed::Demo),
            _ => Err(UnknownSeed(s.to_owned())),
        }
    }
}

/// How to start an [`Emulator`](crate::Emulator).
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The data the workspace starts with.
    pub seed: Seed,
    /// How long each step of a state transition takes (PENDING, RESTARTING, ...). `ZERO` makes the
    /// next read already see the final state, which keeps SDK waiters from sleeping.
    pub transition_delay: Duration,
    /// Tokens accepted besides [`DEMO_TOKEN`](crate::DEMO_TOKEN).
    pub tokens: Vec<String>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig { seed: Seed::Test, transition_delay: Duration::ZERO, tokens: Vec::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_names_round_trip() {
        for seed in [Seed::Empty, Seed::Test, Seed::Demo] {
            assert_eq!(seed.as_str().parse::<Seed>(), Ok(seed));
        }
        assert_eq!("DEMO".parse::<Seed>(), Ok(Seed::Demo));
    }

    #[test]
    fn unknown_seed_names_the_choices() {
        let err = "prod".parse::<Seed>().expect_err("prod is not a seed");
        assert_eq!(err.to_string(), "unknown seed 'prod': expected one of empty, test, demo");
    }
}
