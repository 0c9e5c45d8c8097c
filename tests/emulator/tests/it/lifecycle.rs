use std::{
    process::Stdio,
    time::{Duration, Instant},
};

use databricks_emulator::DEMO_TOKEN;
use reqwest::StatusCode;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
    time::timeout,
};

use crate::util::{Api, client, read};

#[tokio::test]
async fn shutdown_stops_serving_promptly_even_with_an_open_connection() {
    let Api { emu, http } = Api::start().await;
    let url = format!("{}/api/2.1/clusters/list", emu.url());
    // Leaves a keep-alive connection in the client's pool.
    assert_eq!(read(http.get(&url).bearer_auth(DEMO_TOKEN).send().await).await.0, StatusCode::OK);

    let started = Instant::now();
    emu.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    assert!(http.get(&url).bearer_auth(DEMO_TOKEN).send().await.is_err(), "nothing answers after shutdown");
}

#[cfg(unix)]
#[tokio::test]
async fn the_binary_prints_its_url_serves_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_databricks-emulator"))
        .args(["--seed", "test", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("the listening line within 10 s")
        .expect("readable stdout")
        .expect("one line");
    let url = line.strip_prefix("databricks-emulator listening on ").expect("the documented line");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let response = client().get(format!("{url}/api/2.1/clusters/list")).bearer_auth(DEMO_TOKEN).send().await;
    assert_eq!(read(response).await.0, StatusCode::OK);

    let pid = child.id().expect("a running child").to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().await.expect("kill runs");
    assert!(killed.success());
    let status = timeout(Duration::from_secs(10), child.wait()).await.expect("exits within 10 s").expect("exit status");
    assert!(status.success(), "{status}");
    assert_eq!(lines.next_line().await.ok().flatten(), None, "exactly one line on stdout");
}
