// The load step allocates from many threads at once; glibc's per-thread arenas grow with
// an `mprotect` call per step, which cost more than the parsing itself in profiles.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    preflight::cli::main()
}
