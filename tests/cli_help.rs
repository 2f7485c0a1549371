//! Every subcommand and every flag says what it is for, the console's own flags stay out of
//! the subcommands' help, and the shell completions and man pages the binary writes name
//! every subcommand (the completions as bash itself completes them, the pages as groff reads
//! them).

mod cli_support;

use clap::CommandFactory;

use captain::cli::Cli;
use cli_support::{captain, text};

/// Every command in the tree with its path of names: `["captain", "canary", "status"]`.
fn commands() -> Vec<(Vec<String>, clap::Command)> {
    fn walk(path: Vec<String>, cmd: &clap::Command, out: &mut Vec<(Vec<String>, clap::Command)>) {
        for sub in cmd.get_subcommands() {
            let mut p = path.clone();
            p.push(sub.get_name().to_string());
            walk(p, sub, out);
        }
        out.push((path, cmd.clone()));
    }
    let mut cmd = Cli::command();
    cmd.build();
    let mut out = Vec::new();
    walk(vec!["captain".into()], &cmd, &mut out);
    out
}

#[test]
fn every_subcommand_and_argument_has_help() {
    let mut missing = Vec::new();
    for (path, cmd) in commands() {
        if cmd
            .get_about()
            .is_none_or(|a| a.to_string().trim().is_empty())
        {
            missing.push(path.join(" "));
        }
        for arg in cmd.get_arguments() {
            let help = arg.get_help().or(arg.get_long_help());
            if help.is_none_or(|h| h.to_string().trim().is_empty()) {
                missing.push(format!("{} --{}", path.join(" "), arg.get_id()));
            }
        }
    }
    assert!(missing.is_empty(), "without help: {missing:#?}");
    assert!(commands().len() > 30, "the whole tree was walked");
}

#[test]
fn the_consoles_theme_flag_is_not_offered_by_any_subcommand() {
    for (path, cmd) in commands() {
        let has_theme = cmd.get_arguments().any(|a| a.get_id() == "theme");
        assert_eq!(has_theme, path.len() == 1, "{}", path.join(" "));
    }
    let dir = tempfile::tempdir().unwrap();
    let help = captain(dir.path(), &["previews", "list", "--help"]);
    assert_eq!(help.status.code(), Some(0), "{}", text(&help));
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--output"), "{help}");
    assert!(!help.contains("--theme"), "{help}");
    let top = captain(dir.path(), &["--help"]);
    assert!(String::from_utf8_lossy(&top.stdout).contains("--theme"));
}

/// What bash offers after `words` and a blank, through the script `captain completions
/// bash` prints.
fn bash_completes(script: &std::path::Path, words: &[String]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'; COMP_WORDS=({} ''); COMP_CWORD={}; _captain captain '' '{}'; \
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len(),
        words.last().unwrap()
    );
    let o = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_every_subcommand_under_its_parent() {
    let dir = tempfile::tempdir().unwrap();
    let o = captain(dir.path(), &["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let script = dir.path().join("captain.bash");
    std::fs::write(&script, &o.stdout).unwrap();
    let mut checked = 0;
    for (path, cmd) in commands() {
        let children: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
        if children.is_empty() {
            continue;
        }
        let offered = bash_completes(&script, &path);
        for child in children {
            assert!(
                offered.iter().any(|o| o == child),
                "`{} <TAB>` offers {child}: {offered:?}",
                path.join(" ")
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "{checked}");
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let o = captain(dir.path(), &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("burn-drill"),
            "{shell}"
        );
    }
}

#[test]
fn the_man_pages_are_roff_groff_reads_without_a_warning_one_per_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("man1");
    let o = captain(dir.path(), &["man", "--out", pages.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let groff = std::process::Command::new("groff")
        .arg("--version")
        .output()
        .is_ok();
    for (path, _) in commands()
        .into_iter()
        .filter(|(p, _)| !p.iter().any(|n| n == "help"))
    {
        let page = pages.join(format!("{}.1", path.join("-")));
        let roff =
            std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        assert!(roff.contains(".TH ") && roff.contains(".SH NAME"), "{roff}");
        if groff {
            let read = std::process::Command::new("groff")
                // -k: UTF-8 input through preconv, as man-db reads a page.
                .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
                .arg(&page)
                .output()
                .unwrap();
            assert!(
                read.status.success() && read.stderr.is_empty(),
                "{}: {}",
                page.display(),
                String::from_utf8_lossy(&read.stderr)
            );
        }
    }
    // The page on stdout names every subcommand.
    let top = captain(dir.path(), &["man"]);
    let roff = String::from_utf8_lossy(&top.stdout);
    for sub in Cli::command().get_subcommands() {
        assert!(
            roff.contains(&format!("captain\\-{}", sub.get_name().replace('-', "\\-")))
                || roff.contains(&sub.get_name().replace('-', "\\-")),
            "{}: {roff}",
            sub.get_name()
        );
    }
}
