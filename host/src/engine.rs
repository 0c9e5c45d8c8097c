//! The one wasmtime engine and the linker every plugin is instantiated with.
//!
//! 1. One Cranelift `Engine` with the component model, epoch interruption and the pooling
//!    allocator, so a fresh instance per call costs microseconds. A second, Winch (baseline)
//!    engine is made when a plugin has never been compiled: Winch compiles it about ten times
//!    faster, so a new plugin serves within a fraction of a second, and Cranelift's code
//!    replaces it in the background ([`Runtime::upgrade_later`]).
//! 2. A ticker advances the epoch every [`TICK`]; a running plugin yields to the async runtime at
//!    each tick, so a busy loop neither blocks other calls nor outlives its deadline.
//! 3. Compiled components are stored on disk keyed by the module's sha256 and the engine's
//!    settings ([`Artifacts`]), so a restart maps them instead of compiling.
//! 4. The linker holds WASI with nothing granted plus the contract's `workspace` and `host`
//!    imports; nothing else is linkable.

use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use tokio_util::task::TaskTracker;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::artifacts::Artifacts;
use crate::bindings::ToolPack;
use crate::call::CallState;

/// Decommits of freed instance slots sent to the kernel together (see `Runtime::new`).
const DECOMMIT_BATCH: usize = 16;
/// Bytes of each freed table cleared in place instead of decommitted.
const TABLE_KEEP_RESIDENT: usize = 64 * 1024;
/// Bytes of the pages a call wrote in a linear memory that are put back in place (zeroed, or
/// copied from the module's image) when the kernel can list the written pages, and stay
/// resident for the slot's next call; pages past this are decommitted. As much as a first-party
/// plugin starts with (`.cargo/config.toml`), which a typical call does not fill: resident size
/// grows by at most this much per slot (80 MiB with the default 40 slots), in practice by what
/// calls write (a few MiB under load).
const MEMORY_KEEP_RESIDENT: usize = 2 << 20;

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
    /// Start never-compiled plugins on baseline (Winch) code and optimise them in the
    /// background: for a server. One-shot commands compile with Cranelift and store the result,
    /// so the server they prepare for starts warm.
    pub tiered: bool,
}

/// One compiler's engine and the linker that instantiates its code, with its epoch ticker.
pub struct Tier {
    pub engine: Engine,
    pub linker: Linker<CallState>,
    /// Which compiler made the code this tier runs.
    pub kind: TierKind,
    _ticker: Ticker,
}

/// Which compiler a tier uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierKind {
    /// Winch, wasmtime's baseline compiler: about ten times faster to compile, slower code.
    /// Plugins never compiled before start on it while Cranelift works in the background.
    Baseline,
    /// Cranelift, the optimising compiler: the code every plugin ends up running.
    Optimized,
}

impl std::fmt::Debug for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tier").field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl Tier {
    fn new(config: &Config, kind: TierKind) -> anyhow::Result<Self> {
        let engine = Engine::new(config).map_err(anyhow::Error::from).context("creating the wasm engine")?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
        ToolPack::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |state| state)
            .map_err(anyhow::Error::from)?;
        let ticker = Ticker::start(engine.clone());
        Ok(Self { engine, linker, kind, _ticker: ticker })
    }
}

/// A plugin's compiled component and the tier that runs it.
#[derive(Debug)]
pub struct Compiled {
    pub component: Component,
    pub tier: Arc<Tier>,
    /// Whether the code came from the compiled-plugin store rather than a compiler.
    pub stored: bool,
}

/// The engines, linkers and compiled-plugin store, shared by every plugin.
pub struct Runtime {
    /// Cranelift: what plugins run once compiled (and what the store holds).
    pub optimized: Arc<Tier>,
    /// Winch, made on first need (most starts find every plugin in the store and never do);
    /// `None` inside when this machine has no Winch backend.
    baseline: OnceLock<Option<Arc<Tier>>>,
    /// Settings the baseline engine is made with.
    baseline_config: Config,
    /// Where compiled plugins are kept between runs; `None` when the cache is off.
    pub artifacts: Option<Artifacts>,
    /// See [`EngineOptions::tiered`].
    pub tiered: bool,
    /// Cranelift compilations waiting to replace baseline code, done one at a time on a thread
    /// of their own so they never hold up serving or the exit.
    upgrades: Mutex<Option<std::sync::mpsc::Sender<Upgrade>>>,
    /// Loads in progress ([`Runtime::foreground`]); the optimizing thread waits for none.
    loading: Arc<(Mutex<usize>, Condvar)>,
    /// Work that outlives a call (compensations); drained before the process exits.
    pub tasks: TaskTracker,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

/// Compile `bytes` with Cranelift, then hand the result to `done` (unless the plugin is gone).
pub struct Upgrade {
    pub name: String,
    pub digest: String,
    pub bytes: Vec<u8>,
    /// Whether the plugin still wants the result; checked before compiling.
    pub wanted: Box<dyn Fn() -> bool + Send>,
    pub done: Box<dyn FnOnce(Component) + Send>,
}

impl Runtime {
    pub fn new(options: &EngineOptions) -> anyhow::Result<Arc<Self>> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.parallel_compilation(true);
        // The baseline engine shares every setting that changes what a plugin may do (epochs,
        // memory limits through the store's limiter) but allocates instances on demand: it
        // only runs plugins until their optimised code is ready.
        let mut baseline_config = config.clone();
        baseline_config.strategy(wasmtime::Strategy::Winch);

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
        // A freed memory must be back to the module's image before its slot serves another call
        // (another user's, in per-user mode). Decommitting it (madvise) costs a system call that
        // flushes the TLB of every core running the process, and then a page fault for each page
        // the next call touches: about a tenth of a call's CPU. Where the kernel has
        // `PAGEMAP_SCAN` (Linux 6.7), wasmtime resets just the pages the call wrote, in place,
        // and keeps them: measured on `get_cluster` over HTTP, 12% less CPU per call. Without
        // it, keeping pages would mean clearing the whole memory each time, which costs more
        // than the faults: memories are decommitted, in batches (a slot waits in the queue
        // until a batch is full; an allocation that finds no free slot flushes the queue).
        // Tables are a few KiB: clearing them in place is cheaper than a system call.
        pooling.decommit_batch_size(DECOMMIT_BATCH);
        pooling.table_keep_resident(TABLE_KEEP_RESIDENT);
        let mut in_place = pooling.clone();
        in_place.pagemap_scan(wasmtime::Enabled::Yes);
        in_place.linear_memory_keep_resident(MEMORY_KEEP_RESIDENT);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(in_place));
        // An engine that asks for PAGEMAP_SCAN fails to start where the kernel lacks it (or a
        // sandbox refuses it): then memories are decommitted.
        let optimized = match Tier::new(&config, TierKind::Optimized) {
            Ok(tier) => Arc::new(tier),
            Err(e) => {
                tracing::debug!("freed plugin memories are decommitted (no PAGEMAP_SCAN here): {e:#}");
                config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
                Arc::new(Tier::new(&config, TierKind::Optimized)?)
            }
        };
        let artifacts = options.cache_dir.as_ref().and_then(|dir| match Artifacts::open(dir, &optimized.engine) {
            Ok(artifacts) => Some(artifacts),
            // A cache is an optimisation: serve without it rather than not at all.
            Err(e) => {
                tracing::warn!(dir = %dir.display(), "compiled-plugin cache disabled: {e:#}");
                None
            }
        });
        Ok(Arc::new(Self {
            optimized,
            baseline: OnceLock::new(),
            baseline_config,
            artifacts,
            tiered: options.tiered,
            upgrades: Mutex::new(None),
            loading: Arc::default(),
            tasks: TaskTracker::new(),
        }))
    }

    fn baseline(&self) -> Option<&Arc<Tier>> {
        self.baseline
            .get_or_init(|| match Tier::new(&self.baseline_config, TierKind::Baseline) {
                Ok(tier) => Some(Arc::new(tier)),
                Err(e) => {
                    tracing::info!("no baseline compiler on this machine; new plugins compile with Cranelift: {e:#}");
                    None
                }
            })
            .as_ref()
    }

    /// The code for `bytes` (hex sha256 `digest`), as fast as it can be had: Cranelift's from
    /// the store; else Winch's, when `baseline` allows and Winch can compile it (the caller
    /// then asks for an [`Upgrade`]); else Cranelift's, compiled now and stored. Blocking.
    pub fn compile(&self, digest: &str, bytes: &[u8], baseline: bool) -> wasmtime::Result<Compiled> {
        let optimized = |component, stored| Compiled { component, tier: self.optimized.clone(), stored };
        if let Some(component) = self.artifacts.as_ref().and_then(|a| a.load(&self.optimized.engine, digest)) {
            return Ok(optimized(component, true));
        }
        if baseline && let Some(tier) = self.baseline() {
            match Component::new(&tier.engine, bytes) {
                Ok(component) => return Ok(Compiled { component, tier: tier.clone(), stored: false }),
                // Winch does not implement every instruction Cranelift does: fall through.
                Err(e) => tracing::debug!("the baseline compiler declined ({e}); compiling with Cranelift"),
            }
        }
        self.compile_optimized(digest, bytes).map(|c| optimized(c, false))
    }

    /// Compile with Cranelift, storing the result when the cache is on. Blocking.
    fn compile_optimized(&self, digest: &str, bytes: &[u8]) -> wasmtime::Result<Component> {
        match &self.artifacts {
            Some(artifacts) => artifacts.compile(&self.optimized.engine, digest, bytes),
            None => Component::new(&self.optimized.engine, bytes),
        }
    }

    /// Queue `upgrade`: compile with Cranelift (storing the result) on the upgrade thread.
    pub fn upgrade_later(self: &Arc<Self>, upgrade: Upgrade) {
        let mut sender = self.upgrades.lock().unwrap_or_else(|e| e.into_inner());
        let upgrade = match sender.as_ref() {
            Some(tx) => match tx.send(upgrade) {
                Ok(()) => return,
                // The thread is gone: start another.
                Err(std::sync::mpsc::SendError(upgrade)) => upgrade,
            },
            None => upgrade,
        };
        let (tx, rx) = std::sync::mpsc::channel::<Upgrade>();
        // The thread holds only a weak reference: it ends with the runtime, and the process
        // never waits for it at exit.
        let runtime = Arc::downgrade(self);
        let spawned = std::thread::Builder::new().name("optimize-plugins".into()).spawn(move || {
            while let Ok(job) = rx.recv() {
                let Some(runtime) = runtime.upgrade() else { break };
                // Loads come first: the cores are theirs while one runs.
                runtime.wait_for_loads();
                if !(job.wanted)() {
                    continue;
                }
                let started = std::time::Instant::now();
                match runtime.compile_optimized(&job.digest, &job.bytes) {
                    Ok(component) => {
                        tracing::debug!(plugin = %job.name, ms = started.elapsed().as_millis() as u64, "optimized code compiled");
                        (job.done)(component);
                    }
                    Err(e) => tracing::warn!(plugin = %job.name, "Cranelift could not compile the plugin; it keeps running baseline code: {e}"),
                }
            }
        });
        match spawned {
            Ok(_) => {
                let _ = tx.send(upgrade);
                *sender = Some(tx);
            }
            Err(e) => tracing::warn!("could not start the optimizing thread; plugins keep their baseline code: {e}"),
        }
    }

    /// Mark a load in progress until the guard is dropped: background optimisation waits, so
    /// plugins being loaded (at start-up, on reload) have the cores.
    pub fn foreground(&self) -> Foreground {
        *self.loading.0.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        Foreground(self.loading.clone())
    }

    fn wait_for_loads(&self) {
        let (count, idle) = &*self.loading;
        let mut count = count.lock().unwrap_or_else(|e| e.into_inner());
        while *count > 0 {
            count = idle.wait(count).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Wait up to `limit` for background work such as compensations to finish.
    pub async fn drain(&self, limit: Duration) {
        self.tasks.close();
        if tokio::time::timeout(limit, self.tasks.wait()).await.is_err() {
            tracing::warn!("{} background tasks (compensations) still running at exit", self.tasks.len());
        }
    }
}

/// A load in progress; see [`Runtime::foreground`].
#[derive(Debug)]
pub struct Foreground(Arc<(Mutex<usize>, Condvar)>);

impl Drop for Foreground {
    fn drop(&mut self) {
        let (count, idle) = &*self.0;
        let mut count = count.lock().unwrap_or_else(|e| e.into_inner());
        *count = count.saturating_sub(1);
        if *count == 0 {
            idle.notify_all();
        }
    }
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
