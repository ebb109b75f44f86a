//! Which settings file a command reads. `hmis dev` writes the URLs of its clusters to
//! `<data dir>/hmis.toml`; every other command finds them there, with `--dev`, or by
//! itself when nothing else says where the databases are, so that a newcomer's second
//! terminal reaches the dev databases without five environment variables.

use super::ConfigError;
use std::path::{Path, PathBuf};

/// Where `hmis dev` keeps its clusters and the settings file it writes, by default.
pub const DEV_DIR: &str = ".hmis/dev";

const FILE_NAME: &str = "hmis.toml";

/// The settings file `hmis dev` writes into its data directory.
pub fn dev_file(dev_dir: &Path) -> PathBuf {
    dev_dir.join(FILE_NAME)
}

/// The file chosen: `path` None means `./hmis.toml` if present, else defaults (what
/// [`super::Settings::load`] does with None); `dev` says it is the one `hmis dev` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub path: Option<PathBuf>,
    pub dev: bool,
}

/// Chooses the settings file, first match wins:
/// 1. `dev_dir` (`--dev`, `--dev-dir`): its `hmis.toml`, which must exist;
/// 2. `config` (`--config`, `HMIS_CONFIG`);
/// 3. `./hmis.toml` if it exists;
/// 4. `.hmis/dev/hmis.toml` if it exists and `dev_default` (every command but `hmis dev`);
/// 5. none: built-in defaults.
pub fn choose(
    config: Option<&Path>,
    dev_dir: Option<&Path>,
    dev_default: bool,
) -> Result<Chosen, ConfigError> {
    if let Some(dir) = dev_dir {
        let file = dev_file(dir);
        if !file.is_file() {
            return Err(ConfigError::new(
                &file,
                format!(
                    "not found: hmis dev writes it when it starts. Start `hmis dev{}`, or pass \
                     --config FILE",
                    if dir == Path::new(DEV_DIR) {
                        String::new()
                    } else {
                        format!(" --data-dir {}", dir.display())
                    }
                ),
            ));
        }
        return Ok(Chosen {
            path: Some(file),
            dev: true,
        });
    }
    if let Some(file) = config {
        return Ok(Chosen {
            path: Some(file.to_owned()),
            dev: false,
        });
    }
    let dev = dev_file(Path::new(DEV_DIR));
    if dev_default && !Path::new(FILE_NAME).exists() && dev.is_file() {
        return Ok(Chosen {
            path: Some(dev),
            dev: true,
        });
    }
    Ok(Chosen {
        path: None,
        dev: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_dev_dir_without_a_generated_file_is_refused_saying_how_to_get_one() {
        let dir = std::env::temp_dir().join(format!("hmis-nodev-{}", std::process::id()));
        let e = choose(None, Some(&dir), true).unwrap_err().to_string();
        assert!(e.contains("hmis.toml") && e.contains("hmis dev"), "{e}");
        assert!(e.contains("--data-dir") && e.contains("--config"), "{e}");
    }

    #[test]
    fn the_dev_dir_wins_over_config_and_config_over_the_defaults() {
        let dir = std::env::temp_dir().join(format!("hmis-dev-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dev_file(&dir), "").unwrap();
        let other = Path::new("other.toml");
        let chosen = choose(Some(other), Some(&dir), true).unwrap();
        assert_eq!((chosen.path, chosen.dev), (Some(dev_file(&dir)), true));
        let chosen = choose(Some(other), None, true).unwrap();
        assert_eq!((chosen.path, chosen.dev), (Some(other.to_owned()), false));
    }
}
