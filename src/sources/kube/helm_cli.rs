//! Rolling a release back through the `helm` CLI: an argument vector, never a shell string,
//! so nothing in a release name, a context or a reason is ever interpreted.
//!
//! Before the first rollback the binary is asked what it is (`helm version --short`), and
//! `--description` is passed only to Helm 4 or later whose `rollback --help` lists it:
//! Helm 3's rollback rejects the flag, and a rejected flag at 3 a.m. is a rollback that did
//! not happen. Output is captured for the log; a non-zero exit is a rejection carrying
//! helm's stderr.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;
use tokio::sync::OnceCell;

use crate::sources::SourceError;

/// How long helm may wait for the rolled-back resources to be ready (`--timeout`).
pub const ROLLBACK_TIMEOUT: &str = "5m";
/// How long captain waits for helm itself: its own timeout plus time to write the release.
const ROLLBACK_DEADLINE: Duration = Duration::from_secs(6 * 60);
/// How long a `helm version` or `--help` may take.
const QUERY_DEADLINE: Duration = Duration::from_secs(30);

/// A Helm version, from `helm version --short` (`v3.14.2+gc309b6f`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HelmVersion {
    pub major: u32,
    pub minor: u32,
}

impl HelmVersion {
    pub fn parse(short: &str) -> Option<Self> {
        let text = short.trim();
        let text = text
            .strip_prefix("version.BuildInfo{Version:\"")
            .unwrap_or(text);
        let text = text.strip_prefix('v').unwrap_or(text);
        let mut parts = text.split(|c: char| !c.is_ascii_digit());
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
        Some(Self { major, minor })
    }
}

/// One rollback, as the console asks for it.
#[derive(Debug, Clone)]
pub struct Rollback<'a> {
    pub release: &'a str,
    pub namespace: &'a str,
    pub revision: u32,
    /// The kubeconfig context captain reads (`--kube-context`).
    pub context: Option<&'a str>,
    /// An explicitly named kubeconfig file (`--kubeconfig`).
    pub kubeconfig: Option<&'a Path>,
    /// Why, for the release's history (`--description`, Helm 4 and later only).
    pub description: Option<&'a str>,
}

/// The arguments of `helm rollback` (without the binary); `--description` only when the
/// binary takes it.
pub fn rollback_args(r: &Rollback<'_>, takes_description: bool) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "rollback".into(),
        r.release.into(),
        r.revision.to_string().into(),
        "--namespace".into(),
        r.namespace.into(),
    ];
    if let Some(context) = r.context {
        args.extend(["--kube-context".into(), context.into()]);
    }
    if let Some(path) = r.kubeconfig {
        args.extend(["--kubeconfig".into(), path.as_os_str().to_owned()]);
    }
    args.extend(["--wait".into(), "--timeout".into(), ROLLBACK_TIMEOUT.into()]);
    if let Some(reason) = r.description.filter(|_| takes_description) {
        args.extend(["--description".into(), reason.into()]);
    }
    args
}

/// The `helm` binary.
#[derive(Debug)]
pub struct HelmCli {
    binary: PathBuf,
    takes_description: OnceCell<bool>,
}

impl Default for HelmCli {
    fn default() -> Self {
        Self::new("helm")
    }
}

impl HelmCli {
    /// `binary` is a path, or a name looked up on `$PATH` (`helm`).
    pub fn new(binary: impl Into<PathBuf>) -> Self {
        Self {
            binary: binary.into(),
            takes_description: OnceCell::new(),
        }
    }

    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// `helm version --short`, parsed.
    pub async fn version(&self) -> Result<HelmVersion, SourceError> {
        let out = self
            .run(&["version".into(), "--short".into()], QUERY_DEADLINE)
            .await?;
        HelmVersion::parse(&out).ok_or_else(|| {
            SourceError::Rejected(format!("helm version --short said {:?}", out.trim()))
        })
    }

    /// Whether `helm rollback` accepts `--description`: Helm 4 or later, and its help says
    /// so. Asked once; when helm cannot say, the answer is no (the rollback works without).
    pub async fn takes_description(&self) -> bool {
        *self
            .takes_description
            .get_or_init(|| async {
                match self.version().await {
                    Ok(v) if v.major >= 4 => {
                        let help = self
                            .run(&["rollback".into(), "--help".into()], QUERY_DEADLINE)
                            .await;
                        help.is_ok_and(|h| h.contains("--description"))
                    }
                    Ok(_) => false,
                    Err(e) => {
                        log::warn!("helm: cannot tell its version ({e}); rolling back without --description");
                        false
                    }
                }
            })
            .await
    }

    /// Run the rollback and wait for it; returns what helm printed.
    pub async fn rollback(&self, r: &Rollback<'_>) -> Result<String, SourceError> {
        let args = rollback_args(r, self.takes_description().await);
        self.run(&args, ROLLBACK_DEADLINE).await
    }

    async fn run(&self, args: &[OsString], deadline: Duration) -> Result<String, SourceError> {
        let shown = format!(
            "{} {}",
            self.binary.display(),
            args.iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        );
        let _waiting = crate::sources::deadline::wait_on(format!(
            "helm {}",
            args.first()
                .map(|a| a.to_string_lossy())
                .unwrap_or_default()
        ));
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        bound_to_captain(&mut command);
        let child = command
            .spawn()
            .map_err(|e| SourceError::Rejected(format!("cannot run {shown}: {e}")))?;
        let out = match tokio::time::timeout(deadline, child.wait_with_output()).await {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => return Err(SourceError::Unreachable(format!("{shown}: {e}"))),
            Err(_) => {
                return Err(SourceError::Unreachable(format!(
                    "{shown}: no answer in {}s",
                    deadline.as_secs()
                )));
            }
        };
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        log::info!("{shown}: {}", out.status);
        if !stdout.is_empty() {
            log::info!("helm: {stdout}");
        }
        if !stderr.is_empty() {
            log::warn!("helm: {stderr}");
        }
        if out.status.success() {
            Ok(stdout)
        } else if !stderr.is_empty() {
            Err(SourceError::Rejected(stderr))
        } else if !stdout.is_empty() {
            Err(SourceError::Rejected(stdout))
        } else {
            Err(SourceError::Rejected(format!("{shown}: {}", out.status)))
        }
    }
}

/// helm runs in a process group of its own, so a ctrl-c or a hang-up meant for captain
/// (the terminal signals its whole foreground group) does not cut a rollback short behind
/// captain's back; and it is killed when captain dies, however it dies (kill -9 included),
/// so it never finishes unseen: captain finds the rollback unfinished at its next start and
/// retries it (`docs/runbook.md`, "Roll back").
fn bound_to_captain(command: &mut Command) {
    command.process_group(0);
    #[cfg(target_os = "linux")]
    {
        // SAFETY: between fork and exec only async-signal-safe calls are made (prctl,
        // getppid, _exit, and reading errno), and nothing is allocated.
        let parent = std::process::id();
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                // captain died between the fork and the prctl: nobody would be told.
                if u32::try_from(libc::getppid()).ok() != Some(parent) {
                    libc::_exit(127);
                }
                Ok(())
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A fake `helm` in a temp dir that answers `version --short` with `version` and records
    /// every other invocation's arguments, one per line, in `args.log`.
    fn fake_helm(dir: &Path, version: &str, help: &str, exit: i32) -> PathBuf {
        let path = dir.join("helm");
        let log = dir.join("args.log");
        let script = format!(
            "#!/bin/sh\n\
             if [ \"$1\" = version ]; then echo '{version}'; exit 0; fi\n\
             if [ \"$2\" = --help ]; then echo '{help}'; exit 0; fi\n\
             for a in \"$@\"; do printf '%s\\n' \"$a\" >> '{log}'; done\n\
             if [ {exit} -ne 0 ]; then echo 'Error: release: not found' >&2; exit {exit}; fi\n\
             echo 'Rollback was a success! Happy Helming!'\n",
            log = log.display()
        );
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn recorded(dir: &Path) -> Vec<String> {
        std::fs::read_to_string(dir.join("args.log"))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn request<'a>(reason: &'a str) -> Rollback<'a> {
        Rollback {
            release: "summit",
            namespace: "prod",
            revision: 41,
            context: Some("prod-admin"),
            kubeconfig: None,
            description: Some(reason),
        }
    }

    const V4_HELP: &str = "      --description string   add a custom description";

    #[test]
    fn versions_parse_from_the_short_form() {
        let v = |s| HelmVersion::parse(s).unwrap();
        assert_eq!(
            v("v3.14.2+gc309b6f"),
            HelmVersion {
                major: 3,
                minor: 14
            }
        );
        assert_eq!(v("v4.0.1+g12500dd\n"), HelmVersion { major: 4, minor: 0 });
        assert!(HelmVersion::parse("helm: command not found").is_none());
    }

    #[tokio::test]
    async fn helm_3_is_not_given_a_description() {
        let dir = tempfile::tempdir().unwrap();
        let helm = HelmCli::new(fake_helm(dir.path(), "v3.14.2+gc309b6f", "", 0));
        let said = helm.rollback(&request("breach; rm -rf /")).await.unwrap();
        assert_eq!(said, "Rollback was a success! Happy Helming!");
        assert_eq!(
            recorded(dir.path()),
            [
                "rollback",
                "summit",
                "41",
                "--namespace",
                "prod",
                "--kube-context",
                "prod-admin",
                "--wait",
                "--timeout",
                "5m"
            ]
        );
    }

    #[tokio::test]
    async fn helm_4_is_given_the_reason_as_one_argument() {
        let dir = tempfile::tempdir().unwrap();
        let helm = HelmCli::new(fake_helm(dir.path(), "v4.0.1+g12500dd", V4_HELP, 0));
        helm.rollback(&request("error rate 4% > 1%; $(reboot)"))
            .await
            .unwrap();
        let args = recorded(dir.path());
        assert_eq!(
            args[args.len() - 2..],
            ["--description", "error rate 4% > 1%; $(reboot)"]
        );
        assert_eq!(args[..3], ["rollback", "summit", "41"]);
    }

    #[tokio::test]
    async fn helm_4_without_the_flag_in_its_help_is_not_given_it() {
        let dir = tempfile::tempdir().unwrap();
        let helm = HelmCli::new(fake_helm(dir.path(), "v4.0.1+g12500dd", "--wait", 0));
        helm.rollback(&request("breach")).await.unwrap();
        assert!(!recorded(dir.path()).contains(&"--description".to_string()));
    }

    #[tokio::test]
    async fn a_failed_rollback_is_rejected_with_helms_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let helm = HelmCli::new(fake_helm(dir.path(), "v3.14.2", "", 1));
        let err = helm.rollback(&request("breach")).await.unwrap_err();
        assert_eq!(
            err,
            SourceError::Rejected("Error: release: not found".into())
        );
    }

    #[tokio::test]
    async fn a_missing_binary_is_rejected_by_name() {
        let helm = HelmCli::new("/nonexistent/helm");
        let err = helm.rollback(&request("breach")).await.unwrap_err();
        assert!(err.to_string().contains("/nonexistent/helm"), "{err}");
    }

    #[test]
    fn an_explicit_kubeconfig_is_passed_on() {
        let mut r = request("x");
        r.kubeconfig = Some(Path::new("/tmp/kc"));
        r.context = None;
        let args = rollback_args(&r, false);
        let args: Vec<_> = args.iter().map(|a| a.to_string_lossy()).collect();
        assert!(args.windows(2).any(|w| w == ["--kubeconfig", "/tmp/kc"]));
        assert!(!args.iter().any(|a| a == "--kube-context"));
    }
}
