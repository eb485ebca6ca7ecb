//! Helpers shared by integration tests.
#![allow(dead_code)]

pub mod dkim;
pub mod rig;

/// Sends `signal` ("INT", "TERM", …) to process `pid` with kill(1), as a user or a service
/// manager would stop hailer.
pub fn signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}
