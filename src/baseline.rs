//! `devfuzz bench --baseline REV`: a checkout of another revision to build and measure next to
//! this tree.
//!
//! The checkout is a detached git worktree under `target/baseline/<commit>/` of this tree; it is
//! kept between runs (its `fuzz/target/` too), so measuring against the same revision again
//! builds nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A revision checked out next to this tree.
#[derive(Clone, Debug)]
pub struct Baseline {
    /// The revision as given (`main`, `HEAD~3`, a commit id).
    pub rev: String,
    /// Its full commit id.
    pub commit: String,
    /// The worktree's root.
    pub dir: PathBuf,
}

impl Baseline {
    /// A short name for tables: the revision and its abbreviated commit.
    pub fn label(&self) -> String {
        let short = &self.commit[..self.commit.len().min(10)];
        if self.rev == self.commit || self.commit.starts_with(&self.rev) {
            format!("base@{short}")
        } else {
            format!("base {}@{short}", self.rev)
        }
    }
}

/// Run `git` with `args` in `dir`; its trimmed stdout, or what it said on failure.
fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The commit `rev` names in the repository of `root`.
pub fn resolve(root: &Path, rev: &str) -> Result<String, String> {
    if rev.starts_with('-') {
        return Err(format!("'{rev}' is not a revision"));
    }
    git(
        root,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .map_err(|_| format!("'{rev}' names no commit in {}", root.display()))
}

/// This tree's commit for the records of a run: its abbreviated id, `with uncommitted changes`
/// when the work tree differs from it (but for `bench/`, which runs write), or
/// `an unknown commit` outside git.
pub fn describe_head(root: &Path) -> String {
    let Ok(commit) = git(root, &["rev-parse", "--short=10", "HEAD"]) else {
        return "an unknown commit".into();
    };
    let status = [
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        ".",
        ":(exclude)bench",
    ];
    match git(root, &status) {
        Ok(changes) if changes.is_empty() => commit,
        _ => format!("{commit} with uncommitted changes"),
    }
}

/// Check out `rev` as a detached worktree under `root/target/baseline/<commit>`, or reuse the
/// one there.
pub fn worktree(root: &Path, rev: &str) -> Result<Baseline, String> {
    let commit = resolve(root, rev)?;
    let dir = root
        .join("target/baseline")
        .join(&commit[..commit.len().min(12)]);
    if dir.join(".git").exists() {
        let head = git(&dir, &["rev-parse", "HEAD"])?;
        if head != commit {
            git(&dir, &["checkout", "--detach", "--force", &commit])?;
        }
    } else {
        // A worktree folder deleted by hand leaves git's record of it behind.
        git(root, &["worktree", "prune"])?;
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        let dir_arg = dir.display().to_string();
        git(root, &["worktree", "add", "--detach", &dir_arg, &commit])?;
    }
    Ok(Baseline {
        rev: rev.to_string(),
        commit,
        dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_repo(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("devfuzz-baseline-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for args in [
            &["init", "-q"][..],
            &["config", "user.email", "t@example.invalid"],
            &["config", "user.name", "t"],
        ] {
            git(&dir, args).unwrap();
        }
        dir
    }

    fn commit(dir: &Path, text: &str) -> String {
        std::fs::write(dir.join("file.txt"), text).unwrap();
        git(dir, &["add", "file.txt"]).unwrap();
        git(dir, &["commit", "-q", "-m", text]).unwrap();
        git(dir, &["rev-parse", "HEAD"]).unwrap()
    }

    #[test]
    fn a_revision_is_checked_out_beside_the_tree_and_reused() {
        let repo = scratch_repo("reuse");
        let first = commit(&repo, "one");
        commit(&repo, "two");
        let b = worktree(&repo, "HEAD~1").unwrap();
        assert_eq!(b.commit, first);
        assert!(b.dir.starts_with(repo.join("target/baseline")));
        assert_eq!(
            std::fs::read_to_string(b.dir.join("file.txt")).unwrap(),
            "one"
        );
        assert_eq!(b.label(), format!("base HEAD~1@{}", &first[..10]));
        // Again: the same folder, nothing checked out anew.
        std::fs::write(b.dir.join("built"), "").unwrap();
        let again = worktree(&repo, &first).unwrap();
        assert_eq!(again.dir, b.dir);
        assert!(again.dir.join("built").exists());
        assert_eq!(again.label(), format!("base@{}", &first[..10]));
        // Removed by hand: made again.
        std::fs::remove_dir_all(&b.dir).unwrap();
        let remade = worktree(&repo, "HEAD~1").unwrap();
        assert!(remade.dir.join("file.txt").is_file());
        let _ = std::fs::remove_dir_all(&repo);
    }

    #[test]
    fn the_head_is_described_with_its_changes() {
        let repo = scratch_repo("head");
        assert_eq!(describe_head(&repo), "an unknown commit");
        let first = commit(&repo, "one");
        assert_eq!(describe_head(&repo), first[..10]);
        // What bench runs write is no change of the code measured.
        std::fs::create_dir_all(repo.join("bench")).unwrap();
        std::fs::write(repo.join("bench/results.md"), "one").unwrap();
        git(&repo, &["add", "bench/results.md"]).unwrap();
        git(&repo, &["commit", "-q", "-m", "results"]).unwrap();
        std::fs::write(repo.join("bench/results.md"), "two").unwrap();
        let second = git(&repo, &["rev-parse", "HEAD"]).unwrap();
        assert_eq!(describe_head(&repo), second[..10]);
        std::fs::write(repo.join("file.txt"), "changed").unwrap();
        assert_eq!(
            describe_head(&repo),
            format!("{} with uncommitted changes", &second[..10])
        );
        let _ = std::fs::remove_dir_all(&repo);
    }

    #[test]
    fn a_name_that_is_no_commit_is_refused() {
        let repo = scratch_repo("refuse");
        commit(&repo, "one");
        assert!(worktree(&repo, "no-such-branch").is_err());
        assert!(worktree(&repo, "--help").is_err());
        let _ = std::fs::remove_dir_all(&repo);
    }
}
