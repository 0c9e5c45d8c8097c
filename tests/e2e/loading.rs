//! Plugins the host must refuse to load, each with a message naming the file and the reason,
//! while the others load.

use serde_json::json;

use crate::support::Setup;

#[tokio::test]
async fn refuses_broken_plugins_and_loads_the_rest() {
    let h = Setup::new(&[
        "clusters",
        "fixture-collide",
        "fixture-future-contract",
        "fixture-bad-manifest",
        "fixture-greedy",
    ])
    .file("garbage.wasm", b"\0asm\x01\0\0\0 this is not a component")
    .file("empty.wasm", b"")
    .start()
    .await;
    let tools = h.tools().await;
    assert_eq!(
        tools.len(),
        15,
        "only the clusters tools: {:?}",
        tools.iter().map(|t| t.name.to_string()).collect::<Vec<_>>()
    );
    let (_, data) = h.ok("list_clusters", json!({"limit": 1})).await;
    assert_eq!(data["clusters"].as_array().unwrap().len(), 1, "the real list_clusters answers");

    let log = h.log();
    let line = |file: &str| {
        log.lines()
            .find(|l| l.contains(file) && l.contains("ERROR"))
            .unwrap_or_else(|| panic!("no error line about {file}:\n{log}"))
            .to_string()
    };
    let collide = line("fixture_collide.wasm");
    assert!(
        collide.contains("tool `list_clusters` of plugin `collide` collides") && collide.contains("plugin `clusters`"),
        "{collide}"
    );
    let future = line("fixture_future_contract.wasm");
    assert!(future.contains("contract 0.9.0") && future.contains("0.1.x"), "{future}");
    let bad = line("fixture_bad_manifest.wasm");
    assert!(bad.contains("tool name `bad tool name` is invalid"), "{bad}");
    let greedy = line("fixture_greedy.wasm");
    assert!(greedy.contains("grant `POST /api/2.0/token/create` reaches personal access tokens"), "{greedy}");
    for junk in ["garbage.wasm", "empty.wasm"] {
        assert!(line(junk).contains("not a valid WebAssembly component"), "{}", line(junk));
    }
}

/// Every regular file under `dir`.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if path.is_file() {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn a_corrupt_compiled_plugin_cache_is_ignored_and_rebuilt() {
    let cache = tempfile::tempdir().unwrap();
    let config = format!("cache_dir = {:?}\n", cache.path().display().to_string());
    {
        let h = Setup::new(&["clusters"]).config(&config).start().await;
        assert_eq!(h.tools().await.len(), 15);
        // The cache is written in the background: wait for an entry.
        crate::support::within(std::time::Duration::from_secs(30), "a compiled-plugin cache entry", async {
            while files_under(cache.path()).iter().all(|f| f.metadata().map_or(0, |m| m.len()) < 1024) {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        })
        .await;
    }
    let entries = files_under(cache.path());
    assert!(!entries.is_empty());
    for entry in &entries {
        std::fs::write(entry, b"not a compiled component").unwrap();
    }

    let h = Setup::new(&["clusters"]).config(&config).start().await;
    assert_eq!(h.tools().await.len(), 15, "the plugin loads from its bytes: {}", h.log());
    let (_, data) = h.ok("list_clusters", json!({"limit": 1})).await;
    assert_eq!(data["clusters"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_new_plugin_serves_on_baseline_code_at_once_and_its_optimized_code_is_kept() {
    let cache = tempfile::tempdir().unwrap();
    let config = format!("cache_dir = {:?}\n", cache.path().display().to_string());
    {
        let h = Setup::new(&["clusters"]).config(&config).start().await;
        let prepared = h.wait_log(&["plugin prepared", "clusters.wasm"]).await;
        assert!(prepared.contains("tier=Baseline") && prepared.contains("stored=false"), "{prepared}");
        let (_, data) = h.ok("list_clusters", json!({"limit": 1})).await;
        assert_eq!(data["clusters"].as_array().unwrap().len(), 1);
        // Cranelift's code replaces Winch's in the background; calls go on meanwhile.
        h.wait_log(&["plugin now runs optimized code", "clusters"]).await;
        let (_, data) = h.ok("list_clusters", json!({"limit": 1})).await;
        assert_eq!(data["clusters"].as_array().unwrap().len(), 1);
    }
    let h = Setup::new(&["clusters"]).config(&config).start().await;
    let prepared = h.wait_log(&["plugin prepared", "clusters.wasm"]).await;
    assert!(
        prepared.contains("tier=Optimized") && prepared.contains("stored=true"),
        "the next start maps the stored code: {prepared}"
    );
    let (_, data) = h.ok("list_clusters", json!({"limit": 1})).await;
    assert_eq!(data["clusters"].as_array().unwrap().len(), 1);
    assert!(!h.log().contains("now runs optimized code"), "nothing left to optimize: {}", h.log());
    drop(h);

    // With its manifest kept, a plugin the policy refuses is refused before any code is mapped.
    let denied = format!("{config}[policy]\ndeny_plugins = [\"clusters\"]\n");
    let h = Setup::new(&["clusters"]).config(&denied).start().await;
    h.wait_log(&["plugin `clusters` is denied by the operator policy"]).await;
    assert!(h.tools().await.is_empty());
    assert!(!h.log().contains("plugin prepared"), "nothing was compiled or mapped: {}", h.log());
}
