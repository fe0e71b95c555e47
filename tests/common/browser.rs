//! Headless Chromium for the report tests: dump the DOM after the page's
//! script ran, print to PDF, take a screenshot. The browser is found as
//! `$TRIAGE_CHROMIUM`, else `chromium`, `chromium-browser`,
//! `google-chrome` on the PATH; `.ci/run` installs Debian's `chromium`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one browser call may take.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The browser to use; the test fails with how to install one.
pub fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("TRIAGE_CHROMIUM").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "the report tests need headless Chromium and none was found: install it \
         (Debian: apt-get update && apt-get install -y chromium) or set TRIAGE_CHROMIUM \
         to the browser's path; .ci/run installs it"
    );
}

/// What one browser call printed.
pub struct Run {
    /// Standard output (the DOM for `--dump-dom`).
    pub stdout: String,
    /// Standard error (browser logs and the page's console lines).
    pub stderr: String,
}

/// Run headless Chromium on `file` (with `fragment`, without the `#`)
/// with `args`, in a profile folder of its own under `work`.
pub fn run(work: &Path, file: &Path, fragment: &str, args: &[&str]) -> Run {
    let profile = tempfile::tempdir_in(work).unwrap();
    let mut url = format!("file://{}", file.canonicalize().unwrap().display());
    if !fragment.is_empty() {
        url.push('#');
        url.push_str(fragment);
    }
    let logs = tempfile::tempdir_in(work).unwrap();
    let out_file = logs.path().join("stdout");
    let err_file = logs.path().join("stderr");
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_file).unwrap())
        .stderr(std::fs::File::create(&err_file).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium().display()));
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let stdout = std::fs::read_to_string(&out_file).unwrap_or_default();
            let stderr = std::fs::read_to_string(&err_file).unwrap_or_default();
            assert!(status.success(), "chromium failed ({status}): {stderr}");
            return Run { stdout, stderr };
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The DOM after the page's script ran.
pub fn dump_dom(work: &Path, file: &Path, fragment: &str) -> Run {
    run(
        work,
        file,
        fragment,
        &["--virtual-time-budget=10000", "--dump-dom"],
    )
}

/// Print the page to `pdf` (no browser header or footer).
pub fn print_pdf(work: &Path, file: &Path, pdf: &Path) -> Run {
    run(
        work,
        file,
        "",
        &[
            "--no-pdf-header-footer",
            "--virtual-time-budget=10000",
            &format!("--print-to-pdf={}", pdf.display()),
        ],
    )
}

/// A screenshot of the page in a `width`×`height` window drawn at
/// `scale` into `png`.
pub fn screenshot(work: &Path, file: &Path, png: &Path, window: (u32, u32), scale: f64) -> Run {
    run(
        work,
        file,
        "",
        &[
            &format!("--window-size={},{}", window.0, window.1),
            &format!("--force-device-scale-factor={scale}"),
            "--virtual-time-budget=10000",
            &format!("--screenshot={}", png.display()),
        ],
    )
}

/// The page's console lines in the browser's log.
pub fn console_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

/// The `MediaBox` sizes of a PDF's pages, in points.
pub fn media_boxes(pdf: &[u8]) -> Vec<(f64, f64)> {
    let text = String::from_utf8_lossy(pdf);
    let mut out = Vec::new();
    let mut rest = text.as_ref();
    while let Some(at) = rest.find("/MediaBox") {
        rest = &rest[at + "/MediaBox".len()..];
        let Some(open) = rest.find('[') else { break };
        let Some(close) = rest.find(']') else { break };
        let nums: Vec<f64> = rest[open + 1..close]
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        if let [x0, y0, x1, y1] = nums[..] {
            out.push((x1 - x0, y1 - y0));
        }
    }
    out
}
