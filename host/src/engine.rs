//! The one wasmtime engine and the linker every plugin is instantiated with.
//!
//! 1. One `Engine` with the component model, epoch interruption and the pooling allocator, so a
//!    fresh instance per call costs microseconds.
//! 2. A ticker advances the epoch every [`TICK`]; a running plugin yields to the async runtime at
//!    each tick, so a busy loop neither blocks other calls nor outlives its deadline.
//! 3. Compiled components are cached on disk keyed by the module bytes and engine settings
//!    (wasmtime's cache), so a restart does not recompile.
//! 4. The linker holds WASI with nothing granted plus the contract's `workspace` and `host`
//!    imports; nothing else is linkable.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio_util::task::TaskTracker;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Cache, CacheConfig, Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::ToolPack;
use crate::call::CallState;

/// How often the epoch advances.
pub const TICK: Duration = Duration::from_millis(10);

/// Engine settings the operator controls.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Instances that can exist at once (running calls plus manifest reads).
    pub slots: u32,
    /// The largest linear memory any plugin may have.
    pub max_memory_bytes: usize,
    /// Where to cache compiled components; `None` disables the cache.
    pub cache_dir: Option<std::path::PathBuf>,
}

/// The engine, linker and epoch ticker, shared by every plugin.
pub struct Runtime {
    pub engine: Engine,
    pub linker: Linker<CallState>,
    /// Work that outlives a call (compensations); drained before the process exits.
    pub tasks: TaskTracker,
    _ticker: Ticker,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

impl Runtime {
    pub fn new(options: &EngineOptions) -> anyhow::Result<Arc<Self>> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.parallel_compilation(true);

        let mut pooling = PoolingAllocationConfig::default();
        pooling.total_component_instances(options.slots);
        // A Rust wasip2 component holds a handful of core modules (the program, the WASI
        // adapter and its shims), each with its own tables and sometimes memory.
        pooling.max_core_instances_per_component(32);
        pooling.total_core_instances(options.slots * 16);
        pooling.max_memories_per_component(4);
        pooling.total_memories(options.slots * 4);
        pooling.max_tables_per_component(8);
        pooling.total_tables(options.slots * 8);
        pooling.total_stacks(options.slots);
        pooling.max_memory_size(options.max_memory_bytes);
        // Measured: letting wasmtime decommit a used memory (madvise) is cheaper per call than
        // keeping its pages resident and clearing them (`linear_memory_keep_resident`).
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));

        if let Some(dir) = &options.cache_dir {
            match open_cache(dir) {
                Ok(cache) => {
                    config.cache(Some(cache));
                }
                // A cache is an optimisation: serve without it rather than not at all.
                Err(e) => tracing::warn!(dir = %dir.display(), "compiled-plugin cache disabled: {e:#}"),
            }
        }

        let engine = Engine::new(&config).map_err(anyhow::Error::from).context("creating the wasm engine")?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
        ToolPack::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |state| state)
            .map_err(anyhow::Error::from)?;
        let ticker = Ticker::start(engine.clone());
        Ok(Arc::new(Self { engine, linker, tasks: TaskTracker::new(), _ticker: ticker }))
    }

    /// Wait up to `limit` for background work such as compensations to finish.
    pub async fn drain(&self, limit: Duration) {
        self.tasks.close();
        if tokio::time::timeout(limit, self.tasks.wait()).await.is_err() {
            tracing::warn!("{} background tasks (compensations) still running at exit", self.tasks.len());
        }
    }
}

fn open_cache(dir: &Path) -> anyhow::Result<Cache> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // wasmtime's cache misses on every lookup with a relative directory (as from
    // `XDG_CACHE_HOME=.cache`), silently recompiling: give it an absolute one.
    let dir = std::path::absolute(dir).with_context(|| format!("resolving {}", dir.display()))?;
    let mut config = CacheConfig::new();
    config.with_directory(&dir);
    Cache::new(config).map_err(anyhow::Error::from)
}

/// Advances the engine's epoch on a plain thread (not a tokio task, so it keeps ticking even
/// when every runtime worker is busy running guests), until dropped.
struct Ticker {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Ticker {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let spawned = std::thread::Builder::new().name("epoch-ticker".into()).spawn(move || {
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(TICK);
                engine.increment_epoch();
            }
        });
        if let Err(e) = spawned {
            tracing::error!("could not start the epoch ticker; deadlines will not interrupt busy plugins: {e}");
        }
        Self { stop }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
