//! What a `no_std` wasm needs from us: an allocator and a panic handler.
//!
//! The panic handler traps at once without formatting anything: the message and its source
//! location are never read, so the build can drop them (no build-machine paths ship). A trap
//! kills the instance; the glue then rejects the calls in flight and starts a fresh one. The core
//! is written so that it never panics in use.

use lol_alloc::{AssumeSingleThreaded, FreeListAllocator};

// SAFETY: wasm32-unknown-unknown without the atomics feature runs a single thread.
#[global_allocator]
static ALLOCATOR: AssumeSingleThreaded<FreeListAllocator> = unsafe { AssumeSingleThreaded::new(FreeListAllocator::new()) };

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
