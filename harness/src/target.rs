//! Machine profiles and fuzz targets: what the models crate registers with the harness.

pub use crate::machine::Builder;
use crate::machine::MachineSpec;
use std::sync::Arc;

/// A profile's option parser: `(key, value)` pairs in, a [`Builder`] or a one-line reason out.
pub type Configure = fn(&[(String, String)]) -> Result<Builder, String>;

/// One `key=value` option a machine profile accepts (QEMU's `-M pc,key=value` or `-device`
/// properties, for `devfuzz list`).
#[derive(Clone, Copy, Debug)]
pub struct ProfileOption {
    /// The key; `hda.fail`-style keys are written as they are typed.
    pub key: &'static str,
    /// What values it takes and what they do.
    pub help: &'static str,
}

/// Why profile options were refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// The profile takes no options.
    #[error("machine '{0}' takes no options")]
    NoOptions(&'static str),
    /// An item is not `key=value`.
    #[error("machine option '{0}' is not key=value")]
    Syntax(String),
    /// An empty item (two commas in a row, a leading or trailing comma).
    #[error("empty machine option in '{0}'")]
    Empty(String),
    /// A key given twice.
    #[error("machine option '{0}' given twice")]
    Duplicate(String),
    /// A key the profile does not know.
    #[error("machine '{profile}' has no option '{key}' (options: {known})")]
    UnknownKey {
        /// The profile.
        profile: &'static str,
        /// The key given.
        key: String,
        /// The keys it has.
        known: String,
    },
    /// The profile refused a value (a bad drive kind, a file that cannot be opened, ...).
    #[error("machine '{profile}': {reason}")]
    Value {
        /// The profile.
        profile: &'static str,
        /// Its explanation.
        reason: String,
    },
}

/// A named machine (QEMU's `-M`): a builder of devices, memory map and PCI topology.
#[derive(Clone, Copy, Debug)]
pub struct MachineProfile {
    /// Name as used by `--machine`.
    pub name: &'static str,
    /// One line for `devfuzz list`.
    pub description: &'static str,
    /// Builds a fresh machine description with the default options.
    pub build: fn() -> MachineSpec,
    /// The options [`MachineProfile::configure`] accepts.
    pub options: &'static [ProfileOption],
    /// Builds a [`Builder`] from `(key, value)` options, every key one of `options`; `None`
    /// when the profile takes no options. Errors are one-line explanations.
    pub configure: Option<Configure>,
}

impl MachineProfile {
    /// The builder for `options`, comma-separated `key=value` items (`disk=none,ram=2`);
    /// empty means the defaults. Values may contain `=` and `:` but not `,`.
    pub fn builder(&self, options: &str) -> Result<Builder, ProfileError> {
        let items = parse_options(options)?;
        if items.is_empty() {
            return Ok(Arc::new(self.build));
        }
        let Some(configure) = self.configure else {
            return Err(ProfileError::NoOptions(self.name));
        };
        for (key, _) in &items {
            if !self.options.iter().any(|o| o.key == key) {
                let known: Vec<&str> = self.options.iter().map(|o| o.key).collect();
                return Err(ProfileError::UnknownKey {
                    profile: self.name,
                    key: key.clone(),
                    known: known.join(", "),
                });
            }
        }
        configure(&items).map_err(|reason| ProfileError::Value {
            profile: self.name,
            reason,
        })
    }
}

/// The profile option that carries a selection of planted bugs (`bugs=id+id`, `bugs=all`): a
/// profile whose devices have planted bugs takes it, so the selection reaches the devices
/// when they are built, like any other option. The ids are opaque to the harness.
pub const BUGS_OPTION: &str = "bugs";

/// `options` with the planted bugs `bugs` (ids separated by `,` or `+`) added as a
/// [`BUGS_OPTION`] item; `options` unchanged when `bugs` is blank.
///
/// ```
/// use harness::target::with_bugs;
/// assert_eq!(with_bugs("hda=none", "a, b"), "hda=none,bugs=a+b");
/// assert_eq!(with_bugs("", "a"), "bugs=a");
/// assert_eq!(with_bugs("hda=none", " "), "hda=none");
/// ```
pub fn with_bugs(options: &str, bugs: &str) -> String {
    let ids: Vec<&str> = bugs
        .split([',', '+'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let mut out = options.trim().to_string();
    if !ids.is_empty() {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(BUGS_OPTION);
        out.push('=');
        out.push_str(&ids.join("+"));
    }
    out
}

/// Split `key=value,key=value` into pairs (surrounding spaces trimmed). An all-blank string
/// is no options; an empty item, a key without a value and a key given twice are refused.
pub fn parse_options(options: &str) -> Result<Vec<(String, String)>, ProfileError> {
    if options.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for item in options.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(ProfileError::Empty(options.to_string()));
        }
        let (k, v) = match item.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => (k.trim(), v.trim()),
            _ => return Err(ProfileError::Syntax(item.to_string())),
        };
        if out.iter().any(|(key, _)| key == k) {
            return Err(ProfileError::Duplicate(k.to_string()));
        }
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

/// A fuzz target: a machine profile plus what the fuzzer may address on it (QEMU's
/// `QEMU_FUZZ_OBJECTS`).
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// Name as used on the command line and by cargo-fuzz.
    pub name: &'static str,
    /// One line for `devfuzz list`.
    pub description: &'static str,
    /// The machine it runs on.
    pub machine: &'static MachineProfile,
    /// Devices whose regions READ/WRITE ops address. `"*"` means every device.
    pub devices: &'static [&'static str],
    /// Of those devices' regions, only these (by region name); empty means all of them.
    pub regions: &'static [&'static str],
    /// Whether 0xCF8/0xCFC are addressable regions and CFG ops reach every PCI function.
    pub pci: bool,
    /// Devices that EVENT ops address.
    pub event_devices: &'static [&'static str],
    /// Map every BAR and enable I/O, memory and bus mastering before the ops run (QEMU
    /// generic-fuzz's `pci_enum`).
    pub pci_enum: bool,
}

impl Target {
    /// Whether READ/WRITE ops may address `device`'s regions.
    pub fn addresses_device(&self, device: &str) -> bool {
        self.devices.iter().any(|d| *d == "*" || *d == device)
    }

    /// The devices this target names (for its ops or events) that a machine built by `build`
    /// lacks: options that replaced them (`net=b` on a target that fuzzes net `a`) would make the
    /// target fuzz something other than it says.
    pub fn missing_devices(&self, build: &Builder) -> Vec<&'static str> {
        let spec = build();
        let names: Vec<&str> = spec.devices.iter().map(|d| d.name()).collect();
        let mut missing: Vec<&'static str> = Vec::new();
        for d in self.devices.iter().chain(self.event_devices) {
            if *d != "*" && !names.contains(d) && !missing.contains(d) {
                missing.push(d);
            }
        }
        missing
    }

    /// Whether READ/WRITE ops may address the region named `region` of `device`.
    pub fn addresses_region(&self, device: &str, region: &str) -> bool {
        self.addresses_device(device) && (self.regions.is_empty() || self.regions.contains(&region))
    }
}

/// Constructors for tables written by hand, in a `static` (a crate outside devfuzz declaring
/// its own machines and targets: see `docs/external-devices.md`).
impl MachineProfile {
    /// A profile with no `key=value` options, built by `build`.
    ///
    /// ```
    /// use harness::machine::MachineSpec;
    /// use harness::target::MachineProfile;
    /// fn board() -> MachineSpec { MachineSpec { ram_size: 1 << 20, ..MachineSpec::default() } }
    /// static BOARD: MachineProfile = MachineProfile::new("board", "1 MiB of RAM", board);
    /// assert_eq!((BOARD.builder("").unwrap())().ram_size, 1 << 20);
    /// assert!(BOARD.builder("ram=2").is_err());
    /// ```
    pub const fn new(
        name: &'static str,
        description: &'static str,
        build: fn() -> MachineSpec,
    ) -> Self {
        Self {
            name,
            description,
            build,
            options: &[],
            configure: None,
        }
    }
}

impl Target {
    /// A target whose READ/WRITE ops address every region of `devices` (`"*"`: of every
    /// device) on `machine`, with no PCI configuration ops, no events and no prologue; the
    /// `with_*` methods add those.
    ///
    /// ```
    /// use harness::target::{MachineProfile, Target};
    /// # fn board() -> harness::machine::MachineSpec { Default::default() }
    /// static BOARD: MachineProfile = MachineProfile::new("board", "", board);
    /// static WIDGET: Target = Target::new("widget", "the widget", &BOARD, &["widget"]).with_events(&["widget"]);
    /// assert!(WIDGET.addresses_device("widget") && !WIDGET.pci);
    /// assert_eq!(WIDGET.event_devices, ["widget"]);
    /// ```
    pub const fn new(
        name: &'static str,
        description: &'static str,
        machine: &'static MachineProfile,
        devices: &'static [&'static str],
    ) -> Self {
        Self {
            name,
            description,
            machine,
            devices,
            regions: &[],
            pci: false,
            event_devices: &[],
            pci_enum: false,
        }
    }

    /// The same target with EVENT ops addressing `devices`.
    pub const fn with_events(mut self, devices: &'static [&'static str]) -> Self {
        self.event_devices = devices;
        self
    }

    /// The same target addressing only the regions named `regions` of its devices.
    pub const fn with_regions(mut self, regions: &'static [&'static str]) -> Self {
        self.regions = regions;
        self
    }

    /// The same target with PCI configuration ops (`pci`) and the `pci_enum` prologue
    /// (every BAR mapped, I/O, memory and bus mastering on) as chosen.
    pub const fn with_pci(mut self, pci: bool, pci_enum: bool) -> Self {
        self.pci = pci;
        self.pci_enum = pci_enum;
        self
    }
}

/// First I/O address the prologue assigns to I/O BARs.
pub const PROLOGUE_IO_BASE: u64 = 0xc000;
/// First memory address the prologue assigns to memory BARs.
pub const PROLOGUE_MEM_BASE: u64 = 0xe000_0000;

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> MachineSpec {
        MachineSpec::default()
    }

    fn sized(items: &[(String, String)]) -> Result<Builder, String> {
        let size: u64 = items
            .iter()
            .find(|(k, _)| k == "ram")
            .map_or(Ok(4096), |(_, v)| {
                v.parse().map_err(|_| format!("ram={v}: not a number"))
            })?;
        Ok(Arc::new(move || MachineSpec {
            ram_size: size,
            ..MachineSpec::default()
        }))
    }

    static PLAIN: MachineProfile = MachineProfile {
        name: "plain",
        description: "",
        build: empty,
        options: &[],
        configure: None,
    };
    static SIZED: MachineProfile = MachineProfile {
        name: "sized",
        description: "",
        build: empty,
        options: &[ProfileOption {
            key: "ram",
            help: "bytes of RAM",
        }],
        configure: Some(sized),
    };

    #[test]
    fn options_are_parsed_checked_and_applied() {
        assert_eq!((SIZED.builder("ram=8192").unwrap())().ram_size, 8192);
        assert_eq!(
            (SIZED.builder(" ").unwrap())().ram_size,
            0,
            "empty: the defaults"
        );
        assert_eq!((PLAIN.builder("").unwrap())().ram_size, 0);
        assert_eq!(
            PLAIN.builder("ram=1").err(),
            Some(ProfileError::NoOptions("plain"))
        );
        assert_eq!(
            SIZED.builder("ram").err(),
            Some(ProfileError::Syntax("ram".into()))
        );
        let unknown = SIZED.builder("rom=1").err().unwrap().to_string();
        assert_eq!(
            unknown,
            "machine 'sized' has no option 'rom' (options: ram)"
        );
        let bad = SIZED.builder("ram=lots").err().unwrap().to_string();
        assert_eq!(bad, "machine 'sized': ram=lots: not a number");
        assert_eq!(
            parse_options("a=1, b=x=y:z ").unwrap(),
            [("a".into(), "1".into()), ("b".into(), "x=y:z".into())]
        );
        // Issue 14 item 12: empty items, empty values and repeated keys are refused.
        for (bad, says) in [
            ("a=1,", "empty machine option in 'a=1,'"),
            ("a=1,,b=2", "empty machine option"),
            (",a=1", "empty machine option"),
            ("a=", "machine option 'a=' is not key=value"),
            ("a=1,a=2", "machine option 'a' given twice"),
        ] {
            let e = parse_options(bad).unwrap_err().to_string();
            assert!(e.starts_with(says), "{bad}: {e}");
        }
    }
}
