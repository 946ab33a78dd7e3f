//! `use bedrock` through real direnv: `direnv allow`, then `direnv export json` as the shell
//! hook would call it, with direnv's config, data and the token cache in a private HOME.

#[path = "support/shells.rs"]
mod shells;
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{BIN, Sandbox, require_tool, run};

struct Direnv {
    sandbox: Sandbox,
    project: PathBuf,
    /// The environment the "shell" has: base variables plus what direnv exported so far.
    env: BTreeMap<String, String>,
}

impl Direnv {
    /// A HOME with the library saved where direnv loads it, `bedrock-env` on PATH (unless
    /// `with_binary` is false), and a project directory holding `envrc`.
    fn new(envrc: &str, with_binary: bool) -> Direnv {
        require_tool("direnv");
        let sandbox = Sandbox::new();
        let home = sandbox.home().to_owned();
        let (output, lib, stderr) = run(sandbox.cmd().arg("direnv"));
        assert!(output.status.success(), "{stderr}");
        let lib_dir = home.join(".config/direnv/lib");
        std::fs::create_dir_all(&lib_dir).expect("mkdir lib");
        std::fs::write(lib_dir.join("bedrock.sh"), lib).expect("save library");
        let bin = home.join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir bin");
        if with_binary {
            std::os::unix::fs::symlink(BIN, bin.join("bedrock-env")).expect("symlink");
        }
        let project = home.join("project");
        std::fs::create_dir_all(&project).expect("mkdir project");
        std::fs::write(project.join(".envrc"), envrc).expect("write .envrc");
        // The shells' environment, $HOME/bin first on PATH: there is the binary, or nothing.
        let env = shells::base_env(&sandbox).into_iter().collect();
        let direnv = Direnv {
            sandbox,
            project,
            env,
        };
        let (ok, _, stderr) = direnv.direnv(&["allow", "."]);
        assert!(ok, "direnv allow: {stderr}");
        direnv
    }

    fn home(&self) -> &Path {
        self.sandbox.home()
    }

    fn direnv(&self, args: &[&str]) -> (bool, String, String) {
        let output = Command::new("direnv")
            .env_clear()
            .envs(&self.env)
            .current_dir(&self.project)
            .args(args)
            .output()
            .expect("run direnv");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// `direnv export json` from the project; applies the changes to `env` like a shell would.
    /// Returns the changes (empty when direnv decided nothing changed) and stderr.
    fn export(&mut self) -> (BTreeMap<String, Option<String>>, String) {
        let (ok, stdout, stderr) = self.direnv(&["export", "json"]);
        assert!(ok, "direnv export: {stderr}");
        let changes: BTreeMap<String, Option<String>> = if stdout.trim().is_empty() {
            BTreeMap::new()
        } else {
            serde_json::from_str(&stdout).expect("direnv's JSON")
        };
        for (name, value) in &changes {
            match value {
                Some(value) => self.env.insert(name.clone(), value.clone()),
                None => self.env.remove(name),
            };
        }
        (changes, stderr)
    }

    fn token(&self) -> Option<&str> {
        self.env.get("AWS_BEARER_TOKEN_BEDROCK").map(String::as_str)
    }
}

fn decode(token: &str) -> bedrock_env::token::TokenInfo {
    bedrock_env::token::decode(token).unwrap_or_else(|e| panic!("not a token ({e})"))
}

#[test]
fn use_bedrock_exports_a_token_for_its_region_and_reloads_on_a_remint() {
    let mut direnv = Direnv::new("use bedrock --region eu-west-1 --duration=2h\n", true);
    let (changes, stderr) = direnv.export();
    let first = direnv.token().expect("a token").to_owned();
    let info = decode(&first);
    assert_eq!(info.region, "eu-west-1", "{stderr}");
    assert_eq!(info.expires_in.as_secs(), 2 * 3600);
    // The prompt hook sees the same target in this directory.
    assert_eq!(
        changes.get("BEDROCK_ENV_REGION"),
        Some(&Some("eu-west-1".to_owned()))
    );
    assert_eq!(
        changes.get("BEDROCK_ENV_DURATION"),
        Some(&Some("2h".to_owned()))
    );
    assert!(
        direnv
            .env
            .contains_key("AWS_BEARER_TOKEN_BEDROCK_EXPIRATION"),
        "{changes:?}"
    );
    assert!(!stderr.contains(&first), "the token was logged");

    // Nothing changed: direnv does nothing.
    let (changes, _) = direnv.export();
    assert!(changes.is_empty(), "reloaded for nothing: {changes:?}");

    // A re-mint from outside (a new second, so a new signature) rewrites the watched record.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (output, remint, stderr) = run(direnv
        .sandbox
        .env_creds_cmd()
        .env("XDG_CACHE_HOME", direnv.home().join(".cache"))
        .args([
            "export",
            "--force",
            "--region",
            "eu-west-1",
            "--duration",
            "2h",
            "--format",
            "json",
        ]));
    assert!(output.status.success(), "{stderr}");
    let remint: serde_json::Value = serde_json::from_str(&remint).expect("json");
    let second = remint["token"].as_str().expect("token").to_owned();
    assert_ne!(second, first, "the forced mint made the same token");

    let (changes, _) = direnv.export();
    assert!(
        changes.contains_key("AWS_BEARER_TOKEN_BEDROCK"),
        "direnv did not reload after the re-mint"
    );
    assert_eq!(direnv.token(), Some(second.as_str()));
}

#[test]
fn a_failed_mint_is_logged_and_the_rest_of_the_envrc_loads() {
    let mut direnv = Direnv::new("use bedrock --duration 13h\nexport OTHER=loaded\n", true);
    let (changes, stderr) = direnv.export();
    assert_eq!(changes.get("OTHER"), Some(&Some("loaded".to_owned())));
    assert!(direnv.token().is_none(), "{changes:?}");
    assert!(stderr.contains("out of range"), "{stderr}");
    assert!(stderr.contains("use bedrock: no token"), "{stderr}");
}

#[test]
fn an_unknown_option_is_one_clear_error() {
    let mut direnv = Direnv::new(
        "use bedrock --regoin eu-west-1\nexport OTHER=loaded\n",
        true,
    );
    let (changes, stderr) = direnv.export();
    assert!(direnv.token().is_none(), "{changes:?}");
    assert_eq!(
        stderr.matches("unknown option --regoin").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn without_the_binary_use_bedrock_is_quiet() {
    let mut direnv = Direnv::new(
        "use bedrock --region eu-west-1\nexport OTHER=loaded\n",
        false,
    );
    let (changes, stderr) = direnv.export();
    assert_eq!(changes.get("OTHER"), Some(&Some("loaded".to_owned())));
    assert!(direnv.token().is_none());
    for noise in ["bedrock-env", "not found", "rror"] {
        assert!(!stderr.contains(noise), "{noise:?} in {stderr}");
    }
}
