//! Files the commands write (`convert`, `minimize`): never over their own input, named for
//! the form they hold, and only regular files.

use crate::error::UsageError;
use std::io::Write as _;
use std::path::Path;

/// Refuse `output` when it is `input` (the same path, or another name of the same file):
/// writing would destroy the input before it is fully used, or after, silently.
pub fn refuse_overwriting(input: &Path, output: &Path) -> Result<(), UsageError> {
    harness::file::refuse_overwriting(input, output).map_err(|e| UsageError(e.to_string()))
}

/// Refuse an output name that would make `replay` read the file as the other form: text
/// must be named `*.qtest`, a binary input must not be.
pub fn check_form_name(output: &Path, text: bool) -> Result<(), UsageError> {
    match (text, crate::input_file::is_text_name(output)) {
        (true, false) => Err(UsageError(format!(
            "{}: the output is a qtest text trace; name it *.qtest (other names replay as binary input)",
            output.display()
        ))),
        (false, true) => Err(UsageError(format!(
            "{}: the output is a binary input; a .qtest name would replay it as text (choose another -o)",
            output.display()
        ))),
        _ => Ok(()),
    }
}

/// Create or replace the regular file `path` with `data`.
pub fn write(path: &Path, data: &[u8]) -> Result<(), UsageError> {
    let cannot = |e: String| UsageError(format!("cannot write {e}"));
    harness::file::create_regular(path)
        .map_err(|e| cannot(e.to_string()))?
        .write_all(data)
        .map_err(|e| cannot(format!("{}: {e}", path.display())))
}
