//! Builds the static site (`web/`, into `web/dist`) for the gateway: `npm ci` when
//! `node_modules` is missing or older than `package-lock.json`, then `npm run watch`
//! (a rebuild on every change) as a supervised child whose lines are prefixed `web  | `;
//! with `--no-reload`, `npm run build` once. Without npm, or when a step fails, `make dev`
//! goes on with the API and the gateway answers the site's "being built" page (503).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

use super::children::Supervised;
use crate::error::Result;

const PREFIX: &str = "web  | ";

/// What `start` left running, if anything.
pub struct SiteBuild {
    pub watch: Option<Supervised>,
    /// One line for the summary: how the site is built.
    pub line: String,
}

/// Installs the site's dependencies when needed and starts its build.
pub fn start(root: &Path, no_reload: bool) -> Result<SiteBuild> {
    let web = root.join("web");
    let not_built = |why: String| {
        println!("!! the site is not built: {why}; the gateway answers its \"being built\" page (503)");
        Ok(SiteBuild {
            watch: None,
            line: format!("not built: {why}"),
        })
    };
    if !web.join("package.json").is_file() {
        return not_built("there is no web/package.json".into());
    }
    let Some(npm) = npm() else {
        return not_built(
            "npm is not installed (install Node.js 20 or later with npm, then restart `make dev`)".into(),
        );
    };
    if needs_install(&web) {
        let install = if web.join("package-lock.json").is_file() {
            "ci"
        } else {
            "install"
        };
        println!("installing the site's dependencies (npm {install} in web/)");
        let started = Instant::now();
        match Command::new(&npm).arg(install).current_dir(&web).status() {
            Ok(status) if status.success() => {
                println!("npm {install} done in {:.0} s", started.elapsed().as_secs_f64());
            }
            Ok(status) => return not_built(format!("npm {install} failed ({status}); its errors are above")),
            Err(e) => return not_built(format!("cannot run npm {install}: {e}")),
        }
    }
    if no_reload {
        println!("building the site (npm run build in web/)");
        let started = Instant::now();
        return match Command::new(&npm)
            .args(["run", "build"])
            .current_dir(&web)
            .status()
        {
            Ok(status) if status.success() => {
                println!("site built in {:.0} s", started.elapsed().as_secs_f64());
                Ok(SiteBuild {
                    watch: None,
                    line: "built once by npm run build (--no-reload: no rebuild on change)".into(),
                })
            }
            Ok(status) => not_built(format!("npm run build failed ({status}); its errors are above")),
            Err(e) => not_built(format!("cannot run npm run build: {e}")),
        };
    }
    let args = ["run".to_owned(), "watch".to_owned()];
    let watch = Supervised::spawn_prefixed("npm run watch", PREFIX, &npm, &args, &web)?;
    let pid = watch
        .pid()
        .map(|p| format!(" (supervisor pid {p})"))
        .unwrap_or_default();
    Ok(SiteBuild {
        watch: Some(watch),
        line: format!(
            "npm run watch in web/{pid}: rebuilt on every change, its lines prefixed `{}`",
            PREFIX.trim_end()
        ),
    })
}

/// Resolves when the watch exits by itself; never without one.
pub async fn exited(watch: Option<&mut Supervised>) -> String {
    match watch {
        Some(watch) => watch.exited().await,
        None => std::future::pending().await,
    }
}

/// `npm` on the PATH.
fn npm() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("npm"))
        .find(|candidate| candidate.is_file())
}

/// No `node_modules`, or installed before `package-lock.json` last changed. npm records
/// each install in `node_modules/.package-lock.json`; the folder's own time otherwise.
fn needs_install(web: &Path) -> bool {
    let modules = web.join("node_modules");
    let installed = modified(&modules.join(".package-lock.json")).or_else(|| modified(&modules));
    match (installed, modified(&web.join("package-lock.json"))) {
        (None, _) => true,
        (Some(installed), Some(locked)) => installed < locked,
        (Some(_), None) => false,
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `web/` whose scripts stand in for vite: `build` writes dist/index.html, `watch`
    /// does too and then keeps running, as `vite build --watch` does.
    fn fake_web() -> PathBuf {
        let root = std::env::temp_dir().join(format!("mrmrthon-root-{}", ulid::Ulid::new()));
        let web = root.join("web");
        std::fs::create_dir_all(&web).unwrap();
        let write = "require('fs').mkdirSync('dist',{recursive:true});require('fs').writeFileSync('dist/index.html','<!doctype html>');console.log('built')";
        let package = serde_json::json!({
            "name": "fake-web",
            "private": true,
            "scripts": {
                "build": format!("node -e \"{write}\""),
                "watch": format!("node -e \"{write};setInterval(()=>{{}},1000)\""),
            },
        });
        std::fs::write(web.join("package.json"), package.to_string()).unwrap();
        root
    }

    #[test]
    fn without_package_json_nothing_runs() {
        let root = std::env::temp_dir().join(format!("mrmrthon-root-{}", ulid::Ulid::new()));
        let build = start(&root, false).unwrap();
        assert!(build.watch.is_none());
        assert!(build.line.contains("no web/package.json"), "{}", build.line);
    }

    #[test]
    fn no_reload_installs_then_builds_once() {
        let root = fake_web();
        let build = start(&root, true).unwrap();
        assert!(build.watch.is_none());
        assert!(build.line.contains("built once"), "{}", build.line);
        assert!(root.join("web/dist/index.html").is_file());
        assert!(
            root.join("web/package-lock.json").is_file(),
            "npm install ran (no lock to npm ci from)"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[tokio::test]
    async fn the_watch_builds_and_stops_with_us() {
        let root = fake_web();
        let mut build = start(&root, false).unwrap();
        let watch = build.watch.take().expect("npm run watch runs");
        let index = root.join("web/dist/index.html");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !index.is_file() {
            assert!(std::time::Instant::now() < deadline, "the watch never built");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let mut running = Some(watch);
        let still =
            tokio::time::timeout(std::time::Duration::from_millis(500), exited(running.as_mut())).await;
        assert!(still.is_err(), "the watch keeps running");
        running.unwrap().stop().await;
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn installs_when_node_modules_is_missing_or_older_than_the_lock() {
        let web = std::env::temp_dir().join(format!("mrmrthon-web-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&web).unwrap();
        std::fs::write(web.join("package-lock.json"), "{}").unwrap();
        assert!(needs_install(&web), "no node_modules");

        std::fs::create_dir_all(web.join("node_modules")).unwrap();
        let record = web.join("node_modules").join(".package-lock.json");
        std::fs::write(&record, "{}").unwrap();
        let lock = std::fs::File::options()
            .write(true)
            .open(web.join("package-lock.json"))
            .unwrap();
        let now = SystemTime::now();
        lock.set_modified(now - std::time::Duration::from_secs(60))
            .unwrap();
        assert!(!needs_install(&web), "installed after the lock changed");

        lock.set_modified(now + std::time::Duration::from_secs(60))
            .unwrap();
        assert!(needs_install(&web), "the lock changed since");
        std::fs::remove_dir_all(&web).unwrap();
    }
}
