//! `--trace GLOB[,GLOB...]`: QEMU-style trace events on stderr, selected by event name.

use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Whether `name` matches `pattern` (`*` any run, `?` any one character).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0usize, 0usize, None, 0usize);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Install a subscriber printing events whose name (tracing target) matches one of `globs`.
/// Without a call to this, events cost one relaxed load each and are never formatted.
pub fn enable(globs: &str) {
    let patterns: Vec<String> = globs
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let layer = tracing_subscriber::fmt::layer()
        .without_time()
        .with_level(false)
        .with_target(true)
        .with_writer(std::io::stderr)
        .with_filter(tracing_subscriber::filter::filter_fn(move |meta| {
            patterns.iter().any(|p| glob_match(p, meta.target()))
        }));
    tracing_subscriber::registry().with(layer).init();
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs_select_event_names() {
        assert!(glob_match("ps2_*", "ps2_put_keycode"));
        assert!(glob_match("*", "pci_cfg_read"));
        assert!(glob_match("pci_cfg_?ead", "pci_cfg_read"));
        assert!(glob_match("*_write", "pci_cfg_write"));
        assert!(!glob_match("ps2_*", "pckbd_kbd_read_data"));
        assert!(!glob_match("pci_cfg_read", "pci_cfg_read_x"));
    }
}
