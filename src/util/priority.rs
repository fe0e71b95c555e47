//! Background work: a thread whose work is not on the run's critical
//! path (writing the history store while the lists are written) asks the
//! system to run it only when a processor would otherwise be idle, so the
//! work everyone waits for finishes first.

/// Lower the calling thread's scheduling priority to the lowest normal
/// one (nice 19). On Linux the nice value belongs to the thread, so the
/// rest of the process keeps its own; elsewhere this does nothing. A
/// failure is ignored: the thread then runs at its usual priority.
pub fn background() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no arguments and cannot fail; setpriority
        // reads only its integer arguments.
        unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19);
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn only_the_calling_thread_is_lowered() {
        let nice = || {
            // SAFETY: as above; getpriority reads its integer arguments.
            unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
        };
        let before = nice();
        let lowered = std::thread::spawn(move || {
            super::background();
            nice()
        })
        .join()
        .unwrap_or(before);
        assert_eq!(lowered, 19);
        assert_eq!(nice(), before, "the calling thread keeps its priority");
    }
}
