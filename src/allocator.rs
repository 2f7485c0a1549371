//! How the C allocator holds memory. glibc's defaults suit a server with many busy threads,
//! not a console that lists thousands of namespaces once, in pages of a few megabytes, and
//! then idles: each runtime thread gets an arena of its own that keeps what it freed, and
//! the threshold above which a block is mapped apart (and given back when freed) climbs to
//! the size of the largest page freed, so later pages land in the arenas and stay there.
//! Held to one arena, a fixed mapping threshold and a trim threshold to match, the live
//! console's peak RSS with 10,000 previews falls by about a fifth (docs/architecture.md,
//! "Performance").

/// Blocks at least this big are mapped apart and given back to the system when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MAPPED_FROM: libc::c_int = 128 * 1024;

/// Set the allocator up; call it first thing in `main`, before any thread starts.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets allocator parameters; called before any other thread
    // exists, so no allocation runs concurrently with it. A refused setting keeps glibc's
    // default, which is only slower to give memory back.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, MAPPED_FROM);
        libc::mallopt(libc::M_TRIM_THRESHOLD, MAPPED_FROM);
    }
}
