//! Hot reload, seen by a connected MCP client: plugin files appear, change, break, collide and
//! go while the host serves, and the client is told with `tools/list_changed`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;

use crate::support::{Harness, Setup, text_of, within};

const CLUSTERS_TOOLS: usize = 15;
const SECRETS_TOOLS: usize = 9;

fn bytes(package: &str) -> Vec<u8> {
    std::fs::read(test_plugins::wasm(package)).unwrap()
}

/// `package`'s component with a custom section appended: the same plugin, a different digest,
/// so the host really reloads it.
fn variant(package: &str, n: u32) -> Vec<u8> {
    let mut wasm = bytes(package);
    let name = b"reload-test";
    wasm.push(0); // custom section
    wasm.push((1 + name.len() + 4) as u8);
    wasm.push(name.len() as u8);
    wasm.extend_from_slice(name);
    wasm.extend_from_slice(&n.to_le_bytes());
    wasm
}

/// Start with `plugins`, and make sure the client is registered before anything changes.
async fn start(plugins: &[&'static str]) -> Harness {
    let h = Harness::start(plugins).await;
    h.tools().await;
    h
}

#[tokio::test]
async fn a_new_plugin_appears_with_list_changed() {
    let h = start(&["clusters"]).await;
    std::fs::write(h.plugin_dir.join("secrets.wasm"), bytes("secrets")).unwrap();
    h.wait_list_changed(0, "adding secrets.wasm").await;
    let names = h.tool_names().await;
    assert_eq!(names.len(), CLUSTERS_TOOLS + SECRETS_TOOLS, "{names:?}");
    assert!(names.contains(&"list_secret_scopes".to_string()) && names.contains(&"list_clusters".to_string()));
    h.ok("list_secret_scopes", json!({})).await;
    h.wait_log(&["loaded plugin", "secrets.wasm"]).await;
}

#[tokio::test]
async fn a_changed_plugin_serves_its_new_tools_and_drops_the_old() {
    let h = start(&["clusters"]).await;
    // Another plugin's bytes under the same file name: the tool set changes whole.
    std::fs::write(h.plugin_dir.join("clusters.wasm"), bytes("secrets")).unwrap();
    h.wait_list_changed(0, "replacing clusters.wasm").await;
    let names = h.tool_names().await;
    assert_eq!(names.len(), SECRETS_TOOLS, "{names:?}");
    assert!(!names.contains(&"list_clusters".to_string()), "{names:?}");
    h.ok("list_secret_scopes", json!({})).await;
    let gone = h.client.call_tool(rmcp::model::CallToolRequestParams::new("list_clusters")).await;
    assert!(gone.is_err(), "list_clusters is unknown now: {gone:?}");
}

#[tokio::test]
async fn a_corrupt_file_leaves_the_previous_version_serving() {
    let h = start(&["clusters"]).await;
    std::fs::write(h.plugin_dir.join("clusters.wasm"), b"\0asm\x0d\0\x01\0 truncated").unwrap();
    let line = h.wait_log(&["ERROR", "clusters.wasm", "not a valid WebAssembly component", "keeps serving"]).await;
    assert!(line.contains("plugin `clusters` 0.1.0"), "{line}");
    assert_eq!(h.tools().await.len(), CLUSTERS_TOOLS);
    h.ok("list_clusters", json!({"limit": 1})).await;
    assert_eq!(h.list_changed(), 0, "nothing changed for the client");

    // A good version then replaces it as usual.
    std::fs::write(h.plugin_dir.join("clusters.wasm"), variant("clusters", 1)).unwrap();
    h.wait_list_changed(0, "fixing clusters.wasm").await;
    h.ok("list_clusters", json!({"limit": 1})).await;
}

#[tokio::test]
async fn a_colliding_plugin_is_refused_and_the_set_kept() {
    let h = start(&["clusters", "secrets"]).await;
    // A new file whose tool collides: not loaded.
    std::fs::write(h.plugin_dir.join("collide.wasm"), bytes("fixture-collide")).unwrap();
    let line = h.wait_log(&["ERROR", "collide.wasm", "collides", "not loaded"]).await;
    assert!(line.contains("tool `list_clusters` of plugin `collide`") && line.contains("plugin `clusters`"), "{line}");
    // A served file replaced by a colliding plugin: the previous version keeps serving.
    std::fs::write(h.plugin_dir.join("secrets.wasm"), bytes("fixture-collide")).unwrap();
    let line = h.wait_log(&["ERROR", "secrets.wasm", "collides", "keeps serving"]).await;
    assert!(line.contains("plugin `secrets` 0.1.0"), "{line}");
    assert_eq!(h.tools().await.len(), CLUSTERS_TOOLS + SECRETS_TOOLS);
    h.ok("list_secret_scopes", json!({})).await;
    h.ok("list_clusters", json!({"limit": 1})).await;
}

#[tokio::test]
async fn a_plugin_refused_for_a_taken_name_loads_once_the_other_plugin_goes() {
    // At start-up: collide.wasm sorts before secrets.wasm but after clusters.wasm.
    let h = Setup::new(&["clusters", "secrets"]).file("collide.wasm", &bytes("fixture-collide")).start().await;
    h.wait_log(&["ERROR", "collide.wasm", "collides"]).await;
    assert_eq!(h.tools().await.len(), CLUSTERS_TOOLS + SECRETS_TOOLS);
    // Removing clusters frees `list_clusters`: collide loads without being touched.
    let seen = h.list_changed();
    std::fs::remove_file(h.plugin_dir.join("clusters.wasm")).unwrap();
    h.wait_list_changed(seen, "removing clusters.wasm").await;
    h.wait_log(&["loaded plugin", "plugin=collide"]).await;
    let names = h.tool_names().await;
    assert_eq!(names.len(), 1 + SECRETS_TOOLS, "{names:?}");
    let (text, _) = h.ok("list_clusters", json!({})).await;
    assert_eq!(text, "not the real one");
    // And it keeps the name when clusters comes back: first come, first served.
    std::fs::write(h.plugin_dir.join("clusters.wasm"), bytes("clusters")).unwrap();
    h.wait_log(&["ERROR", "clusters.wasm", "collides with the tool of the same name in plugin `collide`"]).await;
    assert_eq!(h.tools().await.len(), 1 + SECRETS_TOOLS);
}

#[cfg(unix)]
#[tokio::test]
async fn a_kubernetes_style_volume_update_reloads_the_plugins_behind_it() {
    use std::os::unix::fs::symlink;
    // A ConfigMap volume: `clusters.wasm -> ..data/clusters.wasm`, `..data -> ..v1`.
    let h = start(&[]).await;
    let dir = &h.plugin_dir;
    std::fs::create_dir(dir.join("..v1")).unwrap();
    std::fs::write(dir.join("..v1/clusters.wasm"), bytes("clusters")).unwrap();
    symlink("..v1", dir.join("..data")).unwrap();
    symlink("..data/clusters.wasm", dir.join("clusters.wasm")).unwrap();
    h.wait_list_changed(0, "the volume's first version").await;
    assert_eq!(h.tools().await.len(), CLUSTERS_TOOLS);
    // The update writes a new directory and swaps the `..data` link: no `.wasm` name changes.
    std::fs::create_dir(dir.join("..v2")).unwrap();
    std::fs::write(dir.join("..v2/clusters.wasm"), bytes("secrets")).unwrap();
    symlink("..v2", dir.join("..data_tmp")).unwrap();
    let seen = h.list_changed();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    h.wait_list_changed(seen, "swapping ..data").await;
    assert_eq!(h.tools().await.len(), SECRETS_TOOLS, "the file behind clusters.wasm is now the secrets plugin");
    h.ok("list_secret_scopes", json!({})).await;
}

#[tokio::test]
async fn a_removed_file_unloads_its_plugin() {
    let h = start(&["clusters", "secrets"]).await;
    std::fs::remove_file(h.plugin_dir.join("secrets.wasm")).unwrap();
    h.wait_list_changed(0, "removing secrets.wasm").await;
    let names = h.tool_names().await;
    assert_eq!(names.len(), CLUSTERS_TOOLS, "{names:?}");
    h.wait_log(&["plugin file removed", "secrets"]).await;
}

#[tokio::test]
async fn a_half_written_file_loads_once_complete_and_never_breaks_the_set() {
    use std::io::Write as _;
    let h = start(&["clusters"]).await;
    let wasm = bytes("secrets");
    let (first, rest) = wasm.split_at(wasm.len() / 2);
    let mut file = std::fs::File::create(h.plugin_dir.join("secrets.wasm")).unwrap();
    file.write_all(first).unwrap();
    file.flush().unwrap();
    // A slow copy: pause longer than the debounce, listing all along.
    for _ in 0..10 {
        assert_eq!(h.tools().await.len(), CLUSTERS_TOOLS, "only the complete plugins serve");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    file.write_all(rest).unwrap();
    drop(file);
    h.wait_list_changed(0, "completing secrets.wasm").await;
    assert_eq!(h.tools().await.len(), CLUSTERS_TOOLS + SECRETS_TOOLS);
    h.ok("list_secret_scopes", json!({})).await;
    assert_eq!(h.list_changed(), 1, "one change: the complete plugin");
}

#[tokio::test]
async fn calls_never_fail_while_a_plugin_is_replaced_many_times() {
    let h = start(&["clusters"]).await;
    let done = AtomicBool::new(false);
    let calls = AtomicUsize::new(0);
    let caller = || async {
        while !done.load(Ordering::Relaxed) {
            let result = h.call("list_clusters", json!({"limit": 2})).await;
            assert_ne!(result.is_error, Some(true), "a call failed during reload: {}", text_of(&result));
            calls.fetch_add(1, Ordering::Relaxed);
        }
    };
    let replacer = async {
        let mut seen = 0;
        for n in 1..=20 {
            std::fs::write(h.plugin_dir.join("clusters.wasm"), variant("clusters", n)).unwrap();
            seen = h.wait_list_changed(seen, &format!("replacement {n}")).await;
        }
        done.store(true, Ordering::Relaxed);
    };
    tokio::join!(replacer, caller(), caller(), caller(), caller());
    assert!(calls.load(Ordering::Relaxed) > 20, "the calls ran alongside the reloads");
    assert_eq!(h.tools().await.len(), CLUSTERS_TOOLS);
}

#[tokio::test]
async fn a_config_change_reloads_every_plugin_with_it() {
    let h = start(&["clusters"]).await;
    h.ok("list_clusters", json!({"limit": 1})).await;
    std::fs::write(&h.config_file, "[plugins.clusters.limits]\nmax_output_kib = 0\n").unwrap();
    h.wait_list_changed(0, "changing the config").await;
    let error = h.err("list_clusters", json!({"limit": 1})).await;
    assert!(error.contains("over the limit of 0 bytes"), "{error}");

    // A config that does not parse keeps the previous one.
    std::fs::write(&h.config_file, "[limits]\nmemory_mb = 1\n").unwrap();
    let line = h.wait_log(&["ERROR", "config.toml", "keeping the previous configuration"]).await;
    assert!(line.contains("memory_mb"), "{line}");
    let error = h.err("list_clusters", json!({"limit": 1})).await;
    assert!(error.contains("over the limit of 0 bytes"), "{error}");
}

#[tokio::test]
async fn hot_reload_can_be_turned_off() {
    let h = Setup::new(&["clusters"]).config("watch = false").start().await;
    h.tools().await;
    h.wait_log(&["hot reload is off"]).await;
    assert!(!h.log().contains("watching for plugin"), "{}", h.log());
}

#[tokio::test]
async fn a_call_in_flight_finishes_on_the_version_it_started_with() {
    let h = Setup::new(&["clusters"]).transition_delay(Duration::from_millis(1500)).start().await;
    h.tools().await;
    let (_, created) = h
        .ok(
            "create_cluster",
            json!({"cluster_name": "in-flight", "spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}),
        )
        .await;
    let id = created["cluster_id"].as_str().unwrap().to_string();
    let waiting = h.call("wait_for_cluster", json!({"cluster_id": id}));
    let unload = async {
        // The call is running in the plugin once it reports progress.
        within(Duration::from_secs(30), "progress from wait_for_cluster", async {
            while h.progress.lock().unwrap().is_empty() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        std::fs::remove_file(h.plugin_dir.join("clusters.wasm")).unwrap();
        h.wait_list_changed(0, "removing clusters.wasm").await;
        assert!(h.tools().await.is_empty(), "the plugin is unloaded for new calls");
    };
    let (result, ()) = tokio::join!(waiting, unload);
    assert_ne!(result.is_error, Some(true), "{}", text_of(&result));
    assert_eq!(result.structured_content.unwrap()["state"], "RUNNING");
}

#[tokio::test]
async fn reloads_apply_the_policy_a_denied_or_unpinned_file_never_serves() {
    let pin = {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(bytes("clusters"));
        digest.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let h = Setup::new(&["clusters"])
        .config(&format!("[policy]\ndeny_plugins = [\"secrets\"]\n[plugins.clusters]\nsha256 = \"{pin}\"\n"))
        .start()
        .await;
    h.tools().await;

    // A denied plugin dropped in is left out, and the client hears of no change.
    std::fs::write(h.plugin_dir.join("secrets.wasm"), bytes("secrets")).unwrap();
    h.wait_log(&["secrets.wasm", "policy.deny_plugins"]).await;
    // Another build of a pinned plugin is refused; the pinned one keeps serving.
    std::fs::write(h.plugin_dir.join("clusters.wasm"), variant("clusters", 7)).unwrap();
    let line = h.wait_log(&["ERROR", "clusters.wasm", &pin]).await;
    assert!(line.contains("keeps serving"), "{line}");
    assert_eq!(h.tools().await.len(), CLUSTERS_TOOLS);
    assert_eq!(h.list_changed(), 0, "nothing the client can see changed");
    h.ok("list_clusters", json!({"limit": 1})).await;

    // A policy change in the config file applies to what is served, with list_changed.
    std::fs::write(h.plugin_dir.join("clusters.wasm"), bytes("clusters")).unwrap();
    let config = format!("[policy]\nread_only = true\n[plugins.clusters]\nsha256 = \"{pin}\"\n");
    std::fs::write(&h.config_file, config).unwrap();
    let seen = h.wait_list_changed(0, "switching to read-only in the config file").await;
    let names = h.tool_names().await;
    assert!(names.contains(&"list_clusters".to_string()), "{names:?}");
    assert!(!names.contains(&"create_cluster".to_string()), "read-only hides mutating tools: {names:?}");
    assert!(names.contains(&"list_secret_scopes".to_string()), "secrets is no longer denied: {names:?}");

    // A plugin the new configuration refuses is unloaded, not kept under the old policy.
    let other = "0".repeat(64);
    std::fs::write(&h.config_file, format!("[policy]\nread_only = true\n[plugins.clusters]\nsha256 = \"{other}\"\n"))
        .unwrap();
    h.wait_list_changed(seen, "pinning clusters to another build").await;
    let names = h.tool_names().await;
    assert!(!names.iter().any(|n| n.contains("cluster")), "clusters fails closed: {names:?}");
    h.wait_log(&["clusters.wasm", "unloading the plugin this file served (the configuration changed)"]).await;
}

#[tokio::test]
async fn a_replaced_plugin_directory_is_followed() {
    use std::os::unix::fs::symlink;
    let h = start(&["clusters"]).await;
    let dir = &h.plugin_dir;
    let parent = dir.parent().unwrap();

    // Deleted and made again: the new directory's plugins serve, and later changes in it reload.
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::create_dir(dir).unwrap();
    std::fs::write(dir.join("secrets.wasm"), bytes("secrets")).unwrap();
    h.wait_list_changed(0, "a new plugin directory").await;
    h.wait_log(&["plugin directory was replaced"]).await;
    within(Duration::from_secs(10), "the new directory's plugins", async {
        while h.tools().await.len() != SECRETS_TOOLS {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let seen = h.list_changed();
    std::fs::write(dir.join("clusters.wasm"), bytes("clusters")).unwrap();
    h.wait_list_changed(seen, "a plugin added to the new directory").await;
    assert_eq!(h.tools().await.len(), CLUSTERS_TOOLS + SECRETS_TOOLS);

    // A symlink re-pointed at another version, as `ln -sfn` does: the old directory stays on disk.
    let v2 = parent.join("plugins-v2");
    std::fs::create_dir(&v2).unwrap();
    std::fs::copy(test_plugins::wasm("clusters"), v2.join("clusters.wasm")).unwrap();
    std::fs::rename(dir, parent.join("plugins-v1")).unwrap();
    let seen = h.list_changed();
    symlink(&v2, parent.join("plugins.tmp")).unwrap();
    std::fs::rename(parent.join("plugins.tmp"), dir).unwrap();
    h.wait_list_changed(seen, "the link re-pointed").await;
    within(Duration::from_secs(10), "v2's plugins", async {
        while h.tools().await.len() != CLUSTERS_TOOLS {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    h.ok("list_clusters", json!({})).await;
    // The old directory is no longer watched; the new one is.
    std::fs::write(parent.join("plugins-v1/secrets.wasm"), variant("secrets", 1)).unwrap();
    let seen = h.list_changed();
    std::fs::write(v2.join("secrets.wasm"), bytes("secrets")).unwrap();
    h.wait_list_changed(seen, "a plugin added behind the new link").await;
    assert_eq!(h.tools().await.len(), CLUSTERS_TOOLS + SECRETS_TOOLS);
}
