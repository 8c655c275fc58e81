//! `--trace GLOB[,GLOB...]`: QEMU-style trace events on stderr, selected by event name.

use globset::{Glob, GlobSet, GlobSetBuilder};
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The event names `--trace` selects: comma-separated globs (`*` any run, `?` any one
/// character, `[...]` a class). A glob that does not parse is a usage error.
#[derive(Clone, Debug)]
pub struct Filter(GlobSet);

impl std::str::FromStr for Filter {
    type Err = String;

    fn from_str(globs: &str) -> Result<Self, String> {
        let mut set = GlobSetBuilder::new();
        for pattern in globs.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            set.add(Glob::new(pattern).map_err(|e| e.to_string())?);
        }
        set.build().map(Filter).map_err(|e| e.to_string())
    }
}

impl Filter {
    /// Whether the event `name` is selected.
    pub fn matches(&self, name: &str) -> bool {
        self.0.is_match(name)
    }
}

/// Install a subscriber printing events whose name (tracing target) `filter` selects.
/// Without a call to this, events cost one relaxed load each and are never formatted.
pub fn enable(filter: Filter) {
    let layer = tracing_subscriber::fmt::layer()
        .without_time()
        .with_level(false)
        .with_target(true)
        .with_writer(std::io::stderr)
        .with_filter(tracing_subscriber::filter::filter_fn(move |meta| {
            filter.matches(meta.target())
        }));
    tracing_subscriber::registry().with(layer).init();
}

#[cfg(test)]
mod tests {
    use super::Filter;

    fn matches(globs: &str, name: &str) -> bool {
        globs.parse::<Filter>().unwrap().matches(name)
    }

    #[test]
    fn globs_select_event_names() {
        assert!(matches("ps2_*", "ps2_put_keycode"));
        assert!(matches("*", "pci_cfg_read"));
        assert!(matches("pci_cfg_?ead", "pci_cfg_read"));
        assert!(matches("*_write", "pci_cfg_write"));
        assert!(!matches("ps2_*", "pckbd_kbd_read_data"));
        assert!(!matches("pci_cfg_read", "pci_cfg_read_x"));
        assert!(matches("pckbd_*, ps2_*", "ps2_put_keycode"));
        assert!(!matches("", "ps2_put_keycode"));
        assert!("ps2_[".parse::<Filter>().is_err());
    }
}
