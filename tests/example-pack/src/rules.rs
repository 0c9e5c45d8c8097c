//! The naming rules, apart from any workspace so they are tested on their own.
//!
//! A job name is `<team>-<purpose>`: lower-case words of letters and digits joined by single
//! dashes, two to five words, at most 60 characters. When the operator lists the teams (the
//! `teams` setting), the first word must be one of them.

/// Why `name` breaks the rules, or `None` when it keeps them.
pub fn problem(name: &str, teams: &[String]) -> Option<String> {
    if name.len() > 60 {
        return Some(format!("{} characters, more than 60", name.len()));
    }
    let words: Vec<&str> = name.split('-').collect();
    if words.iter().any(|w| w.is_empty() || !w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())) {
        return Some("use lower-case letters and digits in words joined by single dashes (`team-purpose`)".into());
    }
    if !(2..=5).contains(&words.len()) {
        return Some(format!("{} word(s); use two to five (`team-purpose`)", words.len()));
    }
    if !teams.is_empty() && !teams.iter().any(|t| t == words[0]) {
        return Some(format!("team `{}` is not one of: {}", words[0], teams.join(", ")));
    }
    None
}

/// The teams in the operator's `teams` setting (comma-separated), if any.
pub fn teams(setting: Option<String>) -> Vec<String> {
    setting.unwrap_or_default().split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_team_purpose() {
        let none: Vec<String> = Vec::new();
        assert_eq!(problem("etl-pipeline", &none), None);
        assert_eq!(problem("etl-nightly-sales-v2", &none), None);
        assert!(problem("ETL Pipeline", &none).unwrap().contains("lower-case"));
        assert!(problem("etl--pipeline", &none).unwrap().contains("single dashes"));
        assert!(problem("pipeline", &none).unwrap().starts_with("1 word(s)"));
        assert!(problem(&"a-".repeat(31), &none).unwrap().contains("more than 60"));
    }

    #[test]
    fn teams_come_from_the_setting() {
        let teams = teams(Some(" etl, daily ,".into()));
        assert_eq!(teams, ["etl", "daily"]);
        assert_eq!(problem("etl-pipeline", &teams), None);
        assert_eq!(problem("failing-report", &teams).unwrap(), "team `failing` is not one of: etl, daily");
    }
}
