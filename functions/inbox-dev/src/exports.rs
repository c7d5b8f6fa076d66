//! Export files in the dev server: kept in the data folder (`exports/`), and
//! handed out as links to this server's `GET /exports/{workspace}/{id}.csv`,
//! signed with the dev JWT secret and valid for [`LINK_VALID_FOR`], as an S3
//! presigned link would be.

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use inbox_app::{AppError, ExportFiles};
use inbox_store::StoreError;
use sha2::Sha256;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a link stays valid.
pub const LINK_VALID_FOR: Duration = Duration::from_secs(15 * 60);

/// Export files in a folder, linked through this server.
#[derive(Debug, Clone)]
pub struct LocalExportFiles {
    dir: PathBuf,
    base_url: String,
    secret: Vec<u8>,
}

fn io(e: std::io::Error) -> AppError {
    AppError::Store(StoreError::Unavailable(format!("export files: {e}")))
}

/// Ids the link may name (`exp_` and ULID characters; workspace ids as chosen).
fn safe(part: &str) -> bool {
    !part.is_empty()
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl LocalExportFiles {
    /// Files under `dir`, links under `base_url`, signed with `secret`.
    pub fn new(dir: PathBuf, base_url: &str, secret: &[u8]) -> Self {
        LocalExportFiles {
            dir,
            base_url: base_url.trim_end_matches('/').to_string(),
            secret: secret.to_vec(),
        }
    }

    fn path(&self, workspace_id: &str, id: &str) -> Option<PathBuf> {
        (safe(workspace_id) && safe(id))
            .then(|| self.dir.join(workspace_id).join(format!("{id}.csv")))
    }

    fn signature(&self, workspace_id: &str, id: &str, expires: u64) -> String {
        // HMAC takes a key of any length.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(format!("{workspace_id}/{id}/{expires}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The file a link names, if its signature holds and it has not expired.
    pub fn open(
        &self,
        workspace_id: &str,
        file: &str,
        expires: u64,
        signature: &str,
    ) -> Option<PathBuf> {
        let id = file.strip_suffix(".csv")?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
        let want = self.signature(workspace_id, id, expires);
        let valid: bool =
            subtle::ConstantTimeEq::ct_eq(want.as_bytes(), signature.as_bytes()).into();
        (valid && now <= expires)
            .then(|| self.path(workspace_id, id))
            .flatten()
    }
}

#[async_trait]
impl ExportFiles for LocalExportFiles {
    async fn store(&self, workspace_id: &str, id: &str, path: &Path) -> Result<(), AppError> {
        let target = self
            .path(workspace_id, id)
            .ok_or_else(|| AppError::Store(StoreError::Corrupt(format!("export id {id}"))))?;
        if let Some(dir) = target.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        tokio::fs::copy(path, &target).await.map_err(io)?;
        Ok(())
    }

    async fn link(&self, workspace_id: &str, id: &str) -> Result<String, AppError> {
        let expires = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            + LINK_VALID_FOR.as_secs();
        Ok(format!(
            "{}/exports/{workspace_id}/{id}.csv?expires={expires}&signature={}",
            self.base_url,
            self.signature(workspace_id, id, expires)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_link_opens_its_file_until_it_expires_and_only_as_signed() {
        let dir =
            std::env::temp_dir().join(format!("inbox-dev-exports-test-{}", std::process::id()));
        let files = LocalExportFiles::new(dir.clone(), "http://127.0.0.1:1/", b"secret");
        let src = dir.join("src.csv");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&src, "id\r\n").unwrap();
        files.store("acme", "exp_1", &src).await.unwrap();
        let link = files.link("acme", "exp_1").await.unwrap();
        let url = reqwest::Url::parse(&link).unwrap();
        assert_eq!(url.path(), "/exports/acme/exp_1.csv");
        let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        let expires: u64 = q["expires"].parse().unwrap();
        let opened = files
            .open("acme", "exp_1.csv", expires, &q["signature"])
            .unwrap();
        assert_eq!(std::fs::read_to_string(opened).unwrap(), "id\r\n");
        assert!(
            files
                .open("acme", "exp_1.csv", expires + 1, &q["signature"])
                .is_none(),
            "a changed expiry"
        );
        assert!(
            files
                .open("globex", "exp_1.csv", expires, &q["signature"])
                .is_none(),
            "another workspace"
        );
        let old = 1_000;
        let sig = files.signature("acme", "exp_1", old);
        assert!(
            files.open("acme", "exp_1.csv", old, &sig).is_none(),
            "expired"
        );
        assert!(
            files
                .open("..", "exp_1.csv", expires, &q["signature"])
                .is_none()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
