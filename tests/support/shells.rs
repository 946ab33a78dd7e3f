//! Real interactive shells in a pseudo-terminal (tmux, one private server per session), with
//! rc files in the sandbox HOME. Used by tests/shell_interactive.rs.
#![allow(dead_code)]

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{ACCESS_KEY_ID, BIN, SECRET_ACCESS_KEY, Sandbox, require_tool};

/// How long any one condition may take to appear. Generous: machines are noisy.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// The prompt every test shell draws.
pub const PROMPT: &str = "PROMPT> ";
/// What is counted on the screen (tmux trims the trailing space of an empty prompt line).
pub const PROMPT_MARK: &str = "PROMPT>";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
        }
    }

    /// `export NAME=VALUE` in this shell's syntax (VALUE must need no quoting).
    pub fn export(self, name: &str, value: &str) -> String {
        match self {
            Shell::Fish => format!("set -gx {name} {value}"),
            _ => format!("export {name}={value}"),
        }
    }

    /// The exit status of the previous command.
    pub fn status_var(self) -> &'static str {
        match self {
            Shell::Fish => "$status",
            _ => "$?",
        }
    }
}

/// The environment the shells start with: the sandbox HOME, fake static credentials and a region.
pub fn base_env(sandbox: &Sandbox) -> Vec<(String, String)> {
    let home = sandbox.home().display().to_string();
    // The system PATH minus any directory holding an installed bedrock-env: the tests decide
    // whether the binary is reachable ($HOME/bin), not a `cargo install` on this machine.
    let system = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
    let system: Vec<&str> = system
        .split(':')
        .filter(|dir| !Path::new(dir).join("bedrock-env").exists())
        .collect();
    let path = format!("{home}/bin:{}", system.join(":"));
    [
        ("HOME", home.clone()),
        ("PATH", path),
        ("TERM", "xterm-256color".into()),
        ("LANG", "C.UTF-8".into()),
        ("XDG_CONFIG_HOME", format!("{home}/.config")),
        ("XDG_DATA_HOME", format!("{home}/.local/share")),
        ("XDG_CACHE_HOME", format!("{home}/.cache")),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.into()),
        ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.into()),
        ("AWS_REGION", "us-east-1".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Puts `bedrock-env` on the sandbox PATH ($HOME/bin) as a small wrapper that logs each call's
/// arguments to $HOME/calls.log and then execs the real binary: the tests can count processes.
pub fn install_binary(home: &Path) -> PathBuf {
    let bin = home.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir bin");
    let path = bin.join("bedrock-env");
    std::fs::write(
        &path,
        format!("#!/bin/sh\nprintf '%s\\n' \"$*\" >> \"$HOME/calls.log\"\nexec '{BIN}' \"$@\"\n"),
    )
    .expect("write wrapper");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// How many times `bedrock-env hook-env` ran so far.
pub fn hook_env_calls(home: &Path) -> usize {
    std::fs::read_to_string(home.join("calls.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("hook-env"))
        .count()
}

/// Writes the rc file of `shell` into HOME: a plain prompt, `before` lines, the documented
/// install line, then `after` lines. Returns the command line that starts the shell.
pub fn write_rc(home: &Path, shell: Shell, before: &str, after: &str) -> Vec<String> {
    let write = |path: PathBuf, text: String| {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir rc dir");
        std::fs::write(path, text).expect("write rc");
    };
    match shell {
        Shell::Bash => {
            let rc = home.join(".bashrc");
            write(
                rc.clone(),
                format!(
                    "PS1='{PROMPT}'\nHISTFILE=\n{before}\neval \"$(bedrock-env hook bash)\"\n{after}\n"
                ),
            );
            vec![
                "bash".into(),
                "--noprofile".into(),
                "--rcfile".into(),
                rc.display().to_string(),
                "-i".into(),
            ]
        }
        Shell::Zsh => {
            write(
                home.join(".zshrc"),
                format!(
                    "PS1='{PROMPT}'\nunsetopt PROMPT_SP\nunset HISTFILE\n{before}\neval \"$(bedrock-env hook zsh)\"\n{after}\n"
                ),
            );
            // -d: no global rc files, only ours (ZDOTDIR defaults to HOME).
            vec!["zsh".into(), "-d".into(), "-i".into()]
        }
        Shell::Fish => {
            write(
                home.join(".config/fish/config.fish"),
                format!(
                    "set -g fish_greeting ''\nfunction fish_prompt; printf '{PROMPT}'; end\n{before}\nbedrock-env hook fish | source\n{after}\n"
                ),
            );
            vec!["fish".into(), "--interactive".into()]
        }
    }
}

/// One interactive shell inside its own tmux server.
pub struct Term {
    socket: PathBuf,
    home: PathBuf,
    pub shell: Shell,
    counter: Cell<u32>,
}

impl Term {
    /// Starts `argv` in a pane with exactly `env`, and waits for its first prompt.
    pub fn start(home: &Path, shell: Shell, argv: &[String], env: &[(String, String)]) -> Term {
        let tmux = require_tool("tmux");
        require_tool(shell.name());
        let term = Term {
            socket: home.join("tmux.sock"),
            home: home.to_owned(),
            shell,
            counter: Cell::new(0),
        };
        let status = Command::new(tmux)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(home)
            .arg("-S")
            .arg(&term.socket)
            .args(["-f", "/dev/null", "new-session", "-d", "-s", "t"])
            .args(["-x", "200", "-y", "50", "--"])
            .args(argv)
            .status()
            .expect("run tmux");
        assert!(status.success(), "tmux new-session failed");
        term.wait_for("the first prompt", |screen| screen.contains(PROMPT_MARK));
        term
    }

    fn tmux(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S").arg(&self.socket);
        cmd
    }

    /// Types `line` and presses Enter.
    pub fn send(&self, line: &str) {
        let ok = self
            .tmux()
            .args(["send-keys", "-t", "t", "-l", "--", line])
            .status()
            .expect("tmux send-keys")
            .success();
        assert!(ok, "tmux send-keys failed");
        self.enter();
    }

    pub fn enter(&self) {
        let ok = self
            .tmux()
            .args(["send-keys", "-t", "t", "Enter"])
            .status()
            .expect("tmux send-keys")
            .success();
        assert!(ok, "tmux send-keys Enter failed");
    }

    /// The whole pane, scrollback included, wrapped lines joined.
    pub fn screen(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-J", "-t", "t", "-S", "-5000"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until `done` holds; fails the test with the screen after PATIENCE.
    pub fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "{} never showed {what}; the screen:\n{screen}",
                self.shell.name()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs `command` at the prompt (so the prompt hook runs first), with its stdout and
    /// stderr in a file, and returns them once the command has finished.
    pub fn run(&self, command: &str) -> String {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        let out = self.home.join(format!("out.{n}"));
        // The marker is split by quotes so the typed line itself never matches it.
        self.send(&format!(
            "{command} > {} 2>&1; echo '@@''done{n}'",
            out.display()
        ));
        let marker = format!("@@done{n}");
        self.wait_for(&marker, |screen| {
            screen.lines().any(|line| line.trim_end() == marker)
        });
        std::fs::read_to_string(&out).expect("command output")
    }

    /// The token this shell holds (empty when it holds none).
    pub fn token(&self) -> String {
        self.run("printenv AWS_BEARER_TOKEN_BEDROCK")
            .trim()
            .to_owned()
    }

    /// Presses Enter until `count` more prompts have been drawn.
    pub fn prompts(&self, count: usize) {
        for _ in 0..count {
            let before = self.screen().matches(PROMPT_MARK).count();
            self.enter();
            self.wait_for("a new prompt", |screen| {
                screen.matches(PROMPT_MARK).count() > before
            });
        }
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = self
            .tmux()
            .arg("kill-server")
            .stderr(std::process::Stdio::null())
            .status();
    }
}
